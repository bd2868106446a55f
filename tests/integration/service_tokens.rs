//! `serve` with an OAuth organization whose access token Zendesk refuses and whose refresh
//! token is dead: messages are still taken in, and `/readyz` and `/metrics` name the
//! organization that needs `scenarist zendesk reauthorize`, without the token.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zendesk_standin::{StandIn, StandInConfig};

use crate::service::{Server, message};
use crate::support::tempdir;

const EXPIRED: &str = "expired-access-token-1234";

/// The example config with `acme` connected by OAuth to `url`, its token set in
/// `acme.token` beside the config.
fn oauth_config(dir: &Path, url: &str) -> PathBuf {
    std::fs::write(
        dir.join("acme.token"),
        format!("{EXPIRED}\nrefresh_token=dead-refresh-token-5678\n"),
    )
    .unwrap();
    let oauth =
        format!("url: {url}\n      auth:\n        type: oauth\n        token_file: acme.token");
    crate::service::example_config(
        dir,
        &[
            (
                "url: http://127.0.0.1:8788\n      auth:\n        type: sandbox",
                &oauth,
            ),
            ("url: http://127.0.0.1:8789", "url: http://127.0.0.1:0"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_and_metrics_name_the_organization_that_needs_reauthorize() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = tempdir();
    let server = Server::start_with(Some(&oauth_config(&dir, &standin.url())), &dir.join("data"));
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(
        (status, ready),
        (200, serde_json::json!({"status": "ready"}))
    );
    for (id, text) in [("m-1", "Hi"), ("m-2", "ada@example.com")] {
        let (status, answer) = server.post("/v1/messages", &message("c-1", id, text)).await;
        assert_eq!(status, 200, "messages are still taken in: {answer}");
    }
    // The sync's first call meets the 401, the refresh is refused: readiness says so.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        let (status, ready) = server.get("/readyz").await;
        assert_eq!(status, 200, "{ready}");
        if ready.get("zendesk_reauthorize").is_some() {
            break ready;
        }
        assert!(Instant::now() < deadline, "never reported: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let listed = &ready["zendesk_reauthorize"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{ready}");
    assert_eq!(listed[0]["organization"], "acme");
    assert_eq!(listed[0]["fix"], "scenarist zendesk reauthorize acme");
    let text = ready.to_string();
    assert!(
        !text.contains(EXPIRED) && !text.contains("dead-refresh"),
        "{text}"
    );

    let metrics = server.metrics().await;
    assert!(
        metrics.contains("scenarist_zendesk_reauthorize_needed{organization=\"acme\"} 1\n"),
        "{metrics}"
    );
    assert!(!metrics.contains(EXPIRED));
    // The work is kept for after the reauthorization, not failed.
    let (status, conversation) = server.get("/v1/conversations/c-1").await;
    assert_eq!(status, 200, "{conversation}");
    assert_eq!(
        conversation["dead_letters"],
        serde_json::json!([]),
        "{conversation}"
    );
    assert!(
        conversation["pending_effects"].as_u64().unwrap() >= 1,
        "{conversation}"
    );
    assert!(server.terminate().success());
    standin.stop().await;
}
