//! `scenarist serve` as a channel gateway and an advisor tool use it: the binary runs on
//! the example config (its `acme` organization is the built-in Zendesk sandbox) with sled in
//! a temporary folder, and every call goes over real HTTP on loopback.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{root, tempdir};

/// The API token `Server` starts the service with.
pub(crate) const TOKEN: &str = "test-token-0123456789";
/// The operator's token for `/v1/admin/*` in the tests' services.
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token-9876543210";

/// Reads `serve`'s stdout until it says where it listens, then keeps draining it on a thread
/// (so the server never blocks on a full pipe); the base URL.
pub(crate) fn listening(child: &mut Child) -> String {
    welcome(child).0
}

/// The base URL and the URLs of the Zendesk sandboxes, from `serve`'s welcome.
fn welcome(child: &mut Child) -> (String, Vec<String>) {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    let mut sandboxes = Vec::new();
    loop {
        let line = lines.next().expect("serve printed its welcome").unwrap();
        if let Some(url) = line.strip_prefix("Scenarist is listening on ") {
            base = Some(url.to_owned());
        } else if let Some(rest) = line.strip_prefix("Zendesk sandbox ") {
            let url = rest
                .split(" at ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            sandboxes.push(url.to_owned());
        } else if line.starts_with("Send a first message") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (base.expect("serve printed its address"), sandboxes)
}

/// The allocator's variables `serve`'s defaults give way to (src/allocator.rs).
const MIMALLOC_VARIABLES: [&str; 2] = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"];

/// `serve`'s log, beside its data folder (appended to across restarts), for a failing test.
fn log_file(data: &Path) -> std::fs::File {
    std::fs::create_dir_all(data).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(data.with_extension("log"))
        .unwrap()
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// The Zendesk sandboxes `serve` started, by their URL.
    pub(crate) sandboxes: Vec<String>,
    pub(crate) client: reqwest::Client,
}

impl Server {
    /// Starts `serve` on the example config on a free port with `data` and waits until it
    /// says where it listens.
    pub(crate) fn start(data: &Path) -> Server {
        Self::start_with(None, data)
    }

    /// The same with the config `config`.
    pub(crate) fn start_with(config: Option<&Path>, data: &Path) -> Server {
        Self::start_with_env(config, data, &[])
    }

    /// The same with environment variables `env` set (mimalloc's removed unless set here).
    pub(crate) fn start_with_env(
        config: Option<&Path>,
        data: &Path,
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
        for name in MIMALLOC_VARIABLES {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .current_dir(root())
            .env("NO_COLOR", "1")
            // Logs from worker threads too (a held stderr lock once hung them all).
            .env("SCENARIST_LOG", "info")
            .env("SCENARIST_LOG_FORMAT", "json")
            .env_remove("SCENARIST_CONFIG")
            .env("SCENARIST_API_TOKEN", TOKEN)
            .env("SCENARIST_ADMIN_TOKEN", ADMIN_TOKEN)
            .stdout(Stdio::piped())
            .stderr(log_file(data))
            .spawn()
            .unwrap();
        let (base, sandboxes) = welcome(&mut child);
        Server {
            child,
            base,
            sandboxes,
            client: reqwest::Client::new(),
        }
    }

    /// `GET /metrics` with the token: the Prometheus text.
    pub(crate) async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// `method path` with the token and `body` (if any); the status and the JSON body.
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    /// A POST with an `Idempotency-Key`.
    pub(crate) async fn post_keyed(&self, path: &str, body: &Value, key: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    /// A GET on the first Zendesk sandbox, as its agent.
    pub(crate) async fn sandbox_get(&self, path: &str) -> Value {
        let login = scenarist::zendesk::sandbox::login();
        let (user, password) = login.split_once(':').unwrap();
        self.client
            .get(format!("{}{path}", self.sandboxes[0]))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// SIGTERM, and the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the contact wrote, in the order of the conversation's history (a `GET` body).
pub(crate) fn contact_texts(conversation: &Value) -> Vec<&str> {
    conversation["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "contact")
        .filter_map(|m| m["text"].as_str())
        .collect()
}

/// A contact message of `facebook:acme`, from the contact `u-<conversation>`.
pub(crate) fn message(conversation: &str, id: &str, text: &str) -> Value {
    json!({
        "account": "facebook:acme",
        "conversation": conversation,
        "message_id": id,
        "contact": { "id": format!("u-{conversation}"), "name": "Ada Lovelace", "fields": { "email": null } },
        "text": text,
        "sent_at": "2026-11-28T10:00:00Z",
    })
}

/// Polls the conversation until `done` holds (the Zendesk sync runs in the background).
pub(crate) async fn wait_for(server: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, conversation) = server.get(&format!("/v1/conversations/{id}")).await;
        if done(&conversation) || Instant::now() > deadline {
            return conversation;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `serve`'s allocator default (src/allocator.rs) is in force, and mimalloc's own variable
/// still wins: read back from mimalloc, so an option number that no longer names the option
/// fails here.
#[test]
fn serve_runs_with_the_allocator_defaults_unless_the_environment_sets_them() {
    let started = |env: &[(&str, &str)]| {
        let data = tempdir().join("data");
        let server = Server::start_with_env(None, &data, env);
        assert!(server.terminate().success());
        std::fs::read_to_string(data.with_extension("log")).unwrap()
    };
    let defaults = started(&[]);
    assert!(
        defaults.contains("allocator: freed pages returned after 10 ms"),
        "{defaults}"
    );
    let operator = started(&[("MIMALLOC_PURGE_DELAY", "250")]);
    assert!(
        operator.contains("allocator: freed pages returned after 250 ms"),
        "{operator}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_flow_over_http_creates_the_ticket_and_advisors_act() {
    let data = tempdir().join("data");
    let server = Server::start(&data);
    let (status, first) = server
        .post("/v1/messages", &message("c-1", "m-1", "Hi"))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["replies"][2]["text"], "What is your email address?");
    assert_eq!(first["status"], "waiting");
    let (_, second) = server
        .post("/v1/messages", &message("c-1", "m-2", "ada@example.com"))
        .await;
    assert_eq!(second["team"], "Zendesk");
    assert_eq!(second["status"], "with_advisor");
    assert_eq!(second["duplicate"], false);
    let (_, again) = server
        .post("/v1/messages", &message("c-1", "m-2", "ada@example.com"))
        .await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        again["replies"], second["replies"],
        "the first answer again"
    );

    let conversation = wait_for(&server, "c-1", |c| !c["zendesk"]["ticket_id"].is_null()).await;
    assert_eq!(conversation["zendesk"]["ticket_id"], 4001, "{conversation}");
    // In Zendesk (the sandbox, over its API): the ticket with the message history.
    let comments = ticket_text(&server, 4001).await;
    for said in ["Hi", "What is your email address?", "ada@example.com"] {
        assert!(
            comments.contains(said),
            "{said:?} not in the ticket: {comments}"
        );
    }
    assert_eq!(
        conversation["contact"]["fields"]["email"],
        "ada@example.com"
    );
    assert_eq!(conversation["team"], "Zendesk");

    let advisor = json!({ "message_id": "a-1", "advisor": { "id": "g", "name": "Grace" }, "text": "Grace here" });
    let (status, _) = server
        .post("/v1/conversations/c-1/advisor-messages", &advisor)
        .await;
    assert_eq!(status, 200);
    // Only the start and the `entry` steps take a conversation back.
    let (status, refused) = server
        .post(
            "/v1/conversations/c-1/return-to-bot",
            &json!({ "step": "route" }),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "not_an_entry_point", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("welcome, ask_email")),
        "{refused}"
    );
    let (status, back) = server
        .post(
            "/v1/conversations/c-1/return-to-bot",
            &json!({ "step": "ask_email" }),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["status"], "waiting");
    let (status, closed) = server.post("/v1/conversations/c-1/close", &json!({})).await;
    assert_eq!((status, &closed["status"]), (200, &json!("ended")));
    let conversation = wait_for(&server, "c-1", |c| c["zendesk"]["solved"] == true).await;
    assert_eq!(conversation["zendesk"]["solved"], true, "{conversation}");
    let history = conversation["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|m| m["author"] == "advisor" && m["text"] == "Grace here")
    );

    assert!(server.terminate().success(), "SIGTERM exits 0");
    // One JSON log line per message, with its account, conversation and message id; no secret.
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    let answered: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "answered")
        .collect();
    let m2 = answered
        .iter()
        .find(|line| line["span"]["message_id"] == "m-2")
        .unwrap_or_else(|| panic!("no line for m-2 in {log}"));
    assert_eq!(m2["span"]["conversation"], "c-1");
    assert_eq!(m2["span"]["account"], "facebook:acme");
    assert!(
        answered
            .iter()
            .any(|l| l["fields"]["outcome"] == "duplicate"),
        "{log}"
    );
    assert!(!log.contains(TOKEN), "the API token is never logged");
    // The clean stop left sled's snapshot: the next start reads it instead of the log.
    assert!(log.contains("store snapshot written"), "{log}");
    // Restarted on the same data, the conversation is still there.
    let server = Server::start(&data);
    let (status, conversation) = server.get("/v1/conversations/c-1").await;
    assert_eq!((status, &conversation["status"]), (200, &json!("ended")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_its_status_and_a_json_body() {
    let server = Server::start(&tempdir().join("data"));
    let url = |path: &str| format!("{}{path}", server.base);
    let code = |body: &Value| {
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let response = server
        .client
        .post(url("/v1/messages"))
        .json(&message("c-1", "m-1", "Hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401, "no token");
    let response = server
        .client
        .get(url("/v1/conversations/c-1"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401, "a wrong token");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "unauthorized");

    let mut missing = message("c-1", "m-1", "Hi");
    missing.as_object_mut().unwrap().remove("text");
    let (status, body) = server.post("/v1/messages", &missing).await;
    assert_eq!((status, code(&body)), (400, "bad_request".into()));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `text`"),
        "{body}"
    );
    let response = server
        .client
        .post(url("/v1/messages"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);

    let (status, body) = server.get("/v1/conversations/nobody").await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation".into()));
    let (status, body) = server
        .post(
            "/v1/conversations/nobody/team",
            &json!({ "team": "Zendesk" }),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_conversation".into()));

    let mut unknown = message("c-2", "m-1", "Hi");
    unknown["account"] = json!("telegram:nobody");
    let (status, body) = server.post("/v1/messages", &unknown).await;
    assert_eq!((status, code(&body)), (422, "unknown_account".into()));

    let big = message("c-3", "m-1", &"x".repeat(100_000));
    let (status, body) = server.post("/v1/messages", &big).await;
    assert_eq!((status, code(&body)), (413, "body_too_large".into()));

    server
        .post("/v1/messages", &message("c-4", "m-1", "Hi"))
        .await;
    let (status, body) = server
        .post(
            "/v1/conversations/c-4/return-to-bot",
            &json!({ "step": "nowhere" }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "unknown_step".into()));

    let (status, body) = server.get("/v2/anything").await;
    assert_eq!((status, code(&body)), (404, "not_found".into()));
    let health = reqwest::get(url("/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "health needs no token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_to_one_conversation_are_each_applied_once_in_order() {
    let server = std::sync::Arc::new(Server::start(&tempdir().join("data")));
    server
        .post("/v1/messages", &message("c-1", "m-0", "Hi"))
        .await;
    // 8 senders at once, each sending its 5 notes one after the other (as a gateway relays
    // one contact's messages): all 40 at most 8 in flight together.
    let mut tasks = tokio::task::JoinSet::new();
    for sender in 0..8 {
        let server = std::sync::Arc::clone(&server);
        tasks.spawn(async move {
            for n in 0..5 {
                let i = sender * 5 + n + 1;
                let note = message("c-1", &format!("m-{i}"), &format!("note {i}"));
                let (status, _) = server.post("/v1/messages", &note).await;
                assert_eq!(status, 200);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let (_, conversation) = server.get("/v1/conversations/c-1").await;
    let texts = contact_texts(&conversation);
    for i in 1..=40 {
        let note = format!("note {i}");
        assert_eq!(
            texts.iter().filter(|t| **t == note).count(),
            1,
            "{note}: {texts:?}"
        );
    }
    assert_eq!(texts.len(), 41);
    for sender in 0..8 {
        let sent: Vec<String> = (1..=5)
            .map(|n| format!("note {}", sender * 5 + n))
            .collect();
        let seen: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| sent.iter().any(|s| s == t))
            .collect();
        assert_eq!(seen, sent, "sender {sender}'s notes in the order sent");
    }
}

/// Every comment of a sandbox ticket, one after the other.
pub(crate) async fn ticket_text(server: &Server, ticket: u64) -> String {
    let page = server
        .sandbox_get(&format!("/api/v2/tickets/{ticket}/comments.json"))
        .await;
    page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["html_body"]
                .as_str()
                .or(c["body"].as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A copy of the example scenarios and of the example config with each `(from, to)` edit made
/// (each checked to apply: the example changed if not), in `dir` (a config reads no file
/// outside its folder).
pub(crate) fn example_config(dir: &Path, edits: &[(&str, &str)]) -> std::path::PathBuf {
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "scn") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut config = std::fs::read_to_string(root().join("scenarios/scenarist.yaml")).unwrap();
    for (from, to) in edits {
        assert!(
            config.contains(from),
            "the example config no longer has {from:?}"
        );
        config = config.replace(from, to);
    }
    let path = dir.join("scenarist.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The example config with its organization in mode A (synced from the interface).
fn mode_a_config(dir: &Path) -> std::path::PathBuf {
    example_config(
        dir,
        &[
            ("url: http://127.0.0.1:8788", "url: http://127.0.0.1:0"),
            ("mode: zendesk ", "mode: interface "),
        ],
    )
}

/// Mode A over HTTP: an advisor's reply syncs nothing until the advisor links the contact to
/// a Zendesk user; then the next reply creates the ticket, with the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_a_over_http_the_advisor_links_the_contact_and_replies() {
    use reqwest::Method;
    let dir = tempdir();
    let server = Server::start_with(Some(&mode_a_config(&dir)), &dir.join("data"));
    let contact = "/v1/contacts/u-c-a/zendesk";
    let (status, body) = server
        .get(&format!("{contact}?account=facebook:acme"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("unknown_contact"))
    );

    server
        .post("/v1/messages", &message("c-a", "m-1", "Hi"))
        .await;
    let (_, answer) = server
        .post("/v1/messages", &message("c-a", "m-2", "ada@example.com"))
        .await;
    assert_eq!(answer["status"], "with_advisor", "{answer}");
    let reply = |id: &str, text: &str| json!({ "message_id": id, "advisor": { "id": "g", "name": "Grace" }, "text": text });
    let (status, _) = server
        .post(
            "/v1/conversations/c-a/advisor-messages",
            &reply("a-1", "Hello Ada"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .get(&format!("{contact}?account=facebook:acme"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_linked")),
        "{body}"
    );

    // The advisor looks for the user, finds none, creates one from the create fields.
    let candidates = format!("{contact}/candidates?account=facebook:acme");
    let (status, found) = server.get(&candidates).await;
    assert_eq!((status, &found["candidates"]), (200, &json!([])), "{found}");
    let link = format!("{contact}/link?account=facebook:acme");
    let (status, linked) = server.post(&link, &json!({ "create": true })).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["user"]["email"], "ada@example.com");
    let user_id = linked["user"]["id"].as_u64().unwrap();
    let (_, found) = server.get(&candidates).await;
    assert_eq!(found["candidates"][0]["user"]["id"], user_id, "{found}");
    assert_eq!(found["candidates"][0]["exact"], true);
    let (status, shown) = server
        .get(&format!("{contact}?account=facebook:acme"))
        .await;
    assert_eq!(
        (status, &shown["fields"]["email"]),
        (200, &json!("ada@example.com")),
        "{shown}"
    );
    let conversation = server.get("/v1/conversations/c-a").await.1;
    assert!(
        conversation["zendesk"]["ticket_id"].is_null(),
        "nothing synced yet: {conversation}"
    );

    // The next reply of the advisor syncs the conversation.
    server
        .post(
            "/v1/conversations/c-a/advisor-messages",
            &reply("a-2", "Let me open a ticket"),
        )
        .await;
    let conversation = wait_for(&server, "c-a", |c| !c["zendesk"]["ticket_id"].is_null()).await;
    let ticket = conversation["zendesk"]["ticket_id"].as_u64().unwrap();
    assert_eq!(
        conversation["zendesk"]["user_id"], user_id,
        "{conversation}"
    );
    let text = ticket_text(&server, ticket).await;
    for said in ["Hi", "ada@example.com", "Hello Ada", "Let me open a ticket"] {
        assert!(text.contains(said), "{said:?} not in the ticket: {text}");
    }

    // Wrong requests say what is wrong.
    let (status, body) = server.post(&link, &json!({ "user_id": 999_999 })).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("no_such_user")),
        "{body}"
    );
    let (status, body) = server
        .post(&link, &json!({ "user_id": 1, "create": true }))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("bad_request")),
        "{body}"
    );
    let (status, body) = server.get(&format!("{contact}/candidates")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("bad_request")),
        "{body}"
    );
    let (status, body) = server
        .get(&format!("{contact}?account=whatsapp:acme"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("no_organization")),
        "{body}"
    );
    let (status, body) = server.get(&format!("{contact}?account=nobody")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("unknown_account")),
        "{body}"
    );

    let (status, unlinked) = server.request(Method::DELETE, &link, None).await;
    assert_eq!(
        (status, &unlinked["unlinked_user_id"]),
        (200, &json!(user_id)),
        "{unlinked}"
    );
    let (status, _) = server
        .get(&format!("{contact}?account=facebook:acme"))
        .await;
    assert_eq!(status, 404, "unlinked");
}

/// Bad input never crashes the service: mangled bodies to every endpoint that takes one get a
/// JSON answer with a 2xx or 4xx status, and the service is still ready afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mangled_bodies_get_4xx_never_a_crash() {
    let server = Server::start(&tempdir().join("data"));
    server
        .post("/v1/messages", &message("c-1", "m-0", "Hi"))
        .await;
    let valid: [(&str, Value); 5] = [
        ("/v1/messages", message("c-1", "m-1", "Hi")),
        (
            "/v1/conversations/c-1/advisor-messages",
            json!({ "message_id": "a-1", "advisor": { "id": "g" }, "text": "x" }),
        ),
        ("/v1/conversations/c-1/team", json!({ "team": "Zendesk" })),
        (
            "/v1/conversations/c-1/return-to-bot",
            json!({ "step": "welcome" }),
        ),
        (
            "/v1/contacts/u-c-1/zendesk/link?account=facebook:acme",
            json!({ "user_id": 1 }),
        ),
    ];
    // A small xorshift: the same mangling on every run.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let extremes: [Value; 7] = [
        Value::Null,
        json!(-1),
        json!(1e308),
        json!([]),
        json!({}),
        json!("\u{0}\u{FFFF}é🙂"),
        json!(u64::MAX),
    ];
    for round in 0..60 {
        for (path, body) in &valid {
            let text = body.to_string();
            let mut bytes = text.into_bytes();
            // Either replace one field's value with an extreme, or mangle bytes.
            let mangled = if round % 2 == 0 {
                let mut value = body.clone();
                let object = value.as_object_mut().unwrap();
                let keys: Vec<String> = object.keys().cloned().collect();
                let key = &keys[usize::try_from(next()).unwrap() % keys.len()];
                let extreme = &extremes[usize::try_from(next()).unwrap() % extremes.len()];
                object.insert(key.clone(), extreme.clone());
                value.to_string().into_bytes()
            } else {
                for _ in 0..=(next() % 4) {
                    let at = usize::try_from(next()).unwrap() % bytes.len();
                    match next() % 3 {
                        0 => bytes[at] = u8::try_from(next() % 256).unwrap(),
                        1 => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, b"{[\"\\,:}]"[usize::try_from(next() % 8).unwrap()]),
                    }
                }
                bytes
            };
            let response = server
                .client
                .post(format!("{}{path}", server.base))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(mangled.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: the service dropped the connection: {e}"));
            let status = response.status().as_u16();
            let answer: Value = response
                .json()
                .await
                .unwrap_or_else(|e| panic!("{path} → {status}: not JSON ({e})"));
            assert!(
                (200..500).contains(&status),
                "{path} → {status} {answer} for {:?}",
                String::from_utf8_lossy(&mangled)
            );
            if status >= 400 {
                assert!(answer["error"]["message"].is_string(), "{answer}");
            }
        }
    }
    let (status, _) = server.get("/readyz").await;
    assert_eq!(status, 200, "still ready");
}
