//! The service's door: signed accounts (bad, stale and replayed signatures), per-account
//! rate limits, `/metrics`, and `serve` refusing to start unprotected.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use scenarist::service::signing::sign;
use serde_json::{Value, json};

use crate::service_openapi::Doc;
use crate::support::{root, tempdir};

pub(crate) const TOKEN: &str = "guard-token";
pub(crate) const ADMIN_TOKEN: &str = "guard-admin-token";
const SECRET: &str = "gateway-secret";

/// A workspace with a signed account and a rate-limited one.
pub(crate) fn workspace(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(
        root().join("scenarios/zendesk_handoff.scn"),
        dir.join("scenarios/zendesk_handoff.scn"),
    )
    .unwrap();
    let config = dir.join("scenarist.yaml");
    std::fs::write(
        &config,
        "version: 1\ndata_dir: data\nscenarios: scenarios\ncontact_fields: { email: email }\nteams: [Zendesk]\n\
         channels: { facebook: { max_message_length: 2000 } }\naccounts:\n\
         \x20 facebook:signed: { channel: facebook, scenario: zendesk_handoff, signing_secret_env: TEST_SIGNING_SECRET }\n\
         \x20 facebook:slow: { channel: facebook, scenario: zendesk_handoff, max_messages_per_second: 1 }\n\
         \x20 facebook:throttled: { channel: facebook, scenario: zendesk_handoff, signing_secret_env: TEST_SIGNING_SECRET, max_messages_per_second: 1 }\n",
    )
    .unwrap();
    config
}

fn serve(config: &Path, env: &[(&str, &str)], extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
    command
        .arg("serve")
        .arg("--config")
        .arg(config)
        .args(extra)
        .env("NO_COLOR", "1")
        .env_remove("SCENARIST_API_TOKEN")
        .env_remove("SCENARIST_ADMIN_TOKEN")
        .env_remove("TEST_SIGNING_SECRET");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

pub(crate) struct Running(pub(crate) Child, pub(crate) String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start(config: &Path) -> Running {
    let mut child = serve(
        config,
        &[
            ("SCENARIST_API_TOKEN", TOKEN),
            ("SCENARIST_ADMIN_TOKEN", ADMIN_TOKEN),
            ("TEST_SIGNING_SECRET", SECRET),
        ],
        &["--listen", "127.0.0.1:0"],
    )
    .env("SCENARIST_LOG", "info")
    .stdout(Stdio::piped())
    .stderr(std::fs::File::create(config.with_extension("log")).unwrap())
    .spawn()
    .unwrap();
    let base = crate::service::listening(&mut child);
    Running(child, base)
}

fn body(account: &str, id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "account": account, "conversation": format!("{account}-c"), "message_id": id,
        "contact": { "id": "u", "name": "Ada" }, "text": "Hi",
    }))
    .unwrap()
}

async fn post(base: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 429 {
        let seconds: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(seconds >= 1, "Retry-After: {seconds}");
    }
    let body = response.json().await.unwrap_or(Value::Null);
    Doc::load().check_response("POST", "/v1/messages", status, &body);
    (status, body)
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn signed(bytes: &[u8], timestamp: i64, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Scenarist-Timestamp", timestamp.to_string()),
        ("X-Scenarist-Signature", sign(secret, timestamp, bytes)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_rate_limits_and_metrics() {
    let dir = tempdir();
    let server = start(&workspace(&dir));
    let base = &server.1;
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_owned();

    let (status, answer) = post(base, body("facebook:signed", "m1"), &[]).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "bad_signature".into()),
        "unsigned"
    );
    let bytes = body("facebook:signed", "m1");
    let (status, answer) = post(
        base,
        bytes.clone(),
        &signed(&bytes, now(), "not-the-secret"),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (401, "bad_signature".into()),
        "wrong secret"
    );
    let tampered = body("facebook:signed", "m1-other");
    let (status, _) = post(base, tampered, &signed(&bytes, now(), SECRET)).await;
    assert_eq!(status, 401, "a signature of other bytes");
    let (status, answer) = post(base, bytes.clone(), &signed(&bytes, now() - 1000, SECRET)).await;
    assert_eq!(status, 401, "stale: {answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("within 300 s")
    );

    let headers = signed(&bytes, now(), SECRET);
    let (status, answer) = post(base, bytes.clone(), &headers).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(base, bytes.clone(), &headers).await;
    assert_eq!(status, 401, "the same signed request again is a replay");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("replay")
    );

    // 1 message per second, a burst of 2: the third at once is refused.
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(
            post(base, body("facebook:slow", &format!("s{i}")), &[])
                .await
                .0,
        );
    }
    assert_eq!(statuses, [200, 200, 429]);

    let metrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("scenarist_messages_total{outcome=\"ok\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("scenarist_messages_total{outcome=\"refused\"} 6"),
        "4 bad signatures, 1 replay, 1 over the rate: {metrics}"
    );
    assert!(
        metrics.contains("scenarist_message_duration_seconds_count 3"),
        "{metrics}"
    );
    assert!(metrics.contains("scenarist_outbox_depth"), "{metrics}");
}

/// The rate limit is checked before a signature is remembered: a signed message refused for
/// the rate is not a replay when the gateway sends it again later; timestamps at the ends of
/// `i64` are refused, not wrapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_messages_over_the_rate_are_not_remembered() {
    let dir = tempdir();
    let server = start(&workspace(&dir));
    let base = &server.1;
    let mut refused = Vec::new();
    for i in 0..4 {
        let bytes = body("facebook:throttled", &format!("g{i}"));
        let headers = signed(&bytes, now(), SECRET);
        let (status, _) = post(base, bytes.clone(), &headers).await;
        if status == 429 {
            refused.push((bytes, headers));
        }
    }
    assert_eq!(refused.len(), 2, "a burst of 2, then 429");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    for (bytes, headers) in refused {
        let (status, answer) = post(base, bytes, &headers).await;
        assert_eq!(
            status, 200,
            "sent again after the rate refused it: {answer}"
        );
    }
    for timestamp in [i64::MIN, i64::MAX, i64::MIN + 1] {
        let bytes = body("facebook:signed", "edge");
        let (status, answer) = post(base, bytes.clone(), &signed(&bytes, timestamp, SECRET)).await;
        assert_eq!(status, 401, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("within 300 s")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_publishes_only_a_clean_set() {
    let dir = tempdir();
    let server = start(&workspace(&dir));
    let base = &server.1;
    let reload = || async {
        let response = reqwest::Client::new()
            .post(format!("{base}/v1/admin/reload"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap();
        Doc::load().check_response("POST", "/v1/admin/reload", status, &body);
        (status, body)
    };
    let (status, answer) = reload().await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["published"][0]["scenario"], "zendesk_handoff");
    assert_eq!(answer["restart_required"], json!([]));

    // SIGHUP applies a new account; a new listen address is reported, not applied.
    let (status, _) = post(base, body("facebook:new", "n1"), &[]).await;
    assert_eq!(status, 422, "not an account yet");
    let config = dir.join("scenarist.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "data_dir: data\n",
        "data_dir: data\nservice: { listen: \"127.0.0.1:9\" }\n",
    ) + "  facebook:new: { channel: facebook, scenario: zendesk_handoff }\n";
    std::fs::write(&config, text).unwrap();
    let hangup = Command::new("kill")
        .args(["-HUP", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        let (status, _) = post(base, body("facebook:new", "n1"), &[]).await;
        if status == 200 || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200, "the account added by SIGHUP answers");
    let (status, answer) = reload().await;
    assert_eq!(
        (status, &answer["restart_required"]),
        (200, &json!(["service"]))
    );

    std::fs::write(
        dir.join("scenarios/broken.scn"),
        "scenario broken {\n  start a\n  step a { goto nowhere }\n}\n",
    )
    .unwrap();
    let (status, answer) = reload().await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nowhere") && message.contains("broken.scn"),
        "{message}"
    );
    // The findings also come as the lint report's JSON, for tools.
    let report = &answer["error"]["report"];
    crate::support::assert_valid("schemas/lint-report.schema.json", report);
    let finding = &report["diagnostics"][0];
    assert!(
        finding["file"].as_str().unwrap().ends_with("broken.scn"),
        "{report}"
    );
    assert_eq!(finding["severity"], "error", "{report}");
    assert!(
        finding["code"].as_str().unwrap().starts_with('C'),
        "{report}"
    );

    // The running set still answers, and SIGHUP refuses the broken set too.
    assert!(
        Command::new("kill")
            .args(["-HUP", &server.0.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (status, _) = post(base, body("facebook:slow", "after-reload"), &[]).await;
    assert_eq!(status, 200);
    let (status, _) = post(base, body("facebook:new", "n2"), &[]).await;
    assert_eq!(status, 200);
}

#[test]
fn serve_refuses_to_start_unprotected() {
    let dir = tempdir();
    let config = workspace(&dir);
    let output = serve(&config, &[("TEST_SIGNING_SECRET", SECRET)], &[])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("SCENARIST_API_TOKEN"), "{text}");

    let output = serve(
        &config,
        &[("TEST_SIGNING_SECRET", SECRET)],
        &["--dev", "--listen", "0.0.0.0:0"],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("loopback"), "{text}");

    let output = serve(&config, &[("SCENARIST_API_TOKEN", TOKEN)], &[])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("account `facebook:signed` signs its messages")
            && text.contains("TEST_SIGNING_SECRET"),
        "{text}"
    );

    // A scenario with an error: no start, and the error with its place.
    std::fs::write(
        dir.join("scenarios/broken.scn"),
        "scenario broken {\n  start a\n  step a { goto nowhere }\n}\n",
    )
    .unwrap();
    let text = refused(&config);
    assert!(
        text.contains("serve starts only on a clean set") && text.contains("broken.scn:3:"),
        "{text}"
    );
}

/// The service in this process on a free port, over a memory store with `flush`, answering
/// within `timeout`; the service (to drain it) and its base URL.
async fn in_process(
    flush: scenarist::runtime::FlushPolicy,
    timeout: std::time::Duration,
) -> (std::sync::Arc<scenarist::service::Service>, String) {
    use scenarist::store::{KvStore, MemoryBackend};
    let store = std::sync::Arc::new(KvStore::new(MemoryBackend::default()));
    in_process_on(store, flush, timeout).await
}

/// The same over `store`, on `facebook:acme` running the example `zendesk_handoff`.
pub(crate) async fn in_process_on(
    store: std::sync::Arc<dyn scenarist::store::Store>,
    flush: scenarist::runtime::FlushPolicy,
    timeout: std::time::Duration,
) -> (std::sync::Arc<scenarist::service::Service>, String) {
    use std::collections::HashMap;
    use std::sync::Arc;

    use scenarist::runtime::engine::{Engine, EngineOptions};
    use scenarist::runtime::{Clock, SystemClock};
    use scenarist::service::Service;
    use scenarist::zendesk::actions::ZendeskActions;

    let zendesk = Arc::new(ZendeskActions::new(
        HashMap::new(),
        HashMap::new(),
        Arc::clone(&store),
    ));
    let options = EngineOptions {
        flush,
        routes: HashMap::from([("facebook:acme".to_owned(), "zendesk_handoff".to_owned())]),
        ..EngineOptions::default()
    };
    let engine = Engine::new(
        store,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        zendesk.clone(),
        options,
    );
    let source = std::fs::read_to_string(root().join("scenarios/zendesk_handoff.scn")).unwrap();
    engine.publish(&source).unwrap();
    let guards = guards(timeout);
    let service = Service::new(engine, zendesk, guards);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = scenarist::service::router(Arc::clone(&service));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (service, base)
}

/// The guards of an in-process service: [`TOKEN`], the defaults, the example config.
pub(crate) fn guards(request_timeout: std::time::Duration) -> scenarist::service::Guards {
    use scenarist::config::Workspace;
    use scenarist::service::{AccountGuards, Guards, reload};
    Guards {
        token: scenarist::zendesk::secret::Secret::new(TOKEN),
        admin_token: Some(scenarist::zendesk::secret::Secret::new(ADMIN_TOKEN)),
        hosts: scenarist::service::browsers::Hosts::any(),
        accounts: AccountGuards::default(),
        max_body_bytes: 65_536,
        request_timeout,
        source: reload::Source {
            path: None,
            started: Workspace::default_workspace().unwrap().config,
        },
        routes: scenarist::service::RouteLimits::new(1000, 10),
        public_metrics: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_and_timeouts_answer_503() {
    use scenarist::runtime::FlushPolicy;
    let hi = |id: &str| {
        json!({ "account": "facebook:acme", "conversation": "c", "message_id": id,
        "contact": { "id": "u" }, "text": "Hi" })
    };
    let client = reqwest::Client::new();
    let send = |base: String, body: Value| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("{base}/v1/messages"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    // A flush that takes 2 s, an answer due within 100 ms.
    let (_, base) = in_process(
        FlushPolicy::GroupCommit { interval_ms: 2000 },
        std::time::Duration::from_millis(100),
    )
    .await;
    let (status, body) = send(base.clone(), hi("m-1")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("timeout")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("same message_id")
    );

    let (service, base) = in_process(
        FlushPolicy::EveryMessage,
        std::time::Duration::from_secs(10),
    )
    .await;
    assert_eq!(send(base.clone(), hi("m-1")).await.0, 200);
    service.drain();
    let (status, body) = send(base.clone(), hi("m-2")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("shutting_down")),
        "{body}"
    );
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "liveness answers while draining"
    );
}

/// SIGTERM while a message waits for its flush: it still gets its 200, `serve` exits 0, and
/// after a restart the message is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_message_in_flight_finish() {
    let dir = tempdir();
    let config = workspace(&dir);
    // Each flush waits 1.5 s first: the message is still in flight when SIGTERM comes.
    let text = std::fs::read_to_string(&config).unwrap()
        + "durability: { flush: group_commit, interval_ms: 1500 }\n";
    std::fs::write(&config, text).unwrap();
    let mut server = start(&config);
    let base = server.1.clone();
    let in_flight =
        tokio::spawn(async move { post(&base, body("facebook:slow", "late"), &[]).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (status, answer) = in_flight.await.unwrap();
    assert_eq!(status, 200, "the message in flight is answered: {answer}");
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "exit 0 after a graceful stop: {exit}");

    let server = start(&config);
    let response = reqwest::Client::new()
        .get(format!("{}/v1/conversations/facebook:slow-c", server.1))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let conversation: Value = response.json().await.unwrap();
    let texts: Vec<&str> = conversation["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts.first(), Some(&"Hi"), "{conversation}");
}

/// What `serve` says when it refuses to start on `config` (every secret set).
fn refused(config: &Path) -> String {
    let all = [
        ("SCENARIST_API_TOKEN", TOKEN),
        ("TEST_SIGNING_SECRET", SECRET),
    ];
    let output = serve(config, &all, &[]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(output.status.code(), Some(0), "{text}");
    text
}

/// An account whose scenario no file declares, or a scenario name declared by two files:
/// `serve` does not start (every message of that account would fail, or one file would
/// silently replace the other), and `lint` on the config's folder says the same.
#[test]
fn serve_and_lint_refuse_a_missing_or_doubled_scenario() {
    let dir = tempdir();
    let config = workspace(&dir);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "facebook:slow: { channel: facebook, scenario: zendesk_handoff",
            "facebook:slow: { channel: facebook, scenario: zendesk_handof",
        ),
    )
    .unwrap();
    let text = refused(&config);
    assert!(
        text.contains("W402")
            && text.contains("account `facebook:slow` runs scenario `zendesk_handof`")
            && text.contains("did you mean `zendesk_handoff`?")
            && text.contains("scenarist.yaml:"),
        "{text}"
    );

    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("zendesk_handof,", "zendesk_handoff,"),
    )
    .unwrap();
    std::fs::copy(
        dir.join("scenarios/zendesk_handoff.scn"),
        dir.join("scenarios/zendesk_handoff_v2.scn"),
    )
    .unwrap();
    let text = refused(&config);
    assert!(
        text.contains("C117") && text.contains("scenario `zendesk_handoff` is also declared in"),
        "{text}"
    );
    let lint = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(["lint", "--config"])
        .arg(&config)
        .arg(dir.join("scenarios"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&lint.stdout);
    assert_eq!(lint.status.code(), Some(1), "{report}");
    assert!(
        report.contains("C117") && report.contains("1 error"),
        "{report}"
    );
}

/// One raw HTTP/1.1 exchange with `address`; the status and the whole answer.
fn exchange(address: &str, request: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// `--dev` is not an open door for web pages: it makes up a token (printed in its welcome),
/// answers only its loopback host names (DNS rebinding), and refuses other sites' `Origin`
/// and bodies that are not JSON (CSRF) — the request a hostile page sent before, a
/// `text/plain` reload from `evil.example`, is refused on every count.
#[test]
fn dev_mode_refuses_what_a_web_page_can_send() {
    use std::io::BufRead as _;
    let dir = tempdir();
    let mut child = serve(
        &workspace(&dir),
        &[("TEST_SIGNING_SECRET", SECRET)],
        &["--dev", "--listen", "127.0.0.1:0"],
    )
    .stdout(Stdio::piped())
    .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
    .spawn()
    .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut address, mut token, mut admin) = (None, None, None);
    let mut curl = String::new();
    while curl.is_empty() || admin.is_none() {
        let line = lines.next().expect("the welcome").unwrap();
        if let Some(url) = line.strip_prefix("Scenarist is listening on http://") {
            address = Some(url.to_owned());
        } else if let Some(rest) = line.strip_prefix("API token for this run") {
            token = rest.rsplit(' ').next().map(str::to_owned);
        } else if let Some(rest) = line.strip_prefix("Admin token for this run") {
            admin = rest.rsplit(' ').next().map(str::to_owned);
        } else if line.trim_start().starts_with("curl") {
            curl = line;
        }
    }
    let _server = Running(child, String::new());
    let (address, token) = (address.unwrap(), token.unwrap());
    assert_eq!(token.len(), 64, "32 random bytes: {token}");
    assert!(
        curl.contains(&format!("Authorization: Bearer {token}")),
        "{curl}"
    );

    let request = |host: &str, extra: &str, content_type: &str, body: &str| {
        format!(
            "POST /v1/admin/reload HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let admin = admin.unwrap();
    assert_eq!(admin.len(), 64, "32 random bytes: {admin}");
    assert_ne!(admin, token, "the admin token is not the API token");
    let auth = format!("Authorization: Bearer {admin}\r\n");
    let own = address.clone();
    // The hostile page's request, then each of its parts alone.
    let hostile = request(
        "evil.example",
        "Origin: http://evil.example\r\n",
        "text/plain",
        "{}",
    );
    assert_eq!(exchange(&address, &hostile).0, 421);
    let rebound = request(
        &format!("evil.example:{}", address.rsplit(':').next().unwrap()),
        &auth,
        "application/json",
        "{}",
    );
    let (status, answer) = exchange(&address, &rebound);
    assert_eq!(status, 421, "{answer}");
    assert!(answer.contains("foreign_host"), "{answer}");
    let origin = format!("{auth}Origin: http://evil.example\r\n");
    let (status, answer) = exchange(&address, &request(&own, &origin, "application/json", "{}"));
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("foreign_origin"), "{answer}");
    let (status, answer) = exchange(&address, &request(&own, &auth, "text/plain", "{}"));
    assert_eq!(status, 415, "{answer}");
    assert!(answer.contains("unsupported_media_type"), "{answer}");
    let (status, _) = exchange(&address, &request(&own, "", "application/json", "{}"));
    assert_eq!(status, 401, "--dev has a token too");
    // The service's own origin, `localhost`, JSON and the token: served.
    let localhost = format!("localhost:{}", address.rsplit(':').next().unwrap());
    let same = format!("{auth}Origin: http://{localhost}\r\n");
    let (status, answer) = exchange(
        &address,
        &request(&localhost, &same, "application/json; charset=utf-8", ""),
    );
    assert_eq!(status, 200, "{answer}");
}

/// `/v1/admin/*` takes the operator's token only: the API token the channels hold is refused
/// (a leaked channel token cannot reload the service), the admin token opens no channel route,
/// `/metrics` (closed by `public_metrics: false`) takes either, and without an admin token the
/// admin endpoints are off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints_take_the_admin_token_and_only_it() {
    let dir = tempdir();
    let config = workspace(&dir);
    let text = std::fs::read_to_string(&config).unwrap() + "service:\n  public_metrics: false\n";
    std::fs::write(&config, text).unwrap();
    let server = start(&config);
    let base = &server.1;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, token: &str| {
        let request = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token)
            .header("Content-Type", "application/json");
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, answer) = send(reqwest::Method::POST, "/v1/admin/reload", TOKEN).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &json!("not_admin")),
        "{answer}"
    );
    Doc::load().check_response("POST", "/v1/admin/reload", status, &answer);
    let (status, answer) = send(reqwest::Method::POST, "/v1/admin/reload", "guessed").await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = send(reqwest::Method::POST, "/v1/admin/reload", ADMIN_TOKEN).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = send(reqwest::Method::GET, "/v1/conversations/c-1", ADMIN_TOKEN).await;
    assert_eq!(status, 401, "the admin token is not a channel's");
    let (status, _) = send(reqwest::Method::GET, "/metrics", ADMIN_TOKEN).await;
    assert_eq!(status, 200);
    let (status, _) = send(reqwest::Method::GET, "/metrics", "guessed").await;
    assert_eq!(status, 401, "public_metrics: false");
    drop(server);

    // Started without an admin token: the admin endpoints are off, whatever is sent.
    let mut child = serve(
        &config,
        &[
            ("SCENARIST_API_TOKEN", TOKEN),
            ("TEST_SIGNING_SECRET", SECRET),
        ],
        &["--listen", "127.0.0.1:0"],
    )
    .stdout(Stdio::piped())
    .stderr(std::fs::File::create(dir.join("no-admin.log")).unwrap())
    .spawn()
    .unwrap();
    let base = crate::service::listening(&mut child);
    let _server = Running(child, base.clone());
    for token in [TOKEN, ADMIN_TOKEN] {
        let response = client
            .post(format!("{base}/v1/admin/reload"))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "admin_disabled", "{answer}");
    }
}

#[test]
fn serve_refuses_an_admin_token_equal_to_the_api_token() {
    let dir = tempdir();
    let output = serve(
        &workspace(&dir),
        &[
            ("SCENARIST_API_TOKEN", TOKEN),
            ("SCENARIST_ADMIN_TOKEN", TOKEN),
            ("TEST_SIGNING_SECRET", SECRET),
        ],
        &["--listen", "127.0.0.1:0"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("must differ from the API token"),
        "{stderr}"
    );
}

/// `/metrics` is open by default, for a private scrape port: `serve` says so in a warning when
/// it listens on a non-loopback address, and not once `public_metrics: false` closes it.
#[test]
fn open_metrics_on_a_public_address_are_warned_about() {
    let warned = |service: &str| {
        let dir = tempdir();
        let config = workspace(&dir);
        let text = std::fs::read_to_string(&config).unwrap() + service;
        std::fs::write(&config, text).unwrap();
        let log = dir.join("serve.log");
        let mut child = serve(
            &config,
            &[
                ("SCENARIST_API_TOKEN", TOKEN),
                ("SCENARIST_ADMIN_TOKEN", ADMIN_TOKEN),
                ("TEST_SIGNING_SECRET", SECRET),
            ],
            &["--listen", "0.0.0.0:0"],
        )
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
        // Listening means the start-up checks (and their warnings) are behind it.
        let _ = crate::service::listening(&mut child);
        let _ = child.kill();
        let _ = child.wait();
        std::fs::read_to_string(&log).unwrap()
    };
    let open = warned("");
    assert!(
        open.contains("GET /metrics is open on 0.0.0.0:")
            && open.contains("service.public_metrics: false"),
        "{open}"
    );
    let closed = warned("service:\n  public_metrics: false\n");
    assert!(!closed.contains("GET /metrics is open"), "{closed}");
}
