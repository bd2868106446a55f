//! The stand-in's router. Paths arrive here without their `.json` suffix (the server strips
//! it) and, under `/api/v2`, already authenticated (the server inserts the [`Caller`]).
//! Also the small endpoints: `user_fields`, and the control endpoints `POST /__standin/faults`
//! and `GET /__standin/state` for the demo. Unknown routes and methods are 404 JSON.
//!
//! [`Caller`]: super::auth::Caller

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use serde_json::json;

use super::faults::Fault;
use super::reply::Reply;
use super::state::Shared;
use super::{comments, oauth, render, search, ticket_fields, tickets, update, users};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v2/users/me", get(users::me))
        .route("/api/v2/users/search", get(search::search))
        .route(
            "/api/v2/users/create_or_update",
            post(users::create_or_update),
        )
        .route("/api/v2/users/{id}", get(users::show))
        .route("/api/v2/users", get(search::list).post(users::create))
        .route("/api/v2/user_fields", get(user_fields))
        .route("/api/v2/tickets", get(tickets::list).post(tickets::create))
        .route(
            "/api/v2/tickets/{id}",
            get(tickets::show).put(update::update),
        )
        .route("/api/v2/tickets/{id}/comments", get(comments::list))
        .route(
            "/api/v2/ticket_fields",
            get(ticket_fields::list).post(ticket_fields::create),
        )
        .route("/api/v2/ticket_fields/{id}", get(ticket_fields::show))
        .route("/oauth/authorizations/new", get(oauth::authorize))
        .route("/oauth/tokens", post(oauth::token))
        .route("/__standin/faults", post(add_fault))
        .route("/__standin/state", get(state))
        .fallback(no_endpoint)
        .method_not_allowed_fallback(no_endpoint)
        // The server already caps bodies (16 MiB) before they get here.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn no_endpoint() -> Reply {
    Reply::no_endpoint()
}

async fn user_fields(State(shared): State<Arc<Shared>>) -> Reply {
    Reply::json(200, render::user_field_definitions(&shared))
}

/// `POST /__standin/faults` with a [`Fault`] as JSON; answers 201 with the fault as queued.
async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Reply, Reply> {
    let fault: Fault = serde_json::from_slice(&body)
        .map_err(|e| Reply::bad_request("InvalidFault", &format!("Not a fault: {e}")))?;
    let echo = serde_json::to_value(&fault).unwrap_or_default();
    shared.lock().push_fault(fault);
    Ok(Reply::json(201, json!({"fault": echo})))
}

/// `GET /__standin/state`: tickets, users and ticket fields as the stand-in holds them, and
/// pending faults.
async fn state(State(shared): State<Arc<Shared>>) -> Reply {
    let data = shared.lock();
    Reply::json(
        200,
        json!({
            "tickets": data.ticket_records(),
            "users": data.user_records(),
            "ticket_fields": data.ticket_field_records(),
            "faults": data.faults,
            "requests": data.requests.len(),
        }),
    )
}
