//! The Zendesk Support API client: the only module that uses reqwest. One `reqwest::Client`
//! per organization, with connect and total timeouts and a user agent. Every failure is a
//! `ZendeskError` that says whether it is worth retrying: 429 (honouring `Retry-After`, and
//! pausing every call to the instance meanwhile — unless it is the per-ticket update limit,
//! `rate_limit`, which holds back that ticket's update only), 5xx and transport failures
//! are; other 4xx are not, and keep Zendesk's error details. With OAuth credentials kept in
//! a token file, a 401 renews the token once (`session`) and sends the request once more.
//! Credentials never appear in `Debug` output.
//!
//! Zendesk's answers are hostile input too: every request URL is joined onto the checked
//! instance URL and must keep its origin (`BaseUrl::endpoint`), so a `links.next` pointing
//! elsewhere is refused before anything is sent; redirects are never followed (a 3xx is an
//! error); and no more than `MAX_RESPONSE_BYTES` of an answer is read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::model::{
    Comment, CommentsPage, Ticket, TicketEnvelope, TicketField, TicketFieldEnvelope, TicketsPage,
    User, UserEnvelope, UserField, UserFieldsPage, UsersPage,
};
use super::rate_limit::{self, Scope};
use super::secret::Secret;
use super::session::TokenSession;
use scenarist_lang::config::base_url::{BaseUrl, ForeignUrl, UrlProblem, hide_userinfo};

/// How the client authenticates.
#[derive(Clone)]
pub enum Credentials {
    /// `email/token:TOKEN` basic auth.
    ApiToken { email: String, token: Secret },
    /// An OAuth access token, used as it is.
    Bearer(Secret),
    /// An OAuth token set kept in a token file, renewed with its refresh token when Zendesk
    /// refuses the access token (`session`).
    OAuth(Arc<TokenSession>),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ApiToken { email, .. } => {
                write!(f, "ApiToken {{ email: {email:?}, token: [REDACTED] }}")
            }
            Credentials::Bearer(_) => f.write_str("Bearer([REDACTED])"),
            Credentials::OAuth(session) => write!(f, "OAuth({session:?})"),
        }
    }
}

impl Credentials {
    fn header(&self) -> Option<HeaderValue> {
        let value = match self {
            Credentials::ApiToken { email, token } => {
                let raw = format!("{email}/token:{}", token.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Credentials::Bearer(token) => format!("Bearer {}", token.expose()),
            Credentials::OAuth(session) => format!("Bearer {}", session.access().expose()),
        };
        let mut header = HeaderValue::from_str(&value).ok()?;
        header.set_sensitive(true);
        Some(header)
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ZendeskError {
    /// No answer: connection refused or dropped, timeout. `sent` when the request may have
    /// reached Zendesk (then its effect is unknown).
    #[error("no answer from Zendesk: {message}")]
    Transport { message: String, sent: bool },
    /// Zendesk answered with an error status.
    #[error("Zendesk answered {status}: {summary}")]
    Status {
        status: u16,
        retry_after: Option<u64>,
        summary: String,
        details: Option<Value>,
        request_id: Option<String>,
    },
    /// Zendesk answered 2xx with a body this client cannot read.
    #[error("unexpected answer from Zendesk: {0}")]
    Decode(String),
    /// A 429 is being waited out: nothing was sent.
    #[error("Zendesk asked to slow down; calls to it resume in {0} ms")]
    Paused(u64),
    /// The instance URL was refused (`https://user:pass@acme.zendesk.com`): no client.
    #[error("the Zendesk URL {0}; write the instance only, such as `https://acme.zendesk.com`")]
    Url(#[from] UrlProblem),
    /// Zendesk refused the OAuth token and it could not be renewed: nothing works until an
    /// admin runs `reauthorize`. Worth retrying later (the new token is picked up from the
    /// token file).
    #[error(
        "Zendesk no longer accepts the OAuth token of `{organization}` and it could not be renewed ({reason}); run `scenarist zendesk reauthorize {organization}`"
    )]
    Reauthorize {
        organization: String,
        reason: String,
    },
    /// A request would leave the instance (Zendesk's `links.next` pointing at another host,
    /// port or scheme): nothing was sent, so the credentials stay on the instance.
    #[error("refused to send a request carrying the credentials elsewhere: {0}")]
    Foreign(#[from] ForeignUrl),
    /// The answer is longer than `MAX_RESPONSE_BYTES`; the rest of it was not read.
    #[error(
        "Zendesk's answer is larger than {limit} bytes, more than Scenarist reads; it was refused"
    )]
    TooLarge { limit: usize },
}

impl ZendeskError {
    /// Whether trying again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            ZendeskError::Transport { .. }
            | ZendeskError::Paused(_)
            | ZendeskError::Reauthorize { .. } => true,
            ZendeskError::Status { status, .. } => {
                *status == 429 || *status == 409 || *status >= 500
            }
            ZendeskError::Decode(_)
            | ZendeskError::Url(_)
            | ZendeskError::Foreign(_)
            | ZendeskError::TooLarge { .. } => false,
        }
    }

    /// The earliest retry Zendesk asked for, in milliseconds.
    pub fn retry_after_ms(&self) -> i64 {
        match self {
            ZendeskError::Status {
                retry_after: Some(seconds),
                ..
            } => i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
            ZendeskError::Paused(ms) => i64::try_from(*ms).unwrap_or(i64::MAX),
            ZendeskError::Reauthorize { .. } => REAUTHORIZE_RETRY_MS,
            _ => 0,
        }
    }

    /// Whether the request may have been carried out although no success came back.
    pub fn ambiguous(&self) -> bool {
        match self {
            ZendeskError::Transport { sent, .. } => *sent,
            ZendeskError::Status { status, .. } => *status >= 500,
            // The request went through; only its answer was refused.
            ZendeskError::TooLarge { .. } => true,
            _ => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ZendeskError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How often work waiting for `reauthorize` tries again (each try re-reads the token file).
pub const REAUTHORIZE_RETRY_MS: i64 = 60_000;

/// The most bytes of one answer the client reads (8 MiB: a page of 100 comments with their
/// HTML is far below it). A longer answer is `ZendeskError::TooLarge`.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

pub struct ZendeskClient {
    http: reqwest::Client,
    base: BaseUrl,
    credentials: Credentials,
    paused_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for ZendeskClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskClient")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// Timeouts of the client.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(20),
        }
    }
}

/// Users per page of a search (Zendesk's maximum).
pub const SEARCH_PAGE: usize = 100;

/// The most users a search reads: enough for any contact's candidates, bounded so that a
/// vague search term cannot read a whole instance.
pub const SEARCH_CAP: usize = 500;

/// What a user search found.
#[derive(Debug, Default)]
pub struct Search {
    pub users: Vec<User>,
    /// More users matched than [`SEARCH_CAP`]; the rest were not read.
    pub truncated: bool,
}

impl ZendeskClient {
    /// A client for the instance at `url` (`https://acme.zendesk.com`), refused as
    /// `ZendeskError::Url` unless `BaseUrl::parse` accepts it. Redirects are never followed.
    pub fn new(
        url: &str,
        credentials: Credentials,
        timeouts: Timeouts,
    ) -> Result<Self, ZendeskError> {
        let base = BaseUrl::parse(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("scenarist/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ZendeskError::Transport {
                message: e.to_string(),
                sent: false,
            })?;
        Ok(Self {
            http,
            base,
            credentials,
            paused_until: Mutex::new(None),
        })
    }

    /// Why this organization needs `scenarist zendesk reauthorize` (its OAuth token was
    /// refused and could not be renewed), if it does.
    pub fn reauthorize_needed(&self) -> Option<String> {
        match &self.credentials {
            Credentials::OAuth(session) => session.reauthorize_needed(),
            _ => None,
        }
    }

    /// The credentials this client sends.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// `https://acme.zendesk.com`, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The authenticated user. Wrong credentials give 200 with an anonymous user (id
    /// `null`) on this endpoint, so the caller must check `id`.
    pub async fn me(&self) -> Result<User, ZendeskError> {
        let sent_with = match &self.credentials {
            Credentials::OAuth(session) => Some((session, session.access())),
            _ => None,
        };
        let me = self
            .json::<UserEnvelope>(Method::GET, "/api/v2/users/me", &[], None, None)
            .await?
            .user;
        match sent_with {
            // This endpoint answers a refused token with the anonymous user, not a 401.
            Some((session, refused)) if me.id.is_none() => {
                session.renew(&refused).await?;
                Ok(self
                    .json::<UserEnvelope>(Method::GET, "/api/v2/users/me", &[], None, None)
                    .await?
                    .user)
            }
            _ => Ok(me),
        }
    }

    /// Every custom user field definition (following pages).
    pub async fn user_fields(&self) -> Result<Vec<UserField>, ZendeskError> {
        let mut fields = Vec::new();
        let mut page = 1u32;
        loop {
            let query = [("page", page.to_string()), ("per_page", "100".to_owned())];
            let result: UserFieldsPage = self
                .json(Method::GET, "/api/v2/user_fields", &query, None, None)
                .await?;
            fields.extend(result.user_fields);
            if result.next_page.is_none() || page >= 100 {
                return Ok(fields);
            }
            page += 1;
        }
    }

    /// The ticket field with this id, or `None` when the instance has none (404).
    pub async fn ticket_field(&self, id: u64) -> Result<Option<TicketField>, ZendeskError> {
        let path = format!("/api/v2/ticket_fields/{id}");
        match self
            .json::<TicketFieldEnvelope>(Method::GET, &path, &[], None, None)
            .await
        {
            Ok(envelope) => Ok(Some(envelope.ticket_field)),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Users matching a search query (fuzzy: callers filter exact matches).
    /// The users a search finds, page after page (Zendesk pages `/users/search` by offset,
    /// 100 at most per page) until the last page or [`SEARCH_CAP`] users. The next page is
    /// asked for by number on the organization's own URL, never by the `next_page` address
    /// the answer gives (an answer is not trusted to say where to send the token next).
    pub async fn search_users(&self, query: &str) -> Result<Search, ZendeskError> {
        let mut found = Search::default();
        for page in 1.. {
            let params = [
                ("query", query.to_owned()),
                ("per_page", SEARCH_PAGE.to_string()),
                ("page", page.to_string()),
            ];
            let answer = self
                .json::<UsersPage>(Method::GET, "/api/v2/users/search", &params, None, None)
                .await?;
            let more = answer.next_page.is_some() && !answer.users.is_empty();
            let room = SEARCH_CAP - found.users.len();
            found.truncated = answer.users.len() > room;
            found.users.extend(answer.users.into_iter().take(room));
            if found.users.len() >= SEARCH_CAP {
                found.truncated |= more;
                break;
            }
            if !more {
                break;
            }
        }
        Ok(found)
    }

    /// The user with this external id (exact).
    pub async fn users_by_external_id(&self, external_id: &str) -> Result<Vec<User>, ZendeskError> {
        let query = [("external_id", external_id.to_owned())];
        Ok(self
            .json::<UsersPage>(Method::GET, "/api/v2/users/search", &query, None, None)
            .await?
            .users)
    }

    pub async fn user(&self, id: u64) -> Result<User, ZendeskError> {
        Ok(self
            .json::<UserEnvelope>(Method::GET, &format!("/api/v2/users/{id}"), &[], None, None)
            .await?
            .user)
    }

    /// `POST /users/create_or_update`: the user matched by email or external id, created
    /// if there is none.
    pub async fn create_or_update_user(&self, body: &Value) -> Result<User, ZendeskError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ZendeskError::Decode(e.to_string()))?;
        Ok(self
            .json::<UserEnvelope>(
                Method::POST,
                "/api/v2/users/create_or_update",
                &[],
                Some(bytes),
                None,
            )
            .await?
            .user)
    }

    /// `POST /tickets` with an idempotency key. `body` is the frozen request: the same bytes
    /// on every attempt, or Zendesk refuses the key.
    pub async fn create_ticket(
        &self,
        body: Vec<u8>,
        idempotency_key: &str,
    ) -> Result<Ticket, ZendeskError> {
        Ok(self
            .json::<TicketEnvelope>(
                Method::POST,
                "/api/v2/tickets",
                &[],
                Some(body),
                Some(idempotency_key),
            )
            .await?
            .ticket)
    }

    /// Tickets whose `external_id` is exactly this.
    pub async fn tickets_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Vec<Ticket>, ZendeskError> {
        let query = [("external_id", external_id.to_owned())];
        Ok(self
            .json::<TicketsPage>(Method::GET, "/api/v2/tickets", &query, None, None)
            .await?
            .tickets)
    }

    pub async fn ticket(&self, id: u64) -> Result<Ticket, ZendeskError> {
        Ok(self
            .json::<TicketEnvelope>(
                Method::GET,
                &format!("/api/v2/tickets/{id}"),
                &[],
                None,
                None,
            )
            .await?
            .ticket)
    }

    /// `PUT /tickets/{id}`: one comment and/or a status change.
    pub async fn update_ticket(&self, id: u64, body: &Value) -> Result<Ticket, ZendeskError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ZendeskError::Decode(e.to_string()))?;
        Ok(self
            .json::<TicketEnvelope>(
                Method::PUT,
                &format!("/api/v2/tickets/{id}"),
                &[],
                Some(bytes),
                None,
            )
            .await?
            .ticket)
    }

    /// Every comment of a ticket, oldest first (cursor pagination).
    pub async fn comments(&self, id: u64) -> Result<Vec<Comment>, ZendeskError> {
        let mut comments = Vec::new();
        let mut path = format!("/api/v2/tickets/{id}/comments");
        let mut query = vec![("page[size]", "100".to_owned())];
        for _ in 0..100 {
            let page: CommentsPage = self.json(Method::GET, &path, &query, None, None).await?;
            comments.extend(page.comments);
            let more = page.meta.is_some_and(|m| m.has_more);
            match page.links.and_then(|l| l.next).filter(|_| more) {
                // The next link is absolute (it carries the cursor): it is joined onto the
                // instance like any path, and refused if it leads anywhere else.
                Some(next) => {
                    path = next;
                    query.clear();
                }
                None => break,
            }
        }
        Ok(comments)
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ZendeskError> {
        let bytes = self
            .send(method, path, query, body, idempotency_key)
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ZendeskError::Decode(format!("{path}: {e}")))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<u8>, ZendeskError> {
        let result = match &self.credentials {
            Credentials::OAuth(session) => {
                let used = session.access();
                let first = self
                    .send_once(method.clone(), path, query, body.clone(), idempotency_key)
                    .await;
                match first {
                    // A 401 was not carried out: renewed once, sent once more.
                    Err(ZendeskError::Status { status: 401, .. }) => {
                        match session.renew(&used).await {
                            Ok(()) => {
                                self.send_once(method, path, query, body, idempotency_key)
                                    .await
                            }
                            Err(error) => Err(error),
                        }
                    }
                    other => other,
                }
            }
            _ => {
                self.send_once(method, path, query, body, idempotency_key)
                    .await
            }
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ZendeskError::Reauthorize { .. }) => "reauthorize_needed",
            Err(ZendeskError::Paused(_)) => "paused",
            Err(ZendeskError::Transport { .. }) => "transport_error",
            Err(
                ZendeskError::Decode(_) | ZendeskError::TooLarge { .. } | ZendeskError::Foreign(_),
            ) => "bad_response",
            Err(ZendeskError::Status { status: 429, .. }) => "rate_limited",
            Err(ZendeskError::Status { status, .. }) if *status >= 500 => "server_error",
            // `Url` only comes from `new`, never from a call.
            Err(ZendeskError::Status { .. } | ZendeskError::Url(_)) => "refused",
        };
        scenarist_runtime::metrics::metrics()
            .zendesk_calls
            .get_or_create(&scenarist_runtime::metrics::Outcome { outcome })
            .inc();
        result
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<u8>, ZendeskError> {
        self.check_pause()?;
        let url = self.base.endpoint(path)?;
        let limited_scope_of = method.clone();
        let mut request = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(header) = self.credentials.header() {
            request = request.header("Authorization", header);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| transport(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = read_body(response, MAX_RESPONSE_BYTES).await?;
        if status.is_success() {
            return Ok(bytes);
        }
        let error = status_error(status, &headers, &bytes);
        if status == StatusCode::TOO_MANY_REQUESTS {
            match rate_limit::scope(&limited_scope_of, path, &headers) {
                Scope::Instance => self.pause(error.retry_after_ms()),
                // The outbox retries this update after `Retry-After`; other tickets go on.
                Scope::Ticket(ticket) => {
                    tracing::info!(
                        ticket,
                        "Zendesk's per-ticket update limit: only this ticket's updates wait"
                    );
                }
            }
        }
        tracing::warn!(status = status.as_u16(), path, %error, "Zendesk refused a call");
        Err(error)
    }

    fn check_pause(&self) -> Result<(), ZendeskError> {
        let paused = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *paused {
            Some(until) if until > Instant::now() => {
                let left = until.saturating_duration_since(Instant::now()).as_millis();
                Err(ZendeskError::Paused(
                    u64::try_from(left).unwrap_or(u64::MAX),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Pauses every call to this instance for `ms` (a 429 is account-wide).
    fn pause(&self, ms: i64) {
        let wait = Duration::from_millis(u64::try_from(ms.max(1000)).unwrap_or(1000));
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = Instant::now() + wait;
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// The body of `response`, read in chunks and refused as soon as it passes `limit` bytes
/// (announced by `Content-Length` or not), so a hostile answer cannot fill the memory.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ZendeskError> {
    let too_large = ZendeskError::TooLarge { limit };
    if response
        .content_length()
        .is_some_and(|length| usize::try_from(length).map_or(true, |length| length > limit))
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ZendeskError::Transport {
            message: e.to_string(),
            sent: true,
        })?
    {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(error: &reqwest::Error) -> ZendeskError {
    // A request that could not connect was never sent; anything later may have been.
    let sent = !error.is_connect();
    ZendeskError::Transport {
        message: error.to_string(),
        sent,
    }
}

/// Zendesk's error envelope in one sentence, with the details kept as JSON.
fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ZendeskError {
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status.is_redirection() {
        // Never followed: the credentials would go along to wherever it points.
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map_or_else(String::new, |to| {
                format!(
                    " to {}",
                    hide_userinfo(to).chars().take(200).collect::<String>()
                )
            });
        return ZendeskError::Status {
            status: status.as_u16(),
            retry_after,
            summary: format!(
                "a redirect{location}, which Scenarist does not follow; configure the URL the \
                 instance answers on itself (`https://SUBDOMAIN.zendesk.com`)"
            ),
            details: None,
            request_id,
        };
    }
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let (summary, details) = match &json {
        Some(json) => {
            let error = match &json["error"] {
                Value::String(text) => text.clone(),
                Value::Object(object) => object
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                _ => String::new(),
            };
            let description = json["description"]
                .as_str()
                .or_else(|| json["error"]["message"].as_str())
                .unwrap_or_default();
            let details = json.get("details").cloned();
            let mut summary = [error.as_str(), description]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(": ");
            if let Some(details) = &details {
                let listed = detail_sentences(details);
                if !listed.is_empty() {
                    summary = format!("{summary} ({listed})");
                }
            }
            (summary, details)
        }
        None => (
            String::from_utf8_lossy(body)
                .chars()
                .take(300)
                .collect::<String>()
                .trim()
                .to_owned(),
            None,
        ),
    };
    let summary = if summary.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        summary
    };
    ZendeskError::Status {
        status: status.as_u16(),
        retry_after,
        summary,
        details,
        request_id,
    }
}

/// `{"email":[{"description":"…"}]}` → "email: …".
fn detail_sentences(details: &Value) -> String {
    let Some(map) = details.as_object() else {
        return String::new();
    };
    let mut sentences = Vec::new();
    for (field, problems) in map {
        for problem in problems.as_array().into_iter().flatten() {
            if let Some(description) = problem["description"].as_str() {
                sentences.push(format!("{field}: {description}"));
            }
        }
    }
    sentences.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_their_secret() {
        let basic = Credentials::ApiToken {
            email: "a@b.c".into(),
            token: Secret::new("tok-123"),
        };
        let bearer = Credentials::Bearer(Secret::new("oauth-456"));
        assert!(!format!("{basic:?} {bearer:?}").contains("tok-123"));
        assert!(!format!("{bearer:?}").contains("oauth-456"));
        let client =
            ZendeskClient::new("https://acme.zendesk.com/", basic, Timeouts::default()).unwrap();
        assert!(!format!("{client:?}").contains("tok-123"));
        assert_eq!(client.base_url(), "https://acme.zendesk.com");
    }

    #[test]
    fn error_envelopes_become_sentences() {
        let body = br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"base":[{"description":"Assignee: is required when solving a ticket","error":null}]}}"#;
        let error = status_error(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), body);
        assert_eq!(
            error.to_string(),
            "Zendesk answered 422: RecordInvalid: Record validation errors (base: Assignee: is required when solving a ticket)"
        );
        assert!(!error.retryable());
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("27"));
        let limited = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            b"You have exceeded the rate limit",
        );
        assert!(limited.retryable());
        assert_eq!(limited.retry_after_ms(), 27_000);
        assert!(
            limited
                .to_string()
                .contains("You have exceeded the rate limit")
        );
        let unknown = status_error(StatusCode::NOT_FOUND, &HeaderMap::new(), br#"{"error":{"title":"No help desk at x.zendesk.com","message":"There is no help desk"}}"#);
        assert!(
            unknown
                .to_string()
                .contains("No help desk at x.zendesk.com: There is no help desk")
        );
    }
}
