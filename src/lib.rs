//! Scenarist: an engine for customer-service bot scenarios — the application. The layers are
//! crates of the workspace (`crates/`): `scenarist-lang` (the language and the config),
//! `scenarist-base`, `zendesk-standin`; this crate holds the runtime, the Zendesk connector,
//! the service and the command line, and re-exports the language's modules under their
//! names so that `scenarist::check`, `scenarist::config`… read as one API.

pub use scenarist_lang::{
    actions, ast, check, config, diagnostic, fmt, graph, lint, source, syntax, types,
};

pub mod api;
pub mod cli;
pub mod harness;
pub mod metrics;
pub mod runtime;
pub mod service;
pub mod store;
pub mod zendesk;
