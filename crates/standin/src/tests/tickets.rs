//! Tickets: create, Idempotency-Key, external-id lookup, updates, comments, solve and close.

use serde_json::{Value, json};

use super::{Api, start};

#[tokio::test]
async fn create_with_requester_and_location() {
    let standin = start().await;
    let api = Api::new(&standin);
    let body = json!({"ticket": {
        "subject": "Order late",
        "requester": {"name": "Jane Doe", "email": "jane@example.com"},
        "comment": {"html_body": "<p>Hi, my order is late</p>", "public": true},
        "tags": ["Bot", "chat", "bot"],
        "external_id": "conv-1",
        "metadata": {"conversation": "c1"},
    }});
    let got = api.post("/api/v2/tickets.json", &body).await;
    assert_eq!(got.status, 201, "{}", got.text);
    let ticket = &got.json["ticket"];
    let id = ticket["id"].as_u64().unwrap();
    assert!(id >= 4001);
    assert_eq!(
        got.header("location").unwrap(),
        format!("{}/api/v2/tickets/{id}.json", standin.url())
    );
    assert_eq!(got.header("x-idempotency-lookup"), None);
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["tags"], json!(["bot", "chat"]));
    assert_eq!(ticket["description"], "Hi, my order is late");
    assert_eq!(got.json["audit"]["events"][0]["type"], "Comment");
    assert_eq!(
        got.json["audit"]["metadata"]["custom"],
        json!({"conversation": "c1"})
    );

    // The requester was created, and is reused (not updated) next time.
    let users = standin.users();
    let jane = users
        .iter()
        .find(|u| u.email.as_deref() == Some("jane@example.com"))
        .unwrap();
    assert_eq!(ticket["requester_id"].as_u64(), Some(jane.id));
    let again = json!({"ticket": {"requester": {"name": "Renamed", "email": "JANE@example.com"}, "comment": {"body": "again"}}});
    let got = api.post("/api/v2/tickets", &again).await;
    assert_eq!(got.json["ticket"]["requester_id"].as_u64(), Some(jane.id));
    assert_eq!(standin.users().len(), 2);
    assert!(standin.users().iter().all(|u| u.name != "Renamed"));

    let records = standin.tickets();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].comments[0].html_body,
        "<div class=\"zd-comment\" dir=\"auto\"><p>Hi, my order is late</p></div>"
    );
    assert_eq!(
        records[0].comments[0].metadata,
        json!({"conversation": "c1"})
    );
    assert_eq!(
        records[0].comments[0].author_id,
        standin.users()[0].id,
        "the submitter (agent) by default"
    );

    let got = api
        .post(
            "/api/v2/tickets",
            &json!({"ticket": {"subject": "no comment"}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert_eq!(got.json["error"], "RecordInvalid");
    let got = api
        .post(
            "/api/v2/tickets",
            &json!({"ticket": {"requester_id": 1, "comment": {"body": "x"}}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert_eq!(standin.tickets().len(), 2);
    let got = api.get(&format!("/api/v2/tickets/{id}")).await;
    assert_eq!(got.json["ticket"]["external_id"], "conv-1");
}

fn with_key(api: &Api, key: &str, body: &'static str) -> reqwest::RequestBuilder {
    api.request(reqwest::Method::POST, "/api/v2/tickets.json")
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body)
}

#[tokio::test]
async fn idempotency_key_hit_miss_mismatch_and_expiry() {
    let standin = start().await;
    let api = Api::new(&standin);
    let body = r#"{"ticket":{"subject":"Chat","comment":{"body":"hello"},"external_id":"conv-9"}}"#;
    let first = api.send(with_key(&api, "key-1", body)).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.header("x-idempotency-lookup"), Some("miss"));

    standin.advance_clock(3600);
    let again = api.send(with_key(&api, "key-1", body)).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("x-idempotency-lookup"), Some("hit"));
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(standin.tickets().len(), 1);

    let other = r#"{"ticket":{"subject":"Chat","comment":{"body":"hello!"}}}"#;
    let got = api.send(with_key(&api, "key-1", other)).await;
    assert_eq!(got.status, 400);
    assert_eq!(
        got.json,
        json!({"error": "IdempotentRequestError",
        "description": "Request parameters don't match the given idempotency key"})
    );
    // Byte-identical means byte-identical: the same JSON with other spacing is another body.
    let spaced =
        r#"{"ticket": {"subject":"Chat","comment":{"body":"hello"},"external_id":"conv-9"}}"#;
    assert_eq!(api.send(with_key(&api, "key-1", spaced)).await.status, 400);
    assert_eq!(standin.tickets().len(), 1);

    // Another key is another ticket; a key is forgotten 2 h after its first use.
    assert_eq!(
        api.send(with_key(&api, "key-2", body))
            .await
            .header("x-idempotency-lookup"),
        Some("miss")
    );
    standin.advance_clock(3601);
    let late = api.send(with_key(&api, "key-1", body)).await;
    assert_eq!(late.status, 201);
    assert_eq!(late.header("x-idempotency-lookup"), Some("miss"));
    assert_ne!(late.json["ticket"]["id"], first.json["ticket"]["id"]);
    assert_eq!(standin.tickets().len(), 3);

    // Several tickets may share an external id; the lookup is exact.
    let got = api.get("/api/v2/tickets.json?external_id=conv-9").await;
    assert_eq!(got.json["count"], 3);
    assert_eq!(got.json["next_page"], Value::Null);
    assert_eq!(
        api.get("/api/v2/tickets.json?external_id=conv").await.json["count"],
        0
    );
    assert_eq!(
        api.get("/api/v2/tickets?external_id=CONV-9").await.json["tickets"],
        json!([])
    );
}

#[tokio::test]
async fn updates_add_comments_with_metadata_and_paginate() {
    let standin = start().await;
    let api = Api::new(&standin);
    let id = api.ticket("first", Some("conv-2")).await;
    let customer = api
        .post(
            "/api/v2/users",
            &json!({"user": {"name": "Jane", "email": "j@example.com"}}),
        )
        .await;
    let customer = customer.json["user"]["id"].as_u64().unwrap();
    for n in 1..=4 {
        let body = json!({"ticket": {
            "comment": {"body": format!("message {n}\nsecond line"), "author_id": customer, "public": n % 2 == 0},
            "additional_tags": [format!("t{n}")],
            "metadata": {"seq": n},
        }});
        let got = api.put(&format!("/api/v2/tickets/{id}.json"), &body).await;
        assert_eq!(got.status, 200, "{}", got.text);
        assert_eq!(got.json["audit"]["events"][0]["type"], "Comment");
        assert_eq!(got.json["audit"]["metadata"]["custom"], json!({"seq": n}));
    }
    let record = standin.tickets().remove(0);
    assert_eq!(record.comments.len(), 5);
    assert_eq!(record.tags, ["t1", "t2", "t3", "t4"]);
    assert_eq!(record.comments[3].metadata, json!({"seq": 3}));
    assert_eq!(record.comments[3].author_id, customer);
    assert!(!record.comments[3].public);
    assert_eq!(record.comments[3].body, "message 3\nsecond line");

    let got = api
        .get(&format!("/api/v2/tickets/{id}/comments.json?page[size]=2"))
        .await;
    assert_eq!(got.status, 200);
    let first_page = &got.json;
    assert_eq!(first_page["comments"].as_array().unwrap().len(), 2);
    assert_eq!(first_page["meta"]["has_more"], true);
    let c = &first_page["comments"][1];
    assert_eq!(
        c["html_body"],
        "<div class=\"zd-comment\" dir=\"auto\"><p dir=\"auto\">message 1<br>second line</p></div>"
    );
    assert_eq!(c["plain_body"], "message 1\nsecond line");
    assert_eq!(c["metadata"]["custom"], json!({"seq": 1}));
    assert!(c["metadata"]["system"].is_object());
    assert_eq!(c["via"]["channel"], "api");
    let mut bodies = Vec::new();
    let mut next = first_page["links"]["next"].as_str().map(str::to_owned);
    bodies.extend(
        first_page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["plain_body"].clone()),
    );
    while let Some(url) = next {
        let path = url.strip_prefix(&standin.url()).unwrap().to_owned();
        let got = api.get(&path).await;
        bodies.extend(
            got.json["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["plain_body"].clone()),
        );
        next = if got.json["meta"]["has_more"] == true {
            got.json["links"]["next"].as_str().map(str::to_owned)
        } else {
            None
        };
    }
    assert_eq!(bodies.len(), 5);
    assert_eq!(bodies[0], "first");
    assert_eq!(bodies[4], "message 4\nsecond line");
    let all = api.get(&format!("/api/v2/tickets/{id}/comments")).await;
    assert_eq!(all.json["comments"].as_array().unwrap().len(), 5);
    assert_eq!(all.json["meta"]["has_more"], false);
    assert_eq!(
        api.get(&format!("/api/v2/tickets/{id}/comments?page[size]=101"))
            .await
            .status,
        400
    );
    assert_eq!(api.get("/api/v2/tickets/999999/comments").await.status, 404);
}

#[tokio::test]
async fn solving_needs_an_assignee_and_closed_is_terminal() {
    let standin = start().await;
    let api = Api::new(&standin);
    let agent = standin.users()[0].id;
    let id = api.ticket("help", None).await;
    let path = format!("/api/v2/tickets/{id}.json");
    let got = api
        .put(
            &path,
            &json!({"ticket": {"status": "solved", "comment": {"body": "bye", "public": false}}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert_eq!(
        got.json,
        json!({"error": "RecordInvalid", "description": "Record validation errors",
        "details": {"base": [{"description": "Assignee: is required when solving a ticket", "error": null,
            "ticket_field_id": 1, "ticket_field_type": "FieldAssignee"}]}})
    );
    assert_eq!(
        standin.tickets()[0].comments.len(),
        1,
        "a refused update adds nothing"
    );

    let got = api
        .put(
            &path,
            &json!({"ticket": {"status": "solved", "assignee_id": agent}}),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json["ticket"]["status"], "solved");
    assert_eq!(got.json["ticket"]["assignee_id"].as_u64(), Some(agent));
    let change = got.json["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field_name"] == "status")
        .unwrap();
    assert_eq!(change["previous_value"], "new");

    // A second ticket, assigned first, then solved without naming the assignee again.
    let other = api.ticket("again", None).await;
    let other_path = format!("/api/v2/tickets/{other}");
    assert_eq!(
        api.put(&other_path, &json!({"ticket": {"assignee_id": agent}}))
            .await
            .json["ticket"]["status"],
        "open"
    );
    assert_eq!(
        api.put(&other_path, &json!({"ticket": {"status": "solved"}}))
            .await
            .status,
        200
    );

    assert_eq!(
        api.put(&path, &json!({"ticket": {"status": "closed"}}))
            .await
            .status,
        200
    );
    for body in [
        json!({"ticket": {"comment": {"body": "more"}}}),
        json!({"ticket": {"status": "open"}}),
    ] {
        let got = api.put(&path, &body).await;
        assert_eq!(got.status, 422);
        assert_eq!(
            got.json["details"]["status"][0]["description"],
            "Status: closed prevents ticket update"
        );
    }
    assert_eq!(
        api.put(&path, &json!({"ticket": {"status": "bogus"}}))
            .await
            .status,
        422
    );

    let got = api
        .put(
            "/api/v2/tickets/9223372036854775807.json",
            &json!({"ticket": {"subject": "x"}}),
        )
        .await;
    assert_eq!(got.status, 404);
    let sample: Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/zendesk-samples/tickets_update_404_record_not_found.json"
    ))
    .unwrap();
    assert_eq!(got.json, sample);
}
