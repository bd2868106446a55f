//! PostgreSQL taken down under `serve`'s feet, while senders keep sending: a crash and
//! recovery (`pg_ctl restart -m immediate`), then a stop of a few seconds and a start. While
//! it is down every request gets 503 `database_unreachable` with `Retry-After` — no hang, no
//! 500 — and `/readyz` says so; once it is back `/readyz` is 200 and messages are accepted,
//! without restarting `serve`; every acknowledged message is in its history exactly once.
//!
//! The test restarts its server, so it starts a cluster of its own (`scripts/test-postgres`,
//! as the suite's shared one), never the one other tests use; it fails if that cannot start.

use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use scenarist::store::scratch_database;
use serde_json::{Value, json};

use crate::postgres_store::{Server, TOKEN, postgres_workspace, texts};
use crate::support::{root, tempdir};

const SENDERS: usize = 4;

/// A PostgreSQL cluster of this test's own, stopped and removed when dropped.
struct Cluster {
    dir: String,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let output = Command::new("bash")
            .arg(root().join("scripts/test-postgres"))
            .arg("start")
            .env_remove("SCENARIST_TEST_POSTGRES_DIR")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "the test's own PostgreSQL cluster did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(&format!("export {name}=")))
                .map_or_else(
                    || panic!("scripts/test-postgres printed no {name}: {stdout}"),
                    |value| value.trim_matches('\'').to_owned(),
                )
        };
        Cluster {
            dir: value("SCENARIST_TEST_POSTGRES_DIR"),
            url: value("SCENARIST_TEST_DATABASE_URL"),
        }
    }

    /// `restart` (immediate: a crash), `halt` (immediate stop) or `resume`.
    fn control(&self, what: &str) {
        let output = Command::new("bash")
            .arg(root().join("scripts/test-postgres"))
            .arg(what)
            .env("SCENARIST_TEST_POSTGRES_DIR", &self.dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "scripts/test-postgres {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The password in the URL (it must never reach an answer).
    fn password(&self) -> String {
        let after = self.url.split_once("://").unwrap().1;
        let userinfo = after.rsplit_once('@').unwrap().0;
        userinfo.split_once(':').unwrap().1.to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/test-postgres"))
            .arg("stop")
            .env("SCENARIST_TEST_POSTGRES_DIR", &self.dir)
            .output();
    }
}

/// What the senders have done so far, for the test to wait on.
#[derive(Default)]
struct Progress {
    stop: AtomicBool,
    acknowledged: [AtomicUsize; SENDERS],
    refused: [AtomicUsize; SENDERS],
    /// What went wrong in a sender (an answer that was neither 200 nor the right 503).
    failure: Mutex<Option<String>>,
}

impl Progress {
    fn counts(counters: &[AtomicUsize; SENDERS]) -> [usize; SENDERS] {
        std::array::from_fn(|n| counters[n].load(Ordering::SeqCst))
    }

    fn failed(&self) {
        if let Some(failure) = self.failure.lock().unwrap().as_ref() {
            panic!("{failure}");
        }
    }

    /// Waits until every sender's `counters` passed `from` by `more` (failing on a sender's
    /// failure, or after two minutes: something hangs).
    async fn each(&self, what: &str, counters: &[AtomicUsize; SENDERS], more: usize) {
        let from = Self::counts(counters);
        for _ in 0..2400 {
            self.failed();
            let now = Self::counts(counters);
            if (0..SENDERS).all(|n| now[n] >= from[n] + more) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "senders did not get {more} more {what} each: {from:?} -> {:?}",
            Self::counts(counters)
        );
    }
}

/// One sender: its conversation's messages, one after the other, each sent again after a
/// 503 until it is acknowledged (as a channel does). The acknowledged ids, in order.
async fn sender(
    client: reqwest::Client,
    base: String,
    number: usize,
    progress: Arc<Progress>,
) -> Vec<String> {
    let conversation = format!("outage-{number}");
    let mut acknowledged = Vec::new();
    let mut i = 0;
    while !progress.stop.load(Ordering::SeqCst) {
        let id = format!("{conversation}-{i:04}");
        loop {
            match send(&client, &base, &conversation, &id).await {
                Ok(()) => break,
                Err(None) => {
                    progress.refused[number].fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(Some(failure)) => {
                    *progress.failure.lock().unwrap() = Some(failure);
                    return acknowledged;
                }
            }
        }
        acknowledged.push(id);
        progress.acknowledged[number].fetch_add(1, Ordering::SeqCst);
        i += 1;
    }
    acknowledged
}

/// `Ok`: acknowledged; `Err(None)`: 503 `database_unreachable` with `Retry-After`;
/// `Err(Some(what))`: anything else.
async fn send(
    client: &reqwest::Client,
    base: &str,
    conversation: &str,
    id: &str,
) -> Result<(), Option<String>> {
    let response = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "account": "webchat:acme",
            "conversation": conversation,
            "message_id": id,
            "contact": { "id": format!("u-{conversation}"), "name": "Ada" },
            "text": id,
        }))
        .send()
        .await
        .map_err(|e| Some(format!("{id}: no answer (a hang?): {e}")))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => Ok(()),
        503 if body["error"]["code"] == "database_unreachable" && retry_after => Err(None),
        _ => Err(Some(format!(
            "{id}: {status} (retry-after: {retry_after}) {body}"
        ))),
    }
}

async fn readyz(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let response = client.get(format!("{base}/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `/readyz` until it answers `status` (failing after two minutes); its body then.
async fn readyz_until(client: &reqwest::Client, base: &str, status: u16) -> Value {
    for _ in 0..1200 {
        let (now, body) = readyz(client, base).await;
        if now == status {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}");
}

/// The value of a metric without labels in `/metrics`, as written there.
async fn metric(client: &reqwest::Client, base: &str, name: &str) -> String {
    let text = crate::postgres_store::metrics_text(client, base).await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .map_or_else(
            || panic!("no {name} in /metrics: {text}"),
            |value| value.trim().to_owned(),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restarted_or_stopped_under_load_gets_503s_loses_nothing_acknowledged_and_serve_resumes_by_itself()
 {
    let cluster = Cluster::start();
    let url = scratch_database(&cluster.url)
        .unwrap_or_else(|e| panic!("cannot create a database on the test's cluster: {e}"));
    let config = postgres_workspace();
    let server = Server::start(&config, &url, &tempdir().join("data"));
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(readyz(&client, &base).await.0, 200);

    let progress = Arc::new(Progress::default());
    let mut senders = tokio::task::JoinSet::new();
    for number in 0..SENDERS {
        senders.spawn(sender(
            client.clone(),
            base.clone(),
            number,
            Arc::clone(&progress),
        ));
    }
    progress
        .each("acknowledgements", &progress.acknowledged, 3)
        .await;

    // A crash and its recovery, under load.
    cluster.control("restart");
    progress
        .each(
            "acknowledgements after the restart",
            &progress.acknowledged,
            3,
        )
        .await;

    // Down for a while: every sender is refused, /readyz says why, in plain words.
    cluster.control("halt");
    let down = readyz_until(&client, &base, 503).await;
    assert_eq!(down["error"]["code"], "database_unreachable", "{down}");
    let reason = down["error"]["message"].as_str().unwrap();
    assert!(reason.contains("database does not answer"), "{reason}");
    assert!(
        !reason.contains(&cluster.password()) && !reason.contains("127.0.0.1"),
        "{reason}"
    );
    progress
        .each("refusals while the database is down", &progress.refused, 2)
        .await;
    assert_eq!(
        metric(&client, &base, "scenarist_store_unreachable").await,
        "1"
    );

    cluster.control("resume");
    readyz_until(&client, &base, 200).await;
    progress
        .each(
            "acknowledgements once it is back",
            &progress.acknowledged,
            3,
        )
        .await;
    progress.stop.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    while let Some(acknowledged) = senders.join_next().await {
        sent.push(acknowledged.unwrap());
    }
    progress.failed();

    for acknowledged in &sent {
        let conversation = acknowledged[0].rsplit_once('-').unwrap().0;
        assert_eq!(
            texts(&client, &base, conversation).await,
            *acknowledged,
            "every acknowledged message once, in order, nothing else"
        );
    }
    let refusals = metric(&client, &base, "scenarist_store_unreachable_errors_total").await;
    assert!(refusals.parse::<u64>().unwrap() >= 1, "{refusals}");
    assert_eq!(
        metric(&client, &base, "scenarist_store_unreachable").await,
        "0"
    );
    assert_eq!(readyz(&client, &base).await.0, 200);
}
