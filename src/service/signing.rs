//! Per-account message signatures: the channel gateway sends
//! `X-Scenarist-Timestamp: <unix seconds>` and
//! `X-Scenarist-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`.
//! A timestamp more than [`WINDOW_SECS`] away from now is refused, and so is a signature
//! already seen inside the window (a replay); comparisons are constant-time. The order of
//! the checks matters: signature, then the account's rate limit, then the replay cache — so
//! only messages the account may send are remembered.

use std::collections::{BTreeMap, HashMap, HashSet};
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
    format!(
        "sha256={}",
        scenarist_base::hex::encode(&mac(secret, timestamp, body))
    )
}

/// HMAC-SHA256 of `<timestamp>.<body>`.
fn mac(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: the `else` cannot happen.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return [0; 32];
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// How many signed requests of one account are remembered inside the window; past it the
/// account's messages are refused (429) until the oldest leave the window. A gateway sending
/// more than this in five minutes needs `max_messages_per_second` and this raised together.
pub const MAX_REMEMBERED_PER_ACCOUNT: usize = 200_000;
/// Seconds of signed timestamps per bucket of the replay cache.
const BUCKET_SECS: i64 = 10;

/// A message whose signature and timestamp are good, not yet remembered: [`Replays::remember`]
/// refuses it if it was seen before.
#[derive(Debug)]
pub struct Signed {
    timestamp: i64,
    mac: [u8; 32],
}

/// Signatures seen inside the window, to refuse replays: per account, in buckets of signed
/// timestamps, so a whole bucket leaves at once when it falls out of the window (no scan),
/// and with a cap per account.
#[derive(Default)]
pub struct Replays {
    accounts: Mutex<HashMap<String, Remembered>>,
}

#[derive(Default)]
struct Remembered {
    /// Bucket (signed timestamp / [`BUCKET_SECS`]) → the MACs signed in it.
    buckets: BTreeMap<i64, HashSet<[u8; 32]>>,
    count: usize,
}

impl Remembered {
    /// Forgets the buckets whose every timestamp is now outside the window.
    fn expire(&mut self, now: i64) {
        let oldest_valid = now.saturating_sub(WINDOW_SECS).div_euclid(BUCKET_SECS);
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() >= oldest_valid {
                break;
            }
            self.count -= entry.remove().len();
        }
    }
}

/// Checks the signature of `body` for an account whose secret is `secret`, at `now` (Unix
/// seconds): the headers are there, the timestamp is within the window and the MAC matches.
pub fn verify(
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Signed, ApiError> {
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
    let skew = now.abs_diff(timestamp);
    if skew > WINDOW_SECS.unsigned_abs() {
        let direction = if timestamp < now {
            "behind"
        } else {
            "ahead of"
        };
        return Err(refuse(format!(
            "the signature's timestamp is {skew} s {direction} the service's clock; it must be within {WINDOW_SECS} s (check the gateway's clock, or this is a replay)"
        )));
    }
    let mac = mac(secret.expose(), timestamp, body);
    let expected = format!("sha256={}", scenarist_base::hex::encode(&mac));
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(refuse(
            "the signature does not match the body (the secret, or the bytes signed, differ)"
                .into(),
        ));
    }
    Ok(Signed { timestamp, mac })
}

fn refuse(message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", message)
}

impl Replays {
    /// Remembers a verified signature of `account` until it leaves the window; refuses one
    /// seen before (401) and one past the account's cap (429).
    pub fn remember(&self, account: &str, signed: &Signed, now: i64) -> Result<(), ApiError> {
        let mut accounts = self
            .accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let remembered = match accounts.get_mut(account) {
            Some(remembered) => remembered,
            None => accounts.entry(account.to_owned()).or_default(),
        };
        remembered.expire(now);
        let bucket = signed.timestamp.div_euclid(BUCKET_SECS);
        if remembered
            .buckets
            .get(&bucket)
            .is_some_and(|macs| macs.contains(&signed.mac))
        {
            return Err(refuse(
                "this signed request was already received (a replay)".into(),
            ));
        }
        if remembered.count >= MAX_REMEMBERED_PER_ACCOUNT {
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "account `{account}` sent more than {MAX_REMEMBERED_PER_ACCOUNT} signed messages in {WINDOW_SECS} s; send again later"
                ),
            );
            error.retry_after = Some(BUCKET_SECS.unsigned_abs());
            return Err(error);
        }
        remembered
            .buckets
            .entry(bucket)
            .or_default()
            .insert(signed.mac);
        remembered.count += 1;
        Ok(())
    }

    /// How many signatures are remembered, all accounts together.
    pub fn remembered(&self) -> usize {
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|remembered| remembered.count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(timestamp: i64, n: u32) -> Signed {
        let mut mac = [0u8; 32];
        mac[..4].copy_from_slice(&n.to_be_bytes());
        Signed { timestamp, mac }
    }

    #[test]
    fn a_signature_is_remembered_until_it_leaves_the_window() {
        let replays = Replays::default();
        let now = 1_800_000_000;
        replays.remember("a", &signed(now, 1), now).unwrap();
        let again = replays
            .remember("a", &signed(now, 1), now + 10)
            .unwrap_err();
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        // Another account's identical MAC is its own.
        replays.remember("b", &signed(now, 1), now).unwrap();
        assert_eq!(replays.remembered(), 2);
        // Once the timestamp is out of the window (and so refused by `verify`), its bucket goes.
        replays
            .remember(
                "a",
                &signed(now + 400, 2),
                now + WINDOW_SECS + BUCKET_SECS + 1,
            )
            .unwrap();
        assert_eq!(replays.remembered(), 2, "the first of `a` was forgotten");
    }

    #[test]
    fn an_account_is_capped() {
        let replays = Replays::default();
        let now = 1_800_000_000;
        for n in 0..u32::try_from(MAX_REMEMBERED_PER_ACCOUNT).unwrap() {
            replays.remember("a", &signed(now, n), now).unwrap();
        }
        let over = replays
            .remember("a", &signed(now, u32::MAX), now)
            .unwrap_err();
        assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(over.retry_after.is_some());
        replays.remember("b", &signed(now, 0), now).unwrap();
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_refused() {
        let secret = Secret::new("s");
        for (timestamp, now) in [
            (i64::MIN, 1_800_000_000),
            (i64::MAX, 1_800_000_000),
            (0, i64::MIN),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(TIMESTAMP_HEADER, timestamp.to_string().parse().unwrap());
            headers.insert(
                SIGNATURE_HEADER,
                sign("s", timestamp, b"x").parse().unwrap(),
            );
            let refused = verify(&secret, &headers, b"x", now).unwrap_err();
            assert!(
                refused.message.contains("within 300 s"),
                "{}",
                refused.message
            );
        }
    }
}
