//! `schemas/openapi.yaml` against the real `scenarist serve`: every operation the document
//! declares is called, every request body the test sends is checked against the declared
//! request schema (and the deliberately wrong ones must fail it), and every response must have
//! a status the operation declares and a body that follows its schema. The service's objects
//! are declared with `additionalProperties: false`, so a field added to a handler and not to
//! the document fails here, and so does an operation added to the document and not served.
//!
//! OpenAPI 3.0 schemas are not JSON Schema in one respect that matters here: `nullable: true`.
//! [`to_json_schema`] rewrites it as a union with `null` before the validators are compiled.

use std::collections::{BTreeMap, BTreeSet};

use jsonschema::Validator;
use scenarist::store::{Backend as _, SledBackend, TreeName};
use serde_json::{Map, Value, json};

use crate::service::{Server, TOKEN, message};
use crate::support::{root, tempdir};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

/// The OpenAPI document, its validators (compiled on first use) and the operations called.
pub(crate) struct Doc {
    document: Value,
    components: Value,
    validators: BTreeMap<String, Validator>,
    called: BTreeSet<(String, String)>,
}

/// A request body and what the document should think of it.
enum Sent<'a> {
    Nothing,
    /// Must follow the request schema.
    Valid(Value),
    /// Must not follow it (the service is expected to refuse it too).
    Invalid(Value),
    /// Not JSON, or empty: only sent, not checked.
    Raw(&'a str),
}

/// Rewrites OpenAPI 3.0 `nullable: true` as JSON Schema: `type: [t, "null"]` (and `null` in
/// an `enum`), or `anyOf: [schema, {type: null}]` for a schema without a `type` (the
/// `nullable` + `allOf: [$ref]` idiom).
fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect();
            if out.remove("nullable") != Some(Value::Bool(true)) {
                return Value::Object(out);
            }
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                values.push(Value::Null);
            }
            match out.get("type").cloned() {
                Some(Value::String(t)) => {
                    out.insert("type".into(), json!([t, "null"]));
                    Value::Object(out)
                }
                Some(other) => panic!("nullable with an unexpected type {other}"),
                None => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

impl Doc {
    pub(crate) fn load() -> Doc {
        let text = std::fs::read_to_string(root().join("schemas/openapi.yaml")).unwrap();
        let document: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.0.3");
        let components = to_json_schema(&document["components"]);
        Doc {
            document,
            components,
            validators: BTreeMap::new(),
            called: BTreeSet::new(),
        }
    }

    /// Follows a local `$ref` (to a response, a parameter...).
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve(
                self.document
                    .pointer(reference.trim_start_matches('#'))
                    .unwrap_or_else(|| panic!("{reference} is not in the document")),
            ),
            None => value,
        }
    }

    fn operation(&self, method: &str, template: &str) -> &Value {
        let operation = &self.document["paths"][template][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not in schemas/openapi.yaml"
        );
        operation
    }

    /// The component name a JSON body schema refers to.
    fn schema_name(schema: &Value, what: &str) -> String {
        schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("{what}: the schema should be a $ref to a component"))
            .to_owned()
    }

    /// Why `body` does not follow the component schema `name`.
    fn problems(&mut self, name: &str, body: &Value) -> Vec<String> {
        let components = &self.components;
        let validator = self.validators.entry(name.to_owned()).or_insert_with(|| {
            let schema = json!({
                "$ref": format!("#/components/schemas/{name}"),
                "components": components,
            });
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("the schema {name} does not compile: {e}"))
        });
        validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    /// Checks the request body against the operation's request schema.
    fn check_request(&mut self, method: &str, template: &str, sent: &Sent<'_>) {
        let what = format!("{method} {template} request");
        let request_body = self.resolve(&self.operation(method, template)["requestBody"]);
        let required = request_body["required"] == true;
        let schema = &request_body["content"]["application/json"]["schema"];
        let name = (!schema.is_null()).then(|| Self::schema_name(schema, &what));
        match (sent, name) {
            (Sent::Nothing, _) => assert!(!required, "{what}: the document requires a body"),
            (Sent::Raw(raw), _) if raw.trim().is_empty() => {
                assert!(!required, "{what}: the document requires a body");
            }
            (Sent::Raw(_), _) => {}
            (Sent::Valid(body), Some(name)) => {
                let problems = self.problems(&name, body);
                assert!(
                    problems.is_empty(),
                    "{what} does not follow {name}:\n{}\n{body:#}",
                    problems.join("\n")
                );
            }
            (Sent::Invalid(body), Some(name)) => assert!(
                !self.problems(&name, body).is_empty(),
                "{what}: {name} accepts a body the test expects to be refused: {body}"
            ),
            (Sent::Valid(_) | Sent::Invalid(_), None) => {
                panic!("{what}: the document declares no JSON body")
            }
        }
    }

    /// Checks the response's status is declared and its body follows the declared schema
    /// (a `text/plain` body comes as a JSON string).
    pub(crate) fn check_response(
        &mut self,
        method: &str,
        template: &str,
        status: u16,
        body: &Value,
    ) {
        let what = format!("{method} {template} → {status}");
        let response = &self.operation(method, template)["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{what} is not declared in schemas/openapi.yaml: {body}"
        );
        let content = &self.resolve(response)["content"];
        if content["text/plain"].is_object() || content["application/x-ndjson"].is_object() {
            assert!(body.is_string(), "{what}: declared as text, got {body}");
            return;
        }
        let schema = &content["application/json"]["schema"];
        let name = Self::schema_name(schema, &what);
        let problems = self.problems(&name, body);
        assert!(
            problems.is_empty(),
            "{what} does not follow {name}:\n{}\n{body:#}",
            problems.join("\n")
        );
    }

    /// Every operation the document declares, as (METHOD, path template).
    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (template, item) in self.document["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(*method).is_some() {
                    operations.insert((method.to_uppercase(), template.clone()));
                }
            }
        }
        operations
    }
}

/// The server and the document, called through [`Api::send`] only.
struct Api {
    server: Server,
    doc: Doc,
}

impl Api {
    /// Sends `method path` (which fills in `template`), checks the request and the response
    /// against the document, and returns the status and the body.
    async fn send(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        token: Option<&str>,
        sent: Sent<'_>,
    ) -> (u16, Value) {
        self.doc.check_request(method, template, &sent);
        let url = format!("{}{path}", self.server.base);
        let mut request = match method {
            "GET" => self.server.client.get(url),
            "POST" => self.server.client.post(url),
            "DELETE" => self.server.client.delete(url),
            _ => panic!("{method}: not a method this service serves"),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match &sent {
            Sent::Nothing => request,
            Sent::Valid(body) | Sent::Invalid(body) => request.json(body),
            Sent::Raw(raw) => request
                .header("content-type", "application/json")
                .body(raw.to_string()),
        };
        let response = request
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let json = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        let text = response.text().await.unwrap();
        let body: Value = if json {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path} → {status}: not JSON ({e}): {text:?}"))
        } else {
            Value::String(text)
        };
        self.doc.check_response(method, template, status, &body);
        self.doc
            .called
            .insert((method.to_owned(), template.to_owned()));
        (status, body)
    }

    async fn post(&mut self, template: &str, id: &str, sent: Sent<'_>) -> (u16, Value) {
        let path = template.replace("{id}", id);
        self.send("POST", template, &path, Some(TOKEN), sent).await
    }

    async fn conversation(&mut self, id: &str) -> (u16, Value) {
        let path = format!("/v1/conversations/{id}");
        self.send(
            "GET",
            "/v1/conversations/{id}",
            &path,
            Some(TOKEN),
            Sent::Nothing,
        )
        .await
    }

    /// Polls the conversation until `done` holds (the Zendesk sync runs in the background).
    async fn wait_for(&mut self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (status, conversation) = self.conversation(id).await;
            assert_eq!(status, 200, "{conversation}");
            if done(&conversation) || std::time::Instant::now() > deadline {
                return conversation;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

const MESSAGES: &str = "/v1/messages";
const ADVISOR: &str = "/v1/conversations/{id}/advisor-messages";
const TEAM: &str = "/v1/conversations/{id}/team";
const RETURN: &str = "/v1/conversations/{id}/return-to-bot";
const CLOSE: &str = "/v1/conversations/{id}/close";
const CONTACT: &str = "/v1/contacts/{id}/zendesk";
const CANDIDATES: &str = "/v1/contacts/{id}/zendesk/candidates";
const LINK: &str = "/v1/contacts/{id}/zendesk/link";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_what_its_openapi_document_says() {
    let data = tempdir().join("data");
    let mut api = Api {
        server: Server::start(&data),
        doc: Doc::load(),
    };

    let (status, _) = api
        .send("GET", "/healthz", "/healthz", None, Sent::Nothing)
        .await;
    assert_eq!(status, 200, "health needs no token");
    let (status, _) = api
        .send("GET", "/readyz", "/readyz", None, Sent::Nothing)
        .await;
    assert_eq!(status, 200);

    // A contact through the verification flow, to an advisor, back to the bot and closed.
    let (status, first) = api
        .post(MESSAGES, "", Sent::Valid(message("c-1", "m-1", "Hi")))
        .await;
    assert_eq!((status, first["status"].as_str()), (200, Some("waiting")));
    let (_, fresh) = api.conversation("c-1").await;
    assert!(fresh["step"].is_string(), "waiting at a step: {fresh}");
    let minimal = json!({ "account": "facebook:acme", "conversation": "c-2",
        "message_id": "m-1", "contact": { "id": "u-2" }, "text": "Hi" });
    let (status, _) = api.post(MESSAGES, "", Sent::Valid(minimal)).await;
    assert_eq!(status, 200, "the optional fields are optional");
    let email = message("c-1", "m-2", "ada@example.com");
    let (_, second) = api.post(MESSAGES, "", Sent::Valid(email.clone())).await;
    assert_eq!(second["status"], "with_advisor");
    let (_, again) = api.post(MESSAGES, "", Sent::Valid(email)).await;
    assert_eq!(again["duplicate"], true);
    let synced = api
        .wait_for("c-1", |c| !c["zendesk"]["ticket_id"].is_null())
        .await;
    assert!(synced["contact"].is_object() && synced["zendesk"].is_object());

    // Mode B linked the contact; an advisor reads, unlinks and links it again.
    let user_id = synced["zendesk"]["user_id"].clone();
    let q = "?account=facebook:acme";
    let shown = format!("/v1/contacts/u-c-1/zendesk{q}");
    let (status, body) = api
        .send("GET", CONTACT, &shown, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!((status, &body["user"]["id"]), (200, &user_id), "{body}");
    let found = format!("/v1/contacts/u-c-1/zendesk/candidates{q}");
    let (status, body) = api
        .send("GET", CANDIDATES, &found, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!(
        (status, &body["candidates"][0]["user"]["id"]),
        (200, &user_id),
        "{body}"
    );
    let link = format!("/v1/contacts/u-c-1/zendesk/link{q}");
    let (status, body) = api
        .send("DELETE", LINK, &link, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!(
        (status, &body["unlinked_user_id"]),
        (200, &user_id),
        "{body}"
    );
    let (status, body) = api
        .send("GET", CONTACT, &shown, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!((status, code(&body)), (404, "not_linked"));
    let again = Sent::Valid(json!({ "user_id": user_id }));
    let (status, body) = api.send("POST", LINK, &link, Some(TOKEN), again).await;
    assert_eq!(
        (status, &body["previous_user_id"]),
        (200, &Value::Null),
        "{body}"
    );
    let nobody = "/v1/contacts/nobody/zendesk?account=facebook:acme";
    let (status, body) = api
        .send("GET", CONTACT, nobody, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_contact"));
    let unknown = Sent::Valid(json!({ "user_id": 987_654 }));
    let (status, body) = api.send("POST", LINK, &link, Some(TOKEN), unknown).await;
    assert_eq!((status, code(&body)), (422, "no_such_user"));
    let typo = Sent::Invalid(json!({ "user": 1 }));
    let (status, body) = api.send("POST", LINK, &link, Some(TOKEN), typo).await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    // What the service refuses, the document refuses too (and Schemathesis never sends).
    for refused in [
        json!({}),
        json!({ "user_id": -1 }),
        json!({ "user_id": 1, "create": true }),
        json!({ "create": false }),
    ] {
        let sent = Sent::Invalid(refused.clone());
        let (status, body) = api.send("POST", LINK, &link, Some(TOKEN), sent).await;
        assert_eq!((status, code(&body)), (400, "bad_request"), "{refused}");
    }
    let create = Sent::Valid(json!({ "create": true }));
    let (status, body) = api.send("POST", LINK, &link, Some(TOKEN), create).await;
    assert_eq!((status, &body["created"]), (200, &json!(true)), "{body}");

    let advisor = json!({ "message_id": "a-1", "advisor": { "id": "g", "name": "Grace" }, "text": "Grace here" });
    let (status, _) = api.post(ADVISOR, "c-1", Sent::Valid(advisor)).await;
    assert_eq!(status, 200);
    let nameless = json!({ "message_id": "a-2", "advisor": { "id": "g" }, "text": "Still me" });
    let (status, _) = api.post(ADVISOR, "c-1", Sent::Valid(nameless)).await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(TEAM, "c-1", Sent::Valid(json!({ "team": "Zendesk" })))
        .await;
    assert_eq!(status, 200);
    let (status, back) = api.post(RETURN, "c-1", Sent::Raw("")).await;
    assert_eq!(status, 200, "an empty body is no body: {back}");
    let (status, _) = api
        .post(RETURN, "c-1", Sent::Valid(json!({ "step": "ask_email" })))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(RETURN, "c-1", Sent::Valid(json!({ "step": null })))
        .await;
    assert_eq!(status, 200);
    let (status, closed) = api.post(CLOSE, "c-1", Sent::Nothing).await;
    assert_eq!((status, &closed["status"]), (200, &json!("ended")));
    let ended = api
        .wait_for("c-1", |c| c["zendesk"]["solved"] == true)
        .await;
    let history = ended["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|m| m["author"] == "advisor" && m["advisor"]["name"] == "Grace"),
        "{ended:#}"
    );
    assert!(ended["step"].is_null());

    // Errors.
    let path = "/v1/conversations/c-1";
    let (status, body) = api
        .send("GET", "/v1/conversations/{id}", path, None, Sent::Nothing)
        .await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let (status, body) = api
        .send(
            "POST",
            MESSAGES,
            MESSAGES,
            Some("wrong"),
            Sent::Valid(message("c-1", "m-3", "Hi")),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let mut missing = message("c-1", "m-3", "Hi");
    missing.as_object_mut().unwrap().remove("text");
    let (status, body) = api.post(MESSAGES, "", Sent::Invalid(missing)).await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let mut extra = message("c-1", "m-3", "Hi");
    extra["channel"] = json!("sms");
    let (status, body) = api.post(MESSAGES, "", Sent::Invalid(extra)).await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "unknown fields"
    );
    let (status, body) = api.post(MESSAGES, "", Sent::Raw("{not json")).await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let mut empty = message("c-1", "m-3", "Hi");
    empty["contact"]["id"] = json!("");
    let mut control = message("c-1", "m-3", "Hi");
    control["conversation"] = json!("c\n1");
    for bad in [empty, control] {
        let (status, body) = api.post(MESSAGES, "", Sent::Invalid(bad)).await;
        assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    }
    let mut unicode = message("c-unicode", "m-1", "Hi");
    unicode["conversation"] = json!("é".repeat(256));
    let (status, body) = api.post(MESSAGES, "", Sent::Valid(unicode)).await;
    assert_eq!(
        status, 200,
        "256 characters are an id, whatever their bytes: {body}"
    );
    let (status, body) = api
        .post(
            ADVISOR,
            "c-1",
            Sent::Invalid(json!({ "message_id": "a-3", "text": "x" })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let (status, body) = api
        .post(TEAM, "c-1", Sent::Invalid(json!({ "team": 7 })))
        .await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let (status, body) = api
        .post(
            RETURN,
            "c-1",
            Sent::Invalid(json!({ "stepp": "ask_email" })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "bad_request"));

    let (status, body) = api.conversation("nobody").await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation"));
    let advisor = json!({ "message_id": "a-1", "advisor": { "id": "g" }, "text": "Hi" });
    let (status, body) = api.post(ADVISOR, "nobody", Sent::Valid(advisor)).await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation"));
    let (status, body) = api
        .post(TEAM, "nobody", Sent::Valid(json!({ "team": "Zendesk" })))
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation"));
    let (status, body) = api.post(RETURN, "nobody", Sent::Raw("")).await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation"));
    let (status, body) = api.post(CLOSE, "nobody", Sent::Nothing).await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation"));

    let mut unknown = message("c-5", "m-1", "Hi");
    unknown["account"] = json!("telegram:nobody");
    let (status, body) = api.post(MESSAGES, "", Sent::Valid(unknown)).await;
    assert_eq!((status, code(&body)), (422, "unknown_account"));
    let (status, body) = api
        .post(RETURN, "c-2", Sent::Valid(json!({ "step": "nowhere" })))
        .await;
    assert_eq!((status, code(&body)), (422, "unknown_step"));

    let big = message("c-6", "m-1", &"x".repeat(100_000));
    let (status, body) = api.post(MESSAGES, "", Sent::Valid(big)).await;
    assert_eq!((status, code(&body)), (413, "body_too_large"));
    let big = json!({ "team": "x".repeat(100_000) });
    let (status, body) = api.post(TEAM, "c-1", Sent::Valid(big)).await;
    assert_eq!((status, code(&body)), (413, "body_too_large"));

    let (status, _) = api
        .send("GET", "/metrics", "/metrics", None, Sent::Nothing)
        .await;
    assert_eq!(status, 401, "metrics need the token");
    let (status, metrics) = api
        .send("GET", "/metrics", "/metrics", Some(TOKEN), Sent::Nothing)
        .await;
    let metrics = metrics.as_str().unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("scenarist_messages_total{outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
    let (status, reloaded) = api
        .send(
            "POST",
            "/v1/admin/reload",
            "/v1/admin/reload",
            Some(crate::service::ADMIN_TOKEN),
            Sent::Nothing,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        reloaded["published"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["scenario"] == "zendesk_handoff"),
        "{reloaded}"
    );
    let (status, body) = api
        .send(
            "POST",
            "/v1/admin/reload",
            "/v1/admin/reload",
            None,
            Sent::Nothing,
        )
        .await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    admin_routes(&mut api).await;

    // A known path with a method it does not take: 405 with the JSON error and `Allow`.
    let response = api
        .server
        .client
        .delete(format!("{}/v1/messages", api.server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "method_not_allowed");
    let response = api
        .server
        .client
        .get(format!("{}/v1/nothing-here", api.server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "not_found");

    let declared = api.doc.operations();
    let missed: Vec<_> = declared.difference(&api.doc.called).collect();
    assert!(missed.is_empty(), "declared but never called: {missed:?}");
}

/// The backup and quarantine routes (`backup.rs` tests them in depth), as the document says.
async fn admin_routes(api: &mut Api) {
    let admin = Some(crate::service::ADMIN_TOKEN);
    let (status, backup) = api.send("POST", EXPORT, EXPORT, admin, Sent::Nothing).await;
    assert_eq!(status, 200);
    assert!(
        backup
            .as_str()
            .unwrap()
            .starts_with(r#"{"format":"scenarist-export""#),
        "{backup}"
    );
    let (status, body) = api
        .send("POST", EXPORT, EXPORT, Some(TOKEN), Sent::Nothing)
        .await;
    assert_eq!((status, code(&body)), (403, "not_admin"));
    let (status, listed) = api.send("GET", LIST, LIST, admin, Sent::Nothing).await;
    assert_eq!((status, listed), (200, json!({ "quarantined": [] })));
    for method in ["GET", "DELETE"] {
        let (status, body) = api
            .send(
                method,
                QUARANTINED,
                "/v1/admin/quarantine/c-1",
                admin,
                Sent::Nothing,
            )
            .await;
        assert_eq!((status, code(&body)), (404, "not_quarantined"), "{method}");
    }
}

const EXPORT: &str = "/v1/admin/export";
const LIST: &str = "/v1/admin/quarantine";
const QUARANTINED: &str = "/v1/admin/quarantine/{id}";

/// A conversation whose stored record is corrupt is quarantined: 409 on every input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_conversation_answers_409() {
    let data = tempdir().join("data");
    let mut api = Api {
        server: Server::start(&data),
        doc: Doc::load(),
    };
    let (status, _) = api
        .post(MESSAGES, "", Sent::Valid(message("c-q", "m-1", "Hi")))
        .await;
    assert_eq!(status, 200);
    let Api { server, doc } = api;
    assert!(server.terminate().success());
    {
        let backend = SledBackend::open(&data).unwrap();
        let mut bytes = backend
            .get(TreeName::Conversations, b"c-q")
            .unwrap()
            .unwrap();
        bytes[6] ^= 0xff;
        backend
            .insert(TreeName::Conversations, b"c-q", &bytes)
            .unwrap();
        backend.flush().unwrap();
    }
    let mut api = Api {
        server: Server::start(&data),
        doc,
    };
    let (status, body) = api
        .post(MESSAGES, "", Sent::Valid(message("c-q", "m-2", "Hi")))
        .await;
    assert_eq!((status, code(&body)), (409, "quarantined"), "{body}");
    let (status, body) = api.post(CLOSE, "c-q", Sent::Nothing).await;
    assert_eq!((status, code(&body)), (409, "quarantined"), "{body}");
    let (status, body) = api.conversation("c-q").await;
    assert_eq!((status, code(&body)), (409, "quarantined"), "{body}");
    let (status, _) = api
        .post(MESSAGES, "", Sent::Valid(message("c-other", "m-1", "Hi")))
        .await;
    assert_eq!(status, 200, "other conversations go on");
    let (status, _) = api
        .send("GET", "/readyz", "/readyz", None, Sent::Nothing)
        .await;
    assert_eq!(
        status, 200,
        "one quarantined conversation does not stop the rest"
    );
    let admin = Some(crate::service::ADMIN_TOKEN);
    let path = "/v1/admin/quarantine/c-q";
    let (status, shown) = api
        .send("GET", QUARANTINED, path, admin, Sent::Nothing)
        .await;
    assert_eq!(status, 200, "{shown}");
    let (status, dropped) = api
        .send("DELETE", QUARANTINED, path, admin, Sent::Nothing)
        .await;
    assert_eq!(status, 200, "{dropped}");
}

#[test]
fn nullable_becomes_a_union_with_null() {
    let schema = json!({
        "a": { "type": "string", "nullable": true },
        "b": { "type": "string", "enum": ["x"], "nullable": true },
        "c": { "nullable": true, "allOf": [{ "$ref": "#/x" }] },
        "d": { "type": "string", "nullable": false },
    });
    assert_eq!(
        to_json_schema(&schema),
        json!({
            "a": { "type": ["string", "null"] },
            "b": { "type": ["string", "null"], "enum": ["x", null] },
            "c": { "anyOf": [{ "allOf": [{ "$ref": "#/x" }] }, { "type": "null" }] },
            "d": { "type": "string" },
        })
    );
}

#[test]
fn the_document_refuses_fields_the_service_does_not_send() {
    let mut doc = Doc::load();
    let answer = json!({ "conversation": "c", "replies": [], "status": "waiting",
        "team": null, "duplicate": false });
    assert_eq!(doc.problems("Answer", &answer), Vec::<String>::new());
    let mut extra = answer.clone();
    extra["seq"] = json!(3);
    assert!(!doc.problems("Answer", &extra).is_empty());
    let mut missing = answer;
    missing.as_object_mut().unwrap().remove("team");
    assert!(!doc.problems("Answer", &missing).is_empty());
    let error = json!({ "error": { "code": "teapot", "message": "no" } });
    assert!(
        !doc.problems("Error", &error).is_empty(),
        "codes are an enum"
    );
}
