//! Runtime values: what variables, contact fields, answers and action results hold. Stored
//! in sled (postcard) and exported as JSON, so the shape is plain serde.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<Value>),
    /// An action result: field name → value.
    Record(BTreeMap<String, Value>),
}

impl Value {
    pub fn text(text: impl Into<String>) -> Self {
        Value::Text(text.into())
    }

    /// Whether the value "has something in it": the rule behind `or`, `and`, `not` and `if`.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Text(text) => !text.is_empty(),
            Value::Number(_) | Value::Record(_) => true,
            Value::Bool(b) => *b,
            Value::List(items) => !items.is_empty(),
        }
    }

    /// Whether the value is empty (`is empty`); an unset value is empty too.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(text) => text.is_empty(),
            Value::List(items) => items.is_empty(),
            Value::Record(fields) => fields.is_empty(),
            Value::Number(_) | Value::Bool(_) => false,
        }
    }

    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(fields) => fields.get(name),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// How a value reads in a message: numbers without a useless `.0`, lists joined by commas.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(text) => f.write_str(text),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            // The checker refuses showing a whole record; say something sane anyway.
            Value::Record(fields) => match fields.get("id") {
                Some(id) => write!(f, "{id}"),
                None => Ok(()),
            },
        }
    }
}

/// `3` not `3.0`; other numbers as Rust prints them (shortest round-trip form).
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Converts a JSON value (inbound contact fields, action results) into a runtime value;
/// `null` is "not set".
pub fn from_json(json: &serde_json::Value) -> Option<Value> {
    Some(match json {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64()?),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => {
            Value::List(items.iter().filter_map(from_json).collect())
        }
        serde_json::Value::Object(fields) => Value::Record(
            fields
                .iter()
                .filter_map(|(k, v)| from_json(v).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

/// The JSON form of a value (for requests to actions and for exports).
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Text(text) => serde_json::Value::String(text.clone()),
        Value::Number(n) => serde_json::Number::from_f64(*n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Record(fields) => serde_json::Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_truthiness() {
        assert_eq!(Value::Number(3.0).to_string(), "3");
        assert_eq!(Value::Number(2.5).to_string(), "2.5");
        assert_eq!(
            Value::List(vec![Value::text("a"), Value::text("b")]).to_string(),
            "a, b"
        );
        assert!(!Value::text("").is_truthy());
        assert!(Value::text("x").is_truthy());
        assert!(!Value::Bool(false).is_truthy());
    }

    #[test]
    fn json_round_trip() {
        let json = serde_json::json!({"id": 7, "email": "a@b.c", "tags": ["x"], "gone": null});
        let value = from_json(&json).unwrap();
        assert_eq!(value.field("id"), Some(&Value::Number(7.0)));
        assert_eq!(value.field("gone"), None);
        assert_eq!(
            to_json(&value),
            serde_json::json!({"id": 7.0, "email": "a@b.c", "tags": ["x"]})
        );
    }
}
