//! The HTTP service (`scenarist serve`): channels post contact messages, advisors' tools post
//! their events and link contacts to Zendesk users, and both read conversations back — the
//! runtime and the connector behind axum. `handlers` maps each conversation route to one
//! engine input; `contacts` links contacts; `accounts`, `signing` and `limits` guard the door;
//! `reload` re-reads the config; `error` is the error body. `schemas/openapi.yaml` describes it.
//!
//! Every `/v1` request carries `Authorization: Bearer <token>` (compared in constant time);
//! bodies over the configured size are refused before they are parsed; while shutting down
//! new requests get 503 and the ones in flight finish.

mod accounts;
mod admin;
pub mod browsers;
pub mod connections;
mod contacts;
mod error;
mod handlers;
mod limits;
pub mod reload;
mod rights;
pub mod signing;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use subtle::ConstantTimeEq as _;

pub use accounts::AccountGuards;
pub use error::ApiError;
pub use limits::{RateLimits, RouteLimits};
pub use signing::Replays;

use crate::runtime::Engine;
use crate::zendesk::actions::ZendeskActions;
use crate::zendesk::secret::Secret;

/// How the service guards its door.
pub struct Guards {
    /// The bearer token every `/v1` request carries (`--dev` makes a random one).
    pub token: Secret,
    /// The bearer token `/v1/admin/*` takes instead; `None`: the admin endpoints are off.
    pub admin_token: Option<Secret>,
    /// The `Host` names answered (`--dev`: the loopback address only).
    pub hosts: browsers::Hosts,
    pub accounts: AccountGuards,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Where a reload (`POST /v1/admin/reload`, SIGHUP) reads the config from.
    pub source: reload::Source,
    /// The limits of the `/v1` routes other than `/v1/messages`.
    pub routes: RouteLimits,
    /// `GET /metrics` without the token.
    pub public_metrics: bool,
}

/// What the handlers share.
pub struct Service {
    pub engine: Engine,
    /// The organizations' clients (the engine's action runner too), for linking contacts.
    pub zendesk: Arc<ZendeskActions>,
    token: Secret,
    admin_token: Option<Secret>,
    hosts: browsers::Hosts,
    /// Swapped whole by a reload.
    accounts: Mutex<Arc<AccountGuards>>,
    pub replays: Replays,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub source: reload::Source,
    routes: RouteLimits,
    public_metrics: bool,
    /// One reload at a time: two at once could publish in one order and swap the accounts
    /// in the other.
    reloading: tokio::sync::Mutex<()>,
    draining: AtomicBool,
}

impl Service {
    pub fn new(engine: Engine, zendesk: Arc<ZendeskActions>, guards: Guards) -> Arc<Self> {
        Arc::new(Self {
            engine,
            zendesk,
            token: guards.token,
            admin_token: guards.admin_token,
            hosts: guards.hosts,
            accounts: Mutex::new(Arc::new(guards.accounts)),
            replays: Replays::default(),
            max_body_bytes: guards.max_body_bytes,
            request_timeout: guards.request_timeout,
            source: guards.source,
            routes: guards.routes,
            public_metrics: guards.public_metrics,
            reloading: tokio::sync::Mutex::new(()),
            draining: AtomicBool::new(false),
        })
    }

    /// From now on new requests are refused with 503; those in flight finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The accounts' signing secrets and rate limits in force.
    pub fn accounts(&self) -> Arc<AccountGuards> {
        Arc::clone(&self.accounts.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn set_accounts(&self, accounts: AccountGuards) {
        *self.accounts.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(accounts);
    }
}

pub fn router(service: Arc<Service>) -> Router {
    let v1 = Router::new()
        .route("/v1/messages", post(handlers::message))
        .route("/v1/conversations/{id}", get(handlers::conversation))
        .route(
            "/v1/conversations/{id}/advisor-messages",
            post(handlers::advisor_message),
        )
        .route("/v1/conversations/{id}/team", post(handlers::team))
        .route(
            "/v1/conversations/{id}/return-to-bot",
            post(handlers::return_to_bot),
        )
        .route("/v1/conversations/{id}/close", post(handlers::close))
        .route("/v1/contacts/{id}/zendesk", get(contacts::display))
        .route(
            "/v1/contacts/{id}/zendesk/candidates",
            get(contacts::candidates),
        )
        .route(
            "/v1/contacts/{id}/zendesk/link",
            post(contacts::link).delete(contacts::unlink),
        )
        .route("/v1/contacts/{id}/export", get(rights::export))
        .route("/v1/contacts/{id}", axum::routing::delete(rights::erase))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&service),
            authenticate,
        ));
    // The operator's door: its own token, never the channels'.
    let admin = Router::new()
        .route("/v1/admin/reload", post(handlers::reload))
        .route("/v1/admin/export", post(admin::export_backup))
        .route("/v1/admin/quarantine", get(admin::quarantine_list))
        .route(
            "/v1/admin/quarantine/{id}",
            get(admin::quarantine_show).delete(admin::quarantine_drop),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&service),
            authenticate_admin,
        ));
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .merge(v1)
        .merge(admin)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&service), guard))
        .with_state(service)
}

/// Refuses new requests while draining (and closes their connections) and what a web page
/// could send (`browsers`), and answers 503 to a request that outlives the timeout.
async fn guard(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    use axum::response::IntoResponse as _;
    if service.draining() && request.uri().path() != "/healthz" {
        return closing(ApiError::shutting_down().into_response());
    }
    if let Err(refused) = browsers::check(&service.hosts, request.method(), request.headers()) {
        return refused.into_response();
    }
    let mut response = tokio::time::timeout(service.request_timeout, next.run(request))
        .await
        .unwrap_or_else(|_| {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long; it may still complete: send it again with the same message_id (or Idempotency-Key)",
            );
            error.retry_after = Some(1);
            error.into_response()
        });
    if service.draining() {
        response = closing(response);
    }
    response
}

/// The connection closes after this answer (the service is going away).
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// `Authorization: Bearer <token>`, compared in constant time; then the route's rate limit
/// (`/v1/messages` has its per-account limits instead).
async fn authenticate(
    State(service): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    service.check_token(request.headers())?;
    let path = request.uri().path();
    if path != "/v1/messages" {
        service.routes.take(path)?;
    }
    Ok(next.run(request).await)
}

async fn authenticate_admin(
    State(service): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    service.check_admin_token(request.headers())?;
    service.routes.take(request.uri().path())?;
    Ok(next.run(request).await)
}

/// The bearer token of a request (borrowed: compared, never kept).
fn bearer<'a>(headers: &'a axum::http::HeaderMap, which: &str) -> Result<&'a str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "send the {which} as `Authorization: Bearer <token>`"
            ))
        })
}

fn same(given: &str, expected: &Secret) -> bool {
    bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes()))
}

impl Service {
    /// The request carries the service's token.
    fn check_token(&self, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
        if same(bearer(headers, "API token")?, &self.token) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("the API token is not the service's"))
        }
    }

    /// The request carries the admin token (and admin endpoints are on).
    fn check_admin_token(&self, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.admin_token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin_disabled",
                "the admin endpoints are off: start serve with the admin token in the variable `service.admin_token_env` names (SCENARIST_ADMIN_TOKEN by default); SIGHUP reloads without it",
            ));
        };
        let given = bearer(headers, "admin token")?;
        if same(given, expected) {
            Ok(())
        } else if same(given, &self.token) {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_admin",
                "this is the API token, which the channels hold; admin endpoints take the admin token",
            ))
        } else {
            Err(ApiError::unauthorized(
                "the admin token is not the service's",
            ))
        }
    }

    /// The request carries the API token or the admin token (`/metrics`).
    fn check_any_token(&self, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
        let given = bearer(headers, "API or admin token")?;
        let admin = self
            .admin_token
            .as_ref()
            .is_some_and(|admin| same(given, admin));
        if admin || same(given, &self.token) {
            Ok(())
        } else {
            Err(ApiError::unauthorized(
                "the token is neither the API token nor the admin token",
            ))
        }
    }
}

/// The body, refused with 413 past the limit.
pub(crate) async fn read_body(service: &Service, body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, service.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the body is over the limit of {} bytes (service.max_body_bytes)",
                    service.max_body_bytes
                ),
            )
        })
}

/// Parses a JSON body; the message names the missing or wrong field and where.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("the body is not what this endpoint takes: {e}"))
    })
}
