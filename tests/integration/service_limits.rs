//! The door against peers without credentials, with real sockets: slow request heads
//! (slowloris) and silent or idle connections are closed after their timeouts, connections
//! beyond the cap are turned away at once while the service stays up, ids are capped, and
//! SIGTERM answers every request already sent (200, or 503 with `Retry-After`) — never a
//! reset connection.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::service_guards::{Running, TOKEN, start, workspace};
use crate::support::tempdir;

/// A workspace whose `service:` block is `service`.
fn with_service(dir: &Path, service: &str) -> std::path::PathBuf {
    let config = workspace(dir);
    let text = std::fs::read_to_string(&config).unwrap() + "service:\n" + service;
    std::fs::write(&config, text).unwrap();
    config
}

fn address(server: &Running) -> String {
    server.1.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes: `Some(what was read)`, or `None` if it is still open after
/// `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&read).into_owned()),
            Ok(n) => read.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&read).into_owned());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
}

fn health(address: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

#[test]
fn slow_silent_and_idle_connections_are_closed() {
    let dir = tempdir();
    let config = with_service(&dir, "  header_timeout_ms: 600\n  idle_timeout_ms: 1200\n");
    let server = start(&config);
    let address = address(&server);
    // Slowloris: a request head one byte at a time, never finished.
    let mut slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            stream
        })
        .collect();
    let silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    let started = Instant::now();
    let mut open = slow.len();
    while open > 0 && started.elapsed() < Duration::from_secs(6) {
        open = 0;
        for stream in &mut slow {
            // A write to a closed connection fails (or is the first to be reset).
            if stream.write_all(b"X").is_ok() {
                open += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        open,
        0,
        "slow heads still open after {:?}",
        started.elapsed()
    );
    for mut stream in silent {
        assert!(
            closed_within(&mut stream, Duration::from_secs(3)).is_some(),
            "a connection that sends nothing is closed after the header timeout"
        );
    }
    // Keep-alive: one request, then idle until the idle timeout closes it.
    let mut idle = TcpStream::connect(&address).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let waited = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).is_some(),
        "idle connection kept"
    );
    assert!(
        waited.elapsed() >= Duration::from_secs(1),
        "closed before its idle timeout"
    );
    assert_eq!(health(&address), Some(200));
}

#[test]
fn connections_beyond_the_cap_are_turned_away_and_the_service_recovers() {
    let dir = tempdir();
    let config = with_service(&dir, "  max_connections: 8\n  header_timeout_ms: 30000\n");
    let server = start(&config);
    let address = address(&server);
    let held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    // Connections are counted once the server takes them: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..50 {
        let mut extra = TcpStream::connect(&address).unwrap();
        let answer =
            closed_within(&mut extra, Duration::from_secs(3)).expect("turned away at once");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(
            answer.contains("too_many_connections") && answer.contains("retry-after: 1"),
            "{answer}"
        );
    }
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while health(&address) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the service never took connections again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_over_the_cap_or_with_control_characters_are_refused() {
    let dir = tempdir();
    let server = start(&workspace(&dir));
    let client = reqwest::Client::new();
    let post = |path: String, body: Value| {
        client
            .post(format!("{}{path}", server.1))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let message = |conversation: &str, message_id: &str| {
        json!({ "account": "facebook:slow", "conversation": conversation, "message_id": message_id,
                "contact": { "id": "u" }, "text": "Hi" })
    };
    let long = "c".repeat(30_000);
    for (body, field) in [
        (message(&long, "m-1"), "conversation"),
        (message("c-1", &long), "message_id"),
        (message("c-1", "m-1\nFORGED log line"), "message_id"),
        (message("c-1\u{1b}[31m", "m-1"), "conversation"),
    ] {
        let response = post("/v1/messages".into(), body).await.unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let answer: Value = response.json().await.unwrap();
        let text = answer["error"]["message"].as_str().unwrap();
        assert!(text.contains(&format!("`{field}`")), "{text}");
        assert!(text.len() < 300, "the id is not echoed back: {text}");
    }
    let advisor = json!({ "message_id": "a\r\n1", "advisor": { "id": "g" }, "text": "x" });
    let response = post("/v1/conversations/c-1/advisor-messages".into(), advisor)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let path = format!("/v1/conversations/{}/close", "x".repeat(300));
    let response = post(path, json!({})).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // Nothing of the refused ids reached the log.
    let logged = std::fs::read_to_string(dir.join("scenarist.log")).unwrap();
    assert!(
        !logged.contains("FORGED") && !logged.contains(&long[..1000]),
        "{logged}"
    );
}

/// A raw `POST /v1/messages` on `account` (the connection closes after the answer).
fn raw_message(account: &str, conversation: &str) -> Vec<u8> {
    let body = json!({ "account": account, "conversation": conversation,
        "message_id": "m-1", "contact": { "id": "u" }, "text": "Hi" })
    .to_string();
    format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The status of the whole answer read from `stream` (which the server closes after it).
fn answered(stream: &mut TcpStream) -> Result<(u16, String), String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("{e} after {} bytes", answer.len()))?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok());
    status
        .map(|status| (status, answer.clone()))
        .ok_or(format!("no answer: {answer:?}"))
}

fn signal(server: &Running, name: &str) {
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// Requests already sent when SIGTERM arrives — in flight, waiting on keep-alive connections,
/// or in the listen backlog on new ones — each get a whole answer: 200, or 503 with
/// `Retry-After`. The server is stopped (SIGSTOP) while they are sent, so all of them are
/// there, unread, when the signal is handled.
#[test]
fn sigterm_answers_every_request_already_sent() {
    let dir = tempdir();
    let config = workspace(&dir);
    // Each flush waits 300 ms first: the first requests are still in flight at the signal.
    let text = std::fs::read_to_string(&config).unwrap()
        + "  facebook:open: { channel: facebook, scenario: zendesk_handoff }\n"
        + "durability: { flush: group_commit, interval_ms: 300 }\n";
    std::fs::write(&config, text).unwrap();
    let mut server = start(&config);
    let address = address(&server);
    let mut kept: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut head = [0u8; 12];
            stream.read_exact(&mut head).unwrap();
            let mut rest = [0u8; 256];
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let _ = stream.read(&mut rest);
            stream
        })
        .collect();
    let mut streams: Vec<TcpStream> = (0..5)
        .map(|n| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(&raw_message("facebook:open", &format!("flight-{n}")))
                .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    signal(&server, "-STOP");
    for (n, stream) in kept.iter_mut().enumerate() {
        stream
            .write_all(&raw_message("facebook:open", &format!("kept-{n}")))
            .unwrap();
    }
    for n in 0..30 {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .write_all(&raw_message("facebook:open", &format!("new-{n}")))
            .unwrap();
        streams.push(stream);
    }
    signal(&server, "-TERM");
    signal(&server, "-CONT");
    let mut statuses = std::collections::BTreeMap::new();
    for stream in kept.iter_mut().chain(streams.iter_mut()) {
        let (status, answer) =
            answered(stream).unwrap_or_else(|e| panic!("a request sent before SIGTERM: {e}"));
        assert!(
            status == 200 || (status == 503 && answer.contains("retry-after: 1")),
            "{answer}"
        );
        *statuses.entry(status).or_insert(0) += 1;
    }
    // The five in flight finish; requests read before the drain began may finish too.
    assert!(
        statuses.get(&200).is_some_and(|n| *n >= 5),
        "the requests in flight finish: {statuses:?}"
    );
    assert!(server.0.wait().unwrap().success());
}

/// A workspace with an account without a rate limit, `facebook:open`.
fn with_open_account(dir: &Path) -> std::path::PathBuf {
    let config = workspace(dir);
    let text = std::fs::read_to_string(&config).unwrap()
        + "  facebook:open: { channel: facebook, scenario: zendesk_handoff }\n";
    std::fs::write(&config, text).unwrap();
    config
}

/// Fields the config does not declare never reach the contact's record (the answer names
/// them), and a field's value is capped: a sender cannot grow a contact without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_contact_fields_are_dropped_and_values_capped() {
    let dir = tempdir();
    let server = start(&with_open_account(&dir));
    let client = reqwest::Client::new();
    let post = |message_id: String, fields: Value| {
        let body = json!({ "account": "facebook:open", "conversation": "c-fields",
            "message_id": message_id, "contact": { "id": "u", "fields": fields }, "text": "Hi" });
        client
            .post(format!("{}/v1/messages", server.1))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    for round in 0..20 {
        let mut fields = serde_json::Map::new();
        fields.insert("email".into(), json!(format!("ada{round}@example.com")));
        for n in 0..60 {
            fields.insert(format!("junk_{round}_{n}"), json!("x".repeat(500)));
        }
        let response = post(format!("m-{round}"), Value::Object(fields))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let answer: Value = response.json().await.unwrap();
        let ignored = answer["ignored_fields"].as_array().unwrap();
        assert_eq!(ignored.len(), 60, "{answer}");
        assert!(
            ignored
                .iter()
                .all(|name| name.as_str().unwrap().starts_with("junk_"))
        );
    }
    let shown: Value = client
        .get(format!("{}/v1/conversations/c-fields", server.1))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = shown["contact"]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["email"], "{shown}");
    assert_eq!(fields["email"], "ada19@example.com");
    // A declared field with a huge value, and too many fields, are refused, naming them.
    let response = post("m-big".into(), json!({ "email": "a".repeat(2000) }))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`contact.fields.email`")
    );
    let many: serde_json::Map<String, Value> =
        (0..65).map(|n| (format!("f{n}"), json!(1))).collect();
    let response = post("m-many".into(), Value::Object(many)).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

/// The value of the gauge or counter `name` in a Prometheus text.
fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// With `public_metrics: false`, `/metrics` needs a token; its outbox depth is kept by the
/// commits: with Zendesk refusing, the depth counted one commit at a time equals the one a
/// restart counts from the records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_count_the_outbox_as_it_commits() {
    use crate::service::{Server, message};
    let dir = tempdir();
    let config = crate::service::example_config(
        &dir,
        &[
            ("public_metrics: true ", "public_metrics: false"),
            ("url: http://127.0.0.1:8788", "url: http://127.0.0.1:0"),
            ("url: http://127.0.0.1:8789", "url: http://127.0.0.1:0"),
        ],
    );
    let data = dir.join("data");
    let server = Server::start_with(Some(&config), &data);
    let scrape = |server: &Server, token: bool| {
        let mut request = server.client.get(format!("{}/metrics", server.base));
        if token {
            request = request.bearer_auth(crate::service::TOKEN);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(scrape(&server, false).await.0, 401, "without the token");
    let (status, text) = scrape(&server, true).await;
    assert_eq!(status, 200);
    assert_eq!(metric(&text, "scenarist_outbox_depth"), 0);
    // Zendesk answers 429 for the next ten minutes: the tickets' effects stay in the outbox.
    let fault = json!({ "path_prefix": "/api/v2",
        "kind": { "TooManyRequests": { "retry_after": 600, "text_plain": false } }, "times": 1000 });
    let login = scenarist::zendesk::sandbox::login();
    let (user, password) = login.split_once(':').unwrap();
    let response = server
        .client
        .post(format!("{}/__standin/faults", server.sandboxes[0]))
        .basic_auth(user, Some(password))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    for n in 0..3 {
        let conversation = format!("c-{n}");
        for (id, text) in [("m-1", "Hi"), ("m-2", "ada@example.com")] {
            let (status, answer) = server
                .post("/v1/messages", &message(&conversation, id, text))
                .await;
            assert_eq!(status, 200, "{answer}");
        }
    }
    // The effects ran once (and met the 429) before the depth is read.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let depth = metric(&scrape(&server, true).await.1, "scenarist_outbox_depth");
    assert!(depth >= 3, "a ticket to create per conversation: {depth}");
    assert!(server.terminate().success());
    let server = Server::start_with(Some(&config), &data);
    let counted = metric(&scrape(&server, true).await.1, "scenarist_outbox_depth");
    assert_eq!(counted, depth, "counted from the records at start");
}

/// The status of `GET /metrics` without the token.
async fn untokened_metrics(base: &str) -> u16 {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    response.status().as_u16()
}

/// Every `/v1` route has a rate limit: the contact routes (which call Zendesk) their own,
/// the others one for all callers; contact messages keep their per-account limits.
/// `/metrics` is open by default and can be closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_rate_limited() {
    let client = reqwest::Client::new();
    let get = |base: String, path: &'static str| {
        let request = client.get(format!("{base}{path}")).bearer_auth(TOKEN);
        async move {
            let response = request.send().await.unwrap();
            let retry = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), retry)
        }
    };
    let statuses = |answers: Vec<(u16, bool)>| {
        answers
            .iter()
            .map(|(status, retry)| {
                assert_eq!(*status == 429, *retry, "429 comes with Retry-After");
                *status
            })
            .collect::<Vec<_>>()
    };

    let dir = tempdir();
    let config = with_service(&dir, "  max_zendesk_requests_per_second: 1\n");
    let server = start(&config);
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(
            get(
                server.1.clone(),
                "/v1/contacts/u/zendesk?account=facebook:slow",
            )
            .await,
        );
    }
    let statuses_seen = statuses(answers);
    assert!(
        statuses_seen[..2].iter().all(|s| *s != 429),
        "{statuses_seen:?}"
    );
    assert_eq!(statuses_seen[2..], [429, 429], "a burst of 2, then 429");
    assert_eq!(
        get(server.1.clone(), "/v1/conversations/none").await.0,
        404,
        "another bucket"
    );
    assert_eq!(
        untokened_metrics(&server.1).await,
        200,
        "/metrics is open by default"
    );
    drop(server);

    let dir = tempdir();
    let server = start(&with_service(
        &dir,
        "  max_requests_per_second: 2\n  public_metrics: false\n",
    ));
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(get(server.1.clone(), "/v1/conversations/none").await);
    }
    assert_eq!(
        statuses(answers),
        [404, 404, 404, 404, 429, 429],
        "a burst of 4, then 429"
    );
    assert_eq!(
        untokened_metrics(&server.1).await,
        401,
        "public_metrics: false, so the token is needed"
    );
    let body = json!({ "account": "facebook:slow", "conversation": "c-1", "message_id": "m-1",
        "contact": { "id": "u" }, "text": "Hi" });
    let response = client
        .post(format!("{}/v1/messages", server.1))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "messages have their own limits"
    );
}
