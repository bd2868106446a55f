//! Contacts' rights over real HTTP (`GET /v1/contacts/{id}/export`, `DELETE
//! /v1/contacts/{id}`) on the example config, whose `acme` organization is the Zendesk
//! sandbox: the export holds everything, the erasure removes it (the sled store holds no
//! trace afterwards) and names what only Zendesk can remove, and a message racing an erasure
//! lands wholly before or wholly after it.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::service::{Server, message, wait_for};
use crate::support::tempdir;
use scenarist::store::{Backend as _, SledBackend, TreeName};

const ACCOUNT: &str = "?account=facebook:acme";

async fn export(server: &Server, contact: &str) -> (u16, Value) {
    server
        .get(&format!("/v1/contacts/{contact}/export{ACCOUNT}"))
        .await
}

async fn erase(server: &Server, contact: &str) -> (u16, Value) {
    server
        .request(
            Method::DELETE,
            &format!("/v1/contacts/{contact}{ACCOUNT}"),
            None,
        )
        .await
}

/// Erases, waiting while the outbox still works for the contact (a 409 `outbox_pending`).
async fn erase_when_the_outbox_is_done(server: &Server, contact: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = erase(server, contact).await;
        if status == 200 {
            return body;
        }
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "outbox_pending", "{body}");
        assert!(
            Instant::now() < deadline,
            "the outbox never finished: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_is_exported_then_erased_and_zendesk_ids_are_named() {
    let data = tempdir().join("data");
    let server = Server::start(&data);
    for (id, text) in [("m-1", "Hi"), ("m-2", "ada@example.com")] {
        let (status, body) = server.post("/v1/messages", &message("c-1", id, text)).await;
        assert_eq!(status, 200, "{body}");
    }
    let conversation = wait_for(&server, "c-1", |c| !c["zendesk"]["ticket_id"].is_null()).await;
    let ticket = conversation["zendesk"]["ticket_id"].as_u64().unwrap();
    let user = conversation["zendesk"]["user_id"].as_u64().unwrap();

    let (status, document) = export(&server, "u-c-1").await;
    assert_eq!(status, 200, "{document}");
    assert_eq!(document["id"], "u-c-1");
    assert_eq!(document["contact"]["name"], "Ada Lovelace", "{document}");
    assert!(
        document["contact"]["fields"]["email"]
            .to_string()
            .contains("ada@example.com"),
        "{document}"
    );
    let conversations = document["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "{document}");
    assert_eq!(conversations[0]["record"]["id"], "c-1");
    assert_eq!(conversations[0]["record"]["sync"]["ticket_id"], ticket);
    // Every turn, 1 to the record's last one, with every text the conversation shows.
    let turns = conversations[0]["history"].as_array().unwrap();
    let last = conversations[0]["record"]["last_seq"].as_u64().unwrap();
    let seqs: Vec<u64> = turns.iter().map(|t| t["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "{document}");
    let shown = server.get("/v1/conversations/c-1").await.1;
    for said in shown["history"].as_array().unwrap() {
        let text = said["text"].as_str().unwrap();
        assert!(
            turns
                .iter()
                .flat_map(|t| t["messages"].as_array().unwrap())
                .any(|m| m["text"] == text),
            "{text:?} is not in the export"
        );
    }

    let erased = erase_when_the_outbox_is_done(&server, "u-c-1").await;
    assert_eq!(erased["removed"]["contact"], true, "{erased}");
    assert!(erased["removed"]["fields"].as_u64() >= Some(1), "{erased}");
    assert_eq!(
        erased["removed"]["conversations"],
        json!(["c-1"]),
        "{erased}"
    );
    assert!(
        erased["removed"]["turns"].as_u64().unwrap() >= last,
        "{erased}"
    );
    let zendesk = &erased["not_removed"]["zendesk"];
    assert_eq!(zendesk[0]["organization"], "acme", "{erased}");
    assert_eq!(zendesk[0]["user_ids"], json!([user]), "{erased}");
    assert_eq!(zendesk[0]["ticket_ids"], json!([ticket]), "{erased}");

    let (status, gone) = export(&server, "u-c-1").await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(server.get("/v1/conversations/c-1").await.0, 404);
    // Idempotent: the second time, nothing is left to remove.
    let (status, again) = erase(&server, "u-c-1").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["removed"]["contact"], false, "{again}");
    assert_eq!(again["removed"]["conversations"], json!([]), "{again}");
    assert_eq!(again["removed"]["turns"], 0, "{again}");

    assert!(server.terminate().success());
    // No keyspace of the store holds what the contact wrote.
    let backend = SledBackend::open(&data).unwrap();
    for tree in TreeName::ALL {
        for (_, value) in backend.scan_prefix(tree, &[]).unwrap() {
            assert!(
                !value
                    .windows("ada@example.com".len())
                    .any(|w| w == b"ada@example.com"),
                "{} still holds the contact's email",
                tree.as_str()
            );
        }
    }
    assert!(
        backend
            .scan_prefix(TreeName::History, &[])
            .unwrap()
            .is_empty(),
        "no history turn is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_racing_an_erasure_lands_wholly_before_or_after_it() {
    let server = Server::start(&tempdir().join("data"));
    let (mut before, mut after) = (0, 0);
    for round in 0..24 {
        let conversation = format!("c-race-{round}");
        let contact = format!("u-{conversation}");
        let first = format!("first words {round}");
        let (status, body) = server
            .post("/v1/messages", &message(&conversation, "m-1", &first))
            .await;
        assert_eq!(status, 200, "{body}");
        let racing = message(&conversation, "m-2", "not an email yet");
        let (sent, erased) = tokio::join!(
            server.post("/v1/messages", &racing),
            erase(&server, &contact)
        );
        assert_eq!(sent.0, 200, "{}", sent.1);
        assert_eq!(erased.0, 200, "{}", erased.1);
        let (status, document) = export(&server, &contact).await;
        let text = document.to_string();
        assert!(
            !text.contains(&first),
            "round {round}: erased words came back: {text}"
        );
        match erased.1["removed"]["turns"].as_u64() {
            // The message went first: the erasure took both turns, nothing is left.
            Some(2) => {
                assert_eq!(status, 404, "round {round}: {document}");
                before += 1;
            }
            // The erasure went first: the message started a new conversation of one turn.
            Some(1) => {
                assert_eq!(status, 200, "round {round}: {document}");
                let history = &document["conversations"][0]["history"];
                assert_eq!(history.as_array().map(Vec::len), Some(1), "{document}");
                assert_eq!(history[0]["message_id"], "m-2", "{document}");
                after += 1;
            }
            other => panic!("round {round}: erased {other:?} turns: {}", erased.1),
        }
    }
    assert_eq!(before + after, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_or_unknown_contacts_get_4xx_or_nothing_removed() {
    let server = Server::start(&tempdir().join("data"));
    let long = "x".repeat(300);
    for contact in [long.as_str(), "a%0Ab", "a%1Bb", "%7F"] {
        let (status, body) = export(&server, contact).await;
        assert_eq!(status, 400, "{contact}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
        let (status, body) = erase(&server, contact).await;
        assert_eq!(status, 400, "{contact}: {body}");
    }
    for query in ["", "?account=", "?account=a%0Ab", "?account=x&other=1"] {
        let (status, body) = server
            .request(Method::DELETE, &format!("/v1/contacts/u-1{query}"), None)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    let (status, body) = server
        .get("/v1/contacts/u-1/export?account=twitter:nobody")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unknown_account"))
    );

    let (status, body) = export(&server, "u-never").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_contact"))
    );
    let (status, body) = erase(&server, "u-never").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["contact"], false, "{body}");
    assert_eq!(body["removed"]["conversations"], json!([]), "{body}");
    assert_eq!(body["not_removed"]["zendesk"], json!([]), "{body}");

    // The channels' token, like every /v1 route.
    let response = server
        .client
        .delete(format!("{}/v1/contacts/u-1{ACCOUNT}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}
