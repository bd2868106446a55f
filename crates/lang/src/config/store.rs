//! `store:` — where conversation state is kept and how much memory the store may use for its
//! page cache. `backend` names the storage engine (`sled`, the only one for now); `cache_mb`
//! bounds sled's page cache, which otherwise (sled 0.34's default: 1 GB) is most of the
//! process's memory. A backend that is not known, or a cache size outside its range, is an
//! error (`W407`).

use serde::Deserialize;

use super::locate::locate;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;

/// The storage engines `store.backend` may name.
pub const STORE_BACKENDS: [&str; 1] = ["sled"];
/// The page cache's default size: enough for the hot part of the tree of a busy service, a
/// small share of a small machine's memory.
pub const DEFAULT_CACHE_MB: u64 = 32;
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
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            cache_mb: DEFAULT_CACHE_MB,
        }
    }
}

impl StoreConfig {
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

/// A backend that is not known, a cache size out of range (`W407`).
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
        assert_eq!(default.config.store.cache_bytes(), 32 * 1024 * 1024);
        let set = parse("version: 1\nstore:\n  cache_mb: 8\n").unwrap();
        assert_eq!(set.config.store.backend, "sled");
        assert_eq!(set.config.store.cache_bytes(), 8 * 1024 * 1024);
        let both = parse("version: 1\nstore: {backend: sled, cache_mb: 512}\n").unwrap();
        assert_eq!(both.config.store.cache_mb, 512);
    }

    #[test]
    fn an_unknown_backend_is_an_error_where_it_is_written() {
        let text = "version: 1\nstore:\n  cache_mb: 16\n  backend: postgres\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, Code::StoreInvalid);
        assert!(
            problems[0].message.contains("`postgres`"),
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
}
