//! The Zendesk connector: the API client (`client`, the only reqwest user) and its JSON
//! (`model`), the checked instance URL every request is joined onto (`base_url`),
//! credentials (`secret`; an OAuth token set in its file, `token_file`, renewed by `session`),
//! which limit a 429 comes from (`rate_limit`), the actions scenarios call and the sync modes run through the
//! runtime's outbox (`actions`, `sync`, `transcript`), contact linking (`linking`), the OAuth
//! connection flow (`oauth`), the rule for organization names that name files
//! (`organization_name`), and a stand-in server that speaks the same API for tests and demos
//! (`standin`), run for sandbox organizations by `sandbox`.

pub mod actions;
pub mod client;
pub mod linking;
pub mod model;
pub mod oauth;
pub mod organization_name;
pub mod rate_limit;
pub mod sandbox;
pub mod secret;
pub mod session;
pub mod sync;
pub mod token_file;
pub mod transcript;
