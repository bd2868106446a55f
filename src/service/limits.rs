//! Per-account rate limits: a token bucket per account refilled at its
//! `max_messages_per_second`, holding at most twice that (a short burst passes).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use super::ApiError;

#[derive(Default)]
pub struct RateLimits {
    /// Account → messages per second.
    rates: HashMap<String, u32>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
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
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, at) = buckets
            .entry(account.to_owned())
            .or_insert((2.0 * rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(2.0 * rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / rate).ceil().max(1.0);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "account `{account}` is over its limit of {rate} messages per second (max_messages_per_second); send again in {wait} s"
                ),
            );
            // Whole seconds, at least one: `wait` is small and positive.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "see above"
            )]
            let seconds = wait as u64;
            error.retry_after = Some(seconds);
            Err(error)
        }
    }
}
