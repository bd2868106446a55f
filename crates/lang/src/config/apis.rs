//! `apis:`, the brand's own HTTP APIs and the actions a scenario may `call` on them
//! (`call oms.get_order(number: …) as order`). Each API has a fixed base URL (the host never
//! comes from a scenario), an authentication read from the environment, a timeout and a retry
//! policy; each action a method, a path template whose `{placeholders}` are parameters, the
//! parameters sent as query values or as a JSON body, and the result's typed fields, each read
//! from the answer by a JSON pointer.
//!
//! This module holds the shape (what serde reads), the path template (`template`, also used by
//! the connector that fills it) and the checks the shape cannot express (`problems`, codes
//! `W410`–`W414`, each located in the file). The signature a declared action has for the
//! checker is `crate::declared`'s.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::base_url::{BaseUrl, UrlProblem};
use super::locate::locate;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::SourceFile;
use crate::types::FieldType;

/// `base_url: sandbox`: the built-in demo order system, which the process that runs the
/// scenarios starts on loopback (for the offline example; never for production).
pub const SANDBOX: &str = "sandbox";

/// Whether a base URL names the demo order system (`sandbox`, or `"sandbox:"` as the
/// Zendesk sandboxes are sometimes written).
pub fn is_sandbox(base_url: &str) -> bool {
    matches!(base_url.trim(), "sandbox" | "sandbox:")
}

/// One API of the brand (`apis.oms`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// `https://oms.example.com/api`: scheme, host, port and an optional path prefix.
    pub base_url: String,
    /// How requests authenticate; absent: no credentials are sent.
    #[serde(default)]
    pub auth: Option<ApiAuth>,
    /// How long one request may take, connection included.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub retry: ApiRetry,
    #[serde(default)]
    pub actions: BTreeMap<String, HttpAction>,
}

/// `auth: { bearer_env: OMS_TOKEN }` (`Authorization: Bearer …`) or
/// `auth: { header: X-Api-Key, header_env: OMS_KEY }`; the secret is in the environment.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiAuth {
    #[serde(default)]
    pub bearer_env: Option<String>,
    /// The header that carries the secret of `header_env`.
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub header_env: Option<String>,
}

/// Retryable failures (no connection, a timeout, 429, 5xx) are tried `attempts` times in all,
/// the waits between them starting at `backoff_ms` and doubling.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiRetry {
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
}

impl Default for ApiRetry {
    fn default() -> Self {
        Self {
            attempts: default_attempts(),
            backoff_ms: default_backoff_ms(),
        }
    }
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_attempts() -> u32 {
    3
}

fn default_backoff_ms() -> u64 {
    500
}

/// One action of an API (`apis.oms.actions.get_order`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpAction {
    pub method: HttpMethod,
    /// `/orders/{number}`: appended to the base URL; each `{param}` is filled with the
    /// parameter's value, percent-encoded, inside its path segment.
    pub path: String,
    /// Parameters sent as query values (`?locale=fr`).
    #[serde(default)]
    pub query: Vec<String>,
    /// Parameters sent as the members of a JSON object body (POST, PUT, PATCH).
    #[serde(default)]
    pub body: Vec<String>,
    /// Parameter name → type (`number: text` or `{ type: text, required: false }`).
    #[serde(default)]
    pub params: BTreeMap<String, ApiParam>,
    /// Result field → its type and where it is in the answer (`{ type: text, pointer: /status }`).
    #[serde(default)]
    pub result: BTreeMap<String, ResultField>,
    /// One sentence for other admins.
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether requests with this method carry a body.
    pub fn has_body(self) -> bool {
        matches!(self, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch)
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(
    untagged,
    expecting = "not a parameter type (use text, email, phone, number, date or bool, or `{ type: …, required: false }`)"
)]
pub enum ApiParam {
    Short(FieldType),
    Full(ApiParamDetail),
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiParamDetail {
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}

impl ApiParam {
    pub fn kind(&self) -> FieldType {
        match self {
            ApiParam::Short(kind) => *kind,
            ApiParam::Full(detail) => detail.kind,
        }
    }

    pub fn required(&self) -> bool {
        match self {
            ApiParam::Short(_) => true,
            ApiParam::Full(detail) => detail.required,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResultField {
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// A JSON pointer (RFC 6901) into the answer: `/delivery/eta`.
    pub pointer: String,
}

/// A piece of a path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text sent as written.
    Literal(String),
    /// `{name}`: the parameter's value, percent-encoded.
    Param(String),
}

/// Why a path template is refused; each completes "the path of `oms.get_order` …".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateProblem {
    #[error("does not start with `/`")]
    NoSlash,
    #[error("has `{0}`; send query values with `query:`, not in the path")]
    Query(char),
    #[error("has a `{{` that is not closed by `}}`")]
    Unclosed,
    #[error("has a `}}` without its `{{`")]
    Unopened,
    #[error("has `{{{0}}}`, which is not a parameter name (letters, digits and `_`)")]
    BadName(String),
    #[error("has a `.` or `..` segment, which would leave the path it names")]
    DotSegment,
    #[error("has `//`, an empty segment")]
    EmptySegment,
    #[error(
        "has {0:?}, which a URL path cannot hold as written (percent-encode it, such as `%20` for a space)"
    )]
    Character(char),
}

/// Splits a path template (`/orders/{number}/lines`) into literal text and placeholders.
pub fn template(path: &str) -> Result<Vec<Piece>, TemplateProblem> {
    if !path.starts_with('/') {
        return Err(TemplateProblem::NoSlash);
    }
    if let Some(c) = path.chars().find(|c| matches!(c, '?' | '#')) {
        return Err(TemplateProblem::Query(c));
    }
    // RFC 3986 `pchar`s, `/`, and the braces of placeholders: what is sent as written.
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%/{}".contains(*c)))
    {
        return Err(TemplateProblem::Character(c));
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        if matches!(*segment, "." | "..") {
            return Err(TemplateProblem::DotSegment);
        }
        if segment.is_empty() && i + 1 < segments.len() {
            return Err(TemplateProblem::EmptySegment);
        }
    }
    let mut pieces = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let open = rest.find('{');
        let close = rest.find('}');
        match (open, close) {
            (None, None) => {
                pieces.push(Piece::Literal(rest.to_owned()));
                break;
            }
            (None, Some(_)) => return Err(TemplateProblem::Unopened),
            (Some(_), None) => return Err(TemplateProblem::Unclosed),
            (Some(open), Some(close)) if close < open => return Err(TemplateProblem::Unopened),
            (Some(open), Some(close)) => {
                let name = &rest[open + 1..close];
                if !is_identifier(name) {
                    return Err(if name.contains('{') {
                        TemplateProblem::Unclosed
                    } else {
                        TemplateProblem::BadName(name.to_owned())
                    });
                }
                if open > 0 {
                    pieces.push(Piece::Literal(rest[..open].to_owned()));
                }
                pieces.push(Piece::Param(name.to_owned()));
                rest = &rest[close + 1..];
            }
        }
    }
    Ok(pieces)
}

/// `get_order`: what a scenario can write after `call oms.`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Why a JSON pointer is refused (RFC 6901: empty, or `/` then reference tokens, `~` only
/// as `~0` or `~1`).
pub fn pointer_problem(pointer: &str) -> Option<&'static str> {
    if pointer.is_empty() {
        return Some("is empty; point at a value inside the answer, such as `/status`");
    }
    if !pointer.starts_with('/') {
        return Some("does not start with `/`");
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Some("has a `~` not followed by 0 or 1 (write `~0` for `~` and `~1` for `/`)");
        }
    }
    None
}

/// The names an API may not have: the roots scenarios already use for other things.
const RESERVED_APIS: &[&str] = &["zendesk", "contact", "conversation", "answer", "http"];

/// The checks of `apis:` (see the module doc), each finding located at its key.
pub(super) fn problems(apis: &BTreeMap<String, Api>, file: &SourceFile) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut problem = |code: Code, path: &[&str], message: String, help: &str| {
        problems.push(
            Diagnostic::new(code, locate(file.text(), path), message).with_help(help.to_owned()),
        );
    };
    for (name, api) in apis {
        if !is_identifier(name) || RESERVED_APIS.contains(&name.as_str()) {
            problem(
                Code::ApiInvalid,
                &["apis", name],
                format!("`{name}` cannot name an API: scenarios would call `{name}.…`"),
                "use lower-case letters, digits and `_`, and a name other than zendesk, contact, conversation, answer or http",
            );
        }
        let checked = if is_sandbox(&api.base_url) {
            Ok(())
        } else {
            api_url(&api.base_url).map(drop)
        };
        if let Err(reason) = checked {
            problem(
                Code::ApiUrl,
                &["apis", name, "base_url"],
                format!("the base URL of `{name}` {reason}"),
                "write the scheme, host, port and path prefix only, such as `https://oms.example.com/api` (`http://` only for 127.0.0.1, [::1] or localhost); placeholders go in each action's `path`, credentials under `auth`",
            );
        }
        settings_problems(name, api, &mut problem);
        for (action_name, action) in &api.actions {
            let at = ["apis", name, "actions", action_name];
            if !is_identifier(action_name) {
                problem(
                    Code::ApiInvalid,
                    &at,
                    format!(
                        "`{action_name}` cannot name an action: scenarios would call `{name}.{action_name}`"
                    ),
                    "use lower-case letters, digits and `_`",
                );
            }
            action_problems(&at, action, &mut problem);
        }
    }
    problems
}

/// The base URL of an API: a checked URL with a path prefix allowed (`BaseUrl` otherwise),
/// without a trailing `/`.
pub fn api_url(text: &str) -> Result<String, UrlProblem> {
    if text.contains(['{', '}']) {
        return Err(UrlProblem::Unreadable(
            "a `{placeholder}` in the base URL: the host and the prefix are fixed".into(),
        ));
    }
    let parsed = url::Url::parse(text).map_err(|e| UrlProblem::Unreadable(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlProblem::Scheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlProblem::Userinfo);
    }
    // The scheme, host and port follow the rule of Zendesk URLs (http only to loopback).
    BaseUrl::parse(&parsed.origin().ascii_serialization())?;
    if parsed.query().is_some() {
        return Err(UrlProblem::Query);
    }
    if parsed.fragment().is_some() {
        return Err(UrlProblem::Fragment);
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn settings_problems(name: &str, api: &Api, problem: &mut impl FnMut(Code, &[&str], String, &str)) {
    if !(100..=60_000).contains(&api.timeout_ms) {
        problem(
            Code::ApiInvalid,
            &["apis", name, "timeout_ms"],
            format!("`timeout_ms` of `{name}` is {} ms", api.timeout_ms),
            "use between 100 and 60000 (the default is 10000)",
        );
    }
    if !(1..=10).contains(&api.retry.attempts) {
        problem(
            Code::ApiInvalid,
            &["apis", name, "retry", "attempts"],
            format!("`retry.attempts` of `{name}` is {}", api.retry.attempts),
            "use between 1 (no retry) and 10 (the default is 3)",
        );
    }
    if !(10..=60_000).contains(&api.retry.backoff_ms) {
        problem(
            Code::ApiInvalid,
            &["apis", name, "retry", "backoff_ms"],
            format!(
                "`retry.backoff_ms` of `{name}` is {} ms",
                api.retry.backoff_ms
            ),
            "use between 10 and 60000 (the default is 500)",
        );
    }
    if let Some(auth) = &api.auth {
        let env_ok = |env: &str| {
            !env.is_empty() && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let reason = match (&auth.bearer_env, &auth.header, &auth.header_env) {
            (Some(env), None, None) | (None, Some(_), Some(env)) if !env_ok(env) => {
                Some(format!("`{env}` is not an environment variable name"))
            }
            (None, Some(header), Some(_)) if !is_header_name(header) => Some(format!(
                "`{header}` is not a header Scenarist may set with a secret"
            )),
            (Some(_), None, None) | (None, Some(_), Some(_)) => None,
            _ => Some("needs either `bearer_env` alone, or `header` with `header_env`".to_owned()),
        };
        if let Some(reason) = reason {
            problem(
                Code::ApiInvalid,
                &["apis", name, "auth"],
                format!("the `auth` of `{name}` {reason}"),
                "write `auth: { bearer_env: OMS_TOKEN }` or `auth: { header: X-Api-Key, header_env: OMS_KEY }`: the secret stays in the environment",
            );
        }
    }
}

/// A header token (RFC 9110) that is not one the connector sets itself.
fn is_header_name(name: &str) -> bool {
    const OWN: &[&str] = &[
        "host",
        "content-type",
        "content-length",
        "idempotency-key",
        "transfer-encoding",
        "connection",
        "accept",
        "user-agent",
    ];
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
        && !OWN.contains(&name.to_ascii_lowercase().as_str())
}

fn action_problems(
    at: &[&str],
    action: &HttpAction,
    problem: &mut impl FnMut(Code, &[&str], String, &str),
) {
    let name = format!("{}.{}", at[1], at[3]);
    let with = |key: &'static str| -> Vec<&str> {
        let mut path = at.to_vec();
        path.push(key);
        path
    };
    let mut in_path = BTreeSet::new();
    match template(&action.path) {
        Err(reason) => problem(
            Code::ApiPath,
            &with("path"),
            format!("the path of `{name}` {reason}"),
            "write a path such as `/orders/{number}`, each `{…}` a parameter declared under `params`",
        ),
        Ok(pieces) => {
            for piece in pieces {
                let Piece::Param(param) = piece else { continue };
                match action.params.get(&param) {
                    None => problem(
                        Code::ApiPath,
                        &with("path"),
                        format!(
                            "the path of `{name}` has `{{{param}}}`, which is not one of its `params`"
                        ),
                        &did_you_mean(&param, action.params.keys().map(String::as_str))
                            .unwrap_or_else(|| format!("declare `{param}` under `params`")),
                    ),
                    Some(spec) if !spec.required() => problem(
                        Code::ApiPath,
                        &with("path"),
                        format!("`{param}` fills the path of `{name}` but is optional"),
                        "a path cannot leave a segment out: make the parameter required, or send it with `query:`",
                    ),
                    Some(_) => {}
                }
                in_path.insert(param);
            }
        }
    }
    let mut sent: BTreeMap<&str, &str> = in_path.iter().map(|p| (p.as_str(), "path")).collect();
    for (list, names) in [("query", &action.query), ("body", &action.body)] {
        for param in names {
            if !action.params.contains_key(param) {
                problem(
                    Code::ApiParam,
                    &with(list),
                    format!(
                        "`{list}` of `{name}` names `{param}`, which is not one of its `params`"
                    ),
                    &did_you_mean(param, action.params.keys().map(String::as_str))
                        .unwrap_or_else(|| format!("declare `{param}` under `params`")),
                );
            } else if let Some(first) = sent.insert(param, list) {
                problem(
                    Code::ApiParam,
                    &with(list),
                    format!(
                        "`{param}` of `{name}` is sent twice, in the {first} and in the {list}"
                    ),
                    "send each parameter one way",
                );
            }
        }
    }
    if !action.body.is_empty() && !action.method.has_body() {
        problem(
            Code::ApiParam,
            &with("body"),
            format!(
                "`{name}` is a {} request, which has no body",
                action.method.as_str()
            ),
            "send these parameters with `query:`, or use POST, PUT or PATCH",
        );
    }
    for param in action.params.keys() {
        if !sent.contains_key(param.as_str()) {
            problem(
                Code::ApiParam,
                &["apis", at[1], "actions", at[3], "params", param],
                format!("the parameter `{param}` of `{name}` is sent nowhere"),
                "use it in the `path` as `{…}`, list it under `query` or `body`, or remove it",
            );
        }
    }
    for (field, spec) in &action.result {
        if let Some(reason) = pointer_problem(&spec.pointer) {
            problem(
                Code::ApiPointer,
                &["apis", at[1], "actions", at[3], "result", field],
                format!("the pointer of `{field}` in `{name}` {reason}"),
                "write a JSON pointer such as `/status` or `/delivery/eta` (RFC 6901)",
            );
        }
        if !is_identifier(field) {
            problem(
                Code::ApiInvalid,
                &["apis", at[1], "actions", at[3], "result", field],
                format!("`{field}` cannot name a result field of `{name}`"),
                "use lower-case letters, digits and `_`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_into_literals_and_params() {
        assert_eq!(
            template("/orders/{number}/lines").unwrap(),
            vec![
                Piece::Literal("/orders/".into()),
                Piece::Param("number".into()),
                Piece::Literal("/lines".into()),
            ]
        );
        assert_eq!(template("/"), Ok(vec![Piece::Literal("/".into())]));
        for (bad, problem) in [
            ("orders", TemplateProblem::NoSlash),
            ("/orders?x=1", TemplateProblem::Query('?')),
            ("/orders/{number", TemplateProblem::Unclosed),
            ("/orders/number}", TemplateProblem::Unopened),
            (
                "/orders/{Number}",
                TemplateProblem::BadName("Number".into()),
            ),
            ("/orders/{}", TemplateProblem::BadName(String::new())),
            ("/orders/../admin", TemplateProblem::DotSegment),
            ("/orders//x", TemplateProblem::EmptySegment),
            ("/my orders/{n}", TemplateProblem::Character(' ')),
            ("/commandes/é", TemplateProblem::Character('é')),
        ] {
            assert_eq!(template(bad), Err(problem), "{bad}");
        }
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        assert_eq!(pointer_problem("/status"), None);
        assert_eq!(pointer_problem("/a~1b/~0c/0"), None);
        assert!(pointer_problem("").is_some());
        assert!(pointer_problem("status").is_some());
        assert!(pointer_problem("/a~2").is_some());
        assert!(pointer_problem("/a~").is_some());
    }

    #[test]
    fn base_urls_are_fixed_hosts() {
        assert_eq!(
            api_url("https://oms.example.com/api/").unwrap(),
            "https://oms.example.com/api"
        );
        assert_eq!(
            api_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        for (bad, problem) in [
            ("http://oms.example.com", UrlProblem::PlainHttp),
            ("https://u:p@oms.example.com", UrlProblem::Userinfo),
            ("https://oms.example.com/api?k=1", UrlProblem::Query),
            ("ftp://oms.example.com", UrlProblem::Scheme),
        ] {
            assert_eq!(api_url(bad), Err(problem), "{bad}");
        }
        assert!(is_sandbox("sandbox") && is_sandbox("sandbox:"));
        assert!(!is_sandbox("sandbox.example.com"));
        assert!(
            api_url("sandbox").is_err(),
            "only `problems` lets it through"
        );
        assert!(api_url("https://{shop}.example.com").is_err());
        assert!(api_url("https://oms.example.com/{shop}").is_err());
    }
}
