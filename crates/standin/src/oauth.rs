//! The OAuth authorization-code flow (zendesk-api.md §1.3). There is no human to click
//! "Allow", so `GET /oauth/authorizations/new` grants at once: it redirects to
//! `redirect_uri?code=…&state=…` (or `error=…` for an unknown client or response type).
//! `POST /oauth/tokens` (JSON or form body) exchanges a code — single-use, valid 120 s on the
//! stand-in clock — or rotates a refresh token (both old tokens die). Issued access tokens are
//! accepted as Bearer tokens.
//!
//! PKCE as Zendesk documents it (zendesk-api.md §1.3): the authorize request may carry
//! `code_challenge` with `code_challenge_method=S256` (any other method, or a method without a
//! challenge, is refused with `invalid_request`); a code issued with a challenge is exchanged
//! only with the `code_verifier` whose BASE64URL-no-pad(SHA-256) is that challenge — a wrong
//! or missing verifier is `invalid_grant`, and the code is spent either way.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::comments::encode_component;
use super::reply::{Reply, query_params};
use super::state::{CODE_LIFETIME, OAuthCode, RefreshGrant, Shared, State as Data};

/// Default refresh-token lifetime: 30 days.
const REFRESH_LIFETIME: i64 = 2_592_000;

fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = redirect_uri.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (key, value) in params {
        url.push(sep);
        url.push_str(key);
        url.push('=');
        url.push_str(&encode_component(value));
        sep = '&';
    }
    url
}

pub(crate) async fn authorize(State(shared): State<Arc<Shared>>, uri: Uri) -> Result<Reply, Reply> {
    let params = query_params(&uri)?;
    let get = |k: &str| params.get(k).map_or("", String::as_str);
    let redirect_uri = get("redirect_uri");
    if redirect_uri.is_empty() {
        return Err(Reply::bad_request(
            "invalid_request",
            "redirect_uri is required",
        ));
    }
    let state = get("state");
    let refuse = |error: &str, description: &str| {
        let mut list = vec![("error", error), ("error_description", description)];
        if !state.is_empty() {
            list.push(("state", state));
        }
        Ok(Reply::redirect(with_params(redirect_uri, &list)))
    };
    if get("client_id") != shared.config.oauth_client_id {
        return refuse("invalid_client", "The client identifier is unknown");
    }
    if get("response_type") != "code" {
        return refuse(
            "unsupported_response_type",
            "Only response_type=code is supported",
        );
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        ("", "") => None,
        ("", _) => {
            return refuse(
                "invalid_request",
                "code_challenge_method was given without a code_challenge",
            );
        }
        (challenge, "S256") => Some((challenge.to_owned(), "S256".to_owned())),
        (_, _) => {
            return refuse("invalid_request", "code_challenge_method must be S256");
        }
    };
    let mut data = shared.lock();
    let code = data.random_token(20);
    let scope = Some(get("scope"))
        .filter(|s| !s.is_empty())
        .unwrap_or("read write")
        .to_owned();
    let entry = OAuthCode {
        client_id: get("client_id").to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        issued_at: data.now(),
        challenge,
    };
    data.codes.insert(code.clone(), entry);
    let mut list = vec![("code", code.as_str())];
    if !state.is_empty() {
        list.push(("state", state));
    }
    Ok(Reply::redirect(with_params(redirect_uri, &list)))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn invalid_grant() -> Reply {
    oauth_error(
        400,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the \
         redirection URI used in the authorization request, or was issued to another client.",
    )
}

/// The token request's fields, from a JSON object or a form body.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Reply> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        let text = String::from_utf8_lossy(body);
        let uri: Uri = format!("/?{text}")
            .parse()
            .map_err(|_| oauth_error(400, "invalid_request", "Malformed form body"))?;
        return Query::<HashMap<String, String>>::try_from_uri(&uri)
            .map(|q| q.0)
            .map_err(|_| oauth_error(400, "invalid_request", "Malformed form body"));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(oauth_error(
            400,
            "invalid_request",
            "Server could not parse JSON",
        ));
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            _ => None,
        })
        .collect())
}

pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Reply, Reply> {
    let fields = fields(&headers, &body)?;
    let get = |k: &str| fields.get(k).map_or("", String::as_str);
    if get("client_id") != shared.config.oauth_client_id
        || get("client_secret") != shared.config.oauth_client_secret
    {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        ));
    }
    let expires_in = get("expires_in").parse::<i64>().ok();
    let mut data = shared.lock();
    match get("grant_type") {
        "authorization_code" => {
            // Single use: the code is gone whatever the outcome.
            let code = data.codes.remove(get("code")).ok_or_else(invalid_grant)?;
            let fresh = data.now() - code.issued_at <= CODE_LIFETIME;
            if !fresh
                || code.client_id != get("client_id")
                || code.redirect_uri != get("redirect_uri")
                || !pkce_ok(&code, get("code_verifier"))
            {
                return Err(invalid_grant());
            }
            Ok(issue(&mut data, &code.scope, expires_in))
        }
        "refresh_token" => {
            let grant = data
                .refresh_tokens
                .remove(get("refresh_token"))
                .ok_or_else(invalid_grant)?;
            data.access_tokens.remove(&grant.access_token);
            if data.now() >= grant.expires_at {
                return Err(invalid_grant());
            }
            Ok(issue(
                &mut data,
                &grant.scope,
                expires_in.or(grant.expires_in),
            ))
        }
        _ => Err(oauth_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported.",
        )),
    }
}

/// Whether `verifier` answers the code's challenge (authorize accepts only S256). A missing
/// verifier is the empty string, whose digest is no challenge a client sends.
fn pkce_ok(code: &OAuthCode, verifier: &str) -> bool {
    match &code.challenge {
        None => true,
        Some((challenge, _)) => {
            !verifier.is_empty()
                && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *challenge
        }
    }
}

fn issue(data: &mut Data, scope: &str, expires_in: Option<i64>) -> Reply {
    let access = data.random_token(40);
    let refresh = data.random_token(40);
    let now = data.now();
    data.access_tokens
        .insert(access.clone(), expires_in.map(|e| now + e));
    let grant = RefreshGrant {
        access_token: access.clone(),
        scope: scope.to_owned(),
        expires_in,
        expires_at: now + REFRESH_LIFETIME,
    };
    data.refresh_tokens.insert(refresh.clone(), grant);
    let mut body = json!({
        "access_token": access,
        "token_type": "bearer",
        "scope": scope,
        "refresh_token": refresh,
        "refresh_token_expires_in": REFRESH_LIFETIME,
    });
    if let (Some(e), Some(obj)) = (expires_in, body.as_object_mut()) {
        obj.insert("expires_in".to_owned(), json!(e));
    }
    Reply::json(201, body)
}
