//! Credentials on `/api/v2`: `Basic base64("{email}/token:{api_token}")`, or `Bearer` with the
//! configured OAuth token or one the stand-in's OAuth flow issued (and that has not expired
//! on the stand-in clock). A request that passes acts as the agent user.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::state::{Shared, State};

/// The authenticated caller, handed to handlers as a request extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub(crate) user_id: u64,
}

/// The caller the credentials in `headers` stand for, or `None` when they are missing or
/// wrong.
pub(crate) fn authenticate(shared: &Shared, state: &State, headers: &HeaderMap) -> Option<Caller> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    let ok = if scheme.eq_ignore_ascii_case("basic") {
        basic_ok(shared, credentials)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        bearer_ok(shared, state, credentials)
    } else {
        false
    };
    ok.then_some(Caller {
        user_id: state.agent_id,
    })
}

fn basic_ok(shared: &Shared, credentials: &str) -> bool {
    let Ok(decoded) = STANDARD.decode(credentials) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, token)) = decoded.split_once(':') else {
        return false;
    };
    let Some(email) = user.strip_suffix("/token") else {
        return false;
    };
    email.eq_ignore_ascii_case(&shared.config.email) && token == shared.config.api_token
}

fn bearer_ok(shared: &Shared, state: &State, token: &str) -> bool {
    if shared.config.oauth_token.as_deref() == Some(token) {
        return true;
    }
    match state.access_tokens.get(token) {
        Some(None) => true,
        Some(Some(expires_at)) => state.now() < *expires_at,
        None => false,
    }
}
