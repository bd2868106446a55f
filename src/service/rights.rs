//! Contacts' rights (GDPR articles 15 and 17), on the channels' token:
//!
//! - `GET    /v1/contacts/{id}/export?account=…` — everything stored about the contact
//! - `DELETE /v1/contacts/{id}?account=…` — erases it, in turn with its conversations
//!
//! The work is the runtime's (`rights`, `Engine::erase_contact`); this maps it to HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::contacts::{AccountQuery, served_account};
use super::{ApiError, Service};
use crate::runtime::rights::{self, ContactExport, EraseError, Erasure};

fn store_error(error: &crate::store::StoreError) -> ApiError {
    tracing::error!(%error, "a contact's export: cannot read the store");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        error.plain(),
    )
}

/// `GET /v1/contacts/{id}/export?account=…`
pub(super) async fn export(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Json<ContactExport>, ApiError> {
    let account = served_account(&service, &id, query)?;
    let store = service.engine.store().as_ref();
    let export = rights::export(store, &account, &id)
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_contact",
                format!("nothing is stored about contact `{id}` on `{account}` (never recorded, or erased)"),
            )
        })?;
    Ok(Json(export))
}

/// `DELETE /v1/contacts/{id}?account=…`: what was removed and what only Zendesk can remove.
pub(super) async fn erase(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Json<Erasure>, ApiError> {
    let account = served_account(&service, &id, query)?;
    match service.engine.erase_contact(&account, &id).await? {
        Ok(erasure) => Ok(Json(erasure)),
        Err(EraseError::Store(error)) => Err(store_error(&error)),
        Err(error @ EraseError::OutboxPending(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "outbox_pending",
            error.to_string(),
        )),
    }
}
