//! `scenarist studio` over HTTP, as the page and as an attacker use it: the door (DNS
//! rebinding, other sites' requests, the token beyond loopback, bounded bodies), the folder
//! (path traversal, symbolic links, other extensions), and a chat through the mode-B flow
//! to its Zendesk sandbox ticket, saved as a transcript test that `scenarist test` passes.
//! The same flow in a real browser is `studio_browser`.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::support::{root, tempdir};

/// A workspace: the example config and the mode-B scenario in `dir/scenarios`.
pub(crate) fn workspace(dir: &Path) -> PathBuf {
    let folder = dir.join("scenarios");
    std::fs::create_dir_all(&folder).unwrap();
    for file in [
        "scenarist.yaml",
        "zendesk_handoff.scn",
        "zendesk_handoff.test.yaml",
    ] {
        std::fs::copy(root().join("scenarios").join(file), folder.join(file)).unwrap();
    }
    folder.join("scenarist.yaml")
}

/// A running studio; killed when dropped.
pub(crate) struct Studio {
    child: Child,
    /// The URL it printed (`http://127.0.0.1:PORT/`, with `?token=…` beyond loopback).
    pub(crate) url: String,
}

impl Drop for Studio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Studio {
    pub(crate) fn start(config: &Path, listen: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
        command
            .args(["--config"])
            .arg(config)
            .args(["studio", "--listen", listen])
            .env("NO_COLOR", "1")
            .env_remove("SCENARIST_STUDIO_TOKEN")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(config.with_extension("studio.log")).unwrap());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the studio's URL").unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        // Keep reading stdout so the studio never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }

    /// `host:port`.
    pub(crate) fn address(&self) -> String {
        let rest = self.url.trim_start_matches("http://");
        rest.split('/').next().unwrap().to_owned()
    }

    /// The base URL without the token.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.address())
    }
}

async fn call(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// One raw HTTP/1.1 exchange; the status.
fn exchange(address: &str, request: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Every way out of the scenarios folder is refused, reading and saving, and nothing
/// outside changes: `..` (plain and percent-encoded), absolute paths, a symbolic link to a
/// file outside, a folder that is a link outside, hidden files and other extensions.
#[tokio::test(flavor = "multi_thread")]
async fn the_studio_reads_and_writes_only_its_folders_scenarios_and_tests() {
    let dir = tempdir();
    let config = workspace(&dir);
    let folder = dir.join("scenarios");
    let secret = dir.join("secret.scn");
    std::fs::write(&secret, "outside").unwrap();
    std::os::unix::fs::symlink(&secret, folder.join("link.scn")).unwrap();
    std::os::unix::fs::symlink(&dir, folder.join("up")).unwrap();
    std::fs::write(folder.join("notes.txt"), "not mine").unwrap();
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let base = studio.base();

    let (status, listing) = call(reqwest::Method::GET, &format!("{base}/api/files"), None).await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!(
        listing["scenarios"],
        json!([{"path": "zendesk_handoff.scn", "tests": ["zendesk_handoff.test.yaml"]}]),
        "the link outside and the text file are not listed: {listing}"
    );
    let (status, file) = call(
        reqwest::Method::GET,
        &format!("{base}/api/file?path=zendesk_handoff.scn"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        file["text"]
            .as_str()
            .unwrap()
            .contains("scenario zendesk_handoff")
    );

    let attacks = [
        "../secret.scn",
        "%2e%2e/secret.scn",
        "..%2Fsecret.scn",
        "/etc/passwd",
        "%2Fetc%2Fpasswd.scn",
        "link.scn",
        "up/secret.scn",
        "up/scenarios/../secret.scn",
        ".hidden.scn",
        "notes.txt",
        "scenarist.yaml",
        "zendesk_handoff.scn%00.txt",
    ];
    for attack in attacks {
        let (status, body) = call(
            reqwest::Method::GET,
            &format!("{base}/api/file?path={attack}"),
            None,
        )
        .await;
        assert!(
            status == 403 || status == 404,
            "reading {attack}: {status} {body}"
        );
        assert_ne!(body["text"], json!("outside"), "{attack}");
        let path = percent_decode(attack);
        let (status, body) = call(
            reqwest::Method::PUT,
            &format!("{base}/api/file"),
            Some(json!({"path": path, "text": "scenario pwned { start a step a { end } }"})),
        )
        .await;
        assert!(
            status == 403 || status == 404,
            "saving {path}: {status} {body}"
        );
    }
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "outside");
    assert!(!dir.join("pwned.scn").exists());
    assert_eq!(
        std::fs::read_to_string(folder.join("notes.txt")).unwrap(),
        "not mine"
    );

    // Saving inside works, and a new file appears in the listing.
    let text = "scenario fresh {\n  start a\n\n  step a {\n    say \"Hi\"\n    end\n  }\n}\n";
    let (status, body) = call(
        reqwest::Method::PUT,
        &format!("{base}/api/file"),
        Some(json!({"path": "fresh.scn", "text": text})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read_to_string(folder.join("fresh.scn")).unwrap(),
        text
    );
    let leftovers: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.ends_with(".studio"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn percent_decode(text: &str) -> String {
    text.replace("%2e", ".")
        .replace("%2E", ".")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%00", "\0")
}

/// What a hostile web page can send is refused: a rebound host name, another site's
/// `Origin`, a form's `text/plain` body; and a body past the limit.
#[tokio::test(flavor = "multi_thread")]
async fn the_studio_refuses_what_other_sites_pages_send() {
    let dir = tempdir();
    let config = workspace(&dir);
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let address = studio.address();
    let post = |host: &str, extra: &str, content_type: &str| {
        let body = r#"{"path":"evil.scn","text":"x"}"#;
        format!(
            "PUT /api/file HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let json_type = "application/json";
    assert_eq!(
        exchange(&address, &post("evil.example", "", json_type)),
        421
    );
    let own_port = address.rsplit(':').next().unwrap();
    assert_eq!(
        exchange(
            &address,
            &post(&format!("evil.example:{own_port}"), "", json_type)
        ),
        421
    );
    let foreign = "Origin: http://evil.example\r\n";
    assert_eq!(exchange(&address, &post(&address, foreign, json_type)), 403);
    assert_eq!(exchange(&address, &post(&address, "", "text/plain")), 415);
    let get = "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(&address, get), 421, "the page itself too");
    assert!(!dir.join("scenarios/evil.scn").exists());
    // Its own origin passes.
    let own = format!("Origin: http://{address}\r\n");
    assert_eq!(exchange(&address, &post(&address, &own, json_type)), 200);

    let big = "x".repeat(scenarist::studio::MAX_BODY_BYTES + 1);
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{}/api/lint", studio.base()),
        Some(json!({"path": "big.scn", "text": big})),
    )
    .await;
    assert_eq!(status, 413, "{body}");
}

/// Beyond loopback every `/api/` request carries the token: the one given in
/// `SCENARIST_STUDIO_TOKEN`, else one made at start and printed in the URL.
#[tokio::test(flavor = "multi_thread")]
async fn beyond_loopback_the_studio_asks_for_its_token() {
    let dir = tempdir();
    let config = workspace(&dir);
    let studio = Studio::start(&config, "0.0.0.0:0", &[]);
    let token = studio
        .url
        .split("?token=")
        .nth(1)
        .expect("a token in the URL")
        .to_owned();
    assert_eq!(token.len(), 64, "{}", studio.url);
    let port = studio.address().rsplit(':').next().unwrap().to_owned();
    let files = format!("http://127.0.0.1:{port}/api/files");
    let client = reqwest::Client::new();
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };
    assert_eq!(status(client.get(&files)).await, 401);
    assert_eq!(
        status(client.get(&files).bearer_auth("0".repeat(64))).await,
        401
    );
    assert_eq!(status(client.get(&files).bearer_auth(&token)).await, 200);
    // The page itself loads without it (it reads the token from its own URL).
    assert_eq!(
        status(client.get(format!("http://127.0.0.1:{port}/"))).await,
        200
    );
    drop(studio);

    let given = "a-token-of-at-least-16-characters";
    let studio = Studio::start(&config, "0.0.0.0:0", &[("SCENARIST_STUDIO_TOKEN", given)]);
    assert!(
        studio.url.ends_with(&format!("?token={given}")),
        "{}",
        studio.url
    );
    let port = studio.address().rsplit(':').next().unwrap().to_owned();
    let files = format!("http://127.0.0.1:{port}/api/files");
    assert_eq!(status(client.get(&files).bearer_auth(given)).await, 200);
    assert_eq!(status(client.get(&files)).await, 401);
}

/// The page's flow over HTTP: lint a typo (a code, a span, a help), draw the graph, chat
/// through the mode-B flow with a wrong email, to the ticket in the Zendesk sandbox, with an
/// advisor, a return to the bot, a timeout and a close; save it as a test that the harness
/// and `scenarist test` pass.
#[tokio::test(flavor = "multi_thread")]
async fn a_chat_reaches_the_ticket_and_becomes_a_passing_test() {
    let dir = tempdir();
    let config = workspace(&dir);
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let base = studio.base();
    let post = |path: &str, body: Value| {
        let url = format!("{base}{path}");
        async move { call(reqwest::Method::POST, &url, Some(body)).await }
    };
    let text = std::fs::read_to_string(dir.join("scenarios/zendesk_handoff.scn")).unwrap();
    let typo = text.replace("goto check_email", "goto chek_email");
    let (status, linted) = post(
        "/api/lint",
        json!({"path": "zendesk_handoff.scn", "text": typo}),
    )
    .await;
    assert_eq!(status, 200);
    let diagnostic = &linted["diagnostics"][0];
    assert_eq!(diagnostic["code"], "C101", "{linted}");
    assert_eq!(diagnostic["line"], 10);
    assert!(
        diagnostic["help"].as_str().unwrap().contains("check_email"),
        "{diagnostic}"
    );
    let (_, clean) = post(
        "/api/lint",
        json!({"path": "zendesk_handoff.scn", "text": text}),
    )
    .await;
    assert_eq!(clean["errors"], 0, "{clean}");
    let (_, drawing) = post(
        "/api/graph",
        json!({"path": "zendesk_handoff.scn", "text": text}),
    )
    .await;
    assert!(
        drawing["mermaid"]
            .as_str()
            .unwrap()
            .starts_with("flowchart TD")
    );
    assert!(
        drawing["nodes"]["ask_email"]
            .as_str()
            .unwrap()
            .starts_with('s')
    );
    let (status, refused) = post(
        "/api/sessions",
        json!({"path": "zendesk_handoff.scn", "text": typo}),
    )
    .await;
    assert_eq!(
        status, 422,
        "a scenario with errors does not run: {refused}"
    );

    let (status, chat) = post("/api/sessions", json!({"path": "zendesk_handoff.scn"})).await;
    assert_eq!(status, 200, "{chat}");
    assert_eq!(chat["account"], "facebook:acme", "the account that runs it");
    let id = chat["id"].as_str().unwrap().to_owned();
    let chat_post = |action: &str, body: Value| post(&format!("/api/sessions/{id}/{action}"), body);
    let (_, view) = chat_post("message", json!({"text": "Hi"})).await;
    assert_eq!(view["step"], "ask_email");
    assert_eq!(view["status"], "waiting");
    chat_post("message", json!({"text": "not an email"})).await;
    let (_, view) = chat_post("message", json!({"text": "ada@example.com"})).await;
    assert_eq!(view["team"], "Zendesk");
    assert_eq!(view["status"], "with_advisor");
    let ticket = view["ticket"].as_u64().expect("a ticket in the sandbox");
    let (status, read_back) = call(
        reqwest::Method::GET,
        &format!("{base}/api/sessions/{id}/ticket"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{read_back}");
    assert_eq!(read_back["id"], ticket);
    assert!(
        read_back["comments"][0]["body"]
            .as_str()
            .unwrap()
            .contains("ada@example.com"),
        "{read_back}"
    );
    chat_post("advisor", json!({"text": "Hello Ada, Grace here."})).await;
    let (status, refused) = chat_post("return", json!({"step": "route"})).await;
    assert_eq!(status, 400, "not an entry point: {refused}");
    let (_, view) = chat_post("return", json!({"step": "ask_email"})).await;
    assert_eq!(view["step"], "ask_email");
    let (_, view) = chat_post("wait", json!({"duration": "15m"})).await;
    assert_eq!(view["status"], "with_advisor", "the timeout routes: {view}");
    let (_, view) = chat_post("close", json!({})).await;
    assert_eq!(view["status"], "ended");

    let (status, saved) = chat_post("test", json!({"name": "over HTTP"})).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["passed"], true, "{saved}");
    let file = dir.join("scenarios").join(saved["path"].as_str().unwrap());
    let (status, again) = chat_post("test", json!({"name": "again"})).await;
    assert_eq!(status, 409, "no silent overwrite: {again}");
    let output = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .arg("test")
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("- wait: 15m"), "{written}");
    assert!(written.contains("return_to_bot: ask_email"), "{written}");
}

/// A scenario that calls actions (`ticket_sync`: the Zendesk sandbox finds or creates the
/// user and creates the ticket, through a shared flow): the saved test mocks each action
/// with what it gave in the chat, so the harness, which runs no connector, replays it.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_chat_mocks_the_actions_with_what_they_gave() {
    let dir = tempdir();
    let config = workspace(&dir);
    for file in ["ticket_sync.scn", "email_capture.scn"] {
        std::fs::copy(
            root().join("scenarios").join(file),
            dir.join("scenarios").join(file),
        )
        .unwrap();
    }
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let base = studio.base();
    let (status, chat) = call(
        reqwest::Method::POST,
        &format!("{base}/api/sessions"),
        Some(json!({"path": "ticket_sync.scn"})),
    )
    .await;
    assert_eq!(status, 200, "{chat}");
    let id = chat["id"].as_str().unwrap();
    for text in ["hi", "ada@example.com"] {
        call(
            reqwest::Method::POST,
            &format!("{base}/api/sessions/{id}/message"),
            Some(json!({"text": text})),
        )
        .await;
    }
    let (_, view) = call(
        reqwest::Method::GET,
        &format!("{base}/api/sessions/{id}"),
        None,
    )
    .await;
    let said: Vec<&str> = view["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(
        said.iter().any(|t| t.starts_with("Your ticket number is ")),
        "the sandbox created the ticket: {said:?}"
    );
    let (status, saved) = call(
        reqwest::Method::POST,
        &format!("{base}/api/sessions/{id}/test"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["passed"], true, "{saved}");
    let written =
        std::fs::read_to_string(dir.join("scenarios/ticket_sync.studio.test.yaml")).unwrap();
    let file: serde_yaml::Value = serde_yaml::from_str(&written).unwrap();
    let mocks = &file["tests"][0]["actions"];
    assert!(
        mocks["zendesk.create_ticket"]["result"]["id"].is_number(),
        "{written}"
    );
    assert!(
        mocks["zendesk.find_or_create_user"]["result"].is_mapping(),
        "{written}"
    );
}

/// A chat in one of the scenario's languages is saved with `language:`, and passes; a
/// language the scenario is not written in is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_chat_in_another_language_is_saved_with_it() {
    let dir = tempdir();
    let config = workspace(&dir);
    std::fs::copy(
        root().join("scenarios/bilingual.scn"),
        dir.join("scenarios/bilingual.scn"),
    )
    .unwrap();
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let base = studio.base();
    let sessions = format!("{base}/api/sessions");
    let (status, refused) = call(
        reqwest::Method::POST,
        &sessions,
        Some(json!({"path": "bilingual.scn", "language": "de"})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let (_, chat) = call(
        reqwest::Method::POST,
        &sessions,
        Some(json!({"path": "bilingual.scn", "language": "en"})),
    )
    .await;
    let id = chat["id"].as_str().unwrap();
    let (_, view) = call(
        reqwest::Method::POST,
        &format!("{sessions}/{id}/message"),
        Some(json!({"text": "Hello"})),
    )
    .await;
    let last = view["lines"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["choices"],
        json!(["Track my order", "Talk to someone"]),
        "{view}"
    );
    let (_, saved) = call(
        reqwest::Method::POST,
        &format!("{sessions}/{id}/test"),
        Some(json!({"file": "english.test.yaml"})),
    )
    .await;
    assert_eq!(saved["passed"], true, "{saved}");
    let written = std::fs::read_to_string(dir.join("scenarios/english.test.yaml")).unwrap();
    assert!(written.contains("language: en"), "{written}");
    assert!(
        written.contains("How can I help you? [Track my order | Talk to someone]"),
        "{written}"
    );
}
