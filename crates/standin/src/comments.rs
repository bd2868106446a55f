//! Ticket comments: turning a request's `comment{body|html_body}` into the stored plain and
//! HTML bodies (HTML wrapped in `<div class="zd-comment" dir="auto">` like Zendesk), and
//! `GET /api/v2/tickets/{id}/comments` with cursor pagination (`page[size]` ≤ 100, default
//! 100; `page[after]`/`page[before]`; `sort=-created_at`), shaped like
//! `ticket_comments_list_cursor_200.json`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::render;
use super::reply::{Reply, opt_id, path_id, query_params};
use super::state::Shared;

/// A comment as a create or update request gives it.
pub(crate) struct CommentInput {
    pub(crate) plain: String,
    pub(crate) html: String,
    pub(crate) public: Option<bool>,
    pub(crate) author_id: Option<u64>,
}

/// `None` when the comment has no text (`html_body` wins over `body`; `value` is the old
/// name of `body`).
pub(crate) fn parse_comment(obj: &Map<String, Value>) -> Result<Option<CommentInput>, Reply> {
    let text = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let public = match obj.get("public") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(Reply::invalid(
                "comment",
                Some("InvalidValue"),
                "Public: is invalid",
            ));
        }
    };
    let author_id = opt_id(obj, "author_id")?;
    let (plain, html) = if let Some(html) = text("html_body") {
        (strip_html(html), wrap(html))
    } else if let Some(body) = text("body").or_else(|| text("value")) {
        (body.to_owned(), wrap(&paragraphs(body)))
    } else {
        return Ok(None);
    };
    Ok(Some(CommentInput {
        plain,
        html,
        public,
        author_id,
    }))
}

fn wrap(html: &str) -> String {
    format!("<div class=\"zd-comment\" dir=\"auto\">{html}</div>")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Plain text as Zendesk renders it: paragraphs at blank lines, `<br>` at single newlines.
fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for paragraph in text.replace("\r\n", "\n").split("\n\n").map(str::trim) {
        if !paragraph.is_empty() {
            let _ = write!(
                out,
                "<p dir=\"auto\">{}</p>",
                escape(paragraph).replace('\n', "<br>")
            );
        }
    }
    out
}

/// The text of an HTML body: tags dropped, line breaks at `<br>` and block ends, the common
/// entities decoded.
fn strip_html(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        if matches!(
            name.as_str(),
            "br" | "br/" | "/p" | "/div" | "/li" | "/h1" | "/h2" | "/h3" | "/tr"
        ) {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_owned()
}

fn encode_cursor(id: u64) -> String {
    STANDARD.encode(json!({"o": "created_at,id", "v": id.to_string()}).to_string())
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = STANDARD.decode(cursor.trim()).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("v")?.as_str()?.parse().ok()
}

/// Percent-encoding for a query value (unreserved characters kept).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn bad_page(description: &str) -> Reply {
    Reply::bad_request("InvalidPaginationParameter", description)
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Reply, Reply> {
    let params = query_params(&uri)?;
    let id = path_id(id)?;
    let size = match params.get("page[size]") {
        None => 100,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(bad_page("page[size] must be a number from 1 to 100")),
        },
    };
    let descending = params.get("sort").is_some_and(|s| s == "-created_at");
    let data = shared.lock();
    let ticket = data.tickets.get(&id).ok_or_else(Reply::not_found)?;
    let to = data.users.get(&ticket.requester_id).map_or(
        json!({}),
        |u| json!({"name": u.rec.name, "address": u.rec.email}),
    );
    let mut ordered: Vec<_> = ticket.comments.iter().collect();
    if descending {
        ordered.reverse();
    }
    let position = |cursor: &String| {
        let wanted = decode_cursor(cursor).ok_or_else(|| bad_page("The cursor is invalid"))?;
        ordered
            .iter()
            .position(|c| c.rec.id == wanted)
            .ok_or_else(|| bad_page("The cursor is invalid"))
    };
    let (page, has_more) = if let Some(after) = params.get("page[after]") {
        let start = position(after)? + 1;
        let end = (start + size).min(ordered.len());
        (&ordered[start.min(end)..end], end < ordered.len())
    } else if let Some(before) = params.get("page[before]") {
        let end = position(before)?;
        let start = end.saturating_sub(size);
        (&ordered[start..end], start > 0)
    } else {
        let end = size.min(ordered.len());
        (&ordered[..end], end < ordered.len())
    };
    let comments: Vec<Value> = page.iter().map(|c| render::comment(c, &to)).collect();
    let base = format!("{}/api/v2/tickets/{id}/comments.json", shared.base_url);
    let sort = if descending { "&sort=-created_at" } else { "" };
    let link = |dir: &str, cursor: &str| {
        format!(
            "{base}?page%5B{dir}%5D={}&page%5Bsize%5D={size}{sort}",
            encode_component(cursor)
        )
    };
    let (after, before) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => (
            Some(encode_cursor(last.rec.id)),
            Some(encode_cursor(first.rec.id)),
        ),
        _ => (None, None),
    };
    Ok(Reply::json(
        200,
        json!({
            "comments": comments,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "prev": before.as_deref().map(|c| link("before", c)),
                "next": after.as_deref().map(|c| link("after", c)),
            },
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_are_stripped_to_text() {
        assert_eq!(
            strip_html("<p>Hi &amp; bye</p><p>two<br>lines</p>"),
            "Hi & bye\ntwo\nlines"
        );
        assert_eq!(
            paragraphs("a < b\nc\n\nd"),
            "<p dir=\"auto\">a &lt; b<br>c</p><p dir=\"auto\">d</p>"
        );
        assert_eq!(
            decode_cursor(&encode_cursor(360_000_000_123)),
            Some(360_000_000_123)
        );
    }
}
