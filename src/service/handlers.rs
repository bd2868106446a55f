//! One handler per route: parse, turn into one engine input, answer. The engine does the
//! ordering (one input at a time per conversation) and the durability (answered once on
//! disk); nothing here holds state.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use tracing::Instrument as _;

use super::{ApiError, Service, parse, read_body};
use crate::api::{Answer, InboundMessage, check_id};
use crate::metrics::Outcome;
use crate::runtime::engine::ReplyPart;
use crate::runtime::state::{Author, Conversation, Input, Status};
use crate::runtime::value::to_json;
use crate::runtime::{Delivery, EngineError};
use scenarist_base::clock::iso8601;

type Reply = Result<Json<Json_>, ApiError>;
/// The header that makes an advisor's event safe to send again (Stripe's and Zendesk's name).
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// An input's answer, serialized straight from its type.
type Answered = Result<Json<Answer>, ApiError>;

/// `POST /v1/messages`: a contact's message; the bot's answer once it is on disk.
pub(super) async fn message(
    State(service): State<Arc<Service>>,
    request: axum::extract::Request,
) -> Answered {
    let started = std::time::Instant::now();
    // The request taken whole: its headers are moved out, not copied as `HeaderMap`'s
    // extractor does.
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let bytes = read_body(&service, body).await?;
    let message: InboundMessage = parse(&bytes)?;
    message.check().map_err(ApiError::bad_request)?;
    let span = tracing::info_span!(
        "message",
        account = %message.account,
        conversation = %message.conversation,
        message_id = %message.message_id,
    );
    let result = accept(&service, &headers, &bytes, message)
        .instrument(span.clone())
        .await;
    let outcome = match &result {
        Ok(answer) if answer.duplicate => "duplicate",
        Ok(_) => "ok",
        Err(e) if e.status.is_client_error() => "refused",
        Err(_) => "error",
    };
    let metrics = crate::metrics::metrics();
    metrics.messages.get_or_create(&Outcome { outcome }).inc();
    if result.is_ok() {
        metrics.latency.observe(started.elapsed().as_secs_f64());
    }
    span.in_scope(|| log_outcome(outcome, started, result.as_ref().err()));
    Ok(Json(result?))
}

/// The signature and rate checks, then the engine.
async fn accept(
    service: &Service,
    headers: &HeaderMap,
    bytes: &[u8],
    message: InboundMessage,
) -> Result<Answer, ApiError> {
    let accounts = service.accounts();
    let now = service.engine.clock().now() / 1000;
    let signed = accounts
        .signing
        .get(&message.account)
        .map(|secret| super::signing::verify(secret, headers, bytes, now))
        .transpose()?;
    accounts.rate_limits.take(&message.account)?;
    if let Some(signed) = &signed {
        service.replays.remember(&message.account, signed, now)?;
    }
    Ok(Answer::from(service.engine.handle(message.into()).await?))
}

/// One line per input, inside its span (so with its conversation, account and message id).
fn log_outcome(outcome: &str, started: std::time::Instant, error: Option<&ApiError>) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match error {
        None => tracing::info!(outcome, ms, "answered"),
        Some(e) if e.status.is_server_error() => {
            tracing::error!(
                status = e.status.as_u16(),
                code = e.code,
                ms,
                "failed: {}",
                e.message
            );
        }
        Some(e) => {
            tracing::warn!(
                status = e.status.as_u16(),
                code = e.code,
                ms,
                "refused: {}",
                e.message
            );
        }
    }
}

/// `GET /metrics`: Prometheus text, from counters kept up to date (never a scan), behind the
/// API token unless `service.public_metrics`.
pub(super) async fn metrics(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
) -> Result<String, ApiError> {
    if !service.public_metrics {
        service.check_any_token(&headers)?;
    }
    Ok(with_reauthorize_needed(
        crate::metrics::encode(),
        &service.zendesk.reauthorize_needed(),
    ))
}

/// The metrics text with `scenarist_zendesk_reauthorize_needed{organization="…"} 1` for each
/// organization whose OAuth token was refused and could not be renewed (before the final
/// `# EOF`). Never the token or the reason: those are in `/readyz` and the log.
fn with_reauthorize_needed(text: String, needed: &[(String, String)]) -> String {
    use std::fmt::Write as _;
    if needed.is_empty() {
        return text;
    }
    let (mut out, eof) = match text.strip_suffix("# EOF\n") {
        Some(body) => (body.to_owned(), "# EOF\n"),
        None => (text.clone(), ""),
    };
    out.push_str("# HELP scenarist_zendesk_reauthorize_needed Zendesk organizations whose OAuth token was refused and could not be renewed: run `scenarist zendesk reauthorize ORG`.\n");
    out.push_str("# TYPE scenarist_zendesk_reauthorize_needed gauge\n");
    for (organization, _) in needed {
        let label = organization
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = writeln!(
            out,
            "scenarist_zendesk_reauthorize_needed{{organization=\"{label}\"}} 1"
        );
    }
    out.push_str(eof);
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdvisorMessage {
    message_id: String,
    advisor: AdvisorInfo,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdvisorInfo {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamBody {
    team: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ReturnBody {
    #[serde(default)]
    step: Option<String>,
}

/// `POST /v1/conversations/{id}/advisor-messages`
pub(super) async fn advisor_message(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    body: Body,
) -> Answered {
    let body: AdvisorMessage = parse(&read_body(&service, body).await?)?;
    check_id("message_id", &body.message_id).map_err(ApiError::bad_request)?;
    check_id("advisor.id", &body.advisor.id).map_err(ApiError::bad_request)?;
    let input = Input::Advisor {
        message_id: body.message_id,
        advisor_id: body.advisor.id,
        advisor_name: body.advisor.name,
        text: body.text,
    };
    apply(&service, &id, "advisor-messages", input, None).await
}

/// `POST /v1/conversations/{id}/team`
pub(super) async fn team(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answered {
    let body: TeamBody = parse(&read_body(&service, body).await?)?;
    let key = event_key(&headers, &format!("team\n{}", body.team))?;
    let input = Input::Team { team: body.team };
    apply(&service, &id, "team", input, key).await
}

/// `POST /v1/conversations/{id}/return-to-bot` (the body and its `step` are optional).
pub(super) async fn return_to_bot(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answered {
    let bytes = read_body(&service, body).await?;
    let body: ReturnBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ReturnBody::default()
    } else {
        parse(&bytes)?
    };
    let key = event_key(
        &headers,
        &format!("return-to-bot\n{}", body.step.as_deref().unwrap_or("")),
    )?;
    if let Some(step) = &body.step {
        let conversation = existing(&service, &id)?;
        if !service.engine.has_step(&conversation.version, step)? {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_step",
                format!(
                    "the scenario `{}` of this conversation has no step `{step}`",
                    conversation.scenario
                ),
            ));
        }
        let entries = service.engine.entry_points(&conversation.version)?;
        if !entries.contains(step) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_an_entry_point",
                format!(
                    "`{step}` is not an entry point of the scenario `{}`; the conversation can be handed back at {} (declare others with `entry`)",
                    conversation.scenario,
                    entries.join(", ")
                ),
            ));
        }
    }
    let input = Input::ReturnToBot { step: body.step };
    apply(&service, &id, "return-to-bot", input, key).await
}

/// `POST /v1/conversations/{id}/close`
pub(super) async fn close(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answered {
    let key = event_key(&headers, "close")?;
    apply(&service, &id, "close", Input::Close, key).await
}

/// The event's `Idempotency-Key`, if sent, with `request` (the route and the body's meaning)
/// as the fingerprint a repeat must match.
fn event_key(headers: &HeaderMap, request: &str) -> Result<Option<Delivery>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::bad_request("`Idempotency-Key` must be printable ASCII"))?;
    check_id("Idempotency-Key", key).map_err(ApiError::bad_request)?;
    Ok(Some(Delivery::event(key, request)))
}

/// An advisor's input to an existing conversation; answers like `POST /v1/messages`.
async fn apply(
    service: &Service,
    id: &str,
    route: &'static str,
    input: Input,
    key: Option<Delivery>,
) -> Answered {
    path_id(id)?;
    let started = std::time::Instant::now();
    let span = tracing::info_span!("input", conversation = %id, route);
    let result = match service
        .engine
        .apply_once(id, input, key)
        .instrument(span.clone())
        .await
    {
        Ok(Some(outcome)) => Ok(Answer::from(outcome)),
        Ok(None) => Err(EngineError::UnknownConversation(id.to_owned()).into()),
        Err(e) => Err(ApiError::from(e)),
    };
    let outcome = match &result {
        Ok(answer) if answer.duplicate => "duplicate",
        Ok(_) => "ok",
        Err(e) if e.status.is_client_error() => "refused",
        Err(_) => "error",
    };
    span.in_scope(|| log_outcome(outcome, started, result.as_ref().err()));
    Ok(Json(result?))
}

/// The conversation id of the path, checked like every id.
fn path_id(id: &str) -> Result<(), ApiError> {
    check_id("conversation id (in the path)", id).map_err(ApiError::bad_request)
}

fn existing(service: &Service, id: &str) -> Result<Conversation, ApiError> {
    path_id(id)?;
    service
        .engine
        .conversation(id)?
        .ok_or_else(|| EngineError::UnknownConversation(id.to_owned()).into())
}

/// `GET /v1/conversations/{id}`: status, step, contact, team, history and the Zendesk sync.
pub(super) async fn conversation(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> Reply {
    let conversation = existing(&service, &id)?;
    let contact = service
        .engine
        .contact(&conversation.account, &conversation.contact)?;
    let history: Vec<Json_> = service
        .engine
        .history(&conversation)?
        .iter()
        .flat_map(|turn| turn.messages.iter())
        .map(|m| {
            let (author, advisor) = match &m.author {
                Author::Contact => ("contact", None),
                Author::Bot => ("bot", None),
                Author::Advisor { id, name } => ("advisor", Some(json!({ "id": id, "name": name }))),
                Author::System => ("system", None),
            };
            let parts: Vec<ReplyPart> = m.parts.iter().map(ReplyPart::from).collect();
            json!({ "author": author, "advisor": advisor, "text": m.text, "choices": m.choices, "parts": parts, "at": iso8601(m.at) })
        })
        .collect();
    let step = match &conversation.status {
        Status::Answer { at, .. } | Status::Action { at, .. } => Some(at.step.clone()),
        _ => None,
    };
    let sync = conversation.sync.as_ref().map(|s| {
        json!({
            "organization": s.organization,
            "user_id": s.user_id,
            "ticket_id": s.ticket_id,
            "solved": s.solved,
            "last_error": s.last_error,
        })
    });
    Ok(Json(json!({
        "conversation": conversation.id,
        "account": conversation.account,
        "scenario": conversation.scenario,
        "status": conversation.status.name(),
        "step": step,
        "team": conversation.team,
        "contact": contact.map(|c| json!({
            "id": c.id,
            "name": c.name,
            "fields": c.fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>(),
            "zendesk_users": c.zendesk,
        })),
        "history": history,
        "zendesk": sync,
        "pending_effects": conversation.pending.len(),
        "dead_letters": conversation.dead.iter().map(|d| json!({ "effect": d.effect.id, "action": d.effect.action, "error": d.error })).collect::<Vec<_>>(),
    })))
}

/// `POST /v1/admin/reload`: publishes the scenarios again if they lint clean.
pub(super) async fn reload(State(service): State<Arc<Service>>) -> Reply {
    let reloaded = super::reload::reload(service).await?;
    Ok(Json(json!(reloaded)))
}

pub(super) async fn healthz() -> Json<Json_> {
    Json(json!({ "status": "ok" }))
}

/// Ready while the engine accepts messages and the service is not draining.
pub(super) async fn readyz(State(service): State<Arc<Service>>) -> Result<Json<Json_>, ApiError> {
    if let Some(reason) = service.engine.failure() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            reason,
        ));
    }
    let mut ready = json!({ "status": "ready" });
    match database_answers(&service.engine).await {
        // Each node checks the database itself: a load balancer sees which ones reach it.
        Ok(true) => ready["database"] = json!("answers"),
        Ok(false) => {}
        Err(reason) => {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unreachable",
                reason,
            );
            error.retry_after = Some(2);
            return Err(error);
        }
    }
    // Intake still works: a broken Zendesk connection is reported, not a reason to stop
    // routing messages here.
    let reauthorize = service.zendesk.reauthorize_needed();
    if reauthorize.is_empty() {
        return Ok(Json(ready));
    }
    let organizations: Vec<Json_> = reauthorize
        .into_iter()
        .map(|(organization, reason)| {
            json!({
                "organization": organization,
                "reason": reason,
                "fix": format!("scenarist zendesk reauthorize {organization}"),
            })
        })
        .collect();
    ready["zendesk_reauthorize"] = json!(organizations);
    Ok(Json(ready))
}

/// For a store on a database server: whether it answers now (a `SELECT 1`, waited for
/// briefly and reused for a second, so probes never load the database): `true` when it did,
/// `false` for a store that is no database server. What is wrong, in plain words (never the
/// URL) when it does not.
async fn database_answers(engine: &crate::runtime::Engine) -> Result<bool, String> {
    let store = Arc::clone(engine.store());
    if !store.backend().shared() {
        return Ok(false);
    }
    let answer = tokio::task::spawn_blocking(move || store.backend().ping())
        .await
        .map_err(|_| "the check of the database stopped unexpectedly".to_owned())?;
    answer.map(|()| true).map_err(|error| {
        if error.is_transient() {
            "the database does not answer (it is down, restarting or out of reach); this node \
             takes requests again by itself once it answers"
                .to_owned()
        } else {
            error.plain()
        }
    })
}

pub(super) async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this endpoint does not take {method}; the `Allow` header lists what it takes"),
    )
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; the API is described in schemas/openapi.yaml",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_name_each_organization_that_needs_reauthorize_before_the_end_marker() {
        let text = "# HELP a b\n# TYPE a counter\na_total 1\n# EOF\n".to_owned();
        assert_eq!(with_reauthorize_needed(text.clone(), &[]), text);
        let needed = [
            (
                "acme".to_owned(),
                "the refresh token was not accepted".to_owned(),
            ),
            ("odd\"name".to_owned(), String::new()),
        ];
        let out = with_reauthorize_needed(text, &needed);
        assert!(
            out.ends_with(
                "scenarist_zendesk_reauthorize_needed{organization=\"acme\"} 1\n\
             scenarist_zendesk_reauthorize_needed{organization=\"odd\\\"name\"} 1\n# EOF\n"
            ),
            "{out}"
        );
        assert!(out.contains("# TYPE scenarist_zendesk_reauthorize_needed gauge\n"));
        assert!(
            !out.contains("not accepted"),
            "the reason stays in /readyz and the log"
        );
    }
}
