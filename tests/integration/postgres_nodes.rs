//! Two `serve` processes on one PostgreSQL database (`scripts/test-postgres`; these tests
//! fail, never skip, without it): a conversation's messages, sent to both nodes at once by
//! several clients, each run once and in each client's order, and a message id resent to the
//! other node is answered from its first answer.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::postgres_store::{Server, TOKEN, fresh_database, postgres_workspace, texts};
use crate::support::tempdir;

const CONVERSATIONS: usize = 3;
const CLIENTS: usize = 2;
const MESSAGES: usize = 12;

/// What a client sent: each acknowledged id, the node it went to, and its answer.
type Acknowledged = Vec<(String, usize, Value)>;

fn message(conversation: &str, id: &str) -> Value {
    json!({
        "account": "webchat:acme",
        "conversation": conversation,
        "message_id": id,
        "contact": { "id": format!("u-{conversation}"), "name": "Ada" },
        "text": id,
    })
}

/// Sends `id` to `base`: the status and the answer.
async fn send(client: &reqwest::Client, base: &str, conversation: &str, id: &str) -> (u16, Value) {
    let response = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&message(conversation, id))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// One client of one conversation: its messages in order, each to the other node than the
/// one before, each after the answer to the one before. What each acknowledged id got.
async fn client_sends(
    client: reqwest::Client,
    nodes: [String; 2],
    conversation: String,
    number: usize,
) -> Acknowledged {
    let mut acknowledged = Vec::new();
    for i in 0..MESSAGES {
        let node = (number + i) % 2;
        let id = format!("{conversation}-client{number}-{i:02}");
        let (status, answer) = send(&client, &nodes[node], &conversation, &id).await;
        assert_eq!(status, 200, "{id} on node {node}: {answer}");
        acknowledged.push((id, node, answer));
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_run_each_message_of_a_conversation_once_and_in_its_senders_order() {
    let url = fresh_database();
    let config = postgres_workspace();
    let first = Server::start(&config, &url, &tempdir().join("node-a"));
    let second = Server::start(&config, &url, &tempdir().join("node-b"));
    let nodes = [first.base.clone(), second.base.clone()];
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CONVERSATIONS {
        for number in 0..CLIENTS {
            clients.spawn(client_sends(
                client.clone(),
                nodes.clone(),
                format!("nodes-{c}"),
                number,
            ));
        }
    }
    let mut sent: HashMap<String, Vec<Acknowledged>> = HashMap::new();
    while let Some(acknowledged) = clients.join_next().await {
        let acknowledged = acknowledged.unwrap();
        let conversation = acknowledged[0].0.rsplitn(3, '-').nth(2).unwrap().to_owned();
        sent.entry(conversation).or_default().push(acknowledged);
    }

    for (conversation, by_client) in &sent {
        // Both nodes read the same history.
        let history = texts(&client, &nodes[0], conversation).await;
        assert_eq!(history, texts(&client, &nodes[1], conversation).await);
        assert_eq!(
            history.len(),
            CLIENTS * MESSAGES,
            "every acknowledged message once, none lost: {history:?}"
        );
        for acknowledged in by_client {
            let mine: Vec<&String> = history
                .iter()
                .filter(|text| acknowledged.iter().any(|(id, ..)| id == *text))
                .collect();
            let order: Vec<&String> = acknowledged.iter().map(|(id, ..)| id).collect();
            assert_eq!(mine, order, "each client's messages once, in its order");
        }
        // A message id resent to the other node: the first answer, nothing applied again.
        for (id, node, first_answer) in by_client.iter().flatten().take(3) {
            let other = &nodes[1 - node];
            let (status, again) = send(&client, other, conversation, id).await;
            assert_eq!(status, 200, "{again}");
            assert_eq!(again["duplicate"], true, "{again}");
            assert_eq!(again["replies"], first_answer["replies"]);
        }
        assert_eq!(texts(&client, &nodes[0], conversation).await, history);
    }
}
