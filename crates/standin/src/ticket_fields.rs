//! Custom ticket fields — `GET /api/v2/ticket_fields`, `GET /api/v2/ticket_fields/{id}`,
//! `POST /api/v2/ticket_fields` — and the triage values a ticket write carries: `priority`,
//! `group_id` and `custom_fields` ([`Triage`]), on create and on update.
//!
//! What is checked, and why:
//! - `priority` must be one of `low`, `normal`, `high`, `urgent` (the OpenAPI's enum);
//!   anything else is a 422 `RecordInvalid` under `details.priority`, like an invalid status.
//!   `null` on an update clears it.
//! - `group_id` must be an id (a number or a string of digits); the stand-in has no groups, so
//!   any id is kept.
//! - `custom_fields` is a list of `{id, value}`. A value for a field the stand-in knows is
//!   kept (`null` clears it); numbers sent to text-like fields are kept as strings, the way
//!   Zendesk shows them (`{"id":27642,"value":"745"}`, zendesk-api.md §3.2). An **unknown id
//!   is dropped without an error**: Zendesk's REST API "is permissive. It ignores attributes
//!   that do not exist in the data model and then processes the rest of the request"
//!   (support.zendesk.com, "REST API gives 200 response but the request didn't work"); a
//!   client that sends a wrong id sees it missing from the answer, and `scenarist zendesk
//!   check` is what catches it beforehand. A malformed list (not a list, an item without a
//!   numeric `id`) is a 422 under `details.custom_fields`.
//!
//! Ticket field ids come from the shared id counter, skipping ids configured fields took.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::render;
use super::reply::{Handler, Reply, opt_id, opt_str, path_id, wrapped};
use super::state::{PRIORITIES, Shared, State as Data, Ticket, TicketField, TicketFieldRecord};
use super::tickets::{event, id_value};

/// The custom field types `POST /api/v2/ticket_fields` creates (OpenAPI, Create Ticket Field).
const KINDS: [&str; 11] = [
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "partialcreditcard",
    "multiselect",
    "tagger",
    "lookup",
];

/// Types whose values Zendesk shows as strings.
const TEXT_LIKE: [&str; 7] = [
    "text",
    "textarea",
    "date",
    "integer",
    "decimal",
    "regexp",
    "partialcreditcard",
];

fn invalid(field: &str) -> Reply {
    let title = field.replace('_', " ");
    let mut chars = title.chars();
    let title: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    Reply::invalid(field, Some("InvalidValue"), &format!("{title}: is invalid"))
}

/// What a write says about one property: nothing, or its new value (`None`: cleared by
/// `null`).
#[derive(Debug, Default)]
pub(crate) enum Written<T> {
    #[default]
    Absent,
    Set(Option<T>),
}

/// What a ticket create or update says about priority, group and custom fields.
#[derive(Debug, Default)]
pub(crate) struct Triage {
    pub(crate) priority: Written<String>,
    pub(crate) group_id: Written<u64>,
    /// Known field id → new value (`Value::Null` clears it).
    pub(crate) custom_fields: BTreeMap<u64, Value>,
}

impl Triage {
    /// Reads and checks the request's `priority`, `group_id` and `custom_fields`.
    pub(crate) fn parse(data: &Data, obj: &Map<String, Value>) -> Result<Self, Reply> {
        let priority = match obj.get("priority") {
            None => Written::Absent,
            Some(Value::Null) => Written::Set(None),
            Some(Value::String(p)) if PRIORITIES.contains(&p.as_str()) => {
                Written::Set(Some(p.clone()))
            }
            Some(_) => return Err(invalid("priority")),
        };
        let group_id = if obj.contains_key("group_id") {
            Written::Set(opt_id(obj, "group_id")?)
        } else {
            Written::Absent
        };
        let custom_fields = match obj.get("custom_fields") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Array(items)) => custom_values(data, items)?,
            Some(_) => return Err(invalid("custom_fields")),
        };
        Ok(Triage {
            priority,
            group_id,
            custom_fields,
        })
    }

    /// Applies the values to `ticket` and returns the audit events: on a new ticket (`create`)
    /// `Create` for each value set, otherwise `Change` with the previous value for what changed.
    /// Custom fields are named by their id, as Zendesk's audits name them.
    pub(crate) fn apply(self, data: &mut Data, ticket: &mut Ticket, create: bool) -> Vec<Value> {
        let mut changes: Vec<(String, Value, Value)> = Vec::new();
        if let Written::Set(priority) = self.priority {
            // A create's `priority` event is in the caller's list, `null` when unset (recorded).
            if !create {
                changes.push(("priority".into(), json!(priority), json!(ticket.priority)));
            }
            ticket.priority = priority;
        }
        if let Written::Set(group_id) = self.group_id {
            changes.push((
                "group_id".into(),
                id_value(group_id),
                id_value(ticket.group_id),
            ));
            ticket.group_id = group_id;
        }
        for (id, value) in self.custom_fields {
            let previous = if value.is_null() {
                ticket.custom_fields.remove(&id)
            } else {
                ticket.custom_fields.insert(id, value.clone())
            };
            changes.push((id.to_string(), value, previous.unwrap_or(Value::Null)));
        }
        let mut events = Vec::new();
        for (field, value, previous) in changes {
            if create {
                if !value.is_null() {
                    events.push(event(data, "Create", &field, &value, None));
                }
            } else if value != previous {
                events.push(event(data, "Change", &field, &value, Some(previous)));
            }
        }
        events
    }
}

/// The `custom_fields` items for known fields, their values as Zendesk keeps them.
fn custom_values(data: &Data, items: &[Value]) -> Result<BTreeMap<u64, Value>, Reply> {
    let mut values = BTreeMap::new();
    for item in items {
        let Value::Object(item) = item else {
            return Err(invalid("custom_fields"));
        };
        let Some(id) = opt_id(item, "id").map_err(|_| invalid("custom_fields"))? else {
            return Err(invalid("custom_fields"));
        };
        let Some(field) = data.ticket_fields.get(&id) else {
            // Unknown to the account: ignored, as Zendesk does (see the module comment).
            continue;
        };
        let value = match item.get("value").cloned().unwrap_or(Value::Null) {
            Value::Number(n) if TEXT_LIKE.contains(&field.rec.kind.as_str()) => {
                Value::String(n.to_string())
            }
            Value::Object(_) => return Err(invalid("custom_fields")),
            other => other,
        };
        values.insert(id, value);
    }
    Ok(values)
}

/// `GET /api/v2/ticket_fields`: every custom field, by id (no pagination: one page).
pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Reply {
    let data = shared.lock();
    let fields: Vec<Value> = data
        .ticket_fields
        .values()
        .enumerate()
        .map(|(position, field)| render::ticket_field(&shared, field, position))
        .collect();
    let count = fields.len();
    Reply::json(
        200,
        json!({"ticket_fields": fields, "next_page": null, "previous_page": null, "count": count}),
    )
}

/// `GET /api/v2/ticket_fields/{id}`; the recorded 404 for an id the account does not have.
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Handler {
    let id = path_id(id)?;
    let data = shared.lock();
    let position = data
        .ticket_fields
        .keys()
        .position(|k| *k == id)
        .ok_or_else(Reply::not_found)?;
    let field = data.ticket_fields.get(&id).ok_or_else(Reply::not_found)?;
    Ok(Reply::json(
        200,
        json!({"ticket_field": render::ticket_field(&shared, field, position)}),
    ))
}

/// `POST /api/v2/ticket_fields` with `{"ticket_field":{"type":…,"title":…}}`: 201 with the
/// field and its `Location`. `type` defaults to `text`; a blank title or an unknown type is a
/// 422.
pub(crate) async fn create(State(shared): State<Arc<Shared>>, body: Bytes) -> Handler {
    let obj = wrapped(&body, "ticket_field")?;
    let kind = opt_str(&obj, "type")?.unwrap_or_else(|| "text".to_owned());
    if !KINDS.contains(&kind.as_str()) {
        return Err(invalid("type"));
    }
    let title = opt_str(&obj, "title")?.unwrap_or_default();
    if title.trim().is_empty() {
        return Err(Reply::invalid(
            "title",
            Some("BlankError"),
            "Title: cannot be blank",
        ));
    }
    let active = match obj.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(active)) => *active,
        Some(_) => return Err(invalid("active")),
    };
    let options = match obj.get("custom_field_options") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(options)) => options.clone(),
        Some(_) => return Err(invalid("custom_field_options")),
    };
    let description = opt_str(&obj, "description")?.unwrap_or_default();
    let mut data = shared.lock();
    let id = data.next_ticket_field_id();
    let now = data.now_iso();
    let field = TicketField {
        rec: TicketFieldRecord {
            id,
            kind,
            title,
            active,
        },
        description,
        options,
        created_at: now.clone(),
        updated_at: now,
    };
    data.ticket_fields.insert(id, field);
    let position = data
        .ticket_fields
        .keys()
        .position(|k| *k == id)
        .unwrap_or(0);
    let field = data.ticket_fields.get(&id).ok_or_else(Reply::not_found)?;
    let url = render::ticket_field_url(&shared, id);
    Ok(Reply::json(
        201,
        json!({"ticket_field": render::ticket_field(&shared, field, position)}),
    )
    .header("location", url))
}
