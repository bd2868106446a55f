//! The names the language itself gives meaning to, written once: the checker and the
//! runtime both read them, so a built-in field added here is known to both (the actions'
//! names are in `actions::names`).

/// The contact's record: the fields the config declares, and these.
pub const CONTACT: &str = "contact";
/// The conversation's own facts.
pub const CONVERSATION: &str = "conversation";
/// The last answer to an `ask` (set by the runtime, read by the scenario).
pub const ANSWER: &str = "answer";
/// The ticket that the mode-B sync creates: written with `set ticket.priority = …`, sent
/// with the ticket-create request.
pub const TICKET: &str = "ticket";
/// Roots a scenario cannot use as variable names.
pub const RESERVED_ROOTS: &[&str] = &[CONTACT, CONVERSATION, ANSWER];

/// `contact.*` fields every contact has, whatever the config declares.
pub mod contact {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const FIRST_NAME: &str = "first_name";
    pub const FIELDS: &[&str] = &[ID, NAME, FIRST_NAME];
}

/// `ticket.*`: what `set` may write on the mode-B ticket before it is created.
pub mod ticket {
    pub const TAGS: &str = "tags";
    pub const PRIORITY: &str = "priority";
    pub const GROUP_ID: &str = "group_id";
    /// `ticket.fields.NAME`: a custom ticket field the organization's `sync.ticket_fields`
    /// names.
    pub const FIELDS: &str = "fields";
    pub const ALL: &[&str] = &[TAGS, PRIORITY, GROUP_ID, FIELDS];
    /// The priorities Zendesk accepts.
    pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
    /// Where the values wait in the conversation's variables until the ticket is created:
    /// under their dotted name (`ticket.priority`), which no variable can have.
    pub const PREFIX: &str = "ticket.";
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
    /// A whole number (`expect integer`), saved as a number.
    Integer,
    Date,
    Choice,
    Text,
}

impl NamedValidator {
    pub const ALL: &[Self] = &[
        Self::Email,
        Self::Phone,
        Self::Number,
        Self::Integer,
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
            Self::Integer => "integer",
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
            Self::Number | Self::Integer => Type::Number,
            Self::Date => Type::Date,
            Self::Choice | Self::Text => Type::Text,
        }
    }

    /// The names, for did-you-mean.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|v| v.name())
    }
}

/// The built-in functions of expressions (`lower(contact.email)`): the checker types calls
/// with this table, the runtime evaluates them by the same names.
pub mod functions {
    use crate::types::Type;

    /// What an argument is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Param {
        /// A value of this type (`Unknown`: a text or a list, said in the summary).
        Value(Type),
        /// The name of a schedule of the workspace config (`next_open(support)`).
        Schedule,
    }

    #[derive(Debug)]
    pub struct Function {
        pub name: &'static str,
        pub params: &'static [Param],
        pub result: Type,
        /// How it is written and what it answers, for errors and docs.
        pub summary: &'static str,
    }

    pub const LOWER: &str = "lower";
    pub const UPPER: &str = "upper";
    pub const TRIM: &str = "trim";
    pub const LENGTH: &str = "length";
    pub const CONTAINS: &str = "contains";
    pub const ROUND: &str = "round";
    pub const FORMAT_NUMBER: &str = "format_number";
    pub const FORMAT_DATE: &str = "format_date";
    pub const NEXT_OPEN: &str = "next_open";
    pub const TODAY: &str = "today";
    pub const WEEKDAY: &str = "weekday";
    pub const HOUR: &str = "hour";

    const TEXT: Param = Param::Value(Type::Text);
    const NUMBER: Param = Param::Value(Type::Number);

    pub static FUNCTIONS: &[Function] = &[
        Function {
            name: LOWER,
            params: &[TEXT],
            result: Type::Text,
            summary: "`lower(text)`: the text in lower case",
        },
        Function {
            name: UPPER,
            params: &[TEXT],
            result: Type::Text,
            summary: "`upper(text)`: the text in upper case",
        },
        Function {
            name: TRIM,
            params: &[TEXT],
            result: Type::Text,
            summary: "`trim(text)`: the text without spaces at either end",
        },
        Function {
            name: LENGTH,
            params: &[Param::Value(Type::Unknown)],
            result: Type::Number,
            summary: "`length(text or list)`: how many characters, or items",
        },
        Function {
            name: CONTAINS,
            params: &[Param::Value(Type::Unknown), TEXT],
            result: Type::Bool,
            summary: "`contains(text or list, text)`: whether the text holds the other (ignoring case), or the list the item",
        },
        Function {
            name: ROUND,
            params: &[NUMBER, NUMBER],
            result: Type::Number,
            summary: "`round(number, decimals)`: the number rounded to that many decimals",
        },
        Function {
            name: FORMAT_NUMBER,
            params: &[NUMBER, NUMBER],
            result: Type::Text,
            summary: "`format_number(number, decimals)`: the number as text with that many decimals, in the conversation's language (`1,234.50`; `1 234,50` in French)",
        },
        Function {
            name: FORMAT_DATE,
            params: &[Param::Value(Type::Date), TEXT],
            result: Type::Text,
            summary: "`format_date(date, \"%d/%m/%Y\")`: the date written with a strftime pattern",
        },
        Function {
            name: NEXT_OPEN,
            params: &[Param::Schedule],
            result: Type::Text,
            summary: "`next_open(schedule)`: when the schedule next opens, as the contact reads it (`Monday at 09:00`), in the conversation's language",
        },
        Function {
            name: TODAY,
            params: &[Param::Schedule],
            result: Type::Date,
            summary: "`today(schedule)`: today's date in the schedule's time zone (`2026-12-24`)",
        },
        Function {
            name: WEEKDAY,
            params: &[Param::Schedule],
            result: Type::Text,
            summary: "`weekday(schedule)`: today's day of the week in the schedule's time zone (`monday` … `sunday`)",
        },
        Function {
            name: HOUR,
            params: &[Param::Schedule],
            result: Type::Number,
            summary: "`hour(schedule)`: the hour of the day in the schedule's time zone (0 to 23)",
        },
    ];

    pub fn get(name: &str) -> Option<&'static Function> {
        FUNCTIONS.iter().find(|f| f.name == name)
    }

    /// Whether argument `index` of a call to `name` is a schedule's name (not a value to
    /// read).
    pub fn is_schedule_arg(name: &str, index: usize) -> bool {
        get(name).is_some_and(|f| f.params.get(index) == Some(&Param::Schedule))
    }
}
