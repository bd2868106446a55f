//! The page, built into the binary: one HTML file, its script and style sheet, and Mermaid
//! (the graph; vendored from the npm registry, pinned — `assets/vendor/README.md` names the
//! version, its checksum and licence). No build step: the files are served as written.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::service::ApiError;

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/studio.js");
const STYLE: &str = include_str!("assets/studio.css");
const MERMAID: &str = include_str!("assets/vendor/mermaid.min.js");

/// The page's own scripts only; Mermaid draws with inline styles in SVG.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`.
pub(super) async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /assets/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (kind, body) = match name.as_str() {
        "studio.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "studio.css" => ("text/css; charset=utf-8", STYLE),
        "mermaid.min.js" => ("text/javascript; charset=utf-8", MERMAID),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such asset",
            ));
        }
    };
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}
