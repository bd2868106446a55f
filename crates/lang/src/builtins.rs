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
    /// The language the conversation is in: one of the scenario's `languages` (the one its
    /// `language from` field names, else the default); empty in a scenario without languages.
    pub const LANGUAGE: &str = "language";
    pub const FIELDS: &[&str] = &[ID, ACCOUNT, CHANNEL, LANGUAGE];
}

/// The validators an `ask` names (`expect email`): the checker types the answer with them, the
/// runtime checks the answer with them. A `/regex/` is the other kind of validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedValidator {
    Email,
    Phone,
    Number,
    Date,
    Choice,
    Text,
}

impl NamedValidator {
    pub const ALL: &[Self] = &[
        Self::Email,
        Self::Phone,
        Self::Number,
        Self::Date,
        Self::Choice,
        Self::Text,
    ];

    /// The validator written `name` in `expect name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Number => "number",
            Self::Date => "date",
            Self::Choice => "choice",
            Self::Text => "text",
        }
    }

    /// The type of an answer it accepted.
    pub fn answer_type(self) -> crate::types::Type {
        use crate::types::Type;
        match self {
            Self::Email => Type::Email,
            Self::Phone => Type::Phone,
            Self::Number => Type::Number,
            Self::Date => Type::Date,
            Self::Choice | Self::Text => Type::Text,
        }
    }

    /// The names, for did-you-mean.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|v| v.name())
    }
}
