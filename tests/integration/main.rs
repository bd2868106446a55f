//! The integration tests: one binary (linking is the bottleneck on 2-core machines), with
//! fixtures discovered at run time. Modules mirror what they test.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "helpers shared by tests fail the test loudly"
)]

mod audit;
mod backup;
mod chat_terminal;
mod cli;
mod contact_rights_cli;
mod crash;
mod crash_sync;
mod docs;
mod flows;
mod fmt;
mod http_actions;
mod languages;
mod lint_fixtures;
mod logs;
mod lsp;
mod lsp_frame;
mod postgres_claims;
mod postgres_nodes;
mod postgres_ops;
mod postgres_outage;
mod postgres_store;
mod postgres_verification;
mod retention;
mod robustness;
mod runtime;
mod runtime_cli;
mod scenarios;
mod service;
mod service_crash;
mod service_events;
mod service_guards;
mod service_limits;
mod service_openapi;
mod service_rich;
mod service_rights;
mod service_tokens;
mod studio;
mod studio_browser;
mod support;
mod traps;
mod zendesk;
mod zendesk_cli;
mod zendesk_oas;
mod zendesk_secrets;
mod zendesk_tokens;
mod zendesk_url;
