//! An effect of a declared action turned into the request it sends: the URL (the fixed base
//! URL, then the path template with each `{param}` percent-encoded inside its segment, then
//! the query values), the JSON body, and the idempotency key. Nothing a scenario passes can
//! change the scheme, the host, the port or the base path: the finished URL is checked to
//! still start with the base URL before anything is sent.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use scenarist_lang::config::apis::{HttpAction, Piece, template};
use scenarist_runtime::value::{Value, to_json};
use sha2::{Digest, Sha256};
use url::Url;

/// Why a request cannot be built; the call fails with it (nothing was sent).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestProblem {
    #[error("the parameter `{0}` is missing")]
    Missing(String),
    #[error("the parameter `{0}` is empty, and fills a path segment")]
    EmptySegment(String),
    #[error("the parameter `{0}` is `.` or `..`, which cannot be sent as a path segment")]
    DotSegment(String),
    #[error("the path of the declaration does not read: {0}")]
    Template(String),
    #[error("the request URL would leave the API's base URL")]
    Escapes,
}

/// The parts of one request.
#[derive(Debug)]
pub struct Request {
    pub url: Url,
    /// The JSON object body (POST, PUT, PATCH with `body:` parameters).
    pub body: Option<Vec<u8>>,
}

/// Builds the request of `action` (on the API at `base`, without a trailing `/`) from the
/// arguments of the call.
pub fn build(
    base: &str,
    action: &HttpAction,
    args: &BTreeMap<String, Value>,
) -> Result<Request, RequestProblem> {
    let pieces = template(&action.path).map_err(|e| RequestProblem::Template(e.to_string()))?;
    let mut path = String::new();
    for piece in &pieces {
        match piece {
            Piece::Literal(text) => path.push_str(text),
            Piece::Param(name) => {
                let value = args
                    .get(name)
                    .ok_or_else(|| RequestProblem::Missing(name.clone()))?
                    .to_string();
                if value.is_empty() {
                    return Err(RequestProblem::EmptySegment(name.clone()));
                }
                path.push_str(&encode_segment(&value));
            }
        }
    }
    // `.` and `..` are unreserved: encoded or not, a URL parser reads them as "this" and
    // "the parent" segment. A whole segment that is one of them is refused.
    if path.split('/').any(|segment| matches!(segment, "." | "..")) {
        let name = pieces.iter().find_map(|p| match p {
            Piece::Param(name) => Some(name.clone()),
            Piece::Literal(_) => None,
        });
        return Err(RequestProblem::DotSegment(name.unwrap_or_default()));
    }
    let mut url = Url::parse(&format!("{base}{path}")).map_err(|_| RequestProblem::Escapes)?;
    let prefix = Url::parse(base).map_err(|_| RequestProblem::Escapes)?;
    let base_path = prefix.path().trim_end_matches('/');
    if url.origin() != prefix.origin()
        || !url.path().starts_with(base_path)
        || url.path() != format!("{base_path}{path}")
    {
        return Err(RequestProblem::Escapes);
    }
    let query: Vec<(&str, String)> = action
        .query
        .iter()
        .filter_map(|name| args.get(name).map(|v| (name.as_str(), v.to_string())))
        .collect();
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    let body = (action.method.has_body() && !action.body.is_empty()).then(|| {
        let object: serde_json::Map<String, serde_json::Value> = action
            .body
            .iter()
            .filter_map(|name| args.get(name).map(|v| (name.clone(), to_json(v))))
            .collect();
        serde_json::Value::Object(object).to_string().into_bytes()
    });
    Ok(Request { url, body })
}

/// Every byte but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) as `%XX`:
/// a `/`, `?`, `#` or `%` in a value stays inside its segment.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The `Idempotency-Key` of an effect: the same on every attempt of it (derived from its
/// deterministic id, as the Zendesk actions' key is), opaque, and safe in a header.
pub fn idempotency_key(effect_id: &str) -> String {
    let digest = Sha256::digest(effect_id.as_bytes());
    format!(
        "scenarist-{}",
        scenarist_base::hex::encode(digest.get(..16).unwrap_or_default())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarist_lang::config::apis::HttpMethod;

    fn action(path: &str, query: &[&str], body: &[&str], method: HttpMethod) -> HttpAction {
        HttpAction {
            method,
            path: path.to_owned(),
            query: query.iter().map(|s| (*s).to_owned()).collect(),
            body: body.iter().map(|s| (*s).to_owned()).collect(),
            params: BTreeMap::new(),
            result: BTreeMap::new(),
            description: None,
        }
    }

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::text(*v)))
            .collect()
    }

    #[test]
    fn parameters_stay_inside_their_segment_and_never_reach_the_host() {
        let get = action("/orders/{number}", &["locale"], &[], HttpMethod::Get);
        let base = "https://oms.example.com/api";
        for (value, path) in [
            ("A-12", "/api/orders/A-12"),
            ("a/b", "/api/orders/a%2Fb"),
            ("x?admin=1", "/api/orders/x%3Fadmin%3D1"),
            ("../admin", "/api/orders/..%2Fadmin"),
            ("%2e%2e", "/api/orders/%252e%252e"),
            ("@evil.example", "/api/orders/%40evil.example"),
            ("é #", "/api/orders/%C3%A9%20%23"),
        ] {
            let request = build(base, &get, &args(&[("number", value)])).unwrap();
            assert_eq!(request.url.host_str(), Some("oms.example.com"), "{value}");
            assert_eq!(request.url.path(), path, "{value}");
            assert_eq!(request.url.query(), None);
        }
        for value in ["..", "."] {
            assert_eq!(
                build(base, &get, &args(&[("number", value)])).unwrap_err(),
                RequestProblem::DotSegment("number".into())
            );
        }
        assert_eq!(
            build(base, &get, &args(&[("number", "")])).unwrap_err(),
            RequestProblem::EmptySegment("number".into())
        );
        let request = build(base, &get, &args(&[("number", "1"), ("locale", "fr&x=1")])).unwrap();
        assert_eq!(request.url.query(), Some("locale=fr%26x%3D1"));
    }

    #[test]
    fn body_parameters_are_a_json_object() {
        let post = action("/returns", &[], &["number", "reason"], HttpMethod::Post);
        let request = build(
            "http://127.0.0.1:9",
            &post,
            &args(&[("number", "1"), ("reason", "broken")]),
        )
        .unwrap();
        assert_eq!(request.url.as_str(), "http://127.0.0.1:9/returns");
        let body: serde_json::Value = serde_json::from_slice(&request.body.unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"number": "1", "reason": "broken"}));
    }

    #[test]
    fn the_idempotency_key_is_the_same_for_an_effect_and_differs_between_effects() {
        assert_eq!(idempotency_key("c:3"), idempotency_key("c:3"));
        assert_ne!(idempotency_key("c:3"), idempotency_key("c:4"));
        assert_eq!(idempotency_key("c:3").len(), "scenarist-".len() + 32);
    }
}
