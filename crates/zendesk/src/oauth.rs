//! Connecting an organization with OAuth (zendesk-api.md §1.3), as `scenarist zendesk
//! connect` and `reauthorize` run it:
//!
//! 1. `authorize_url`: the page the admin opens, asking for `read write` and carrying a
//!    random `state` (`new_state`) and a PKCE challenge (`Pkce`, S256: the SHA-256 of a
//!    random verifier that only this process knows), both from the operating system's
//!    CSPRNG;
//! 2. `receive_code`: a one-shot HTTP listener on loopback takes the browser's redirect to
//!    `redirect_uri?code=…&state=…`, answers a small page, and refuses a `state` it did not
//!    issue (CSRF) or the `error` Zendesk sent instead of a code;
//! 3. `exchange_code`: `POST {base}/oauth/tokens` (JSON body) trades the code — single-use,
//!    valid 120 s — and the PKCE verifier for an access token, so a code stolen on its way
//!    back (another program on this machine listening first, a leaked browser history) is
//!    worthless without the verifier. No `expires_in` is asked for (Zendesk's default is a
//!    token that does not expire), but whatever Zendesk sends — a refresh token, lifetimes —
//!    is kept. It goes to the checked instance URL only (`BaseUrl::endpoint`), follows no
//!    redirect and reads at most 64 KiB of answer;
//! 4. the token set is written by `TokenSet::write` (0600, folder 0700, atomic, never
//!    through a symlink) to `token_path`, and the connection is recorded the same way in
//!    `<data_dir>/zendesk/connections.json` (`Connections`), which `zendesk list` reads for
//!    the "connected on" date.
//!
//! `refresh` trades the refresh token for a new pair when Zendesk refuses an expired access
//! token (`session::TokenSession` decides when, and keeps the new pair).
//!
//! The token exchange uses reqwest directly: it is the one Zendesk call made without
//! credentials, so it does not go through `ZendeskClient`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::client::{ZendeskError, read_body};
use super::organization_name::{self, OrganizationNameError};
use super::secret::Secret;
use super::token_file::TokenSet;
use scenarist_lang::config::base_url::BaseUrl;

/// What Scenarist asks for: reading and writing users and tickets.
pub const SCOPE: &str = "read write";
/// The longest request head the callback listener reads.
const MAX_REQUEST: usize = 16 * 1024;
/// The longest answer to the token exchange read (a token and a few fields; or an error).
const MAX_TOKEN_ANSWER: usize = 64 * 1024;
/// Random bytes in a `state` and in a PKCE verifier (RFC 7636 §7.1 asks 32 for the verifier;
/// base64url makes them 43 characters, the shortest verifier RFC 7636 §4.1 allows).
pub const RANDOM_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Nobody completed the authorization in time (the browser never came back).
    #[error(
        "no authorization arrived within {0} seconds; open the URL again, or run the command again"
    )]
    Timeout(u64),
    /// Zendesk redirected with `error=access_denied` (the admin clicked "Deny") or another
    /// refusal.
    #[error("Zendesk did not authorize Scenarist: {0}")]
    Denied(String),
    /// The callback carried a `state` this run did not issue: a stale tab or a forged
    /// request.
    #[error(
        "the authorization that came back is not the one this command started (its `state` does not match); nothing was stored — run the command again and use the URL it prints"
    )]
    StateMismatch,
    /// The callback had neither a code nor an error.
    #[error("the browser came back without an authorization code")]
    NoCode,
    /// `POST /oauth/tokens` answered with an error (`invalid_grant`, `invalid_client`…).
    #[error("Zendesk refused to issue a token: {0}")]
    Exchange(String),
    #[error("no answer from Zendesk: {0}")]
    Transport(String),
    #[error("unexpected answer from Zendesk: {0}")]
    Decode(String),
    #[error("the local callback listener failed: {0}")]
    Io(#[from] std::io::Error),
    /// The operating system gave no random bytes for the `state` or the PKCE verifier.
    #[error("the operating system's random number generator failed: {0}; nothing was sent")]
    Random(String),
}

/// The page that asks the admin to authorize Scenarist, with the PKCE challenge
/// (`code_challenge_method=S256`, zendesk-api.md §1.3).
pub fn authorize_url(
    base: &BaseUrl,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    pkce: &Pkce,
) -> String {
    format!(
        "{}/oauth/authorizations/new?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
        base.as_str(),
        encode(client_id),
        encode(redirect_uri),
        encode(SCOPE),
        encode(state),
        encode(pkce.challenge()),
    )
}

/// [`RANDOM_BYTES`] bytes from the operating system's CSPRNG, base64url without padding.
fn random_text() -> Result<String, OAuthError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| OAuthError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh, unguessable `state` (CSRF protection of the callback).
pub fn new_state() -> Result<String, OAuthError> {
    random_text()
}

/// A PKCE pair (RFC 7636, method S256): the verifier stays in this process until the token
/// exchange; the challenge, `BASE64URL-no-pad(SHA-256(verifier))`, goes in the authorize URL.
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A pair with a fresh random verifier.
    pub fn new() -> Result<Self, OAuthError> {
        Ok(Self::from_verifier(Secret::new(random_text()?)))
    }

    fn from_verifier(verifier: Secret) -> Self {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }

    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }
}

/// Waits for the browser's redirect on `listener` and returns the authorization code.
/// Requests that are not the callback (a favicon) get a 404 and the wait goes on.
pub async fn receive_code(
    listener: TcpListener,
    state: &str,
    timeout: Duration,
) -> Result<String, OAuthError> {
    match tokio::time::timeout(timeout, accept_callback(&listener, state)).await {
        Ok(result) => result,
        Err(_) => Err(OAuthError::Timeout(timeout.as_secs())),
    }
}

async fn accept_callback(listener: &TcpListener, state: &str) -> Result<String, OAuthError> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        // A connection that says nothing (a browser's speculative one) is not the callback.
        let Ok(Ok(head)) =
            tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream)).await
        else {
            continue;
        };
        let target = head
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("");
        let params = query(target);
        let get = |key: &str| params.get(key).map(String::as_str);
        if get("code").is_none() && get("error").is_none() && get("state").is_none() {
            respond(
                &mut stream,
                "404 Not Found",
                "Not found",
                "This is not the page Scenarist waits on.",
            )
            .await;
            continue;
        }
        if get("state") != Some(state) {
            respond(
                &mut stream,
                "400 Bad Request",
                "Authorization refused",
                "This authorization does not belong to the one Scenarist started. Nothing was stored. You can close this window.",
            )
            .await;
            return Err(OAuthError::StateMismatch);
        }
        if let Some(error) = get("error") {
            let description = get("error_description").unwrap_or("");
            let reason = denial(error, description);
            respond(
                &mut stream,
                "200 OK",
                "Scenarist was not authorized",
                &format!("{reason}. You can close this window."),
            )
            .await;
            return Err(OAuthError::Denied(reason));
        }
        let Some(code) = get("code").filter(|c| !c.is_empty()) else {
            respond(
                &mut stream,
                "400 Bad Request",
                "No code",
                "Zendesk sent no authorization code. You can close this window.",
            )
            .await;
            return Err(OAuthError::NoCode);
        };
        respond(
            &mut stream,
            "200 OK",
            "Scenarist is authorized",
            "Scenarist received the authorization. You can close this window and go back to the terminal.",
        )
        .await;
        return Ok(code.to_owned());
    }
}

/// Reads up to the end of the request head.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 2048];
    while !bytes.windows(4).any(|w| w == b"\r\n\r\n") && bytes.len() < MAX_REQUEST {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(buffer.get(..read).unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{}</p></body></html>\n",
        html_escape(text)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    // The browser may be gone already; the code counts either way.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Zendesk's `error` and `error_description`, in plain words.
fn denial(error: &str, description: &str) -> String {
    let plain = match error {
        "access_denied" => {
            "the authorization was refused in Zendesk (\"Deny\" was clicked, or this Zendesk user may not grant access)"
        }
        "invalid_client" | "unauthorized_client" => {
            "Zendesk does not know this OAuth client id (create the OAuth client in Admin Center → Apps and integrations → APIs → OAuth Clients, or pass --client-id)"
        }
        "invalid_scope" => "Zendesk refused the requested scope `read write`",
        "unsupported_response_type" => {
            "Zendesk refused the authorization-code flow for this client"
        }
        "redirect_uri_mismatch" | "invalid_redirect_uri" => {
            "the redirect URL is not one registered for this OAuth client (register the printed callback URL, with a fixed --port)"
        }
        _ => "Zendesk refused the authorization",
    };
    if description.is_empty() {
        format!("{plain} ({error})")
    } else {
        format!("{plain}; Zendesk said: \"{description}\" ({error})")
    }
}

/// Trades an authorization code and the PKCE verifier of its authorize URL for an access
/// token, with the refresh token and lifetimes Zendesk sent along.
pub async fn exchange_code(
    base: &BaseUrl,
    client_id: &str,
    client_secret: &Secret,
    code: &str,
    redirect_uri: &str,
    code_verifier: &Secret,
) -> Result<TokenSet, OAuthError> {
    let body = json!({
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret.expose(),
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "code_verifier": code_verifier.expose(),
    });
    token_request(base, &body, Grant::Code).await
}

/// Trades a refresh token for a new access token and a new refresh token (zendesk-api.md
/// §1.3 step 4): Zendesk invalidates both old ones, so the caller must keep the new pair.
pub async fn refresh(
    base: &BaseUrl,
    client_id: &str,
    client_secret: &Secret,
    refresh_token: &Secret,
) -> Result<TokenSet, OAuthError> {
    let body = json!({
        "grant_type": "refresh_token",
        "refresh_token": refresh_token.expose(),
        "client_id": client_id,
        "client_secret": client_secret.expose(),
    });
    token_request(base, &body, Grant::Refresh).await
}

/// Which grant a token request carries (its refusals read differently).
#[derive(Clone, Copy)]
enum Grant {
    Code,
    Refresh,
}

/// `POST {base}/oauth/tokens` with `body`; the answer as a token set whose expiry times are
/// counted from now.
async fn token_request(base: &BaseUrl, body: &Value, grant: Grant) -> Result<TokenSet, OAuthError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("scenarist/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| OAuthError::Transport(e.to_string()))?;
    let endpoint = base
        .endpoint("/oauth/tokens")
        .map_err(|e| OAuthError::Transport(e.to_string()))?;
    let response = http
        .post(endpoint)
        .header("Accept", "application/json")
        .json(body)
        .send()
        .await
        .map_err(|e| OAuthError::Transport(e.to_string()))?;
    let status = response.status();
    let bytes = read_body(response, MAX_TOKEN_ANSWER)
        .await
        .map_err(|e| match e {
            ZendeskError::Transport { message, .. } => OAuthError::Transport(message),
            other => OAuthError::Decode(other.to_string()),
        })?;
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
    if status.is_server_error() || status.as_u16() == 429 {
        // Zendesk could not answer now: worth trying again, the refresh token still stands.
        return Err(OAuthError::Transport(format!(
            "Zendesk answered HTTP {}",
            status.as_u16()
        )));
    }
    if !status.is_success() {
        let error = json
            .as_ref()
            .and_then(|j| j["error"].as_str())
            .unwrap_or("");
        let description = json
            .as_ref()
            .and_then(|j| j["error_description"].as_str())
            .unwrap_or("");
        return Err(OAuthError::Exchange(exchange_problem(
            status.as_u16(),
            error,
            description,
            grant,
        )));
    }
    let json = json.unwrap_or_default();
    let access = json["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| OAuthError::Decode("the token answer has no access_token".into()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let after = |key: &str| {
        json[key]
            .as_i64()
            .map(|seconds| now.saturating_add(seconds))
    };
    Ok(TokenSet {
        access,
        refresh: json["refresh_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        expires_at: after("expires_in"),
        refresh_expires_at: after("refresh_token_expires_in"),
    })
}

fn exchange_problem(status: u16, error: &str, description: &str, grant: Grant) -> String {
    let plain = match error {
        "invalid_grant" if matches!(grant, Grant::Refresh) => {
            "the refresh token was not accepted (it expired, was revoked, or was already used)"
        }
        "invalid_grant" => {
            "the authorization code was not accepted (a code works once and expires after 120 seconds; run the command again)"
        }
        "invalid_client" => {
            "the OAuth client id or secret is wrong (check the client secret's environment variable)"
        }
        "unsupported_grant_type" => "this OAuth client may not use the authorization-code flow",
        "" => "",
        _ => "the token request was refused",
    };
    match (plain.is_empty(), description.is_empty()) {
        (true, _) => format!("HTTP {status}"),
        (false, true) => format!("{plain} (HTTP {status}, {error})"),
        (false, false) => {
            format!("{plain}; Zendesk said: \"{description}\" (HTTP {status}, {error})")
        }
    }
}

/// Where an organization's OAuth token is kept: `<data_dir>/zendesk/<org>.token`. A name that
/// could leave that folder or make an odd file name is refused (`organization_name`).
pub fn token_path(data_dir: &Path, organization: &str) -> Result<PathBuf, OrganizationNameError> {
    let name = organization_name::check(organization)?;
    Ok(data_dir.join("zendesk").join(format!("{name}.token")))
}

/// The connection registry: which organizations were connected, when and as whom.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    #[serde(default)]
    pub organizations: BTreeMap<String, Connection>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub url: String,
    /// ISO 8601 UTC.
    pub connected_at: String,
    /// `oauth` or `api_token`.
    #[serde(default)]
    pub auth: String,
    /// The Zendesk user the credentials act as (`users/me`).
    #[serde(default)]
    pub agent_name: String,
    #[serde(default)]
    pub agent_email: Option<String>,
    /// When `reauthorize` last replaced the token (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reauthorized_at: Option<String>,
}

impl Connections {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("zendesk").join("connections.json")
    }

    /// The registry of `data_dir`; empty when there is none yet.
    pub fn load(data_dir: &Path) -> std::io::Result<Self> {
        let path = Self::path(data_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => return Err(error),
        };
        serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a connection registry: {e}", path.display()),
            )
        })
    }

    /// Writes the registry like a secret (`private_file::write`: owner-only, atomic, never
    /// through a symlink or a leftover temp file), so a crash never leaves half a file.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        text.push(b'\n');
        scenarist_base::private_file::write(&Self::path(data_dir), &text)
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(decoded) = hex {
                    out.push(decoded);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a request target (`/callback?code=…&state=…`).
fn query(target: &str) -> BTreeMap<String, String> {
    let Some((_, query)) = target.split_once('?') else {
        return BTreeMap::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_url_is_encoded_and_carries_the_pkce_challenge() {
        let pkce = Pkce::from_verifier(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        let url = authorize_url(
            &BaseUrl::parse("https://acme.zendesk.com/").unwrap(),
            "scenarist app",
            "http://127.0.0.1:8790/callback",
            "a&b=c",
            &pkce,
        );
        // RFC 7636 appendix B's example pair.
        assert_eq!(
            url,
            "https://acme.zendesk.com/oauth/authorizations/new?response_type=code\
             &client_id=scenarist%20app\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8790%2Fcallback\
             &scope=read%20write&state=a%26b%3Dc\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256"
        );
        assert_eq!(decode("http%3A%2F%2Fx%2Fy+z%zz"), "http://x/y z%zz");
        assert_eq!(query("/callback?code=ab%2Bc&state=s")["code"], "ab+c");
    }

    /// 43 characters of base64url: 32 random bytes, none of them left out.
    fn assert_random_text(text: &str) {
        assert_eq!(text.len(), 43, "{text}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(text).unwrap().len(), RANDOM_BYTES);
    }

    #[test]
    fn states_and_verifiers_are_32_random_bytes() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..64 {
            let state = new_state().unwrap();
            assert_random_text(&state);
            let pkce = Pkce::new().unwrap();
            assert_random_text(pkce.verifier().expose());
            assert_eq!(
                pkce.challenge(),
                URL_SAFE_NO_PAD.encode(Sha256::digest(pkce.verifier().expose().as_bytes()))
            );
            assert!(seen.insert(state));
            assert!(seen.insert(pkce.verifier().expose().to_owned()));
        }
        // Over 128 values, every one of the 64 alphabet characters turns up at some position
        // (a counter or a clock in hex would show 16 at most).
        let alphabet: std::collections::BTreeSet<char> =
            seen.iter().flat_map(|t| t.chars()).collect();
        assert_eq!(alphabet.len(), 64, "{alphabet:?}");
    }

    #[test]
    fn token_files_stay_in_their_folder() {
        assert_eq!(
            token_path(Path::new("data"), "acme-shop_2").unwrap(),
            Path::new("data/zendesk/acme-shop_2.token")
        );
        for name in ["../acme", "a/b", "a\0b", "", ".."] {
            let error = token_path(Path::new("data"), name).unwrap_err();
            assert_eq!(error.name, name);
        }
    }

    #[test]
    fn the_registry_round_trips_owner_only_and_never_through_a_symlink() {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "scenarist-oauth-{}",
            scenarist_base::hex::encode(&random)
        ));
        assert_eq!(Connections::load(&dir).unwrap(), Connections::default());
        // The old writer's temp file, planted as a symlink: it must not be followed.
        let victim = std::env::temp_dir().join(format!(
            "scenarist-oauth-victim-{}",
            scenarist_base::hex::encode(&random)
        ));
        std::fs::write(&victim, "untouched\n").unwrap();
        std::fs::create_dir_all(dir.join("zendesk")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, dir.join("zendesk/connections.json.partial")).unwrap();
        let mut connections = Connections::default();
        connections.organizations.insert(
            "acme".into(),
            Connection {
                url: "https://acme.zendesk.com".into(),
                connected_at: "2026-01-02T03:04:05Z".into(),
                auth: "oauth".into(),
                agent_name: "Agent".into(),
                agent_email: Some("agent@acme.example".into()),
                reauthorized_at: None,
            },
        );
        connections.save(&dir).unwrap();
        assert_eq!(Connections::load(&dir).unwrap(), connections);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let meta = std::fs::symlink_metadata(Connections::path(&dir)).unwrap();
            assert!(meta.file_type().is_file());
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&victim).unwrap();
    }

    async fn callback(listener_url: String, target: &str) -> String {
        let url = format!("{listener_url}{target}");
        reqwest::get(url).await.unwrap().text().await.unwrap()
    }

    #[tokio::test]
    async fn the_callback_checks_state_and_reports_refusals() {
        for (target, expect) in [
            ("/callback?code=c1&state=s1", Ok("c1")),
            ("/callback?code=c1&state=forged", Err("state")),
            (
                "/callback?error=access_denied&error_description=The+end-user+denied&state=s1",
                Err("\"Deny\" was clicked"),
            ),
        ] {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let waiter =
                tokio::spawn(
                    async move { receive_code(listener, "s1", Duration::from_secs(5)).await },
                );
            // A favicon request first: ignored.
            let page = callback(url.clone(), "/favicon.ico").await;
            assert!(page.contains("Not found"));
            let page = callback(url, target).await;
            let result = waiter.await.unwrap();
            match expect {
                Ok(code) => {
                    assert_eq!(result.unwrap(), code);
                    assert!(page.contains("You can close this window"), "{page}");
                }
                Err(words) => {
                    let error = result.unwrap_err().to_string();
                    assert!(error.contains(words), "{error}");
                    assert!(page.contains("close this window"), "{page}");
                }
            }
        }
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let timed_out = receive_code(listener, "s", Duration::from_millis(50)).await;
        assert!(matches!(timed_out, Err(OAuthError::Timeout(_))));
    }

    /// A loopback "Zendesk" whose token answer is one byte over the cap, sent without a
    /// `Content-Length` (the body ends with the connection).
    #[tokio::test]
    async fn a_token_answer_over_the_cap_is_refused() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let base = BaseUrl::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buffer = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buffer).await.unwrap();
                head.extend_from_slice(&buffer[..n]);
            }
            let mut answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
            answer.resize(answer.len() + MAX_TOKEN_ANSWER + 1, b' ');
            // The client hangs up once it has read too much.
            let _ = stream.write_all(&answer).await;
            String::from_utf8_lossy(&head).into_owned()
        });
        let secret = Secret::new("client-secret");
        let verifier = Secret::new("v".repeat(43));
        let redirect = "http://127.0.0.1:1/cb";
        let error = exchange_code(&base, "scenarist", &secret, "code", redirect, &verifier)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, OAuthError::Decode(text) if text.contains("larger than 65536 bytes")),
            "{error:?}"
        );
        assert!(server.await.unwrap().starts_with("POST /oauth/tokens "));
    }
}
