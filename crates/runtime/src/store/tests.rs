//! The conformance suite: every backend must pass all of it.

use std::collections::BTreeMap;

use super::*;
use crate::state::{Author, Message, Status, Timer, id_hash};
use crate::value::Value;

fn backends() -> Vec<(&'static str, Box<dyn Store>)> {
    vec![
        ("memory", Box::new(KvStore::new(MemoryBackend::default()))),
        (
            "sled",
            Box::new(KvStore::new(SledBackend::temporary().unwrap())),
        ),
        (
            "postgres",
            Box::new(KvStore::new(super::pg::test_backend())),
        ),
    ]
}

fn conversation(id: &str, last_seq: u64) -> Conversation {
    let mut conversation = Conversation::new(id, "facebook:acme", "u1", "demo", "v1", 10);
    conversation.last_seq = last_seq;
    conversation.status = Status::Ended;
    conversation
        .variables
        .insert("n".into(), Value::Number(2.0));
    conversation.timer = Some(Timer { id: 1, due_at: 99 });
    conversation
}

fn turn(seq: u64) -> Turn {
    Turn {
        seq,
        at: 5,
        message_id: Some(format!("m{seq}")),
        messages: vec![Message {
            author: Author::Contact,
            text: format!("hello {seq}"),
            choices: vec![],
            parts: vec![],
            at: 5,
        }],
    }
}

fn due(at: i64, conversation: &str) -> Due {
    Due {
        at,
        conversation: conversation.into(),
        what: DueKind::Timer(1),
    }
}

fn commit(id: &str, seq: u64) -> Commit {
    let mut contact = Contact::new("facebook:acme", "u1", "Ada");
    contact.fields = BTreeMap::from([("email".to_owned(), Value::text("ada@example.com"))]);
    Commit {
        turn: Some(turn(seq)),
        contact: Some(contact),
        seen: vec![(
            id_hash(&format!("m{seq}")),
            Seen {
                conversation: id.into(),
                seq,
                at: Some(5),
            },
        )],
        due: vec![due(100 + i64::try_from(seq).unwrap(), id)],
        undue: vec![],
        conversation: conversation(id, seq),
    }
}

#[test]
fn commits_write_every_record_and_read_them_back() {
    for (name, store) in backends() {
        assert_eq!(store.conversation("c1").unwrap(), None, "{name}");
        store.commit(&commit("c1", 1)).unwrap();
        store.commit(&commit("c1", 2)).unwrap();
        assert_eq!(
            store.conversation("c1").unwrap(),
            Some(conversation("c1", 2)),
            "{name}"
        );
        assert_eq!(
            store.history("c1", 2).unwrap(),
            vec![turn(1), turn(2)],
            "{name}"
        );
        assert_eq!(store.turn("c1", 2).unwrap(), Some(turn(2)), "{name}");
        assert_eq!(
            store.contact("facebook:acme", "u1").unwrap().unwrap().name,
            "Ada",
            "{name}"
        );
        assert_eq!(
            store.seen_in("c1", id_hash("m2")).unwrap(),
            Some(Seen {
                conversation: "c1".into(),
                seq: 2,
                at: Some(5)
            }),
            "{name}"
        );
        assert_eq!(store.seen_in("c1", id_hash("m9")).unwrap(), None, "{name}");
        assert_eq!(store.seen_in("c2", id_hash("m2")).unwrap(), None, "{name}");
        // Nothing is written in the layout before ids entered the index as they left a window.
        assert_eq!(store.seen("facebook:acme", "m2").unwrap(), None, "{name}");
        let ids: Vec<String> = store
            .conversations()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["c1"], "{name}");
    }
}

#[test]
fn turns_beyond_the_record_are_not_history() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        // A crash after the side records of turn 2 but before its record: turn 2 is ignored.
        let mut side_only = commit("c1", 2);
        side_only.conversation = conversation("c1", 1);
        store.commit(&side_only).unwrap();
        assert_eq!(store.history("c1", 1).unwrap(), vec![turn(1)], "{name}");
    }
}

#[test]
fn the_due_index_is_ordered_bounded_and_cleaned() {
    for (name, store) in backends() {
        for (id, at) in [("b", 300), ("a", 100), ("c", -5), ("d", 200)] {
            let mut c = commit(id, 1);
            c.due = vec![due(at, id)];
            store.commit(&c).unwrap();
        }
        let found: Vec<i64> = store.due(200, 10).unwrap().iter().map(|d| d.at).collect();
        assert_eq!(found, [-5, 100, 200], "{name}");
        assert_eq!(store.due(1000, 2).unwrap().len(), 2, "{name}");
        store.remove_due(&due(100, "a")).unwrap();
        let mut c = commit("b", 2);
        c.due = vec![];
        c.undue = vec![due(300, "b")];
        store.commit(&c).unwrap();
        let left: Vec<String> = store
            .due(1000, 10)
            .unwrap()
            .into_iter()
            .map(|d| d.conversation)
            .collect();
        assert_eq!(left, ["c", "d"], "{name}");
    }
}

#[test]
fn scenarios_and_quarantine() {
    for (name, store) in backends() {
        let version = ScenarioVersion {
            name: "demo".into(),
            version: "abc".into(),
            source: "scenario demo {}".into(),
        };
        store.put_scenario(&version).unwrap();
        assert_eq!(store.scenario("abc").unwrap(), Some(version), "{name}");
        assert_eq!(store.scenario("zzz").unwrap(), None, "{name}");
        assert_eq!(store.quarantined("c1").unwrap(), None, "{name}");
        store.quarantine("c1", "bad checksum").unwrap();
        assert_eq!(
            store.quarantined("c1").unwrap().as_deref(),
            Some("bad checksum"),
            "{name}"
        );
    }
}

#[test]
fn a_damaged_value_is_reported_never_decoded() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        let key = keys::conversation("c1");
        let mut bytes = store
            .backend()
            .get(TreeName::Conversations, &key)
            .unwrap()
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        store
            .backend()
            .insert(TreeName::Conversations, &key, &bytes)
            .unwrap();
        let error = store.conversation("c1").unwrap_err();
        assert!(error.is_corrupt(), "{name}: {error}");
        assert!(error.to_string().contains("checksum"), "{name}: {error}");
    }
}

#[test]
fn export_then_import_restores_everything_and_refuses_damage() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        store.commit(&commit("c2", 1)).unwrap();
        store.quarantine("c3", "reason").unwrap();
        let mut backup = Vec::new();
        let stats = export(store.backend(), &mut backup).unwrap();
        // 2 conversations, 2 turns, 1 contact (both commits share it), 2 seen entries (one
        // per conversation), 2 due entries, 1 quarantine entry, 2 entries of the contact's index.
        assert_eq!(stats.records, 2 + 2 + 1 + 2 + 2 + 1 + 2, "{name}");

        let restored = KvStore::new(MemoryBackend::default());
        import(restored.backend(), &mut backup.as_slice()).unwrap();
        assert_eq!(
            restored.conversation("c2").unwrap(),
            store.conversation("c2").unwrap(),
            "{name}"
        );
        assert_eq!(
            restored.history("c1", 9).unwrap(),
            store.history("c1", 9).unwrap(),
            "{name}"
        );
        assert_eq!(
            restored.due(1000, 10).unwrap(),
            store.due(1000, 10).unwrap(),
            "{name}"
        );

        let again = import(restored.backend(), &mut backup.as_slice()).unwrap_err();
        assert!(matches!(again, ExportError::NotEmpty), "{name}");

        let tampered = String::from_utf8(backup.clone())
            .unwrap()
            .replace("hello 1", "hello 9");
        let error = import(
            KvStore::new(MemoryBackend::default()).backend(),
            &mut tampered.as_bytes(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("checksum"), "{name}: {error}");
        let truncated = &backup[..backup.len() / 2];
        assert!(
            import(
                KvStore::new(MemoryBackend::default()).backend(),
                &mut &truncated[..]
            )
            .is_err(),
            "{name}"
        );
    }
}

// retention

/// `commit(id, seq)` with its own message id `id-m{seq}` (the shared `m{seq}` of `commit`
/// would make conversations overwrite each other's `seen` entries).
fn own_commit(id: &str, seq: u64) -> Commit {
    let mut c = commit(id, seq);
    let message_id = format!("{id}-m{seq}");
    if let Some(turn) = &mut c.turn {
        turn.message_id = Some(message_id.clone());
    }
    c.seen[0].0 = id_hash(&message_id);
    c
}

/// A `seen` entry in the layout keyed by account and message id (every id, as written before
/// ids entered the index only when they left a record's window), for turn 1 of `conversation`.
fn put_legacy_seen(
    store: &dyn Store,
    account: &str,
    message_id: &str,
    conversation: &str,
    at: Option<i64>,
) {
    let seen = Seen {
        conversation: conversation.into(),
        seq: 1,
        at,
    };
    store
        .backend()
        .insert(
            TreeName::Seen,
            &keys::pair(account, message_id),
            &envelope::encode(&seen).unwrap(),
        )
        .unwrap();
}

fn seen_ids(store: &dyn Store) -> Vec<(String, u64)> {
    store
        .backend()
        .scan_prefix(TreeName::Seen, &[])
        .unwrap()
        .into_iter()
        .map(|(_, bytes)| {
            let seen = envelope::decode_seen(&bytes).unwrap();
            (seen.conversation, seen.seq)
        })
        .collect()
}

#[test]
fn removing_a_conversation_takes_its_history_and_seen_entries_and_nothing_else() {
    for (name, store) in backends() {
        for seq in 1..=3 {
            store.commit(&own_commit("c1", seq)).unwrap();
        }
        store.commit(&own_commit("c2", 1)).unwrap();
        // An entry in the layout written before ids entered the index as they left a window.
        put_legacy_seen(store.as_ref(), "facebook:acme", "c1-m1", "c1", Some(5));
        let removed = store.remove_conversation("c1").unwrap();
        assert_eq!(
            removed,
            Removed {
                conversation: true,
                turns: 3,
                seen: 4
            },
            "{name}"
        );
        assert_eq!(store.conversation("c1").unwrap(), None, "{name}");
        assert_eq!(
            store
                .backend()
                .scan_prefix(TreeName::History, &keys::history_prefix("c1"))
                .unwrap(),
            vec![],
            "{name}"
        );
        assert_eq!(seen_ids(store.as_ref()), [("c2".to_owned(), 1)], "{name}");
        assert_eq!(
            store.contact_conversations("facebook:acme", "u1").unwrap(),
            ["c2"],
            "{name}: the contact's index forgets it too"
        );
        // The other conversation, and the contact, are untouched.
        assert_eq!(
            store.history("c2", 1).unwrap(),
            vec![turn(1)]
                .into_iter()
                .map(|mut t| {
                    t.message_id = Some("c2-m1".into());
                    t
                })
                .collect::<Vec<_>>(),
            "{name}"
        );
        assert!(
            store.contact("facebook:acme", "u1").unwrap().is_some(),
            "{name}"
        );
        // Again: nothing left to remove.
        assert_eq!(
            store.remove_conversation("c1").unwrap(),
            Removed::default(),
            "{name}"
        );
    }
}

#[test]
fn a_seen_entry_now_pointing_at_another_conversation_stays() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        store.commit(&commit("c2", 1)).unwrap();
        // In the layout keyed by account and id: the id of c1's turn 1, applied later in
        // another conversation of the account.
        put_legacy_seen(store.as_ref(), "facebook:acme", "m1", "c2", Some(5));
        let removed = store.remove_conversation("c1").unwrap();
        assert_eq!(removed.seen, 1, "{name}: only its own entry");
        assert_eq!(
            seen_ids(store.as_ref()),
            [("c2".to_owned(), 1), ("c2".to_owned(), 1)],
            "{name}"
        );
    }
}

/// A backend with two test hooks: its writes and removals fail once `budget` of them ran (the
/// process killed at that point), and `on_history_page` runs once when `history` is first read
/// a page at a time (a step committed in the middle of an export, deterministically).
struct Hooked<B> {
    inner: B,
    budget: Budget,
    on_history_page: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl<B: Backend> Hooked<B> {
    fn new(inner: B, budget: &Budget) -> Self {
        Self {
            inner,
            budget: Budget::clone(budget),
            on_history_page: std::sync::Mutex::new(None),
        }
    }

    fn spend(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        self.budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .map(|_| ())
            .map_err(|_| StoreError::Io("the process was killed here".into()))
    }
}

impl<B: Backend> Backend for Hooked<B> {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.insert(tree, key, value)
    }
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.spend()?;
        self.inner.remove(tree, key)
    }
    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<backend::Pairs, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn scan_below(
        &self,
        tree: TreeName,
        end: &[u8],
        limit: usize,
    ) -> Result<backend::Pairs, StoreError> {
        self.inner.scan_below(tree, end, limit)
    }
    fn scan_from(
        &self,
        tree: TreeName,
        start: &[u8],
        limit: usize,
    ) -> Result<backend::Pairs, StoreError> {
        if tree == TreeName::History {
            let hook = self.on_history_page.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
        }
        self.inner.scan_from(tree, start, limit)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
}

type Budget = std::sync::Arc<std::sync::atomic::AtomicUsize>;

fn crashing_backends(budget: &Budget) -> Vec<(&'static str, Box<dyn Store>)> {
    vec![
        (
            "memory",
            Box::new(KvStore::new(Hooked::new(MemoryBackend::default(), budget))),
        ),
        (
            "sled",
            Box::new(KvStore::new(Hooked::new(
                SledBackend::temporary().unwrap(),
                budget,
            ))),
        ),
    ]
}

/// What a reader trusts still holds: the record's turns are all there, and every `seen`
/// entry it would confirm (`seq <= last_seq`) has its turn.
fn assert_consistent(store: &dyn Store, id: &str, context: &str) {
    let Some(record) = store.conversation(id).unwrap() else {
        return;
    };
    let turns = store.history(id, record.last_seq).unwrap();
    assert_eq!(turns.len() as u64, record.last_seq, "{context}");
    for (conversation, seq) in seen_ids(store) {
        if conversation == id && seq <= record.last_seq {
            assert!(
                store.turn(id, seq).unwrap().is_some(),
                "{context}: seen {seq}"
            );
        }
    }
}

#[test]
fn a_crash_at_any_point_of_a_removal_leaves_a_consistent_store_and_a_rerun_finishes() {
    use std::sync::atomic::Ordering;
    // 1 rewrite of the record, 3 × (seen + turn), 1 removal of the record (the index entry
    // removed after it may be left by a crash: it points at nothing, readers read the record).
    for crash_after in 0..8 {
        let budget = Budget::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
        for (name, store) in crashing_backends(&budget) {
            budget.store(usize::MAX, Ordering::SeqCst);
            for seq in 1..=3 {
                store.commit(&own_commit("c1", seq)).unwrap();
            }
            store.commit(&own_commit("c2", 1)).unwrap();
            budget.store(crash_after, Ordering::SeqCst);
            let context = format!("{name}, crash after {crash_after} writes");
            assert!(store.remove_conversation("c1").is_err(), "{context}");
            assert_consistent(store.as_ref(), "c1", &context);
            // The conversation is still found by the next sweep: it is still there, ended.
            let record = store.conversation("c1").unwrap();
            assert_eq!(record.map(|r| r.status), Some(Status::Ended), "{context}");

            budget.store(usize::MAX, Ordering::SeqCst);
            store.remove_conversation("c1").unwrap();
            assert_eq!(store.conversation("c1").unwrap(), None, "{context}");
            assert_eq!(store.history("c1", u64::MAX).unwrap(), vec![], "{context}");
            assert_eq!(
                seen_ids(store.as_ref()),
                [("c2".to_owned(), 1)],
                "{context}"
            );
            assert_eq!(store.history("c2", 1).unwrap().len(), 1, "{context}");
        }
    }
}

#[test]
fn conversations_are_read_in_batches_after_a_cursor() {
    for (name, store) in backends() {
        for id in ["a", "b", "c", "d", "e"] {
            store.commit(&commit(id, 1)).unwrap();
        }
        let ids = |batch: Vec<Record>| batch.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.conversations_after(None, 2).unwrap()),
            ["a", "b"],
            "{name}"
        );
        assert_eq!(
            ids(store.conversations_after(Some("b"), 2).unwrap()),
            ["c", "d"],
            "{name}"
        );
        assert_eq!(
            ids(store.conversations_after(Some("d"), 2).unwrap()),
            ["e"],
            "{name}"
        );
        assert!(
            store.conversations_after(Some("e"), 2).unwrap().is_empty(),
            "{name}"
        );
    }
}

#[test]
fn the_seen_sweep_removes_old_entries_dates_undated_ones_and_pages() {
    for (name, store) in backends() {
        let seen = |message: &str, at: Option<i64>| {
            put_legacy_seen(store.as_ref(), "acme", message, "c1", at);
        };
        seen("old", Some(100));
        seen("edge", Some(200));
        seen("new", Some(201));
        seen("undated", None);
        let (mut removed, mut dated, mut batches) = (0, 0, 0);
        let mut from = Vec::new();
        loop {
            let batch = store.sweep_seen(&from, 1, 200, 5_000).unwrap();
            removed += batch.removed;
            dated += batch.dated;
            batches += 1;
            match batch.next {
                Some(next) => from = next,
                None => break,
            }
        }
        assert_eq!((removed, dated), (2, 1), "{name}");
        assert!(batches >= 4, "{name}: one entry per batch");
        assert_eq!(store.seen("acme", "old").unwrap(), None, "{name}");
        assert_eq!(store.seen("acme", "edge").unwrap(), None, "{name}");
        assert!(store.seen("acme", "new").unwrap().is_some(), "{name}");
        assert_eq!(
            store.seen("acme", "undated").unwrap().and_then(|s| s.at),
            Some(5_000),
            "{name}"
        );
    }
}

#[test]
fn scenario_versions_are_listed_and_removed() {
    for (name, store) in backends() {
        for version in ["v1", "v2"] {
            store
                .put_scenario(&ScenarioVersion {
                    name: "demo".into(),
                    version: version.into(),
                    source: "scenario demo {}".into(),
                })
                .unwrap();
        }
        assert_eq!(store.scenario_versions().unwrap(), ["v1", "v2"], "{name}");
        store.remove_scenario("v1").unwrap();
        assert_eq!(store.scenario_versions().unwrap(), ["v2"], "{name}");
        assert_eq!(store.scenario("v1").unwrap(), None, "{name}");
    }
}

#[test]
fn sled_keeps_flushed_writes_across_reopening() {
    let dir = std::env::temp_dir().join(format!("scenarist-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let store = KvStore::new(SledBackend::open(&dir).unwrap());
        store.commit(&commit("c1", 1)).unwrap();
        store.flush().unwrap();
    }
    // Reopened at once: the open waits for sled's flusher thread to let go of the lock.
    let store = KvStore::new(SledBackend::open(&dir).unwrap());
    assert_eq!(
        store.conversation("c1").unwrap(),
        Some(conversation("c1", 1))
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// backup and quarantine

/// Flips the last bit of a stored value, as a torn write or a bad disk would.
fn damage(store: &dyn Store, tree: TreeName, key: &[u8]) {
    let mut bytes = store.backend().get(tree, key).unwrap().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    store.backend().insert(tree, key, &bytes).unwrap();
}

#[test]
fn pages_of_a_scan_cover_every_key_once_in_order() {
    for (name, store) in backends() {
        // More than a page (256), with keys that share prefixes.
        let ids: Vec<String> = (0..600).map(|i| format!("c{i}")).collect();
        for id in &ids {
            store.put_due(&due(1, id)).unwrap();
            store
                .backend()
                .insert(TreeName::Conversations, id.as_bytes(), b"x")
                .unwrap();
        }
        let mut seen = Vec::new();
        pages::each(store.backend(), TreeName::Conversations, &[], |key, _| {
            seen.push(String::from_utf8(key).unwrap());
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "{name}");
        let mut under = Vec::new();
        pages::each(
            store.backend(),
            TreeName::Conversations,
            b"c59",
            |key, _| {
                under.push(String::from_utf8(key).unwrap());
                Ok::<_, StoreError>(())
            },
        )
        .unwrap();
        assert_eq!(under.len(), 11, "{name}: c59 and c590..c599");
        let page = store
            .backend()
            .scan_from(TreeName::Conversations, b"c599", 3)
            .unwrap();
        let keys: Vec<&[u8]> = page.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [&b"c599"[..], b"c6", b"c60"], "{name}");
    }
}

#[test]
fn a_quarantined_conversation_is_listed_inspected_and_dropped_alone() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        store.commit(&commit("c1", 2)).unwrap();
        store.commit(&commit("c2", 1)).unwrap();
        damage(store.as_ref(), TreeName::Conversations, b"c1");
        damage(store.as_ref(), TreeName::History, &keys::turn("c1", 2));
        let reason = store.conversation("c1").unwrap_err().to_string();
        store.quarantine("c1", &reason).unwrap();

        let listed = store.quarantine_list().unwrap();
        assert_eq!(
            listed,
            [Quarantined {
                conversation: "c1".into(),
                reason: reason.clone()
            }],
            "{name}"
        );

        let seen = store.inspect("c1").unwrap();
        assert_eq!(seen.reason.as_deref(), Some(reason.as_str()), "{name}");
        let record = seen.record.unwrap();
        assert!(
            record.problem.as_deref().unwrap().contains("checksum"),
            "{name}: {record:?}"
        );
        let raw = store
            .backend()
            .get(TreeName::Conversations, b"c1")
            .unwrap()
            .unwrap();
        assert_eq!(
            record.hex.as_deref(),
            Some(scenarist_base::hex::encode(&raw).as_str()),
            "{name}"
        );
        assert!(
            record.text.unwrap().contains("facebook:acme"),
            "{name}: the text shows what is readable"
        );
        assert_eq!(seen.history.len(), 2, "{name}");
        assert!(seen.history[0].problem.is_none(), "{name}");
        assert!(
            seen.history[0].hex.is_none(),
            "{name}: a sound turn is not dumped"
        );
        assert!(seen.history[1].problem.is_some(), "{name}");
        assert!(
            seen.history[1].hex.is_some(),
            "{name}: a damaged turn is dumped"
        );
        assert_eq!(seen.due.len(), 2, "{name}: one entry per commit");

        let dropped = store.drop_conversation("c1").unwrap();
        assert_eq!(
            dropped,
            Dropped {
                conversation: "c1".into(),
                record: true,
                turns: 2,
                due: 2,
                quarantine: true
            },
            "{name}"
        );
        assert!(store.quarantine_list().unwrap().is_empty(), "{name}");
        let gone = store.inspect("c1").unwrap();
        assert!(
            gone.reason.is_none()
                && gone.record.is_none()
                && gone.history.is_empty()
                && gone.due.is_empty(),
            "{name}: {gone:?}"
        );
        // The other conversation keeps everything.
        assert_eq!(
            store.conversation("c2").unwrap(),
            Some(conversation("c2", 1))
        );
        assert_eq!(store.history("c2", 1).unwrap(), vec![turn(1)], "{name}");
        assert_eq!(store.due(1000, 10).unwrap(), vec![due(101, "c2")], "{name}");
    }
}

#[test]
fn an_export_keeps_committed_turns_only_and_carries_damage_raw() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        // Side records of turn 2 without its record: not part of any commit point.
        let mut side_only = commit("c1", 2);
        side_only.conversation = conversation("c1", 1);
        store.commit(&side_only).unwrap();
        store.commit(&commit("c2", 1)).unwrap();
        damage(store.as_ref(), TreeName::Conversations, b"c2");
        let damaged = store
            .backend()
            .get(TreeName::Conversations, b"c2")
            .unwrap()
            .unwrap();

        let mut backup = Vec::new();
        export(store.backend(), &mut backup).unwrap();
        let text = String::from_utf8(backup.clone()).unwrap();
        assert!(!text.contains("hello 2"), "{name}: an uncommitted turn");

        let restored = KvStore::new(MemoryBackend::default());
        import(restored.backend(), &mut backup.as_slice()).unwrap();
        assert_eq!(restored.history("c1", 9).unwrap(), vec![turn(1)], "{name}");
        assert_eq!(
            restored
                .backend()
                .get(TreeName::Conversations, b"c2")
                .unwrap(),
            Some(damaged),
            "{name}: restored byte for byte"
        );
        assert!(
            restored.conversation("c2").unwrap_err().is_corrupt(),
            "{name}"
        );
        assert_eq!(restored.history("c2", 9).unwrap(), vec![turn(1)], "{name}");
    }
}

#[test]
fn a_refused_import_leaves_the_store_empty_again() {
    for (name, store) in backends() {
        for id in ["c1", "c2", "c3"] {
            store.commit(&commit(id, 1)).unwrap();
        }
        let mut backup = Vec::new();
        export(store.backend(), &mut backup).unwrap();
        let text = String::from_utf8(backup).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let cut = lines[..lines.len() - 2].join("\n");
        let altered = text.replace("hello 1", "hello 9");
        let bad_line = text.replacen("\"tree\":\"history\"", "\"tree\":\"elsewhere\"", 1);
        for (what, backup) in [("cut", cut), ("altered", altered), ("bad line", bad_line)] {
            let target = KvStore::new(MemoryBackend::default());
            let error = import(target.backend(), &mut backup.as_bytes()).unwrap_err();
            assert!(
                target.backend().is_empty().unwrap(),
                "{name}, {what}: {error}"
            );
        }
        let error = import(
            KvStore::new(MemoryBackend::default()).backend(),
            &mut &b""[..],
        )
        .unwrap_err();
        assert!(error.to_string().contains("empty"), "{name}: {error}");
    }
}

#[test]
fn a_step_committed_during_an_export_leaves_each_conversation_at_a_commit_point() {
    let unlimited = Budget::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let store = std::sync::Arc::new(KvStore::new(Hooked::new(
        MemoryBackend::default(),
        &unlimited,
    )));
    store.commit(&commit("c1", 1)).unwrap();
    store.commit(&commit("c1", 2)).unwrap();
    let during = std::sync::Arc::clone(&store);
    *store.backend_ref().on_history_page.lock().unwrap() = Some(Box::new(move || {
        // After the export read c1's record (last_seq 2), before it reads its history.
        let mut step = commit("c1", 3);
        step.undue = vec![due(102, "c1")];
        during.commit(&step).unwrap();
    }));
    let exported = store.backend_ref();
    let mut backup = Vec::new();
    export(exported, &mut backup).unwrap();
    assert!(
        exported.on_history_page.lock().unwrap().is_none(),
        "the step ran mid-export"
    );

    let restored = KvStore::new(MemoryBackend::default());
    import(restored.backend(), &mut backup.as_slice()).unwrap();
    assert_eq!(restored.conversation("c1").unwrap().unwrap().last_seq, 2);
    // Not even past the record's last_seq: turn 3 belongs to a commit point not exported.
    assert_eq!(
        restored.history("c1", u64::MAX).unwrap(),
        vec![turn(1), turn(2)]
    );
    // Side records read after the conversations are at least as new as the record.
    assert_eq!(
        restored.seen_in("c1", id_hash("m2")).unwrap(),
        Some(Seen {
            conversation: "c1".into(),
            seq: 2,
            at: Some(5)
        })
    );
}

// contacts' rights

/// A commit of conversation `id` by contact `contact` on facebook:acme.
fn commit_by(contact: &str, id: &str, seq: u64) -> Commit {
    let mut c = commit(id, seq);
    c.conversation.contact = contact.to_owned();
    c
}

#[test]
fn the_contact_index_lists_each_contacts_conversations() {
    for (name, store) in backends() {
        store.commit(&commit_by("u1", "c2", 1)).unwrap();
        store.commit(&commit_by("u1", "c1", 1)).unwrap();
        store.commit(&commit_by("u1", "c1", 2)).unwrap();
        store.commit(&commit_by("u2", "c3", 1)).unwrap();
        let of = |contact| {
            store
                .contact_conversations("facebook:acme", contact)
                .unwrap()
        };
        assert_eq!(of("u1"), ["c1", "c2"], "{name}");
        assert_eq!(of("u2"), ["c3"], "{name}");
        assert!(
            of("u").is_empty(),
            "{name}: a prefix of an id is another contact"
        );
        assert!(
            store
                .contact_conversations("facebook:other", "u1")
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

#[test]
fn the_contact_index_is_filled_from_records_written_before_it() {
    for (name, store) in backends() {
        store.commit(&commit_by("u1", "c1", 1)).unwrap();
        // A record written by a build without the index: no entry for it.
        let old = conversation("c-old", 1);
        store
            .backend()
            .insert(
                TreeName::Conversations,
                &keys::conversation("c-old"),
                &super::envelope::encode(&old).unwrap(),
            )
            .unwrap();
        assert_eq!(
            store.contact_conversations("facebook:acme", "u1").unwrap(),
            ["c1", "c-old"],
            "{name}"
        );
    }
}

#[test]
fn erasing_a_conversation_removes_its_record_turns_timer_and_index_entry_once() {
    for (name, store) in backends() {
        store.commit(&commit_by("u1", "c1", 1)).unwrap();
        store.commit(&commit_by("u1", "c1", 2)).unwrap();
        store.commit(&commit_by("u1", "c2", 1)).unwrap();
        // The record's timer (id 1, due at 99) has its entry in the due index.
        store.put_due(&due(99, "c1")).unwrap();
        let erased = store
            .erase_conversation("facebook:acme", "u1", "c1")
            .unwrap();
        assert_eq!(
            erased,
            Erased {
                record: true,
                turns: 2
            },
            "{name}"
        );
        assert_eq!(store.conversation("c1").unwrap(), None, "{name}");
        assert!(store.history("c1", u64::MAX).unwrap().is_empty(), "{name}");
        assert!(
            !store.due(100, 10).unwrap().contains(&due(99, "c1")),
            "{name}"
        );
        assert_eq!(
            store.contact_conversations("facebook:acme", "u1").unwrap(),
            ["c2"],
            "{name}"
        );
        // No text of c1 is left anywhere in the history keyspace.
        let texts: Vec<Turn> = store
            .backend()
            .scan_prefix(TreeName::History, &[])
            .unwrap()
            .iter()
            .map(|(_, bytes)| super::envelope::decode_turn(bytes).unwrap())
            .collect();
        assert_eq!(texts, [turn(1)], "{name}: only c2's turn is left");
        assert_eq!(
            store
                .erase_conversation("facebook:acme", "u1", "c1")
                .unwrap(),
            Erased::default(),
            "{name}: a second erase finds nothing"
        );
    }
}

#[test]
fn an_erase_interrupted_after_its_record_finishes_when_run_again() {
    for (name, store) in backends() {
        store.commit(&commit_by("u1", "c1", 1)).unwrap();
        // A crash right after the erasure's commit point: the record is gone, the rest not.
        store
            .backend()
            .remove(TreeName::Conversations, &keys::conversation("c1"))
            .unwrap();
        assert_eq!(
            store.contact_conversations("facebook:acme", "u1").unwrap(),
            ["c1"],
            "{name}: the index still leads to what is left"
        );
        let erased = store
            .erase_conversation("facebook:acme", "u1", "c1")
            .unwrap();
        assert_eq!(
            erased,
            Erased {
                record: false,
                turns: 1
            },
            "{name}"
        );
        assert!(
            store
                .backend()
                .scan_prefix(TreeName::History, &[])
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

#[test]
fn an_erase_leaves_another_contacts_conversation_under_a_reused_id_alone() {
    for (name, store) in backends() {
        store.commit(&commit_by("u2", "c1", 1)).unwrap();
        let erased = store
            .erase_conversation("facebook:acme", "u1", "c1")
            .unwrap();
        assert_eq!(erased, Erased::default(), "{name}");
        assert!(store.conversation("c1").unwrap().is_some(), "{name}");
        assert_eq!(store.history("c1", 1).unwrap(), [turn(1)], "{name}");
    }
}

#[test]
fn removing_a_contact_says_whether_there_was_one() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        assert!(
            store.remove_contact("facebook:acme", "u1").unwrap(),
            "{name}"
        );
        assert_eq!(
            store.contact("facebook:acme", "u1").unwrap(),
            None,
            "{name}"
        );
        assert!(
            !store.remove_contact("facebook:acme", "u1").unwrap(),
            "{name}"
        );
    }
}

/// A directory held by another handle is waited for while it is let go of soon (sled releases
/// its lock a moment after the drop), and refused when it stays held.
#[test]
fn sled_waits_for_a_lock_let_go_of_and_refuses_one_kept() {
    let dir = std::env::temp_dir().join(format!("scenarist-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let held = SledBackend::open(&dir).unwrap();
    let error = SledBackend::open(&dir)
        .err()
        .expect("the directory is held");
    assert!(error.to_string().contains("lock"), "{error}");
    let holder = std::thread::spawn(move || {
        // Let go while the other open is waiting.
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
    });
    let reopened = SledBackend::open(&dir);
    holder.join().unwrap();
    assert!(reopened.is_ok(), "{:?}", reopened.err());
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_due_index_names_the_conversations_with_an_effect_and_keeps_its_marker() {
    for (name, store) in backends() {
        let effect = |at: i64, conversation: &str, id: &str| Due {
            at,
            conversation: conversation.into(),
            what: DueKind::Effect(id.into()),
        };
        for entry in [
            due(5, "timer-only"),
            effect(7, "c2", "c2:1"),
            effect(3, "c1", "c1:1"),
            effect(9, "c1", "c1:2"),
            effect(i64::MIN, "c0", "c0:1"),
        ] {
            store.put_due(&entry).unwrap();
        }
        assert_eq!(
            store.conversations_with_effects().unwrap(),
            ["c0", "c1", "c2"],
            "{name}: each once, timers left out"
        );
        assert_eq!(
            store.outbox_depth().unwrap(),
            4,
            "{name}: each effect, no timer"
        );
        // The marker is found again, and is no due entry, no contact's and no scenario.
        assert!(!store.due_index_complete().unwrap(), "{name}");
        store.mark_due_index_complete().unwrap();
        assert!(store.due_index_complete().unwrap(), "{name}");
        assert_eq!(store.due(i64::MAX, 100).unwrap().len(), 5, "{name}");
        assert!(store.scenario_versions().unwrap().is_empty(), "{name}");
        assert!(
            store
                .contact_conversations("facebook:acme", "u1")
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert_eq!(
            store.conversations_with_effects().unwrap().len(),
            3,
            "{name}"
        );
    }
}

#[test]
fn the_due_index_marker_survives_an_export_and_an_import() {
    for (name, store) in backends() {
        store.commit(&commit("c1", 1)).unwrap();
        store.mark_due_index_complete().unwrap();
        let mut text = Vec::new();
        export(store.backend(), &mut text).unwrap();
        let restored = KvStore::new(MemoryBackend::default());
        import(restored.backend(), &mut text.as_slice()).unwrap();
        assert!(restored.due_index_complete().unwrap(), "{name}");
        assert_eq!(
            restored.due(i64::MAX, 10).unwrap(),
            [due(101, "c1")],
            "{name}"
        );
    }
}

#[test]
fn a_conversations_footprint_sums_its_record_due_contact_index_and_seen_entries() {
    let store = KvStore::new(MemoryBackend::default());
    assert_eq!(footprint(&store, "c1").unwrap(), None);
    store.commit(&commit("c1", 1)).unwrap();
    let found = footprint(&store, "c1").unwrap().unwrap();
    let bytes = |tree| -> usize {
        store
            .backend()
            .scan_prefix(tree, &[])
            .unwrap()
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum()
    };
    assert_eq!(found.record, bytes(TreeName::Conversations));
    assert_eq!(found.contact, bytes(TreeName::Contacts));
    assert_eq!(found.contact_index, bytes(TreeName::ContactConversations));
    assert_eq!(found.seen, bytes(TreeName::Seen));
    // The record's timer (due at 99) has an entry; the commit's own (at 101) is not the
    // record's, so it is not counted.
    let timer = due(99, "c1");
    store.put_due(&timer).unwrap();
    let with_timer = footprint(&store, "c1").unwrap().unwrap();
    assert_eq!(
        with_timer.due,
        keys::due(&timer).len() + super::envelope::encode(&timer).unwrap().len()
    );
    assert!(found.record > 0 && found.contact > 0 && found.contact_index > 0 && found.seen > 0);
    assert_eq!(with_timer.total(), found.total() + with_timer.due);
}
