//! Ticket fields (list, show, create) and a ticket's priority, group and custom field values
//! on create and update: kept, rendered, audited, refused when invalid, and kept across a
//! restart (with an older state file that has none of them still loading).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Api;
use crate::{StandIn, StandInConfig, TicketFieldRecord};

const ORDER: u64 = 360_012_345;
const GIFT: u64 = 360_012_346;

fn fields() -> Vec<TicketFieldRecord> {
    vec![
        TicketFieldRecord {
            id: ORDER,
            kind: "text".into(),
            title: "Order number".into(),
            active: true,
        },
        TicketFieldRecord {
            id: GIFT,
            kind: "checkbox".into(),
            title: "Gift".into(),
            active: true,
        },
    ]
}

async fn start_with_fields() -> StandIn {
    let config = StandInConfig {
        ticket_fields: fields(),
        ..StandInConfig::default()
    };
    StandIn::start(0, config).await.unwrap()
}

/// The audit events of a write, as `(type, field_name, value, previous_value)`.
fn events(got: &Value) -> Vec<(String, String, Value, Value)> {
    got["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] != "Comment")
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["field_name"].as_str().unwrap().to_owned(),
                e["value"].clone(),
                e.get("previous_value").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn has_event(got: &Value, kind: &str, field: &str, value: &Value) -> bool {
    events(got)
        .iter()
        .any(|(k, f, v, _)| k == kind && f == field && v == value)
}

#[tokio::test]
async fn priority_group_and_custom_fields_are_kept_rendered_and_audited() {
    let standin = start_with_fields().await;
    let api = Api::new(&standin);
    let body = json!({"ticket": {
        "subject": "Order late",
        "comment": {"body": "Where is my order?"},
        "tags": ["scenarist", "order"],
        "priority": "high",
        "group_id": 360_001,
        "custom_fields": [{"id": ORDER, "value": 745}, {"id": 999, "value": "dropped"}],
    }});
    let got = api.post("/api/v2/tickets.json", &body).await;
    assert_eq!(got.status, 201, "{}", got.text);
    let ticket = &got.json["ticket"];
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["group_id"], 360_001);
    // A number for a text field is shown as text; the unknown id 999 is ignored, as Zendesk
    // ignores what is not in its data model.
    let expected = json!([{"id": ORDER, "value": "745"}]);
    assert_eq!(ticket["custom_fields"], expected);
    assert_eq!(ticket["fields"], expected);
    assert!(has_event(&got.json, "Create", "priority", &json!("high")));
    assert!(has_event(&got.json, "Create", "group_id", &json!("360001")));
    assert!(has_event(
        &got.json,
        "Create",
        &ORDER.to_string(),
        &json!("745")
    ));
    assert!(!events(&got.json).iter().any(|(_, f, _, _)| f == "999"));
    let id = ticket["id"].as_u64().unwrap();

    let record = &standin.tickets()[0];
    assert_eq!(record.priority.as_deref(), Some("high"));
    assert_eq!(record.group_id, Some(360_001));
    assert_eq!(
        record.custom_fields,
        BTreeMap::from([(ORDER, json!("745"))])
    );

    // An update merges custom fields by id and audits what changed.
    let body = json!({"ticket": {"priority": "urgent", "group_id": "360002",
        "custom_fields": [{"id": GIFT, "value": true}, {"id": 1, "value": "x"}]}});
    let got = api.put(&format!("/api/v2/tickets/{id}.json"), &body).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        got.json["ticket"]["custom_fields"],
        json!([{"id": ORDER, "value": "745"}, {"id": GIFT, "value": true}])
    );
    let changes = events(&got.json);
    assert!(
        changes.contains(&(
            "Change".into(),
            "priority".into(),
            json!("urgent"),
            json!("high")
        )),
        "{changes:?}"
    );
    assert!(changes.contains(&(
        "Change".into(),
        "group_id".into(),
        json!("360002"),
        json!("360001")
    )));
    assert!(changes.contains(&("Change".into(), GIFT.to_string(), json!(true), Value::Null)));
    assert_eq!(changes.len(), 3, "nothing else changed: {changes:?}");

    // `null` clears; an update that does not mention them leaves them alone.
    let body =
        json!({"ticket": {"priority": null, "custom_fields": [{"id": ORDER, "value": null}]}});
    let got = api.put(&format!("/api/v2/tickets/{id}.json"), &body).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let got = api
        .put(
            &format!("/api/v2/tickets/{id}.json"),
            &json!({"ticket": {"subject": "Order very late"}}),
        )
        .await;
    assert_eq!(got.json["ticket"]["priority"], Value::Null);
    assert_eq!(got.json["ticket"]["group_id"], 360_002);
    assert_eq!(
        got.json["ticket"]["custom_fields"],
        json!([{"id": GIFT, "value": true}])
    );
    let shown = api.get(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(shown.json["ticket"], got.json["ticket"]);
}

#[tokio::test]
async fn an_invalid_priority_or_custom_field_list_is_a_422() {
    let standin = start_with_fields().await;
    let api = Api::new(&standin);
    let create = |extra: Value| {
        let mut ticket = json!({"comment": {"body": "Hi"}});
        ticket
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "ticket": ticket })
    };
    for (extra, field) in [
        (
            json!({"priority": "critical", "requester": {"name": "New", "email": "new@example.com"}}),
            "priority",
        ),
        (json!({"priority": 3}), "priority"),
        (json!({"group_id": "sales"}), "group_id"),
        (json!({"custom_fields": {"id": ORDER}}), "custom_fields"),
        (json!({"custom_fields": [{"value": "x"}]}), "custom_fields"),
    ] {
        let got = api
            .post("/api/v2/tickets.json", &create(extra.clone()))
            .await;
        assert_eq!(got.status, 422, "{extra}: {}", got.text);
        assert_eq!(got.json["error"], "RecordInvalid");
        assert_eq!(
            got.json["details"][field][0]["error"], "InvalidValue",
            "{extra}: {}",
            got.text
        );
    }
    assert!(standin.tickets().is_empty(), "nothing was created");
    assert_eq!(standin.users().len(), 1, "not even the requester");
    assert_eq!(
        api.post("/api/v2/tickets.json", &create(json!({"priority": "High"})))
            .await
            .status,
        422,
        "priorities are lower-case"
    );

    let id = api.ticket("Hi", None).await;
    let got = api
        .put(
            &format!("/api/v2/tickets/{id}.json"),
            &json!({"ticket": {"priority": "p1", "comment": {"body": "More"}}}),
        )
        .await;
    assert_eq!(got.status, 422, "{}", got.text);
    assert_eq!(
        got.json["details"]["priority"][0]["description"],
        "Priority: is invalid"
    );
    let ticket = &standin.tickets()[0];
    assert_eq!(ticket.priority, None);
    assert_eq!(ticket.comments.len(), 1, "the refused update added nothing");
}

#[tokio::test]
async fn ticket_fields_are_listed_shown_and_created() {
    let standin = start_with_fields().await;
    let api = Api::new(&standin);
    let got = api.get("/api/v2/ticket_fields.json").await;
    assert_eq!(got.status, 200, "{}", got.text);
    let ids: Vec<u64> = got.json["ticket_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [ORDER, GIFT]);
    assert_eq!(got.json["count"], 2);

    let got = api
        .get(&format!("/api/v2/ticket_fields/{ORDER}.json"))
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    let field = &got.json["ticket_field"];
    assert_eq!(field["id"], ORDER);
    assert_eq!(field["type"], "text");
    assert_eq!(field["title"], "Order number");
    assert_eq!(field["active"], true);
    assert_eq!(
        field["url"],
        format!("{}/api/v2/ticket_fields/{ORDER}.json", standin.url())
    );

    let got = api.get("/api/v2/ticket_fields/42.json").await;
    assert_eq!(got.status, 404);
    assert_eq!(
        got.json,
        json!({"error": "RecordNotFound", "description": "Not found"})
    );

    let got = api
        .post(
            "/api/v2/ticket_fields.json",
            &json!({"ticket_field": {"type": "tagger", "title": "Topic",
                "custom_field_options": [{"name": "Returns", "value": "returns"}]}}),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    let id = got.json["ticket_field"]["id"].as_u64().unwrap();
    assert!(![ORDER, GIFT].contains(&id));
    assert_eq!(
        got.header("location"),
        Some(format!("{}/api/v2/ticket_fields/{id}.json", standin.url()).as_str())
    );
    assert_eq!(
        got.json["ticket_field"]["custom_field_options"][0]["value"],
        "returns"
    );
    assert_eq!(standin.ticket_fields().len(), 3);
    // The new field takes values at once.
    let got = api
        .post(
            "/api/v2/tickets.json",
            &json!({"ticket": {"comment": {"body": "Hi"}, "custom_fields": [{"id": id, "value": "returns"}]}}),
        )
        .await;
    assert_eq!(
        got.json["ticket"]["custom_fields"],
        json!([{"id": id, "value": "returns"}])
    );

    for (body, field, error) in [
        (
            json!({"ticket_field": {"type": "text"}}),
            "title",
            "BlankError",
        ),
        (
            json!({"ticket_field": {"type": "colour", "title": "Colour"}}),
            "type",
            "InvalidValue",
        ),
    ] {
        let got = api.post("/api/v2/ticket_fields.json", &body).await;
        assert_eq!(got.status, 422, "{body}: {}", got.text);
        assert_eq!(
            got.json["details"][field][0]["error"], error,
            "{}",
            got.text
        );
    }
    assert_eq!(
        standin.ticket_fields().len(),
        3,
        "refused fields are not created"
    );
}

#[tokio::test]
async fn ticket_fields_and_ticket_values_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!(
        "scenarist-standin-ticket-fields-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("state.json");
    let config = |fields: Vec<TicketFieldRecord>| StandInConfig {
        state_file: Some(file.clone()),
        ticket_fields: fields,
        ..StandInConfig::default()
    };
    let first = StandIn::start(0, config(fields())).await.unwrap();
    let api = Api::new(&first);
    let got = api
        .post(
            "/api/v2/ticket_fields.json",
            &json!({"ticket_field": {"title": "Reason"}}),
        )
        .await;
    let created = got.json["ticket_field"]["id"].as_u64().unwrap();
    let got = api
        .post(
            "/api/v2/tickets.json",
            &json!({"ticket": {"comment": {"body": "Hi"}, "priority": "low", "group_id": 7,
                "custom_fields": [{"id": ORDER, "value": "A-1"}, {"id": created, "value": "late"}]}}),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    let before = first.tickets();
    first.stop().await;

    // Restarted without configured fields: the file has them all.
    let second = StandIn::start(0, config(Vec::new())).await.unwrap();
    assert_eq!(second.tickets(), before);
    let ids: Vec<u64> = second.ticket_fields().iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&ORDER) && ids.contains(&GIFT) && ids.contains(&created));
    second.stop().await;

    // A file written before ticket fields existed: no `ticket_fields`, tickets without
    // priority, group or custom fields. It loads, and the configured fields are added.
    let mut old: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("ticket_fields");
    for ticket in old["tickets"].as_array_mut().unwrap() {
        for key in ["priority", "group_id", "custom_fields"] {
            ticket.as_object_mut().unwrap().remove(key);
        }
    }
    std::fs::write(&file, old.to_string()).unwrap();
    let third = StandIn::start(0, config(fields())).await.unwrap();
    let ticket = &third.tickets()[0];
    assert_eq!(ticket.priority, None);
    assert!(ticket.custom_fields.is_empty());
    assert_eq!(third.ticket_fields(), fields());
    third.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
