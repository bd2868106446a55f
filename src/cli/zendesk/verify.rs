//! `scenarist zendesk verify ACCOUNT`: the seed guide's Verification section as a command. A
//! test contact writes on the account, the bot's questions are answered automatically, and
//! the sync runs against the real organization (its credentials, its mode, its team): the
//! command passes only when Zendesk has a ticket carrying the conversation's messages.
//!
//! The conversation lives in a memory store, so nothing of it stays behind in the data
//! directory; the Zendesk user and the ticket are real and stay in Zendesk. In mode A the
//! contact is linked first (found or created by its email), and an advisor message triggers
//! the sync; in mode B the scenario must route to the sync team.
#![expect(clippy::print_stdout, reason = "verify reports to the admin")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};

use super::super::load;
use super::{GlobalArgs, describe};
use crate::cli::ExitStatus;
use crate::config::{FieldType, Organization, SyncMode, Workspace};
use crate::diagnostic::did_you_mean;
use crate::runtime::engine::{Engine, Inbound};
use crate::runtime::state::{Author, Contact, Conversation, Input, Message, Status};
use crate::runtime::value::Value;
use crate::runtime::{Clock, SystemClock};
use crate::setup::{self, Data, ScenarioSource};
use crate::zendesk::actions::{Org, UserSeed};
use crate::zendesk::linking;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The channel account to test (a key of `accounts`, e.g. `facebook:acme`).
    pub account: String,
    /// The test contact's email: the Zendesk user found or created for the ticket.
    #[arg(long, default_value = "verify@example.com")]
    pub email: String,
    /// The test contact's name.
    #[arg(long, default_value = "Scenarist Verification")]
    pub name: String,
}

const FIRST_MESSAGE: &str = "Hello, this is a test message from scenarist zendesk verify.";
const ADVISOR_MESSAGE: &str = "This is a test reply from scenarist zendesk verify.";
/// The answer to a question that is neither a choice nor about the email.
const FILLER: &str = "Scenarist verification";
const MAX_ANSWERS: usize = 6;
/// How long the bot and the sync may take, each.
const BOT_WAIT: Duration = Duration::from_secs(20);
const SYNC_WAIT: Duration = Duration::from_secs(30);

pub(super) fn run(args: &VerifyArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match super::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let accounts = &workspace.config.accounts;
    let account = accounts.get(&args.account).ok_or_else(|| {
        let hint = did_you_mean(&args.account, accounts.keys().map(String::as_str))
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        anyhow!(
            "there is no account `{}` in {}{hint}",
            args.account,
            workspace.file.name()
        )
    })?;
    let Some(org_name) = account.zendesk.clone() else {
        println!(
            "✗ account `{}` is not linked to a Zendesk organization: nothing of it reaches \
             Zendesk (add `zendesk: ORG` to the account)",
            args.account
        );
        return Ok(ExitStatus::Failure);
    };
    let folder = workspace.base.join(&workspace.config.scenarios);
    let stdout = &mut std::io::stdout().lock();
    let header = "✗ the scenarios have errors; fix them first:";
    let paths = std::slice::from_ref(&folder);
    let scenarios = match load::scenarios(&workspace, paths, global, stdout, header)
        .with_context(|| format!("cannot read {}", folder.display()))?
    {
        Ok(scenarios) => scenarios,
        Err(status) => return Ok(status),
    };
    if !scenarios.iter().any(|s| s.name == account.scenario) {
        anyhow::bail!(
            "account `{}` runs the scenario `{}`, which is not in {}",
            args.account,
            account.scenario,
            folder.display()
        );
    }
    let runtime = super::runtime()?;
    // On a memory store, so a sandbox organization is verified against a fresh sandbox.
    let clock = Arc::new(SystemClock) as Arc<dyn Clock>;
    let app = runtime.block_on(setup::start(&workspace, Data::Memory, clock, |_| {}))?;
    let workspace = &app.workspace;
    let organization = super::organization(workspace, &org_name)?;
    let org = match super::org(workspace, &org_name) {
        Ok(org) => org,
        Err(error) => {
            println!("✗ {error:#}");
            return Ok(ExitStatus::Failure);
        }
    };
    let check = Verification {
        args,
        workspace,
        engine: &app.engine,
        organization,
        org,
        sync_on: account.sync,
        conversation: format!("verify-{}", SystemClock.now()),
    };
    runtime.block_on(check.run(&scenarios))
}

struct Verification<'a> {
    args: &'a VerifyArgs,
    workspace: &'a Workspace,
    engine: &'a Engine,
    organization: &'a Organization,
    org: Org,
    sync_on: bool,
    conversation: String,
}

impl Verification<'_> {
    async fn run(&self, scenarios: &[ScenarioSource]) -> anyhow::Result<ExitStatus> {
        let engine = self.engine;
        for scenario in scenarios {
            engine.publish(&scenario.source)?;
        }
        let sync = &self.organization.sync;
        let mode = match sync.mode {
            SyncMode::Interface => "mode A, from the interface".to_owned(),
            SyncMode::Zendesk => format!(
                "mode B, from Zendesk with the team `{}`",
                sync.team.as_deref().unwrap_or("?")
            ),
        };
        println!(
            "Verifying `{}` → Zendesk organization `{}` ({}, {mode}).",
            self.args.account,
            self.org.name,
            self.org.client.base_url()
        );
        println!(
            "A real user and ticket are created there for {}.\n",
            self.args.email
        );

        let hint = "Check the organization's credentials with `scenarist zendesk check`.";
        match super::agent(&self.org.client, hint).await {
            Ok(user) => println!("✓ Zendesk accepts the credentials ({})", describe(&user)),
            Err(problem) => {
                println!("✗ {problem}");
                return Ok(ExitStatus::Failure);
            }
        }
        let email_field = self.email_field();
        let mut fields = BTreeMap::new();
        if let Some(field) = &email_field {
            fields.insert(field.clone(), Value::text(&self.args.email));
        }
        if sync.mode == SyncMode::Interface && self.sync_on {
            let mut contact = Contact::new(&self.args.account, "scenarist-verify", &self.args.name);
            contact.fields.clone_from(&fields);
            let seed = UserSeed {
                name: Some(self.args.name.clone()),
                email: Some(self.args.email.clone()),
                phone: None,
            };
            match linking::create_and_link(engine.store().as_ref(), &self.org, &contact, &seed)
                .await
            {
                Ok(user) => println!(
                    "✓ the test contact is linked to Zendesk user #{} ({})",
                    user.id.unwrap_or_default(),
                    describe(&user)
                ),
                Err(error) => {
                    println!("✗ cannot link the test contact to a Zendesk user: {error}");
                    return Ok(ExitStatus::Failure);
                }
            }
        }
        let inbound = |n: usize, text: &str| Inbound {
            account: self.args.account.clone(),
            conversation: self.conversation.clone(),
            message_id: format!("{}-{n}", self.conversation),
            contact_id: "scenarist-verify".to_owned(),
            contact_name: self.args.name.clone(),
            fields: fields.clone(),
            text: text.to_owned(),
        };
        engine.handle(inbound(0, FIRST_MESSAGE)).await?;
        println!(
            "✓ the test message arrived (conversation {})",
            self.conversation
        );
        let deadline = Instant::now() + BOT_WAIT;
        let mut answers = 0;
        while answers < MAX_ANSWERS && Instant::now() < deadline {
            engine.settle(16).await?;
            let conversation = self.current(engine)?;
            match conversation.status {
                Status::Answer { .. } => {
                    let history = engine.history(&conversation)?;
                    let question = history
                        .iter()
                        .rev()
                        .flat_map(|turn| turn.messages.iter().rev())
                        .find(|m| m.author == Author::Bot);
                    let answer = answer_for(question, &self.args.email);
                    println!("  (answering the bot: \"{answer}\")");
                    answers += 1;
                    engine.handle(inbound(answers, &answer)).await?;
                }
                Status::Action { .. } => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => break,
            }
        }
        if sync.mode == SyncMode::Interface {
            let advisor = Input::Advisor {
                message_id: format!("{}-advisor", self.conversation),
                advisor_id: "scenarist-verify".to_owned(),
                advisor_name: "Verification".to_owned(),
                text: ADVISOR_MESSAGE.to_owned(),
            };
            engine.apply(&self.conversation, advisor).await?;
            println!("✓ an advisor replied (in mode A, that is what syncs a linked contact)");
        }
        let deadline = Instant::now() + SYNC_WAIT;
        let conversation = loop {
            engine.settle(16).await?;
            let conversation = self.current(engine)?;
            let pending = conversation
                .pending
                .iter()
                .any(|e| e.action.starts_with("sync."));
            if !pending || Instant::now() >= deadline {
                break conversation;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let history = engine.history(&conversation)?;
        let messages: Vec<&Message> = history.iter().flat_map(|t| &t.messages).collect();
        Ok(self.report(&conversation, &messages).await)
    }

    fn current(&self, engine: &Engine) -> anyhow::Result<Conversation> {
        engine
            .conversation(&self.conversation)?
            .context("the test conversation disappeared from the store")
    }

    /// The contact field holding the email: the sync's email field, else the field the
    /// create or search lists map `email` from, else the first email-typed field.
    fn email_field(&self) -> Option<String> {
        let fields = &self.organization.fields;
        self.organization
            .sync
            .email_field
            .clone()
            .or_else(|| fields.create.get("email").cloned())
            .or_else(|| fields.search.get("email").cloned())
            .or_else(|| {
                self.workspace
                    .config
                    .contact_fields
                    .iter()
                    .find(|(_, spec)| spec.kind() == FieldType::Email)
                    .map(|(name, _)| name.clone())
            })
    }

    /// Prints what happened and whether it is what the guide expects.
    async fn report(&self, conversation: &Conversation, messages: &[&Message]) -> ExitStatus {
        let replies: Vec<&&Message> = messages
            .iter()
            .filter(|m| m.author == Author::Bot)
            .collect();
        if replies.is_empty() {
            println!("✗ the bot did not answer");
        } else {
            println!("✓ the bot answered:");
            for reply in &replies {
                for line in reply.text.lines() {
                    println!("    bot: {line}");
                }
            }
        }
        let sync = &self.organization.sync;
        let team = conversation.team.as_deref();
        match (sync.mode, sync.team.as_deref()) {
            (SyncMode::Zendesk, Some(wanted)) if team == Some(wanted) => {
                println!("✓ team: {wanted} (the sync team)");
            }
            (SyncMode::Zendesk, wanted) => println!(
                "✗ team: {}; mode B needs the conversation routed to the sync team `{}`",
                team.unwrap_or("none"),
                wanted.unwrap_or("?")
            ),
            (SyncMode::Interface, _) => println!("  team: {}", team.unwrap_or("none")),
        }
        let Some(ticket) = conversation.sync.as_ref().and_then(|s| s.ticket_id) else {
            println!("✗ no ticket was created:");
            for reason in self.reasons(conversation) {
                println!("    - {reason}");
            }
            return ExitStatus::Failure;
        };
        let base = self.org.client.base_url();
        match self.org.client.ticket(ticket).await {
            Ok(found) => println!(
                "✓ ticket #{ticket} ({}): {base}/agent/tickets/{ticket}",
                found.status
            ),
            Err(error) => {
                println!("✗ ticket #{ticket} cannot be read back from Zendesk: {error}");
                return ExitStatus::Failure;
            }
        }
        let comments = match self.org.client.comments(ticket).await {
            Ok(comments) => comments,
            Err(error) => {
                println!("✗ the ticket's comments cannot be read back: {error}");
                return ExitStatus::Failure;
            }
        };
        let text = squash(
            &comments
                .iter()
                .map(|c| c.body.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let sent: Vec<&str> = messages
            .iter()
            .filter(|m| m.author == Author::Contact || matches!(m.author, Author::Advisor { .. }))
            .map(|m| m.text.as_str())
            .collect();
        let missing: Vec<&&str> = sent.iter().filter(|t| !text.contains(&squash(t))).collect();
        let status = if missing.is_empty() && !comments.is_empty() {
            println!(
                "✓ the ticket carries the conversation ({} comment{}):",
                comments.len(),
                if comments.len() == 1 { "" } else { "s" }
            );
            ExitStatus::Success
        } else {
            println!("✗ the ticket lacks messages of the conversation:");
            for text in &missing {
                println!("    missing: {text}");
            }
            println!("  its comments:");
            ExitStatus::Failure
        };
        for (i, comment) in comments.iter().enumerate() {
            println!("    [{}]", i + 1);
            for line in comment.body.lines().filter(|l| !l.trim().is_empty()) {
                println!("      {line}");
            }
        }
        status
    }

    /// Why no ticket exists, as far as the conversation and the config tell.
    fn reasons(&self, conversation: &Conversation) -> Vec<String> {
        let sync = &self.organization.sync;
        let mut reasons = Vec::new();
        if !self.sync_on {
            reasons.push(format!(
                "synchronization is off for `{}` (its `sync` toggle in the config)",
                self.args.account
            ));
        }
        if sync.mode == SyncMode::Zendesk {
            if let Some(team) = &sync.team {
                if conversation.team.as_ref() != Some(team) {
                    let scenario = &conversation.scenario;
                    reasons.push(format!(
                        "the conversation never reached the sync team `{team}`: the scenario \
                         `{scenario}` must route to it (`route team \"{team}\"`)"
                    ));
                }
            }
        }
        if let Some(state) = &conversation.sync {
            if let Some(error) = &state.last_error {
                reasons.push(format!("last sync error: {error}"));
            }
            if !state.triggered && reasons.is_empty() {
                reasons.push("the sync was never triggered".to_owned());
            }
        }
        for dead in &conversation.dead {
            reasons.push(format!(
                "{} ({}) failed for good: {}",
                dead.effect.id, dead.effect.action, dead.error
            ));
        }
        for effect in conversation
            .pending
            .iter()
            .filter(|e| e.action.starts_with("sync."))
        {
            reasons.push(format!(
                "{} ({}) still pending after {} s, {}{}",
                effect.id,
                effect.action,
                SYNC_WAIT.as_secs(),
                crate::cli::output::plural(
                    usize::try_from(effect.attempts).unwrap_or(usize::MAX),
                    "attempt"
                ),
                effect
                    .last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ));
        }
        if reasons.is_empty() {
            reasons.push("the conversation has no sync state (is the account linked?)".to_owned());
        }
        reasons
    }
}

/// A question with choices gets its first choice; one about the email gets the email;
/// anything else a short text.
fn answer_for(question: Option<&Message>, email: &str) -> String {
    let Some(question) = question else {
        return FILLER.to_owned();
    };
    if let Some(choice) = question.choices.first() {
        return choice.clone();
    }
    let text = question.text.to_lowercase();
    if text.contains("email") || text.contains("e-mail") {
        return email.to_owned();
    }
    FILLER.to_owned()
}

/// Whitespace collapsed (Zendesk collapses it in plain bodies).
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot(text: &str, choices: &[&str]) -> Message {
        Message {
            author: Author::Bot,
            text: text.into(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            parts: Vec::new(),
            at: 0,
        }
    }

    #[test]
    fn questions_get_plausible_answers() {
        let email = "v@example.com";
        assert_eq!(
            answer_for(Some(&bot("Which one?", &["Orders", "Other"])), email),
            "Orders"
        );
        assert_eq!(
            answer_for(Some(&bot("What is your Email address?", &[])), email),
            email
        );
        assert_eq!(
            answer_for(Some(&bot("Your order number?", &[])), email),
            FILLER
        );
        assert_eq!(answer_for(None, email), FILLER);
    }
}
