//! The baseline for `scripts/bench-serve`: the smallest axum server that answers
//! `POST /v1/messages` with 200 and a small JSON body, on the same tokio runtime and the same
//! HTTP stack as `scenarist serve`, so the ratio of the two shows what the engine, the store
//! and the fsync cost over plain HTTP.
//!
//! Usage: `cargo run --release --example trivial_http -- 127.0.0.1:0`; prints
//! `Listening on http://ADDR` once it accepts connections.
#![expect(
    clippy::print_stdout,
    reason = "prints where it listens, for the bench script"
)]

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

/// Reads the whole body (as the real service does) and answers a fixed, small JSON.
async fn message(body: Bytes) -> impl IntoResponse {
    let _ = body.len();
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"duplicate":false,"replies":[{"choices":[],"text":"Hello"}],"status":"waiting"}"#,
    )
}

fn main() -> anyhow::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("Listening on http://{}", listener.local_addr()?);
        let app = Router::new().route("/v1/messages", post(message));
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
