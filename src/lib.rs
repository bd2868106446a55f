//! Scenarist: an engine for customer-service bot scenarios — the application. The layers are
//! crates of the workspace (`crates/`): `scenarist-lang` (the language and the config),
//! `scenarist-runtime` (the model, the store, the engine), `scenarist-zendesk` (the
//! Zendesk connector), `scenarist-http` (the brand's declared HTTP actions), `scenarist-base`, `zendesk-standin`; this crate holds the assembly of the application
//! (`setup`), the service and the command line, and re-exports the layers' modules under
//! their names so that `scenarist::check`, `scenarist::runtime`… read as one API.

pub use scenarist_lang::{
    actions, ast, check, config, diagnostic, fmt, graph, include, library, lint, source, syntax,
    types,
};

pub use scenarist_http as http;
pub use scenarist_runtime as runtime;
pub use scenarist_runtime::{metrics, store};
pub use scenarist_zendesk as zendesk;

pub mod allocator;
pub mod api;
pub mod cli;
pub mod harness;
pub mod service;
pub mod setup;
pub mod studio;
