//! Which limit a 429 comes from (zendesk-api.md §3.4, §4). Zendesk limits the whole account
//! per minute (`X-Rate-Limit-Remaining`, `ratelimit-remaining`), each endpoint
//! (`Zendesk-RateLimit-<name>: total=N; remaining=N; resets=S`, e.g. `tickets-update`, 100 a
//! minute per account), and updates of one ticket (30 per 10 minutes per user and ticket),
//! which has no header of its own. Its docs say to check the account headers first, then the
//! endpoint header; so a 429 on `PUT /api/v2/tickets/{id}` whose headers show budget left in
//! both is the per-ticket limit: only that ticket's updates need to wait. Anything else —
//! including a 429 without those headers — pauses every call to the instance.

use reqwest::Method;
use reqwest::header::HeaderMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The account or an endpoint is exhausted: every call waits.
    Instance,
    /// This ticket's updates only.
    Ticket(u64),
}

/// The scope of a 429 answer to `method path` with these headers.
pub fn scope(method: &Method, path: &str, headers: &HeaderMap) -> Scope {
    let Some(ticket) = updated_ticket(method, path) else {
        return Scope::Instance;
    };
    let account = ["x-rate-limit-remaining", "ratelimit-remaining"]
        .iter()
        .filter_map(|name| number(headers, name))
        .collect::<Vec<_>>();
    let endpoint = headers
        .get("zendesk-ratelimit-tickets-update")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| field(v, "remaining"));
    let budget_left = !account.is_empty() && account.iter().all(|left| *left > 0);
    if budget_left && endpoint.is_none_or(|left| left > 0) {
        Scope::Ticket(ticket)
    } else {
        Scope::Instance
    }
}

/// The id of the ticket `PUT /api/v2/tickets/{id}` updates.
fn updated_ticket(method: &Method, path: &str) -> Option<u64> {
    if method != Method::PUT {
        return None;
    }
    let id = path.strip_prefix("/api/v2/tickets/")?;
    let id = id.strip_suffix(".json").unwrap_or(id);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

fn number(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `remaining` of `total=100; remaining=99; resets=41`.
fn field(value: &str, name: &str) -> Option<i64> {
    value.split(';').find_map(|part| {
        let (key, number) = part.split_once('=')?;
        (key.trim() == name).then(|| number.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_a_ticket_update_with_budget_left_is_the_per_ticket_limit() {
        let left = headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "650"),
            (
                "zendesk-ratelimit-tickets-update",
                "total=100; remaining=97; resets=41",
            ),
        ]);
        let put = Method::PUT;
        assert_eq!(scope(&put, "/api/v2/tickets/42", &left), Scope::Ticket(42));
        assert_eq!(
            scope(&put, "/api/v2/tickets/42.json", &left),
            Scope::Ticket(42)
        );
        // Not a ticket update: the account waits.
        assert_eq!(
            scope(&Method::POST, "/api/v2/tickets", &left),
            Scope::Instance
        );
        assert_eq!(scope(&put, "/api/v2/tickets/4x2", &left), Scope::Instance);
        assert_eq!(scope(&put, "/api/v2/users/42", &left), Scope::Instance);
        // The account is exhausted.
        let account = headers(&[("x-rate-limit-remaining", "0")]);
        assert_eq!(scope(&put, "/api/v2/tickets/42", &account), Scope::Instance);
        // The update endpoint is exhausted account-wide.
        let endpoint = headers(&[
            ("x-rate-limit-remaining", "600"),
            (
                "zendesk-ratelimit-tickets-update",
                "total=100; remaining=0; resets=12",
            ),
        ]);
        assert_eq!(
            scope(&put, "/api/v2/tickets/42", &endpoint),
            Scope::Instance
        );
        // Nothing to tell: the safe side.
        assert_eq!(
            scope(&put, "/api/v2/tickets/42", &HeaderMap::new()),
            Scope::Instance
        );
    }
}
