//! Scenarist: an engine for customer-service bot scenarios.
//!
//! The pipeline, one module per stage: `source` (files and spans) → `syntax` (text → AST,
//! the only pest user) → `check` (AST → diagnostics, with the workspace `config` and the
//! `actions` registry) → `fmt` and `graph` (tools for authors). `diagnostic` holds the
//! findings and their renderers; `cli` is the edge.

pub mod actions;
pub mod api;
pub mod ast;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod fmt;
pub mod graph;
pub mod harness;
pub mod lint;
pub mod metrics;
pub mod runtime;
pub mod service;
pub mod source;
pub mod store;
pub mod syntax;
pub mod types;
pub mod zendesk;
