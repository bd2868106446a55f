//! The files a config names stay in the config's folder (`W403`). A config may come from
//! someone else (a repository, a ticket, a reload of a file others can write), and what it
//! names is read by the service: `scenarios` is linted and its problems answered to the
//! caller of a reload, a `token_file`'s first line is sent to Zendesk as a credential. A
//! path leading anywhere would let the config read any file the service can.
//!
//! The rule, with nothing to configure: `scenarios` and every `token_file` must lead to the
//! config's folder or below it — written relative to the config (`scenarios`,
//! `secrets/acme.token`) or absolute under the folder. After the lexical check (no `..`
//! leaving the folder), the part of the path that exists is resolved on disk, so that a
//! symbolic link cannot lead out either. `scenarios` must be a folder or a `.scn` file: the
//! answer to a reload quotes what the linter found in the files it reads, and only scenario
//! files may be quoted. Secrets kept elsewhere (`/run/secrets/…`) go through `token_env`.
//! `data_dir` is where Scenarist writes; its file names come from `organization_name`.

use std::path::{Component, Path, PathBuf};

use super::{Auth, Config, Secret, locate};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;

/// What is wrong with a path.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// It leads outside the folder as written (`..`, an absolute path elsewhere).
    Outside,
    /// It is inside as written, but a symbolic link on the way leads out (or nowhere).
    Link,
    /// `scenarios` names a file that is not a `.scn` file.
    NotScenario,
}

/// The problems of the paths of `config`, whose folder is `base`.
pub(super) fn problems(config: &Config, file: &SourceFile, base: &Path) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let folder = folder_name(base);
    if let Some(refusal) = check(base, &base.join(&config.scenarios), true) {
        let shown = config.scenarios.display();
        let (message, help) = match refusal {
            Refusal::NotScenario => (
                format!("`scenarios` is `{shown}`, a file that is not a `.scn` scenario"),
                "name the folder of the `.scn` files (or one `.scn` file)".to_owned(),
            ),
            Refusal::Outside | Refusal::Link => (
                format!(
                    "`scenarios` is `{shown}`, which {} outside the config's folder {folder}",
                    leads(&refusal)
                ),
                "keep the scenarios in the config's folder or below it, and write their path relative to the config".to_owned(),
            ),
        };
        problems.push(
            Diagnostic::new(
                Code::ConfigPath,
                locate(file.text(), &["scenarios"]),
                message,
            )
            .with_help(help),
        );
    }
    for (name, organization) in &config.zendesk.organizations {
        let secret = match &organization.auth {
            Auth::ApiToken { secret, .. } | Auth::Oauth { secret, .. } => secret,
            Auth::Sandbox {} => continue,
        };
        let Secret::TokenFile(path) = secret else {
            continue;
        };
        if let Some(refusal) = check(base, &base.join(path), false) {
            problems.push(
                Diagnostic::new(
                    Code::ConfigPath,
                    locate(
                        file.text(),
                        &["zendesk", "organizations", name, "auth", "token_file"],
                    ),
                    format!(
                        "the token file of `{name}` is `{}`, which {} outside the config's folder {folder}",
                        path.display(),
                        leads(&refusal)
                    ),
                )
                .with_help(
                    "keep it in the config's folder or below it (`scenarist zendesk connect` writes tokens under `data_dir`), or give the token in an environment variable with `token_env`",
                ),
            );
        }
    }
    problems
}

fn leads(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Link => "a symbolic link leads",
        Refusal::Outside | Refusal::NotScenario => "leads",
    }
}

fn folder_name(base: &Path) -> String {
    if base.as_os_str().is_empty() {
        "(the current folder)".to_owned()
    } else {
        format!("`{}`", base.display())
    }
}

/// Whether `path` (as the process names it: relative to the current folder, or absolute)
/// leads to `base` or below it.
pub(super) fn inside(base: &Path, path: &Path) -> bool {
    check(base, path, false).is_none()
}

/// Why `joined` (a path of the config already joined to `base`) may not be read, if it may
/// not.
fn check(base: &Path, joined: &Path, scenarios: bool) -> Option<Refusal> {
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let (Some(inside), Some(folder)) = (lexical(joined), lexical(base)) else {
        return Some(Refusal::Outside);
    };
    if !inside.starts_with(&folder) {
        return Some(Refusal::Outside);
    }
    if let Ok(real_folder) = base.canonicalize() {
        match resolve(joined) {
            Some(real) if real.starts_with(&real_folder) => {}
            _ => return Some(Refusal::Link),
        }
    }
    let scenario_file = joined.extension().is_some_and(|e| e == "scn");
    if scenarios && joined.is_file() && !scenario_file {
        return Some(Refusal::NotScenario);
    }
    None
}

/// `path` made absolute (from the current folder) with `.` and `..` applied as written;
/// `None` when a `..` would climb above the root.
fn lexical(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// Where `path` really is: its longest existing ancestor resolved on disk (symbolic links
/// followed), with the rest appended. `None` when an existing entry cannot be resolved (a
/// link that leads nowhere) or the rest climbs with `..`.
fn resolve(path: &Path) -> Option<PathBuf> {
    // Absolute, so that the walk up ends at the root, which exists.
    let path = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut existing = path.as_path();
    loop {
        if existing.symlink_metadata().is_ok() {
            break;
        }
        rest.push(existing.file_name()?);
        existing = existing.parent()?;
    }
    let mut real = existing.canonicalize().ok()?;
    for part in rest.iter().rev() {
        real.push(part);
    }
    Some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` of `path` as a config in `base` writes it.
    fn at(base: &Path, path: &str, scenarios: bool) -> Option<Refusal> {
        check(base, &base.join(path), scenarios)
    }

    /// A fresh folder with a config folder `cfg/` (holding `scenarios/a.scn`, `notes.txt`
    /// and `secrets/`) and a sibling `outside/` (holding `b.scn` and `secret.txt`).
    fn layout(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("scenarist-paths-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("cfg/scenarios")).unwrap();
        std::fs::create_dir_all(root.join("cfg/secrets")).unwrap();
        std::fs::create_dir_all(root.join("outside")).unwrap();
        std::fs::write(root.join("cfg/scenarios/a.scn"), "scenario a\n").unwrap();
        std::fs::write(root.join("cfg/notes.txt"), "private notes\n").unwrap();
        std::fs::write(root.join("outside/b.scn"), "scenario b\n").unwrap();
        std::fs::write(root.join("outside/secret.txt"), "TOPSECRET\n").unwrap();
        root
    }

    #[test]
    fn paths_inside_the_folder_are_accepted() {
        let root = layout("inside");
        let base = root.join("cfg");
        for path in [
            ".",
            "scenarios",
            "./scenarios/",
            "scenarios/a.scn",
            "scenarios/../scenarios",
            "not/yet/there",
        ] {
            assert_eq!(at(&base, path, true), None, "{path}");
        }
        // A relative folder that does not exist yet, from the current folder.
        assert_eq!(check(Path::new(""), Path::new("not/yet/there"), true), None);
        assert_eq!(check(&base, &base.join("scenarios"), true), None);
        assert_eq!(at(&base, "secrets/acme.token", false), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn paths_leading_out_are_refused_as_written_or_through_links() {
        let root = layout("outside");
        let base = root.join("cfg");
        for path in [
            "..",
            "../outside",
            "../outside/secret.txt",
            "scenarios/../../outside",
            "../../../../../../../../../../../etc/passwd",
        ] {
            assert_eq!(at(&base, path, true), Some(Refusal::Outside), "{path}");
        }
        assert_eq!(
            check(&base, &root.join("outside/secret.txt"), false),
            Some(Refusal::Outside)
        );
        assert_eq!(at(&base, "/etc/passwd", false), Some(Refusal::Outside));
        std::os::unix::fs::symlink(root.join("outside"), base.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("outside/secret.txt"), base.join("t.token")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), base.join("dangling")).unwrap();
        for path in [
            "linked",
            "linked/b.scn",
            "linked/later.token",
            "t.token",
            "dangling",
        ] {
            assert_eq!(at(&base, path, false), Some(Refusal::Link), "{path}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn scenarios_must_be_a_folder_or_a_scenario_file() {
        let root = layout("kind");
        let base = root.join("cfg");
        assert_eq!(at(&base, "notes.txt", true), Some(Refusal::NotScenario));
        assert_eq!(at(&base, "notes.txt", false), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
