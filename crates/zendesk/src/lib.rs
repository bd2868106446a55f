//! The Zendesk connector: the API client (`client`, the only reqwest user) and its JSON
//! (`model`), the checked instance URL every request is joined onto (`base_url`),
//! credentials (`secret`), the actions scenarios call and the sync modes run through the
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
pub mod sandbox;
pub mod secret;
pub mod sync;
pub mod transcript;
