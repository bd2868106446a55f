//! What only the PostgreSQL backend has: its key order at the edges, its schema versions, and
//! a URL's password kept out of every message. The conformance suite (`../tests.rs`) runs the
//! rest on it.

use super::test_support::raw_sql;
use super::*;

#[test]
fn prefix_ends_skip_trailing_top_bytes() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(vec![2]));
    assert_eq!(prefix_end(&[0xff]), None);
    assert_eq!(prefix_end(&[]), None);
}

#[test]
fn keys_sort_bytewise_and_prefixes_hold_at_the_top_byte() {
    let backend = test_backend();
    let keys: [&[u8]; 7] = [b"", &[0], b"a", b"a\x00", b"ab", &[0xff], &[0xff, 0xff, 1]];
    for key in keys.iter().rev() {
        backend.insert(TreeName::Due, key, b"v").unwrap();
    }
    backend.insert(TreeName::History, b"a", b"other").unwrap();
    let all: Vec<Vec<u8>> = backend
        .scan_prefix(TreeName::Due, &[])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let sorted: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    assert_eq!(all, sorted, "bytewise order, the empty key first");
    let top: Vec<Vec<u8>> = backend
        .scan_prefix(TreeName::Due, &[0xff])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(top, vec![vec![0xff], vec![0xff, 0xff, 1]]);
    let a = backend.scan_prefix(TreeName::Due, b"a").unwrap();
    assert_eq!(a.len(), 3, "a, a\\0 and ab: {a:?}");
    let below = backend.scan_below(TreeName::Due, b"ab", 10).unwrap();
    assert_eq!(below.len(), 4);
    let from = backend.scan_from(TreeName::Due, b"a\x00", 2).unwrap();
    assert_eq!(from[0].0, b"a\x00".to_vec());
    assert_eq!(from[1].0, b"ab".to_vec());
    assert_eq!(
        backend.get(TreeName::History, b"a").unwrap(),
        Some(b"other".to_vec()),
        "trees do not share keys"
    );
}

#[test]
fn the_schema_is_migrated_once_and_a_newer_one_is_refused() {
    let url = scratch_database(&test_database_url().unwrap()).unwrap();
    let first = PgBackend::open(&url, 1).unwrap();
    assert_eq!(
        first.migrated(),
        Migrated {
            from: 0,
            to: SCHEMA_VERSION
        }
    );
    first.insert(TreeName::Scenarios, b"v1", b"kept").unwrap();
    let again = PgBackend::open(&url, 1).unwrap();
    assert_eq!(
        again.migrated(),
        Migrated {
            from: SCHEMA_VERSION,
            to: SCHEMA_VERSION
        }
    );
    assert_eq!(
        again.get(TreeName::Scenarios, b"v1").unwrap(),
        Some(b"kept".to_vec())
    );
    raw_sql(
        &again,
        "INSERT INTO scenarist_schema (version, what) VALUES (99, 'from the future')",
    );
    match PgBackend::open(&url, 1) {
        Err(PgError::SchemaNewer { found, known }) => {
            assert_eq!((found, known), (99, SCHEMA_VERSION));
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a schema newer than this binary knows was opened"),
    }
}

#[test]
fn a_password_is_never_in_an_error_message() {
    let url = test_database_url().unwrap();
    // The test server's URL with a wrong password: the server refuses it.
    let (scheme_user, rest) = url.rsplit_once('@').unwrap();
    let (scheme_user, _) = scheme_user.rsplit_once(':').unwrap();
    let wrong = format!("{scheme_user}:hunter2-Wr0ng%21@{rest}");
    let error = PgBackend::open(&wrong, 1)
        .err()
        .expect("a wrong password is refused");
    let text = error.to_string();
    assert!(text.contains("password"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    // A URL that does not parse.
    let error = PgBackend::open("postgres://u:s3cret-pw@host:notaport/db", 1)
        .err()
        .expect("a bad port is refused");
    let text = error.to_string();
    assert!(matches!(error, PgError::Url(_)), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    // Words that would carry it are cleaned.
    assert_eq!(
        redacted("user u:p%40ss and p@ss", "postgres://u:p%40ss@h/db"),
        "user u:*** and ***"
    );
    assert_eq!(redacted("x pw1 y", "host=h password=pw1"), "x *** y");
}

#[test]
fn a_lost_connection_fails_one_call_and_the_next_reconnects() {
    let url = scratch_database(&test_database_url().unwrap()).unwrap();
    let backend = PgBackend::open(&url, 1).unwrap();
    backend.insert(TreeName::Contacts, b"k", b"v").unwrap();
    // The server ends every other connection to this database (only this test's).
    let killer = PgBackend::open(&url, 1).unwrap();
    raw_sql(
        &killer,
        // Waiting until they are gone: a call sent before that would still get through.
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    // The call that meets the dead connection may fail; the one after it connects again.
    let _ = backend.get(TreeName::Contacts, b"k");
    assert_eq!(
        backend.get(TreeName::Contacts, b"k").unwrap(),
        Some(b"v".to_vec())
    );
}

#[test]
fn a_commit_that_fails_at_its_record_leaves_nothing_of_its_step() {
    use super::super::{Commit, Contact, Due, DueKind, KvStore, Seen, Store};
    use crate::state::{Conversation, Turn};
    let store = KvStore::new(test_backend());
    // The server refuses every conversation record (tree 1): the step's last write.
    raw_sql(
        store.backend_ref(),
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the test refuses conversation records'; END $$; \
         CREATE TRIGGER refuse_records BEFORE INSERT OR UPDATE ON scenarist_kv \
         FOR EACH ROW WHEN (NEW.tree = 1) EXECUTE FUNCTION refuse();",
    );
    let mut conversation = Conversation::new("c1", "facebook:acme", "u1", "demo", "v1", 10);
    conversation.last_seq = 1;
    let due = Due {
        at: 100,
        conversation: "c1".into(),
        what: DueKind::Timer(1),
    };
    let commit = Commit {
        turn: Some(Turn {
            seq: 1,
            at: 5,
            message_id: Some("m1".into()),
            messages: vec![],
        }),
        contact: Some(Contact::new("facebook:acme", "u1", "Ada")),
        seen: vec![(
            7,
            Seen {
                conversation: "c1".into(),
                seq: 1,
                at: Some(5),
            },
        )],
        due: vec![due.clone()],
        undue: vec![],
        conversation,
    };
    let error = store.commit(&commit).unwrap_err();
    assert!(error.to_string().contains("refuses"), "{error}");
    assert!(
        store.backend_ref().is_empty().unwrap(),
        "nothing of the step"
    );
    assert_eq!(store.turn("c1", 1).unwrap(), None);
    assert_eq!(store.contact("facebook:acme", "u1").unwrap(), None);
    assert_eq!(store.seen_in("c1", 7).unwrap(), None);
    assert!(store.due(1000, 10).unwrap().is_empty());
    // Once the server takes records again, the same step commits whole.
    raw_sql(
        store.backend_ref(),
        "DROP TRIGGER refuse_records ON scenarist_kv",
    );
    store.commit(&commit).unwrap();
    assert_eq!(
        store.conversation("c1").unwrap().map(|c| c.last_seq),
        Some(1)
    );
    assert!(store.turn("c1", 1).unwrap().is_some());
    assert_eq!(store.due(1000, 10).unwrap(), vec![due]);
    assert_eq!(
        store.contact_conversations("facebook:acme", "u1").unwrap(),
        vec!["c1".to_owned()]
    );
}
