//! A successful answer turned into the result record of the call: each declared field read by
//! its JSON pointer and given its declared type. A field that is absent or `null` is left out
//! (the scenario reads it as empty); a value of another type fails the call, with the field
//! and the pointer in the reason, rather than reaching the scenario as something it is not.

use std::collections::BTreeMap;

use scenarist_lang::config::apis::ResultField;
use scenarist_lang::types::FieldType;
use scenarist_runtime::validate;
use scenarist_runtime::value::{Value, format_number};
use serde_json::Value as Json;

/// The record of the declared `fields` read from `answer`.
pub fn record(answer: &Json, fields: &BTreeMap<String, ResultField>) -> Result<Value, String> {
    let mut record = BTreeMap::new();
    for (name, spec) in fields {
        let Some(json) = answer.pointer(&spec.pointer).filter(|v| !v.is_null()) else {
            continue;
        };
        let value = typed(json, spec.kind).ok_or_else(|| {
            format!(
                "the answer's `{}` (for `{name}`) is {}, not {}",
                spec.pointer,
                describe(json),
                article(spec.kind)
            )
        })?;
        record.insert(name.clone(), value);
    }
    Ok(Value::Record(record))
}

fn typed(json: &Json, kind: FieldType) -> Option<Value> {
    match (kind, json) {
        (FieldType::Text, Json::String(text)) => Some(Value::text(text.as_str())),
        (FieldType::Text, Json::Number(n)) => n.as_f64().map(|n| Value::Text(format_number(n))),
        (FieldType::Text, Json::Bool(b)) => Some(Value::Text(b.to_string())),
        (FieldType::Number, Json::Number(n)) => n.as_f64().map(Value::Number),
        (FieldType::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
        (FieldType::Email, Json::String(text)) => {
            validate::is_email(text.trim()).then(|| Value::text(text.trim()))
        }
        (FieldType::Phone, Json::String(text)) => {
            scenarist_lang::answers::phone(text.trim(), None).map(Value::Text)
        }
        // A timestamp (`2026-12-08T10:00:00Z`) is read as its date.
        (FieldType::Date, Json::String(text)) => {
            validate::date(text.get(..10).unwrap_or(text)).map(Value::Text)
        }
        _ => None,
    }
}

fn describe(json: &Json) -> String {
    match json {
        Json::String(text) => format!("the text {:?}", text.chars().take(40).collect::<String>()),
        Json::Number(n) => format!("the number {n}"),
        Json::Bool(b) => format!("{b}"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "an object".to_owned(),
        Json::Null => "null".to_owned(),
    }
}

fn article(kind: FieldType) -> String {
    match kind {
        FieldType::Email => "an email".to_owned(),
        other => format!("a {}", other.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kind: FieldType, pointer: &str) -> ResultField {
        ResultField {
            kind,
            pointer: pointer.to_owned(),
        }
    }

    #[test]
    fn fields_are_read_by_pointer_and_typed() {
        let fields: BTreeMap<String, ResultField> = [
            ("status", field(FieldType::Text, "/status")),
            ("eta", field(FieldType::Date, "/delivery/eta")),
            ("total", field(FieldType::Number, "/total")),
            ("paid", field(FieldType::Bool, "/paid")),
            ("first", field(FieldType::Text, "/lines/0/sku")),
            ("gone", field(FieldType::Text, "/nowhere")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let answer = json!({
            "status": "shipped",
            "delivery": {"eta": "2026-12-08T10:00:00Z"},
            "total": 12.5,
            "paid": true,
            "lines": [{"sku": "A1"}],
        });
        let Value::Record(record) = record(&answer, &fields).unwrap() else {
            panic!("not a record")
        };
        assert_eq!(record["status"], Value::text("shipped"));
        assert_eq!(record["eta"], Value::text("2026-12-08"));
        assert_eq!(record["total"], Value::Number(12.5));
        assert_eq!(record["paid"], Value::Bool(true));
        assert_eq!(record["first"], Value::text("A1"));
        assert!(!record.contains_key("gone"));
        let wrong = json!({"total": "twelve"});
        let error = super::record(&wrong, &fields).unwrap_err();
        assert_eq!(
            error,
            "the answer's `/total` (for `total`) is the text \"twelve\", not a number"
        );
    }
}
