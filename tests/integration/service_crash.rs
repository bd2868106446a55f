//! `scenarist serve` killed with SIGKILL under load: every message that was answered 200 must
//! be in its conversation's history exactly once after a restart on the same data, and a
//! message whose answer the kill cut off, sent again with the same id, must not be doubled.
//! The real binary runs on the example config (`webchat:acme`, no Zendesk sync) with the
//! default durability (group commit); the kill moments are random, their seed is printed.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{root, tempdir};

const TOKEN: &str = "crash-token-0123456789";
/// Writers at once; each owns its conversations and sends their messages one after another.
const WRITERS: usize = 8;
const CONVERSATIONS_PER_WRITER: usize = 6;
const KILLS: usize = 4;

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("SCENARIST_CONFIG")
            .env("SCENARIST_API_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = crate::service::listening(&mut child);
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no final flush.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One contact message; `text` is unique so that it can be found in the history.
#[derive(Clone, Debug)]
struct Message {
    conversation: String,
    id: String,
    text: String,
}

/// What the writers saw: messages answered 200, and those cut off by a kill (no answer).
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<Message>,
    pending: Vec<Message>,
}

/// Sends `message`; `Some(status)` when an answer came back, `None` when the connection died.
async fn send(client: &reqwest::Client, base: &str, message: &Message) -> Option<u16> {
    let body = json!({
        "account": "webchat:acme",
        "conversation": message.conversation,
        "message_id": message.id,
        "contact": { "id": format!("u-{}", message.conversation), "name": "Ada" },
        "text": message.text,
    });
    let response = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    // A 200 counts only once its whole body arrived.
    response.bytes().await.ok()?;
    Some(status)
}

/// Sends `writer`'s messages until the server dies: first the message a previous kill cut
/// off (same id, as a real channel retries), then new ones round-robin over its conversations.
async fn writer(
    client: reqwest::Client,
    base: String,
    writer: usize,
    cycle: usize,
    retry: Option<Message>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let fresh = (0..).map(|seq: usize| {
        let conversation = format!("w{writer}-c{}", seq % CONVERSATIONS_PER_WRITER);
        Message {
            id: format!("m-{cycle}-{writer}-{seq}"),
            text: format!("text {cycle}/{writer}/{seq}"),
            conversation,
        }
    });
    for message in retry.into_iter().chain(fresh) {
        match send(&client, &base, &message).await {
            Some(200) => ledger.lock().unwrap().acknowledged.push(message),
            Some(status) => panic!("{message:?} answered {status}"),
            None => {
                ledger.lock().unwrap().pending.push(message);
                return;
            }
        }
    }
}

/// A small xorshift generator: the kill moments; its seed is printed for a rerun.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_kill_9_exactly_once() {
    let data = tempdir().join("data");
    let seed = RandomState::new().hash_one(std::process::id()) | 1;
    let mut rng = seed;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut resent = 0;

    for cycle in 0..KILLS {
        let server = Server::start(&data);
        let mut retries: HashMap<usize, Message> = HashMap::new();
        for message in std::mem::take(&mut ledger.lock().unwrap().pending) {
            let owner = message.conversation[1..].split('-').next().unwrap();
            retries.insert(owner.parse().unwrap(), message);
        }
        resent += retries.len();
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            tasks.spawn(writer(
                client.clone(),
                server.base.clone(),
                w,
                cycle,
                retries.remove(&w),
                Arc::clone(&ledger),
            ));
        }
        // Under load for 150 to 650 ms, then SIGKILL.
        tokio::time::sleep(Duration::from_millis(150 + next(&mut rng) % 500)).await;
        server.kill();
        while let Some(result) = tasks.join_next().await {
            result.unwrap();
        }
    }

    let server = Server::start(&data);
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    // A message cut off by the last kill may or may not have been written, but at most once.
    let mut expected: HashMap<String, Vec<(&str, bool)>> = HashMap::new();
    for (message, acknowledged) in ledger
        .acknowledged
        .iter()
        .map(|m| (m, true))
        .chain(ledger.pending.iter().map(|m| (m, false)))
    {
        expected
            .entry(message.conversation.clone())
            .or_default()
            .push((&message.text, acknowledged));
    }
    let (mut lost, mut duplicated) = (Vec::new(), Vec::new());
    for (conversation, messages) in &expected {
        let response = client
            .get(format!("{}/v1/conversations/{conversation}", server.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{conversation}");
        let body: Value = response.json().await.unwrap();
        let texts = crate::service::contact_texts(&body);
        for &(text, acknowledged) in messages {
            match texts.iter().filter(|t| **t == text).count() {
                0 if acknowledged => lost.push(text.to_owned()),
                0 | 1 => {}
                _ => duplicated.push(text.to_owned()),
            }
        }
    }
    println!(
        "seed {seed}: {KILLS} kills, {} acknowledged, {resent} cut off and resent, \
         {} lost, {} duplicated",
        ledger.acknowledged.len(),
        lost.len(),
        duplicated.len()
    );
    assert!(
        ledger.acknowledged.len() > 50,
        "too little load to mean anything"
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(duplicated.is_empty(), "written twice: {duplicated:?}");
}
