//! Scenarist's language, one module per stage of its pipeline: `source` (files and spans) →
//! `syntax` (text → AST, the only pest user) → `check` (AST → diagnostics, with the workspace
//! `config` and the `actions` contract) → `fmt` and `graph` (tools for authors) → `lint` (all
//! of it over files). `diagnostic` holds the findings and their renderers; `types` the type
//! system. No runtime, no I/O beyond reading the files it is given.

// pest without `std` (Cargo.toml says why) generates paths under `::alloc`.
extern crate alloc;

pub mod actions;
pub mod answers;
pub mod ast;
pub mod builtins;
pub mod check;
pub mod config;
pub mod declared;
pub mod diagnostic;
pub mod fmt;
pub mod graph;
pub mod include;
pub mod language;
pub mod library;
pub mod lint;
pub mod schedule;
pub mod source;
pub mod syntax;
pub mod types;
