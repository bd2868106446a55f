//! Logs and answers that cannot be forged or leak (issue 9, item 5), attacked for real: a
//! hostile Zendesk on loopback whose error texts carry a forged log line and terminal
//! sequences, `serve` logging to a file, a data folder whose database is `/dev/full`, and
//! reloads of a config that names files outside its folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use scenarist::store::{StoreError, TreeName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::service::listening;
use crate::service_guards::{ADMIN_TOKEN, Running, TOKEN, start, workspace};
use crate::support::{root, tempdir};

/// A log line an attacker would like the operator to read.
const FORGED: &str = "1999-01-01T00:00:00.000000Z  INFO scenarist::service: all is well";
/// An OSC sequence (sets the terminal's title) and a colour.
const OSC: &str = "\u{1b}]0;pwned\u{7}\u{1b}[31m";

/// A loopback "Zendesk" that answers `users/7` with a JSON error whose texts forge a line
/// and carry terminal sequences, `users/8` with an HTML page, and anything else with 404.
async fn hostile_zendesk() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buffer = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let (status, kind, body) = if head.contains("/users/7") {
                let body = json!({
                    "error": format!("RecordInvalid\n{FORGED}"),
                    "description": format!("{OSC}Record validation errors"),
                    "details": { "email": [{ "description": format!("secret-detail\r\n{FORGED}") }] },
                });
                (
                    "422 Unprocessable Entity",
                    "application/json",
                    body.to_string(),
                )
            } else if head.contains("/users/8") {
                (
                    "400 Bad Request",
                    "text/html",
                    format!("<html><body>db01.internal.example {OSC} stack trace</body></html>"),
                )
            } else {
                ("404 Not Found", "application/json", "{}".to_owned())
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A workspace whose `facebook:acme` account is linked to the Zendesk at `url`.
fn linked_workspace(dir: &Path, url: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(
        root().join("scenarios/zendesk_handoff.scn"),
        dir.join("scenarios/zendesk_handoff.scn"),
    )
    .unwrap();
    let config = dir.join("scenarist.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\ndata_dir: data\nscenarios: scenarios\ncontact_fields: {{ email: email }}\nteams: [Zendesk]\n\
             channels: {{ facebook: {{ max_message_length: 2000 }} }}\n\
             accounts:\n  facebook:acme: {{ channel: facebook, scenario: zendesk_handoff, zendesk: acme }}\n\
             zendesk:\n  organizations:\n    acme:\n      url: {url}\n\
             \x20     auth: {{ type: api_token, email: agent@acme.example, token_env: HOSTILE_ZENDESK_TOKEN }}\n\
             \x20     fields: {{ search: {{ email: email }} }}\n      sync: {{ mode: interface }}\n"
        ),
    )
    .unwrap();
    config
}

/// `serve` on `config` with its human log (level info) in `<config>.log`, as an operator
/// runs it with stderr sent to a file: `NO_COLOR` unset.
fn serve_logging_to_a_file(config: &Path, data: Option<&Path>) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config);
    if let Some(data) = data {
        command.arg("--data").arg(data);
    }
    let mut child = command
        .env_remove("NO_COLOR")
        .env_remove("SCENARIST_LOG_FORMAT")
        .env("SCENARIST_LOG", "info")
        .env("SCENARIST_API_TOKEN", TOKEN)
        .env("SCENARIST_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("HOSTILE_ZENDESK_TOKEN", "zendesk-token")
        // The guards' workspace has a signed account.
        .env("TEST_SIGNING_SECRET", "gateway-secret")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(config.with_extension("log")).unwrap())
        .spawn()
        .unwrap();
    let base = listening(&mut child);
    Running(child, base)
}

async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let token = if path.starts_with("/v1/admin/") {
        ADMIN_TOKEN
    } else {
        TOKEN
    };
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn first_message(id: &str) -> Value {
    json!({
        "account": "facebook:acme", "conversation": "c-1", "message_id": id,
        "contact": { "id": "u-1", "name": "Ada" }, "text": "Hi",
    })
}

/// No line of the log is the forged one, and no terminal sequence reached it.
fn assert_unforged(log: &str) {
    assert!(
        !log.lines().any(|line| line.starts_with("1999-01-01")),
        "a forged line: {log}"
    );
    assert!(
        !log.contains('\u{1b}') && !log.contains('\u{7}'),
        "terminal sequences reached the log: {log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_zendesk_forges_no_log_line_and_its_words_never_reach_the_caller() {
    let dir = tempdir();
    let url = hostile_zendesk().await;
    let config = linked_workspace(&dir, &url);
    let server = serve_logging_to_a_file(&config, None);
    let base = &server.1;
    let (status, answer) = call(
        base,
        reqwest::Method::POST,
        "/v1/messages",
        Some(first_message("m-1")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    for (user, zendesk_status) in [(7, 422), (8, 400)] {
        let (status, answer) = call(
            base,
            reqwest::Method::POST,
            "/v1/contacts/u-1/zendesk/link?account=facebook:acme",
            Some(json!({ "user_id": user })),
        )
        .await;
        assert_eq!(status, 502, "{answer}");
        assert_eq!(answer["error"]["code"], "zendesk_error", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("Zendesk answered {zendesk_status}")),
            "the status is told: {message}"
        );
        for leaked in [
            "RecordInvalid",
            "all is well",
            "secret-detail",
            "validation",
            "pwned",
            "db01",
            "html",
            "\u{1b}",
        ] {
            assert!(!message.contains(leaked), "{leaked:?} leaked: {message}");
        }
    }

    drop(server);
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap();
    assert!(
        log.contains(
            r"RecordInvalid\n1999-01-01T00:00:00.000000Z  INFO scenarist::service: all is well"
        ),
        "Zendesk's words are in the log, escaped: {log}"
    );
    assert!(log.contains(r"\u{1b}]0;pwned\u{7}"), "{log}");
    assert!(
        log.contains("db01.internal.example"),
        "the HTML page is logged: {log}"
    );
    assert_unforged(&log);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_has_no_colour_codes() {
    let dir = tempdir();
    let config = workspace(&dir);
    let server = serve_logging_to_a_file(&config, None);
    let (status, answer) = call(
        &server.1,
        reqwest::Method::POST,
        "/v1/messages",
        Some(json!({
            "account": "facebook:nobody", "conversation": "c", "message_id": "m",
            "contact": { "id": "u" }, "text": "Hi",
        })),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    drop(server);
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap();
    assert!(
        log.contains("WARN") && log.contains("refused"),
        "the refusal is logged: {log}"
    );
    assert!(!log.contains("\u{1b}["), "colour codes in a file: {log:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A backend whose writes stay in memory but whose fsync meets a full disk: it writes to
/// `/dev/full`, so the error is the kernel's own `ENOSPC` (as sled would meet it).
struct FullDisk(scenarist::store::MemoryBackend);

impl scenarist::store::Backend for FullDisk {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(tree, key)
    }
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.0.insert(tree, key, value)
    }
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.0.remove(tree, key)
    }
    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.0.scan_prefix(tree, prefix)
    }
    fn scan_below(&self, tree: TreeName, end: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        self.0.scan_below(tree, end, limit)
    }
    fn flush(&self) -> Result<(), StoreError> {
        use std::io::Write as _;
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .and_then(|mut full| full.write_all(b"the step").and_then(|()| full.sync_all()));
        let error = written.expect_err("/dev/full is always full");
        assert_eq!(error.raw_os_error(), Some(28), "{error}");
        Err(StoreError::from(&error))
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.0.is_empty()
    }
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A log the test reads back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The service in this process (one thread, so the test's log subscriber sees every event)
/// on a store whose disk is full, group commit as `serve` runs by default.
#[tokio::test]
async fn a_full_disk_is_answered_in_plain_words_once_with_the_detail_in_the_log() {
    use std::sync::Arc;

    use scenarist::store::{KvStore, MemoryBackend, Store};

    const PLAIN: &str = "the service cannot write to its storage (the disk is full); nothing was recorded, try again later";
    let captured = Captured::default();
    let writer = captured.clone();
    let _log = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );
    let store: Arc<dyn Store> = Arc::new(KvStore::new(FullDisk(MemoryBackend::default())));
    let (_service, base) = crate::service_guards::in_process_on(
        store,
        scenarist::runtime::FlushPolicy::default(),
        std::time::Duration::from_secs(10),
    )
    .await;

    for id in ["m-1", "m-2"] {
        let (status, answer) = call(
            &base,
            reqwest::Method::POST,
            "/v1/messages",
            Some(first_message(id)),
        )
        .await;
        assert_eq!(status, 503, "{answer}");
        assert_eq!(answer["error"]["code"], "unavailable", "{answer}");
        assert_eq!(answer["error"]["message"], PLAIN, "{answer}");
    }
    let (status, ready) = call(&base, reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["error"]["message"], PLAIN, "{ready}");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let stopped: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("the engine stops accepting messages"))
        .collect();
    assert_eq!(stopped.len(), 1, "said once: {log}");
    assert!(
        stopped[0].contains("storage failure (the disk is full)")
            && stopped[0].contains("os error 28"),
        "the detail is in the log: {log}"
    );
    assert!(!log.contains("storage failure: storage failure"), "{log}");
}

/// `POST /v1/admin/reload`: the status and the error message.
async fn reload(base: &str) -> (u16, String) {
    let (status, answer) = call(base, reqwest::Method::POST, "/v1/admin/reload", None).await;
    let message = answer["error"]["message"].as_str().unwrap_or("").to_owned();
    (status, message)
}

/// A reload of a config naming files outside its folder (as written, absolute, through a
/// symbolic link) or a non-scenario file is refused with `W403`, and no answer ever quotes
/// what those files hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reads_no_file_outside_the_config_folder_and_quotes_none() {
    let dir = tempdir();
    let folder = dir.join("cfg");
    let config = workspace(&folder);
    let original = std::fs::read_to_string(&config).unwrap();
    let outside = dir.join("outside");
    std::fs::create_dir_all(outside.join("flows")).unwrap();
    std::fs::write(outside.join("secret.txt"), "TOPSECRET-file and the rest\n").unwrap();
    std::fs::write(outside.join("flows/x.scn"), "TOPSECRET-scn and the rest\n").unwrap();
    std::fs::write(folder.join("notes.txt"), "TOPSECRET-notes and the rest\n").unwrap();
    std::os::unix::fs::symlink(outside.join("flows"), folder.join("linked")).unwrap();
    let server = start(&config);
    let base = &server.1;
    assert_eq!(reload(base).await.0, 200, "the workspace reloads as it is");

    let secret = outside.join("secret.txt");
    let token_outside = format!(
        "{original}zendesk:\n  organizations:\n    acme:\n      url: https://acme.zendesk.com\n\
         \x20     auth: {{ type: api_token, email: a@acme.example, token_file: ../outside/secret.txt }}\n\
         \x20     sync: {{ mode: interface }}\n"
    );
    let attacks = [
        original.replace("scenarios: scenarios", "scenarios: ../outside/secret.txt"),
        original.replace(
            "scenarios: scenarios",
            &format!("scenarios: {}", secret.display()),
        ),
        original.replace("scenarios: scenarios", "scenarios: ../outside/flows"),
        original.replace("scenarios: scenarios", "scenarios: linked"),
        original.replace("scenarios: scenarios", "scenarios: notes.txt"),
        token_outside,
    ];
    for attack in attacks {
        std::fs::write(&config, &attack).unwrap();
        let (status, message) = reload(base).await;
        assert_eq!(status, 422, "{attack}\n{message}");
        assert!(message.contains("W403"), "{attack}\n{message}");
        assert!(!message.contains("TOPSECRET"), "{attack}\n{message}");
    }

    // A `.scn` link in the scenarios folder that leads out is not read either.
    std::fs::write(&config, &original).unwrap();
    let planted = folder.join("scenarios/planted.scn");
    std::os::unix::fs::symlink(&secret, &planted).unwrap();
    let (status, message) = reload(base).await;
    assert_eq!(status, 422, "{message}");
    assert!(
        message.contains("planted.scn") && message.contains("outside the config's folder"),
        "{message}"
    );
    assert!(!message.contains("TOPSECRET"), "{message}");

    std::fs::remove_file(&planted).unwrap();
    assert_eq!(reload(base).await.0, 200, "the service still reloads");
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
