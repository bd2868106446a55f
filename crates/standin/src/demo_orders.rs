//! A demo order system for the offline example: the API that the example config's `oms`
//! declares with `base_url: sandbox` (see `apis` in docs/config.md). It answers
//! `GET /orders/{number}` for a few fixed orders, and 404 for any other number, on a loopback
//! port of its own; the process that runs the scenarios starts it beside the Zendesk sandbox,
//! so the order lookup of the quick start works without an account anywhere.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The demo's orders: number, status, estimated delivery (none once delivered).
pub(crate) const ORDERS: &[(&str, &str, Option<&str>)] = &[
    ("AB100001", "shipped", Some("2026-12-08")),
    ("AB100002", "processing", Some("2026-12-12")),
    ("AB100003", "delivered", None),
];

/// The running demo; it stops when dropped.
#[derive(Debug)]
pub struct DemoOrders {
    url: String,
    task: JoinHandle<()>,
}

impl DemoOrders {
    /// Starts the demo on a free loopback port. Must run inside a tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new().route("/orders/{number}", get(order));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the demo order system stopped");
            }
        });
        Ok(Self { url, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for DemoOrders {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn order(Path(number): Path<String>) -> Response {
    let wanted = number.trim().to_ascii_uppercase();
    match ORDERS.iter().find(|(n, _, _)| *n == wanted) {
        Some((number, status, eta)) => axum::Json(json!({
            "number": number,
            "status": status,
            "delivery": { "eta": eta },
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "no such order" })),
        )
            .into_response(),
    }
}
