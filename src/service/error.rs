//! API errors: `{"error": {"code": "…", "message": "…"}}` with the status that fits.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::runtime::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, sent as `Retry-After` (429, and 503 where sending again helps).
    pub retry_after: Option<u64>,
    /// A refused reload's findings, in the shape of `lint --format json`
    /// (`schemas/lint-report.schema.json`), sent as `error.report`.
    pub report: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            report: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn shutting_down() -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is shutting down; send again to another instance or after the restart",
        );
        error.retry_after = Some(1);
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(report) = self.report {
            error["report"] = report;
        }
        let body = json!({ "error": error });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        match error {
            EngineError::UnknownAccount(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_account", message)
            }
            EngineError::UnknownConversation(_) => {
                Self::new(StatusCode::NOT_FOUND, "unknown_conversation", message)
            }
            EngineError::Quarantined(..) => Self::new(StatusCode::CONFLICT, "quarantined", message),
            EngineError::Unavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            EngineError::KeyReused(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                message,
            ),
            EngineError::Scenario(_) => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "scenario", message)
            }
            EngineError::Unreachable(_) => {
                let mut error = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unreachable",
                    message,
                );
                error.retry_after = Some(2);
                error
            }
        }
    }
}
