//! Users: `users/me`, `users/{id}`, `users/search` (fuzzy `query=` and exact
//! `external_id=`), `users?external_id=`, `POST users` and `POST users/create_or_update`,
//! with custom `user_fields` (zendesk-api.md §2). Emails and external ids match
//! case-insensitively; an update never replaces the primary email (a different one becomes a
//! secondary identity); a checked checkbox field adds its tag (here: the field key).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::render;
use super::reply::{Handler, Reply, add_tags, opt_str, path_id, tag_list, wrapped};
use super::state::{Shared, State as Data, User, UserRecord};

pub(crate) async fn me(State(shared): State<Arc<Shared>>, caller: Extension<Caller>) -> Handler {
    let data = shared.lock();
    let user = data
        .users
        .get(&caller.user_id)
        .ok_or_else(Reply::not_found)?;
    Ok(Reply::json(
        200,
        json!({"user": render::user(&shared, user)}),
    ))
}

pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Handler {
    let id = path_id(id)?;
    let data = shared.lock();
    let user = data.users.get(&id).ok_or_else(Reply::not_found)?;
    Ok(Reply::json(
        200,
        json!({"user": render::user(&shared, user)}),
    ))
}

/// What a create or update request says about a user.
#[derive(Default)]
struct UserInput {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    role: Option<String>,
    verified: Option<bool>,
    tags: Option<Vec<String>>,
    user_fields: Map<String, Value>,
    alias: Option<String>,
    notes: Option<String>,
    details: Option<String>,
}

fn parse_user(shared: &Shared, obj: &Map<String, Value>) -> Result<UserInput, Reply> {
    let mut input = UserInput {
        name: opt_str(obj, "name")?.map(|n| n.trim().to_owned()),
        email: opt_str(obj, "email")?
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty()),
        phone: opt_str(obj, "phone")?,
        external_id: opt_str(obj, "external_id")?,
        role: opt_str(obj, "role")?,
        verified: obj.get("verified").and_then(Value::as_bool),
        tags: tag_list(obj.get("tags"))?,
        alias: opt_str(obj, "alias")?,
        notes: opt_str(obj, "notes")?,
        details: opt_str(obj, "details")?,
        ..UserInput::default()
    };
    if let Some(email) = &input.email {
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            return Err(Reply::invalid(
                "email",
                Some("InvalidFormat"),
                &format!("Email: {email} is not properly formatted"),
            ));
        }
    }
    if let Some(role) = &input.role {
        if !["end-user", "agent", "admin"].contains(&role.as_str()) {
            return Err(Reply::invalid(
                "role",
                Some("InvalidValue"),
                "Role: is invalid",
            ));
        }
    }
    match obj.get("user_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => input.user_fields = check_fields(shared, fields)?,
        Some(_) => {
            return Err(Reply::invalid(
                "user_fields",
                Some("InvalidValue"),
                "User fields: is invalid",
            ));
        }
    }
    Ok(input)
}

/// Unknown keys and values of the wrong type are 422s; integers may come as digit strings.
fn check_fields(shared: &Shared, fields: &Map<String, Value>) -> Result<Map<String, Value>, Reply> {
    let mut out = Map::new();
    for (key, value) in fields {
        let Some(kind) = shared.field_type(key) else {
            return Err(Reply::invalid(
                "user_fields",
                Some("InvalidValue"),
                &format!("User fields: {key} is not a defined user field"),
            ));
        };
        let bad = || Reply::invalid(key, Some("InvalidValue"), &format!("{key}: is invalid"));
        let value = match (kind, value) {
            (_, Value::Null) => Value::Null,
            ("checkbox", Value::Bool(_)) | ("integer" | "decimal", Value::Number(_)) => {
                value.clone()
            }
            ("checkbox" | "integer" | "decimal", Value::String(s)) => {
                serde_json::from_str::<Value>(s)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean())
                    .ok_or_else(bad)?
            }
            ("checkbox" | "integer" | "decimal", _) | (_, Value::Object(_)) => return Err(bad()),
            ("date", Value::String(s)) => Value::String(normalise_date(s).ok_or_else(bad)?),
            (_, Value::String(_) | Value::Array(_)) => value.clone(),
            (_, other) => Value::String(other.to_string()),
        };
        out.insert(key.clone(), value);
    }
    Ok(out)
}

/// Zendesk stores dates as midnight UTC: `2020-08-19T20:50:04.000Z` → `2020-08-19T00:00:00+00:00`.
fn normalise_date(s: &str) -> Option<String> {
    let date = s.get(..10)?;
    let ok = date.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    ok.then(|| format!("{date}T00:00:00+00:00"))
}

/// Applies the input's fields (not the email) and the checkbox tags.
fn apply(shared: &Shared, user: &mut User, input: UserInput, now: &str) {
    let rec = &mut user.rec;
    if let Some(name) = input.name.filter(|n| !n.is_empty()) {
        rec.name = name;
    }
    if input.phone.is_some() {
        rec.phone = input.phone;
    }
    if input.external_id.is_some() {
        rec.external_id = input.external_id;
    }
    if let Some(role) = input.role {
        rec.role = role;
    }
    for (key, value) in input.user_fields {
        if value.is_null() {
            rec.user_fields.remove(&key);
        } else {
            rec.user_fields.insert(key, value);
        }
    }
    if let Some(tags) = input.tags {
        user.tags = tags;
    }
    for (key, kind) in &shared.config.user_fields {
        if kind == "checkbox" {
            if rec.user_fields.get(key) == Some(&Value::Bool(true)) {
                add_tags(&mut user.tags, [key.as_str()]);
            } else {
                user.tags.retain(|t| t != key);
            }
        }
    }
    user.verified = input.verified.unwrap_or(user.verified);
    user.alias = input.alias.or(user.alias.take());
    user.notes = input.notes.or(user.notes.take());
    user.details = input.details.or(user.details.take());
    now.clone_into(&mut user.updated_at);
}

/// Creates a user after the duplicate checks; the caller has checked `name`.
fn insert(shared: &Shared, data: &mut Data, mut input: UserInput) -> Result<u64, Reply> {
    if let Some(email) = &input.email {
        if data.user_by_email(email).is_some() {
            return Err(Reply::invalid(
                "email",
                Some("DuplicateValue"),
                &format!("Email: {email} is already being used by another user"),
            ));
        }
    }
    if let Some(ext) = &input.external_id {
        if data.user_by_external_id(ext).is_some() {
            return Err(Reply::invalid(
                "external_id",
                Some("DuplicateValue"),
                &format!("External: {ext} has already been taken"),
            ));
        }
    }
    let id = data.next_id();
    let now = data.now_iso();
    let mut user = User {
        rec: UserRecord {
            id,
            name: String::new(),
            email: input.email.take(),
            phone: None,
            external_id: None,
            role: "end-user".to_owned(),
            user_fields: Map::new(),
        },
        secondary_emails: Vec::new(),
        tags: Vec::new(),
        verified: false,
        alias: None,
        notes: None,
        details: None,
        organization_id: None,
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    apply(shared, &mut user, input, &now);
    data.users.insert(id, user);
    Ok(id)
}

/// Finds the user with this email or creates one (ticket `requester{}`): an existing user is
/// reused and not updated.
pub(crate) fn find_or_create(
    shared: &Shared,
    data: &mut Data,
    name: Option<String>,
    email: Option<String>,
) -> Result<u64, Reply> {
    if let Some(id) = email.as_deref().and_then(|e| data.user_by_email(e)) {
        return Ok(id);
    }
    let name = name.filter(|n| !n.trim().is_empty()).or_else(|| {
        email
            .as_deref()
            .and_then(|e| e.split('@').next())
            .map(str::to_owned)
    });
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err(Reply::invalid(
            "requester",
            Some("BlankError"),
            "Requester: Name is too short (minimum one character)",
        ));
    };
    let input = UserInput {
        name: Some(name),
        email,
        ..UserInput::default()
    };
    insert(shared, data, input)
}

fn created(shared: &Shared, data: &Data, id: u64, status: u16) -> Handler {
    let user = data.users.get(&id).ok_or_else(Reply::not_found)?;
    let reply = Reply::json(status, json!({"user": render::user(shared, user)}));
    Ok(if status == 201 {
        reply.header(
            "location",
            format!("{}/api/v2/users/{id}.json", shared.base_url),
        )
    } else {
        reply
    })
}

fn name_required() -> Reply {
    Reply::invalid(
        "name",
        Some("BlankError"),
        "Name: is too short (minimum one character)",
    )
}

pub(crate) async fn create(State(shared): State<Arc<Shared>>, body: Bytes) -> Handler {
    let obj = wrapped(&body, "user")?;
    let input = parse_user(&shared, &obj)?;
    if input.name.as_deref().is_none_or(str::is_empty) {
        return Err(name_required());
    }
    let mut data = shared.lock();
    let id = insert(&shared, &mut data, input)?;
    created(&shared, &data, id, 201)
}

pub(crate) async fn create_or_update(State(shared): State<Arc<Shared>>, body: Bytes) -> Handler {
    let obj = wrapped(&body, "user")?;
    let mut input = parse_user(&shared, &obj)?;
    let mut data = shared.lock();
    let by_ext = input
        .external_id
        .as_deref()
        .and_then(|e| data.user_by_external_id(e));
    let by_email = input.email.as_deref().and_then(|e| data.user_by_email(e));
    let Some(id) = by_ext.or(by_email) else {
        if input.name.as_deref().is_none_or(str::is_empty) {
            return Err(name_required());
        }
        let id = insert(&shared, &mut data, input)?;
        return created(&shared, &data, id, 201);
    };
    if let Some(ext) = &input.external_id {
        if data
            .user_by_external_id(ext)
            .is_some_and(|other| other != id)
        {
            return Err(Reply::invalid(
                "external_id",
                Some("DuplicateValue"),
                &format!("External: {ext} has already been taken"),
            ));
        }
    }
    let email = input.email.take();
    let email_owner = email.as_deref().and_then(|e| data.user_by_email(e));
    let now = data.now_iso();
    let user = data.users.get_mut(&id).ok_or_else(Reply::not_found)?;
    if let Some(email) = email {
        if user.rec.email.is_none() && email_owner.is_none() {
            user.rec.email = Some(email);
        } else if email_owner.is_none() {
            // A different email on update becomes a secondary identity (zendesk-api.md §2.5).
            user.secondary_emails.push(email);
        }
    }
    apply(&shared, user, input, &now);
    created(&shared, &data, id, 200)
}
