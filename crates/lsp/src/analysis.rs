//! One document checked: what `lint_bytes` does (read → parse → check, alone or as a bundle
//! with the flows it includes), with the parse made incremental when the edit stayed inside
//! one step (`incremental`). Its reports are `lint`'s: the same codes, spans and help. The
//! last parse that succeeded is kept: completion and navigation answer from it while the text
//! being typed does not parse.

use std::sync::Arc;

use scenarist_lang::check;
use scenarist_lang::config::Workspace;
use scenarist_lang::diagnostic::FileReport;
use scenarist_lang::library::{Bundle, Library};
use scenarist_lang::source::SourceFile;
use scenarist_lang::syntax::{self, Parsed};

use crate::incremental;

/// A text and what checking it found.
pub(crate) struct Analysis {
    /// The document's own report first, then one per included flow file with findings.
    pub(crate) reports: Vec<FileReport>,
    /// The text's parse, when it parses.
    pub(crate) parsed: Option<Arc<Parsed>>,
}

/// Checks `text` (the document `name`); `previous` is the last text that parsed and its
/// parse, to re-parse only the step an edit changed.
pub(crate) fn analyze(
    name: &str,
    text: &str,
    previous: Option<(&str, &Parsed)>,
    workspace: &Workspace,
    library: &Library,
) -> Analysis {
    let (file, problem) = syntax::read_source(name, text.as_bytes().to_vec());
    let alone = |file: SourceFile, diagnostics| Analysis {
        reports: vec![FileReport::new(file, diagnostics)],
        parsed: None,
    };
    if let Some(problem) = problem {
        return alone(file, vec![problem]);
    }
    let fast = previous.and_then(|(old_text, old)| incremental::reparse(old_text, old, &file));
    let parsed = match fast.map_or_else(|| syntax::parse(&file), Ok) {
        Ok(parsed) => parsed,
        Err(error) => return alone(file, vec![error]),
    };
    let reports = if parsed.scenario.is_none() {
        vec![FileReport::new(file, check::check(&parsed, workspace))]
    } else {
        let bundle = Bundle::of(&file, &parsed, library);
        if bundle.is_plain() {
            vec![FileReport::new(file, check::check(&parsed, workspace))]
        } else {
            bundle.check(workspace)
        }
    };
    Analysis {
        reports,
        parsed: Some(Arc::new(parsed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarist_lang::lint::lint_bytes;

    #[test]
    fn the_reports_are_lints() {
        let workspace = Workspace::default_workspace().unwrap();
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let library = Library::load(&folder).unwrap();
        for name in ["order_lookup.scn", "ticket_sync.scn", "email_capture.scn"] {
            let path = folder.join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            // A typo, so there is something to report.
            let text = text.replacen("goto ", "goto x", 1);
            let ours = analyze(name, &text, None, &workspace, &library);
            let lint = lint_bytes(name, text.clone().into_bytes(), &workspace, &library);
            let render = |reports: &[FileReport]| {
                reports
                    .iter()
                    .map(|r| (r.file.name().to_owned(), r.diagnostics.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(render(&ours.reports), render(&lint.reports), "{name}");
            assert!(ours.reports[0].errors() > 0, "{name}");
        }
    }
}
