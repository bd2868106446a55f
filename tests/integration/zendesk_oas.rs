//! The client's request bodies against Zendesk's official OpenAPI description
//! (`tests/schemas/zendesk-oas.yaml`, a copy of `reference/zendesk-oas.yaml`).
//!
//! Two checks per body: it validates against the request schema of its endpoint, and every
//! property it sends is declared by that schema — OpenAPI objects accept undeclared
//! properties unless they say otherwise, so a misspelt `requester_idd` would pass the first
//! check alone. Where the description explicitly allows more (`UserInput` has
//! `additionalProperties: true`), more is allowed.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{Value, json};
use zendesk_standin::RequestLog;

use crate::support::root;

/// Write-only helpers Zendesk documents for ticket updates that the OpenAPI description
/// leaves out (reference/zendesk-api.md §3.1): custom audit metadata.
const DOCUMENTED_EXTRAS: &[&str] = &["/ticket/metadata"];

/// Zendesk's OpenAPI description contradicts itself on a ticket's custom field values:
/// `TicketCreateInput` and `TicketUpdateInput` give the `custom_fields` items the schema of a
/// field *definition* (`CustomFieldObject`: `key`, `type` and `title` required, no `value`),
/// while `TicketObject` describes them as `{id, value}` — which is what Zendesk's guide
/// "Setting custom field values" and every example write (reference/zendesk-api.md §3.2). The
/// request schemas are checked with `TicketObject`'s items in their place; this is that
/// schema's location, and the ones it replaces.
const CUSTOM_FIELD_VALUES: &str = "/components/schemas/TicketObject/properties/custom_fields/items";
const CUSTOM_FIELD_INPUTS: [&str; 2] = [
    "/components/schemas/TicketCreateInput/properties/custom_fields/items",
    "/components/schemas/TicketUpdateInput/properties/custom_fields/items",
];

/// OpenAPI 3.0's `nullable: true` as JSON Schema says it (`type: [T, "null"]`), which is what
/// the validator reads.
fn nullable_as_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(kind)) = map.get("type").cloned() {
                    map.insert("type".to_owned(), json!([kind, "null"]));
                }
            }
            map.values_mut().for_each(nullable_as_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_json_schema),
        _ => {}
    }
}

/// The document with [`CUSTOM_FIELD_INPUTS`] read as [`CUSTOM_FIELD_VALUES`], and `nullable`
/// in JSON Schema's words.
fn corrected(mut document: Value) -> Value {
    nullable_as_json_schema(&mut document);
    let values = document.pointer(CUSTOM_FIELD_VALUES).cloned().unwrap();
    assert_eq!(values["properties"]["id"]["type"], "integer", "{values}");
    for input in CUSTOM_FIELD_INPUTS {
        let items = document.pointer_mut(input).unwrap();
        assert_eq!(
            items["$ref"], "#/components/schemas/CustomFieldObject",
            "the description changed at {input}: is the correction still needed?"
        );
        *items = values.clone();
    }
    document
}

struct Oas {
    document: Value,
    validators: Vec<(&'static str, Validator)>,
}

fn oas() -> &'static Oas {
    static OAS: OnceLock<Oas> = OnceLock::new();
    OAS.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("tests/schemas/zendesk-oas.yaml")).unwrap();
        let document = corrected(serde_yaml::from_str(&text).unwrap());
        let validators = [
            "TicketCreateRequest",
            "TicketUpdateRequest",
            "UserRequest",
            "TicketFieldResponse",
        ]
        .into_iter()
        .map(|name| {
            let schema = json!({
                "$ref": format!("#/components/schemas/{name}"),
                "components": document["components"],
            });
            (name, jsonschema::validator_for(&schema).unwrap())
        })
        .collect();
        Oas {
            document,
            validators,
        }
    })
}

/// The request schema of the endpoint a request went to; `None` for bodiless reads.
fn schema_for(request: &RequestLog) -> Option<&'static str> {
    let path = request.path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches("/api/v2/").split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["tickets"]) => Some("TicketCreateRequest"),
        ("PUT", ["tickets", id]) if id.parse::<u64>().is_ok() => Some("TicketUpdateRequest"),
        ("POST", ["users"] | ["users", "create_or_update"]) => Some("UserRequest"),
        (_, _) if request.body.is_empty() => None,
        _ => panic!(
            "{} {} sends a body this test has no schema for",
            request.method, request.path
        ),
    }
}

/// Why `body` does not follow the request schema `name`, if it does not.
pub(crate) fn problems(name: &str, body: &Value) -> Vec<String> {
    let oas = oas();
    let (_, validator) = oas
        .validators
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no validator for {name}"));
    let mut problems: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    undeclared(&oas.document, &schema, body, "", &mut problems);
    problems
}

/// Properties of `instance` that `schema` does not declare (nor explicitly allow).
fn undeclared(document: &Value, schema: &Value, instance: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(document, schema);
    match instance {
        Value::Object(map) => {
            for (key, value) in map {
                let path = format!("{at}/{key}");
                let declared = declarations(document, schema, key);
                if declared.is_empty() {
                    if !allows_more(document, schema) && !DOCUMENTED_EXTRAS.contains(&path.as_str())
                    {
                        out.push(format!("{path}: not a property in Zendesk's OpenAPI"));
                    }
                } else if !declared.iter().any(|s| {
                    let mut inner = Vec::new();
                    undeclared(document, s, value, &path, &mut inner);
                    inner.is_empty()
                }) {
                    undeclared(document, declared[0], value, &path, out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    undeclared(document, item_schema, item, &format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// The schemas `key` has in `schema`, through `allOf`/`anyOf`/`oneOf` branches.
fn declarations<'a>(document: &'a Value, schema: &'a Value, key: &str) -> Vec<&'a Value> {
    let schema = resolve(document, schema);
    let mut found: Vec<&Value> = schema
        .get("properties")
        .and_then(|p| p.get(key))
        .into_iter()
        .collect();
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for branch in schema[combinator].as_array().into_iter().flatten() {
            found.extend(declarations(document, branch, key));
        }
    }
    found
}

fn allows_more(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    matches!(schema.get("additionalProperties"), Some(v) if v != &Value::Bool(false))
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(document, document.pointer(pointer).unwrap_or(&Value::Null))
        }
        None => schema,
    }
}

/// Checks every body the stand-in received and returns the request schemas that were used.
pub(crate) fn assert_requests_follow_the_openapi(
    requests: &[RequestLog],
) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    for request in requests {
        let Some(name) = schema_for(request) else {
            continue;
        };
        let body: Value = serde_json::from_slice(&request.body)
            .unwrap_or_else(|e| panic!("{} {}: not JSON: {e}", request.method, request.path));
        let problems = problems(name, &body);
        assert!(
            problems.is_empty(),
            "{} {} does not follow {name}:\n{}\n{body:#}",
            request.method,
            request.path,
            problems.join("\n")
        );
        seen.insert(name);
    }
    seen
}

#[test]
fn the_checks_refuse_bodies_zendesk_would_not_read() {
    let good = json!({ "ticket": { "comment": { "html_body": "<p>Hi</p>", "public": true },
        "requester_id": 7, "external_id": "scenarist-c1", "subject": "Chat" } });
    assert_eq!(problems("TicketCreateRequest", &good), Vec::<String>::new());
    let triaged = json!({ "ticket": { "comment": { "html_body": "x" }, "priority": "high",
        "group_id": 360_001, "custom_fields": [{ "id": 360_012_345, "value": "A-1001" }] } });
    assert_eq!(
        problems("TicketCreateRequest", &triaged),
        Vec::<String>::new()
    );
    let wrong_fields = json!({ "ticket": { "priority": "critical",
        "custom_fields": [{ "id": "order_number", "valeu": "A-1001" }] } });
    let found = problems("TicketUpdateRequest", &wrong_fields);
    for expected in [
        "/ticket/priority",
        "/ticket/custom_fields/0/id",
        "/ticket/custom_fields/0/valeu: not a property",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected}: {found:#?}"
        );
    }
    let misspelt = json!({ "ticket": { "comment": { "html_body": "x" }, "requester_idd": 7 } });
    assert_eq!(
        problems("TicketCreateRequest", &misspelt),
        ["/ticket/requester_idd: not a property in Zendesk's OpenAPI"]
    );
    let mistyped = json!({ "ticket": { "comment": { "public": "yes" }, "status": "done" } });
    let found = problems("TicketUpdateRequest", &mistyped);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("/ticket/comment/public"))
            && found.iter().any(|p| p.starts_with("/ticket/status")),
        "{found:#?}"
    );
    assert!(
        !problems("UserRequest", &json!({ "name": "Ada" })).is_empty(),
        "the user envelope is required"
    );
}

/// The stand-in's ticket fields (what `zendesk check` reads) have the OpenAPI's shape, with no
/// property it does not declare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standins_ticket_fields_follow_the_openapi() {
    let config = zendesk_standin::StandInConfig {
        ticket_fields: vec![zendesk_standin::TicketFieldRecord {
            id: 360_012_345,
            kind: "text".into(),
            title: "Order number".into(),
            active: true,
        }],
        ..zendesk_standin::StandInConfig::default()
    };
    let standin = zendesk_standin::StandIn::start(0, config).await.unwrap();
    let client = reqwest::Client::new();
    let login = ("agent@acme.example/token", Some("standin-token"));
    let created: Value = client
        .post(format!("{}/api/v2/ticket_fields.json", standin.url()))
        .basic_auth(login.0, login.1)
        .json(&json!({"ticket_field": {"type": "tagger", "title": "Topic",
            "custom_field_options": [{"name": "Returns", "value": "returns"}]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown: Value = client
        .get(format!(
            "{}/api/v2/ticket_fields/360012345.json",
            standin.url()
        ))
        .basic_auth(login.0, login.1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Value = client
        .get(format!("{}/api/v2/ticket_fields.json", standin.url()))
        .basic_auth(login.0, login.1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = listed["ticket_fields"].as_array().unwrap();
    assert_eq!(fields.len(), 2);
    let mut bodies = vec![created, shown];
    bodies.extend(fields.iter().map(|f| json!({ "ticket_field": f })));
    for body in bodies {
        assert_eq!(
            problems("TicketFieldResponse", &body),
            Vec::<String>::new(),
            "{body:#}"
        );
    }
    standin.stop().await;
}
