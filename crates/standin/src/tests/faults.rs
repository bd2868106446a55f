//! Fault injection, through `StandIn::inject` and over HTTP.

use std::time::Duration;

use serde_json::json;

use super::{Api, start};
use crate::{Fault, FaultKind};

fn fault(method: Option<&str>, prefix: &str, kind: FaultKind, times: u32) -> Fault {
    Fault {
        method: method.map(str::to_owned),
        path_prefix: prefix.to_owned(),
        kind,
        times,
    }
}

fn create_body(text: &str) -> serde_json::Value {
    json!({"ticket": {"subject": "Chat", "comment": {"body": text}}})
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let standin = start().await;
    let api = Api::new(&standin);
    let kind = FaultKind::TooManyRequests {
        retry_after: 7,
        text_plain: false,
    };
    standin.inject(fault(Some("POST"), "/api/v2/tickets", kind, 2));
    // A GET on the same path is not matched by a POST fault.
    assert_eq!(api.get("/api/v2/tickets.json").await.status, 200);
    for _ in 0..2 {
        let got = api.post("/api/v2/tickets.json", &create_body("x")).await;
        assert_eq!(got.status, 429);
        assert_eq!(got.header("retry-after"), Some("7"));
        assert_eq!(got.json, json!({"error": "TooManyRequests"}));
        assert_eq!(got.header("x-rate-limit"), Some("700"));
    }
    assert!(standin.tickets().is_empty());
    assert_eq!(
        api.post("/api/v2/tickets.json", &create_body("x"))
            .await
            .status,
        201
    );

    let kind = FaultKind::TooManyRequests {
        retry_after: 27,
        text_plain: true,
    };
    standin.inject(fault(None, "/api/v2/users", kind, 1));
    let got = api
        .post(
            "/api/v2/users/create_or_update.json",
            &json!({"user": {"name": "A", "email": "a@x.org"}}),
        )
        .await;
    assert_eq!(got.status, 429);
    assert!(
        got.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(got.text.starts_with("You have exceeded the rate limit"));
    assert_eq!(got.header("retry-after"), Some("27"));
}

#[tokio::test]
async fn server_errors_and_custom_statuses_do_not_execute() {
    let standin = start().await;
    let api = Api::new(&standin);
    standin.inject(fault(
        None,
        "/api/v2/tickets",
        FaultKind::ServerError(503),
        1,
    ));
    standin.inject(fault(
        None,
        "/api/v2/tickets",
        FaultKind::ServerError(500),
        1,
    ));
    assert_eq!(
        api.post("/api/v2/tickets.json", &create_body("x"))
            .await
            .status,
        503
    );
    assert_eq!(
        api.post("/api/v2/tickets.json", &create_body("x"))
            .await
            .status,
        500
    );
    let body = json!({"error": "Conflict", "description": "try again"});
    standin.inject(fault(
        None,
        "/api/v2/tickets",
        FaultKind::Status {
            code: 409,
            body: body.clone(),
        },
        1,
    ));
    let got = api.post("/api/v2/tickets.json", &create_body("x")).await;
    assert_eq!((got.status, got.json), (409, body));
    assert!(standin.tickets().is_empty());
    assert_eq!(
        api.post("/api/v2/tickets.json", &create_body("x"))
            .await
            .status,
        201
    );
    assert_eq!(
        standin.requests().len(),
        4,
        "faulted requests are logged too"
    );
}

#[tokio::test]
async fn slow_requests_time_out_but_still_complete() {
    let standin = start().await;
    let api = Api::new(&standin);
    standin.inject(fault(
        Some("POST"),
        "/api/v2/tickets",
        FaultKind::Slow { millis: 1500 },
        1,
    ));
    let request = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .json(&create_body("slow"));
    let error = request
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(standin.tickets().is_empty());
    // The stand-in finishes the work after the client gave up.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while standin.tickets().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(standin.tickets().len(), 1);

    standin.inject(fault(
        None,
        "/api/v2/users/me",
        FaultKind::Slow { millis: 150 },
        1,
    ));
    let started = std::time::Instant::now();
    assert_eq!(api.get("/api/v2/users/me.json").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

/// A connection-level failure: no status line at all.
fn assert_no_response(error: &reqwest::Error) {
    assert!(error.status().is_none(), "{error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.is_request() || error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn drop_closes_without_response_and_without_executing() {
    let standin = start().await;
    let api = Api::new(&standin);
    standin.inject(fault(Some("POST"), "/api/v2/tickets", FaultKind::Drop, 1));
    let request = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .json(&create_body("lost"));
    let error = request
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_err();
    assert_no_response(&error);
    assert!(standin.tickets().is_empty());
    assert_eq!(standin.requests().len(), 1, "the request did arrive");
    // The next one goes through (on a new connection).
    assert_eq!(
        api.post("/api/v2/tickets.json", &create_body("ok"))
            .await
            .status,
        201
    );
    assert_eq!(standin.tickets().len(), 1);
}

#[tokio::test]
async fn execute_then_drop_executes_but_never_answers() {
    let standin = start().await;
    let api = Api::new(&standin);
    standin.inject(fault(
        Some("POST"),
        "/api/v2/tickets",
        FaultKind::ExecuteThenDrop,
        1,
    ));
    let request = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .header("idempotency-key", "k-1")
        .json(&create_body("done"));
    let error = request
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_err();
    assert_no_response(&error);
    assert_eq!(standin.tickets().len(), 1, "the ticket was created");
    // The client's retry with the same key gets the stored response.
    let retry = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .header("idempotency-key", "k-1");
    let got = api.send(retry.json(&create_body("done"))).await;
    assert_eq!(got.status, 201);
    assert_eq!(got.header("x-idempotency-lookup"), Some("hit"));
    assert_eq!(standin.tickets().len(), 1);
}

#[tokio::test]
async fn raw_socket_sees_no_status_line() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let standin = start().await;
    standin.inject(fault(None, "/api/v2/users/me", FaultKind::Drop, 1));
    let addr = standin.url().trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /api/v2/users/me.json HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut received))
        .await
        .unwrap();
    // Closed (EOF or reset) without a byte of response.
    assert!(
        read.is_err() || received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn faults_and_state_over_http() {
    let standin = start().await;
    let api = Api::new(&standin).with_auth(None);
    let got = api
        .post(
            "/__standin/faults",
            &json!({"path_prefix": "/api/v2/tickets", "kind": {"ServerError": 502}, "times": 2}),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    let got = api
        .post(
            "/__standin/faults",
            &json!({"path_prefix": "/api/v2/users/me", "kind": "Drop"}),
        )
        .await;
    assert_eq!(got.status, 201);
    assert_eq!(
        api.post("/__standin/faults", &json!({"kind": "Nope"}))
            .await
            .status,
        400
    );
    let authed = Api::new(&standin);
    for expected in [502, 502, 201] {
        let got = authed.post("/api/v2/tickets", &create_body("a")).await;
        assert_eq!(got.status, expected);
    }
    assert!(
        authed
            .request(reqwest::Method::GET, "/api/v2/users/me")
            .send()
            .await
            .is_err()
    );
    let state = api.get("/__standin/state").await;
    assert_eq!(state.status, 200);
    assert_eq!(state.json["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(state.json["tickets"][0]["comments"][0]["body"], "a");
    assert!(
        state.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["role"] == "admin")
    );
    assert_eq!(state.json["faults"], json!([]));
    standin.stop().await;
}

#[tokio::test]
async fn the_per_ticket_limit_leaves_the_account_and_endpoint_budgets_and_updates_report_theirs() {
    let standin = start().await;
    let api = Api::new(&standin);
    let ticket = api.ticket("hello", None).await;
    let update = json!({"ticket": {"comment": {"body": "more", "public": true}}});
    let path = format!("/api/v2/tickets/{ticket}");
    let got = api.put(&path, &update).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let budget = got.header("zendesk-ratelimit-tickets-update").unwrap();
    assert!(
        budget.starts_with("total=100; remaining=99; resets="),
        "{budget}"
    );

    let kind = FaultKind::TicketUpdateLimit { retry_after: 60 };
    standin.inject(fault(Some("PUT"), &path, kind, 1));
    let got = api.put(&path, &update).await;
    assert_eq!(got.status, 429);
    assert_eq!(got.header("retry-after"), Some("60"));
    // What tells it from the account-wide limit: budgets are left.
    assert_ne!(got.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(
        got.header("zendesk-ratelimit-tickets-update"),
        Some("total=100; remaining=99; resets=60")
    );
    // Nothing was done; the next update goes through.
    assert_eq!(standin.tickets()[0].comments.len(), 2);
    assert_eq!(api.put(&path, &update).await.status, 200);
    // The account-wide fault says the account's budget is spent.
    let kind = FaultKind::TooManyRequests {
        retry_after: 5,
        text_plain: false,
    };
    standin.inject(fault(None, "/api/v2", kind, 1));
    let got = api.get("/api/v2/tickets.json").await;
    assert_eq!(
        (got.status, got.header("x-rate-limit-remaining")),
        (429, Some("0"))
    );
}
