//! One effect being run: the scenario actions and the sync's effects, each made safe to
//! repeat (see the module above).

use serde_json::json;

use super::Org;
use super::records::{UserSeed, find_or_create_user, record, to_id};
use crate::client::ZendeskError;
use crate::model::{Ticket, User};
use crate::sync::WHOLE_TURN;
use crate::transcript::{self, MAX_COMMENT_BYTES};
use scenarist_runtime::state::{Author, Contact, Effect, Message};
use scenarist_runtime::store::Store;
use scenarist_runtime::value::Value;

/// One effect being run.
pub(super) struct Work<'a> {
    pub(super) org: &'a Org,
    pub(super) store: &'a dyn Store,
    pub(super) effect: &'a Effect,
    pub(super) contact: &'a Contact,
    pub(super) account: &'a str,
}

impl Work<'_> {
    pub(super) fn text(&self, name: &str) -> Option<String> {
        self.effect
            .request
            .get(name)
            .map(ToString::to_string)
            .filter(|s| !s.is_empty())
    }

    pub(super) fn id(&self, name: &str) -> Option<u64> {
        let value = self.effect.request.get(name)?;
        value
            .as_number()
            .or_else(|| value.field("id").and_then(Value::as_number))
            .map(to_id)
    }

    pub(super) fn external_id(&self) -> String {
        format!("scenarist-{}", self.effect.conversation)
    }

    /// The user with this email (exact), or a new one from the configured create fields.
    pub(super) async fn find_or_create_user(&self) -> Result<User, ZendeskError> {
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
    pub(super) async fn ticket(
        &self,
        requester: u64,
        subject: &str,
        contact_name: &str,
        extra: Option<&str>,
        tags: Vec<String>,
        set: serde_json::Map<String, serde_json::Value>,
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
        let mut ticket = json!({
            "subject": subject,
            "requester_id": requester,
            "external_id": external_id,
            "tags": tags,
            "comment": { "html_body": html, "public": true },
        });
        if let Some(fields) = ticket.as_object_mut() {
            fields.extend(set);
        }
        let body = json!({ "ticket": ticket });
        let bytes = serde_json::to_vec(&body).map_err(|e| ZendeskError::Decode(e.to_string()))?;
        let ticket = self
            .org
            .client
            .create_ticket(bytes, &self.effect.id)
            .await?;
        Ok((ticket, cursor))
    }

    pub(super) async fn scenario_ticket(&self) -> Result<Ticket, ZendeskError> {
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
                serde_json::Map::new(),
            )
            .await?;
        Ok(ticket)
    }

    pub(super) async fn sync_create(&self) -> Result<Value, ZendeskError> {
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
        let mut tags = vec!["scenarist".to_owned(), channel];
        if let Some(Value::List(set)) = self.effect.request.get("ticket_tags") {
            for tag in set.iter().map(ToString::to_string) {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        let (ticket, (seq, index)) = self
            .ticket(user, &subject, &name, None, tags, self.scenario_set())
            .await?;
        Ok(record([
            ("ticket_id", ticket.id),
            ("user_id", user),
            ("seq", seq),
            ("index", u64::from(index)),
        ]))
    }

    /// What the scenario set on the mode-B ticket besides its tags: `priority`, `group_id`
    /// and `custom_fields`, as Zendesk's ticket fields.
    fn scenario_set(&self) -> serde_json::Map<String, serde_json::Value> {
        let request = &self.effect.request;
        let mut set = serde_json::Map::new();
        if let Some(priority) = request.get("ticket_priority") {
            set.insert("priority".into(), json!(priority.to_string()));
        }
        if let Some(group) = request.get("ticket_group_id").and_then(Value::as_number) {
            set.insert("group_id".into(), json!(super::records::to_id(group)));
        }
        if let Some(Value::List(fields)) = request.get("ticket_custom_fields") {
            let fields: Vec<serde_json::Value> = fields
                .iter()
                .filter_map(|field| {
                    let id = super::records::to_id(field.field("id")?.as_number()?);
                    Some(json!({ "id": id, "value": field.field("value").map(value_json) }))
                })
                .collect();
            set.insert("custom_fields".into(), json!(fields));
        }
        set
    }

    /// The messages after the sync cursor become one comment: the longest run by the same
    /// side (the contact's, authored by their Zendesk user; or the bot's and advisors',
    /// labelled), so that a burst — messages that arrived while the previous comment was in
    /// flight or held back by a 429 — costs one update, not one each (Zendesk allows about 30
    /// updates per ticket per 10 minutes). The run is fixed by the cursor and the effect's
    /// frozen history, so every attempt sends the same comment.
    pub(super) async fn sync_comment(&self) -> Result<Value, ZendeskError> {
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

    pub(super) async fn scenario_comment(&self) -> Result<Option<Value>, ZendeskError> {
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
    pub(super) async fn comment(
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

    pub(super) async fn solve(&self) -> Result<(), ZendeskError> {
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
    pub(super) fn history(&self, upto: u64) -> Result<Vec<(u64, u32, Message)>, ZendeskError> {
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

/// A scenario value as Zendesk reads a custom field's: text, number, boolean.
fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Number(n) => json!(n),
        Value::Bool(b) => json!(b),
        other => json!(other.to_string()),
    }
}
