//! Running Zendesk effects from the outbox: the scenario actions (`zendesk.*`) and the sync
//! modes' effects (`sync.*`). Each effect is made safe to repeat (reliability.md §3):
//!
//! - users: an exact search by email first, then `create_or_update` (an upsert) — repeating
//!   it finds the same user;
//! - tickets: one per conversation, marked with `external_id = scenarist-<conversation>`; it
//!   is looked up before any creation (so a crash, or a retry after the 2-hour life of an
//!   idempotency key, adopts the ticket instead of creating a second), and the creation
//!   carries `Idempotency-Key: <effect id>` with a body that is the same bytes on every
//!   attempt (it reads only history that can no longer change);
//! - comments: each update carries `metadata.scenarist_effect = <effect id>`; an attempt
//!   after one that may have got through first looks for that mark among the ticket's
//!   comments;
//! - solving an already solved or closed ticket is success.
//!
//! 429, 5xx and transport failures are retried by the outbox (backoff, `Retry-After`); other
//! 4xx fail for good with Zendesk's details.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::client::{Credentials, Timeouts, ZendeskClient, ZendeskError};
use super::secret::Secret;
use super::session::TokenSession;
use super::sync::{COMMENT, CREATE, SOLVE};
use scenarist_lang::actions::names;
use scenarist_lang::config::{Auth, FieldLists, Organization, Workspace};
use scenarist_runtime::runner::{ActionFuture, ActionResult, ActionRunner, BuiltinActions};
use scenarist_runtime::state::Effect;
use scenarist_runtime::store::Store;

/// One connected organization.
pub struct Org {
    pub name: String,
    pub client: ZendeskClient,
    pub fields: FieldLists,
    agent: OnceCell<u64>,
}

impl Org {
    pub fn new(name: &str, client: ZendeskClient, fields: FieldLists) -> Self {
        Self {
            name: name.to_owned(),
            client,
            fields,
            agent: OnceCell::new(),
        }
    }

    /// The id of the user the credentials act as (the assignee when solving).
    async fn agent(&self) -> Result<u64, ZendeskError> {
        self.agent
            .get_or_try_init(|| async {
                let me = self.client.me().await?;
                me.id.ok_or_else(|| {
                    ZendeskError::Decode(
                        "the credentials are not accepted (users/me is anonymous)".into(),
                    )
                })
            })
            .await
            .copied()
    }
}

/// The OAuth client `reauthorize` and token renewal use when the config names none.
pub const DEFAULT_CLIENT_ID: &str = "scenarist";
/// The environment variable holding its secret when the config names none.
pub const DEFAULT_CLIENT_SECRET_ENV: &str = "ZENDESK_CLIENT_SECRET";

/// The OAuth client an organization's config names: its id (the config's, else
/// `ZENDESK_CLIENT_ID`, else [`DEFAULT_CLIENT_ID`]) and the variable holding its secret.
pub fn oauth_client<'a>(
    client_id: &Option<String>,
    client_secret_env: &'a Option<String>,
) -> (String, &'a str) {
    let id = client_id
        .clone()
        .or_else(|| std::env::var("ZENDESK_CLIENT_ID").ok())
        .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
    let secret_env = client_secret_env
        .as_deref()
        .unwrap_or(DEFAULT_CLIENT_SECRET_ENV);
    (id, secret_env)
}

/// The credentials of the organization `name` (environment variable or file). An OAuth token
/// in a file is a `TokenSession`, renewed with its refresh token when Zendesk refuses it; one
/// in an environment variable is used as it is (a renewed pair would have nowhere to be kept).
pub fn organization_credentials(
    name: &str,
    organization: &Organization,
    base: &std::path::Path,
) -> Result<Credentials, String> {
    if let Auth::Oauth {
        secret: scenarist_lang::config::Secret::TokenFile(path),
        client_id,
        client_secret_env,
    } = &organization.auth
    {
        let url = scenarist_lang::config::base_url::BaseUrl::parse(&organization.url)
            .map_err(|problem| format!("the URL {problem}"))?;
        let (client_id, secret_env) = oauth_client(client_id, client_secret_env);
        let session = TokenSession::open(
            name,
            url,
            base.join(path),
            client_id,
            Secret::from_env(secret_env),
        )?;
        return Ok(Credentials::OAuth(Arc::new(session)));
    }
    credentials(organization, base)
}

/// The credentials an organization's config points at, used as they are (no renewal): for
/// short-lived tools.
pub fn credentials(
    organization: &Organization,
    base: &std::path::Path,
) -> Result<Credentials, String> {
    let read = |secret: &scenarist_lang::config::Secret| match secret {
        scenarist_lang::config::Secret::TokenEnv(name) => Secret::from_env(name),
        scenarist_lang::config::Secret::TokenFile(path) => Secret::from_file(&base.join(path)),
    };
    Ok(match &organization.auth {
        Auth::ApiToken { email, secret } => Credentials::ApiToken {
            email: email.clone(),
            token: read(secret)?,
        },
        Auth::Oauth { secret, .. } => Credentials::Bearer(read(secret)?),
        Auth::Sandbox {} => super::sandbox::credentials(),
    })
}

/// Account → the organization it is linked to, from the config.
pub fn account_organizations(workspace: &Workspace) -> HashMap<String, String> {
    workspace
        .config
        .accounts
        .iter()
        .filter_map(|(id, account)| account.zendesk.clone().map(|org| (id.clone(), org)))
        .collect()
}

pub struct ZendeskActions {
    orgs: HashMap<String, Arc<Org>>,
    /// Account → organization; a config reload replaces it.
    accounts: std::sync::RwLock<HashMap<String, String>>,
    store: Arc<dyn Store>,
}

impl ZendeskActions {
    /// Clients for every organization of the workspace whose credentials can be read; the
    /// problems of the others are returned (their actions then fail with the reason).
    pub fn from_workspace(
        workspace: &Workspace,
        store: Arc<dyn Store>,
        timeouts: Timeouts,
    ) -> (Self, Vec<String>) {
        let mut orgs = HashMap::new();
        let mut problems = Vec::new();
        for (name, organization) in &workspace.config.zendesk.organizations {
            let built = organization_credentials(name, organization, &workspace.base).and_then(
                |credentials| {
                    ZendeskClient::new(&organization.url, credentials, timeouts)
                        .map_err(|e| e.to_string())
                },
            );
            match built {
                Ok(client) => {
                    orgs.insert(
                        name.clone(),
                        Arc::new(Org::new(name, client, organization.fields.clone())),
                    );
                }
                Err(problem) => problems.push(format!("Zendesk organization `{name}`: {problem}")),
            }
        }
        (
            Self::new(orgs, account_organizations(workspace), store),
            problems,
        )
    }

    pub fn new(
        orgs: HashMap<String, Arc<Org>>,
        accounts: HashMap<String, String>,
        store: Arc<dyn Store>,
    ) -> Self {
        Self {
            orgs,
            accounts: std::sync::RwLock::new(accounts),
            store,
        }
    }

    /// The organizations that need `scenarist zendesk reauthorize`, with the reason, by
    /// name.
    pub fn reauthorize_needed(&self) -> Vec<(String, String)> {
        let mut needed: Vec<_> = self
            .orgs
            .iter()
            .filter_map(|(name, org)| Some((name.clone(), org.client.reauthorize_needed()?)))
            .collect();
        needed.sort();
        needed
    }

    pub fn org(&self, name: &str) -> Option<&Arc<Org>> {
        self.orgs.get(name)
    }

    /// The organization `account` is linked to.
    pub fn organization_of(&self, account: &str) -> Option<String> {
        self.accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(account)
            .cloned()
    }

    /// Account → organization from now on (a config reload).
    pub fn set_accounts(&self, accounts: HashMap<String, String>) {
        *self
            .accounts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = accounts;
    }

    async fn run_effect(&self, effect: &Effect) -> ActionResult {
        let Some(conversation) = self.store.conversation(&effect.conversation).ok().flatten()
        else {
            return ActionResult::Failed(format!("conversation {} is gone", effect.conversation));
        };
        let org_name = effect
            .request
            .get("organization")
            .map(ToString::to_string)
            .or_else(|| self.organization_of(&conversation.account));
        let Some(org) = org_name.as_deref().and_then(|name| self.orgs.get(name)) else {
            return ActionResult::Failed(match org_name {
                Some(name) => format!("Zendesk organization `{name}` has no usable credentials"),
                None => format!(
                    "Zendesk is not configured: account `{}` is not linked to a Zendesk organization",
                    conversation.account
                ),
            });
        };
        let contact = self
            .store
            .contact(&conversation.account, &conversation.contact)
            .ok()
            .flatten()
            .unwrap_or_default();
        let work = Work {
            org,
            store: self.store.as_ref(),
            effect,
            contact: &contact,
            account: &conversation.account,
        };
        let result = match effect.action.as_str() {
            names::ZENDESK_FIND_OR_CREATE_USER => work
                .find_or_create_user()
                .await
                .map(|user| Some(user_record(&user))),
            names::ZENDESK_CREATE_TICKET => work
                .scenario_ticket()
                .await
                .map(|t| Some(ticket_record(&t))),
            names::ZENDESK_ADD_COMMENT => work.scenario_comment().await,
            names::ZENDESK_SOLVE_TICKET | SOLVE => work.solve().await.map(|()| None),
            CREATE => work.sync_create().await.map(Some),
            COMMENT => work.sync_comment().await.map(Some),
            _ => return BuiltinActions.run(effect).await,
        };
        match result {
            Ok(value) => ActionResult::Done(value),
            Err(ZendeskError::Paused(ms)) => ActionResult::Wait {
                after_ms: i64::try_from(ms).unwrap_or(i64::MAX),
            },
            // Kept, not failed: it goes through once an admin has run `reauthorize`.
            Err(error @ ZendeskError::Reauthorize { .. }) => {
                tracing::warn!(effect = %effect.id, %error, "waiting for the organization to be reauthorized");
                ActionResult::Wait {
                    after_ms: error.retry_after_ms(),
                }
            }
            Err(error) if error.retryable() => ActionResult::Retry {
                after_ms: error.retry_after_ms(),
                error: error.to_string(),
            },
            Err(error) => {
                tracing::error!(effect = %effect.id, action = %effect.action, %error, "Zendesk refused; no retry");
                ActionResult::Failed(error.to_string())
            }
        }
    }
}

impl ActionRunner for ZendeskActions {
    fn executes(&self) -> Vec<String> {
        [
            names::ZENDESK_FIND_OR_CREATE_USER,
            names::ZENDESK_CREATE_TICKET,
            names::ZENDESK_ADD_COMMENT,
            names::ZENDESK_SOLVE_TICKET,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        Box::pin(self.run_effect(effect))
    }

    fn records_attempts(&self, action: &str) -> bool {
        matches!(
            action,
            CREATE | COMMENT | names::ZENDESK_CREATE_TICKET | names::ZENDESK_ADD_COMMENT
        )
    }
}

mod records;
mod work;

use records::ticket_record;
pub use records::{UserSeed, new_user, to_id, user_record};
use work::Work;
