//! The studio's door. Every request passes the service's browser checks
//! (`service::browsers`: the `Host` on loopback, another site's `Origin`, a `POST` or `PUT`
//! body that is not JSON); beyond loopback, every `/api/` request carries the studio's token
//! (`Authorization: Bearer …`, compared in constant time). Bodies are read up to
//! [`MAX_BODY_BYTES`] and parsed here, so every refusal is a JSON error.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use subtle::ConstantTimeEq as _;

use super::Studio;
use crate::service::{ApiError, browsers};

/// The largest body the studio reads: a scenario of a few thousand lines fits.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(super) async fn guard(
    State(studio): State<Arc<Studio>>,
    request: Request,
    next: Next,
) -> Response {
    // `browsers::check` asks JSON of a POST; a PUT (saving a file) must be JSON too.
    let method = if request.method() == Method::PUT {
        Method::POST
    } else {
        request.method().clone()
    };
    if let Err(mut refused) = browsers::check(&studio.hosts, &method, request.headers()) {
        if refused.code == "foreign_host" {
            refused.message = "the studio answers only requests for its own loopback address; this one named another host (a web page's DNS rebinding?)".into();
        }
        return refused.into_response();
    }
    if request.uri().path().starts_with("/api/") {
        if let Err(refused) = check_token(&studio, request.headers()) {
            return refused.into_response();
        }
    }
    let mut response = next.run(request).await;
    // The page and its answers are not for other sites' frames or caches.
    let headers = response.headers_mut();
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn check_token(studio: &Studio, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &studio.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized(
                "open the studio with the URL it printed (it carries the token), or send `Authorization: Bearer <token>`",
            )
        })?;
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("the token is not the studio's"))
    }
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such page or endpoint",
    )
}

/// A JSON body read up to [`MAX_BODY_BYTES`]: 413 past it, 400 when it is not what the
/// endpoint takes (the message names the field).
pub(super) struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request<Body>, _: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("the body is over the studio's limit of {MAX_BODY_BYTES} bytes"),
                )
            })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(format!("the body is not what this endpoint takes: {e}"))
        })
    }
}
