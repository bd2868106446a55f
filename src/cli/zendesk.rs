//! `scenarist zendesk …`: the connector's admin commands, following the seed guide's steps.
//! `connect` and `reauthorize` (step 1 and its "Re-authorize" button: OAuth or an API token,
//! recorded in `<data>/zendesk/connections.json`, then the YAML to add; in `zendesk/connect.rs`),
//! `list` (the organizations with their connection date and linked accounts), `check`
//! (credentials and the three field lists against the instance; `zendesk/check.rs`), `verify`
//! (the guide's Verification section; `zendesk/verify.rs`) and `sandbox` (the Zendesk stand-in,
//! for demos). The helpers here (workspace, data directory, organization clients, `users/me`)
//! are shared with `contact` and `outbox`.
//!
//! Exit codes: 0 success, 1 when Zendesk refuses (or a check fails), 2 on usage errors.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

mod check;
mod connect;
mod verify;

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow};

pub(super) use super::load::workspace;
use super::{ExitStatus, GlobalArgs};
use crate::config::{self, Auth, Organization, SyncMode, Workspace};
use crate::diagnostic::did_you_mean;
use crate::zendesk::actions::{Org, organization_credentials};
use crate::zendesk::client::{Timeouts, ZendeskClient, ZendeskError};
use crate::zendesk::model::User;
use crate::zendesk::oauth::Connections;
use scenarist_lang::config::base_url::hide_userinfo;
use zendesk_standin::{StandIn, StandInConfig};

#[derive(Debug, clap::Args)]
pub struct ZendeskArgs {
    #[command(subcommand)]
    pub command: ZendeskCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ZendeskCommand {
    /// Connect a Zendesk organization (OAuth in the browser, or an API token), record the
    /// connection and print the config to add.
    Connect(connect::ConnectArgs),
    /// List the configured organizations: URL, connection date, authentication, linked accounts.
    List(WorkspaceArgs),
    /// Authorize Scenarist again for a configured OAuth organization, replacing its token.
    Reauthorize(connect::ReauthorizeArgs),
    /// Check each organization's credentials and that every configured user field exists.
    Check(check::CheckArgs),
    /// Send a test message on an account and confirm the ticket reaches Zendesk with its history.
    Verify(verify::VerifyArgs),
    /// Run the Zendesk stand-in (a local fake Zendesk for demos) until Ctrl-C.
    Sandbox(SandboxArgs),
}

/// The workspace and its data directory.
#[derive(Debug, clap::Args)]
pub struct WorkspaceArgs {
    /// The data directory; default: the config's `data_dir`.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// The port on 127.0.0.1 (the example config points at 8788).
    #[arg(long, default_value_t = 8788)]
    pub port: u16,
    /// Keep the sandbox's users, tickets, id counters, idempotency keys and issued OAuth
    /// tokens in FILE (JSON), so a restarted sandbox still has them: loaded at start if it
    /// exists (created otherwise), rewritten after every change. Without it everything is lost
    /// when the sandbox stops.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

pub(super) fn run(args: &ZendeskArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match &args.command {
        ZendeskCommand::Connect(args) => connect::connect(args, global),
        ZendeskCommand::List(args) => list(args, global),
        ZendeskCommand::Reauthorize(args) => connect::reauthorize(args, global),
        ZendeskCommand::Check(args) => check::check(args, global),
        ZendeskCommand::Verify(args) => verify::run(args, global),
        ZendeskCommand::Sandbox(args) => runtime()?.block_on(sandbox(args)),
    }
}

/// The runtime of one command.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    crate::setup::tokio_runtime()
}

/// The data directory of a command with a workspace ([`crate::setup::data_dir`]).
pub(super) fn data_dir(args: &WorkspaceArgs, workspace: &Workspace) -> PathBuf {
    crate::setup::data_dir(args.data.as_deref(), workspace)
}

/// The organization `name` of the config (a usage error otherwise).
pub(super) fn organization<'a>(
    workspace: &'a Workspace,
    name: &str,
) -> anyhow::Result<&'a Organization> {
    let organizations = &workspace.config.zendesk.organizations;
    organizations.get(name).ok_or_else(|| {
        let hint = did_you_mean(name, organizations.keys().map(String::as_str))
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        anyhow!(
            "there is no Zendesk organization `{name}` in {}{hint}",
            workspace.file.name()
        )
    })
}

/// A client for a configured organization, with its field lists.
pub(super) fn org(workspace: &Workspace, name: &str) -> anyhow::Result<Org> {
    let organization = organization(workspace, name)?;
    let credentials = organization_credentials(name, organization, &workspace.base)
        .map_err(|e| anyhow!("cannot read the credentials of `{name}`: {e}"))?;
    let client = ZendeskClient::new(&organization.url, credentials, Timeouts::default())?;
    Ok(Org::new(name, client, organization.fields.clone()))
}

/// The user the credentials act as, or why Zendesk does not accept them, in plain words.
pub(super) async fn agent(client: &ZendeskClient, hint: &str) -> Result<User, String> {
    let me = client.me().await.map_err(|error| match &error {
        ZendeskError::Status { status: 404, .. } => format!(
            "{error} — is {} the URL of a Zendesk instance?",
            client.base_url()
        ),
        ZendeskError::Status { status: 401, .. } => {
            format!("Zendesk did not accept the credentials ({error}). {hint}")
        }
        _ => error.to_string(),
    })?;
    if me.id.is_none() {
        return Err(format!(
            "Zendesk did not accept the credentials: users/me answered with the anonymous user \
             (id null), which is how Zendesk answers wrong credentials. {hint}"
        ));
    }
    match me.role.as_deref() {
        Some("agent" | "admin") => Ok(me),
        role => Err(format!(
            "the credentials act as {}, whose role is {}; Scenarist needs an agent or an admin \
             (it creates users and tickets)",
            describe(&me),
            role.unwrap_or("unknown")
        )),
    }
}

/// "Name <email>".
pub(super) fn describe(user: &User) -> String {
    match &user.email {
        Some(email) => format!("{} <{email}>", user.name),
        None => user.name.clone(),
    }
}

fn list(args: &WorkspaceArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let data = data_dir(args, &workspace);
    let connections = Connections::load(&data).unwrap_or_else(|error| {
        eprintln!("warning: {error}");
        Connections::default()
    });
    let config = &workspace.config;
    if config.zendesk.organizations.is_empty() {
        println!(
            "No Zendesk organization is configured in {}.",
            workspace.file.name()
        );
    }
    for (name, organization) in &config.zendesk.organizations {
        println!("{name}  {}", organization.url);
        match connections.organizations.get(name) {
            Some(connection) => {
                let mut line = format!("  connected: {}", connection.connected_at);
                if !connection.agent_name.is_empty() {
                    let _ = write!(line, " as {}", connection.agent_name);
                    if let Some(email) = &connection.agent_email {
                        let _ = write!(line, " <{email}>");
                    }
                }
                if let Some(at) = &connection.reauthorized_at {
                    let _ = write!(line, " (re-authorized {at})");
                }
                if connection.url != organization.url.trim_end_matches('/') {
                    // The registry is a file anyone with the data folder may have edited.
                    let _ = write!(
                        line,
                        " — to {}, not this URL",
                        hide_userinfo(&connection.url)
                    );
                }
                println!("{line}");
            }
            None => println!(
                "  connected: not connected (scenarist zendesk connect {} --org {name})",
                organization.url
            ),
        }
        println!("  auth: {}", auth_text(&organization.auth));
        let sync = &organization.sync;
        let mode = match sync.mode {
            SyncMode::Interface => {
                "A, from the interface (an advisor's message syncs a linked contact)".to_owned()
            }
            SyncMode::Zendesk => format!(
                "B, from Zendesk (team `{}`, email field `{}`)",
                sync.team.as_deref().unwrap_or("?"),
                sync.email_field.as_deref().unwrap_or("?")
            ),
        };
        let continued = if sync.continue_after_ticket {
            "continues after the ticket"
        } else {
            "ticket created once"
        };
        println!("  sync: mode {mode}; {continued}");
        let accounts: Vec<String> = config
            .accounts
            .iter()
            .filter(|(_, account)| account.zendesk.as_deref() == Some(name.as_str()))
            .map(|(id, account)| format!("{id} (sync {})", if account.sync { "on" } else { "off" }))
            .collect();
        if accounts.is_empty() {
            println!("  accounts: none linked");
        } else {
            println!("  accounts: {}", accounts.join(", "));
        }
    }
    for (name, connection) in &connections.organizations {
        if !config.zendesk.organizations.contains_key(name) {
            println!(
                "{name}  {}\n  connected: {}, but not in {} (add it under `zendesk.organizations`)",
                hide_userinfo(&connection.url),
                connection.connected_at,
                workspace.file.name()
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn auth_text(auth: &Auth) -> String {
    let source = |secret: &config::Secret| match secret {
        config::Secret::TokenEnv(var) => format!("${var}"),
        config::Secret::TokenFile(path) => path.display().to_string(),
    };
    match auth {
        Auth::ApiToken { email, secret } => {
            format!("API token of {email}, from {}", source(secret))
        }
        Auth::Oauth { secret, .. } => format!("OAuth, token from {}", source(secret)),
        Auth::Sandbox {} => "the built-in sandbox (no credentials)".to_owned(),
    }
}

async fn sandbox(args: &SandboxArgs) -> anyhow::Result<ExitStatus> {
    let config = StandInConfig {
        state_file: args.state.clone(),
        ..StandInConfig::default()
    };
    let standin = StandIn::start(args.port, config.clone())
        .await
        .with_context(|| format!("cannot start the stand-in on 127.0.0.1:{}", args.port))?;
    let url = standin.url();
    println!("The Zendesk stand-in is running at {url} (Ctrl-C stops it).");
    if let Some(state) = &args.state {
        println!("Users and tickets are kept in {}.", state.display());
    }
    println!();
    println!(
        "API token:  email {}, token {}",
        config.email, config.api_token
    );
    println!(
        "            (auth: {{ type: api_token, email: {}, token_env: ZENDESK_API_TOKEN }}",
        config.email
    );
    println!("             with ZENDESK_API_TOKEN={})", config.api_token);
    println!(
        "OAuth:      client id {}, secret {} (authorizations are granted at once)",
        config.oauth_client_id, config.oauth_client_secret
    );
    println!(
        "            ZENDESK_CLIENT_SECRET={} scenarist zendesk connect {url} --org local",
        config.oauth_client_secret
    );
    let fields: Vec<&str> = config.user_fields.iter().map(|(k, _)| k.as_str()).collect();
    println!("Custom user fields: {}", fields.join(", "));
    println!();
    println!("Inject a fault (applies to the next matching requests):");
    println!(
        "  curl -X POST {url}/__standin/faults -H 'Content-Type: application/json' \\\n    -d '{{\"path_prefix\":\"/api/v2/tickets\",\"method\":\"POST\",\"kind\":{{\"ServerError\":503}},\"times\":2}}'"
    );
    println!(
        "  kinds: {{\"TooManyRequests\":{{\"retry_after\":7,\"text_plain\":false}}}}, {{\"ServerError\":503}}, \
         {{\"Slow\":{{\"millis\":3000}}}}, \"Drop\", \"ExecuteThenDrop\", {{\"Status\":{{\"code\":422,\"body\":{{}}}}}}"
    );
    println!("See what it holds: curl {url}/__standin/state");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    println!("Stopping the stand-in.");
    standin.stop().await;
    Ok(ExitStatus::Success)
}
