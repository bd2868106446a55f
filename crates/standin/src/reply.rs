//! The stand-in's response type and Zendesk's error envelopes (zendesk-api.md §5): JSON with
//! `Content-Type: application/json; charset=utf-8`, or text/plain where Zendesk sends it.
//! Handlers return `Result<Reply, Reply>` so that `?` carries an error envelope out.

use axum::body::Body;
use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query};
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// What handlers return: a reply, or an error envelope that `?` carried out.
pub(crate) type Handler = Result<Reply, Reply>;

pub(crate) const JSON_TYPE: &str = "application/json; charset=utf-8";

#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Json(Value),
    Text(String),
    Empty,
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: ReplyBody,
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
            headers: Vec::new(),
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            body: ReplyBody::Text(body.to_owned()),
            headers: Vec::new(),
        }
    }

    pub(crate) fn redirect(location: String) -> Self {
        Self {
            status: 302,
            body: ReplyBody::Empty,
            headers: vec![("location".to_owned(), location)],
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// 404 `{"error":"RecordNotFound","description":"Not found"}` (recorded).
    pub(crate) fn not_found() -> Self {
        Self::json(
            404,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        )
    }

    /// 404 for a path the API does not have.
    pub(crate) fn no_endpoint() -> Self {
        Self::json(
            404,
            json!({"error": "InvalidEndpoint", "description": "Not found"}),
        )
    }

    /// 400 with an `error` and a `description`.
    pub(crate) fn bad_request(error: &str, description: &str) -> Self {
        Self::json(400, json!({"error": error, "description": description}))
    }

    /// 422 `RecordInvalid` with one detail under `field`.
    pub(crate) fn invalid(field: &str, error: Option<&str>, description: &str) -> Self {
        let mut details = Map::new();
        details.insert(
            field.to_owned(),
            json!([{"description": description, "error": error}]),
        );
        Self::invalid_details(&details)
    }

    pub(crate) fn invalid_details(details: &Map<String, Value>) -> Self {
        Self::json(
            422,
            json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": details,
            }),
        )
    }

    pub(crate) fn unauthorized() -> Self {
        Self::json(401, json!({"error": "Couldn't authenticate you"}))
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (content_type, body) = match self.body {
            ReplyBody::Json(value) => (Some(JSON_TYPE), Body::from(value.to_string())),
            ReplyBody::Text(text) => (Some("text/plain; charset=utf-8"), Body::from(text)),
            ReplyBody::Empty => (None, Body::empty()),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                headers.append(name, value);
            }
        }
        response
    }
}

/// Parses a request body as a JSON object; malformed input is a 400 with an `error`, as on
/// Zendesk.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Reply::bad_request(
            "InvalidJSON",
            "The request body must be a JSON object",
        )),
        Err(_) => Err(Reply::bad_request(
            "InvalidJSON",
            "Server could not parse JSON",
        )),
    }
}

/// The object under `key` (`{"user":{…}}`, `{"ticket":{…}}`); a missing or non-object
/// wrapper is a 400.
pub(crate) fn wrapped(body: &[u8], key: &str) -> Result<Map<String, Value>, Reply> {
    let mut outer = parse_object(body)?;
    match outer.remove(key) {
        Some(Value::Object(inner)) => Ok(inner),
        _ => Err(Reply::bad_request(
            "InvalidJSON",
            &format!("The request body must hold a `{key}` object"),
        )),
    }
}

/// An optional string property: absent or null is `None`; another type is a 422.
pub(crate) fn opt_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, Reply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if key == "external_id" || key == "phone" => Ok(Some(n.to_string())),
        Some(_) => Err(Reply::invalid(
            key,
            Some("InvalidValue"),
            &format!("{key}: is invalid"),
        )),
    }
}

/// An optional id property (number, or a string of digits).
pub(crate) fn opt_id(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, Reply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(Value::String(s)) if s.parse::<u64>().is_ok() => Ok(s.parse().ok()),
        Some(_) => Err(Reply::invalid(
            key,
            Some("InvalidValue"),
            &format!("{key}: is invalid"),
        )),
    }
}

/// A list of tags: Zendesk lower-cases tags and splits them on whitespace; duplicates go.
pub(crate) fn tag_list(value: Option<&Value>) -> Result<Option<Vec<String>>, Reply> {
    let items: Vec<&str> = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => out.push(s.as_str()),
                    _ => {
                        return Err(Reply::invalid(
                            "tags",
                            Some("InvalidValue"),
                            "Tags: is invalid",
                        ));
                    }
                }
            }
            out
        }
        Some(Value::String(s)) => vec![s.as_str()],
        Some(_) => {
            return Err(Reply::invalid(
                "tags",
                Some("InvalidValue"),
                "Tags: is invalid",
            ));
        }
    };
    let mut tags = Vec::new();
    add_tags(&mut tags, items.iter().flat_map(|s| s.split_whitespace()));
    Ok(Some(tags))
}

pub(crate) fn add_tags<'a>(tags: &mut Vec<String>, new: impl IntoIterator<Item = &'a str>) {
    for tag in new {
        let tag = tag.trim().to_lowercase();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
}

/// The query string as a map; a malformed one is a 400.
pub(crate) fn query_params(uri: &Uri) -> Result<HashMap<String, String>, Reply> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| Reply::bad_request("InvalidParameter", "The query string is malformed"))
}

/// The numeric id in a path (`/tickets/{id}`); anything else, including a path that does not
/// decode, is the recorded 404.
pub(crate) fn path_id(id: Result<Path<String>, PathRejection>) -> Result<u64, Reply> {
    id.ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(Reply::not_found)
}
