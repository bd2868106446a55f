//! The files of the scenarios folder: listed, read and saved. A path comes from the page as
//! text relative to the folder and is confined before any file is touched
//! ([`confine`]): no absolute path, no `..`, no hidden component, only `.scn` and
//! `.test.yaml` names, and, with symbolic links followed, still inside the folder. A save
//! writes a temporary file beside the target and renames it over the target (a reader never
//! sees half a file; a symbolic link at the target is replaced, never written through).

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Studio;
use super::guard::JsonBody;
use crate::service::ApiError;

/// The longest path the page may name, and how many files a listing shows at most.
const MAX_PATH: usize = 512;
const MAX_FILES: usize = 2000;
const MAX_DEPTH: usize = 8;

/// The two kinds of files the studio reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Scenario,
    Test,
}

impl Kind {
    /// The kind a file name says; the extensions are lower-case, as `lint` and `test` find
    /// them.
    #[expect(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "`lint` and `test` look for exactly these lower-case names"
    )]
    pub(super) fn of(name: &str) -> Option<Self> {
        if name.ends_with(".test.yaml") && name.len() > ".test.yaml".len() {
            Some(Self::Test)
        } else if name.ends_with(".scn") && name.len() > ".scn".len() {
            Some(Self::Scenario)
        } else {
            None
        }
    }
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "path_refused", message)
}

/// The real path of the file the page calls `given`, inside `folder` (itself resolved);
/// the file may not exist yet, its folder must.
pub(super) fn confine(folder: &Path, given: &str) -> Result<(PathBuf, Kind), ApiError> {
    if given.is_empty() || given.len() > MAX_PATH || given.contains(['\0', '\\']) {
        return Err(refused(
            "name a file of the scenarios folder, such as `faq.scn` or `sub/faq.test.yaml`",
        ));
    }
    let relative = Path::new(given);
    if relative.has_root() || relative.is_absolute() {
        return Err(refused(format!(
            "`{given}` is an absolute path; name a file relative to the scenarios folder"
        )));
    }
    for component in relative.components() {
        let hidden = matches!(component, Component::Normal(part)
            if part.to_str().is_none_or(|p| p.starts_with('.')));
        if !matches!(component, Component::Normal(_)) || hidden {
            return Err(refused(format!(
                "`{given}` leads outside the scenarios folder (or to a hidden file); name a file inside it"
            )));
        }
    }
    let Some(kind) = Kind::of(given) else {
        return Err(refused(format!(
            "`{given}` is neither a scenario (`.scn`) nor a transcript test (`.test.yaml`); the studio reads and writes only those"
        )));
    };
    let target = folder.join(relative);
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(refused(format!("`{given}` names no file")));
    };
    let parent = parent.canonicalize().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("the folder of `{given}` does not exist in the scenarios folder"),
        )
    })?;
    if !parent.starts_with(folder) {
        return Err(refused(format!(
            "`{given}` leads outside the scenarios folder through a symbolic link"
        )));
    }
    let path = parent.join(name);
    if let Ok(metadata) = std::fs::symlink_metadata(&path) {
        if metadata.file_type().is_symlink() {
            let inside = path
                .canonicalize()
                .is_ok_and(|real| real.starts_with(folder) && real.is_file());
            if !inside {
                return Err(refused(format!(
                    "`{given}` is a symbolic link that leads outside the scenarios folder"
                )));
            }
        } else if !metadata.is_file() {
            return Err(refused(format!("`{given}` is not a file")));
        }
    }
    Ok((path, kind))
}

/// `path` relative to `folder`, written with `/`.
pub(super) fn relative(folder: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(folder).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Debug, Serialize)]
pub(super) struct Listing {
    /// The scenarios folder.
    folder: String,
    /// Every `.scn` file, with the transcript tests that name it.
    scenarios: Vec<ScenarioEntry>,
    /// Transcript tests whose scenario is not in the folder (or that cannot be read).
    other_tests: Vec<String>,
    /// The listing stopped at its limit.
    truncated: bool,
}

#[derive(Debug, Serialize)]
struct ScenarioEntry {
    path: String,
    tests: Vec<String>,
}

/// `GET /api/files`.
pub(super) async fn list(State(studio): State<Arc<Studio>>) -> Result<Json<Listing>, ApiError> {
    let folder = studio.folder.clone();
    let shown = studio.folder.display().to_string();
    tokio::task::spawn_blocking(move || listing(&folder, shown))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map(Json)
}

fn listing(folder: &Path, shown: String) -> Result<Listing, ApiError> {
    let mut found = Vec::new();
    let truncated = walk(folder, folder, 0, &mut found).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unreadable",
            format!("cannot read the scenarios folder: {e}"),
        )
    })?;
    found.sort();
    let mut scenarios: Vec<ScenarioEntry> = found
        .iter()
        .filter(|(_, kind)| *kind == Kind::Scenario)
        .map(|(path, _)| ScenarioEntry {
            path: relative(folder, path),
            tests: Vec::new(),
        })
        .collect();
    let mut other_tests = Vec::new();
    for (path, _) in found.iter().filter(|(_, kind)| *kind == Kind::Test) {
        let scenario = tested_scenario(path).map(|s| relative(folder, &s));
        match scenarios
            .iter_mut()
            .find(|entry| Some(&entry.path) == scenario.as_ref())
        {
            Some(entry) => entry.tests.push(relative(folder, path)),
            None => other_tests.push(relative(folder, path)),
        }
    }
    Ok(Listing {
        folder: shown,
        scenarios,
        other_tests,
        truncated,
    })
}

/// Collects the studio's files under `dir`; `true` when it stopped at a limit. Hidden
/// entries are skipped, and so are symbolic links, but to a file inside the folder.
fn walk(
    folder: &Path,
    dir: &Path,
    depth: usize,
    found: &mut Vec<(PathBuf, Kind)>,
) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| !n.starts_with('.')) else {
            continue;
        };
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if depth < MAX_DEPTH && walk(folder, &path, depth + 1, found)? {
                return Ok(true);
            }
            continue;
        }
        let inside = file_type.is_file()
            || (file_type.is_symlink()
                && path
                    .canonicalize()
                    .is_ok_and(|real| real.starts_with(folder) && real.is_file()));
        if let Some(kind) = Kind::of(name).filter(|_| inside) {
            if found.len() >= MAX_FILES {
                return Ok(true);
            }
            found.push((path, kind));
        }
    }
    Ok(false)
}

/// The scenario a test file names (`scenario:`), as a path.
fn tested_scenario(test: &Path) -> Option<PathBuf> {
    #[derive(Deserialize)]
    struct Head {
        scenario: PathBuf,
    }
    let yaml = std::fs::read_to_string(test).ok()?;
    let head: Head = serde_yaml::from_str(&yaml).ok()?;
    let path = test.parent()?.join(head.scenario);
    path.canonicalize().ok()
}

#[derive(Debug, Deserialize)]
pub(super) struct FileQuery {
    path: String,
}

#[derive(Debug, Serialize)]
pub(super) struct FileText {
    path: String,
    text: String,
}

/// `GET /api/file?path=…`.
pub(super) async fn read(
    State(studio): State<Arc<Studio>>,
    Query(query): Query<FileQuery>,
) -> Result<Json<FileText>, ApiError> {
    let (path, _) = confine(&studio.folder, &query.path)?;
    let bytes = read_bytes(path).await.map_err(|e| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("cannot read `{}`: {e}", query.path),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_utf8",
            format!("`{}` is not UTF-8 text", query.path),
        )
    })?;
    Ok(Json(FileText {
        path: query.path,
        text,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct Save {
    path: String,
    text: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Saved {
    pub(super) path: String,
    pub(super) bytes: usize,
}

/// `PUT /api/file` with `{path, text}`.
pub(super) async fn save(
    State(studio): State<Arc<Studio>>,
    JsonBody(save): JsonBody<Save>,
) -> Result<Json<Saved>, ApiError> {
    let (path, _) = confine(&studio.folder, &save.path)?;
    let bytes = save.text.len();
    tokio::task::spawn_blocking(move || write(&path, save.text.as_bytes()))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unwritable",
                format!("cannot write `{}`: {e}", save.path),
            )
        })?;
    Ok(Json(Saved {
        path: save.path,
        bytes,
    }))
}

/// The bytes of `path`, read on a blocking thread.
pub(super) async fn read_bytes(path: PathBuf) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
}

/// Writes `bytes` to `path` (confined): a temporary file beside it, then a rename.
pub(super) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    let temporary = parent.join(format!(
        ".{name}.{}.studio",
        scenarist_base::hex::encode(&random)
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_of_the_folder_with_the_studios_extensions_pass() {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "studio-confine-{}",
            scenarist_base::hex::encode(&random)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let folder = dir.canonicalize().unwrap();
        std::fs::create_dir(folder.join("sub")).unwrap();
        for ok in ["a.scn", "sub/b.test.yaml", "new.scn"] {
            assert!(confine(&folder, ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd.scn",
            "../a.scn",
            "sub/../../a.scn",
            "./a.scn",
            ".hidden.scn",
            "a.txt",
            ".scn",
            "a.scn\0",
            "sub\\..\\a.scn",
            "a.yaml",
            "missing/a.scn",
        ] {
            assert!(confine(&folder, bad).is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
