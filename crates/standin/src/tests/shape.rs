//! The stand-in's JSON against recorded real Zendesk responses
//! (`tests/fixtures/zendesk-samples/`, origins in its SOURCES.md). For each sample, every key
//! path present in the sample must be present in the stand-in's response to the same request
//! with the same JSON type; `null` in the sample matches anything. In arrays, every element
//! of the sample must have the shape of at least one element of the stand-in's array, and a
//! non-empty sample array needs a non-empty answer — except at the [`EXEMPT`] paths.
//!
//! Which sample is compared with which request (the requests are the recorded ones, on a
//! stand-in configured with the recorded account's eight user fields):
//!
//! | sample | stand-in request |
//! |---|---|
//! | `users_me_200_anonymous_when_token_invalid.json` | `GET /api/v2/users/me.json`, wrong token (also equal) |
//! | `users_search_by_query_empty_200.json` | `GET /api/v2/users/search.json?query=grouparoo%40demo.com`, before any user |
//! | `users_create_or_update_201.json` | `POST /api/v2/users/create_or_update.json`, recorded body |
//! | `users_search_by_external_id_200.json` | `GET /api/v2/users/search.json?external_id=grouparoo123` |
//! | `users_create_201_with_user_fields.json` | `POST /api/v2/users.json`, recorded body |
//! | `user_fields_list_200.json` | `GET /api/v2/user_fields.json` |
//! | `tickets_create_201.json` | `POST /api/v2/tickets.json` `{"ticket":{"description":"test","subject":"test"}}` |
//! | `tickets_update_200.json` | `PUT /api/v2/tickets/{id}.json`, recorded body (subject change) |
//! | `tickets_update_404_record_not_found.json` | `PUT /api/v2/tickets/9223372036854775807.json` (also equal) |
//! | `ticket_comments_list_cursor_200.json` | `GET /api/v2/tickets/{id}/comments.json?include_inline_images=false&page[size]=100` |

use serde_json::{Value, json};

use super::Api;
use crate::{StandIn, StandInConfig};

/// Arrays whose elements are not compared: the stand-in stores no attachments, and its
/// dropdown fields have no configured options.
const EXEMPT: &[&str] = &[
    "comments[].attachments",
    "user_fields[].custom_field_options",
];

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/zendesk-samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compare(sample: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    if sample.is_null() {
        return;
    }
    if kind(sample) != kind(actual) {
        errors.push(format!(
            "{path}: sample has {}, stand-in {}",
            kind(sample),
            kind(actual)
        ));
        return;
    }
    match (sample, actual) {
        (Value::Object(expected), Value::Object(got)) => {
            for (key, value) in expected {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match got.get(key) {
                    Some(actual) => compare(value, actual, &child, errors),
                    None => errors.push(format!("{child}: missing")),
                }
            }
        }
        (Value::Array(expected), Value::Array(got)) if !EXEMPT.contains(&path) => {
            let child = format!("{path}[]");
            for (index, item) in expected.iter().enumerate() {
                let mut best: Option<Vec<String>> = None;
                for candidate in got {
                    let mut found = Vec::new();
                    compare(item, candidate, &child, &mut found);
                    if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                        best = Some(found);
                    }
                }
                match best {
                    None => errors.push(format!(
                        "{child}: sample element {index} has no counterpart (empty)"
                    )),
                    Some(found) => errors.extend(found),
                }
            }
        }
        _ => {}
    }
}

fn assert_shape(name: &str, actual: &Value) {
    let mut errors = Vec::new();
    compare(&sample(name), actual, "", &mut errors);
    assert!(
        errors.is_empty(),
        "{name}:\n{}\nstand-in: {actual:#}",
        errors.join("\n")
    );
}

fn recorded_account() -> StandInConfig {
    let fields = [
        ("text_field", "text"),
        ("multiline_field", "textarea"),
        ("numeric_field", "integer"),
        ("decimal_field", "decimal"),
        ("checkbox_field", "checkbox"),
        ("date_field", "date"),
        ("regex_field", "regexp"),
        ("dropdown_field", "dropdown"),
    ];
    StandInConfig {
        user_fields: fields
            .iter()
            .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
            .collect(),
        ..StandInConfig::default()
    }
}

#[tokio::test]
async fn user_responses_have_the_recorded_shape() {
    let standin = StandIn::start(0, recorded_account()).await.unwrap();
    let api = Api::new(&standin);

    let anonymous = Api::new(&standin).with_auth(Some("Bearer wrong"));
    let got = anonymous.get("/api/v2/users/me.json").await;
    assert_shape("users_me_200_anonymous_when_token_invalid.json", &got.json);
    assert_eq!(
        got.json,
        sample("users_me_200_anonymous_when_token_invalid.json")
    );

    let got = api
        .get("/api/v2/users/search.json?query=grouparoo%40demo.com")
        .await;
    assert_shape("users_search_by_query_empty_200.json", &got.json);

    let body = json!({"user": {"verified": true, "name": "John Doe", "email": "grouparoo@demo.com",
        "external_id": "grouparoo123", "tags": []}});
    let got = api.post("/api/v2/users/create_or_update.json", &body).await;
    assert_eq!(got.status, 201);
    assert_shape("users_create_or_update_201.json", &got.json);

    let got = api
        .get("/api/v2/users/search.json?external_id=grouparoo123")
        .await;
    assert_shape("users_search_by_external_id_200.json", &got.json);

    let body = json!({"user": {"verified": true, "name": "Anakin", "alias": "MU", "email": "skywalker@demo.com",
        "user_fields": {"text_field": "my text", "numeric_field": 3039, "checkbox_field": true},
        "tags": ["existing", "here"]}});
    let got = api.post("/api/v2/users.json", &body).await;
    assert_eq!(got.status, 201, "{}", got.text);
    assert_shape("users_create_201_with_user_fields.json", &got.json);
    assert_eq!(
        got.json["user"]["tags"],
        json!(["existing", "here", "checkbox_field"])
    );

    let got = api.get("/api/v2/user_fields.json").await;
    assert_shape("user_fields_list_200.json", &got.json);
}

#[tokio::test]
async fn ticket_responses_have_the_recorded_shape() {
    let standin = StandIn::start(0, recorded_account()).await.unwrap();
    let api = Api::new(&standin);

    let got = api
        .post(
            "/api/v2/tickets.json",
            &json!({"ticket": {"description": "test", "subject": "test"}}),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    assert_shape("tickets_create_201.json", &got.json);
    let id = got.json["ticket"]["id"].as_u64().unwrap();

    let body = json!({"ticket": {"description": "test2", "id": id, "subject": "test2"}});
    let got = api.put(&format!("/api/v2/tickets/{id}.json"), &body).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_shape("tickets_update_200.json", &got.json);

    let got = api
        .put("/api/v2/tickets/9223372036854775807.json", &body)
        .await;
    assert_shape("tickets_update_404_record_not_found.json", &got.json);
    assert_eq!(got.json, sample("tickets_update_404_record_not_found.json"));

    let got = api
        .get(&format!(
            "/api/v2/tickets/{id}/comments.json?include_inline_images=false&page[size]=100"
        ))
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_shape("ticket_comments_list_cursor_200.json", &got.json);
}

#[test]
fn the_comparison_catches_missing_keys_and_wrong_types() {
    let sample = json!({"a": 1, "b": null, "c": [{"x": "s"}], "d": {"e": true}});
    let mut errors = Vec::new();
    compare(
        &sample,
        &json!({"a": "1", "b": 5, "c": [], "d": {}}),
        "",
        &mut errors,
    );
    assert_eq!(
        errors,
        [
            "a: sample has number, stand-in string",
            "c[]: sample element 0 has no counterpart (empty)",
            "d.e: missing"
        ]
    );
}
