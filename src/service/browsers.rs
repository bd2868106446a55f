//! What a web page in the admin's browser could send, refused before any route runs: the
//! service has no pages of its own, so a request carrying another site's `Origin` (CSRF),
//! a `POST` body that is not `application/json` (the only kind an HTML form or a "simple"
//! `fetch` cannot send without asking first), and — in `--dev`, on loopback — a `Host`
//! other than the address it listens on (DNS rebinding: `evil.example` resolving to
//! 127.0.0.1) are refused.

use axum::http::{HeaderMap, Method, StatusCode, header};

use super::ApiError;

/// The `Host` names a `--dev` service answers to; `None`: any (behind a proxy, the public
/// name is the operator's to choose).
#[derive(Clone, Debug, Default)]
pub struct Hosts(Option<Vec<String>>);

impl Hosts {
    /// Any `Host`.
    pub fn any() -> Self {
        Self(None)
    }

    /// Only the loopback names of `address` (`127.0.0.1:8080`, `localhost:8080`, …).
    pub fn loopback(address: std::net::SocketAddr) -> Self {
        let port = address.port();
        let names = [
            address.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        Self(Some(names.into_iter().collect()))
    }
}

/// Checks `Host`, `Origin` and, for a `POST` with a body, `Content-Type`.
pub fn check(hosts: &Hosts, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let host = text(header::HOST).unwrap_or_default();
    if let Hosts(Some(allowed)) = hosts {
        if !allowed.iter().any(|name| name.eq_ignore_ascii_case(host)) {
            return Err(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "foreign_host",
                format!(
                    "`scenarist serve --dev` answers only requests for {}; this one named another host (a web page's DNS rebinding?)",
                    allowed.join(", ")
                ),
            ));
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        // The service's own origin is the host the request was sent to; in `--dev` that
        // host is a loopback name (checked above), so a rebound name cannot pass as its own.
        let own = format!("http://{host}");
        if !origin.eq_ignore_ascii_case(&own) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "foreign_origin",
                "requests from web pages of other sites are refused (the `Origin` header names another site); call the API from a server or a tool, not from a browser page",
            ));
        }
    }
    if method == Method::POST && has_body(headers) && !is_json(text(header::CONTENT_TYPE)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ));
    }
    Ok(())
}

/// A body is announced by its length or by chunked transfer.
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// `application/json`, with parameters (`; charset=utf-8`) or not, in any case.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), value.parse().unwrap()))
            .collect()
    }

    #[test]
    fn json_with_parameters_passes_and_forms_do_not() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        for other in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
        ] {
            assert!(!is_json(Some(other)), "{other}");
        }
        assert!(!is_json(None));
    }

    #[test]
    fn a_post_without_a_body_needs_no_content_type() {
        let empty = headers(&[(header::HOST, "x"), (header::CONTENT_LENGTH, "0")]);
        assert!(check(&Hosts::any(), &Method::POST, &empty).is_ok());
        let form = headers(&[
            (header::HOST, "x"),
            (header::CONTENT_LENGTH, "3"),
            (header::CONTENT_TYPE, "text/plain"),
        ]);
        let refused = check(&Hosts::any(), &Method::POST, &form).unwrap_err();
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn loopback_hosts_are_the_listening_port_only() {
        let hosts = Hosts::loopback("127.0.0.1:8080".parse().unwrap());
        for host in ["127.0.0.1:8080", "LOCALHOST:8080", "[::1]:8080"] {
            let ok = headers(&[(header::HOST, host)]);
            assert!(check(&hosts, &Method::GET, &ok).is_ok(), "{host}");
        }
        for host in ["evil.example:8080", "127.0.0.1:8081", "localhost", ""] {
            let bad = headers(&[(header::HOST, host)]);
            assert_eq!(
                check(&hosts, &Method::GET, &bad).unwrap_err().status,
                StatusCode::MISDIRECTED_REQUEST,
                "{host}"
            );
        }
    }
}
