//! The names the language itself gives meaning to, written once: the checker and the
//! runtime both read them, so a built-in field added here is known to both (the actions'
//! names are in `actions::names`).

/// The contact's record: the fields the config declares, and these.
pub const CONTACT: &str = "contact";
/// The conversation's own facts.
pub const CONVERSATION: &str = "conversation";
/// The last answer to an `ask` (set by the runtime, read by the scenario).
pub const ANSWER: &str = "answer";
/// Roots a scenario cannot use as variable names.
pub const RESERVED_ROOTS: &[&str] = &[CONTACT, CONVERSATION, ANSWER];

/// `contact.*` fields every contact has, whatever the config declares.
pub mod contact {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const FIRST_NAME: &str = "first_name";
    pub const FIELDS: &[&str] = &[ID, NAME, FIRST_NAME];
}

/// `conversation.*` fields (all text).
pub mod conversation {
    pub const ID: &str = "id";
    pub const ACCOUNT: &str = "account";
    pub const CHANNEL: &str = "channel";
    pub const FIELDS: &[&str] = &[ID, ACCOUNT, CHANNEL];
}
