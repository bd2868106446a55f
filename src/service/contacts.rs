//! An advisor links a contact to a Zendesk user (product.md, "Contacts outlive
//! conversations"); mode A syncs a conversation only once its contact is linked. The
//! organization is the one the contact's account is linked to in the config; the record is
//! changed through the engine, in turn with the conversations that write it.
//!
//! - `GET    /v1/contacts/{id}/zendesk/candidates?account=…` — users matching the search fields
//! - `POST   /v1/contacts/{id}/zendesk/link?account=…` — `{"user_id": …}` or `{"create": true}`
//! - `DELETE /v1/contacts/{id}/zendesk/link?account=…`
//! - `GET    /v1/contacts/{id}/zendesk?account=…` — the linked user's display fields

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::{ApiError, Service, parse, read_body};
use crate::api::check_id;
use crate::runtime::state::Contact;
use crate::zendesk::actions::{Org, UserSeed};
use crate::zendesk::client::ZendeskError;
use crate::zendesk::linking::{self, LinkError};
use crate::zendesk::model::User;

type Reply = Result<Json<Json_>, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccountQuery {
    pub(super) account: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkBody {
    #[serde(default)]
    user_id: Option<u64>,
    #[serde(default)]
    create: bool,
}

/// The account of a contact route's query, after the guards every contact route shares: the
/// contact id and the account are short printable text, and the account is one of the config.
pub(super) fn served_account(
    service: &Service,
    id: &str,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<String, ApiError> {
    let Query(AccountQuery { account }) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "name the contact's channel account: `?account=facebook:acme` ({e})"
        ))
    })?;
    check_id("contact id (in the path)", id).map_err(ApiError::bad_request)?;
    check_id("account", &account).map_err(ApiError::bad_request)?;
    if !service.engine.serves_account(&account) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_account",
            format!("there is no account `{account}` in the config"),
        ));
    }
    Ok(account)
}

/// The contact and the organization of its account.
struct Target {
    account: String,
    contact: Contact,
    org: Arc<Org>,
}

fn target(
    service: &Service,
    id: &str,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Target, ApiError> {
    let account = served_account(service, id, query)?;
    let org_name = service.zendesk.organization_of(&account).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_organization",
            format!(
                "account `{account}` is not linked to a Zendesk organization (`accounts.{account}.zendesk` in the config)"
            ),
        )
    })?;
    let org = service.zendesk.org(&org_name).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "zendesk_unavailable",
            format!(
                "Zendesk organization `{org_name}` has no usable credentials (serve said why when it started)"
            ),
        )
    })?;
    let contact = service.engine.contact(&account, id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_contact",
            format!("there is no contact `{id}` on `{account}` (a contact is recorded when it first writes)"),
        )
    })?;
    Ok(Target {
        account,
        contact,
        org,
    })
}

/// Zendesk's own words (its error texts, details, an HTML page) and the store's go to the
/// log; the caller gets the status, a code and plain words.
impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::NoSuchUser(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_such_user",
                error.to_string(),
            ),
            LinkError::NotLinked(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_linked", error.to_string())
            }
            LinkError::Zendesk(zendesk) => {
                tracing::warn!(error = %zendesk, "a contact route: Zendesk did not do it");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    "zendesk_error",
                    zendesk_answer(&zendesk),
                )
            }
            LinkError::NoId => {
                Self::new(StatusCode::BAD_GATEWAY, "zendesk_error", error.to_string())
            }
            LinkError::Store(store) => {
                tracing::error!(error = %store, "a contact route: cannot write the contact record");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    store.plain(),
                )
            }
        }
    }
}

/// What a caller is told of a failed Zendesk call: what happened, never Zendesk's text.
fn zendesk_answer(error: &ZendeskError) -> String {
    const LOGGED: &str = "the service's log has the details";
    match error {
        ZendeskError::Status { status, .. } => {
            format!("Zendesk answered {status} and did not do it; {LOGGED}")
        }
        ZendeskError::Transport { .. } => {
            format!(
                "Zendesk did not answer (no connection, or too slow); try again later, {LOGGED}"
            )
        }
        ZendeskError::Paused(ms) => {
            format!("Zendesk asked to slow down; calls to it resume in {ms} ms")
        }
        ZendeskError::Decode(_) | ZendeskError::TooLarge { .. } => {
            format!("Zendesk's answer could not be read; {LOGGED}")
        }
        ZendeskError::Reauthorize { organization, .. } => format!(
            "Zendesk no longer accepts the organization's OAuth token; an admin must run `scenarist zendesk reauthorize {organization}`"
        ),
        ZendeskError::Url(_) | ZendeskError::Foreign(_) => {
            format!("the call to Zendesk was refused before it was sent; {LOGGED}")
        }
    }
}

fn user_json(user: &User) -> Json_ {
    json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "external_id": user.external_id,
    })
}

/// `GET /v1/contacts/{id}/zendesk/candidates?account=…`: exact matches first.
pub(super) async fn candidates(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Reply {
    let target = target(&service, &id, query)?;
    let found = linking::candidates(&target.org, &target.contact)
        .await
        .map_err(LinkError::from)?;
    let candidates: Vec<Json_> = found
        .list
        .iter()
        .map(|candidate| {
            json!({
                "user": user_json(&candidate.user),
                "exact": candidate.exact(),
                "matched": candidate.matched.iter().map(|m| json!({
                    "property": m.property,
                    "contact_field": m.contact_field,
                    "exact": m.exact,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut answer = json!({
        "organization": target.org.name,
        "candidates": candidates,
    });
    if found.truncated {
        // Said, not hidden: the user the advisor looks for may be among those not read.
        answer["truncated"] = json!({
            "cap": crate::zendesk::client::SEARCH_CAP,
            "help": "a search matched more users than are read; give the contact a more precise field (an email rather than a name)",
        });
    }
    Ok(Json(answer))
}

/// `POST /v1/contacts/{id}/zendesk/link?account=…`: an existing user, or one created from
/// the create fields.
pub(super) async fn link(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
    body: Body,
) -> Reply {
    let body: LinkBody = parse(&read_body(&service, body).await?)?;
    let target = target(&service, &id, query)?;
    let (user, user_id) = match (body.user_id, body.create) {
        (Some(user_id), false) => (linking::existing_user(&target.org, user_id).await?, user_id),
        (None, true) => {
            linking::create_user(&target.org, &target.contact, &UserSeed::default()).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "send either `user_id` (an existing Zendesk user) or `\"create\": true` (a user made from the organization's create fields)",
            ));
        }
    };
    let organization = target.org.name.clone();
    let previous = service
        .engine
        .update_contact(&target.account, &id, |contact| {
            contact.zendesk.insert(organization.clone(), user_id)
        })
        .await?
        .and_then(|(_, previous)| previous)
        .filter(|previous| *previous != user_id);
    tracing::info!(account = %target.account, contact = %id, organization, user_id, "contact linked");
    Ok(Json(json!({
        "organization": organization,
        "user": user_json(&user),
        "created": body.create,
        "previous_user_id": previous,
    })))
}

/// `DELETE /v1/contacts/{id}/zendesk/link?account=…`
pub(super) async fn unlink(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Reply {
    let target = target(&service, &id, query)?;
    let organization = target.org.name.clone();
    let previous = service
        .engine
        .update_contact(&target.account, &id, |contact| {
            contact.zendesk.remove(&organization)
        })
        .await?
        .and_then(|(_, previous)| previous);
    Ok(Json(json!({
        "organization": organization,
        "unlinked_user_id": previous,
    })))
}

/// `GET /v1/contacts/{id}/zendesk?account=…`: the linked user's display fields.
pub(super) async fn display(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Reply {
    let target = target(&service, &id, query)?;
    let (user, shown) = linking::display(&target.org, &target.contact).await?;
    let fields: serde_json::Map<String, Json_> = shown
        .into_iter()
        .map(|(property, value)| (property, json!(value)))
        .collect();
    Ok(Json(json!({
        "organization": target.org.name,
        "user": user_json(&user),
        "fields": fields,
    })))
}
