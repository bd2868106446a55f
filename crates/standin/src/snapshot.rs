//! The state file's content ([`Snapshot`], `{"version": 1, …}`) and its conversions from and
//! to the stand-in's data. These serde structs are private to the stand-in, so the public
//! record types keep their shapes and the file format changes only here. Maps are
//! `BTreeMap`s and lists follow id order, so the same data always gives the same file.
//!
//! Invariant: [`Snapshot::restore`] refuses a snapshot whose counters would hand out an id
//! already in use, or whose agent is not among its users.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::{
    Comment, CommentRecord, IdempotencyEntry, RefreshGrant, State, Ticket, TicketField,
    TicketFieldRecord, User, UserRecord,
};

/// The format this build writes, and the only one it reads.
pub(crate) const VERSION: u64 = 1;

/// The file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    version: u64,
    /// The stand-in's URL when it wrote the file: stored idempotent replies hold URLs, which
    /// are moved to the new URL when a restart lands on another port.
    base_url: String,
    agent_id: u64,
    /// The next user, comment, audit or event id.
    next_id: u64,
    next_ticket_id: u64,
    users: Vec<UserSnapshot>,
    tickets: Vec<TicketSnapshot>,
    /// Absent from files written before the stand-in had ticket fields.
    #[serde(default)]
    ticket_fields: Vec<TicketFieldSnapshot>,
    /// By `Idempotency-Key`.
    idempotency: BTreeMap<String, IdempotencySnapshot>,
    /// Issued access token → when it expires (Unix seconds on the stand-in clock), or `null`.
    access_tokens: BTreeMap<String, Option<i64>>,
    refresh_tokens: BTreeMap<String, RefreshSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UserSnapshot {
    id: u64,
    name: String,
    email: Option<String>,
    secondary_emails: Vec<String>,
    phone: Option<String>,
    external_id: Option<String>,
    role: String,
    user_fields: Map<String, Value>,
    tags: Vec<String>,
    verified: bool,
    alias: Option<String>,
    notes: Option<String>,
    details: Option<String>,
    organization_id: Option<u64>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TicketSnapshot {
    id: u64,
    external_id: Option<String>,
    subject: String,
    status: String,
    requester_id: u64,
    submitter_id: u64,
    assignee_id: Option<u64>,
    organization_id: Option<u64>,
    tags: Vec<String>,
    /// This and the next two are absent from files written before the stand-in kept them.
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    group_id: Option<u64>,
    /// Ticket field id → value.
    #[serde(default)]
    custom_fields: BTreeMap<u64, Value>,
    created_at: String,
    updated_at: String,
    comments: Vec<CommentSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TicketFieldSnapshot {
    id: u64,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    description: String,
    active: bool,
    options: Vec<Value>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CommentSnapshot {
    id: u64,
    audit_id: u64,
    author_id: u64,
    body: String,
    html_body: String,
    public: bool,
    created_at: String,
    metadata: Value,
    client: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IdempotencySnapshot {
    /// SHA-256 of the request body, lower-case hex.
    body_sha256: String,
    /// Unix seconds on the stand-in clock.
    stored_at: i64,
    status: u16,
    body: Value,
    location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RefreshSnapshot {
    access_token: String,
    scope: String,
    expires_in: Option<i64>,
    expires_at: i64,
}

impl Snapshot {
    pub(crate) fn of(data: &State, base_url: &str) -> Self {
        let (next_id, next_ticket_id) = data.next_ids();
        Snapshot {
            version: VERSION,
            base_url: base_url.to_owned(),
            agent_id: data.agent_id,
            next_id,
            next_ticket_id,
            users: data.users.values().map(UserSnapshot::from).collect(),
            tickets: data.tickets.values().map(TicketSnapshot::from).collect(),
            ticket_fields: data
                .ticket_fields
                .values()
                .map(TicketFieldSnapshot::from)
                .collect(),
            idempotency: data
                .idempotency
                .iter()
                .map(|(key, entry)| (key.clone(), IdempotencySnapshot::from(entry)))
                .collect(),
            access_tokens: data
                .access_tokens
                .iter()
                .map(|(token, expires)| (token.clone(), *expires))
                .collect(),
            refresh_tokens: data
                .refresh_tokens
                .iter()
                .map(|(token, grant)| (token.clone(), RefreshSnapshot::from(grant)))
                .collect(),
        }
    }

    /// The state the snapshot describes, or what is inconsistent about it.
    pub(crate) fn restore(self, base_url: &str) -> Result<State, String> {
        let mut state = State::restored(self.agent_id, self.next_id, self.next_ticket_id);
        let mut largest_id = 0;
        for user in self.users {
            largest_id = largest_id.max(user.id);
            let id = user.id;
            if state.users.insert(id, User::from(user)).is_some() {
                return Err(format!("user {id} appears twice"));
            }
        }
        if !state.users.contains_key(&self.agent_id) {
            return Err(format!(
                "the agent (agent_id {}) is not among the users",
                self.agent_id
            ));
        }
        let mut largest_ticket_id = 0;
        for ticket in self.tickets {
            largest_ticket_id = largest_ticket_id.max(ticket.id);
            for comment in &ticket.comments {
                largest_id = largest_id.max(comment.id).max(comment.audit_id);
            }
            let id = ticket.id;
            if state.tickets.insert(id, Ticket::from(ticket)).is_some() {
                return Err(format!("ticket {id} appears twice"));
            }
        }
        // Not counted against `next_id`: configured fields bring ids of their own, and new
        // field ids skip taken ones (`State::next_ticket_field_id`).
        for field in self.ticket_fields {
            let id = field.id;
            if state
                .ticket_fields
                .insert(id, TicketField::from(field))
                .is_some()
            {
                return Err(format!("ticket field {id} appears twice"));
            }
        }
        if self.next_ticket_id <= largest_ticket_id {
            return Err(format!(
                "next_ticket_id {} is not above ticket {largest_ticket_id} (an id would be reused)",
                self.next_ticket_id
            ));
        }
        if self.next_id <= largest_id {
            return Err(format!(
                "next_id {} is not above id {largest_id} (an id would be reused)",
                self.next_id
            ));
        }
        for (key, entry) in self.idempotency {
            let mut entry = entry
                .into_entry()
                .map_err(|e| format!("{e} (key {key:?})"))?;
            if self.base_url != base_url {
                if let Some(location) = &mut entry.location {
                    rebase_str(location, &self.base_url, base_url);
                }
                rebase(&mut entry.body, &self.base_url, base_url);
            }
            state.idempotency.insert(key, entry);
        }
        state.access_tokens.extend(self.access_tokens);
        state.refresh_tokens.extend(
            self.refresh_tokens
                .into_iter()
                .map(|(token, grant)| (token, RefreshGrant::from(grant))),
        );
        state.purge_idempotency();
        Ok(state)
    }
}

impl From<&User> for UserSnapshot {
    fn from(user: &User) -> Self {
        let rec = &user.rec;
        UserSnapshot {
            id: rec.id,
            name: rec.name.clone(),
            email: rec.email.clone(),
            secondary_emails: user.secondary_emails.clone(),
            phone: rec.phone.clone(),
            external_id: rec.external_id.clone(),
            role: rec.role.clone(),
            user_fields: rec.user_fields.clone(),
            tags: user.tags.clone(),
            verified: user.verified,
            alias: user.alias.clone(),
            notes: user.notes.clone(),
            details: user.details.clone(),
            organization_id: user.organization_id,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
        }
    }
}

impl From<UserSnapshot> for User {
    fn from(user: UserSnapshot) -> Self {
        User {
            rec: UserRecord {
                id: user.id,
                name: user.name,
                email: user.email,
                phone: user.phone,
                external_id: user.external_id,
                role: user.role,
                user_fields: user.user_fields,
            },
            secondary_emails: user.secondary_emails,
            tags: user.tags,
            verified: user.verified,
            alias: user.alias,
            notes: user.notes,
            details: user.details,
            organization_id: user.organization_id,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

impl From<&Ticket> for TicketSnapshot {
    fn from(ticket: &Ticket) -> Self {
        TicketSnapshot {
            id: ticket.id,
            external_id: ticket.external_id.clone(),
            subject: ticket.subject.clone(),
            status: ticket.status.clone(),
            requester_id: ticket.requester_id,
            submitter_id: ticket.submitter_id,
            assignee_id: ticket.assignee_id,
            organization_id: ticket.organization_id,
            tags: ticket.tags.clone(),
            priority: ticket.priority.clone(),
            group_id: ticket.group_id,
            custom_fields: ticket.custom_fields.clone(),
            created_at: ticket.created_at.clone(),
            updated_at: ticket.updated_at.clone(),
            comments: ticket.comments.iter().map(CommentSnapshot::from).collect(),
        }
    }
}

impl From<TicketSnapshot> for Ticket {
    fn from(ticket: TicketSnapshot) -> Self {
        Ticket {
            id: ticket.id,
            external_id: ticket.external_id,
            subject: ticket.subject,
            status: ticket.status,
            requester_id: ticket.requester_id,
            submitter_id: ticket.submitter_id,
            assignee_id: ticket.assignee_id,
            organization_id: ticket.organization_id,
            tags: ticket.tags,
            priority: ticket.priority,
            group_id: ticket.group_id,
            custom_fields: ticket.custom_fields,
            comments: ticket.comments.into_iter().map(Comment::from).collect(),
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
        }
    }
}

impl From<&TicketField> for TicketFieldSnapshot {
    fn from(field: &TicketField) -> Self {
        TicketFieldSnapshot {
            id: field.rec.id,
            kind: field.rec.kind.clone(),
            title: field.rec.title.clone(),
            description: field.description.clone(),
            active: field.rec.active,
            options: field.options.clone(),
            created_at: field.created_at.clone(),
            updated_at: field.updated_at.clone(),
        }
    }
}

impl From<TicketFieldSnapshot> for TicketField {
    fn from(field: TicketFieldSnapshot) -> Self {
        TicketField {
            rec: TicketFieldRecord {
                id: field.id,
                kind: field.kind,
                title: field.title,
                active: field.active,
            },
            description: field.description,
            options: field.options,
            created_at: field.created_at,
            updated_at: field.updated_at,
        }
    }
}

impl From<&Comment> for CommentSnapshot {
    fn from(comment: &Comment) -> Self {
        let rec = &comment.rec;
        CommentSnapshot {
            id: rec.id,
            audit_id: comment.audit_id,
            author_id: rec.author_id,
            body: rec.body.clone(),
            html_body: rec.html_body.clone(),
            public: rec.public,
            created_at: rec.created_at.clone(),
            metadata: rec.metadata.clone(),
            client: comment.client.clone(),
        }
    }
}

impl From<CommentSnapshot> for Comment {
    fn from(comment: CommentSnapshot) -> Self {
        Comment {
            rec: CommentRecord {
                id: comment.id,
                author_id: comment.author_id,
                body: comment.body,
                html_body: comment.html_body,
                public: comment.public,
                created_at: comment.created_at,
                metadata: comment.metadata,
            },
            audit_id: comment.audit_id,
            client: comment.client,
        }
    }
}

impl From<&IdempotencyEntry> for IdempotencySnapshot {
    fn from(entry: &IdempotencyEntry) -> Self {
        IdempotencySnapshot {
            body_sha256: hex(&entry.body_hash),
            stored_at: entry.stored_at,
            status: entry.status,
            body: entry.body.clone(),
            location: entry.location.clone(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

impl IdempotencySnapshot {
    fn into_entry(self) -> Result<IdempotencyEntry, String> {
        let hex = self.body_sha256.as_bytes();
        let bad = || format!("body_sha256 {:?} is not 64 hex digits", self.body_sha256);
        if hex.len() != 64 {
            return Err(bad());
        }
        let body_hash = hex
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        Ok(IdempotencyEntry {
            body_hash,
            stored_at: self.stored_at,
            status: self.status,
            body: self.body,
            location: self.location,
        })
    }
}

impl From<&RefreshGrant> for RefreshSnapshot {
    fn from(grant: &RefreshGrant) -> Self {
        RefreshSnapshot {
            access_token: grant.access_token.clone(),
            scope: grant.scope.clone(),
            expires_in: grant.expires_in,
            expires_at: grant.expires_at,
        }
    }
}

impl From<RefreshSnapshot> for RefreshGrant {
    fn from(grant: RefreshSnapshot) -> Self {
        RefreshGrant {
            access_token: grant.access_token,
            scope: grant.scope,
            expires_in: grant.expires_in,
            expires_at: grant.expires_at,
        }
    }
}

/// Moves every string under `value` that is a URL below `from` to the same place below `to`.
fn rebase(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) => rebase_str(s, from, to),
        Value::Array(items) => items.iter_mut().for_each(|v| rebase(v, from, to)),
        Value::Object(map) => map.values_mut().for_each(|v| rebase(v, from, to)),
        _ => {}
    }
}

fn rebase_str(s: &mut String, from: &str, to: &str) {
    // `/` after the prefix: `http://127.0.0.1:8788` must not match `…:87881`.
    if let Some(rest) = s.strip_prefix(from).filter(|rest| rest.starts_with('/')) {
        *s = format!("{to}{rest}");
    }
}
