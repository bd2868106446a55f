//! Backups without downtime and quarantined conversations, on the real binary over HTTP:
//! `POST /v1/admin/export` under load restored by `scenarist store import`, and a record
//! damaged on disk set aside, inspected and dropped through the admin routes and through
//! `scenarist store quarantine`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scenarist::store::{Backend as _, KvStore, SledBackend, Store as _, TreeName};
use serde_json::{Value, json};

use crate::service::{ADMIN_TOKEN, Server, TOKEN, message};
use crate::support::{scenarist, stderr, stdout, tempdir};

/// Conversations written to at once, and how many each writer cycles through.
const WRITERS: usize = 8;
const PER_WRITER: usize = 4;

/// Waits (polling, at most a minute) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `(conversation, message id)` of every message answered 200, in the order answered.
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// Writers posting contact messages over HTTP until `stop`; every 200 goes to `acked`, any
/// other answer to the returned list (there should be none).
fn start_writers(
    server: &Server,
    acked: &Acked,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    (0..WRITERS)
        .map(|writer| {
            let (client, base) = (server.client.clone(), server.base.clone());
            let (acked, stop) = (Arc::clone(acked), Arc::clone(stop));
            tokio::spawn(async move {
                let mut refused = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let conversation = format!("c-{writer}-{}", n % PER_WRITER);
                    let id = format!("m-{n}");
                    n += 1;
                    let response = client
                        .post(format!("{base}/v1/messages"))
                        .bearer_auth(TOKEN)
                        .json(&message(&conversation, &id, &format!("hello {n}")))
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status() == 200 => {
                            acked.lock().unwrap().push((conversation, id));
                        }
                        Ok(r) => refused.push(format!("{}: {:?}", r.status(), r.text().await)),
                        Err(e) => refused.push(e.to_string()),
                    }
                }
                refused
            })
        })
        .collect()
}

fn acked_count(acked: &Acked) -> usize {
    acked.lock().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_acknowledged_message() {
    let dir = tempdir();
    let data = dir.join("data");
    let server = Server::start(&data);
    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers = start_writers(&server, &acked, &stop);
    // Enough for a backup of several chunks (`CHUNK` in src/service/admin.rs).
    until("the first messages", || acked_count(&acked) >= 200).await;

    // Everything acknowledged before the export is asked for must be in the backup.
    let before: Vec<(String, String)> = acked.lock().unwrap().clone();
    let response = server
        .client
        .post(format!("{}/v1/admin/export", server.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "a stream of JSON lines"
    );
    // The load goes on while the backup is in flight.
    let at_export = before.len();
    until("messages during the export", || {
        acked_count(&acked) >= at_export + 40
    })
    .await;
    let backup = response.bytes().await.unwrap();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        let refused = writer.await.unwrap();
        assert!(refused.is_empty(), "only 200s under load: {refused:?}");
    }
    assert!(server.terminate().success());

    assert!(backup.len() > 64 * 1024, "sent in more than one chunk");
    let text = std::str::from_utf8(&backup).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["format"], "scenarist-export");
    assert_eq!(
        lines.last().unwrap()["records"],
        lines.len() - 2,
        "the trailer counts every record"
    );
    let file = dir.join("backup.jsonl");
    std::fs::write(&file, &backup).unwrap();
    let restored = dir.join("restored");
    let output = scenarist(&[
        "store",
        "import",
        "--data",
        restored.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("its snapshot written"),
        "an import leaves sled's snapshot, so the first start does not replay it: {}",
        stderr(&output)
    );

    // The engine takes the restored store: a message sent again is known, a new one goes on.
    let server = Server::start(&restored);
    let (conversation, id) = &before[0];
    let (status, again) = server
        .post("/v1/messages", &message(conversation, id, "x"))
        .await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    let (status, next) = server
        .post(
            "/v1/messages",
            &message(conversation, "after-restore", "again"),
        )
        .await;
    assert_eq!((status, &next["duplicate"]), (200, &json!(false)), "{next}");
    assert!(server.terminate().success());

    let store = KvStore::new(SledBackend::open(&restored).unwrap());
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, record) in store.conversations().unwrap() {
        let conversation = record.unwrap();
        let history = store.history(&id, conversation.last_seq).unwrap();
        let seqs: Vec<u64> = history.iter().map(|t| t.seq).collect();
        let expected: Vec<u64> = (1..=conversation.last_seq).collect();
        assert_eq!(
            seqs, expected,
            "{id}: every turn up to its record's last_seq"
        );
        found.insert(
            id,
            history.into_iter().filter_map(|t| t.message_id).collect(),
        );
    }
    for (conversation, id) in &before {
        assert!(
            found.get(conversation).is_some_and(|ids| ids.contains(id)),
            "{conversation} {id} was acknowledged before the export and is not restored"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Flips a byte of a conversation's stored record (the service is stopped).
fn damage(data: &Path, conversation: &str) -> Vec<u8> {
    let backend = SledBackend::open(data).unwrap();
    let key = conversation.as_bytes();
    let mut bytes = backend.get(TreeName::Conversations, key).unwrap().unwrap();
    bytes[6] ^= 0xff;
    backend
        .insert(TreeName::Conversations, key, &bytes)
        .unwrap();
    backend.flush().unwrap();
    bytes
}

async fn admin(server: &Server, method: reqwest::Method, path: &str, token: &str) -> (u16, Value) {
    let response = server
        .client
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_record_is_quarantined_shown_and_dropped_over_http_and_offline() {
    use reqwest::Method;
    let dir = tempdir();
    let data = dir.join("data");
    let server = Server::start(&data);
    for conversation in ["c-http", "c-cli", "c-fine"] {
        let (status, _) = server
            .post("/v1/messages", &message(conversation, "m-1", "Hi"))
            .await;
        assert_eq!(status, 200);
    }
    assert!(server.terminate().success());
    let http_bytes = damage(&data, "c-http");
    damage(&data, "c-cli");
    let server = Server::start(&data);
    for conversation in ["c-http", "c-cli"] {
        let (status, body) = server
            .post("/v1/messages", &message(conversation, "m-2", "Hi"))
            .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (409, &json!("quarantined"))
        );
    }

    // The channels' token opens none of it.
    for (method, path) in [
        (Method::GET, "/v1/admin/quarantine"),
        (Method::GET, "/v1/admin/quarantine/c-http"),
        (Method::DELETE, "/v1/admin/quarantine/c-http"),
        (Method::POST, "/v1/admin/export"),
    ] {
        let (status, body) = admin(&server, method.clone(), path, TOKEN).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("not_admin")),
            "{method} {path}"
        );
    }

    let (status, listed) = admin(&server, Method::GET, "/v1/admin/quarantine", ADMIN_TOKEN).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["conversation"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c-cli", "c-http"], "{listed}");
    assert!(
        listed["quarantined"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{listed}"
    );

    let (status, shown) = admin(
        &server,
        Method::GET,
        "/v1/admin/quarantine/c-http",
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown["record"]["hex"],
        scenarist_base::hex::encode(&http_bytes),
        "the bytes on disk"
    );
    assert!(
        shown["record"]["problem"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{shown}"
    );
    assert_eq!(shown["history"].as_array().unwrap().len(), 1, "{shown}");
    let (status, body) = admin(
        &server,
        Method::GET,
        "/v1/admin/quarantine/c-fine",
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_quarantined"))
    );

    let (status, dropped) = admin(
        &server,
        Method::DELETE,
        "/v1/admin/quarantine/c-http",
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{dropped}");
    assert_eq!(
        (&dropped["dropped"]["record"], &dropped["dropped"]["turns"]),
        (&json!(true), &json!(1)),
        "{dropped}"
    );
    let (status, _) = admin(
        &server,
        Method::DELETE,
        "/v1/admin/quarantine/c-http",
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(status, 404, "dropped once");
    // The id is free again: a new conversation starts under it.
    let (status, body) = server
        .post("/v1/messages", &message("c-http", "m-3", "Hi"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["replies"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Hello"),
        "greeted as a new conversation: {body}"
    );
    assert!(server.terminate().success());

    // The same offline, on the data directory.
    let data_arg = data.to_str().unwrap();
    let quarantine = |args: &[&str]| {
        let mut all = vec!["store", "quarantine", "--data", data_arg];
        all.extend_from_slice(args);
        scenarist(&all)
    };
    let output = quarantine(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = stdout(&output);
    assert!(
        listed.contains("c-cli") && listed.contains("checksum") && !listed.contains("c-http"),
        "{listed}"
    );
    let output = quarantine(&["show", "c-cli"]);
    let shown = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        shown.contains("quarantined: ") && shown.contains("hex:  ") && shown.contains("text: "),
        "{shown}"
    );
    assert!(shown.contains("history: 1 turn"), "{shown}");
    let output = quarantine(&["--json", "show", "c-cli"]);
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        shown["record"]["problem"]
            .as_str()
            .unwrap()
            .contains("checksum")
    );
    let output = quarantine(&["show", "c-fine"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not quarantined"),
        "{}",
        stderr(&output)
    );
    let output = quarantine(&["show", "bad\u{1b}[31mid"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("control character"),
        "{}",
        stderr(&output)
    );

    let output = quarantine(&["drop", "c-cli"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("dropped conversation c-cli: its record, 1 history turn"),
        "{}",
        stdout(&output)
    );
    let output = quarantine(&["list"]);
    assert!(stdout(&output).contains("no conversation is quarantined"));
    let output = quarantine(&["drop", "c-cli"]);
    assert_eq!(output.status.code(), Some(1), "dropped once");

    let store = KvStore::new(SledBackend::open(&data).unwrap());
    assert!(
        store.conversation("c-fine").unwrap().is_some(),
        "the rest stays"
    );
    assert!(store.conversation("c-cli").unwrap().is_none());
    assert!(store.history("c-cli", 9).unwrap().is_empty());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
