//! The seed guide's Verification over HTTP against two `serve` nodes on one PostgreSQL
//! database (the test server: this test fails, never skips, without it) and one Zendesk
//! stand-in, every request going to the other node than the one before: the email question,
//! the handoff with one ticket holding the history, a resent message answered from its first
//! answer, an advisor's message, return-to-bot, and the close solving the ticket. Beside it,
//! what stays per node: `/readyz` with its database check, `/metrics` counting the messages
//! that node handled, and a reload (SIGHUP) applied by the node it was sent to alone — while
//! each conversation keeps the scenario version it started on, whichever node runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::postgres_claims::{http_client, standin, tickets_and_creations};
use crate::postgres_store::{Server, TOKEN, fresh_database, postgres_workspace};

const CONVERSATION: &str = "verify-1";
/// The example scenario's lines the reload changes: its welcome and its answer to a wrong email.
const EDITS: [(&str, &str); 2] = [
    (
        "I'm the ACME assistant.",
        "I'm the reloaded ACME assistant.",
    ),
    (
        "does not look like an email address. Could you check it?",
        "is no email address (reloaded).",
    ),
];

/// The example workspace on PostgreSQL, its mode-B organization `acme` (the built-in sandbox
/// there) pointed at the stand-in at `zendesk` instead, so that both nodes share it.
fn workspace(zendesk: &str) -> PathBuf {
    let config = postgres_workspace();
    let folder = config.parent().unwrap();
    std::fs::write(folder.join("zendesk.token"), "standin-token\n").unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    let sandbox = "      url: http://127.0.0.1:8788\n      auth:\n        type: sandbox\n";
    assert!(
        text.contains(sandbox),
        "the example's acme organization moved"
    );
    let standin = format!(
        "      url: {zendesk}\n      auth: {{ type: api_token, email: agent@acme.example, \
         token_file: zendesk.token }}\n"
    );
    std::fs::write(&config, text.replacen(sandbox, &standin, 1)).unwrap();
    config
}

/// A message of the contact `u-<conversation>` on `facebook:acme`, its email not known yet.
fn message(conversation: &str, id: &str, text: &str) -> Value {
    json!({
        "account": "facebook:acme",
        "conversation": conversation,
        "message_id": id,
        "contact": {
            "id": format!("u-{conversation}"),
            "name": "Ada Lovelace",
            "fields": { "email": null },
        },
        "text": text,
    })
}

/// The text of the first reply to `body` on a node.
async fn first_reply(client: &reqwest::Client, base: &str, body: &Value) -> String {
    let (status, answer) = post(client, base, "/v1/messages", body).await;
    assert_eq!(status, 200, "{answer}");
    answer["replies"][0]["text"].as_str().unwrap().to_owned()
}

/// `method path` on a node, with the API token and `body` (if any): the status and the JSON.
async fn call(
    client: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> (u16, Value) {
    call(client, base, reqwest::Method::POST, path, Some(body)).await
}

/// The conversation as a node answers it.
async fn conversation(client: &reqwest::Client, base: &str) -> Value {
    let path = format!("/v1/conversations/{CONVERSATION}");
    let (status, body) = call(client, base, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the conversation, asking the nodes in turn, until `done` holds (the Zendesk sync runs
/// in the background, on either node).
async fn wait_for(client: &reqwest::Client, nodes: &[String; 2], done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for node in (0..2).cycle() {
        let now = conversation(client, &nodes[node]).await;
        if done(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "never reached: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A GET on the stand-in's API as its agent.
async fn zendesk_get(client: &reqwest::Client, zendesk: &str, path: &str) -> Value {
    let response = client
        .get(format!("{zendesk}{path}"))
        .basic_auth("agent@acme.example/token", Some("standin-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

/// `needle` appears exactly `count` times in `haystack` (the ticket's comments).
fn assert_occurs(haystack: &str, needle: &str, count: usize) {
    assert_eq!(
        haystack.matches(needle).count(),
        count,
        "{needle:?} in the ticket's comments:\n{haystack}"
    );
}

/// `/readyz` of a node: 200, naming the database it checked.
async fn assert_ready(client: &reqwest::Client, base: &str) {
    let response = client.get(format!("{base}/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(
        (status, &body),
        (200, &json!({ "status": "ready", "database": "answers" })),
        "{base}"
    );
}

/// The value of the series `series` (name and labels) in a node's `/metrics`; 0 when absent.
async fn metric(client: &reqwest::Client, base: &str, series: &str) -> i64 {
    let text = crate::postgres_store::metrics_text(client, base).await;
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// A node's count of contact messages answered with `outcome`.
async fn answered(client: &reqwest::Client, base: &str, outcome: &str) -> i64 {
    let series = format!("scenarist_messages_total{{outcome=\"{outcome}\"}}");
    metric(client, base, &series).await
}

/// Polls a node's `scenarist_outbox_depth` until the whole outbox's depth, 0, shows (it is
/// counted every 10 s); never below zero meanwhile.
async fn outbox_empties(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let depth = metric(client, base, "scenarist_outbox_depth").await;
        assert!(depth >= 0, "{base}: an outbox depth of {depth}");
        if depth == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base}: the outbox depth stays {depth}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Changes the example scenario both nodes started with ([`EDITS`]).
fn edit_scenario(config: &Path) {
    let file = config.with_file_name("zendesk_handoff.scn");
    let mut text = std::fs::read_to_string(&file).unwrap();
    for (from, to) in EDITS {
        assert!(
            text.contains(from),
            "the example scenario changed: {from:?}"
        );
        text = text.replacen(from, to, 1);
    }
    std::fs::write(file, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_run_the_verification_flow_to_one_ticket_and_count_and_reload_each_alone() {
    let standin = standin(0).await;
    let zendesk = standin.url();
    let url = fresh_database();
    let config = workspace(&zendesk);
    let first = Server::start(&config, &url, &crate::support::tempdir().join("node-a"));
    let second = Server::start(&config, &url, &crate::support::tempdir().join("node-b"));
    let nodes = [first.base.clone(), second.base.clone()];
    let [a, b] = &nodes;
    let client = http_client();
    for node in &nodes {
        assert_ready(&client, node).await;
    }
    let path = |route: &str| format!("/v1/conversations/{CONVERSATION}/{route}");

    // The guide's Verification: a test message, the team assignment, the ticket.
    let (status, hello) = post(
        &client,
        a,
        "/v1/messages",
        &message(CONVERSATION, "m-1", "Hi from node A"),
    )
    .await;
    assert_eq!(status, 200, "{hello}");
    assert_eq!(hello["replies"][2]["text"], "What is your email address?");
    assert_eq!(hello["status"], "waiting");
    let email = message(CONVERSATION, "m-2", "ada@example.com");
    let (status, handed) = post(&client, b, "/v1/messages", &email).await;
    assert_eq!(status, 200, "{handed}");
    assert_eq!(
        (&handed["team"], &handed["status"], &handed["duplicate"]),
        (&json!("Zendesk"), &json!("with_advisor"), &json!(false)),
        "{handed}"
    );
    // Resent to the node that did not take it: its first answer, nothing applied again.
    let (status, again) = post(&client, a, "/v1/messages", &email).await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    assert_eq!(
        again["replies"], handed["replies"],
        "the first answer again"
    );
    wait_for(&client, &nodes, |c| !c["zendesk"]["ticket_id"].is_null()).await;

    // The contact writes again, an advisor answers, hands back (to an entry step only) and
    // closes.
    let later = message(CONVERSATION, "m-3", "Order AB100001 is late");
    let (status, waiting) = post(&client, b, "/v1/messages", &later).await;
    assert_eq!(status, 200, "{waiting}");
    let advisor = json!({
        "message_id": "a-1",
        "advisor": { "id": "g", "name": "Grace" },
        "text": "Grace here, looking into it",
    });
    let (status, body) = post(&client, a, &path("advisor-messages"), &advisor).await;
    assert_eq!(status, 200, "{body}");
    let (status, refused) = post(
        &client,
        b,
        &path("return-to-bot"),
        &json!({"step": "route"}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "not_an_entry_point", "{refused}");
    let back = json!({ "step": "ask_email" });
    let (status, back) = post(&client, a, &path("return-to-bot"), &back).await;
    assert_eq!(
        (status, &back["status"]),
        (200, &json!("waiting")),
        "{back}"
    );
    let (status, closed) = post(&client, b, &path("close"), &json!({})).await;
    assert_eq!(
        (status, &closed["status"]),
        (200, &json!("ended")),
        "{closed}"
    );
    wait_for(&client, &nodes, |c| c["zendesk"]["solved"] == true).await;

    // Both nodes tell the same story.
    let told = conversation(&client, a).await;
    assert_eq!(told, conversation(&client, b).await);
    assert_eq!(told["status"], "ended", "{told}");
    assert_eq!(told["contact"]["fields"]["email"], "ada@example.com");
    let contact = crate::service::contact_texts(&told);
    assert_eq!(
        contact,
        [
            "Hi from node A",
            "ada@example.com",
            "Order AB100001 is late"
        ]
    );

    // In Zendesk (the stand-in, over its API): one ticket, created once, solved, with every
    // message of the history once.
    let tickets = zendesk_get(&client, &zendesk, "/api/v2/tickets.json").await;
    assert_eq!(tickets["count"], 1, "{tickets}");
    let ticket = &tickets["tickets"][0];
    assert_eq!(ticket["id"], told["zendesk"]["ticket_id"], "{told}");
    assert_eq!(ticket["external_id"], format!("scenarist-{CONVERSATION}"));
    assert_eq!(ticket["status"], "solved", "{ticket}");
    let (_, creations) = tickets_and_creations(&standin);
    assert_eq!(creations.values().sum::<usize>(), 1, "{creations:?}");
    let page = zendesk_get(
        &client,
        &zendesk,
        &format!("/api/v2/tickets/{}/comments.json", ticket["id"]),
    )
    .await;
    let comments: Vec<&str> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["body"].as_str())
        .collect();
    let comments = comments.join("\n");
    // What was said (not the events: routing, handoffs).
    let history: Vec<&str> = told["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| ["contact", "bot", "advisor"].contains(&m["author"].as_str().unwrap_or("")))
        .filter_map(|m| m["text"].as_str())
        .collect();
    for said in &history {
        let times = history.iter().map(|m| m.matches(said).count()).sum();
        assert_occurs(&comments, said, times);
    }
    for said in ["Hi from node A", "Order AB100001 is late", "Grace here"] {
        assert_occurs(&comments, said, 1);
    }

    // Per node: each counts the contact messages it answered, and only those (4 sent: A took
    // m-1 and the resent m-2, B m-2 and m-3).
    let counts = [
        (
            answered(&client, a, "ok").await,
            answered(&client, a, "duplicate").await,
        ),
        (
            answered(&client, b, "ok").await,
            answered(&client, b, "duplicate").await,
        ),
    ];
    assert_eq!(counts, [(1, 1), (2, 0)], "(ok, duplicate) on A and B");

    // The outbox is the database's: each node shows all of it, empty now (not what its own
    // commits queued minus what its own runs finished: +1 on one node, -1 on the other).
    for node in &nodes {
        outbox_empties(&client, node).await;
    }

    // A reload applies to the node it is sent to, alone: new conversations there get the
    // changed scenario, on the other node still the one it started with.
    edit_scenario(&config);
    let hangup = Command::new("kill")
        .args(["-HUP", &first.pid().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut attempt = 0;
    let on_a = loop {
        let id = format!("reload-a-{attempt}");
        let welcome = first_reply(&client, a, &message(&id, "r-1", "Hi")).await;
        if welcome.contains("reloaded") {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "node A never reloaded: {welcome}"
        );
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let welcome = first_reply(&client, b, &message("reload-b", "r-1", "Hi")).await;
    assert_eq!(
        welcome, "Hello Ada! I'm the ACME assistant.",
        "node B was not reloaded"
    );
    // Each conversation runs on its version on either node (the other reads it from the
    // database).
    let wrong = first_reply(&client, b, &message(&on_a, "r-2", "nope")).await;
    assert_eq!(wrong, "\"nope\" is no email address (reloaded).");
    let wrong = first_reply(&client, a, &message("reload-b", "r-2", "nope")).await;
    assert_eq!(
        wrong,
        "\"nope\" does not look like an email address. Could you check it?"
    );
    for node in &nodes {
        assert_ready(&client, node).await;
        assert_eq!(conversation(&client, node).await, told);
    }
}
