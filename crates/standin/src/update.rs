//! `PUT /api/v2/tickets/{id}`: at most one comment per update (its `public` defaulting to the
//! first comment's, as Zendesk's does), status, assignee, subject, `tags` (replace) or
//! `additional_tags`/`remove_tags`, `external_id`, `priority`, `group_id`, `custom_fields`
//! (merged by id; see `ticket_fields`), and custom audit `metadata`, kept on the comment.
//! Solving or closing needs an assignee (already set, or set by the same request); a `closed`
//! ticket refuses every update (zendesk-api.md §3.4–3.5).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::auth::Caller;
use super::comments::parse_comment;
use super::render::{self, Audit};
use super::reply::{Handler, Reply, add_tags, opt_id, opt_str, path_id, tag_list, wrapped};
use super::state::Shared;
use super::ticket_fields::Triage;
use super::tickets::{
    assignee_required, check_status, check_user, custom_metadata, event, id_value, new_comment,
    user_agent,
};

pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    caller: Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Handler {
    let id = path_id(id)?;
    let client = user_agent(&headers);
    let mut data = shared.lock();
    let ticket = data.tickets.get(&id).ok_or_else(Reply::not_found)?.clone();
    let obj = wrapped(&body, "ticket")?;
    if ticket.status == "closed" {
        return Err(Reply::invalid(
            "status",
            None,
            "Status: closed prevents ticket update",
        ));
    }
    let comment = match obj.get("comment") {
        Some(Value::Object(c)) => parse_comment(c)?,
        _ => None,
    };
    let status = check_status(opt_str(&obj, "status")?)?;
    let assignee = if obj.contains_key("assignee_id") {
        opt_id(&obj, "assignee_id")?
    } else {
        ticket.assignee_id
    };
    if let Some(a) = assignee {
        check_user(&data, a, "assignee_id", true)?;
    }
    let mut new_status = status.unwrap_or_else(|| ticket.status.clone());
    if new_status == "new" && assignee.is_some() {
        "open".clone_into(&mut new_status);
    }
    if (new_status == "solved" || new_status == "closed") && assignee.is_none() {
        return Err(assignee_required());
    }
    let mut tags = tag_list(obj.get("tags"))?.unwrap_or_else(|| ticket.tags.clone());
    if let Some(extra) = tag_list(obj.get("additional_tags"))? {
        add_tags(&mut tags, extra.iter().map(String::as_str));
    }
    if let Some(remove) = tag_list(obj.get("remove_tags"))? {
        tags.retain(|t| !remove.contains(t));
    }
    let author_id = comment
        .as_ref()
        .and_then(|c| c.author_id)
        .unwrap_or(caller.user_id);
    if comment.is_some() {
        check_user(&data, author_id, "author_id", false)?;
    }
    let subject = opt_str(&obj, "subject")?.unwrap_or_else(|| ticket.subject.clone());
    let external_id = if obj.contains_key("external_id") {
        opt_str(&obj, "external_id")?
    } else {
        ticket.external_id.clone()
    };
    let triage = Triage::parse(&data, &obj)?;
    let custom = custom_metadata(&obj);
    let audit_id = data.next_id();
    let now = data.now_iso();
    let mut events = Vec::new();
    let mut updated = ticket.clone();
    if let Some(input) = &comment {
        // "The initial value set on ticket creation persists" for `public` (§3.4).
        let public = input
            .public
            .unwrap_or_else(|| ticket.comments.first().is_none_or(|c| c.rec.public));
        let c = new_comment(
            &mut data, input, author_id, public, audit_id, &client, &custom,
        );
        events.push(render::comment_event(&c));
        updated.comments.push(c);
    }
    let changes = [
        ("status", json!(new_status), json!(ticket.status)),
        (
            "assignee_id",
            id_value(assignee),
            id_value(ticket.assignee_id),
        ),
        ("subject", json!(subject), json!(ticket.subject)),
        ("tags", json!(tags), json!(ticket.tags)),
        ("external_id", json!(external_id), json!(ticket.external_id)),
    ];
    for (field, value, previous) in changes {
        if value != previous {
            events.push(event(&mut data, "Change", field, &value, Some(previous)));
        }
    }
    let triage_events = triage.apply(&mut data, &mut updated, false);
    events.extend(triage_events);
    updated.status = new_status;
    updated.assignee_id = assignee;
    updated.subject = subject;
    updated.tags = tags;
    updated.external_id = external_id;
    updated.updated_at.clone_from(&now);
    let audit = Audit {
        id: audit_id,
        ticket_id: id,
        created_at: &now,
        author_id: caller.user_id,
        client: &client,
        custom: &custom,
        events,
    };
    let reply = Reply::json(
        200,
        json!({"ticket": render::ticket(&shared, &updated), "audit": render::audit(&audit)}),
    );
    data.tickets.insert(id, updated);
    let budget = data.count_update();
    Ok(reply.header("zendesk-ratelimit-tickets-update", budget))
}
