//! The engine: one writer per conversation, every input applied through the pure
//! interpreter and committed through the store, acknowledged once durable.
//!
//! One input, start to end (design/architecture.md):
//! 1. wait for the input's turn in its conversation's line (`lines`: inputs of one
//!    conversation run one at a time, in arrival order; conversations run in parallel);
//! 2. a message id seen before returns the first answer again and changes nothing;
//! 3. load the conversation (checksum verified; a corrupt one is quarantined, never run);
//! 4. `interpreter::apply` → the new state, the history turn, outbox effects, timers;
//! 5. commit: side records, then the conversation record in one insert;
//! 6. wait until the write is durable under the flush policy, then answer.
//!
//! A storage error stops intake for good (`EngineError::Unavailable`): the process should
//! be restarted, not retried (reliability.md §2.4) — except a database out of reach for now
//! (`outage.rs`), which refuses the request only (`EngineError::Unreachable`). Timers and outbox effects are found
//! through the store's due index by `run_due`, so they survive restarts.
//!
//! The parts: `intake` (steps 2–3: de-duplication, finding or starting the conversation,
//! the declared contact fields), `commit` (step 5: the transition as one commit and its
//! answer), and beside this module `dispatch` (the scheduler and the outbox), `lines` and
//! `durability`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use super::catalog::{Catalog, ScenarioError};
use super::clock::Clock;
use super::delivery::Delivery;
use super::durability::{Durability, FlushPolicy};
use super::hook::AfterInput;
use super::interpreter::{self, Trace};
use super::lines::{Lines, Place};
use super::program::Program;
use super::state::{Contact, Conversation, Input, Part, Turn};
use super::value::Value;
use crate::runner::ActionRunner;

pub mod beside;
mod commit;
mod intake;
mod nodes;
#[cfg(test)]
mod nodes_tests;
mod outage;
#[cfg(test)]
mod outage_tests;
mod quarantine;
mod retire;
mod rights;
#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod testing;

use crate::store::{Store, StoreError};
use commit::{Schedule, commit_of, outcome};

/// A message from a contact, as a channel delivers it.
#[derive(Clone, Debug, Default)]
pub struct Inbound {
    pub account: String,
    pub conversation: String,
    pub message_id: String,
    pub contact_id: String,
    pub contact_name: String,
    /// Contact fields the channel knows; they update the contact record.
    pub fields: BTreeMap<String, Value>,
    pub text: String,
}

/// A bot message as channels show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The text; for a rich message its plain-text fallback, so clients that read only
    /// `text` still show something sensible.
    pub text: String,
    pub choices: Vec<String>,
    /// What a rich message shows besides text; empty for a plain message.
    pub parts: Vec<ReplyPart>,
}

/// A part of a rich message as the API gives it: `{"type": "link", "label": …, "url": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyPart {
    Link(LinkPart),
    Image(ImagePart),
    Card {
        title: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<ImagePart>,
        links: Vec<LinkPart>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkPart {
    pub label: String,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImagePart {
    pub url: String,
    pub alt: String,
}

impl From<&Part> for ReplyPart {
    fn from(part: &Part) -> Self {
        let link = |(label, url): &(String, String)| LinkPart {
            label: label.clone(),
            url: url.clone(),
        };
        let image = |(url, alt): &(String, String)| ImagePart {
            url: url.clone(),
            alt: alt.clone(),
        };
        match part {
            Part::Link { label, url } => ReplyPart::Link(link(&(label.clone(), url.clone()))),
            Part::Image { url, alt } => ReplyPart::Image(image(&(url.clone(), alt.clone()))),
            Part::Card {
                title,
                text,
                image: picture,
                links,
            } => ReplyPart::Card {
                title: title.clone(),
                text: text.clone(),
                image: picture.as_ref().map(image),
                links: links.iter().map(link).collect(),
            },
        }
    }
}

impl From<&ReplyPart> for Part {
    fn from(part: &ReplyPart) -> Self {
        let pair = |link: &LinkPart| (link.label.clone(), link.url.clone());
        let picture = |image: &ImagePart| (image.url.clone(), image.alt.clone());
        match part {
            ReplyPart::Link(link) => Part::Link {
                label: link.label.clone(),
                url: link.url.clone(),
            },
            ReplyPart::Image(image) => Part::Image {
                url: image.url.clone(),
                alt: image.alt.clone(),
            },
            ReplyPart::Card {
                title,
                text,
                image,
                links,
            } => Part::Card {
                title: title.clone(),
                text: text.clone(),
                image: image.as_ref().map(picture),
                links: links.iter().map(pair).collect(),
            },
        }
    }
}

/// The answer to an input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub conversation: String,
    pub replies: Vec<Reply>,
    /// `waiting`, `with_advisor` or `ended`.
    pub status: &'static str,
    pub team: Option<String>,
    /// The message id was seen before: these are the replies it got then.
    pub duplicate: bool,
    /// The history turn this input produced (or produced the first time).
    pub seq: u64,
    /// What ran, for coverage (empty for duplicates).
    #[serde(skip)]
    pub trace: Vec<Trace>,
    /// Contact fields the message carried that the config does not declare (not stored).
    pub ignored_fields: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Storage failed: nothing was acknowledged. Holds what a caller is told, in plain
    /// words (`StoreError::plain`); the detail went to the log when intake stopped.
    #[error("{0}")]
    Unavailable(String),
    #[error("no scenario runs on account `{0}`")]
    UnknownAccount(String),
    #[error("there is no conversation `{0}`")]
    UnknownConversation(String),
    /// The conversation's stored state failed its checksum; it is set aside.
    #[error("conversation `{0}` is quarantined: {1}")]
    Quarantined(String, String),
    /// The scenario version a conversation is pinned to cannot be loaded.
    #[error("scenario problem: {0}")]
    Scenario(#[from] ScenarioError),
    /// An `Idempotency-Key` already applied to this conversation with another request.
    #[error(
        "this Idempotency-Key was already used on conversation `{0}` with another request; send a new key for a new request"
    )]
    KeyReused(String),
    /// The database cannot be reached for now: nothing was acknowledged, intake goes on.
    /// Holds what a caller is told, in plain words (`StoreError::plain`).
    #[error("{0}")]
    Unreachable(String),
}

/// How the engine runs.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    pub flush: FlushPolicy,
    /// Account → scenario name (from the workspace config).
    pub routes: HashMap<String, String>,
    /// The scenario for accounts without a route (`chat`, `scenarist test`).
    pub default_scenario: Option<String>,
    /// Receives what every applied input ran (coverage reports of `scenarist test`).
    pub trace: Option<Arc<Mutex<Vec<Trace>>>>,
    /// The connector's work after each input (the Zendesk sync), if any.
    pub after_input: Option<Arc<dyn AfterInput>>,
    /// The contact fields the config declares: a channel's other fields are dropped, so a
    /// sender cannot grow a contact's record without bound. `None` (no config) keeps all.
    pub contact_fields: Option<Arc<BTreeSet<String>>>,
    /// The workspace's opening hours (`open support`, `next_open(support)`).
    pub schedules: Arc<crate::eval::Schedules>,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    actions: Arc<dyn ActionRunner>,
    durability: Arc<Durability>,
    catalog: Catalog,
    /// Swapped whole by [`Engine::reconfigure`]; an input runs on the options it started with.
    options: Mutex<Arc<EngineOptions>>,
    lines: Lines,
    in_flight: Mutex<HashSet<String>>,
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One lock per contact record (`account\0id`): conversations and an advisor's linking
    /// write it one at a time, so none overwrites another's change.
    contacts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    failure: Mutex<Option<String>>,
    /// The last call to the store found the database out of reach (`outage.rs`).
    unreachable: std::sync::atomic::AtomicBool,
    kick: tokio::sync::Notify,
    /// Held by a contact's erasure (`rights.rs`): one at a time.
    erasing: tokio::sync::Mutex<()>,
}

/// What an input is: a contact's message (which may create the conversation) or anything
/// else, with the id a sender may repeat it with.
enum Request {
    Contact(Inbound),
    Other(Input, Option<Delivery>),
}

impl Engine {
    /// Must be called inside a tokio runtime (the group-commit flusher is spawned on it).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        actions: Arc<dyn ActionRunner>,
        options: EngineOptions,
    ) -> Self {
        let durability = Durability::start(Arc::clone(&store), options.flush);
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                actions,
                durability,
                catalog: Catalog::default(),
                options: Mutex::new(Arc::new(options)),
                lines: Lines::default(),
                in_flight: Mutex::new(HashSet::new()),
                lanes: Mutex::new(HashMap::new()),
                contacts: Mutex::new(HashMap::new()),
                failure: Mutex::new(None),
                unreachable: std::sync::atomic::AtomicBool::new(false),
                kick: tokio::sync::Notify::new(),
                erasing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Makes `source` the newest version of its scenario (new conversations get it).
    pub fn publish(&self, source: &str) -> Result<Arc<Program>, EngineError> {
        self.inner
            .catalog
            .publish(self.inner.store.as_ref(), source)
            .map_err(EngineError::Scenario)
    }

    /// The options inputs run with from now on (a config reload changes accounts' routes
    /// and sync settings); the flush policy stays the one the engine started with.
    pub fn reconfigure(&self, change: impl FnOnce(&mut EngineOptions)) {
        let mut options = lock(&self.inner.options);
        let mut next = EngineOptions::clone(&options);
        change(&mut next);
        *options = Arc::new(next);
    }

    /// Whether `account` is one of the config's accounts.
    pub fn serves_account(&self, account: &str) -> bool {
        self.options().routes.contains_key(account)
    }

    fn options(&self) -> Arc<EngineOptions> {
        Arc::clone(&lock(&self.inner.options))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Why intake stopped, if it did, in the plain words callers are told.
    pub fn failure(&self) -> Option<String> {
        lock(&self.inner.failure).clone()
    }

    /// A contact's message.
    pub async fn handle(&self, inbound: Inbound) -> Result<Outcome, EngineError> {
        let place = self.place(&inbound.conversation);
        self.handle_at(place, inbound).await
    }

    /// A place in a conversation's line, taken now: inputs run in the order their places
    /// were taken, whatever order their tasks are scheduled in.
    pub fn place(&self, conversation: &str) -> Place {
        self.inner.lines.place(conversation)
    }

    /// A contact's message, run at a place taken earlier with [`Engine::place`].
    pub async fn handle_at(
        &self,
        place: Place,
        mut inbound: Inbound,
    ) -> Result<Outcome, EngineError> {
        if place.conversation() != inbound.conversation {
            return Err(EngineError::UnknownConversation(inbound.conversation));
        }
        let id = inbound.conversation.clone();
        let ignored_fields = self.keep_declared(&mut inbound.fields);
        let mut outcome = self
            .process(place, Request::Contact(inbound))
            .await?
            .ok_or(EngineError::UnknownConversation(id))?;
        outcome.ignored_fields = ignored_fields;
        Ok(outcome)
    }

    /// Any other input (advisor message, team, return to bot, close, timer, action result).
    /// `Ok(None)`: the input no longer concerned the conversation and changed nothing. An
    /// advisor's message id seen before returns the first answer, like a contact's.
    pub async fn apply(
        &self,
        conversation: &str,
        input: Input,
    ) -> Result<Option<Outcome>, EngineError> {
        self.apply_once(conversation, input, None).await
    }

    /// An advisor's event with the `Idempotency-Key` it was sent with (`key` from
    /// [`Delivery::event`]): a repeat returns the first answer and changes nothing; the same
    /// key with another request is [`EngineError::KeyReused`].
    pub async fn apply_once(
        &self,
        conversation: &str,
        input: Input,
        key: Option<Delivery>,
    ) -> Result<Option<Outcome>, EngineError> {
        let delivery = key.or_else(|| Delivery::of(&input));
        self.process(self.place(conversation), Request::Other(input, delivery))
            .await
    }

    /// A corrupt record quarantines its conversation (and only it).
    pub fn conversation(&self, id: &str) -> Result<Option<Conversation>, EngineError> {
        self.inner
            .store
            .conversation(id)
            .map_err(|e| self.fail(id, &e))
    }

    pub fn history(&self, conversation: &Conversation) -> Result<Vec<Turn>, EngineError> {
        self.inner
            .store
            .history(&conversation.id, conversation.last_seq)
            .map_err(|e| self.fail(&conversation.id, &e))
    }

    /// A corrupt contact record reads as none (the next message writes a new one).
    pub fn contact(&self, account: &str, id: &str) -> Result<Option<Contact>, EngineError> {
        self.load_contact(account, id)
    }

    /// Whether a scenario version has a step (for `return to bot` at a named step).
    pub fn has_step(&self, version: &str, step: &str) -> Result<bool, EngineError> {
        let program = self
            .inner
            .catalog
            .version(self.inner.store.as_ref(), version)
            .map_err(EngineError::Scenario)?;
        Ok(program.has_step(step))
    }

    /// The steps a conversation of this scenario version may be handed back at.
    pub fn entry_points(&self, version: &str) -> Result<Vec<String>, EngineError> {
        let program = self
            .inner
            .catalog
            .version(self.inner.store.as_ref(), version)
            .map_err(EngineError::Scenario)?;
        Ok(program.entry_points())
    }

    async fn process(
        &self,
        place: Place,
        request: Request,
    ) -> Result<Option<Outcome>, EngineError> {
        place.turn().await;
        if let Some(reason) = self.failure() {
            return Err(EngineError::Unavailable(reason));
        }
        // The same turn among every node on the store (`nodes.rs`), taken before the record
        // is read and, like `place`, held until the end.
        let held = self.hold_conversation(place.conversation()).await?;
        self.process_locked(place.conversation(), request, held)
            .await
    }

    async fn process_locked(
        &self,
        id: &str,
        request: Request,
        held: crate::store::Held,
    ) -> Result<Option<Outcome>, EngineError> {
        if let Some(reason) = self.failure() {
            return Err(EngineError::Unavailable(reason));
        }
        let store = self.inner.store.as_ref();
        // A quarantined conversation's record fails its checksum again here: it is never run.
        let existing = store.conversation(id).map_err(|e| self.fail(id, &e))?;
        let (account, contact_id) = match (&request, &existing) {
            (Request::Contact(inbound), _) => (&inbound.account, &inbound.contact_id),
            (Request::Other(..), Some(conversation)) => {
                (&conversation.account, &conversation.contact)
            }
            (Request::Other(..), None) => {
                return Err(EngineError::UnknownConversation(id.to_owned()));
            }
        };
        let contact_lock = self.contact_lock(account, contact_id);
        let _contact = contact_lock.lock().await;
        let held = self.hold_contact(held, account, contact_id).await?;
        let (conversation, contact, stored_contact, input, delivery) = match request {
            Request::Contact(inbound) => {
                let delivery = Delivery::Contact(inbound.message_id.clone());
                if let Some(conversation) = &existing {
                    if let Some(outcome) = self.duplicate(conversation, &delivery)? {
                        return Ok(Some(outcome));
                    }
                }
                let (conversation, contact, stored, input) =
                    self.prepare_contact(existing, inbound)?;
                (conversation, contact, stored, input, Some(delivery))
            }
            Request::Other(input, delivery) => {
                let conversation =
                    existing.ok_or_else(|| EngineError::UnknownConversation(id.to_owned()))?;
                if let Some(delivery) = &delivery {
                    if let Some(outcome) = self.duplicate(&conversation, delivery)? {
                        return Ok(Some(outcome));
                    }
                }
                let stored = self.load_contact(&conversation.account, &conversation.contact)?;
                let contact = stored.clone().unwrap_or_else(|| {
                    Contact::new(&conversation.account, &conversation.contact, "")
                });
                (conversation, contact, stored, input, delivery)
            }
        };
        let program = self
            .inner
            .catalog
            .version(store, &conversation.version)
            .map_err(EngineError::Scenario)?;
        let before = Schedule::of(&conversation);
        let finished = match &input {
            Input::ActionDone { effect, .. } => conversation
                .pending
                .iter()
                .find(|e| e.id == *effect)
                .cloned(),
            _ => None,
        };
        let now = self.inner.clock.now();
        let options = self.options();
        let Some(mut transition) = interpreter::apply(
            &program,
            conversation,
            contact,
            &input,
            delivery.as_ref(),
            now,
            &options.schedules,
        ) else {
            return Ok(None);
        };
        if let Some(hook) = &options.after_input {
            let account = transition.conversation.account.clone();
            hook.after_input(
                &account,
                &mut transition.conversation,
                &mut transition.contact,
                &input,
                finished.as_ref(),
                now,
            );
        }
        for error in &transition.errors {
            tracing::error!(conversation = id, scenario = %program.name, "{error}");
        }
        if let Some(sink) = &options.trace {
            lock(sink).extend(transition.trace.iter().cloned());
        }
        let (commit, trace) = commit_of(
            &before,
            stored_contact.as_ref(),
            transition,
            delivery.as_ref(),
        );
        let immediate = commit.due.iter().any(|d| d.at <= now);
        // Locks lost with their session (a database restart) must not cover a commit: the
        // commit checks them (`store::pg::fence`).
        store
            .commit_held(&commit, &held)
            .map_err(|e| self.storage(&e))?;
        self.reachable();
        // The outbox's depth follows its commits, so `/metrics` never scans for it. A shared
        // store's outbox also changes by other processes' commits: the scheduler counts it.
        if !store.backend().shared() {
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            let queued = count(commit.conversation.pending.len()) - count(before.effects.len());
            crate::metrics::metrics().outbox_depth.inc_by(queued);
        }
        self.inner
            .durability
            .wait()
            .await
            .map_err(|e| self.storage(&e))?;
        if immediate {
            self.inner.kick.notify_one();
        }
        let empty = Turn {
            seq: commit.conversation.last_seq,
            at: now,
            message_id: None,
            messages: Vec::new(),
        };
        let turn = commit.turn.as_ref().unwrap_or(&empty);
        Ok(Some(outcome(&commit.conversation, turn, false, trace)))
    }

    /// A corrupt value quarantines the conversation; anything else stops intake.
    fn fail(&self, id: &str, error: &StoreError) -> EngineError {
        if error.is_corrupt() {
            self.quarantine(id, error)
        } else {
            self.storage(error)
        }
    }

    fn quarantine(&self, id: &str, error: &StoreError) -> EngineError {
        tracing::error!(conversation = id, %error, "conversation quarantined");
        if let Err(store_error) = self.inner.store.quarantine(id, &error.to_string()) {
            return self.storage(&store_error);
        }
        EngineError::Quarantined(id.to_owned(), error.to_string())
    }

    /// Records a storage failure: intake stops for good. The log gets the detail, once; the
    /// failure (and every caller from now on) gets plain words.
    fn storage(&self, error: &StoreError) -> EngineError {
        if error.is_transient() {
            return self.unreachable(error);
        }
        let mut failure = lock(&self.inner.failure);
        let reason = failure.get_or_insert_with(|| {
            tracing::error!(%error, "the engine stops accepting messages");
            error.plain()
        });
        EngineError::Unavailable(reason.clone())
    }

    pub(super) fn inner_actions(&self) -> &Arc<dyn ActionRunner> {
        &self.inner.actions
    }

    /// The lock that serializes one conversation's effects.
    pub(super) fn effect_lane(&self, conversation: &str) -> Arc<tokio::sync::Mutex<()>> {
        keyed_lock(&self.inner.lanes, conversation)
    }

    fn contact_lock(&self, account: &str, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut key = String::with_capacity(account.len() + 1 + id.len());
        key.push_str(account);
        key.push('\0');
        key.push_str(id);
        keyed_lock(&self.inner.contacts, &key)
    }

    /// Changes a stored contact outside a conversation step (an advisor links it to a
    /// Zendesk user), in turn with the conversations that write it; durable on return.
    /// `Ok(None)`: there is no such contact.
    pub async fn update_contact<R>(
        &self,
        account: &str,
        id: &str,
        change: impl FnOnce(&mut Contact) -> R,
    ) -> Result<Option<(Contact, R)>, EngineError> {
        if let Some(reason) = self.failure() {
            return Err(EngineError::Unavailable(reason));
        }
        let contact_lock = self.contact_lock(account, id);
        let _contact = contact_lock.lock().await;
        let _held = self
            .hold_contact(crate::store::Held::none(), account, id)
            .await?;
        let Some(mut contact) = self.load_contact(account, id)? else {
            return Ok(None);
        };
        let result = change(&mut contact);
        let store = &self.inner.store;
        store.put_contact(&contact).map_err(|e| self.storage(&e))?;
        self.inner
            .durability
            .wait()
            .await
            .map_err(|e| self.storage(&e))?;
        Ok(Some((contact, result)))
    }

    pub(super) fn in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        lock(&self.inner.in_flight)
    }

    pub(super) fn kicked(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.kick.notified()
    }

    pub(super) fn storage_error(&self, error: &StoreError) -> EngineError {
        self.storage(error)
    }
}

/// The lock for `key` in `locks`, made on first use; unused ones are dropped now and then.
fn keyed_lock(
    locks: &Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    key: &str,
) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = lock(locks);
    if let Some(held) = locks.get(key) {
        return Arc::clone(held);
    }
    if locks.len() > 10_000 {
        locks.retain(|_, held| Arc::strong_count(held) > 1);
    }
    Arc::clone(locks.entry(key.to_owned()).or_default())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
