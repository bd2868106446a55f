//! Tickets: `POST /api/v2/tickets` (with the Idempotency-Key contract of zendesk-api.md
//! §3.3), `GET /api/v2/tickets?external_id=`, `GET`/`PUT /api/v2/tickets/{id}` (one comment
//! per update, custom audit `metadata`, the solve-needs-an-assignee rule and the terminal
//! `closed` status of §3.5; `priority`, `group_id` and `custom_fields` as `ticket_fields`
//! checks them). Every write answers `{"ticket":…,"audit":…}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri, header};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::auth::Caller;
use super::comments::{CommentInput, parse_comment};
use super::render::{self, Audit};
use super::reply::{Handler, Reply, opt_id, opt_str, path_id, query_params, tag_list, wrapped};
use super::state::{
    Comment, CommentRecord, IdempotencyEntry, STATUSES, Shared, State as Data, Ticket,
};
use super::ticket_fields::Triage;
use super::users::find_or_create;

pub(crate) fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_owned()
}

pub(crate) fn event(
    data: &mut Data,
    kind: &str,
    field: &str,
    value: &Value,
    previous: Option<Value>,
) -> Value {
    let mut event =
        json!({"id": data.next_id(), "type": kind, "value": value, "field_name": field});
    if let (Some(previous), Some(obj)) = (previous, event.as_object_mut()) {
        obj.insert("previous_value".to_owned(), previous);
    }
    event
}

pub(crate) fn id_value(id: Option<u64>) -> Value {
    id.map_or(Value::Null, |id| Value::String(id.to_string()))
}

pub(crate) fn assignee_required() -> Reply {
    let mut details = Map::new();
    details.insert(
        "base".to_owned(),
        json!([{
            "description": "Assignee: is required when solving a ticket",
            "error": null,
            "ticket_field_id": 1,
            "ticket_field_type": "FieldAssignee",
        }]),
    );
    Reply::invalid_details(&details)
}

pub(crate) fn check_status(status: Option<String>) -> Result<Option<String>, Reply> {
    match status {
        Some(s) if !STATUSES.contains(&s.as_str()) => Err(Reply::invalid(
            "status",
            Some("InvalidValue"),
            "Status: is invalid",
        )),
        other => Ok(other),
    }
}

pub(crate) fn check_user(data: &Data, id: u64, field: &str, agent: bool) -> Result<(), Reply> {
    match data.users.get(&id) {
        Some(user) if !agent || user.rec.role != "end-user" => Ok(()),
        _ => Err(Reply::invalid(
            field,
            Some("InvalidValue"),
            &format!("{field}: is invalid"),
        )),
    }
}

pub(crate) fn custom_metadata(obj: &Map<String, Value>) -> Value {
    match obj.get("metadata") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({}),
    }
}

pub(crate) fn new_comment(
    data: &mut Data,
    input: &CommentInput,
    author_id: u64,
    public: bool,
    audit_id: u64,
    client: &str,
    custom: &Value,
) -> Comment {
    Comment {
        rec: CommentRecord {
            id: data.next_id(),
            author_id,
            body: input.plain.clone(),
            html_body: input.html.clone(),
            public,
            created_at: data.now_iso(),
            metadata: custom.clone(),
        },
        audit_id,
        client: client.to_owned(),
    }
}

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    caller: Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Handler {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client = user_agent(&headers);
    let mut data = shared.lock();
    let hash = Sha256::digest(&body).to_vec();
    if let Some(key) = &key {
        data.purge_idempotency();
        if let Some(entry) = data.idempotency.get(key) {
            if entry.body_hash != hash {
                return Err(Reply::bad_request(
                    "IdempotentRequestError",
                    "Request parameters don't match the given idempotency key",
                ));
            }
            let mut reply = Reply::json(entry.status, entry.body.clone());
            if let Some(location) = &entry.location {
                reply = reply.header("location", location.clone());
            }
            return Ok(reply.header("x-idempotency-lookup", "hit"));
        }
    }
    let (ticket_id, body) = create_ticket(&shared, &mut data, caller.user_id, &client, &body)?;
    let location = render::ticket_url(&shared, ticket_id);
    let mut reply = Reply::json(201, body.clone()).header("location", location.clone());
    if let Some(key) = key {
        // Only successes are remembered: a request that failed validation created nothing.
        let stored_at = data.now();
        let entry = IdempotencyEntry {
            body_hash: hash,
            stored_at,
            status: 201,
            body,
            location: Some(location),
        };
        data.idempotency.insert(key, entry);
        reply = reply.header("x-idempotency-lookup", "miss");
    }
    Ok(reply)
}

/// Validates and creates; returns the new id and the response body.
fn create_ticket(
    shared: &Shared,
    data: &mut Data,
    caller: u64,
    client: &str,
    body: &[u8],
) -> Result<(u64, Value), Reply> {
    let obj = wrapped(body, "ticket")?;
    let comment = match obj.get("comment") {
        Some(Value::Object(c)) => parse_comment(c)?,
        // Recorded: `{"ticket":{"description":"test",…}}` creates the first comment too.
        _ => match obj.get("description") {
            Some(Value::String(d)) => {
                parse_comment(&json!({"body": d}).as_object().cloned().unwrap_or_default())?
            }
            _ => None,
        },
    };
    let Some(comment) = comment else {
        return Err(Reply::invalid(
            "base",
            Some("BlankError"),
            "Description: cannot be blank",
        ));
    };
    // Before the requester, who may be created: a refused request creates nothing.
    let triage = Triage::parse(data, &obj)?;
    let submitter_id = opt_id(&obj, "submitter_id")?.unwrap_or(caller);
    check_user(data, submitter_id, "submitter_id", false)?;
    let requester_id = if let Some(id) = opt_id(&obj, "requester_id")? {
        check_user(data, id, "requester", false)?;
        id
    } else if let Some(Value::Object(req)) = obj.get("requester") {
        let (name, email) = (opt_str(req, "name")?, opt_str(req, "email")?);
        find_or_create(shared, data, name, email)?
    } else {
        caller
    };
    let author_id = comment.author_id.unwrap_or(submitter_id);
    check_user(data, author_id, "author_id", false)?;
    let assignee_id = opt_id(&obj, "assignee_id")?;
    if let Some(id) = assignee_id {
        check_user(data, id, "assignee_id", true)?;
    }
    let mut status = check_status(opt_str(&obj, "status")?)?.unwrap_or_else(|| "new".to_owned());
    if status == "new" && assignee_id.is_some() {
        "open".clone_into(&mut status);
    }
    if (status == "solved" || status == "closed") && assignee_id.is_none() {
        return Err(assignee_required());
    }
    let subject = opt_str(&obj, "subject")?.unwrap_or_else(|| {
        // Without a subject the description's first line stands in (as Zendesk's views show).
        comment
            .plain
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect()
    });
    let tags = tag_list(obj.get("tags"))?.unwrap_or_default();
    let custom = custom_metadata(&obj);
    let id = data.next_ticket_id();
    let audit_id = data.next_id();
    let first = new_comment(
        data,
        &comment,
        author_id,
        comment.public.unwrap_or(true),
        audit_id,
        client,
        &custom,
    );
    let organization_id = data
        .users
        .get(&requester_id)
        .and_then(|u| u.organization_id);
    let now = data.now_iso();
    let mut ticket = Ticket {
        id,
        external_id: opt_str(&obj, "external_id")?,
        subject,
        status,
        requester_id,
        submitter_id,
        assignee_id,
        organization_id,
        tags,
        priority: None,
        group_id: None,
        custom_fields: BTreeMap::new(),
        comments: vec![first],
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    let triage_events = triage.apply(data, &mut ticket, true);
    let mut events = vec![render::comment_event(&ticket.comments[0])];
    let creates = [
        ("subject", json!(ticket.subject)),
        ("requester_id", id_value(Some(requester_id))),
        ("priority", json!(ticket.priority)),
        ("type", Value::Null),
        ("status", json!(ticket.status)),
        ("organization_id", id_value(organization_id)),
        ("assignee_id", id_value(assignee_id)),
        ("tags", json!(ticket.tags)),
    ];
    for (field, value) in creates {
        if !(field == "assignee_id" && assignee_id.is_none()
            || field == "tags" && ticket.tags.is_empty())
        {
            events.push(event(data, "Create", field, &value, None));
        }
    }
    events.extend(triage_events);
    let audit = Audit {
        id: audit_id,
        ticket_id: id,
        created_at: &now,
        author_id: caller,
        client,
        custom: &custom,
        events,
    };
    let body = json!({"ticket": render::ticket(shared, &ticket), "audit": render::audit(&audit)});
    data.tickets.insert(id, ticket);
    Ok((id, body))
}

/// `GET /api/v2/tickets?external_id=…` (exact; several tickets may share one), or all.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, uri: Uri) -> Handler {
    let params = query_params(&uri)?;
    let data = shared.lock();
    let wanted = params.get("external_id");
    let tickets: Vec<Value> = data
        .tickets
        .values()
        .filter(|t| wanted.is_none_or(|w| t.external_id.as_ref() == Some(w)))
        .map(|t| render::ticket(&shared, t))
        .collect();
    let count = tickets.len();
    Ok(Reply::json(
        200,
        json!({"tickets": tickets, "next_page": null, "previous_page": null, "count": count}),
    ))
}

pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Handler {
    let id = path_id(id)?;
    let data = shared.lock();
    let ticket = data.tickets.get(&id).ok_or_else(Reply::not_found)?;
    Ok(Reply::json(
        200,
        json!({"ticket": render::ticket(&shared, ticket)}),
    ))
}
