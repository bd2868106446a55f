//! Scenarist's connector to the brand's own HTTP APIs: the `ActionRunner` of the actions the
//! workspace declares under `apis:` (`call oms.get_order(…) as order`).
//!
//! A call is an effect of the outbox like any remote action: it runs outside the
//! conversation's lock, may run again after a crash, and its result comes back through the
//! commit path. So every attempt of one effect sends the same `Idempotency-Key` (derived from
//! the effect's deterministic id). Failures worth retrying — no connection, a timeout, 429,
//! 5xx — are retried by the outbox after the declared backoff (doubling) until the declared
//! number of attempts is spent; then, and for any other answer than 2xx, the call fails and the
//! scenario takes its `on error` path, with the reason in the conversation's notes.
//!
//! What a scenario passes never chooses where a request goes: the base URL is fixed by the
//! config, parameters fill path segments (percent-encoded) and query values (`request`);
//! redirects are not followed (a 3xx fails the call); an answer is read up to
//! `MAX_RESPONSE_BYTES` within the declared timeout; only the declared result fields, read by
//! JSON pointer and typed, reach the scenario (`response`). Secrets come from the environment
//! and never appear in `Debug` output or logs.

pub mod request;
pub mod response;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use scenarist_lang::config::Workspace;
use scenarist_lang::config::apis::{Api, HttpAction, SANDBOX, api_url, is_sandbox};
use scenarist_runtime::runner::{ActionFuture, ActionResult, ActionRunner};
use scenarist_runtime::state::Effect;

/// The most bytes of one answer read (1 MiB: an order, a list of parcels, is far below it).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The longest wait between two attempts, whatever the backoff doubles to.
const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;

/// A secret from the environment; never shown.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// The header an API's requests carry, from `auth`.
#[derive(Clone, Debug)]
struct AuthHeader {
    name: String,
    value: Secret,
}

/// One API, ready to call.
#[derive(Debug)]
struct Client {
    name: String,
    /// `Err` when the base URL cannot be used (every call then fails with the reason).
    base: Result<String, String>,
    http: reqwest::Client,
    api: Api,
    /// `None` when `auth` names nothing; `Err` when its secret cannot be read (every call
    /// then fails with the reason).
    auth: Result<Option<AuthHeader>, String>,
}

/// The runner of every declared action of a workspace.
#[derive(Debug, Default)]
pub struct HttpActions {
    apis: HashMap<String, Arc<Client>>,
    /// Problems found at start (an API whose client cannot be built, a missing secret).
    problems: Vec<String>,
}

impl HttpActions {
    /// Clients for the workspace's APIs; `problems` says which of them will fail and why.
    pub fn from_workspace(workspace: &Workspace) -> Self {
        Self::with_env(workspace, |name| std::env::var(name).ok())
    }

    /// As `from_workspace`, reading secrets with `env` (tests pass their own).
    pub fn with_env(workspace: &Workspace, env: impl Fn(&str) -> Option<String>) -> Self {
        let mut apis = HashMap::new();
        let mut problems = Vec::new();
        for (name, api) in &workspace.config.apis {
            // An API whose base URL cannot be used still runs its actions: they fail with
            // the reason, so every declared action has its executor.
            let base = api_url(&api.base_url).map_err(|problem| {
                if is_sandbox(&api.base_url) {
                    format!(
                        "`{SANDBOX}` is the demo order system, which `serve`, `chat` and `pipe` start; it is not running here"
                    )
                } else {
                    format!("the base URL {problem}")
                }
            });
            if let Err(problem) = &base {
                problems.push(format!("API `{name}`: {problem}"));
            }
            let timeout = Duration::from_millis(api.timeout_ms);
            let built = reqwest::Client::builder()
                .connect_timeout(timeout)
                .timeout(timeout)
                .user_agent(concat!("scenarist/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build();
            let http = match built {
                Ok(http) => http,
                Err(error) => {
                    problems.push(format!("API `{name}`: {error}"));
                    continue;
                }
            };
            let auth = auth_header(api, &env);
            if let Err(problem) = &auth {
                problems.push(format!("API `{name}`: {problem}"));
            }
            apis.insert(
                name.clone(),
                Arc::new(Client {
                    name: name.clone(),
                    base,
                    http,
                    api: api.clone(),
                    auth,
                }),
            );
        }
        Self { apis, problems }
    }

    /// What will fail, and why (a secret not set…), for the start-up log.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Every declared action this runner executes (`oms.get_order`).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .apis
            .values()
            .flat_map(|client| {
                client
                    .api
                    .actions
                    .keys()
                    .map(|action| format!("{}.{action}", client.name))
            })
            .collect();
        names.sort();
        names
    }

    fn find(&self, action: &str) -> Option<(&Arc<Client>, &HttpAction)> {
        let (api, name) = action.split_once('.')?;
        let client = self.apis.get(api)?;
        Some((client, client.api.actions.get(name)?))
    }

    async fn run_effect(&self, effect: &Effect) -> ActionResult {
        let Some((client, action)) = self.find(&effect.action) else {
            return ActionResult::Failed(format!(
                "`{}` is not an action of a declared API",
                effect.action
            ));
        };
        match client.call(action, effect).await {
            Ok(result) => ActionResult::Done(result),
            Err(failure) => client.verdict(effect, failure),
        }
    }
}

fn auth_header(
    api: &Api,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AuthHeader>, String> {
    let Some(auth) = &api.auth else {
        return Ok(None);
    };
    let (header, variable, bearer) = match (&auth.bearer_env, &auth.header, &auth.header_env) {
        (Some(variable), _, _) => ("Authorization", variable, true),
        (None, Some(header), Some(variable)) => (header.as_str(), variable, false),
        _ => return Err("its `auth` names no secret".to_owned()),
    };
    let secret = env(variable)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("the environment variable {variable} is not set"))?;
    Ok(Some(AuthHeader {
        name: header.to_owned(),
        value: Secret(if bearer {
            format!("Bearer {secret}")
        } else {
            secret
        }),
    }))
}

/// Why an attempt did not give a result.
#[derive(Debug)]
enum Failure {
    /// Worth another attempt (no connection, a timeout, 429, 5xx), after at least `after_ms`.
    Retryable { reason: String, after_ms: u64 },
    /// Final: the call takes its `on error` path.
    Final(String),
}

impl Client {
    async fn call(
        &self,
        action: &HttpAction,
        effect: &Effect,
    ) -> Result<Option<scenarist_runtime::value::Value>, Failure> {
        let base = self
            .base
            .as_deref()
            .map_err(|e| Failure::Final(e.to_owned()))?;
        let auth = self.auth.clone().map_err(Failure::Final)?;
        let built = request::build(base, action, &effect.request)
            .map_err(|problem| Failure::Final(problem.to_string()))?;
        let method = reqwest::Method::from_bytes(action.method.as_str().as_bytes())
            .map_err(|e| Failure::Final(e.to_string()))?;
        let mut request = self
            .http
            .request(method, built.url)
            .header("Accept", "application/json")
            .header("Idempotency-Key", request::idempotency_key(&effect.id));
        if let Some(auth) = auth {
            request = request.header(auth.name.as_str(), auth.value.0.as_str());
        }
        if let Some(body) = built.body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let retry_after = retry_after_ms(response.headers());
        let body = read_body(response, &self.name).await?;
        if status.is_success() {
            if action.result.is_empty() {
                return Ok(None);
            }
            let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                Failure::Final(format!("the `{}` API's answer is not JSON: {e}", self.name))
            })?;
            return response::record(&answer, &action.result)
                .map(Some)
                .map_err(Failure::Final);
        }
        let reason = format!(
            "the `{}` API answered {}{}",
            self.name,
            status_text(status),
            excerpt(&body)
        );
        tracing::warn!(api = %self.name, action = %effect.action, status = status.as_u16(), "a declared API refused a call");
        if status.is_redirection() {
            Err(Failure::Final(format!(
                "{reason} (a redirect, which Scenarist does not follow)"
            )))
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(Failure::Retryable {
                reason,
                after_ms: retry_after.unwrap_or(0),
            })
        } else {
            Err(Failure::Final(reason))
        }
    }

    fn transport(&self, error: &reqwest::Error) -> Failure {
        let what = if error.is_timeout() {
            format!("did not answer within {} ms", self.api.timeout_ms)
        } else if error.is_connect() {
            "could not be reached".to_owned()
        } else {
            "failed in transit".to_owned()
        };
        // The error's text can hold the URL and with it the parameters: only its kind is
        // kept in the reason.
        Failure::Retryable {
            reason: format!("the `{}` API {what}", self.name),
            after_ms: 0,
        }
    }

    /// The outcome of a failed attempt, by the API's retry policy: attempts are counted by
    /// the outbox (`effect.attempts` before this one).
    fn verdict(&self, effect: &Effect, failure: Failure) -> ActionResult {
        match failure {
            Failure::Final(reason) => ActionResult::Failed(reason),
            Failure::Retryable { reason, after_ms } => {
                let attempt = effect.attempts.saturating_add(1);
                if attempt >= self.api.retry.attempts {
                    return ActionResult::Failed(if attempt > 1 {
                        format!("{reason} (gave up after {attempt} attempts)")
                    } else {
                        reason
                    });
                }
                let backoff = self
                    .api
                    .retry
                    .backoff_ms
                    .saturating_mul(1 << effect.attempts.min(20))
                    .min(MAX_BACKOFF_MS)
                    .max(after_ms.min(MAX_BACKOFF_MS));
                ActionResult::Retry {
                    after_ms: i64::try_from(backoff).unwrap_or(i64::MAX),
                    error: reason,
                }
            }
        }
    }
}

impl ActionRunner for HttpActions {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        Box::pin(self.run_effect(effect))
    }

    fn executes(&self) -> Vec<String> {
        self.names()
    }
}

/// The body of `response`, refused as soon as it passes `MAX_RESPONSE_BYTES`.
async fn read_body(mut response: reqwest::Response, api: &str) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::Final(format!(
            "the `{api}` API's answer is larger than {MAX_RESPONSE_BYTES} bytes, more than Scenarist reads"
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| usize::try_from(length).map_or(true, |l| l > MAX_RESPONSE_BYTES))
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|e| Failure::Retryable {
            reason: if e.is_timeout() {
                format!("the `{api}` API's answer did not arrive in time")
            } else {
                format!("the `{api}` API's answer was cut off")
            },
            after_ms: 0,
        })?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if chunk.len() > MAX_RESPONSE_BYTES.saturating_sub(body.len()) {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// `: <the first 200 characters of the answer, on one line>`, or nothing.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

/// `Retry-After: <seconds>` in milliseconds.
fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|seconds| seconds.saturating_mul(1000))
}
