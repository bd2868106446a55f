//! `store:` — where conversation state is kept and how much memory the store may use for its
//! page cache. `backend` names the storage engine (`sled`, the default, or `postgres`);
//! `cache_mb` bounds sled's page cache, which otherwise (sled 0.34's default: 1 GB) is most of
//! the process's memory (sled counts a page by its encoded size: in memory the cache takes
//! two to four times `cache_mb`, docs/performance.md); `url_env` names the environment variable that holds PostgreSQL's URL
//! (never the URL: it holds a password) and `pool` bounds its connections. A backend that is
//! not known, a size outside its range, or a `url_env` that is not a variable's name is an
//! error (`W407`).

use serde::Deserialize;

use super::locate::locate;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;

/// The storage engines `store.backend` may name.
pub const STORE_BACKENDS: [&str; 2] = ["sled", "postgres"];
/// The variable that holds PostgreSQL's URL when `store.url_env` does not name another.
pub(super) const DEFAULT_URL_ENV: &str = "SCENARIST_DATABASE_URL";
/// PostgreSQL connections a node opens at most when `store.pool` does not say.
pub(super) const DEFAULT_POOL: u32 = 8;
/// A guard against a typo: PostgreSQL's own default allows 100 connections in all.
const MAX_POOL: u32 = 256;
/// The page cache's default size: the hot part of a busy service's tree (10,000 active
/// conversations: CPU per message within the noise of 32's, 33 MB less at the peak; measured
/// in docs/performance.md, "Under a sustained load").
pub const DEFAULT_CACHE_MB: u64 = 16;
/// Below this sled rereads pages from disk for most steps.
const MIN_CACHE_MB: u64 = 1;
/// A guard against a unit mistake (`cache_mb: 32000000`, bytes meant): 1 TiB.
const MAX_CACHE_MB: u64 = 1 << 20;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The storage engine: `sled` (a directory on this machine's disk, `data_dir`).
    #[serde(default = "default_backend")]
    pub backend: String,
    /// The most memory sled's page cache may hold, in MiB.
    #[serde(default = "default_cache_mb")]
    pub cache_mb: u64,
    /// `postgres`: the environment variable that holds the database's URL.
    #[serde(default = "default_url_env")]
    pub url_env: String,
    /// `postgres`: the most connections this node opens.
    #[serde(default = "default_pool")]
    pub pool: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            cache_mb: DEFAULT_CACHE_MB,
            url_env: default_url_env(),
            pool: DEFAULT_POOL,
        }
    }
}

impl StoreConfig {
    /// Whether the store is PostgreSQL (else sled, in `data_dir`).
    pub fn is_postgres(&self) -> bool {
        self.backend == "postgres"
    }

    /// The page cache's size in bytes.
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(1024 * 1024)
    }
}

fn default_backend() -> String {
    "sled".into()
}

fn default_cache_mb() -> u64 {
    DEFAULT_CACHE_MB
}

fn default_url_env() -> String {
    DEFAULT_URL_ENV.into()
}

fn default_pool() -> u32 {
    DEFAULT_POOL
}

/// An environment variable's name as a shell writes it: a letter or `_`, then letters,
/// digits and `_`.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A backend that is not known, a cache or pool size out of range, a `url_env` that is not a
/// variable's name (`W407`).
pub(super) fn errors(store: &StoreConfig, file: &SourceFile) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if !STORE_BACKENDS.contains(&store.backend.as_str()) {
        found.push(
            Diagnostic::new(
                Code::StoreInvalid,
                locate(file.text(), &["store", "backend"]),
                format!(
                    "`store.backend` is `{}`, which is not a storage engine Scenarist has",
                    store.backend
                ),
            )
            .with_help(format!(
                "write one of: {} (the default is `sled`)",
                STORE_BACKENDS.join(", ")
            )),
        );
    }
    if !(MIN_CACHE_MB..=MAX_CACHE_MB).contains(&store.cache_mb) {
        found.push(
            Diagnostic::new(
                Code::StoreInvalid,
                locate(file.text(), &["store", "cache_mb"]),
                format!(
                    "`store.cache_mb` is {}: the page cache's size in MiB must be between {MIN_CACHE_MB} and {MAX_CACHE_MB}",
                    store.cache_mb
                ),
            )
            .with_help(format!(
                "the size is in MiB, not bytes: `{DEFAULT_CACHE_MB}` (the default) suits most services; more helps a store much larger than memory's share"
            )),
        );
    }
    if !is_variable_name(&store.url_env) {
        // A URL written here would put the database's password in the config: never echo it.
        let looks_like_url = store.url_env.contains("://") || store.url_env.contains('=');
        found.push(
            Diagnostic::new(
                Code::StoreInvalid,
                locate(file.text(), &["store", "url_env"]),
                if looks_like_url {
                    "`store.url_env` holds a connection string: it must name the environment variable that holds it, never the URL itself (it carries the database's password)".to_owned()
                } else {
                    "`store.url_env` is not the name of an environment variable (letters, digits and `_`, not starting with a digit)".to_owned()
                },
            )
            .with_help(format!(
                "write `url_env: {DEFAULT_URL_ENV}` (the default) and set that variable in the service's environment to postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            )),
        );
    }
    if !(1..=MAX_POOL).contains(&store.pool) {
        found.push(
            Diagnostic::new(
                Code::StoreInvalid,
                locate(file.text(), &["store", "pool"]),
                format!(
                    "`store.pool` is {}: a node's PostgreSQL connections must be between 1 and {MAX_POOL}",
                    store.pool
                ),
            )
            .with_help(format!(
                "`{DEFAULT_POOL}` (the default) suits most nodes; every node's pool together must stay under the server's `max_connections`"
            )),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::Workspace;

    fn parse(text: &str) -> Result<Workspace, Vec<Diagnostic>> {
        Workspace::parse(SourceFile::new("c.yaml", text), PathBuf::new())
    }

    #[test]
    fn defaults_apply_and_values_are_read() {
        let default = parse("version: 1\n").unwrap();
        assert_eq!(default.config.store, StoreConfig::default());
        assert_eq!(default.config.store.backend, "sled");
        assert_eq!(default.config.store.cache_bytes(), 16 * 1024 * 1024);
        let set = parse("version: 1\nstore:\n  cache_mb: 8\n").unwrap();
        assert_eq!(set.config.store.backend, "sled");
        assert_eq!(set.config.store.cache_bytes(), 8 * 1024 * 1024);
        let both = parse("version: 1\nstore: {backend: sled, cache_mb: 512}\n").unwrap();
        assert_eq!(both.config.store.cache_mb, 512);
    }

    #[test]
    fn an_unknown_backend_is_an_error_where_it_is_written() {
        let text = "version: 1\nstore:\n  cache_mb: 16\n  backend: mysql\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, Code::StoreInvalid);
        assert!(
            problems[0].message.contains("`mysql`"),
            "{}",
            problems[0].message
        );
        let file = SourceFile::new("c.yaml", text);
        let at = file.line_column(problems[0].primary.span.start as usize);
        assert_eq!(
            (at.line, &text[problems[0].primary.span.range()]),
            (4, "backend")
        );
    }

    #[test]
    fn a_cache_size_out_of_range_is_an_error() {
        for bad in ["0", "2000000", "33554432"] {
            let problems = parse(&format!("version: 1\nstore:\n  cache_mb: {bad}\n")).unwrap_err();
            assert_eq!(problems[0].code, Code::StoreInvalid, "{bad}");
            assert!(problems[0].message.contains(bad), "{}", problems[0].message);
        }
        for bad in ["-1", "'32MB'", "1.5"] {
            let problems = parse(&format!("version: 1\nstore:\n  cache_mb: {bad}\n")).unwrap_err();
            assert_eq!(problems[0].code, Code::ConfigSyntax, "{bad}");
        }
        let problems = parse("version: 1\nstore:\n  cache: 8\n").unwrap_err();
        assert_eq!(
            problems[0].code,
            Code::ConfigSyntax,
            "unknown keys are refused"
        );
    }

    #[test]
    fn postgres_reads_its_variable_and_pool_with_defaults() {
        let config = parse("version: 1\nstore: {backend: postgres}\n")
            .unwrap()
            .config;
        assert_eq!(config.store.backend, "postgres");
        assert_eq!(config.store.url_env, "SCENARIST_DATABASE_URL");
        assert_eq!(config.store.pool, 8);
        let set = parse("version: 1\nstore: {backend: postgres, url_env: PG_URL, pool: 3}\n")
            .unwrap()
            .config;
        assert_eq!((set.store.url_env.as_str(), set.store.pool), ("PG_URL", 3));
    }

    #[test]
    fn a_url_in_url_env_or_a_pool_out_of_range_is_an_error_without_the_password() {
        let text = "version: 1\nstore:\n  backend: postgres\n  url_env: postgres://u:s3cret@db/x\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, Code::StoreInvalid);
        assert!(
            problems[0].message.contains("never the URL"),
            "{}",
            problems[0].message
        );
        assert!(!format!("{problems:?}").contains("s3cret"));
        // The code frame shows the line, its password masked; the caret still points at it.
        let shown = crate::diagnostic::render::render(
            &SourceFile::new("c.yaml", text),
            &problems[0],
            false,
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("url_env: postgres://u:******@db/x"),
            "{shown}"
        );
        assert!(shown.contains("c.yaml:4:"), "{shown}");
        let problems = parse("version: 1\nstore: {url_env: 9LIVES}\n").unwrap_err();
        assert!(
            problems[0].message.contains("not the name"),
            "{}",
            problems[0].message
        );
        for bad in ["0", "257"] {
            let problems = parse(&format!("version: 1\nstore: {{pool: {bad}}}\n")).unwrap_err();
            assert_eq!(problems[0].code, Code::StoreInvalid, "{bad}");
            assert!(problems[0].message.contains(bad), "{}", problems[0].message);
        }
    }
}
