//! Linting as a library: bytes → parse → check → a `FileReport`. The CLI's `lint`, the
//! tests and (later) the service's scenario loading all go through here.

use std::path::{Path, PathBuf};

use crate::check;
use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::syntax;

/// Parses and checks the bytes of one scenario file named `name`.
pub fn lint_source(name: &str, bytes: Vec<u8>, workspace: &Workspace) -> FileReport {
    let (file, problem) = syntax::read_source(name, bytes);
    if let Some(problem) = problem {
        return FileReport::new(file, vec![problem]);
    }
    let diagnostics = match syntax::parse(&file) {
        Ok(parsed) => check::check(&parsed, workspace),
        Err(error) => vec![error],
    };
    FileReport::new(file, diagnostics)
}

/// Reads, parses and checks one file.
pub fn lint_file(path: &Path, workspace: &Workspace) -> std::io::Result<FileReport> {
    let bytes = std::fs::read(path)?;
    Ok(lint_source(&path.display().to_string(), bytes, workspace))
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
