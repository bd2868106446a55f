//! Key layouts. Strings are length-prefixed so that no id can run into the next part; numbers
//! are big-endian so that keys sort in numeric order (sled's `examples/structured.rs`).

use super::{Due, DueKind};

fn push_str(key: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(text.as_bytes());
}

pub(super) fn conversation(id: &str) -> Vec<u8> {
    id.as_bytes().to_vec()
}

pub(super) fn pair(a: &str, b: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + a.len() + b.len());
    push_str(&mut key, a);
    push_str(&mut key, b);
    key
}

/// `seen`, an id that left a conversation record's window: a first byte no `pair` key has
/// (those start with the high byte of a length), the conversation, then the id's hash. Keyed
/// by the hash because the window keeps only the hash (`state::id_hash`); a match is
/// confirmed against the turn's own message id, as in the window.
pub(super) fn seen_in(conversation: &str, hash: u64) -> Vec<u8> {
    let mut key = seen_in_prefix(conversation);
    key.extend_from_slice(&hash.to_be_bytes());
    key
}

pub(super) fn seen_in_prefix(conversation: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(13 + conversation.len());
    key.push(SEEN_IN);
    push_str(&mut key, conversation);
    key
}

const SEEN_IN: u8 = 1;

pub(super) fn is_seen_in(key: &[u8]) -> bool {
    key.first() == Some(&SEEN_IN)
}

/// `history`: conversation, then the turn's sequence number.
pub(super) fn turn(conversation: &str, seq: u64) -> Vec<u8> {
    let mut key = history_prefix(conversation);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

pub(super) fn history_prefix(conversation: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(12 + conversation.len());
    push_str(&mut key, conversation);
    key
}

/// `contact_conversations`: the contact, then one of its conversations.
pub(super) fn contact_conversation(account: &str, contact: &str, conversation: &str) -> Vec<u8> {
    let mut key = pair(account, contact);
    push_str(&mut key, conversation);
    key
}

/// The key of the `contact_conversations` entry that says every conversation written before
/// the index existed is in it. Empty: no contact's key is (each starts with two lengths).
pub(super) const CONTACT_INDEX_COMPLETE: &[u8] = b"";

/// `due`: the time first (sign bit flipped so negative times sort first), then what.
pub(super) fn due(due: &Due) -> Vec<u8> {
    let mut key = time(due.at);
    push_str(&mut key, &due.conversation);
    match &due.what {
        DueKind::Timer(id) => {
            key.push(0);
            key.extend_from_slice(&id.to_be_bytes());
        }
        DueKind::Effect(id) => {
            key.push(1);
            push_str(&mut key, id);
        }
    }
    key
}

/// The conversation a `due` key names (read from the key, so a damaged value still tells).
pub(super) fn due_conversation(key: &[u8]) -> Option<&[u8]> {
    let len = key.get(8..12)?;
    let len = usize::try_from(u32::from_be_bytes([len[0], len[1], len[2], len[3]])).ok()?;
    key.get(12..12usize.checked_add(len)?)
}

/// The conversation of a `due` key that stands for an effect (`None` for a timer's).
pub(super) fn due_effect_conversation(key: &[u8]) -> Option<&[u8]> {
    let conversation = due_conversation(key)?;
    let kind = key.get(12 + conversation.len())?;
    (*kind == 1).then_some(conversation)
}

/// The first key after every entry due at or before `at`.
pub(super) fn due_end(at: i64) -> Vec<u8> {
    time(at.saturating_add(1))
}

fn time(at: i64) -> Vec<u8> {
    // Flipping the sign bit maps i64 order onto unsigned byte order.
    #[expect(clippy::cast_sign_loss, reason = "a bit reinterpretation, on purpose")]
    let ordered = (at as u64) ^ (1 << 63);
    ordered.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_keys_sort_by_time() {
        let at = |t| {
            due(&Due {
                at: t,
                conversation: "c".into(),
                what: DueKind::Timer(1),
            })
        };
        assert!(at(-5) < at(3));
        assert!(at(3) < at(1_000_000));
        assert!(at(3) < due_end(3));
        assert!(due_end(3) <= at(4));
    }

    #[test]
    fn a_due_key_names_its_conversation() {
        let key = due(&Due {
            at: -3,
            conversation: "c-1".into(),
            what: DueKind::Effect("e".into()),
        });
        assert_eq!(due_conversation(&key), Some(&b"c-1"[..]));
        assert_eq!(due_conversation(&key[..10]), None);
        assert_eq!(due_effect_conversation(&key), Some(&b"c-1"[..]));
        let timer = due(&Due {
            at: -3,
            conversation: "c-1".into(),
            what: DueKind::Timer(7),
        });
        assert_eq!(due_effect_conversation(&timer), None);
        assert_eq!(due_effect_conversation(&key[..15]), None);
    }

    #[test]
    fn ids_cannot_run_into_each_other() {
        assert_ne!(pair("ab", "c"), pair("a", "bc"));
        assert!(!turn("ab", 1).starts_with(&history_prefix("a")));
        assert!(!contact_conversation("a", "bc", "d").starts_with(&pair("a", "b")));
        assert!(!seen_in("ab", 1).starts_with(&seen_in_prefix("a")));
        // No account-and-id key (the layout before ids left the window) starts like one.
        assert_ne!(pair("acme", "m1").first(), seen_in("c", 1).first());
    }
}
