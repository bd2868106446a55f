//! The stand-in's HTTP serving: our own accept loop over a `tokio::net::TcpListener`, each
//! connection served by hyper's HTTP/1 server, and in front of the router the steps every
//! request goes through — read the body, log it, apply a queued fault, strip `.json`,
//! authenticate `/api/v2`, route, and add Zendesk's common headers.
//!
//! Why our own loop rather than `axum::serve`: the `Drop` and `ExecuteThenDrop` faults must
//! close the connection **without a status line**. A response body that errors after the
//! headers would still show the client a status. Instead, the request's service future
//! signals its connection's kill switch and never completes; the connection task, which
//! selects on that switch, then drops the hyper connection and with it the socket. The client
//! sees the connection closed before any response (a connection-level error).
//!
//! Requests are handled in a task of their own, so a client that gives up (say after a
//! `Slow` fault) does not cancel work the stand-in has started: like a real server, it
//! completes — including writing the state file, when there is one, after routing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, Response, Uri};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::auth;
use super::faults::{self, Effect};
use super::persist;
use super::render;
use super::reply::Reply;
use super::state::{RequestLog, Shared};

/// Request bodies above this are refused (413) rather than buffered.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Accepts connections until `shutdown` turns true or its sender is dropped; then closes the
/// open connections.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let connection_shutdown = shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(
                        stream,
                        Arc::clone(&shared),
                        router.clone(),
                        connection_shutdown.clone(),
                    ));
                }
                Err(error) => {
                    // E.g. too many open files: back off instead of spinning.
                    tracing::warn!(%error, "zendesk stand-in: accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Resolves once shutdown is asked for (or the [`super::StandIn`] is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = Arc::clone(&kill);
        service_fn(move |request| {
            handle(
                request,
                Arc::clone(&shared),
                router.clone(),
                Arc::clone(&kill),
            )
        })
    };
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = served => {}
        // Dropping the hyper connection drops the socket: the client gets no status line.
        () = kill.notified() => {}
        () = stopped(&mut shutdown) => {}
    }
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
    router: Router,
    kill: Arc<Notify>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), BODY_LIMIT).await else {
        log(&shared, &parts, &Bytes::new());
        let reply = Reply::json(
            413,
            serde_json::json!({"error": "RequestTooLarge", "description": "The request body is too large or broken"}),
        );
        return Ok(finish(&shared, reply.into_response()));
    };
    let task = tokio::spawn(process(parts, bytes, Arc::clone(&shared), router));
    match task.await {
        Ok(Some(response)) => Ok(response),
        Ok(None) => {
            kill.notify_one();
            std::future::pending().await
        }
        Err(error) => {
            tracing::warn!(%error, "zendesk stand-in: a handler failed");
            let reply = Reply::json(500, serde_json::json!({"error": "InternalServerError"}));
            Ok(finish(&shared, reply.into_response()))
        }
    }
}

fn log(shared: &Shared, parts: &Parts, body: &Bytes) {
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    shared.lock().log_request(RequestLog {
        method: parts.method.to_string(),
        path,
        headers,
        body: body.to_vec(),
    });
}

/// Logs, applies a fault, handles. `None` means: close the connection without a response.
async fn process(
    parts: Parts,
    body: Bytes,
    shared: Arc<Shared>,
    router: Router,
) -> Option<Response<Body>> {
    log(&shared, &parts, &body);
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let fault = if target.starts_with("/__standin") {
        None
    } else {
        shared.lock().take_fault(parts.method.as_str(), &target)
    };
    match fault.map(|f| faults::effect(&f.kind)) {
        Some(Effect::Respond(reply)) => return Some(finish(&shared, reply.into_response())),
        Some(Effect::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Effect::Drop) => return None,
        Some(Effect::ExecuteThenDrop) => {
            let _ = route(parts, body, &shared, router).await;
            return None;
        }
        None => {}
    }
    Some(route(parts, body, &shared, router).await)
}

/// Strips `.json`, authenticates `/api/v2` and calls the router.
async fn route(mut parts: Parts, body: Bytes, shared: &Shared, router: Router) -> Response<Body> {
    if let Some(stripped) = parts.uri.path().strip_suffix(".json") {
        let rebuilt = match parts.uri.query() {
            Some(query) => format!("{stripped}?{query}"),
            None => stripped.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            parts.uri = uri;
        }
    }
    let path = parts.uri.path();
    if path == "/api/v2" || path.starts_with("/api/v2/") {
        let caller = {
            let data = shared.lock();
            auth::authenticate(shared, &data, &parts.headers)
        };
        match caller {
            Some(caller) => {
                parts.extensions.insert(caller);
            }
            // Recorded: wrong credentials on users/me are a 200 with the anonymous user.
            None if parts.method == Method::GET && path == "/api/v2/users/me" => {
                let reply = Reply::json(200, render::anonymous_user());
                return finish(shared, reply.into_response());
            }
            None => return finish(shared, Reply::unauthorized().into_response()),
        }
    }
    let request = Request::from_parts(parts, Body::from(body));
    let response = match TowerToHyperService::new(router).call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // Before the response goes out, so a client that saw it succeed finds the change after a
    // restart (a no-op without a state file, or when nothing kept changed).
    persist::save(shared).await;
    finish(shared, response)
}

/// Adds the headers every Zendesk response carries.
fn finish(shared: &Shared, mut response: Response<Body>) -> Response<Body> {
    let (remaining, request_id) = {
        let mut data = shared.lock();
        (data.count_request(), data.request_id())
    };
    let headers = response.headers_mut();
    headers.insert("x-rate-limit", HeaderValue::from_static("700"));
    // An account-wide 429 fault has set it to 0 already.
    if !headers.contains_key("x-rate-limit-remaining") {
        headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", value);
    }
    response
}
