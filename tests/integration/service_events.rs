//! Every advisor event applied once (channels and advisors' tools deliver at least once): an
//! advisor message repeated with its `message_id`, and `team`, `return-to-bot` and `close`
//! repeated with an `Idempotency-Key`, return the first answer with `"duplicate": true` and
//! change nothing — neither the history nor the Zendesk ticket (read back from the sandbox);
//! sequentially, concurrently, and across a kill -9 between the two deliveries. Events that
//! change nothing (the team it already has, closing what is closed) leave no trace.

use serde_json::{Value, json};

use crate::service::{Server, message, ticket_text, wait_for};
use crate::support::tempdir;

/// How many history entries have this text (of any author).
fn count(conversation: &Value, text: &str) -> usize {
    conversation["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == text)
        .count()
}

const WELCOME: &str = "Hello Ada! I'm the ACME assistant.";

/// A mode-B conversation with its ticket: "Hi", the email, routed to the sync team.
async fn with_ticket(server: &Server, id: &str) -> Value {
    server.post("/v1/messages", &message(id, "m-1", "Hi")).await;
    let (status, body) = server
        .post("/v1/messages", &message(id, "m-2", "ada@example.com"))
        .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("with_advisor")),
        "{body}"
    );
    wait_for(server, id, |c| !c["zendesk"]["ticket_id"].is_null()).await
}

fn advisor(id: &str, text: &str) -> Value {
    json!({ "message_id": id, "advisor": { "id": "g", "name": "Grace" }, "text": text })
}

/// The conversation once its sync has nothing left to do.
async fn settled(server: &Server, id: &str) -> Value {
    wait_for(server, id, |c| {
        c["pending_effects"] == 0 && (c["status"] != "ended" || c["zendesk"]["solved"] == true)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advisor_event_sent_twice_is_applied_once() {
    let server = Server::start(&tempdir().join("data"));
    let conversation = with_ticket(&server, "c-1").await;
    let ticket = conversation["zendesk"]["ticket_id"].as_u64().unwrap();
    let path = |event: &str| format!("/v1/conversations/c-1/{event}");

    // An advisor message, twice with its message id.
    let (status, first) = server
        .post(&path("advisor-messages"), &advisor("a-1", "Grace here"))
        .await;
    assert_eq!(
        (status, &first["duplicate"]),
        (200, &json!(false)),
        "{first}"
    );
    let (status, again) = server
        .post(&path("advisor-messages"), &advisor("a-1", "Grace here"))
        .await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    assert_eq!(again["status"], first["status"]);

    // The team it already has: nothing changes, no note. Another team with a key, twice.
    let (_, before) = server.get("/v1/conversations/c-1").await;
    let (status, same) = server
        .post(&path("team"), &json!({ "team": "Zendesk" }))
        .await;
    assert_eq!((status, &same["team"]), (200, &json!("Zendesk")));
    let (_, after) = server.get("/v1/conversations/c-1").await;
    assert_eq!(
        before["history"], after["history"],
        "routing to its own team leaves no trace"
    );
    let routed = json!({ "team": "Support" });
    let (status, first) = server.post_keyed(&path("team"), &routed, "team-1").await;
    assert_eq!(
        (status, &first["duplicate"], &first["team"]),
        (200, &json!(false), &json!("Support"))
    );
    let (status, again) = server.post_keyed(&path("team"), &routed, "team-1").await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    // The same key with another request is refused, and changes nothing.
    let (status, reused) = server
        .post_keyed(&path("team"), &json!({ "team": "Orders" }), "team-1")
        .await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["error"]["code"], "idempotency_key_reused");
    let (status, reused) = server
        .post_keyed(&path("close"), &json!({}), "team-1")
        .await;
    assert_eq!(
        (status, &reused["error"]["code"]),
        (422, &json!("idempotency_key_reused"))
    );

    // Return to the bot, twice with a key: the scenario runs once.
    let (status, first) = server
        .post_keyed(&path("return-to-bot"), &json!({}), "back-1")
        .await;
    assert_eq!(
        (status, &first["duplicate"]),
        (200, &json!(false)),
        "{first}"
    );
    assert_eq!(first["replies"][0]["text"], WELCOME);
    let (status, again) = server
        .post_keyed(&path("return-to-bot"), &json!({}), "back-1")
        .await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    assert_eq!(again["replies"], first["replies"], "the first answer again");

    // Close twice with a key, then once more without one: closed once.
    let (status, first) = server
        .post_keyed(&path("close"), &json!({}), "close-1")
        .await;
    assert_eq!(
        (status, &first["status"], &first["duplicate"]),
        (200, &json!("ended"), &json!(false))
    );
    let (status, again) = server
        .post_keyed(&path("close"), &json!({}), "close-1")
        .await;
    assert_eq!((status, &again["duplicate"]), (200, &json!(true)));
    let (_, before) = server.get("/v1/conversations/c-1").await;
    let (status, closed) = server.post(&path("close"), &json!({})).await;
    assert_eq!((status, &closed["status"]), (200, &json!("ended")));
    let (_, after) = server.get("/v1/conversations/c-1").await;
    assert_eq!(
        before["history"], after["history"],
        "closing what is closed leaves no trace"
    );

    let conversation = settled(&server, "c-1").await;
    assert_eq!(conversation["zendesk"]["solved"], true, "{conversation}");
    assert_eq!(count(&conversation, "Grace here"), 1, "{conversation}");
    assert_eq!(count(&conversation, "routed to team Support"), 1);
    assert_eq!(count(&conversation, "returned to the bot"), 1);
    assert_eq!(count(&conversation, "conversation closed"), 1);
    assert_eq!(
        count(&conversation, WELCOME),
        2,
        "the first run and the one return"
    );
    // On the ticket too: each message once (system notes are not synced).
    let text = ticket_text(&server, ticket).await;
    assert_eq!(text.matches("Grace here").count(), 1, "{text}");
    assert_eq!(text.matches(WELCOME).count(), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_event_apply_it_once() {
    let server = Server::start(&tempdir().join("data"));
    with_ticket(&server, "c-1").await;
    let path = |event: &str| format!("/v1/conversations/c-1/{event}");
    let (notes, back, close, empty) = (
        path("advisor-messages"),
        path("return-to-bot"),
        path("close"),
        json!({}),
    );
    for round in 0..5 {
        let note = advisor(&format!("a-{round}"), &format!("note {round}"));
        let (a, b) = tokio::join!(server.post(&notes, &note), server.post(&notes, &note));
        assert_eq!((a.0, b.0), (200, 200));
        let duplicates = [&a.1, &b.1]
            .iter()
            .filter(|b| b["duplicate"] == true)
            .count();
        assert_eq!(duplicates, 1, "one of the two is the repeat: {a:?} {b:?}");
    }
    let key = "back-race";
    let (a, b) = tokio::join!(
        server.post_keyed(&back, &empty, key),
        server.post_keyed(&back, &empty, key),
    );
    assert_eq!((a.0, b.0), (200, 200));
    assert_ne!(a.1["duplicate"], b.1["duplicate"], "{a:?} {b:?}");
    assert_eq!(a.1["replies"], b.1["replies"]);
    let (a, b) = tokio::join!(
        server.post_keyed(&close, &empty, "close-race"),
        server.post_keyed(&close, &empty, "close-race"),
    );
    assert_ne!(a.1["duplicate"], b.1["duplicate"], "{a:?} {b:?}");

    let conversation = settled(&server, "c-1").await;
    for round in 0..5 {
        assert_eq!(
            count(&conversation, &format!("note {round}")),
            1,
            "{conversation}"
        );
    }
    assert_eq!(count(&conversation, "returned to the bot"), 1);
    assert_eq!(count(&conversation, "conversation closed"), 1);
    let ticket = conversation["zendesk"]["ticket_id"].as_u64().unwrap();
    let text = ticket_text(&server, ticket).await;
    for round in 0..5 {
        assert_eq!(text.matches(&format!("note {round}")).count(), 1, "{text}");
    }
}

/// Each event on `c-1` once, always with the same message id or key: an advisor message,
/// team, return to bot, close.
async fn every_event(server: &Server) -> [(u16, Value); 4] {
    let path = |event: &str| format!("/v1/conversations/c-1/{event}");
    let note = advisor("a-1", "Grace here");
    let team = json!({ "team": "Support" });
    [
        server.post(&path("advisor-messages"), &note).await,
        server.post_keyed(&path("team"), &team, "team-1").await,
        server
            .post_keyed(&path("return-to-bot"), &json!({}), "back-1")
            .await,
        server
            .post_keyed(&path("close"), &json!({}), "close-1")
            .await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_after_a_kill_9_is_still_recognised() {
    let data = tempdir().join("data");
    let server = Server::start(&data);
    with_ticket(&server, "c-1").await;
    let answers = every_event(&server).await;
    for (status, answer) in &answers {
        assert_eq!(
            (*status, &answer["duplicate"]),
            (200, &json!(false)),
            "{answer}"
        );
    }
    let (_, before) = server.get("/v1/conversations/c-1").await;
    drop(server); // SIGKILL: no shutdown, no final flush.

    let server = Server::start(&data);
    let again = every_event(&server).await;
    for ((status, answer), (_, first)) in again.iter().zip(&answers) {
        assert_eq!(
            (*status, &answer["duplicate"]),
            (200, &json!(true)),
            "{answer}"
        );
        assert_eq!(answer["replies"], first["replies"]);
    }
    let (_, after) = server.get("/v1/conversations/c-1").await;
    assert_eq!(before["history"], after["history"]);
    assert_eq!(count(&after, "Grace here"), 1);
    assert_eq!(count(&after, "returned to the bot"), 1);
}
