//! The operator's routes beside reload: a consistent backup streamed while the service runs
//! (`POST /v1/admin/export`), and the quarantined conversations, listed, inspected and
//! dropped (`/v1/admin/quarantine`). All take the admin token (`authenticate_admin`).

use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiError, Service};
use crate::api::check_id;
use crate::store::{Store, StoreError, export};

/// Bytes gathered before a chunk of the backup is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks between the export and the client: a slow client makes the export wait instead of
/// filling memory.
const IN_FLIGHT: usize = 8;

type Chunk = Result<Bytes, io::Error>;

/// `POST /v1/admin/export`: the logical backup of `scenarist store export`, produced on a
/// blocking thread while it is sent (never the whole store in memory), every conversation at
/// one of its commit points (`store::export`). A failure part way ends the body in an error,
/// so the client sees a failed transfer; `store import` refuses a backup without its trailer.
pub(super) async fn export_backup(State(service): State<Arc<Service>>) -> Response {
    let (sender, receiver) = mpsc::channel(IN_FLIGHT);
    let store = Arc::clone(service.engine.store());
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            sender,
            buffer: Vec::with_capacity(CHUNK),
        };
        match export(store.backend(), &mut writer) {
            Ok(stats) => tracing::info!(records = stats.records, "backup exported"),
            Err(error) => {
                tracing::error!(%error, "the backup stopped before its end");
                let _ = writer
                    .sender
                    .blocking_send(Err(io::Error::other(error.to_string())));
            }
        }
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(Chunks(receiver)),
    )
        .into_response()
}

/// Writes into the response body a chunk at a time; fails once the client has gone.
struct ChunkWriter {
    sender: mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The chunks as the body's stream.
struct Chunks(mpsc::Receiver<Chunk>);

impl futures_core::Stream for Chunks {
    type Item = Chunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

type Reply = Result<Json<Value>, ApiError>;

/// `GET /v1/admin/quarantine`: every quarantined conversation and why.
pub(super) async fn quarantine_list(State(service): State<Arc<Service>>) -> Reply {
    let listed = read(&service, Store::quarantine_list).await?;
    Ok(Json(json!({ "quarantined": listed })))
}

/// `GET /v1/admin/quarantine/{id}`: what every tree holds for it, the record raw.
pub(super) async fn quarantine_show(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Reply {
    check_id("conversation", &id).map_err(ApiError::bad_request)?;
    let wanted = id.clone();
    let inspection = read(&service, move |store| store.inspect(&wanted)).await?;
    if inspection.reason.is_none() {
        return Err(not_quarantined(&id));
    }
    Ok(Json(json!(inspection)))
}

/// `DELETE /v1/admin/quarantine/{id}`: removes it, in its turn with the engine's inputs.
pub(super) async fn quarantine_drop(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Reply {
    check_id("conversation", &id).map_err(ApiError::bad_request)?;
    match service.engine.drop_quarantined(&id).await? {
        Some(dropped) => Ok(Json(json!({ "dropped": dropped }))),
        None => Err(not_quarantined(&id)),
    }
}

fn not_quarantined(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_quarantined",
        format!(
            "conversation `{id}` is not quarantined; GET /v1/admin/quarantine lists those that are"
        ),
    )
}

/// A read that scans the store, on a blocking thread.
async fn read<T: Send + 'static>(
    service: &Service,
    read: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = Arc::clone(service.engine.store());
    let unavailable =
        |message: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
    tokio::task::spawn_blocking(move || read(store.as_ref()))
        .await
        .map_err(|e| unavailable(format!("the read stopped: {e}")))?
        .map_err(|error| {
            tracing::error!(%error, "cannot read the quarantine");
            unavailable(error.plain())
        })
}
