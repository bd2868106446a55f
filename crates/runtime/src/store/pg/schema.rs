//! Schema migrations, embedded in the binary and applied in order when a store opens. The
//! table `scenarist_schema` records each version applied; a database at a version newer than
//! this binary knows is refused (a node of an older release must not write a layout it does
//! not know). Concurrent openers (several nodes starting at once) take turns on an advisory
//! lock, so each migration runs once.

use postgres::Client;

use super::{PgError, storage};

struct Migration {
    version: i32,
    what: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    what: "the key-value table",
    sql: include_str!("migrations/0001_kv.sql"),
}];

/// The newest schema version this binary knows.
pub const KNOWN: i32 = 1;

/// What opening did to the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migrated {
    /// The version the database was at (0: no Scenarist table yet).
    pub from: i32,
    /// The version it is at now.
    pub to: i32,
}

/// Brings the database's schema to [`KNOWN`], in one transaction.
pub(super) fn migrate(client: &mut Client) -> Result<Migrated, PgError> {
    let mut tx = client.transaction().map_err(|e| store(&e))?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtext('scenarist schema ' || current_schema()));
         CREATE TABLE IF NOT EXISTS scenarist_schema (
             version integer PRIMARY KEY,
             what text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
    )
    .map_err(|e| store(&e))?;
    let from: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM scenarist_schema",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(|e| store(&e))?;
    if from > KNOWN {
        return Err(PgError::SchemaNewer {
            found: from,
            known: KNOWN,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > from) {
        tx.batch_execute(migration.sql).map_err(|e| store(&e))?;
        tx.execute(
            "INSERT INTO scenarist_schema (version, what) VALUES ($1, $2)",
            &[&migration.version, &migration.what],
        )
        .map_err(|e| store(&e))?;
    }
    tx.commit().map_err(|e| store(&e))?;
    Ok(Migrated { from, to: KNOWN })
}

fn store(error: &postgres::Error) -> PgError {
    PgError::Store(storage(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_known_version() {
        let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
        let expected: Vec<i32> = (1..=KNOWN).collect();
        assert_eq!(versions, expected);
    }
}
