//! `scenarist zendesk connect` and `reauthorize`: the seed guide's step 1 and its
//! "Re-authorize" button. OAuth: the authorize URL (a random `state`, a PKCE S256 challenge)
//! is printed, the browser comes back to a loopback listener, the code is exchanged with the
//! PKCE verifier, the token is checked with `users/me` and written 0600 (folder 0700) beside
//! the data (`oauth::token_path`, which refuses an organization name that could leave that
//! folder). API token: checked with `users/me` from the
//! environment variable. Either way the connection is recorded in the registry that `list`
//! reads, and `connect` prints the YAML to add under `zendesk.organizations`.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::net::TcpListener;

use super::{
    GlobalArgs, WorkspaceArgs, agent, data_dir, describe, organization, runtime, workspace,
};
use crate::cli::ExitStatus;
use crate::config::{self, Auth, FieldType, Workspace};
use crate::runtime::{Clock as _, SystemClock};
use crate::zendesk::actions::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET_ENV, oauth_client};
use crate::zendesk::client::{Credentials, Timeouts, ZendeskClient};
use crate::zendesk::model::User;
use crate::zendesk::oauth::{self, Connection, Connections, Pkce};
use crate::zendesk::organization_name;
use crate::zendesk::secret::Secret;
use scenarist_lang::config::base_url::{BaseUrl, hide_userinfo};

#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The instance URL, e.g. `https://acme.zendesk.com` (`http://` only for 127.0.0.1, `[::1]`
    /// or localhost; no user name, password, path, query or fragment).
    pub url: String,
    /// The organization's name in the config; default: the URL's subdomain.
    #[arg(long)]
    pub org: Option<String>,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// The OAuth client's identifier (Admin Center → Apps and integrations → APIs → OAuth
    /// Clients).
    #[arg(long, env = "ZENDESK_CLIENT_ID", default_value = "scenarist")]
    pub client_id: String,
    /// The environment variable holding the OAuth client's secret.
    #[arg(long, value_name = "VAR", default_value = "ZENDESK_CLIENT_SECRET")]
    pub client_secret_env: String,
    /// The local port the browser comes back to (0: any free port). Zendesk redirects only to
    /// URLs registered with the OAuth client: register `http://127.0.0.1:PORT/callback`.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Connect with an API token instead: the environment variable holding it.
    #[arg(long, value_name = "VAR", requires = "email")]
    pub api_token_env: Option<String>,
    /// With --api-token-env: the email of the agent the token belongs to.
    #[arg(long, requires = "api_token_env")]
    pub email: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReauthorizeArgs {
    /// The organization (a key of `zendesk.organizations`).
    pub org: String,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// The local port the browser comes back to (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// How long `connect` and `reauthorize` wait for the browser.
const AUTHORIZATION_TIMEOUT: Duration = Duration::from_secs(300);

fn now_iso() -> String {
    scenarist_base::clock::iso8601(SystemClock.now())
}

pub(super) fn connect(args: &ConnectArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let base = BaseUrl::parse(&args.url).map_err(|problem| {
        anyhow!(
            "the URL `{}` {problem}; give the instance only, such as `https://acme.zendesk.com`",
            hide_userinfo(&args.url)
        )
    })?;
    let url = base.as_str().to_owned();
    let name = match &args.org {
        Some(name) => name.clone(),
        None => default_org_name(&base),
    };
    // The name becomes the token file's name: checked before anything else happens.
    organization_name::check(&name).map_err(|e| anyhow!("{e} (--org NAME)"))?;
    let workspace = match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let data = data_dir(&args.workspace, &workspace);
    let runtime = runtime()?;
    if let (Some(var), Some(email)) = (&args.api_token_env, &args.email) {
        let token = Secret::from_env(var).map_err(|e| {
            anyhow!("{e}: it must hold the API token (Admin Center → Apps and integrations → APIs → Zendesk API)")
        })?;
        let client = ZendeskClient::new(
            &url,
            Credentials::ApiToken {
                email: email.clone(),
                token,
            },
            Timeouts::default(),
        )?;
        let hint = format!(
            "Check that {var} holds an active API token and that {email} is the email of the agent it belongs to."
        );
        let user = match runtime.block_on(agent(&client, &hint)) {
            Ok(user) => user,
            Err(problem) => {
                println!("✗ {problem}");
                return Ok(ExitStatus::Failure);
            }
        };
        record(&data, &name, &url, "api_token", &user, false)?;
        println!("✓ Connected `{name}` ({url}) as {}.", describe(&user));
        let auth = format!("type: api_token\nemail: {email}\ntoken_env: {var}");
        print_yaml(&name, &url, &auth, &workspace);
        return Ok(ExitStatus::Success);
    }
    let client_secret = Secret::from_env(&args.client_secret_env).map_err(|e| {
        anyhow!(
            "{e}: it must hold the OAuth client's secret (or name another variable with --client-secret-env)"
        )
    })?;
    let token_file = oauth::token_path(&data, &name)?;
    let flow = Flow {
        url: &base,
        client_id: &args.client_id,
        client_secret: &client_secret,
        port: args.port,
        token_file: &token_file,
    };
    let user = match runtime.block_on(flow.run())? {
        Ok(user) => user,
        Err(problem) => {
            println!("✗ {problem}");
            return Ok(ExitStatus::Failure);
        }
    };
    record(&data, &name, &url, "oauth", &user, false)?;
    println!("✓ Connected `{name}` ({url}) as {}.", describe(&user));
    println!(
        "  The access token is in {} (readable only by you).",
        token_file.display()
    );
    let mut auth = format!(
        "type: oauth\ntoken_file: {}",
        yaml_scalar(&relative_to_config(&token_file, &workspace, global))
    );
    if args.client_id != DEFAULT_CLIENT_ID {
        let _ = write!(auth, "\nclient_id: {}", yaml_scalar(&args.client_id));
    }
    if args.client_secret_env != DEFAULT_CLIENT_SECRET_ENV {
        let _ = write!(auth, "\nclient_secret_env: {}", args.client_secret_env);
    }
    print_yaml(&name, &url, &auth, &workspace);
    Ok(ExitStatus::Success)
}

/// One OAuth authorization: browser, code, token, checked with `users/me`.
struct Flow<'a> {
    url: &'a BaseUrl,
    client_id: &'a str,
    client_secret: &'a Secret,
    port: u16,
    token_file: &'a Path,
}

impl Flow<'_> {
    /// `Ok(Err(reason))` when Zendesk (or the admin) refused.
    async fn run(&self) -> anyhow::Result<Result<User, String>> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on 127.0.0.1:{} for the browser's return",
                    self.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let (state, pkce) = match (oauth::new_state(), Pkce::new()) {
            (Ok(state), Ok(pkce)) => (state, pkce),
            (Err(error), _) | (_, Err(error)) => return Ok(Err(error.to_string())),
        };
        println!("Open this URL to authorize Scenarist:");
        println!(
            "{}",
            oauth::authorize_url(self.url, self.client_id, &redirect, &state, &pkce)
        );
        println!(
            "Waiting up to {} minutes for Zendesk to send the browser back to {redirect} …",
            AUTHORIZATION_TIMEOUT.as_secs() / 60
        );
        let code = match oauth::receive_code(listener, &state, AUTHORIZATION_TIMEOUT).await {
            Ok(code) => code,
            Err(error) => return Ok(Err(error.to_string())),
        };
        let tokens = match oauth::exchange_code(
            self.url,
            self.client_id,
            self.client_secret,
            &code,
            &redirect,
            pkce.verifier(),
        )
        .await
        {
            Ok(tokens) => tokens,
            Err(error) => return Ok(Err(error.to_string())),
        };
        let client = ZendeskClient::new(
            self.url.as_str(),
            Credentials::Bearer(tokens.access.clone()),
            Timeouts::default(),
        )?;
        let hint = "The new token was not accepted; check that the OAuth client belongs to this instance and asks for `read write`.";
        match agent(&client, hint).await {
            Ok(user) => {
                // The whole set, the refresh token included (owner-only, atomic).
                tokens.write(self.token_file).with_context(|| {
                    format!("cannot write the token to {}", self.token_file.display())
                })?;
                Ok(Ok(user))
            }
            Err(problem) => Ok(Err(problem)),
        }
    }
}

/// Records (or refreshes) a connection in the registry.
fn record(
    data: &Path,
    name: &str,
    url: &str,
    auth: &str,
    user: &User,
    reauthorized: bool,
) -> anyhow::Result<()> {
    let mut connections = Connections::load(data)?;
    let now = now_iso();
    let previous = connections.organizations.get(name);
    let connected_at = match previous {
        Some(previous) if reauthorized && previous.url == url => previous.connected_at.clone(),
        _ => now.clone(),
    };
    connections.organizations.insert(
        name.to_owned(),
        Connection {
            url: url.to_owned(),
            connected_at,
            auth: auth.to_owned(),
            agent_name: user.name.clone(),
            agent_email: user.email.clone(),
            reauthorized_at: reauthorized.then_some(now),
        },
    );
    connections
        .save(data)
        .with_context(|| format!("cannot record the connection in {}", data.display()))
}

/// `https://acme.zendesk.com` → `acme`; a loopback stand-in (or any address) → `local`.
fn default_org_name(url: &BaseUrl) -> String {
    let host = match url.host() {
        Some(url::Host::Domain(host)) if host != "localhost" => host,
        _ => return "local".to_owned(),
    };
    host.split('.')
        .next()
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The token file as the config names it: relative to the config's folder when a config was
/// given, else absolute.
fn relative_to_config(path: &Path, workspace: &Workspace, global: &GlobalArgs) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if global.config.is_none() {
        return absolute.display().to_string();
    }
    let base = std::path::absolute(&workspace.base).unwrap_or_else(|_| workspace.base.clone());
    relative(&absolute, &base).display().to_string()
}

/// `path` relative to the folder `base` (both absolute).
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.iter().collect();
    }
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for component in path.iter().skip(common) {
        out.push(component);
    }
    out
}

/// A YAML scalar: plain when safe, else a JSON string (valid YAML).
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.starts_with(|c: char| "!&*{}[]|>'\"%@`#,?-: ".contains(c))
        && !text.ends_with([':', ' ']);
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

/// The organization's YAML, to paste under `zendesk.organizations`.
fn print_yaml(name: &str, url: &str, auth: &str, workspace: &Workspace) {
    let email = workspace
        .config
        .contact_fields
        .iter()
        .find(|(_, spec)| spec.kind() == FieldType::Email)
        .map(|(field, _)| field.clone());
    let mut fields = String::new();
    for list in ["search", "display", "create"] {
        let _ = write!(fields, "\n        {list}:");
        if list != "search" {
            fields.push_str("\n          name: name");
        }
        match &email {
            Some(field) => {
                let _ = write!(fields, "\n          email: {field}");
            }
            None if list == "search" => fields.push_str("\n          name: name"),
            None => {}
        }
    }
    let auth = auth.lines().fold(String::new(), |mut out, line| {
        let _ = write!(out, "\n        {line}");
        out
    });
    println!(
        "\nAdd this under `zendesk.organizations` in {}, then adjust the fields and the sync \
         mode (mode A shown; see scenarios/scenarist.yaml for mode B):\n",
        workspace.file.name()
    );
    println!(
        "    {name}:\n      url: {}\n      auth:{auth}\n      fields:{fields}\n      sync:\n        mode: interface",
        yaml_scalar(url)
    );
}

pub(super) fn reauthorize(
    args: &ReauthorizeArgs,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let workspace = match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let organization = organization(&workspace, &args.org)?;
    let Auth::Oauth {
        secret,
        client_id,
        client_secret_env,
    } = &organization.auth
    else {
        bail!(
            "`{}` authenticates with an API token, not OAuth: put a new token in its environment \
             variable, or switch to OAuth with `scenarist zendesk connect {} --org {}`",
            args.org,
            organization.url,
            args.org
        );
    };
    let data = data_dir(&args.workspace, &workspace);
    let (token_file, moved) = match secret {
        config::Secret::TokenFile(path) => (workspace.base.join(path), false),
        config::Secret::TokenEnv(_) => (oauth::token_path(&data, &args.org)?, true),
    };
    let (client_id, secret_env) = oauth_client(client_id, client_secret_env);
    let client_secret = Secret::from_env(secret_env)
        .map_err(|e| anyhow!("{e}: it must hold the OAuth client's secret"))?;
    let base = BaseUrl::parse(&organization.url)
        .map_err(|problem| anyhow!("the URL of `{}` {problem}", args.org))?;
    let url = base.as_str();
    let flow = Flow {
        url: &base,
        client_id: &client_id,
        client_secret: &client_secret,
        port: args.port,
        token_file: &token_file,
    };
    let user = match runtime()?.block_on(flow.run())? {
        Ok(user) => user,
        Err(problem) => {
            println!("✗ {problem}");
            println!("  The previous token was left as it was.");
            return Ok(ExitStatus::Failure);
        }
    };
    record(&data, &args.org, url, "oauth", &user, true)?;
    println!(
        "✓ Re-authorized `{}` as {}; the new token is in {}.",
        args.org,
        describe(&user),
        token_file.display()
    );
    if moved {
        println!(
            "  The config reads this organization's token from an environment variable: set it \
             from that file, or use `token_file: {}`.",
            relative_to_config(&token_file, &workspace, global)
        );
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        let name = |url: &str| default_org_name(&BaseUrl::parse(url).unwrap());
        assert_eq!(name("https://acme-shop.zendesk.com"), "acme-shop");
        assert_eq!(name("http://127.0.0.1:8788"), "local");
        assert_eq!(name("http://[::1]:8788"), "local");
        assert_eq!(name("http://localhost:8788/"), "local");
        assert_eq!(name("https://192.0.2.7"), "local");
        assert_eq!(
            relative(Path::new("/w/data/zendesk/a.token"), Path::new("/w/config")),
            Path::new("../data/zendesk/a.token")
        );
        assert_eq!(
            relative(
                Path::new("/w/config/zendesk/a.token"),
                Path::new("/w/config")
            ),
            Path::new("zendesk/a.token")
        );
        assert_eq!(
            yaml_scalar("https://acme.zendesk.com"),
            "https://acme.zendesk.com"
        );
        assert_eq!(yaml_scalar("a: b"), "\"a: b\"");
    }
}
