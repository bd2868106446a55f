//! Sessions the server ends under the backend (as a restart does): the call that finds its
//! session gone fails as transient, the next one connects again, and a lock whose session
//! died is free for others and taken again by the next holder.

use super::*;

/// A store on a database of its own, and that database's URL.
fn backend_and_url() -> (PgBackend, String) {
    let server = test_database_url().unwrap_or_else(|why| panic!("{why}"));
    let url =
        scratch_database(&server).unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    let backend =
        PgBackend::open(&url, 1).unwrap_or_else(|e| panic!("cannot open the database: {e}"));
    (backend, url)
}

/// Ends every other session on the database at `url`, as `pg_ctl restart` does to all
/// (`57P01 admin_shutdown`).
fn end_sessions(url: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap();
}

#[test]
fn a_session_ended_by_the_server_is_transient_and_the_next_call_connects_again() {
    let (backend, url) = backend_and_url();
    backend.insert(TreeName::Seen, b"k", b"v").unwrap();
    end_sessions(&url);
    let lost = backend
        .get(TreeName::Seen, b"k")
        .expect_err("the session is gone");
    assert!(lost.is_transient(), "{lost}");
    assert!(
        lost.plain().contains("cannot reach its database") && !lost.plain().contains(&url),
        "{}",
        lost.plain()
    );
    assert_eq!(
        backend.get(TreeName::Seen, b"k").unwrap(),
        Some(b"v".to_vec())
    );
    backend
        .apply(vec![Write::Insert {
            tree: TreeName::Seen,
            key: b"k2".to_vec(),
            value: b"v2".to_vec(),
        }])
        .unwrap();
    backend.ping().unwrap();
}

#[test]
fn a_lock_whose_session_died_is_free_and_taken_again_by_the_next_holder() {
    let (first, url) = backend_and_url();
    let second = PgBackend::open(&url, 1).unwrap();
    let held = first.hold("conversation\0c1").unwrap();
    end_sessions(&url);
    // The lock died with its session: the other node takes it without waiting.
    let other = second.hold("conversation\0c1");
    // `second`'s lock connection was ended too (a restart ends all): at most one failure.
    let other = match other {
        Ok(other) => other,
        Err(error) => {
            assert!(error.is_transient(), "{error}");
            second.hold("conversation\0c1").unwrap()
        }
    };
    drop(held);
    drop(other);
    // The node whose session died takes it again with a new session.
    let again = first.hold("conversation\0c1").unwrap();
    assert!(again.is_holding());
}

#[test]
fn a_server_that_refuses_is_transient_and_tried_again_only_after_a_pause() {
    // A port nothing listens on: a connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://scenarist:secret-pw@127.0.0.1:{port}/none");
    let setup = Arc::new(super::setup(&url).unwrap());
    let pool = Pool::new(&setup, 1, "postgres-test").unwrap();
    let attempt = || {
        pool.call(|connection| {
            connection.client().map_err(PgError::into_store)?;
            Ok(())
        })
        .expect_err("nothing listens")
    };
    let refused = attempt();
    assert!(refused.is_transient(), "{refused}");
    assert!(!refused.to_string().contains("secret-pw"), "{refused}");
    // The next call within the pause fails without trying (no hammering a server that is
    // down), and says when it tries again.
    let waiting = attempt();
    assert!(waiting.is_transient(), "{waiting}");
    assert!(waiting.to_string().contains("the next one in"), "{waiting}");
}

#[test]
fn a_step_whose_lock_session_ended_is_told_before_its_commit() {
    let (backend, url) = backend_and_url();
    backend.insert(TreeName::Seen, b"k", b"v").unwrap();
    let put = |key: &[u8]| {
        vec![Write::Insert {
            tree: TreeName::Seen,
            key: key.to_vec(),
            value: b"v".to_vec(),
        }]
    };
    let held = backend.hold("conversation\0c2").unwrap();
    backend.apply_held(put(b"before"), &held).unwrap();
    end_sessions(&url);
    // The data pool meets the restart and connects again, as a commit after it would.
    let _ = backend.get(TreeName::Seen, b"k");
    backend.get(TreeName::Seen, b"k").unwrap();
    let lost = backend
        .apply_held(put(b"after"), &held)
        .expect_err("the lock's session is gone");
    assert!(lost.is_transient(), "{lost}");
    assert!(lost.to_string().contains("lock was lost"), "{lost}");
    assert_eq!(backend.get(TreeName::Seen, b"after").unwrap(), None);
    drop(held);
    let again = backend.hold("conversation\0c2").unwrap();
    backend.apply_held(put(b"again"), &again).unwrap();
}

/// After a call found its session ended, the next one connects again and prepares its
/// statements again before using them: the ones prepared on the ended session are unknown on
/// the new one (PostgreSQL answers `26000`, "prepared statement … does not exist", which
/// would have stopped intake for good).
#[test]
fn statements_of_an_ended_session_are_prepared_again_on_the_new_one() {
    let (backend, url) = backend_and_url();
    let put = |key: &[u8]| {
        vec![Write::Insert {
            tree: TreeName::Seen,
            key: key.to_vec(),
            value: b"v".to_vec(),
        }]
    };
    // The commit's statement, prepared on the first session.
    backend.apply(put(b"k1")).unwrap();
    end_sessions(&url);
    let lost = backend.apply(put(b"k2")).expect_err("the session is gone");
    assert!(lost.is_transient(), "{lost}");
    // The next commit reconnects (a busy server may refuse a connection for a moment, and
    // the pool then waits out its pause: tried again) and never sends a stale statement.
    let committed = (0..100).any(|_| match backend.apply(put(b"k3")) {
        Ok(()) => true,
        Err(error) => {
            assert!(
                !error.to_string().contains("does not exist"),
                "a statement of the ended session was sent on the new one: {error}"
            );
            assert!(error.is_transient(), "{error}");
            std::thread::sleep(std::time::Duration::from_millis(50));
            false
        }
    });
    assert!(committed, "the next commit never went through");
    assert_eq!(
        backend.get(TreeName::Seen, b"k3").unwrap(),
        Some(b"v".to_vec())
    );
}
