//! Per-account message signatures: the channel gateway sends
//! `X-Scenarist-Timestamp: <unix seconds>` and
//! `X-Scenarist-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`.
//! A timestamp more than [`WINDOW_SECS`] away from now is refused, and so is a signature
//! already seen inside the window (a replay); comparisons are constant-time.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, StatusCode};
use hmac::{KeyInit as _, Mac as _};
use subtle::ConstantTimeEq as _;

use super::ApiError;
use crate::zendesk::secret::Secret;

pub const TIMESTAMP_HEADER: &str = "x-scenarist-timestamp";
pub const SIGNATURE_HEADER: &str = "x-scenarist-signature";
/// How far a signed timestamp may be from the service's clock, either way.
pub const WINDOW_SECS: i64 = 300;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The signature the gateway sends for `body` at `timestamp` (also for tests and clients).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: the `else` cannot happen.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "sha256={}",
        crate::hex::encode(&mac.finalize().into_bytes())
    )
}

/// Signatures seen inside the window, to refuse replays.
#[derive(Default)]
pub struct Replays {
    seen: Mutex<HashMap<String, i64>>,
}

impl Replays {
    /// Checks the signature of `body` for an account whose secret is `secret`, at `now`.
    pub fn verify(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), ApiError> {
        let refuse =
            |message: String| ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", message);
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    refuse(format!(
                        "this account's messages must be signed: the `{name}` header is missing"
                    ))
                })
        };
        let timestamp: i64 = header(TIMESTAMP_HEADER)?
            .parse()
            .map_err(|_| refuse(format!("`{TIMESTAMP_HEADER}` is not a number of seconds")))?;
        let given = header(SIGNATURE_HEADER)?;
        if (now - timestamp).abs() > WINDOW_SECS {
            return Err(refuse(format!(
                "the signature's timestamp is {}s from now; it must be within {WINDOW_SECS}s (check the gateway's clock, or this is a replay)",
                now - timestamp
            )));
        }
        let expected = sign(secret.expose(), timestamp, body);
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(refuse(
                "the signature does not match the body (the secret, or the bytes signed, differ)"
                    .into(),
            ));
        }
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, at| (now - *at).abs() <= WINDOW_SECS);
        if seen.insert(given.to_owned(), timestamp).is_some() {
            return Err(refuse(
                "this signed request was already received (a replay)".into(),
            ));
        }
        Ok(())
    }
}
