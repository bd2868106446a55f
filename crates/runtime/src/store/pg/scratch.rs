//! Throwaway databases for tests: each test store gets a database of its own on the server
//! that `scripts/test-postgres` starts, so tests running at once never see each other's keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::pool::Pool;
use super::{PgError, storage};

/// The variable that holds the test server's URL.
pub const TEST_DATABASE_URL: &str = "SCENARIST_TEST_DATABASE_URL";

/// The test server's URL, or what to do when there is none (the tests fail then: they never
/// skip).
pub fn test_database_url() -> Result<String, String> {
    std::env::var(TEST_DATABASE_URL).map_err(|_| {
        format!(
            "{TEST_DATABASE_URL} is not set: the PostgreSQL tests need a server. Start one with \
             `pg_env=$(scripts/test-postgres start) && eval \"$pg_env\"` (scripts/test does), \
             and stop it with `scripts/test-postgres stop`"
        )
    })
}

/// Creates an empty database on the server of `base_url` and gives its URL (the same URL
/// with the database's name in its path).
pub fn scratch_database(base_url: &str) -> Result<String, PgError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "scenarist_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let pool = Pool::new(&std::sync::Arc::new(super::setup(base_url)?), 1, "postgres")?;
    let sql = format!("CREATE DATABASE {name}");
    pool.run(move |connection| {
        connection
            .client()?
            .batch_execute(&sql)
            .map_err(|e| PgError::Store(storage(&e)))
    })
    .map_err(PgError::Store)??;
    Ok(with_database(base_url, &name))
}

/// `url` (`postgres://…@host:port/db?options`) naming the database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let authority_start = main.find("://").map_or(0, |at| at + 3);
    let base = match main[authority_start..].find('/') {
        Some(slash) => &main[..authority_start + slash],
        None => main,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_another_database_keeping_its_options() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres", "x"),
            "postgres://u:p@h:5/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5/db?sslmode=disable", "x"),
            "postgres://u:p@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
