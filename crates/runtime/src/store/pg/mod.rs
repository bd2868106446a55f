//! The PostgreSQL backend: the only module that names PostgreSQL. Every tree lives in one
//! table, `scenarist_kv (tree smallint, key bytea, value bytea, primary key (tree, key))`;
//! `bytea` sorts bytewise, as sled's keys do, so scans read in the same order and `KvStore`
//! runs on it unchanged. Values are the store's envelopes, byte for byte.
//!
//! Calls go to a pool of connection threads (`pool.rs`); the schema is migrated when the store
//! opens (`schema.rs`). Each statement commits on its own, durably (`synchronous_commit` on),
//! so `flush` has nothing left to do; a step's writes are one statement, shared with the steps
//! committing at the same time (`commits.rs`). The URL holds a password: it is never printed, and
//! error messages have it taken out.

mod claims;
mod commits;
mod fence;
mod locks;
mod ping;
mod pool;
mod schema;
mod scratch;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;

use self::claims::Claims;
use self::commits::Commits;
use self::locks::Locks;
use self::ping::Pings;
use self::pool::{Pool, Setup};
use super::backend::{Backend, Claim, Held, Pairs, TreeName, Write};
use super::{StorageCause, StorageFault, StoreError};

/// The statement a batch of steps commits with, for `examples/raw_postgres.rs` to send the same.
pub use commits::APPLY as COMMIT_STATEMENT;
pub use schema::{KNOWN as SCHEMA_VERSION, Migrated};
pub use scratch::{TEST_DATABASE_URL, scratch_database, test_database_url};

/// Why a PostgreSQL store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The URL does not parse (its password is never in the words).
    #[error(
        "the PostgreSQL URL is not valid ({0}): write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    Url(String),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    /// The URL's TLS settings (`tls.rs`): refused, or a file they name cannot be used.
    #[error("{0}")]
    Tls(String),
    #[error(
        "the database's schema is at version {found}, newer than this Scenarist knows (version \
         {known}): a newer release migrated it; run that release or a newer one"
    )]
    SchemaNewer { found: i32, known: i32 },
    #[error("{0}")]
    Store(StoreError),
}

impl PgError {
    /// As a storage failure (for a call that failed to reconnect).
    pub fn into_store(self) -> StoreError {
        match self {
            PgError::Store(error) => error,
            // No connection could be made: the server is down or refuses for now.
            PgError::Connect(words) => StoreError::Io(StorageFault::new(
                StorageCause::Unreachable,
                format!("cannot connect to PostgreSQL: {words}"),
            )),
            other => StoreError::Io(StorageFault::new(StorageCause::Other, other.to_string())),
        }
    }
}

/// A failed statement as a storage failure: the engine stops intake, as it does on sled's —
/// but for a server out of reach (`unreachable`), where it refuses only this request.
pub(super) fn storage(error: &postgres::Error) -> StoreError {
    let cause = match error.code() {
        _ if unreachable(error) => StorageCause::Unreachable,
        Some(code) if *code == SqlState::DISK_FULL => StorageCause::Full,
        Some(code)
            if *code == SqlState::INSUFFICIENT_PRIVILEGE
                || *code == SqlState::READ_ONLY_SQL_TRANSACTION =>
        {
            StorageCause::Denied
        }
        _ => StorageCause::Other,
    };
    StoreError::Io(StorageFault::new(
        cause,
        format!("PostgreSQL: {}", words(error)),
    ))
}

/// Whether `error` says the server is out of reach for now: the connection was refused,
/// closed or reset (an I/O error on its socket), or the server is shutting down, restarting
/// or starting (`57P01`–`57P03`, class `08`, too many connections). The transaction it was in
/// is rolled back whole; a new connection may succeed.
pub(super) fn unreachable(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return code.code().starts_with("08")
            || *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::TOO_MANY_CONNECTIONS
            // A statement prepared on a session that ended, sent on the new one (the
            // connection was lost in between): the outage's, not a fault of the store.
            || *code == SqlState::INVALID_SQL_STATEMENT_NAME;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// An error with its causes (`postgres::Error` says only "db error" and keeps the server's
/// words in its source).
pub(super) fn words(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `message` with the URL's password (as written and percent-decoded) replaced by `***`.
pub(super) fn redacted(message: &str, url: &str) -> String {
    let mut out = message.to_owned();
    for password in passwords(url) {
        if !password.is_empty() {
            out = out.replace(&password, "***");
        }
    }
    out
}

/// The password of a URL (`scheme://user:password@host/...`) or of a `key=value` string.
fn passwords(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            found.push(password.to_owned());
            found.push(percent_decoded(password));
        }
    }
    for part in url.split([' ', '&', '?']) {
        if let Some(password) = part.strip_prefix("password=") {
            found.push(password.trim_matches('\'').to_owned());
            found.push(percent_decoded(password));
        }
    }
    found
}

pub(super) fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A tree's number in the `tree` column: fixed forever (stored data depends on it).
fn code(tree: TreeName) -> i16 {
    match tree {
        TreeName::Conversations => 1,
        TreeName::History => 2,
        TreeName::Contacts => 3,
        TreeName::Seen => 4,
        TreeName::Due => 5,
        TreeName::Scenarios => 6,
        TreeName::Quarantine => 7,
        TreeName::ContactConversations => 8,
    }
}

/// The first key after every key that starts with `prefix` (`None`: no such bound).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

const GET: &str = "SELECT value FROM scenarist_kv WHERE tree = $1 AND key = $2";
const UPSERT: &str = "INSERT INTO scenarist_kv (tree, key, value) VALUES ($1, $2, $3) \
                      ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";
const DELETE: &str = "DELETE FROM scenarist_kv WHERE tree = $1 AND key = $2";
const SCAN_RANGE: &str = "SELECT key, value FROM scenarist_kv \
                          WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key";
const SCAN_FROM: &str = "SELECT key, value FROM scenarist_kv \
                         WHERE tree = $1 AND key >= $2 ORDER BY key LIMIT $3";
const SCAN_BELOW: &str = "SELECT key, value FROM scenarist_kv \
                          WHERE tree = $1 AND key < $2 ORDER BY key LIMIT $3";
const ANY: &str = "SELECT EXISTS (SELECT 1 FROM scenarist_kv)";

/// How to connect to `url`: the driver's config, and the TLS the URL asks for.
fn setup(url: &str) -> Result<Setup, PgError> {
    // `sslmode` and `sslrootcert` are read here (`tls.rs`), the rest by the driver.
    let (driver_url, wanted) = tls::split(url)?;
    let mut config: postgres::Config = driver_url
        .parse()
        .map_err(|e: postgres::Error| PgError::Url(redacted(&words(&e), url)))?;
    let tls = tls::Tls::new(&config, &wanted)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    Ok(Setup {
        config,
        url: url.to_owned(),
        tls,
    })
}

/// The store on PostgreSQL.
pub struct PgBackend {
    pool: Pool,
    /// Steps waiting to commit together (`commits.rs`).
    commits: Commits,
    locks: Locks,
    migrated: Migrated,
    pings: Pings,
    claims: Claims,
}

impl PgBackend {
    /// Connects to the database at `url` with at most `connections` connections and brings
    /// its schema up to date (refusing one newer than this binary knows).
    pub fn open(url: &str, connections: usize) -> Result<Self, PgError> {
        let setup = Arc::new(setup(url)?);
        let pool = Pool::new(&setup, connections, "postgres")?;
        // As many lock connections as data connections: each step in progress holds one
        // (`locks.rs`), and its reads and writes go to the data pool, so neither starves.
        let lock_setup = claims::holding(&setup, "locks");
        let locks = Locks::new(Pool::new(&lock_setup, connections, "postgres-lock")?);
        // One more connection, opened on the first claim, for every claim of this node.
        let claim_setup = claims::holding(&setup, "claims");
        let claims = Claims::new(Pool::new(&claim_setup, 1, "postgres-claims")?);
        let migrated = pool
            .run(|connection| schema::migrate(connection.client()?))
            .map_err(PgError::Store)??;
        Ok(Self {
            pool,
            commits: Commits::default(),
            locks,
            migrated,
            pings: Pings::default(),
            claims,
        })
    }

    /// What opening did to the schema.
    pub fn migrated(&self) -> Migrated {
        self.migrated
    }

    fn scan(
        &self,
        sql: &'static str,
        tree: TreeName,
        key: &[u8],
        bound: Bound,
    ) -> Result<Pairs, StoreError> {
        let key = key.to_vec();
        self.pool.call(move |connection| {
            let statement = connection.statement(sql)?;
            let client = connection.client().map_err(PgError::into_store)?;
            let tree = code(tree);
            let rows = match bound {
                Bound::Key(end) => client.query(&statement, &[&tree, &key, &end]),
                Bound::Limit(limit) => client.query(&statement, &[&tree, &key, &limit]),
                Bound::None => client.query(&statement, &[&tree, &key]),
            }
            .map_err(|e| storage(&e))?;
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<Pairs, postgres::Error>>()
                .map_err(|e| storage(&e))
        })
    }
}

/// What ends a scan besides its start.
enum Bound {
    Key(Vec<u8>),
    Limit(i64),
    None,
}

const SCAN_FROM_ALL: &str =
    "SELECT key, value FROM scenarist_kv WHERE tree = $1 AND key >= $2 ORDER BY key";

impl Backend for PgBackend {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.pool.call(move |connection| {
            let statement = connection.statement(GET)?;
            let client = connection.client().map_err(PgError::into_store)?;
            client
                .query_opt(&statement, &[&code(tree), &key])
                .and_then(|row| row.map(|row| row.try_get(0)).transpose())
                .map_err(|e| storage(&e))
        })
    }

    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let (key, value) = (key.to_vec(), value.to_vec());
        self.pool.call(move |connection| {
            let statement = connection.statement(UPSERT)?;
            let client = connection.client().map_err(PgError::into_store)?;
            client
                .execute(&statement, &[&code(tree), &key, &value])
                .map(drop)
                .map_err(|e| storage(&e))
        })
    }

    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        let key = key.to_vec();
        self.pool.call(move |connection| {
            let statement = connection.statement(DELETE)?;
            let client = connection.client().map_err(PgError::into_store)?;
            client
                .execute(&statement, &[&code(tree), &key])
                .map(drop)
                .map_err(|e| storage(&e))
        })
    }

    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError> {
        match prefix_end(prefix) {
            Some(end) => self.scan(SCAN_RANGE, tree, prefix, Bound::Key(end)),
            None => self.scan(SCAN_FROM_ALL, tree, prefix, Bound::None),
        }
    }

    fn scan_below(&self, tree: TreeName, end: &[u8], count: usize) -> Result<Pairs, StoreError> {
        // `key < end` from the first key: the scan's start is the empty key.
        self.scan(SCAN_BELOW, tree, end, Bound::Limit(limit(count)))
    }

    fn scan_from(&self, tree: TreeName, start: &[u8], count: usize) -> Result<Pairs, StoreError> {
        self.scan(SCAN_FROM, tree, start, Bound::Limit(limit(count)))
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every statement committed durably before it returned.
        Ok(())
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // One statement, one transaction: a step's writes are all kept, or none; steps
        // committing at the same time share it (group commit, `commits.rs`).
        self.commits.apply(&self.pool, writes, Vec::new())
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        self.pool.call(|connection| {
            let statement = connection.statement(ANY)?;
            let client = connection.client().map_err(PgError::into_store)?;
            client
                .query_one(&statement, &[])
                .and_then(|row| row.try_get::<_, bool>(0))
                .map(|any| !any)
                .map_err(|e| storage(&e))
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn hold(&self, name: &str) -> Result<Held, StoreError> {
        self.locks.hold(name)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.pings.check(&self.pool)
    }

    fn swap_if(
        &self,
        tree: TreeName,
        key: &[u8],
        expected: &[u8],
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let (key, expected, new) = (key.to_vec(), expected.to_vec(), new.map(<[u8]>::to_vec));
        self.pool.call(move |connection| {
            let sql = if new.is_some() { SWAP_IF } else { DELETE_IF };
            let statement = connection.statement(sql)?;
            let client = connection.client().map_err(PgError::into_store)?;
            let tree = code(tree);
            match &new {
                Some(value) => client.execute(&statement, &[&tree, &key, &expected, value]),
                None => client.execute(&statement, &[&tree, &key, &expected]),
            }
            .map(|rows| rows == 1)
            .map_err(|e| storage(&e))
        })
    }

    fn claim(&self, name: &str) -> Result<Option<Claim>, StoreError> {
        self.claims.claim(name)
    }

    fn apply_held(&self, writes: Vec<Write>, held: &Held) -> Result<(), StoreError> {
        fence::apply_held(self, writes, held)
    }
}

/// `swap_if`: one statement each, so no step's write can land between the check and the change.
const SWAP_IF: &str =
    "UPDATE scenarist_kv SET value = $4 WHERE tree = $1 AND key = $2 AND value = $3";
const DELETE_IF: &str = "DELETE FROM scenarist_kv WHERE tree = $1 AND key = $2 AND value = $3";

/// A PostgreSQL store on a database of its own, on the test server (tests fail, never skip,
/// when there is none).
#[cfg(test)]
pub(crate) fn test_backend() -> PgBackend {
    let url = test_database_url().unwrap_or_else(|why| panic!("{why}"));
    let url =
        scratch_database(&url).unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    PgBackend::open(&url, 2).unwrap_or_else(|e| panic!("cannot open the test database: {e}"))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod lock_tests;

#[cfg(test)]
mod outage_tests;

#[cfg(test)]
mod tls_tests;

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod claim_tests;

#[cfg(test)]
mod fence_tests;
