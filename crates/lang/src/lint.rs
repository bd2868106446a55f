//! Linting as a library: bytes → parse → check → a `FileReport`. The CLI's `lint`, the
//! tests and (later) the service's scenario loading all go through here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::check;
use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::library::{self, Bundle, Library};
use crate::syntax;

/// What linting one file found.
#[derive(Debug)]
pub struct Linted {
    /// The file's own report first, then a report for each file of a flow it includes in
    /// which its context causes findings.
    pub reports: Vec<FileReport>,
    /// For a scenario that parses: what to run (its bundle: the file, then the files of the
    /// flows it includes).
    pub bundle: Option<Bundle>,
}

impl Linted {
    /// The file's own report.
    pub fn report(&self) -> &FileReport {
        &self.reports[0]
    }

    pub fn into_report(mut self) -> FileReport {
        self.reports.swap_remove(0)
    }
}

/// Parses and checks the bytes of one file named `name`, with the flows of `library`.
pub fn lint_bytes(name: &str, bytes: Vec<u8>, workspace: &Workspace, library: &Library) -> Linted {
    let (file, problem) = syntax::read_source(name, bytes);
    let alone = |file: crate::source::SourceFile, diagnostics| Linted {
        reports: vec![FileReport::new(file, diagnostics)],
        bundle: None,
    };
    if let Some(problem) = problem {
        return alone(file, vec![problem]);
    }
    let parsed = match syntax::parse(&file) {
        Ok(parsed) => parsed,
        Err(error) => return alone(file, vec![error]),
    };
    if parsed.scenario.is_none() {
        let diagnostics = check::check(&parsed, workspace);
        return alone(file, diagnostics);
    }
    let bundle = Bundle::of(&file, &parsed, library);
    if bundle.is_plain() {
        let diagnostics = check::check(&parsed, workspace);
        return Linted {
            reports: vec![FileReport::new(file, diagnostics)],
            bundle: Some(bundle),
        };
    }
    Linted {
        reports: bundle.check(workspace),
        bundle: Some(bundle),
    }
}

/// Parses and checks the bytes of one file named `name` on its own (the flows it includes
/// must be in it).
pub fn lint_source(name: &str, bytes: Vec<u8>, workspace: &Workspace) -> FileReport {
    lint_bytes(name, bytes, workspace, &Library::default()).into_report()
}

/// Reads, parses and checks one file, with the flows of its folder
/// ([`library::folder_for`]).
pub fn lint_file(path: &Path, workspace: &Workspace) -> std::io::Result<FileReport> {
    Ok(lint_path(path, workspace, &mut Libraries::default())?.into_report())
}

/// Reads, parses and checks one file, with the flows of its folder, loaded once per folder.
pub fn lint_path(
    path: &Path,
    workspace: &Workspace,
    libraries: &mut Libraries,
) -> std::io::Result<Linted> {
    let bytes = std::fs::read(path)?;
    let library = libraries.for_file(path, workspace)?;
    Ok(lint_bytes(
        &path.display().to_string(),
        bytes,
        workspace,
        library,
    ))
}

/// The libraries of the folders a run has looked in.
#[derive(Debug, Default)]
pub struct Libraries {
    loaded: HashMap<PathBuf, Library>,
}

impl Libraries {
    /// The flows `path` may include.
    pub fn for_file(&mut self, path: &Path, workspace: &Workspace) -> std::io::Result<&Library> {
        let folder = library::folder_for(path, workspace);
        if !self.loaded.contains_key(&folder) {
            let library = Library::load(&folder)?;
            self.loaded.insert(folder.clone(), library);
        }
        Ok(&self.loaded[&folder])
    }
}

/// Files given directly, and `*.scn` files found under the folders given, in a stable order.
pub fn scenario_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| named(path, &e))?;
        if metadata.is_dir() {
            let before = files.len();
            collect_scn(path, &mut files)?;
            files[before..].sort();
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// The error with the path in its message, so the admin knows which one.
fn named(path: &Path, error: &std::io::Error) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

fn collect_scn(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| named(dir, &e))? {
        let entry = entry.map_err(|e| named(dir, &e))?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_scn(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "scn") {
            files.push(path);
        }
    }
    Ok(())
}
