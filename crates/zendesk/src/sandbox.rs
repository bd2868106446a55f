//! Sandbox organizations (`auth: { type: sandbox }`): the process that syncs starts the
//! built-in stand-in for each on its loopback URL, with its users and tickets kept in the
//! data directory beside the conversations, and reaches it over real HTTP through the same
//! client as a real instance. This is what lets the quick start show tickets appearing
//! without a Zendesk account. A sandbox has the custom ticket fields its organization's
//! `sync.ticket_fields` names, with those ids, so a scenario's `ticket.fields.NAME` lands on
//! its tickets and `zendesk check` finds them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::client::Credentials;
use super::organization_name::{self, OrganizationNameError};
use super::secret::Secret;
use scenarist_lang::config::{Auth, Workspace};
use zendesk_standin::{StandIn, StandInConfig, TicketFieldRecord};

/// The running sandboxes of a process; they stop when this is dropped.
#[derive(Default)]
pub struct Sandboxes {
    running: Vec<(String, StandIn)>,
}

/// A process that ends leaves each sandbox's state in one complete file (its journal folded
/// in), which a human or a script can read.
impl Drop for Sandboxes {
    fn drop(&mut self) {
        for (_, standin) in &self.running {
            standin.compact();
        }
    }
}

impl Sandboxes {
    /// `(organization, URL)` of each running sandbox.
    pub fn urls(&self) -> Vec<(String, String)> {
        self.running
            .iter()
            .map(|(name, standin)| (name.clone(), standin.url()))
            .collect()
    }

    pub fn get(&self, organization: &str) -> Option<&StandIn> {
        self.running
            .iter()
            .find(|(name, _)| name == organization)
            .map(|(_, standin)| standin)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot start the Zendesk sandbox {}: {reason}",
    organization_name::quoted(organization)
)]
pub struct SandboxError {
    pub organization: String,
    pub reason: String,
}

/// The credentials a sandbox accepts (its fixed agent).
pub fn credentials() -> Credentials {
    let config = StandInConfig::default();
    Credentials::ApiToken {
        email: config.email,
        token: Secret::new(config.api_token),
    }
}

/// A sandbox's basic-auth login, for trying its API by hand (`curl -u LOGIN …`).
pub fn login() -> String {
    let config = StandInConfig::default();
    format!("{}/token:{}", config.email, config.api_token)
}

/// Where a sandbox keeps its users and tickets: `<data_dir>/zendesk-sandbox-<org>.json`. A
/// name that could leave the data directory or make an odd file name is refused
/// (`organization_name`).
pub fn state_file(data_dir: &Path, organization: &str) -> Result<PathBuf, OrganizationNameError> {
    let name = organization_name::check(organization)?;
    Ok(data_dir.join(format!("zendesk-sandbox-{name}.json")))
}

/// Starts a stand-in for every sandbox organization of `workspace` and returns the workspace
/// with their actual URLs. With a data directory, their users and tickets are kept there;
/// without, they live in memory (a one-off check). A sandbox whose port is taken (another Scenarist on this machine)
/// moves to a free port, with a warning naming it. Must run inside a tokio runtime.
pub async fn start(
    workspace: &Workspace,
    data_dir: Option<&Path>,
) -> Result<(Workspace, Sandboxes), SandboxError> {
    let mut workspace = workspace.clone();
    let mut sandboxes = Sandboxes::default();
    for (name, organization) in &mut workspace.config.zendesk.organizations {
        if !matches!(organization.auth, Auth::Sandbox {}) {
            continue;
        }
        let error = |reason: String| SandboxError {
            organization: name.clone(),
            reason,
        };
        let port = reqwest::Url::parse(&organization.url)
            .ok()
            .and_then(|url| url.port_or_known_default())
            .ok_or_else(|| error(format!("`{}` names no port", organization.url)))?;
        let state_file = data_dir
            .map(|dir| state_file(dir, name))
            .transpose()
            .map_err(|e| error(e.to_string()))?;
        let ticket_fields = sandbox_ticket_fields(&organization.sync.ticket_fields);
        let config = || StandInConfig {
            state_file: state_file.clone(),
            ticket_fields: ticket_fields.clone(),
            ..StandInConfig::default()
        };
        let standin = match StandIn::start(port, config()).await {
            Ok(standin) => standin,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                let standin = StandIn::start(0, config())
                    .await
                    .map_err(|e| error(e.to_string()))?;
                tracing::warn!(
                    "port {port} of the Zendesk sandbox `{name}` is in use (another Scenarist?); it runs at {} instead",
                    standin.url()
                );
                standin
            }
            Err(e) => return Err(error(e.to_string())),
        };
        organization.url = standin.url();
        sandboxes.running.push((name.clone(), standin));
    }
    Ok((workspace, sandboxes))
}

/// The ticket fields a sandbox has from the start: those the organization's
/// `sync.ticket_fields` names, with their ids (it stands in for the Zendesk the admin
/// configured), as text fields titled with their name. A field already in the sandbox's state
/// file is left as it is.
fn sandbox_ticket_fields(names: &BTreeMap<String, u64>) -> Vec<TicketFieldRecord> {
    names
        .iter()
        .map(|(name, id)| TicketFieldRecord {
            id: *id,
            kind: "text".to_owned(),
            title: name.clone(),
            active: true,
        })
        .collect()
}
