//! The brand's declared HTTP actions (`apis:`) against a real HTTP server on loopback, started
//! by each test: success, 4xx, 5xx then success, a timeout, malformed JSON, an oversized
//! answer, a redirect, and parameters that try to leave their path segment; then a whole
//! conversation through the engine and the assembled runner.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use scenarist::config::Workspace;
use scenarist::http::HttpActions;
use scenarist::runtime::engine::{Engine, EngineOptions};
use scenarist::runtime::runner::{ActionResult, ActionRunner};
use scenarist::runtime::state::Effect;
use scenarist::runtime::value::Value;
use scenarist::runtime::{Clock, ManualClock};
use scenarist::source::SourceFile;
use scenarist::store::{KvStore, MemoryBackend, Store};

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    /// The path and query exactly as sent (still percent-encoded).
    target: String,
    idempotency_key: Option<String>,
    authorization: Option<String>,
    body: String,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.target.starts_with(prefix))
            .count()
    }
}

async fn answer(
    State(server): State<Server>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), ToString::to_string);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let earlier = server.count(&target);
    server.seen.lock().unwrap().push(Seen {
        target: target.clone(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        body,
    });
    let kind = uri.path().split('/').nth(2).unwrap_or_default();
    match kind {
        "orders" | "returns" => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status": "shipped", "delivery": {"eta": "2026-12-08T10:00:00Z"}, "total": 42}"#,
        )
            .into_response(),
        "missing" => (StatusCode::NOT_FOUND, r#"{"error": "no such order"}"#).into_response(),
        "flaky" if earlier == 0 => {
            (StatusCode::SERVICE_UNAVAILABLE, "down for a moment").into_response()
        }
        "flaky" => r#"{"status": "late"}"#.into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            r#"{"status": "slow"}"#.into_response()
        }
        "garbled" => r#"{"status": "shipp"#.into_response(),
        "busy" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "7")],
            "slow down",
        )
            .into_response(),
        "keyed" => (
            [(header::CONTENT_TYPE, "application/json")],
            format!(
                r#"{{"status": "{}"}}"#,
                header("x-api-key").unwrap_or_default()
            ),
        )
            .into_response(),
        "huge" => format!(r#"{{"status": "{}"}}"#, "x".repeat(2 * 1024 * 1024)).into_response(),
        "moved" => (
            StatusCode::FOUND,
            [(header::LOCATION, "http://127.0.0.2:9/steal")],
        )
            .into_response(),
        _ => StatusCode::IM_A_TEAPOT.into_response(),
    }
}

/// The server on a free loopback port, and its base URL.
async fn serve() -> (Server, String) {
    let server = Server::default();
    let app = Router::new().fallback(answer).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, format!("http://127.0.0.1:{port}/api"))
}

/// A workspace declaring `oms` (every endpoint of the server) and `slow` (a 200 ms timeout).
fn workspace(base: &str) -> Workspace {
    let action = |name: &str| {
        format!(
            "      {name}:\n        method: GET\n        path: /{name}/{{number}}\n        query: [locale]\n        params: {{ number: text, locale: {{ type: text, required: false }} }}\n        result:\n          status: {{ type: text, pointer: /status }}\n          eta: {{ type: date, pointer: /delivery/eta }}\n          total: {{ type: number, pointer: /total }}\n"
        )
    };
    let mut text = format!(
        "version: 1\napis:\n  oms:\n    base_url: {base}\n    auth: {{ bearer_env: OMS_TOKEN }}\n    timeout_ms: 5000\n    retry: {{ attempts: 3, backoff_ms: 500 }}\n    actions:\n"
    );
    for name in [
        "orders", "missing", "flaky", "garbled", "huge", "moved", "busy",
    ] {
        text.push_str(&action(name));
    }
    text.push_str("      create_return:\n        method: POST\n        path: /returns\n        body: [number, reason]\n        params: { number: text, reason: text }\n        result: { status: { type: text, pointer: /status } }\n");
    text.push_str("  keyed:\n    base_url: ");
    text.push_str(base);
    text.push_str("\n    auth: { header: X-Api-Key, header_env: KEYED_KEY }\n    actions:\n");
    text.push_str(&action("keyed"));
    text.push_str("  slow:\n    base_url: ");
    text.push_str(base);
    text.push_str(
        "\n    timeout_ms: 200\n    retry: { attempts: 2, backoff_ms: 100 }\n    actions:\n",
    );
    text.push_str(&action("slow"));
    parse(&text)
}

/// An engine running `source` (lint-clean) on a memory store, with the runners the
/// application assembles for the test API at `base` (no secret to read from the environment:
/// tests do not change it), on a manual clock.
fn engine_on(base: &str, scenario: &str, source: &str) -> (Engine, Arc<ManualClock>) {
    let text = workspace(base)
        .file
        .text()
        .replace("    auth: { bearer_env: OMS_TOKEN }\n", "");
    let workspace = parse(&text);
    assert!(workspace.config.apis["oms"].auth.is_none());
    let problems =
        scenarist::lint::lint_source("t.scn", source.as_bytes().to_vec(), &workspace).diagnostics;
    assert!(problems.is_empty(), "{problems:?}");
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let (runner, _problems) = scenarist::setup::runner(&workspace, Arc::clone(&store));
    let clock = Arc::new(ManualClock::new(1_795_860_000_000));
    let options = EngineOptions {
        default_scenario: Some(scenario.into()),
        ..EngineOptions::default()
    };
    let engine = Engine::new(store, Arc::clone(&clock) as Arc<dyn Clock>, runner, options);
    engine.publish(source).unwrap();
    (engine, clock)
}

fn parse(text: &str) -> Workspace {
    Workspace::parse(SourceFile::new("scenarist.yaml", text), PathBuf::new())
        .map_err(|problems| format!("{problems:?}"))
        .unwrap()
}

fn runner(workspace: &Workspace) -> HttpActions {
    HttpActions::with_env(workspace, |name| match name {
        "OMS_TOKEN" => Some("s3cret-token".to_owned()),
        "KEYED_KEY" => Some("k3y".to_owned()),
        _ => None,
    })
}

fn effect(action: &str, attempts: u32, args: &[(&str, &str)]) -> Effect {
    Effect {
        id: "whatsapp:acme:c1:7".into(),
        conversation: "c1".into(),
        action: action.into(),
        request: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::text(*v)))
            .collect(),
        created_at: 0,
        created_seq: 7,
        attempts,
        next_attempt_at: 0,
        last_error: None,
        started: false,
    }
}

fn failed(result: ActionResult) -> String {
    match result {
        ActionResult::Failed(reason) => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_declared_action_sends_its_request_and_returns_the_typed_fields() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let result = actions
        .run(&effect(
            "oms.orders",
            0,
            &[("number", "A-12"), ("locale", "fr")],
        ))
        .await;
    let ActionResult::Done(Some(Value::Record(record))) = result else {
        panic!("{result:?}")
    };
    assert_eq!(record["status"], Value::text("shipped"));
    assert_eq!(record["eta"], Value::text("2026-12-08"));
    assert_eq!(record["total"], Value::Number(42.0));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/api/orders/A-12?locale=fr");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Bearer s3cret-token")
    );
    let key = seen[0].idempotency_key.clone().unwrap();
    assert!(key.starts_with("scenarist-"), "{key}");
    assert!(
        !format!("{actions:?}").contains("s3cret"),
        "a secret in Debug"
    );
}

#[tokio::test]
async fn a_post_sends_its_body_parameters_as_json() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let result = actions
        .run(&effect(
            "oms.create_return",
            0,
            &[("number", "A-12"), ("reason", "broken \"lid\"")],
        ))
        .await;
    assert!(matches!(result, ActionResult::Done(Some(_))), "{result:?}");
    let seen = server.seen();
    assert_eq!(seen[0].target, "/api/returns");
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"number": "A-12", "reason": "broken \"lid\""})
    );
}

#[tokio::test]
async fn a_4xx_fails_at_once_with_the_reason_and_is_not_retried() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let reason = failed(
        actions
            .run(&effect("oms.missing", 0, &[("number", "1")]))
            .await,
    );
    assert_eq!(
        reason,
        r#"the `oms` API answered 404 Not Found: {"error": "no such order"}"#
    );
    assert_eq!(server.count("/api/missing"), 1);
}

#[tokio::test]
async fn a_5xx_is_retried_after_the_backoff_with_the_same_idempotency_key() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let first = actions
        .run(&effect("oms.flaky", 0, &[("number", "1")]))
        .await;
    let ActionResult::Retry { after_ms, error } = first else {
        panic!("{first:?}")
    };
    assert_eq!(after_ms, 500, "the declared backoff");
    assert!(error.contains("503 Service Unavailable"), "{error}");
    // The outbox runs the effect again, counting the attempt.
    let second = actions
        .run(&effect("oms.flaky", 1, &[("number", "1")]))
        .await;
    let ActionResult::Done(Some(record)) = second else {
        panic!("{second:?}")
    };
    assert_eq!(record.field("status"), Some(&Value::text("late")));
    let keys: Vec<Option<String>> = server
        .seen()
        .into_iter()
        .map(|s| s.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].is_some());
    assert_eq!(keys[0], keys[1], "one effect, one key");
    // Another effect has another key.
    let mut other = effect("oms.orders", 0, &[("number", "1")]);
    other.id = "whatsapp:acme:c1:8".into();
    actions.run(&other).await;
    assert_ne!(server.seen()[2].idempotency_key, keys[0]);
}

#[tokio::test]
async fn a_429_waits_at_least_its_retry_after() {
    let (_server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let result = actions
        .run(&effect("oms.busy", 0, &[("number", "1")]))
        .await;
    let ActionResult::Retry { after_ms, error } = result else {
        panic!("{result:?}")
    };
    assert_eq!(after_ms, 7000, "Retry-After: 7, above the 500 ms backoff");
    assert!(error.contains("429 Too Many Requests"), "{error}");
}

#[tokio::test]
async fn a_header_secret_is_sent_in_its_header() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let result = actions
        .run(&effect("keyed.keyed", 0, &[("number", "1")]))
        .await;
    let ActionResult::Done(Some(record)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(record.field("status"), Some(&Value::text("k3y")));
    assert_eq!(server.seen()[0].authorization, None);
}

#[tokio::test]
async fn the_declared_attempts_bound_the_retries() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    // `flaky` fails its first request; as the third and last attempt it fails for good.
    let reason = failed(
        actions
            .run(&effect("oms.flaky", 2, &[("number", "9")]))
            .await,
    );
    assert_eq!(
        reason,
        "the `oms` API answered 503 Service Unavailable: down for a moment (gave up after 3 attempts)"
    );
    assert_eq!(server.count("/api/flaky/9"), 1);
}

#[tokio::test]
async fn a_timeout_is_retryable_then_fails_with_the_reason() {
    let (_server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let first = actions
        .run(&effect("slow.slow", 0, &[("number", "1")]))
        .await;
    let ActionResult::Retry { error, after_ms } = first else {
        panic!("{first:?}")
    };
    assert_eq!(error, "the `slow` API did not answer within 200 ms");
    assert_eq!(after_ms, 100);
    let last = failed(
        actions
            .run(&effect("slow.slow", 1, &[("number", "1")]))
            .await,
    );
    assert_eq!(
        last,
        "the `slow` API did not answer within 200 ms (gave up after 2 attempts)"
    );
}

#[tokio::test]
async fn malformed_json_fails_the_call() {
    let (_server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let reason = failed(
        actions
            .run(&effect("oms.garbled", 0, &[("number", "1")]))
            .await,
    );
    assert!(
        reason.starts_with("the `oms` API's answer is not JSON"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let (_server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let reason = failed(
        actions
            .run(&effect("oms.huge", 0, &[("number", "1")]))
            .await,
    );
    assert_eq!(
        reason,
        format!(
            "the `oms` API's answer is larger than {} bytes, more than Scenarist reads",
            scenarist::http::MAX_RESPONSE_BYTES
        )
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    let reason = failed(
        actions
            .run(&effect("oms.moved", 0, &[("number", "1")]))
            .await,
    );
    assert_eq!(
        reason,
        "the `oms` API answered 302 Found (a redirect, which Scenarist does not follow)"
    );
    assert_eq!(
        server.seen().len(),
        1,
        "nothing sent to the redirect's target"
    );
}

#[tokio::test]
async fn parameters_stay_inside_their_path_segment() {
    let (server, base) = serve().await;
    let actions = runner(&workspace(&base));
    for (number, target) in [
        ("a/b", "/api/orders/a%2Fb"),
        ("x?admin=1", "/api/orders/x%3Fadmin%3D1"),
        ("../../admin", "/api/orders/..%2F..%2Fadmin"),
        ("#frag", "/api/orders/%23frag"),
    ] {
        let result = actions
            .run(&effect("oms.orders", 0, &[("number", number)]))
            .await;
        assert!(
            matches!(result, ActionResult::Done(_)),
            "{number}: {result:?}"
        );
        assert_eq!(server.seen().last().unwrap().target, target, "{number}");
    }
    let before = server.seen().len();
    let reason = failed(
        actions
            .run(&effect("oms.orders", 0, &[("number", "..")]))
            .await,
    );
    assert_eq!(
        reason,
        "the parameter `number` is `.` or `..`, which cannot be sent as a path segment"
    );
    assert_eq!(server.seen().len(), before, "nothing sent");
}

#[tokio::test]
async fn a_missing_secret_fails_every_call_and_is_reported_at_start() {
    let (server, base) = serve().await;
    let actions = HttpActions::with_env(&workspace(&base), |_| None);
    assert_eq!(
        actions.problems(),
        [
            "API `keyed`: the environment variable KEYED_KEY is not set",
            "API `oms`: the environment variable OMS_TOKEN is not set"
        ]
    );
    let reason = failed(
        actions
            .run(&effect("oms.orders", 0, &[("number", "1")]))
            .await,
    );
    assert_eq!(reason, "the environment variable OMS_TOKEN is not set");
    assert!(server.seen().is_empty());
}

const ORDER_LOOKUP: &str = r#"
scenario lookup {
  start ask_number

  step ask_number {
    ask "Your order number?" {
      save number
      timeout 15m then goto sorry
    }
    call oms.orders(number: number) as order { on error goto sorry }
    say "Your order is {order.status}, due {order.eta}."
    end
  }

  step sorry {
    say "We cannot see your order right now."
    end
  }
}
"#;

/// The whole path: the engine records the effect, the outbox runs it with the assembled
/// runner (Zendesk's and the declared actions'), and the result is in the history; a failing
/// call takes `on error`.
#[tokio::test]
async fn a_conversation_calls_a_declared_action_through_the_outbox() {
    let (server, base) = serve().await;
    let (engine, _clock) = engine_on(&base, "lookup", ORDER_LOOKUP);
    let say = |conversation: &'static str, id: &'static str, text: &'static str| {
        let engine = &engine;
        async move {
            engine
                .handle(crate::support::inbound(
                    "whatsapp:acme",
                    conversation,
                    id,
                    text,
                ))
                .await
                .unwrap();
            engine.settle(8).await.unwrap();
            let state = engine.conversation(conversation).unwrap().unwrap();
            format!("{:?}", engine.history(&state).unwrap())
        }
    };
    say("c1", "m1", "hi").await;
    let history = say("c1", "m2", "A-12").await;
    assert!(
        history.contains("Your order is shipped, due 2026-12-08."),
        "{history}"
    );
    assert_eq!(server.seen()[0].target, "/api/orders/A-12");
    // A number the API does not know (the path `..` is refused before anything is sent).
    say("c2", "m1", "hi").await;
    let history = say("c2", "m2", "..").await;
    assert!(
        history.contains("We cannot see your order right now."),
        "{history}"
    );
    assert_eq!(server.seen().len(), 1);
}

const MOCKED: &str = r#"config: scenarist.yaml
scenario: lookup.scn
tests:
  - name: a shipped order
    actions:
      oms.orders: { result: { status: shipped, eta: "2026-12-08" } }
    transcript:
      - contact: hi
        bot: [Your order number?]
      - contact: A-12
        bot: ["Your order is shipped, due 2026-12-08."]
        calls:
          - action: oms.orders
            args: { number: A-12 }
        variables: { order: { status: shipped } }
  - name: the API fails
    actions:
      oms.orders: { error: "the `oms` API answered 503 Service Unavailable" }
    transcript:
      - contact: hi
        bot: [Your order number?]
      - contact: A-12
        bot: [We cannot see your order right now.]
"#;

/// `scenarist test` mocks declared actions by name, like the Zendesk ones; a transcript that
/// expects another answer fails.
#[tokio::test]
async fn transcript_tests_mock_declared_actions_by_name() {
    let dir = crate::support::tempdir();
    let config = "version: 1\napis:\n  oms:\n    base_url: https://oms.example.com/api\n    actions:\n      orders:\n        method: GET\n        path: /orders/{number}\n        params: { number: text }\n        result:\n          status: { type: text, pointer: /status }\n          eta: { type: date, pointer: /delivery/eta }\n";
    std::fs::write(dir.join("scenarist.yaml"), config).unwrap();
    std::fs::write(dir.join("lookup.scn"), ORDER_LOOKUP).unwrap();
    std::fs::write(dir.join("lookup.test.yaml"), MOCKED).unwrap();
    let result = scenarist::harness::run_file(&dir.join("lookup.test.yaml")).await;
    assert!(result.passed(), "{result:?}");
    assert_eq!(result.tests.len(), 2);

    let wrong = MOCKED.replace("Your order is shipped", "Your order is lost");
    std::fs::write(dir.join("wrong.test.yaml"), wrong).unwrap();
    let result = scenarist::harness::run_file(&dir.join("wrong.test.yaml")).await;
    assert!(!result.passed());
    assert!(result.tests[0].failure.is_some());
    assert!(result.tests[1].failure.is_none());

    // A mock is checked against the declaration: a field the result does not have, an
    // action that does not exist.
    for (from, to, problem) in [
        (
            "status: shipped, eta",
            "staus: shipped, eta",
            "test `a shipped order` mocks `oms.orders` with `staus`, which its result does not have (its fields: eta, status)",
        ),
        (
            "      oms.orders: { error",
            "      oms.order: { error",
            "test `the API fails` mocks `oms.order`, which is not an action: did you mean `oms.orders`?",
        ),
    ] {
        std::fs::write(dir.join("bad.test.yaml"), MOCKED.replacen(from, to, 1)).unwrap();
        let result = scenarist::harness::run_file(&dir.join("bad.test.yaml")).await;
        assert_eq!(result.error.as_deref(), Some(problem));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The example config's `oms` is `base_url: sandbox`: the assembly starts the demo order
/// system on loopback and the declared action reaches it, so the quick start's order lookup
/// works offline.
#[tokio::test]
async fn the_example_configs_order_system_is_the_demo_started_by_the_assembly() {
    let workspace = crate::support::default_workspace();
    assert_eq!(workspace.config.apis["oms"].base_url, "sandbox");
    let clock = Arc::new(ManualClock::new(1_795_860_000_000)) as Arc<dyn Clock>;
    let app = scenarist::setup::start(&workspace, scenarist::setup::Data::Memory, clock, |_| {})
        .await
        .unwrap();
    assert!(app.demo_orders.is_some());
    let base = &app.workspace.config.apis["oms"].base_url;
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let actions = HttpActions::from_workspace(&app.workspace);
    assert!(actions.problems().is_empty(), "{:?}", actions.problems());
    let result = actions
        .run(&effect("oms.get_order", 0, &[("number", "AB100001")]))
        .await;
    let ActionResult::Done(Some(order)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(order.field("status"), Some(&Value::text("shipped")));
    assert_eq!(order.field("eta"), Some(&Value::text("2026-12-08")));
    let unknown = failed(
        actions
            .run(&effect("oms.get_order", 0, &[("number", "ZZ000000")]))
            .await,
    );
    assert!(unknown.contains("404 Not Found"), "{unknown}");
    // Without the assembly, nothing runs at `sandbox`, and the runner says so.
    let unstarted = HttpActions::from_workspace(&workspace);
    assert_eq!(unstarted.problems().len(), 1, "{:?}", unstarted.problems());
    let reason = failed(
        unstarted
            .run(&effect("oms.get_order", 0, &[("number", "AB100001")]))
            .await,
    );
    assert!(reason.contains("demo order system"), "{reason}");
}

/// A server that answers every request with a chunked body of `size` bytes (no
/// `Content-Length`, so the limit must be enforced while reading).
async fn chunked_server(size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = socket.read(&mut head).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if socket.write_all(frame.as_bytes()).await.is_err()
                        || socket.write_all(&chunk).await.is_err()
                        || socket.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                    sent += chunk.len();
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/api")
}

#[tokio::test]
async fn an_answer_without_a_length_is_refused_once_it_passes_the_limit() {
    let base = chunked_server(4 * scenarist::http::MAX_RESPONSE_BYTES).await;
    let actions = runner(&workspace(&base));
    let reason = failed(
        actions
            .run(&effect("oms.orders", 0, &[("number", "1")]))
            .await,
    );
    assert!(reason.contains("larger than"), "{reason}");
}

const FLAKY_LOOKUP: &str = r#"
scenario flaky_lookup {
  start ask_number

  step ask_number {
    ask "Your order number?" {
      save number
      timeout 15m then end
    }
    call oms.flaky(number: number) as order { on error goto sorry }
    say "Your order is {order.status}."
    end
  }

  step sorry {
    say "We cannot see your order right now."
    end
  }
}
"#;

/// A 503 through the real outbox: the effect waits for its backoff on the engine's clock,
/// then runs again with the same `Idempotency-Key`, and the conversation goes on with the
/// result.
#[tokio::test]
async fn a_retry_through_the_outbox_sends_the_same_key_and_the_conversation_goes_on() {
    let (server, base) = serve().await;
    let (engine, clock) = engine_on(&base, "flaky_lookup", FLAKY_LOOKUP);
    for (id, said) in [("m1", "hi"), ("m2", "B-7")] {
        engine
            .handle(crate::support::inbound("whatsapp:acme", "c1", id, said))
            .await
            .unwrap();
    }
    engine.settle(8).await.unwrap();
    assert_eq!(server.count("/api/flaky/B-7"), 1, "the first attempt");
    let waiting = engine.conversation("c1").unwrap().unwrap();
    assert_eq!(waiting.pending.len(), 1, "the call waits for its retry");
    assert_eq!(waiting.pending[0].attempts, 1);
    clock.advance(60_000);
    engine.settle(8).await.unwrap();
    let done = engine.conversation("c1").unwrap().unwrap();
    assert!(done.pending.is_empty());
    let history = format!("{:?}", engine.history(&done).unwrap());
    assert!(history.contains("Your order is late."), "{history}");
    let keys: Vec<Option<String>> = server
        .seen()
        .into_iter()
        .map(|s| s.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].is_some());
    assert_eq!(keys[0], keys[1], "both attempts carry the effect's key");
}
