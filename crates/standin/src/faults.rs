//! Fault injection. A queued [`Fault`] applies to the next `times` requests whose method
//! matches (when given) and whose path-with-query starts with `path_prefix`; the first
//! matching fault in queue order wins. Faults apply before authentication and routing, and
//! never to the stand-in's own control endpoints under `/__standin`.
//!
//! Over HTTP, `POST /__standin/faults` takes the same fields as JSON, with serde's default
//! (externally tagged) enum form, e.g.
//! `{"path_prefix":"/api/v2/tickets","method":"POST","kind":{"ServerError":503},"times":2}`,
//! `{"path_prefix":"/api/v2","kind":{"TooManyRequests":{"retry_after":7,"text_plain":true}}}`,
//! `{"path_prefix":"/api/v2/tickets/5","method":"PUT","kind":{"TicketUpdateLimit":{"retry_after":60}}}`
//! or `{"path_prefix":"/","kind":"Drop"}` (`times` defaults to 1).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reply::Reply;

/// One fault, applied to the next `times` matching requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// `GET`, `POST`, … (case-insensitive); `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Matched against the path with its query, as received (`.json` suffix included).
    #[serde(default)]
    pub path_prefix: String,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FaultKind {
    /// 429 with `Retry-After` and `X-Rate-Limit-Remaining: 0` (the account's budget is
    /// spent); the body is `{"error":"TooManyRequests"}`, or with `text_plain` the text/plain
    /// sentence the real per-user limit sends.
    TooManyRequests { retry_after: u64, text_plain: bool },
    /// 429 from Zendesk's per-ticket update limit (30 updates of one ticket in 10 minutes):
    /// `Retry-After`, while the account's (`X-Rate-Limit-Remaining`) and the update
    /// endpoint's (`Zendesk-RateLimit-tickets-update`) budgets are left — which is how a
    /// client tells it from the account-wide limit (zendesk-api.md §3.4, §4). Meant for
    /// `PUT /api/v2/tickets/{id}`.
    TicketUpdateLimit { retry_after: u64 },
    /// That status (500 when the code is not a valid 5xx), without executing the request.
    ServerError(u16),
    /// Sleeps, then handles the request normally — the work happens even if the client has
    /// given up by then.
    Slow { millis: u64 },
    /// Closes the connection without a response and without executing the request.
    Drop,
    /// Executes the request, then closes the connection without a response.
    ExecuteThenDrop,
    /// Answers with this status and JSON body, without executing the request.
    Status { code: u16, body: Value },
}

impl Fault {
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// What a fault does to a request.
pub(crate) enum Effect {
    /// Answer with this instead of handling the request.
    Respond(Reply),
    /// Wait, then handle normally.
    Delay(std::time::Duration),
    /// Close the connection without handling.
    Drop,
    /// Handle, then close the connection without a response.
    ExecuteThenDrop,
}

pub(crate) fn effect(kind: &FaultKind) -> Effect {
    match kind {
        FaultKind::TooManyRequests {
            retry_after,
            text_plain,
        } => {
            let reply = if *text_plain {
                // Verbatim from a real recording (zendesk-samples/SOURCES.md, grouparoo #31).
                Reply::text(
                    429,
                    "You have exceeded the rate limit for updating a single unique user. \
                     user email:  id:  external_id: ",
                )
            } else {
                Reply::json(429, json!({"error": "TooManyRequests"}))
            };
            Effect::Respond(
                reply
                    .header("retry-after", retry_after.to_string())
                    .header("x-rate-limit-remaining", "0".to_owned()),
            )
        }
        FaultKind::TicketUpdateLimit { retry_after } => Effect::Respond(
            Reply::json(
                429,
                json!({"error": "TooManyRequests", "description": "Too many updates of this ticket; try again later"}),
            )
            .header("retry-after", retry_after.to_string())
            .header(
                "zendesk-ratelimit-tickets-update",
                "total=100; remaining=99; resets=60".to_owned(),
            ),
        ),
        FaultKind::ServerError(code) => {
            let code = if (500..600).contains(code) {
                *code
            } else {
                500
            };
            Effect::Respond(Reply::json(
                code,
                json!({"error": "InternalServerError", "description": "Injected by the stand-in"}),
            ))
        }
        FaultKind::Slow { millis } => Effect::Delay(std::time::Duration::from_millis(*millis)),
        FaultKind::Drop => Effect::Drop,
        FaultKind::ExecuteThenDrop => Effect::ExecuteThenDrop,
        FaultKind::Status { code, body } => Effect::Respond(Reply::json(*code, body.clone())),
    }
}
