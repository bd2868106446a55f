//! The value types of the language, shared by the checker, the action registry and (later)
//! the runtime. Email and phone are texts that passed validation: they may go wherever a
//! text may, but a plain text may not go where an email is required.

use std::fmt;

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Text,
    Email,
    Phone,
    Number,
    Date,
    Bool,
    /// A list of texts (`tags: ["chat", "bot"]`).
    TextList,
    /// The result of an action, e.g. a Zendesk user.
    Record(&'static Record),
    /// Not known statically (e.g. `answer`, or after an earlier error): accepted anywhere,
    /// so one mistake does not cascade into many reports.
    Unknown,
}

/// A named record type with typed fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub name: &'static str,
    pub fields: &'static [(&'static str, Type)],
}

impl Record {
    pub fn field(&self, name: &str) -> Option<Type> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }
}

impl Type {
    /// Whether a value of type `self` may be used where `expected` is required.
    pub fn fits(self, expected: Type) -> bool {
        match (self, expected) {
            (Type::Unknown, _)
            | (_, Type::Unknown)
            | (Type::Text | Type::Email | Type::Phone | Type::Number | Type::Date, Type::Text) => {
                true
            }
            (Type::Record(a), Type::Record(b)) => a.name == b.name,
            (a, b) => a == b,
        }
    }

    /// Whether the value can be shown in a message.
    pub fn is_displayable(self) -> bool {
        !matches!(self, Type::Record(_))
    }

    /// Whether `<`, `>` … apply.
    pub fn is_ordered(self) -> bool {
        matches!(self, Type::Number | Type::Date | Type::Unknown)
    }

    /// Whether `matches /re/` applies.
    pub fn is_textual(self) -> bool {
        matches!(self, Type::Text | Type::Email | Type::Phone | Type::Unknown)
    }

    /// The common type of two branches (`a or b`): the same, or unknown.
    #[must_use]
    pub fn join(self, other: Type) -> Type {
        if self == other { self } else { Type::Unknown }
    }
}

impl From<FieldType> for Type {
    fn from(kind: FieldType) -> Self {
        match kind {
            FieldType::Text => Type::Text,
            FieldType::Email => Type::Email,
            FieldType::Phone => Type::Phone,
            FieldType::Number => Type::Number,
            FieldType::Date => Type::Date,
            FieldType::Bool => Type::Bool,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Text => f.write_str("text"),
            Type::Email => f.write_str("email"),
            Type::Phone => f.write_str("phone"),
            Type::Number => f.write_str("number"),
            Type::Date => f.write_str("date"),
            Type::Bool => f.write_str("true/false"),
            Type::TextList => f.write_str("list of texts"),
            Type::Record(record) => f.write_str(record.name),
            Type::Unknown => f.write_str("any value"),
        }
    }
}

/// The type of a contact field, as the config declares it (`contact_fields`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Email,
    Phone,
    Number,
    Date,
    Bool,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Bool => "bool",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Type;

    #[test]
    fn validated_texts_fit_text_but_not_the_reverse() {
        assert!(Type::Email.fits(Type::Text));
        assert!(!Type::Text.fits(Type::Email));
        assert!(!Type::Phone.fits(Type::Email));
        assert!(Type::Unknown.fits(Type::Email));
        assert!(!Type::Bool.fits(Type::Text));
    }
}
