//! How a delivery is recognised when it comes again. Channels and advisors' tools deliver at
//! least once, so every input that a sender may repeat carries an id: a contact's or an
//! advisor's `message_id`, or the `Idempotency-Key` of an advisor's event (`team`,
//! `return-to-bot`, `close`). The id is remembered in the conversation record's window and the
//! long-term `seen` index, and written in the history turn the input produced, which confirms
//! a match (the window keeps only a hash).
//!
//! The three kinds of id live in one space per account, so each is written with its own
//! prefix: a contact's id as it is (as stored before advisors' ids were remembered), the
//! others behind a control character that no accepted id contains (`api::check_id`), so an
//! advisor's `m-1` never matches a contact's `m-1`. An event's stored id also carries a
//! fingerprint of its request: the same key with another request is refused, not applied.

use sha2::{Digest as _, Sha256};

use super::state::Input;

/// Marks ids that are not a contact's; refused in every id the API accepts.
const MARK: char = '\u{1}';

/// An input's de-duplication id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A contact's message id.
    Contact(String),
    /// An advisor's message id.
    Advisor(String),
    /// An advisor's event sent with an `Idempotency-Key`.
    Event { key: String, fingerprint: String },
}

/// What a stored turn's id says about a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recognised {
    /// The turn was caused by this very delivery: it is a repeat.
    Same,
    /// The turn was caused by the same idempotency key with another request.
    Conflict,
    /// The turn is not this delivery's (a hash collision in the window, or a reused id).
    Other,
}

impl Delivery {
    /// The id a contact's or an advisor's message carries; other inputs carry none of their
    /// own (an event's comes with its request: [`Delivery::event`]).
    pub fn of(input: &Input) -> Option<Self> {
        match input {
            Input::Contact { message_id, .. } => Some(Delivery::Contact(message_id.clone())),
            Input::Advisor { message_id, .. } => Some(Delivery::Advisor(message_id.clone())),
            _ => None,
        }
    }

    /// An event's delivery: `request` is the event's route and body in a canonical form.
    pub fn event(key: &str, request: &str) -> Self {
        let digest = Sha256::digest(request.as_bytes());
        Delivery::Event {
            key: key.to_owned(),
            fingerprint: scenarist_base::hex::encode(digest.get(..8).unwrap_or_default()),
        }
    }

    /// The id the window and the `seen` index are keyed by.
    pub fn lookup(&self) -> String {
        match self {
            Delivery::Contact(id) => id.clone(),
            Delivery::Advisor(id) => format!("{MARK}advisor{MARK}{id}"),
            Delivery::Event { key, .. } => format!("{MARK}key{MARK}{key}"),
        }
    }

    /// The id the history turn records.
    pub fn stored(&self) -> String {
        match self {
            Delivery::Event { fingerprint, .. } => format!("{}{MARK}{fingerprint}", self.lookup()),
            _ => self.lookup(),
        }
    }

    /// The id the window and the `seen` index are keyed by, from the id a history turn
    /// recorded ([`Delivery::stored`]): an event's without its fingerprint.
    pub fn lookup_of(stored: &str) -> &str {
        let event = format!("{MARK}key{MARK}");
        let key = stored
            .strip_prefix(event.as_str())
            .and_then(|rest| rest.rsplit_once(MARK))
            .map(|(key, _fingerprint)| key);
        match key {
            Some(key) => stored.get(..event.len() + key.len()).unwrap_or(stored),
            None => stored,
        }
    }

    /// Compares this delivery with the id a stored turn recorded.
    pub fn recognise(&self, stored: &str) -> Recognised {
        let lookup = self.lookup();
        if stored == self.stored() {
            return Recognised::Same;
        }
        match (self, stored.strip_prefix(lookup.as_str())) {
            (Delivery::Event { .. }, Some(rest)) if rest.starts_with(MARK) => Recognised::Conflict,
            _ => Recognised::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_ids_never_match_each_other() {
        let contact = Delivery::Contact("m-1".into());
        let advisor = Delivery::Advisor("m-1".into());
        let event = Delivery::event("m-1", "close");
        for (a, b) in [(&contact, &advisor), (&advisor, &event), (&contact, &event)] {
            assert_ne!(a.lookup(), b.lookup());
            assert_eq!(a.recognise(&b.stored()), Recognised::Other);
            assert_eq!(b.recognise(&a.stored()), Recognised::Other);
        }
        assert_eq!(
            contact.stored(),
            "m-1",
            "contacts' ids are stored as they always were"
        );
    }

    #[test]
    fn the_lookup_id_comes_back_from_every_kind_of_stored_id() {
        for delivery in [
            Delivery::Contact("m-1".into()),
            Delivery::Advisor("m-1".into()),
            Delivery::event("k-1", "close"),
        ] {
            assert_eq!(Delivery::lookup_of(&delivery.stored()), delivery.lookup());
        }
    }

    #[test]
    fn an_event_key_with_another_request_conflicts() {
        let first = Delivery::event("k-1", "team\nSales");
        assert_eq!(first.recognise(&first.stored()), Recognised::Same);
        let again = Delivery::event("k-1", "team\nSales");
        assert_eq!(again.recognise(&first.stored()), Recognised::Same);
        let other = Delivery::event("k-1", "team\nSupport");
        assert_eq!(other.lookup(), first.lookup());
        assert_eq!(other.recognise(&first.stored()), Recognised::Conflict);
        // A key that merely starts like another one is another key.
        let longer = Delivery::event("k-10", "team\nSales");
        assert_eq!(longer.recognise(&first.stored()), Recognised::Other);
    }
}
