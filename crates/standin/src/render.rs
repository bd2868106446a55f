//! Zendesk-shaped JSON for the stand-in's users, tickets, ticket fields, comments and audits. The key sets
//! follow the recorded samples (`tests/fixtures/zendesk-samples/`); the shape test in
//! `tests/shape.rs` keeps them in step. Values the stand-in does not model (time zone,
//! brand, form, …) are fixed, plausible constants.

use serde_json::{Map, Value, json};

use super::state::{
    BRAND_ID, CUSTOM_STATUS_BASE, Comment, STATUSES, Shared, TICKET_FORM_ID, Ticket, TicketField,
    User,
};

/// `{"channel":"api","source":{…}}` — what API-created tickets and comments show.
pub(crate) fn via(to: &Value) -> Value {
    json!({"channel": "api", "source": {"from": {}, "to": to, "rel": null}})
}

/// Every defined user field, unset ones as `null` (checkboxes as `false`), as Zendesk shows.
pub(crate) fn user_fields(shared: &Shared, set: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, kind) in &shared.config.user_fields {
        let value = match set.get(key) {
            Some(value) if !value.is_null() => value.clone(),
            _ if kind == "checkbox" => Value::Bool(false),
            _ => Value::Null,
        };
        out.insert(key.clone(), value);
    }
    out
}

pub(crate) fn user(shared: &Shared, user: &User) -> Value {
    let rec = &user.rec;
    let agent = rec.role != "end-user";
    json!({
        "id": rec.id,
        "url": format!("{}/api/v2/users/{}.json", shared.base_url, rec.id),
        "name": rec.name,
        "email": rec.email,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "time_zone": "UTC",
        "iana_time_zone": "Etc/UTC",
        "phone": rec.phone,
        "shared_phone_number": rec.phone.as_ref().map(|_| false),
        "photo": null,
        "locale_id": 1,
        "locale": "en-US",
        "organization_id": user.organization_id,
        "role": rec.role,
        "verified": user.verified,
        "external_id": rec.external_id,
        "tags": user.tags,
        "alias": user.alias,
        "active": true,
        "shared": false,
        "shared_agent": false,
        "last_login_at": null,
        "two_factor_auth_enabled": false,
        "signature": null,
        "details": user.details,
        "notes": user.notes,
        "role_type": null,
        "custom_role_id": null,
        "moderator": rec.role == "admin",
        "ticket_restriction": if agent { Value::Null } else { json!("requested") },
        "only_private_comments": false,
        "restricted_agent": !agent,
        "suspended": false,
        "default_group_id": null,
        "report_csv": rec.role == "admin",
        "user_fields": user_fields(shared, &rec.user_fields),
    })
}

/// `GET /api/v2/users/me` with wrong or missing credentials: 200 with this anonymous user,
/// verbatim from `users_me_200_anonymous_when_token_invalid.json`.
pub(crate) fn anonymous_user() -> Value {
    json!({"user": {
        "id": null,
        "url": null,
        "name": "Anonymous user",
        "email": "invalid@example.com",
        "created_at": null,
        "updated_at": null,
        "time_zone": "America/New_York",
        "iana_time_zone": "America/New_York",
        "phone": null,
        "shared_phone_number": null,
        "photo": null,
        "locale_id": 1,
        "locale": "en-US",
        "organization_id": null,
        "role": "end-user",
        "verified": false,
        "authenticity_token":
            "UxsS8-5P9VbywTHAleaZQpqdjlt58NJTGs-Rw3WeLnk0DHBYz3rPWvgaoferq3LV7PPuF9EdH73X-X3Hr5L54Q",
    }})
}

pub(crate) fn user_field_definitions(shared: &Shared) -> Value {
    let fields: Vec<Value> = shared
        .config
        .user_fields
        .iter()
        .enumerate()
        .map(|(position, (key, kind))| {
            let id = 360_100_000_000 + position as u64;
            let title = title_case(key);
            let mut field = json!({
                "url": format!("{}/api/v2/user_fields/{id}.json", shared.base_url),
                "id": id,
                "type": kind,
                "key": key,
                "title": title,
                "description": "",
                "raw_title": title,
                "raw_description": "",
                "position": position,
                "active": true,
                "system": false,
                "regexp_for_validation": validation(kind),
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            });
            if let Some(obj) = field.as_object_mut() {
                if kind == "checkbox" {
                    // The tag a checked box adds to the user's tags: the field key here.
                    obj.insert("tag".to_owned(), json!(key));
                }
                if kind == "dropdown" || kind == "multiselect" {
                    obj.insert("custom_field_options".to_owned(), json!([]));
                }
            }
            field
        })
        .collect();
    let count = fields.len();
    json!({"user_fields": fields, "next_page": null, "previous_page": null, "count": count})
}

/// Zendesk's own pattern for date fields; a `regexp` field's pattern is not configurable
/// here, so it accepts anything.
fn validation(kind: &str) -> Value {
    match kind {
        "date" => json!(DATE_PATTERN),
        "regexp" => json!(".*"),
        _ => Value::Null,
    }
}

pub(crate) const DATE_PATTERN: &str = r"\A([0-9]{4})-(1[0-2]|0[1-9])-(3[01]|[12][0-9]|0[1-9])\z";

fn title_case(key: &str) -> String {
    key.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn custom_status_id(status: &str) -> u64 {
    let index = STATUSES.iter().position(|s| *s == status).unwrap_or(0);
    CUSTOM_STATUS_BASE + index as u64
}

pub(crate) fn ticket(shared: &Shared, ticket: &Ticket) -> Value {
    let first = ticket.comments.first();
    // `fields` mirrors `custom_fields` (zendesk-api.md §3.1). Only the fields the ticket has a
    // value for are listed.
    let custom_fields: Vec<Value> = ticket
        .custom_fields
        .iter()
        .map(|(id, value)| json!({"id": id, "value": value}))
        .collect();
    json!({
        "url": ticket_url(shared, ticket.id),
        "id": ticket.id,
        "external_id": ticket.external_id,
        "via": via(&json!({})),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "type": null,
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": first.map_or("", |c| c.rec.body.as_str()),
        "priority": ticket.priority,
        "status": ticket.status,
        "recipient": null,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.submitter_id,
        "assignee_id": ticket.assignee_id,
        "organization_id": ticket.organization_id,
        "group_id": ticket.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": null,
        "problem_id": null,
        "has_incidents": false,
        "is_public": first.is_none_or(|c| c.rec.public),
        "due_at": null,
        "tags": ticket.tags,
        "custom_fields": custom_fields,
        "satisfaction_rating": null,
        "sharing_agreement_ids": [],
        "custom_status_id": custom_status_id(&ticket.status),
        "fields": custom_fields,
        "followup_ids": [],
        "ticket_form_id": TICKET_FORM_ID,
        "brand_id": BRAND_ID,
        "allow_channelback": false,
        "allow_attachments": true,
        "from_messaging_channel": false,
    })
}

pub(crate) fn ticket_url(shared: &Shared, id: u64) -> String {
    format!("{}/api/v2/tickets/{id}.json", shared.base_url)
}

pub(crate) fn ticket_field_url(shared: &Shared, id: u64) -> String {
    format!("{}/api/v2/ticket_fields/{id}.json", shared.base_url)
}

/// A custom ticket field as `GET /api/v2/ticket_fields/{id}` shows it (the OpenAPI's
/// `TicketFieldObject`); `position` is its rank among the fields.
pub(crate) fn ticket_field(shared: &Shared, field: &TicketField, position: usize) -> Value {
    let rec = &field.rec;
    let mut value = json!({
        "url": ticket_field_url(shared, rec.id),
        "id": rec.id,
        "type": rec.kind,
        "title": rec.title,
        "raw_title": rec.title,
        "description": field.description,
        "raw_description": field.description,
        "position": position,
        "active": rec.active,
        "required": false,
        "collapsed_for_agents": false,
        "regexp_for_validation": validation(&rec.kind),
        "title_in_portal": rec.title,
        "raw_title_in_portal": rec.title,
        "visible_in_portal": false,
        "editable_in_portal": false,
        "required_in_portal": false,
        "tag": null,
        "created_at": field.created_at,
        "updated_at": field.updated_at,
        "removable": true,
    });
    if rec.kind == "tagger" || rec.kind == "multiselect" {
        if let Some(obj) = value.as_object_mut() {
            obj.insert(
                "custom_field_options".to_owned(),
                Value::Array(field.options.clone()),
            );
        }
    }
    value
}

/// The `Comment` event of an audit.
pub(crate) fn comment_event(comment: &Comment) -> Value {
    let rec = &comment.rec;
    json!({
        "id": rec.id,
        "type": "Comment",
        "author_id": rec.author_id,
        "body": rec.body,
        "html_body": rec.html_body,
        "plain_body": rec.body,
        "public": rec.public,
        "attachments": [],
        "audit_id": comment.audit_id,
    })
}

fn system_metadata(client: &str) -> Value {
    json!({
        "client": client,
        "ip_address": "127.0.0.1",
        "location": "Loopback (Zendesk stand-in)",
        "latitude": 0.0,
        "longitude": 0.0,
    })
}

/// A comment as `GET /api/v2/tickets/{id}/comments` lists it; `to` is the requester.
pub(crate) fn comment(comment: &Comment, to: &Value) -> Value {
    let mut value = comment_event(comment);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("via".to_owned(), via(to));
        obj.insert("created_at".to_owned(), json!(comment.rec.created_at));
        obj.insert(
            "metadata".to_owned(),
            json!({"system": system_metadata(&comment.client), "custom": comment.rec.metadata}),
        );
    }
    value
}

/// What an audit says about itself; `events` are built by the handler.
pub(crate) struct Audit<'a> {
    pub(crate) id: u64,
    pub(crate) ticket_id: u64,
    pub(crate) created_at: &'a str,
    pub(crate) author_id: u64,
    pub(crate) client: &'a str,
    pub(crate) custom: &'a Value,
    pub(crate) events: Vec<Value>,
}

pub(crate) fn audit(audit: &Audit<'_>) -> Value {
    json!({
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "created_at": audit.created_at,
        "author_id": audit.author_id,
        "metadata": {"system": system_metadata(audit.client), "custom": audit.custom},
        "events": audit.events,
        "via": via(&json!({})),
    })
}
