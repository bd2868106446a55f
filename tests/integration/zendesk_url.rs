//! Zendesk credentials never leave for another host. Attacked for real: configs and command
//! lines carrying `user:password@`, answers whose `links.next` or redirect points elsewhere,
//! answers too long to read — each against loopback HTTP servers, with a second listener
//! standing for the other host that must receive nothing.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use scenarist::zendesk::client::{
    Credentials, MAX_RESPONSE_BYTES, Timeouts, ZendeskClient, ZendeskError,
};
use scenarist::zendesk::secret::Secret;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::support::{root, stderr, stdout, tempdir};

const TOKEN: &str = "t0ken-never-elsewhere";

/// A loopback HTTP server that answers every request with the next of its answers (the last
/// one repeats), closing each connection, and records every connection and request head.
struct Server {
    url: String,
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Listens on `ip:port` (0: any); `answers` is given the port, for links to itself.
    async fn start(ip: &str, port: u16, answers: impl FnOnce(u16) -> Vec<Vec<u8>>) -> Self {
        let listener = TcpListener::bind((ip, port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answers = answers(port);
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        tokio::spawn(async move {
            let mut served = 0;
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let index = {
                    let mut heads = recorded.lock().unwrap();
                    heads.push(String::new());
                    heads.len() - 1
                };
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                recorded.lock().unwrap()[index] = String::from_utf8_lossy(&head).into_owned();
                let answer = &answers[served.min(answers.len() - 1)];
                served += 1;
                // The client may hang up early (a refused answer): that is not an error here.
                let _ = stream.write_all(answer).await;
                let _ = stream.shutdown().await;
            }
        });
        Self {
            url: format!("http://{ip}:{port}"),
            port,
            heads,
        }
    }

    /// One entry per connection: its request head.
    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// An HTTP/1.1 answer; `length: false` leaves out `Content-Length` (the body ends with the
/// connection).
fn answer(status: &str, headers: &[(&str, &str)], body: &[u8], length: bool) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if length {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json(body: &serde_json::Value) -> Vec<u8> {
    answer(
        "200 OK",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
        true,
    )
}

/// Listens on `ip:port` for the host that must never be reached.
fn elsewhere(ip: &str, port: u16) -> StdListener {
    let listener = StdListener::bind((ip, port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

/// Panics if anything connected to `listener` (a connection, even closed, waits in its
/// backlog until accepted).
fn assert_untouched(listener: &StdListener, what: &str) {
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("{what}: {from} connected to the other host"),
        Err(e) => panic!("{what}: {e}"),
    }
}

fn client(url: &str) -> ZendeskClient {
    let credentials = Credentials::ApiToken {
        email: "agent@acme.example".into(),
        token: Secret::new(TOKEN),
    };
    ZendeskClient::new(url, credentials, Timeouts::default()).unwrap()
}

fn comments_page(next: &str) -> serde_json::Value {
    serde_json::json!({
        "comments": [{"id": 1, "body": "first", "author_id": 7, "public": true,
                      "created_at": "2026-01-01T00:00:00Z"}],
        "meta": {"has_more": true, "after_cursor": "x"},
        "links": {"next": next},
    })
}

const NEXT_PATH: &str = "/api/v2/tickets/1/comments.json?page%5Bafter%5D=x";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_to_another_host_port_or_scheme_is_refused_and_never_reached() {
    for case in ["another host", "another port", "another scheme"] {
        let mut other = None;
        let server = match case {
            "another host" => {
                let server = Server::start("127.0.0.1", 0, |port| {
                    vec![json(&comments_page(&format!(
                        "http://127.0.0.2:{port}{NEXT_PATH}"
                    )))]
                })
                .await;
                // The same port on another loopback address: only the host differs.
                other = Some(elsewhere("127.0.0.2", server.port));
                server
            }
            "another port" => {
                let listener = elsewhere("127.0.0.1", 0);
                let port = listener.local_addr().unwrap().port();
                other = Some(listener);
                Server::start("127.0.0.1", 0, |_| {
                    vec![json(&comments_page(&format!(
                        "http://127.0.0.1:{port}{NEXT_PATH}"
                    )))]
                })
                .await
            }
            _ => {
                // https to the instance's own port: the only listener is the instance.
                Server::start("127.0.0.1", 0, |port| {
                    vec![json(&comments_page(&format!(
                        "https://127.0.0.1:{port}{NEXT_PATH}"
                    )))]
                })
                .await
            }
        };
        let error = client(&server.url).comments(1).await.unwrap_err();
        assert!(
            matches!(error, ZendeskError::Foreign(_)),
            "{case}: {error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("refused to send a request carrying the credentials elsewhere"),
            "{case}: {error}"
        );
        assert!(!error.retryable(), "{case}");
        let heads = server.heads();
        assert_eq!(
            heads.len(),
            1,
            "{case}: only the first page was asked: {heads:?}"
        );
        assert!(
            heads[0].starts_with("GET /api/v2/tickets/1/comments?page%5Bsize%5D=100 ")
                && heads[0]
                    .to_ascii_lowercase()
                    .contains("authorization: basic "),
            "{case}: {}",
            heads[0]
        );
        if let Some(other) = &other {
            assert_untouched(other, case);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_on_the_instance_is_followed() {
    let server = Server::start("127.0.0.1", 0, |port| {
        let mut last = comments_page("");
        last["meta"]["has_more"] = false.into();
        last["links"]["next"] = serde_json::Value::Null;
        last["comments"][0]["id"] = 2.into();
        vec![
            json(&comments_page(&format!(
                "http://127.0.0.1:{port}{NEXT_PATH}"
            ))),
            json(&last),
        ]
    })
    .await;
    let comments = client(&format!("{}/", server.url))
        .comments(1)
        .await
        .unwrap();
    assert_eq!(comments.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2]);
    let heads = server.heads();
    assert!(
        heads[1].starts_with(&format!("GET {NEXT_PATH} ")),
        "{}",
        heads[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_never_followed() {
    let other = elsewhere("127.0.0.1", 0);
    let target = format!(
        "http://user:s3cret@127.0.0.1:{}/api/v2/users/me",
        other.local_addr().unwrap().port()
    );
    let server = Server::start("127.0.0.1", 0, |_| {
        vec![answer("302 Found", &[("Location", &target)], b"", true)]
    })
    .await;
    let error = client(&server.url).me().await.unwrap_err();
    assert_eq!(error.status(), Some(302), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("which Scenarist does not follow"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(server.heads().len(), 1);
    assert_untouched(&other, "redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_larger_than_the_cap_is_refused() {
    let big = vec![b' '; MAX_RESPONSE_BYTES + 1];
    for announced in [true, false] {
        let server = Server::start("127.0.0.1", 0, |_| {
            vec![answer(
                "200 OK",
                &[("Content-Type", "application/json")],
                &big,
                announced,
            )]
        })
        .await;
        let error = client(&server.url).me().await.unwrap_err();
        assert_eq!(
            error,
            ZendeskError::TooLarge {
                limit: MAX_RESPONSE_BYTES
            },
            "Content-Length sent: {announced}"
        );
        assert!(
            error.to_string().contains("larger than 8388608 bytes"),
            "{error}"
        );
    }
    // Exactly at the cap is read (and then is not a user).
    let mut at_cap = br#"{"user":{"id":7,"name":"A","email":null,"role":"agent"}}"#.to_vec();
    at_cap.resize(MAX_RESPONSE_BYTES, b' ');
    let server = Server::start("127.0.0.1", 0, |_| {
        vec![answer(
            "200 OK",
            &[("Content-Type", "application/json")],
            &at_cap,
            false,
        )]
    })
    .await;
    let user = client(&server.url).me().await.unwrap();
    assert_eq!(user.id, Some(7));
}

#[test]
fn a_client_refuses_an_instance_url_with_userinfo() {
    let credentials = Credentials::Bearer(Secret::new(TOKEN));
    let error = ZendeskClient::new(
        "http://localhost:x@127.0.0.2:18801",
        credentials,
        Timeouts::default(),
    )
    .unwrap_err();
    assert!(matches!(error, ZendeskError::Url(_)), "{error:?}");
    assert!(!error.to_string().contains(":x@"), "{error}");
}

/// A workspace whose organization `acme` is at `url`, and the path of its config.
fn workspace(url: &str) -> (PathBuf, String) {
    let dir = tempdir();
    let yaml = format!(
        "version: 1
data_dir: data
zendesk:
  organizations:
    acme:
      url: {url}
      auth: {{ type: api_token, email: agent@acme.example, token_env: SCENARIST_TEST_URL_TOKEN }}
      sync: {{ mode: interface }}
"
    );
    let config = dir.join("scenarist.yaml");
    std::fs::write(&config, yaml).unwrap();
    let config = config.display().to_string();
    (dir, config)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("SCENARIST_CONFIG")
        .env("SCENARIST_TEST_URL_TOKEN", TOKEN)
        .output()
        .unwrap()
}

fn all(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// The attack of the issue: `localhost:x@` reads as loopback to a naive check, but the
/// request goes to 127.0.0.2, over plain HTTP, with the API token.
#[test]
fn a_config_url_with_userinfo_is_refused_by_lint_check_and_list_and_never_dialled() {
    let other = elsewhere("127.0.0.2", 0);
    let port = other.local_addr().unwrap().port();
    let (_dir, config) = workspace(&format!("http://localhost:x@127.0.0.2:{port}"));
    let lint = run(&[
        "lint",
        "--config",
        &config,
        "--format",
        "github",
        "scenarios/zendesk_handoff.scn",
    ]);
    assert_eq!(lint.status.code(), Some(1), "{}", all(&lint));
    assert!(
        stdout(&lint).contains(&format!("file={config},line=6,col=7,"))
            && stdout(&lint).contains("W402")
            && stdout(&lint).contains("the URL of `acme` carries a user name or password"),
        "{}",
        all(&lint)
    );
    for command in [
        vec!["zendesk", "check", "--config", &config],
        vec!["zendesk", "list", "--config", &config],
    ] {
        let output = run(&command);
        let text = all(&output);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {text}");
        assert!(
            text.contains("the URL of `acme` carries a user name or password")
                && text.contains(&format!("{config}:6:7")),
            "{command:?}: {text}"
        );
        assert!(
            !text.contains("localhost:x@"),
            "{command:?} printed the userinfo: {text}"
        );
        assert!(
            text.contains("http://***********@127.0.0.2"),
            "{command:?}: {text}"
        );
    }
    assert_untouched(&other, "lint, check and list");
}

#[test]
fn connect_refuses_a_url_with_userinfo_before_sending_anything() {
    let other = elsewhere("127.0.0.2", 0);
    let port = other.local_addr().unwrap().port();
    let (_dir, config) = workspace("https://acme.zendesk.com");
    let output = run(&[
        "zendesk",
        "connect",
        &format!("http://localhost:x@127.0.0.2:{port}"),
        "--config",
        &config,
        "--api-token-env",
        "SCENARIST_TEST_URL_TOKEN",
        "--email",
        "agent@acme.example",
    ]);
    let text = all(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("carries a user name or password"), "{text}");
    assert!(!text.contains("localhost:x@"), "{text}");
    assert_untouched(&other, "connect");
    for (refused, reason) in [
        ("http://127.0.0.2:9", "uses http://"),
        ("http://localhost.evil.example", "uses http://"),
        ("https://acme.zendesk.com/api/v2", "has a path"),
    ] {
        let output = run(&["zendesk", "connect", refused, "--config", &config]);
        assert!(!output.status.success(), "{refused}");
        assert!(all(&output).contains(reason), "{refused}: {}", all(&output));
    }
}

#[test]
fn list_hides_userinfo_from_the_connection_registry() {
    let (dir, config) = workspace("https://acme.zendesk.com");
    let registry = dir.join("data/zendesk");
    std::fs::create_dir_all(&registry).unwrap();
    write_registry(
        &registry,
        &[
            ("acme", "https://admin:s3cret@evil.example"),
            ("other", "http://localhost:s3cret@127.0.0.2:1"),
        ],
    );
    let output = run(&["zendesk", "list", "--config", &config]);
    let text = all(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        !text.contains("s3cret"),
        "list printed the userinfo: {text}"
    );
    assert!(
        text.contains("to https://************@evil.example, not this URL")
            && text.contains("other  http://****************@127.0.0.2:1"),
        "{text}"
    );
}

fn write_registry(folder: &Path, connections: &[(&str, &str)]) {
    let organizations: serde_json::Map<String, serde_json::Value> = connections
        .iter()
        .map(|(name, url)| {
            (
                (*name).to_owned(),
                serde_json::json!({"url": url, "connected_at": "2026-01-01T00:00:00Z"}),
            )
        })
        .collect();
    std::fs::write(
        folder.join("connections.json"),
        serde_json::json!({ "organizations": organizations }).to_string(),
    )
    .unwrap();
}
