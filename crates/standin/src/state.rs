//! The stand-in's in-memory data: users, tickets with their comments, ticket fields,
//! idempotency keys, OAuth codes and tokens, queued faults and the request log, all behind one
//! mutex. Handlers lock,
//! work synchronously and unlock — the lock is never held across an `await`, so a create is
//! atomic even when two retries race. With a state file, `persist` keeps part of it on disk.
//!
//! Ids are 64-bit-like (users, comments, audits and events count from 360 000 000 000,
//! tickets from 4001) so that a client storing them in 32 bits, or assuming 1, 2, 3, fails.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

use super::StandInConfig;
use super::faults::Fault;
use super::persist::Persister;

pub(crate) const FIRST_ID: u64 = 360_000_000_000;
pub(crate) const FIRST_TICKET_ID: u64 = 4001;
/// The account's fixed objects (the agent's organization, brand, form, custom statuses).
pub(crate) const ORGANIZATION_ID: u64 = 360_900_000_001;
pub(crate) const BRAND_ID: u64 = 360_900_000_002;
pub(crate) const TICKET_FORM_ID: u64 = 360_900_000_003;
pub(crate) const CUSTOM_STATUS_BASE: u64 = 360_900_000_010;
/// Idempotency keys are kept for 2 hours (zendesk-api.md §3.3).
pub(crate) const IDEMPOTENCY_RETENTION: i64 = 2 * 3600;
/// OAuth authorization codes live 120 s (zendesk-api.md §1.3).
pub(crate) const CODE_LIFETIME: i64 = 120;
pub(crate) const STATUSES: [&str; 6] = ["new", "open", "pending", "hold", "solved", "closed"];
/// A ticket's priorities (zendesk-api.md §3.1; the OpenAPI's `TicketCreateInput.priority`).
pub(crate) const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// A ticket as the stand-in holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRecord {
    pub id: u64,
    pub external_id: Option<String>,
    pub subject: String,
    pub status: String,
    pub requester_id: u64,
    pub assignee_id: Option<u64>,
    pub tags: Vec<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    pub group_id: Option<u64>,
    /// Custom ticket field id → value, for the fields the stand-in knows (others are dropped,
    /// as Zendesk drops what is not in its data model).
    pub custom_fields: BTreeMap<u64, Value>,
    pub comments: Vec<CommentRecord>,
}

/// A custom ticket field: the stand-in's configured ones (`StandInConfig::ticket_fields`,
/// created at start when missing) and those created with `POST /api/v2/ticket_fields`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketFieldRecord {
    pub id: u64,
    /// Zendesk's field type: `text`, `textarea`, `checkbox`, `date`, `integer`, `decimal`,
    /// `regexp`, `partialcreditcard`, `multiselect`, `tagger` or `lookup`.
    pub kind: String,
    pub title: String,
    pub active: bool,
}

/// One comment; `body` is the plain text, `html_body` the stored (wrapped) HTML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommentRecord {
    pub id: u64,
    pub author_id: u64,
    pub body: String,
    pub html_body: String,
    pub public: bool,
    pub created_at: String,
    /// The custom audit metadata of the create or update that added the comment (`{}` when
    /// none was sent).
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    pub id: u64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub role: String,
    /// Only the fields that were set (the API shows every defined key).
    pub user_fields: Map<String, Value>,
}

/// One request as received: method, path with query, headers (lower-case names) and the raw
/// body bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) rec: UserRecord,
    /// Emails added by updates (Zendesk keeps them as secondary identities).
    pub(crate) secondary_emails: Vec<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) verified: bool,
    pub(crate) alias: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) details: Option<String>,
    pub(crate) organization_id: Option<u64>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub(crate) rec: CommentRecord,
    pub(crate) audit_id: u64,
    /// The `User-Agent` of the request that added it (audit `metadata.system.client`).
    pub(crate) client: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub(crate) id: u64,
    pub(crate) external_id: Option<String>,
    pub(crate) subject: String,
    pub(crate) status: String,
    pub(crate) requester_id: u64,
    pub(crate) submitter_id: u64,
    pub(crate) assignee_id: Option<u64>,
    pub(crate) organization_id: Option<u64>,
    pub(crate) tags: Vec<String>,
    pub(crate) priority: Option<String>,
    pub(crate) group_id: Option<u64>,
    pub(crate) custom_fields: BTreeMap<u64, Value>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// A custom ticket field as the stand-in holds it.
#[derive(Debug, Clone)]
pub(crate) struct TicketField {
    pub(crate) rec: TicketFieldRecord,
    pub(crate) description: String,
    /// `custom_field_options` as sent (`[{name, value}]`), for dropdowns.
    pub(crate) options: Vec<Value>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Ticket {
    pub(crate) fn record(&self) -> TicketRecord {
        TicketRecord {
            id: self.id,
            external_id: self.external_id.clone(),
            subject: self.subject.clone(),
            status: self.status.clone(),
            requester_id: self.requester_id,
            assignee_id: self.assignee_id,
            tags: self.tags.clone(),
            priority: self.priority.clone(),
            group_id: self.group_id,
            custom_fields: self.custom_fields.clone(),
            comments: self.comments.iter().map(|c| c.rec.clone()).collect(),
        }
    }
}

/// A stored ticket-create response, replayed on a retry with the same key and body.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyEntry {
    pub(crate) body_hash: Vec<u8>,
    pub(crate) stored_at: i64,
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) location: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct OAuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) issued_at: i64,
    /// PKCE `(code_challenge, code_challenge_method)` when the authorize request had one.
    pub(crate) challenge: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) access_token: String,
    pub(crate) scope: String,
    pub(crate) expires_in: Option<i64>,
    pub(crate) expires_at: i64,
}

pub(crate) struct State {
    pub(crate) users: BTreeMap<u64, User>,
    pub(crate) tickets: BTreeMap<u64, Ticket>,
    pub(crate) ticket_fields: BTreeMap<u64, TicketField>,
    pub(crate) agent_id: u64,
    next_id: u64,
    next_ticket_id: u64,
    clock_offset: i64,
    pub(crate) idempotency: HashMap<String, IdempotencyEntry>,
    pub(crate) codes: HashMap<String, OAuthCode>,
    /// Issued access tokens and when they expire (`None` = never).
    pub(crate) access_tokens: HashMap<String, Option<i64>>,
    pub(crate) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(crate) faults: Vec<Fault>,
    /// The latest [`REQUEST_LOG_CAP`] requests, oldest first (`log_request`).
    pub(crate) requests: std::collections::VecDeque<RequestLog>,
    /// Start of the current rate-limit minute and the requests counted in it.
    rate_window: (i64, u32),
    /// The same for ticket updates (`Zendesk-RateLimit-tickets-update`).
    update_window: (i64, u32),
    request_counter: u64,
}

/// The most requests the log keeps: a long demo or a load run against the stand-in keeps its
/// memory flat; the oldest are dropped first.
pub const REQUEST_LOG_CAP: usize = 10_000;

impl State {
    /// Logs a request, dropping the oldest once [`REQUEST_LOG_CAP`] are kept.
    pub(crate) fn log_request(&mut self, request: RequestLog) {
        while self.requests.len() >= REQUEST_LOG_CAP {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }

    /// No users, tickets or tokens; the counters at their first values.
    fn empty() -> Self {
        State {
            users: BTreeMap::new(),
            tickets: BTreeMap::new(),
            ticket_fields: BTreeMap::new(),
            agent_id: 0,
            next_id: FIRST_ID,
            next_ticket_id: FIRST_TICKET_ID,
            clock_offset: 0,
            idempotency: HashMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults: Vec::new(),
            requests: std::collections::VecDeque::new(),
            rate_window: (0, 0),
            update_window: (0, 0),
            request_counter: 0,
        }
    }

    /// A fresh account: just the agent user.
    pub(crate) fn new(config: &StandInConfig) -> Self {
        let mut state = Self::empty();
        let id = state.next_id();
        let now = state.now_iso();
        let name = config
            .email
            .split('@')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("Agent");
        state.users.insert(
            id,
            User {
                rec: UserRecord {
                    id,
                    name: format!("{name} (stand-in agent)"),
                    email: Some(config.email.clone()),
                    phone: None,
                    external_id: None,
                    role: "admin".to_owned(),
                    user_fields: Map::new(),
                },
                secondary_emails: Vec::new(),
                tags: Vec::new(),
                verified: true,
                alias: None,
                notes: None,
                details: None,
                organization_id: Some(ORGANIZATION_ID),
                created_at: now.clone(),
                updated_at: now,
            },
        );
        state.agent_id = id;
        state
    }

    /// The state a state file describes, before its users, tickets and tokens are put back
    /// (by `persist`, which checks the counters against them).
    pub(crate) fn restored(agent_id: u64, next_id: u64, next_ticket_id: u64) -> Self {
        State {
            agent_id,
            next_id,
            next_ticket_id,
            ..Self::empty()
        }
    }

    /// The next `(id, ticket id)` the counters will hand out.
    pub(crate) fn next_ids(&self) -> (u64, u64) {
        (self.next_id, self.next_ticket_id)
    }

    /// A fresh id for a user, comment, audit or event.
    pub(crate) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn next_ticket_id(&mut self) -> u64 {
        let id = self.next_ticket_id;
        self.next_ticket_id += 1;
        id
    }

    /// The stand-in clock, in Unix seconds.
    pub(crate) fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        system.saturating_add(self.clock_offset)
    }

    pub(crate) fn now_iso(&self) -> String {
        scenarist_base::clock::iso8601(self.now().saturating_mul(1000))
    }

    pub(crate) fn advance_clock(&mut self, seconds: i64) {
        self.clock_offset = self.clock_offset.saturating_add(seconds);
    }

    pub(crate) fn push_fault(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    /// Takes one use of the first queued fault that matches the request.
    pub(crate) fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let index = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = self.faults.get_mut(index)?;
        fault.times = fault.times.saturating_sub(1);
        let taken = fault.clone();
        if taken.times == 0 {
            self.faults.remove(index);
        }
        Some(taken)
    }

    /// Counts a request against the 700/min account limit; returns the remaining count.
    pub(crate) fn count_request(&mut self) -> u32 {
        let minute = self.now().div_euclid(60);
        if self.rate_window.0 == minute {
            self.rate_window.1 = self.rate_window.1.saturating_add(1);
        } else {
            self.rate_window = (minute, 1);
        }
        700u32.saturating_sub(self.rate_window.1)
    }

    /// Counts a ticket update and returns the `Zendesk-RateLimit-tickets-update` value:
    /// Zendesk's 100 updates a minute per account, what is left, and the seconds until the
    /// minute resets. (The stand-in reports the budget; it refuses only through faults.)
    pub(crate) fn count_update(&mut self) -> String {
        let now = self.now();
        let minute = now.div_euclid(60);
        if self.update_window.0 == minute {
            self.update_window.1 = self.update_window.1.saturating_add(1);
        } else {
            self.update_window = (minute, 1);
        }
        let remaining = 100u32.saturating_sub(self.update_window.1);
        format!(
            "total=100; remaining={remaining}; resets={}",
            60 - now.rem_euclid(60)
        )
    }

    /// A Zendesk-looking request id (`X-Request-Id`).
    pub(crate) fn request_id(&mut self) -> String {
        self.request_counter += 1;
        format!("{:016x}-STI", self.random_u64() ^ self.request_counter)
    }

    pub(crate) fn random_u64(&self) -> u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(self.request_counter);
        hasher.write_i64(self.now());
        if let Ok(d) = SystemTime::now().duration_since(UNIX_EPOCH) {
            hasher.write_u128(d.as_nanos());
        }
        hasher.finish()
    }

    /// A random token of `len` lower-case letters and digits (OAuth codes and tokens).
    pub(crate) fn random_token(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(len);
        let mut bits = self.random_u64();
        for i in 0..len {
            if i % 10 == 9 {
                bits = self.random_u64();
            }
            let index = (bits % ALPHABET.len() as u64) as usize;
            bits /= ALPHABET.len() as u64;
            out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'x')));
        }
        out
    }

    pub(crate) fn user_by_email(&self, email: &str) -> Option<u64> {
        let email = email.trim();
        self.users
            .values()
            .find(|u| {
                u.rec
                    .email
                    .iter()
                    .chain(u.secondary_emails.iter())
                    .any(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|u| u.rec.id)
    }

    pub(crate) fn user_by_external_id(&self, external_id: &str) -> Option<u64> {
        self.users
            .values()
            .find(|u| {
                u.rec
                    .external_id
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(external_id))
            })
            .map(|u| u.rec.id)
    }

    pub(crate) fn ticket_records(&self) -> Vec<TicketRecord> {
        self.tickets.values().map(Ticket::record).collect()
    }

    pub(crate) fn ticket_field_records(&self) -> Vec<TicketFieldRecord> {
        self.ticket_fields.values().map(|f| f.rec.clone()).collect()
    }

    /// Adds the configured ticket fields that are missing (by id); one already there, from
    /// the state file, is left as it is.
    pub(crate) fn define_ticket_fields(&mut self, fields: &[TicketFieldRecord]) {
        let now = self.now_iso();
        for field in fields {
            self.ticket_fields
                .entry(field.id)
                .or_insert_with(|| TicketField {
                    rec: field.clone(),
                    description: String::new(),
                    options: Vec::new(),
                    created_at: now.clone(),
                    updated_at: now.clone(),
                });
        }
    }

    /// A fresh ticket field id: the next id not already taken by a ticket field (configured
    /// fields bring ids of their own).
    pub(crate) fn next_ticket_field_id(&mut self) -> u64 {
        loop {
            let id = self.next_id();
            if !self.ticket_fields.contains_key(&id) {
                return id;
            }
        }
    }

    pub(crate) fn user_records(&self) -> Vec<UserRecord> {
        self.users.values().map(|u| u.rec.clone()).collect()
    }

    /// Forgets idempotency keys older than the retention window.
    pub(crate) fn purge_idempotency(&mut self) {
        let now = self.now();
        self.idempotency
            .retain(|_, entry| now - entry.stored_at < IDEMPOTENCY_RETENTION);
    }
}

/// The data plus what never changes after start: the configuration, the base URL and, with
/// a state file, its writer.
pub(crate) struct Shared {
    pub(crate) config: StandInConfig,
    pub(crate) base_url: String,
    pub(crate) persister: Option<Arc<Persister>>,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(
        config: StandInConfig,
        base_url: String,
        state: State,
        persister: Option<Arc<Persister>>,
    ) -> Self {
        Self {
            config,
            base_url,
            persister,
            state: Mutex::new(state),
        }
    }

    /// Locks the data. A handler that panicked cannot leave it half-written in a way that
    /// matters to a test double, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user-field definitions as `(key, type)`.
    pub(crate) fn field_type(&self, key: &str) -> Option<&str> {
        self.config
            .user_fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod request_log_tests {
    use super::*;

    #[test]
    fn the_request_log_keeps_the_latest_requests_only() {
        let mut state = State::new(&StandInConfig::default());
        for n in 0..REQUEST_LOG_CAP + 5 {
            state.log_request(RequestLog {
                method: "GET".to_owned(),
                path: format!("/api/v2/tickets/{n}"),
                headers: Vec::new(),
                body: Vec::new(),
            });
        }
        assert_eq!(state.requests.len(), REQUEST_LOG_CAP);
        assert_eq!(
            state.requests.front().map(|r| r.path.as_str()),
            Some("/api/v2/tickets/5")
        );
        let last = format!("/api/v2/tickets/{}", REQUEST_LOG_CAP + 4);
        assert_eq!(state.requests.back().map(|r| &r.path), Some(&last));
    }
}
