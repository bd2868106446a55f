//! User search: `GET /api/v2/users/search` with `query=` (Zendesk's keyword syntax —
//! `email:"x"`, `email:x`, `phone:…`, `external_id:…`, `name:…`, `role:…`, `tags:…`, a custom
//! field key, or a bare term matched against name, email, phone and external id) or
//! `external_id=` (exact, case-insensitive), and `GET /api/v2/users?external_id=`. Query
//! matches are fuzzy like Zendesk's — case-insensitive substrings, all terms must hit — so a
//! client has to filter the results exactly, as it must against the real API (§9 gotcha 2).

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::render;
use super::reply::{Handler, Reply, query_params};
use super::state::{Shared, User};

/// `GET /api/v2/users?external_id=…` (exact) or the whole list.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, uri: Uri) -> Handler {
    let params = query_params(&uri)?;
    let data = shared.lock();
    let users: Vec<&User> = match params.get("external_id") {
        Some(ext) => data
            .user_by_external_id(ext)
            .and_then(|id| data.users.get(&id))
            .into_iter()
            .collect(),
        None => data.users.values().collect(),
    };
    Ok(users_page(&shared, &users))
}

pub(crate) async fn search(State(shared): State<Arc<Shared>>, uri: Uri) -> Handler {
    let params = query_params(&uri)?;
    let data = shared.lock();
    let users: Vec<&User> = if let Some(ext) = params.get("external_id") {
        data.user_by_external_id(ext)
            .and_then(|id| data.users.get(&id))
            .into_iter()
            .collect()
    } else if let Some(query) = params.get("query") {
        let terms = parse_query(query);
        if terms.is_empty() {
            Vec::new()
        } else {
            data.users
                .values()
                .filter(|u| terms.iter().all(|t| term_matches(u, t)))
                .collect()
        }
    } else {
        return Err(Reply::bad_request(
            "InvalidParameter",
            "Either query or external_id is required",
        ));
    };
    paged(&shared, &users, &params)
}

/// One page of a search, by offset as Zendesk pages `/users/search`: `per_page` (at most
/// 100, the default) and `page` (from 1); `next_page` is the address of the next one.
fn paged(
    shared: &Shared,
    users: &[&User],
    params: &std::collections::HashMap<String, String>,
) -> Handler {
    let number = |name: &str, default: usize| match params.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                Reply::bad_request(
                    "InvalidParameter",
                    &format!("{name} must be a positive number"),
                )
            }),
    };
    let per_page = number("per_page", 100)?.min(100);
    let page = number("page", 1)?;
    let start = (page - 1).saturating_mul(per_page).min(users.len());
    let end = start.saturating_add(per_page).min(users.len());
    let list: Vec<Value> = users[start..end]
        .iter()
        .map(|u| render::user(shared, u))
        .collect();
    let link = |to: usize| {
        let mut query: Vec<(&str, String)> = params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page"))
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        query.sort();
        query.push(("page", to.to_string()));
        query.push(("per_page", per_page.to_string()));
        let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{}/api/v2/users/search?{encoded}", shared.base_url)
    };
    let next = (end < users.len()).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Ok(Reply::json(
        200,
        json!({"users": list, "next_page": next, "previous_page": previous, "count": users.len()}),
    ))
}

fn users_page(shared: &Shared, users: &[&User]) -> Reply {
    let list: Vec<Value> = users.iter().map(|u| render::user(shared, u)).collect();
    let count = list.len();
    Reply::json(
        200,
        json!({"users": list, "next_page": null, "previous_page": null, "count": count}),
    )
}

/// Splits a search query into `(key, value)` terms (`key` empty for a bare term), honouring
/// double quotes; `type:user` is dropped.
fn parse_query(query: &str) -> Vec<(String, String)> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in query.chars() {
        match ch {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
        .into_iter()
        .map(|t| match t.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains('@') => {
                (k.to_lowercase(), v.replace('*', ""))
            }
            _ => (String::new(), t.replace('*', "")),
        })
        .filter(|(k, _)| k != "type")
        .collect()
}

fn contains(haystack: Option<&str>, needle: &str) -> bool {
    !needle.is_empty()
        && haystack.is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Fuzzy like Zendesk: case-insensitive substring matches; the client filters exactly.
fn term_matches(user: &User, (key, value): &(String, String)) -> bool {
    let rec = &user.rec;
    let email_hit = || {
        contains(rec.email.as_deref(), value)
            || user
                .secondary_emails
                .iter()
                .any(|e| contains(Some(e), value))
    };
    let phone_hit = || {
        let wanted = digits(value);
        if wanted.is_empty() {
            contains(rec.phone.as_deref(), value)
        } else {
            rec.phone
                .as_deref()
                .is_some_and(|p| digits(p).contains(&wanted))
        }
    };
    match key.as_str() {
        "" => {
            contains(Some(&rec.name), value)
                || email_hit()
                || phone_hit()
                || contains(rec.external_id.as_deref(), value)
        }
        "email" => email_hit(),
        "phone" => phone_hit(),
        "name" => contains(Some(&rec.name), value),
        "external_id" => contains(rec.external_id.as_deref(), value),
        "role" => rec.role.eq_ignore_ascii_case(value),
        "tags" | "tag" => user.tags.iter().any(|t| t.eq_ignore_ascii_case(value)),
        field => match rec.user_fields.get(field) {
            Some(Value::String(s)) => contains(Some(s), value),
            Some(Value::Null) | None => false,
            Some(other) => other.to_string().eq_ignore_ascii_case(value),
        },
    }
}
