//! Rate limits, token buckets refilled at a rate per second and holding at most twice that
//! (a short burst passes): one per account on `/v1/messages` (`max_messages_per_second`),
//! one for the service's other `/v1` routes (`service.max_requests_per_second`) and one for
//! the contact routes, which call Zendesk (`service.max_zendesk_requests_per_second`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::http::StatusCode;

use super::ApiError;

/// A token bucket: `rate` tokens a second, at most `2 × rate`.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: f64) -> Self {
        Self {
            tokens: 2.0 * rate,
            at: Instant::now(),
        }
    }

    /// Takes one token, or says how many whole seconds (at least one) until there is one.
    fn take(&mut self, rate: f64) -> Result<(), u64> {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * rate;
        self.tokens = (self.tokens + refill).min(2.0 * rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - self.tokens) / rate).ceil().max(1.0);
        // Whole seconds, at least one: `wait` is small and positive.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "see above"
        )]
        Err(wait as u64)
    }
}

/// A 429 `rate_limited` naming the limit, with `Retry-After`.
fn limited(seconds: u64, what: &str) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{what}; send again in {seconds} s"),
    );
    error.retry_after = Some(seconds);
    error
}

/// The per-account limits of `/v1/messages`.
#[derive(Default)]
pub struct RateLimits {
    /// Account → messages per second.
    rates: HashMap<String, u32>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimits {
    pub fn new(rates: HashMap<String, u32>) -> Self {
        Self {
            rates,
            buckets: Mutex::default(),
        }
    }

    /// Takes one message's worth from `account`'s bucket, or refuses with 429.
    pub fn take(&self, account: &str) -> Result<(), ApiError> {
        let Some(&rate) = self.rates.get(account) else {
            return Ok(());
        };
        let rate = f64::from(rate.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = match buckets.get_mut(account) {
            Some(bucket) => bucket,
            None => buckets
                .entry(account.to_owned())
                .or_insert_with(|| Bucket::full(rate)),
        };
        bucket.take(rate).map_err(|seconds| {
            limited(
                seconds,
                &format!(
                    "account `{account}` is over its limit of {rate} messages per second (max_messages_per_second)"
                ),
            )
        })
    }
}

/// The limits of the `/v1` routes other than `/v1/messages`, all callers together.
pub struct RouteLimits {
    requests: (f64, Mutex<Bucket>),
    zendesk: (f64, Mutex<Bucket>),
}

impl RouteLimits {
    pub fn new(requests_per_second: u32, zendesk_requests_per_second: u32) -> Self {
        let limit = |rate: u32| {
            let rate = f64::from(rate.max(1));
            (rate, Mutex::new(Bucket::full(rate)))
        };
        Self {
            requests: limit(requests_per_second),
            zendesk: limit(zendesk_requests_per_second),
        }
    }

    /// Takes one request to `path` (a `/v1` path other than `/v1/messages`), or refuses it.
    pub fn take(&self, path: &str) -> Result<(), ApiError> {
        let take = |(rate, bucket): &(f64, Mutex<Bucket>), key: &str| {
            let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
            bucket.take(*rate).map_err(|seconds| {
                limited(
                    seconds,
                    &format!("the service is over its limit of {rate} requests per second to these routes (service.{key})"),
                )
            })
        };
        take(&self.requests, "max_requests_per_second")?;
        // Only the routes that call Zendesk (not a contact's export or erasure).
        if path.starts_with("/v1/contacts/") && path.contains("/zendesk") {
            take(&self.zendesk, "max_zendesk_requests_per_second")?;
        }
        Ok(())
    }
}
