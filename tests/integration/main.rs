//! The integration tests: one binary (linking is the bottleneck on 2-core machines), with
//! fixtures discovered at run time. Modules mirror what they test.

mod cli;
mod docs;
mod fmt;
mod lint_fixtures;
mod robustness;
mod scenarios;
mod support;
