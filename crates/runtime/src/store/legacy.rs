//! Values written by earlier formats, read into today's types, so that a data folder opens
//! as it is after an upgrade: nothing acknowledged is lost to a new build.
//!
//! Format 1 → 2: bot messages gained their rich parts (`Message::parts`). Every other stored
//! type is laid out the same in both, so only history turns need a reader of their own.
//! Format 2 → 4: `seen` entries gained the time they were written (`Seen::at`); an older
//! entry reads with no time, and the retention sweeper dates it when it first meets it.

use serde::Deserialize;

use super::Seen;
use crate::state::{Author, Message, Turn};

/// A `seen` entry as formats 1 and 2 wrote it.
#[derive(Deserialize)]
pub(super) struct SeenV2 {
    conversation: String,
    seq: u64,
}

impl From<SeenV2> for Seen {
    fn from(old: SeenV2) -> Self {
        Seen {
            conversation: old.conversation,
            seq: old.seq,
            at: None,
        }
    }
}

/// A history turn as format 1 wrote it (the fields in their stored order).
#[derive(Deserialize)]
pub(super) struct TurnV1 {
    seq: u64,
    at: i64,
    message_id: Option<String>,
    messages: Vec<MessageV1>,
}

#[derive(Deserialize)]
struct MessageV1 {
    author: Author,
    text: String,
    choices: Vec<String>,
    at: i64,
}

impl From<TurnV1> for Turn {
    fn from(old: TurnV1) -> Self {
        Turn {
            seq: old.seq,
            at: old.at,
            message_id: old.message_id,
            messages: old
                .messages
                .into_iter()
                .map(|m| Message {
                    author: m.author,
                    text: m.text,
                    choices: m.choices,
                    at: m.at,
                    parts: Vec::new(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::super::backend::{Backend, TreeName};
    use super::super::{KvStore, MemoryBackend, Seen, Store, keys};
    use crate::state::Author;

    /// What a format-1 build wrote: the same fields, without `parts`.
    #[derive(Serialize)]
    struct OldTurn {
        seq: u64,
        at: i64,
        message_id: Option<String>,
        messages: Vec<OldMessage>,
    }

    #[derive(Serialize)]
    struct OldMessage {
        author: Author,
        text: String,
        choices: Vec<String>,
        at: i64,
    }

    /// An envelope of format 1 around `value`, as that build encoded it.
    fn version_1(value: &impl Serialize) -> Vec<u8> {
        let payload = postcard::to_allocvec(value).unwrap();
        let mut bytes = vec![1];
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        bytes
    }

    #[test]
    fn a_history_written_by_format_1_reads_after_the_upgrade() {
        let backend = MemoryBackend::default();
        let old = OldTurn {
            seq: 1,
            at: 7,
            message_id: Some("m1".into()),
            messages: vec![OldMessage {
                author: Author::Bot,
                text: "What is your email?".into(),
                choices: vec!["Skip".into()],
                at: 7,
            }],
        };
        backend
            .insert(TreeName::History, &keys::turn("c1", 1), &version_1(&old))
            .unwrap();
        let store = KvStore::new(backend);
        let turns = store.history("c1", 1).unwrap();
        assert_eq!(turns.len(), 1);
        let message = &turns[0].messages[0];
        assert_eq!(message.text, "What is your email?");
        assert_eq!(message.choices, ["Skip"]);
        assert!(message.parts.is_empty());
        assert_eq!(store.turn("c1", 1).unwrap().unwrap(), turns[0]);
    }

    #[test]
    fn a_seen_entry_written_by_format_2_reads_with_no_time() {
        #[derive(Serialize)]
        struct OldSeen {
            conversation: String,
            seq: u64,
        }
        let backend = MemoryBackend::default();
        let mut bytes = version_1(&OldSeen {
            conversation: "c1".into(),
            seq: 4,
        });
        bytes[0] = 2;
        backend
            .insert(TreeName::Seen, &keys::pair("acme", "m1"), &bytes)
            .unwrap();
        let seen = KvStore::new(backend).seen("acme", "m1").unwrap().unwrap();
        assert_eq!(
            seen,
            Seen {
                conversation: "c1".into(),
                seq: 4,
                at: None
            }
        );
    }

    #[test]
    fn a_format_this_build_does_not_know_is_refused_in_plain_words() {
        let backend = MemoryBackend::default();
        let mut bytes = version_1(&1u8);
        bytes[0] = 9;
        backend
            .insert(TreeName::History, &keys::turn("c1", 1), &bytes)
            .unwrap();
        let error = KvStore::new(backend).history("c1", 1).unwrap_err();
        assert!(error.to_string().contains("format version 9"), "{error}");
    }
}
