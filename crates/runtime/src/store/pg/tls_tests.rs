//! TLS to PostgreSQL (`tls.rs`): the URL's `sslmode` and `sslrootcert`, a refusal to send a
//! password in clear to another machine, and real connections to the test server, which takes
//! TLS with a certificate signed by a throwaway CA (`scripts/test-postgres`).

use std::path::PathBuf;

use super::tls::{Mode, Wanted, split};
use super::*;

/// The test server's CA certificate, or the other CA that signed nothing it shows.
fn ca(name: &str) -> String {
    let dir = std::env::var("SCENARIST_TEST_POSTGRES_DIR").unwrap_or_else(|_| {
        panic!(
            "SCENARIST_TEST_POSTGRES_DIR is not set: start the test server with \
             `pg_env=$(scripts/test-postgres start) && eval \"$pg_env\"`"
        )
    });
    let path = PathBuf::from(dir).join("tls").join(name);
    assert!(
        path.exists(),
        "{} is missing: restart the test server with this scripts/test-postgres, which makes it",
        path.display()
    );
    path.display().to_string()
}

/// A new database on the test server, its URL with `options` added.
fn database_with(options: &str) -> String {
    let url = scratch_database(&test_database_url().unwrap_or_else(|why| panic!("{why}")))
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    format!("{url}?{options}")
}

/// Whether the backend's connections are encrypted, as the server sees them.
fn encrypted(backend: &PgBackend) -> bool {
    backend
        .pool
        .run(|connection| {
            connection
                .client()
                .map_err(PgError::into_store)?
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .and_then(|row| row.try_get::<_, bool>(0))
                .map_err(|e| storage(&e))
        })
        .unwrap()
        .unwrap()
}

#[test]
fn sslmode_and_sslrootcert_are_taken_out_of_the_url_for_the_driver() {
    let (url, wanted) =
        split("postgres://u:p@db:5432/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=a")
            .unwrap();
    assert_eq!(
        url,
        "postgres://u:p@db:5432/x?application_name=a&sslmode=require"
    );
    assert_eq!(
        wanted,
        Wanted {
            mode: Some(Mode::VerifyFull),
            root_cert: Some("/etc/ca.pem".into()),
        }
    );
    let (url, wanted) = split("host=db user=u sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
    assert_eq!(url, "host=db user=u sslmode=require");
    assert_eq!(wanted.mode, Some(Mode::VerifyCa));
    let (url, wanted) = split("postgres://u@localhost/x").unwrap();
    assert_eq!(
        (url.as_str(), wanted.mode),
        ("postgres://u@localhost/x", None)
    );
    let (url, _) = split("host=h password='a b'").unwrap();
    assert_eq!(url, "host=h password='a b'", "left whole");
    let Err(PgError::Tls(why)) = split("postgres://u@h/x?sslmode=verify_full") else {
        panic!("a wrong sslmode is refused");
    };
    assert!(why.contains("verify-full"), "{why}");
}

/// Nothing is sent: the URL is refused before any connection, and its password is not said.
#[test]
fn a_password_in_clear_to_another_machine_is_refused() {
    for url in [
        "postgres://u:s3cret@db.example.com/x?sslmode=disable",
        "postgres://u:s3cret@db.example.com/x",
        "postgres://u:s3cret@db.example.com/x?sslmode=prefer",
        "host=db.example.com user=u password=s3cret sslmode=allow",
        "postgres://u:s3cret@localhost/x?hostaddr=192.0.2.1&sslmode=disable",
    ] {
        let Err(PgError::Tls(why)) = PgBackend::open(url, 1) else {
            panic!("{url} was not refused");
        };
        assert!(
            why.contains("in clear") && why.contains("sslmode=verify-full"),
            "{why}"
        );
        assert!(!why.contains("s3cret"), "{why}");
    }
}

#[test]
fn verify_full_with_the_servers_ca_connects_encrypted() {
    let url = database_with(&format!("sslmode=verify-full&sslrootcert={}", ca("ca.crt")));
    let backend = PgBackend::open(&url, 1).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&backend));
    backend.insert(TreeName::Seen, b"k", b"v").unwrap();
    assert_eq!(
        backend.get(TreeName::Seen, b"k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
    // The certificate names `localhost` too.
    let by_name = url.replace("127.0.0.1", "localhost");
    assert!(encrypted(
        &PgBackend::open(&by_name, 1).unwrap_or_else(|e| panic!("{e}"))
    ));
}

#[test]
fn require_encrypts_and_a_loopback_server_may_still_be_plain() {
    let required = PgBackend::open(&database_with("sslmode=require"), 1).unwrap();
    assert!(encrypted(&required));
    let verified = database_with(&format!("sslmode=verify-ca&sslrootcert={}", ca("ca.crt")));
    assert!(encrypted(&PgBackend::open(&verified, 1).unwrap()));
    let plain = PgBackend::open(&database_with("sslmode=disable"), 1).unwrap();
    assert!(!encrypted(&plain));
}

#[test]
fn a_certificate_another_ca_signed_is_refused_with_what_was_checked() {
    let wrong = ca("wrong-ca.crt");
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = database_with(&format!("sslmode={mode}&sslrootcert={wrong}"));
        let Err(error) = PgBackend::open(&url, 1) else {
            panic!("{mode}: a server whose certificate the CA did not sign was accepted");
        };
        let why = error.to_string();
        assert!(why.contains("certificate"), "{mode}: {why}");
        assert!(
            why.contains(&format!("sslrootcert `{wrong}`")),
            "{mode}: {why}"
        );
        let password = test_database_url().unwrap();
        let password = password
            .split(':')
            .nth(2)
            .unwrap()
            .split('@')
            .next()
            .unwrap();
        assert!(!why.contains(password), "{why}");
    }
    let missing = database_with("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    let Err(PgError::Tls(why)) = PgBackend::open(&missing, 1) else {
        panic!("a missing sslrootcert was not said");
    };
    assert!(
        why.contains("cannot use sslrootcert `/nonexistent/ca.pem`"),
        "{why}"
    );
}
