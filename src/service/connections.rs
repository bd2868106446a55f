//! The service's connections, served here rather than by `axum::serve` so that no peer can
//! hold the door open without credentials (every limit is in `service:` of the config):
//! - at most `max_connections` at once: one more is answered 503 and closed at once, so idle
//!   sockets cannot exhaust the file descriptors;
//! - a request head must arrive whole within `header_timeout` of the connection's start, or
//!   of its first byte after an idle wait (slowloris): a slower connection is closed;
//! - a keep-alive connection idle past `idle_timeout` is closed;
//! - a request's body and handling are bounded by the request timeout (`guard` in `mod.rs`).
//!
//! Shutdown never resets a request already sent: for `grace` after the signal the listener
//! keeps accepting and every request is answered (new ones 503 `shutting_down` with
//! `Retry-After` and `Connection: close`, see `guard`); then the connections waiting in the
//! listen backlog are accepted and served too, the listener closes, idle connections close,
//! and busy ones close after their answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt as _;

/// The connection limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// How long requests are still accepted (and answered 503) after the shutdown signal.
    pub grace: Duration,
    /// How long, at most, busy connections are waited for at the end.
    pub finish: Duration,
}

/// Where one connection stands, for its watchdog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head, since the connection's start or its first byte.
    Head(Instant),
    /// Requests being handled.
    Busy(u32),
    /// Waiting for the next request since the last answer.
    Idle(Instant),
}

/// Why a watchdog ended its connection.
enum Expiry {
    Head,
    Idle,
}

/// The phase, written by the connection as requests come and go and read by its watchdog
/// only when a deadline passes: a request costs no wake-up and no timer of its own.
struct Watch {
    phase: Mutex<Phase>,
}

impl Watch {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            phase: Mutex::new(Phase::Head(Instant::now())),
        })
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = change(*phase);
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: an idle connection starts a request head.
    fn read(&self) {
        if matches!(self.phase(), Phase::Idle(_)) {
            self.update(|phase| match phase {
                Phase::Idle(_) => Phase::Head(Instant::now()),
                other => other,
            });
        }
    }

    /// A request is being handled until the guard is dropped.
    fn busy(self: &Arc<Self>) -> BusyGuard {
        self.update(|phase| match phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        BusyGuard(Arc::clone(self))
    }

    /// Resolves when the connection has overstayed its current phase. It sleeps until the
    /// deadline of the phase it saw; a phase that changed meanwhile has a later deadline, so
    /// it sleeps again until that one. A busy connection is looked at again an idle timeout
    /// later: its idle phase starts when its answer is sent, so its deadline is later still.
    async fn expired(&self, limits: &Limits) -> Expiry {
        loop {
            let seen = self.phase();
            let (at, expiry) = match seen {
                Phase::Head(since) => (since + limits.header_timeout, Some(Expiry::Head)),
                Phase::Idle(since) => (since + limits.idle_timeout, Some(Expiry::Idle)),
                Phase::Busy(_) => (Instant::now() + limits.idle_timeout, None),
            };
            tokio::time::sleep_until(at).await;
            if let Some(expiry) = expiry {
                if self.phase() == seen {
                    return expiry;
                }
            }
        }
    }
}

struct BusyGuard(Arc<Watch>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.update(|phase| match phase {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// A socket that tells its watchdog when bytes arrive.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// What a connection over the cap gets before it is closed.
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 121\r\n\r\n{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the service has as many connections as it takes; try again shortly\"}}";

/// Serves `router` on `listener` until `shutdown` resolves; `draining` runs then (the
/// service starts answering 503), and the connections are wound down as the module says.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    draining: impl FnOnce(),
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (close, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    let mut draining = Some(draining);
    let mut stop_at = None;
    loop {
        let grace_over = async {
            match stop_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    open(stream, &router, &limits, &permits, &closing, &mut connections);
                }
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a little rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown, if stop_at.is_none() => {
                if let Some(draining) = draining.take() {
                    draining();
                }
                stop_at = Some(Instant::now() + limits.grace);
            }
            () = grace_over => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Connections already waiting in the backlog were sent before the listener closes.
    while let Some(Ok((stream, _))) = futures_now(listener.accept()) {
        open(
            stream,
            &router,
            &limits,
            &permits,
            &closing,
            &mut connections,
        );
    }
    drop(listener);
    let _ = close.send(true);
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.finish, finished).await.is_err() {
        tracing::warn!("connections still open at the end of shutdown were closed");
    }
}

/// The result of a future that is ready now, if it is.
fn futures_now<F: Future>(future: F) -> Option<F::Output> {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Serves one accepted connection, or turns it away when the service is full.
fn open(
    stream: TcpStream,
    router: &Router,
    limits: &Limits,
    permits: &Arc<Semaphore>,
    closing: &watch::Receiver<bool>,
    connections: &mut JoinSet<()>,
) {
    let Ok(permit) = Arc::clone(permits).try_acquire_owned() else {
        // The socket's send buffer is empty: the answer fits without waiting.
        let _ = stream.try_write(FULL);
        return;
    };
    let _ = stream.set_nodelay(true);
    let (router, limits, mut closing) = (router.clone(), *limits, closing.clone());
    connections.spawn(async move {
        let _permit = permit;
        let watch = Watch::new();
        let service = {
            let watch = Arc::clone(&watch);
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let busy = watch.busy();
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await;
                    drop(busy);
                    response
                }
            })
        };
        let io = TokioIo::new(Watched {
            stream,
            watch: Arc::clone(&watch),
        });
        let connection = http1::Builder::new()
            .max_buf_size(64 * 1024)
            .serve_connection(io, service);
        tokio::pin!(connection);
        let stop = async {
            let _ = closing.wait_for(|closing| *closing).await;
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            expiry = watch.expired(&limits) => match expiry {
                // Too slow to send a request head: closed, nothing to answer.
                Expiry::Head => return,
                Expiry::Idle => connection.as_mut().graceful_shutdown(),
            },
            () = stop => connection.as_mut().graceful_shutdown(),
        }
        let _ = connection.await;
    });
}
