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

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value as Json, json};
use tokio::sync::OnceCell;

use super::client::{Credentials, Timeouts, ZendeskClient, ZendeskError};
use super::model::{Ticket, User};
use super::secret::Secret;
use super::sync::{COMMENT, CREATE, SOLVE, WHOLE_TURN};
use super::transcript::{self, MAX_COMMENT_BYTES};
use scenarist_lang::actions::names;
use scenarist_lang::config::{Auth, FieldLists, Organization, Workspace};
use scenarist_runtime::runner::{ActionFuture, ActionResult, ActionRunner, BuiltinActions};
use scenarist_runtime::state::{Author, Contact, Effect, Message};
use scenarist_runtime::store::Store;
use scenarist_runtime::value::Value;

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

/// The credentials an organization's config points at (environment variable or file).
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
            let built = credentials(organization, &workspace.base).and_then(|credentials| {
                ZendeskClient::new(&organization.url, credentials, timeouts)
                    .map_err(|e| e.to_string())
            });
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
    fn executes(&self) -> &'static [&'static str] {
        &[
            names::ZENDESK_FIND_OR_CREATE_USER,
            names::ZENDESK_CREATE_TICKET,
            names::ZENDESK_ADD_COMMENT,
            names::ZENDESK_SOLVE_TICKET,
        ]
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

/// One effect being run.
struct Work<'a> {
    org: &'a Org,
    store: &'a dyn Store,
    effect: &'a Effect,
    contact: &'a Contact,
    account: &'a str,
}

impl Work<'_> {
    fn text(&self, name: &str) -> Option<String> {
        self.effect
            .request
            .get(name)
            .map(ToString::to_string)
            .filter(|s| !s.is_empty())
    }

    fn id(&self, name: &str) -> Option<u64> {
        let value = self.effect.request.get(name)?;
        value
            .as_number()
            .or_else(|| value.field("id").and_then(Value::as_number))
            .map(to_id)
    }

    fn external_id(&self) -> String {
        format!("scenarist-{}", self.effect.conversation)
    }

    /// The user with this email (exact), or a new one from the configured create fields.
    async fn find_or_create_user(&self) -> Result<User, ZendeskError> {
        let email = self
            .text("email")
            .ok_or_else(|| ZendeskError::Decode("no email to find the Zendesk user by".into()))?;
        let seed = UserSeed {
            name: self.text("name"),
            email: Some(email),
            phone: self.text("phone"),
        };
        find_or_create_user(self.org, self.contact, &seed).await
    }

    /// The conversation's ticket if it exists (by its external id), else a new one; with
    /// the position of the last message its first comment holds (the same either way: it
    /// comes from the effect's frozen history).
    async fn ticket(
        &self,
        requester: u64,
        subject: &str,
        contact_name: &str,
        extra: Option<&str>,
        tags: Vec<String>,
    ) -> Result<(Ticket, (u64, u32)), ZendeskError> {
        let history = self.history(self.effect.created_seq)?;
        let messages: Vec<&Message> = history.iter().map(|(_, _, m)| m).collect();
        let (mut html, count) = transcript::history_html(self.account, contact_name, &messages);
        let cursor = match history.get(count) {
            // Some messages did not fit: the comments pick up after the last one that did.
            Some(_) => history
                .get(count.saturating_sub(1))
                .map_or((0, 0), |(seq, index, _)| (*seq, *index)),
            None => (self.effect.created_seq, WHOLE_TURN),
        };
        let external_id = self.external_id();
        if let Some(ticket) = self
            .org
            .client
            .tickets_by_external_id(&external_id)
            .await?
            .into_iter()
            .next()
        {
            return Ok((ticket, cursor));
        }
        if let Some(extra) = extra {
            html = format!("<p>{}</p>{html}", transcript::escape(extra));
        }
        let body = json!({ "ticket": {
            "subject": subject,
            "requester_id": requester,
            "external_id": external_id,
            "tags": tags,
            "comment": { "html_body": html, "public": true },
        }});
        let bytes = serde_json::to_vec(&body).map_err(|e| ZendeskError::Decode(e.to_string()))?;
        let ticket = self
            .org
            .client
            .create_ticket(bytes, &self.effect.id)
            .await?;
        Ok((ticket, cursor))
    }

    async fn scenario_ticket(&self) -> Result<Ticket, ZendeskError> {
        let requester = self
            .id("requester")
            .ok_or_else(|| ZendeskError::Decode("the requester has no id".into()))?;
        let subject = self
            .text("subject")
            .unwrap_or_else(|| "Conversation".into());
        let name = self
            .effect
            .request
            .get("requester")
            .and_then(|r| r.field("name"))
            .map(ToString::to_string)
            .unwrap_or_default();
        let tags = match self.effect.request.get("tags") {
            Some(Value::List(items)) => items.iter().map(ToString::to_string).collect(),
            _ => Vec::new(),
        };
        let (ticket, _) = self
            .ticket(
                requester,
                &subject,
                &name,
                self.text("comment").as_deref(),
                tags,
            )
            .await?;
        Ok(ticket)
    }

    async fn sync_create(&self) -> Result<Value, ZendeskError> {
        let user = match self.id("user_id") {
            Some(user) => user,
            None => self
                .find_or_create_user()
                .await?
                .id
                .ok_or_else(|| ZendeskError::Decode("the created user has no id".into()))?,
        };
        let name = self.text("name").unwrap_or_default();
        let subject = format!(
            "Conversation with {} on {}",
            if name.is_empty() { "a contact" } else { &name },
            self.account
        );
        let channel = self.account.split(':').next().unwrap_or("chat").to_owned();
        let (ticket, (seq, index)) = self
            .ticket(
                user,
                &subject,
                &name,
                None,
                vec!["scenarist".into(), channel],
            )
            .await?;
        Ok(record([
            ("ticket_id", ticket.id),
            ("user_id", user),
            ("seq", seq),
            ("index", u64::from(index)),
        ]))
    }

    /// The messages after the sync cursor become one comment: the longest run by the same
    /// side (the contact's, authored by their Zendesk user; or the bot's and advisors',
    /// labelled), so that a burst — messages that arrived while the previous comment was in
    /// flight or held back by a 429 — costs one update, not one each (Zendesk allows about 30
    /// updates per ticket per 10 minutes). The run is fixed by the cursor and the effect's
    /// frozen history, so every attempt sends the same comment.
    async fn sync_comment(&self) -> Result<Value, ZendeskError> {
        let ticket = self
            .id("ticket_id")
            .ok_or_else(|| ZendeskError::Decode("no ticket to comment on".into()))?;
        let after = (
            self.id("after_seq").unwrap_or(0),
            self.id("after_index")
                .map_or(WHOLE_TURN, |i| u32::try_from(i).unwrap_or(WHOLE_TURN)),
        );
        let history = self.history(self.effect.created_seq)?;
        let unsent: Vec<&(u64, u32, Message)> = history
            .iter()
            .filter(|(seq, index, _)| (*seq, *index) > after)
            .collect();
        let Some((_, _, first)) = unsent.first() else {
            return Ok(record([
                ("seq", self.effect.created_seq),
                ("index", u64::from(WHOLE_TURN)),
            ]));
        };
        let from_contact = first.author == Author::Contact;
        let mut html = String::new();
        let mut last = (0, 0);
        for (seq, index, message) in unsent {
            let part = transcript::comment_html(message, &self.contact.name);
            let too_long = !html.is_empty() && html.len() + part.len() > MAX_COMMENT_BYTES;
            if (message.author == Author::Contact) != from_contact || too_long {
                break;
            }
            html.push_str(&part);
            last = (*seq, *index);
        }
        let author = if from_contact {
            self.id("user_id")
        } else {
            None
        };
        self.comment(ticket, &html, author, true).await?;
        Ok(record([("seq", last.0), ("index", u64::from(last.1))]))
    }

    async fn scenario_comment(&self) -> Result<Option<Value>, ZendeskError> {
        let ticket = self
            .id("ticket")
            .ok_or_else(|| ZendeskError::Decode("the ticket has no id".into()))?;
        let body = self.text("body").unwrap_or_default();
        let public = !matches!(self.effect.request.get("public"), Some(Value::Bool(false)));
        let id = self
            .comment(
                ticket,
                &format!("<p>{}</p>", transcript::escape(&body)),
                None,
                public,
            )
            .await?;
        Ok(id.map(|id| record([("id", id)])))
    }

    /// Adds a comment marked with the effect id, unless an earlier attempt already did.
    async fn comment(
        &self,
        ticket: u64,
        html: &str,
        author: Option<u64>,
        public: bool,
    ) -> Result<Option<u64>, ZendeskError> {
        if self.effect.started {
            let comments = self.org.client.comments(ticket).await?;
            if let Some(done) = comments
                .iter()
                .find(|c| c.custom("scenarist_effect") == Some(self.effect.id.as_str()))
            {
                return Ok(Some(done.id));
            }
        }
        let mut comment = json!({ "html_body": html, "public": public });
        if let Some(author) = author {
            comment["author_id"] = json!(author);
        }
        let body = json!({ "ticket": { "comment": comment, "metadata": { "scenarist_effect": self.effect.id } } });
        self.org.client.update_ticket(ticket, &body).await?;
        Ok(None)
    }

    async fn solve(&self) -> Result<(), ZendeskError> {
        let ticket = self
            .id("ticket_id")
            .or_else(|| self.id("ticket"))
            .ok_or_else(|| ZendeskError::Decode("no ticket to solve".into()))?;
        let current = self.org.client.ticket(ticket).await?;
        if matches!(current.status.as_str(), "solved" | "closed") {
            return Ok(());
        }
        let mut update = json!({ "status": "solved" });
        if current.assignee_id.is_none() {
            update["assignee_id"] = json!(self.org.agent().await?);
        }
        match self
            .org
            .client
            .update_ticket(ticket, &json!({ "ticket": update }))
            .await
        {
            Err(ZendeskError::Status {
                status: 422,
                summary,
                ..
            }) if summary.contains("closed") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Syncable messages of the conversation up to turn `upto`: (seq, index, message).
    fn history(&self, upto: u64) -> Result<Vec<(u64, u32, Message)>, ZendeskError> {
        let turns = self
            .store
            .history(&self.effect.conversation, upto)
            .map_err(|e| ZendeskError::Decode(format!("cannot read the history: {e}")))?;
        Ok(turns
            .into_iter()
            .flat_map(|turn| {
                let seq = turn.seq;
                turn.messages
                    .into_iter()
                    .enumerate()
                    .map(move |(i, m)| (seq, u32::try_from(i).unwrap_or(WHOLE_TURN), m))
            })
            .filter(|(_, _, m)| transcript::syncable(m))
            .collect())
    }
}

/// What the caller knows of a user to create, over the configured create fields.
#[derive(Clone, Debug, Default)]
pub struct UserSeed {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The user with the seed's email (an exact match among the search results), else one
/// created (or matched by email or external id) with `create_or_update` from `new_user`.
pub async fn find_or_create_user(
    org: &Org,
    contact: &Contact,
    seed: &UserSeed,
) -> Result<User, ZendeskError> {
    let email = seed
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ZendeskError::Decode("no email to find the Zendesk user by".into()))?;
    let found = org
        .client
        .search_users(&format!("email:\"{email}\""))
        .await?;
    if let Some(user) = found.into_iter().find(|u| {
        u.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }) {
        return Ok(user);
    }
    org.client
        .create_or_update_user(&new_user(&org.fields, contact, seed))
        .await
}

/// The `{"user": …}` body that creates a user: the configured create fields filled from the
/// contact, then the seed's name, email and phone over them. A user always gets a name (Zendesk
/// requires one): the seed's, the contact's, the email's local part, or "Contact".
pub fn new_user(fields: &FieldLists, contact: &Contact, seed: &UserSeed) -> Json {
    let mut user = serde_json::Map::new();
    let mut user_fields = serde_json::Map::new();
    for (property, field) in &fields.create {
        let Some(value) = contact_value(contact, field) else {
            continue;
        };
        match property.strip_prefix("user_fields.") {
            Some(key) => {
                user_fields.insert(key.to_owned(), value);
            }
            None => {
                user.insert(property.clone(), value);
            }
        }
    }
    let present = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    if let Some(email) = present(&seed.email) {
        user.insert("email".into(), json!(email));
    }
    if let Some(phone) = present(&seed.phone) {
        user.insert("phone".into(), json!(phone));
    }
    let email = user.get("email").and_then(Json::as_str).map(str::to_owned);
    let name = present(&seed.name)
        .or_else(|| {
            user.get("name")
                .and_then(Json::as_str)
                .filter(|n| !n.trim().is_empty())
                .map(str::to_owned)
        })
        .or_else(|| Some(contact.name.clone()).filter(|n| !n.trim().is_empty()))
        .or_else(|| {
            email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .filter(|local| !local.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Contact".to_owned());
    user.insert("name".into(), json!(name));
    if !user_fields.is_empty() {
        user.insert("user_fields".into(), Json::Object(user_fields));
    }
    user.insert("skip_verify_email".into(), json!(true));
    json!({ "user": user })
}

fn contact_value(contact: &Contact, field: &str) -> Option<Json> {
    match field {
        "name" => Some(json!(contact.name)).filter(|_| !contact.name.is_empty()),
        "id" => Some(json!(contact.id)),
        "first_name" => Some(json!(contact.first_name())),
        other => contact
            .fields
            .get(other)
            .map(scenarist_runtime::value::to_json),
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "Zendesk ids fit in 53 bits"
)]
/// A Zendesk id from a number of the runtime (a negative one reads as 0).
pub fn to_id(n: f64) -> u64 {
    n.max(0.0) as u64
}

#[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
fn record<const N: usize>(fields: [(&str, u64); N]) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::Number(v as f64)))
            .collect::<BTreeMap<_, _>>(),
    )
}

pub fn user_record(user: &User) -> Value {
    let mut fields = BTreeMap::new();
    if let Some(id) = user.id {
        #[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
        fields.insert("id".to_owned(), Value::Number(id as f64));
    }
    if let Some(email) = &user.email {
        fields.insert("email".to_owned(), Value::text(email));
    }
    fields.insert("name".to_owned(), Value::text(&user.name));
    Value::Record(fields)
}

fn ticket_record(ticket: &Ticket) -> Value {
    let mut fields = BTreeMap::new();
    #[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
    fields.insert("id".to_owned(), Value::Number(ticket.id as f64));
    fields.insert("status".to_owned(), Value::text(&ticket.status));
    if let Some(url) = &ticket.url {
        fields.insert("url".to_owned(), Value::text(url));
    }
    Value::Record(fields)
}
