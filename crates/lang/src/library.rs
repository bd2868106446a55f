//! The shared flows of a folder, and the bundles that run them. A scenario that includes a
//! flow of another file is checked and run as a *bundle*: its own text, then the text of
//! each file holding a flow it includes, one after the other. The bundle is what the checker
//! sees (so each flow is checked in the scenario's context), what the runtime stores as the
//! scenario's version (so a changed flow is a new version, and a running conversation keeps
//! the flow it started with), and the map that sends each finding back to its own file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ast::Flow;
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic, FileReport, Severity};
use crate::source::{SourceFile, Span};
use crate::syntax::{self, Parsed};

/// The files of a folder (and its subfolders) that hold only flows.
#[derive(Debug, Default)]
pub struct Library {
    files: Vec<SourceFile>,
    /// Each file's own findings (its flows checked alone, `check::check_flows`), by code and
    /// span: a bundle tells them from the findings an including scenario causes.
    own: Vec<Vec<(Code, Span)>>,
    /// Flow name → index in `files` (the first file, by path, that declares it).
    flows: BTreeMap<String, usize>,
    /// Flows declared by two files.
    problems: Vec<FileReport>,
}

impl Library {
    /// The flows of `folder`'s `.scn` files that declare no scenario. A file a symbolic link
    /// leads to outside the folder is not read; a file that does not parse is left out (its
    /// own lint reports it, and an `include` of its flows says it is unknown).
    pub fn load(folder: &Path) -> std::io::Result<Self> {
        Self::load_with(folder, |path: &Path| std::fs::read(path))
    }

    /// [`Library::load`], with each file's bytes from `read` (the language server gives the
    /// text of the files open in the editor, saved or not, and the disk's for the others).
    pub fn load_with(
        folder: &Path,
        mut read: impl FnMut(&Path) -> std::io::Result<Vec<u8>>,
    ) -> std::io::Result<Self> {
        let mut library = Library::default();
        let Ok(real_folder) = folder.canonicalize() else {
            return Ok(library);
        };
        for path in crate::lint::scenario_files(&[folder.to_path_buf()])? {
            if !path
                .canonicalize()
                .is_ok_and(|real| real.starts_with(&real_folder))
            {
                continue;
            }
            let (file, problem) = syntax::read_source(&path.display().to_string(), read(&path)?);
            // A scenario holds no shared flows: not parsed here (its own lint parses it).
            if syntax::declares_scenario(file.text()) {
                continue;
            }
            let Some(parsed) = problem
                .is_none()
                .then(|| syntax::parse(&file).ok())
                .flatten()
            else {
                continue;
            };
            if parsed.scenario.is_some() {
                continue;
            }
            let index = library.files.len();
            let mut own = Vec::new();
            crate::check::check_flows(&parsed.flows, &mut own);
            library
                .own
                .push(own.iter().map(|d| (d.code, d.primary.span)).collect());
            let mut clashes = Vec::new();
            // Two flows of one name in one file are the file's own C117 (`check::flows`).
            for flow in &parsed.flows {
                match library.flows.get(&flow.name.text) {
                    Some(&earlier) if earlier != index => {
                        clashes.push(clash(&flow.name, &library.files[earlier], "one of them"));
                    }
                    Some(_) => {}
                    None => {
                        library.flows.insert(flow.name.text.clone(), index);
                    }
                }
            }
            if !clashes.is_empty() {
                library
                    .problems
                    .push(FileReport::new(file.clone(), clashes));
            }
            library.files.push(file);
        }
        Ok(library)
    }

    /// The file that declares flow `name`.
    pub fn file_of(&self, name: &str) -> Option<&SourceFile> {
        self.flows.get(name).map(|&index| &self.files[index])
    }

    /// The findings of the file that declares flow `name` on its own.
    fn own_findings_of(&self, name: &str) -> &[(Code, Span)] {
        self.flows
            .get(name)
            .map_or(&[], |&index| self.own[index].as_slice())
    }

    /// Every flow name with its file.
    pub fn flows(&self) -> impl Iterator<Item = (&str, &SourceFile)> {
        self.flows
            .iter()
            .map(|(name, &index)| (name.as_str(), &self.files[index]))
    }

    /// Flows declared by two files of the folder.
    pub fn problems(&self) -> &[FileReport] {
        &self.problems
    }
}

/// C117 for a flow named like one of `other`'s.
fn clash(name: &crate::ast::Name, other: &SourceFile, rename: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateDeclaration,
        name.span,
        format!(
            "flow `{}` is also declared in {}; a flow's name must be unique in the folder",
            name.text,
            other.name()
        ),
    )
    .with_help(format!(
        "rename {rename} (`include` names a flow by its name)"
    ))
}

/// Where the flows of `file` are looked up: the config's scenarios folder when the file is in
/// it, else the file's own folder.
pub fn folder_for(file: &Path, workspace: &Workspace) -> PathBuf {
    let scenarios: PathBuf = workspace
        .base
        .join(&workspace.config.scenarios)
        .components()
        .collect();
    let inside = match (file.canonicalize(), scenarios.canonicalize()) {
        (Ok(file), Ok(folder)) => file.starts_with(folder),
        _ => false,
    };
    if inside {
        scenarios
    } else {
        match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// A scenario's text followed by the texts of the files of the flows it includes.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The whole text, named as the scenario's file: what is checked, stored and run.
    pub file: SourceFile,
    /// Each file's text and where it begins in `file`; the scenario's file is first, at 0.
    parts: Vec<(SourceFile, usize)>,
    /// Each part's own findings (none for the scenario's file), from the library.
    own: Vec<Vec<(Code, Span)>>,
    /// Problems found while bundling, in the scenario's file.
    problems: Vec<Diagnostic>,
}

impl Bundle {
    /// The bundle of `file` (parsed as `parsed`): the files of the flows it includes that it
    /// does not declare itself are appended, once each.
    pub fn of(file: &SourceFile, parsed: &Parsed, library: &Library) -> Self {
        // The flows' files, each after a line break; the scenario's text is copied in front
        // of them only if there are any (the scenario alone shares its file's text).
        let mut appended = String::new();
        let mut parts = vec![(file.clone(), 0)];
        let mut own = vec![Vec::new()];
        let mut problems = Vec::new();
        let Some(scenario) = &parsed.scenario else {
            return Bundle {
                file: file.clone(),
                parts,
                own,
                problems,
            };
        };
        for flow in &parsed.flows {
            if let Some(other) = library.file_of(&flow.name.text) {
                problems.push(clash(&flow.name, other, "this one"));
            }
        }
        for (include, _) in scenario.includes() {
            let private = parsed
                .flows
                .iter()
                .any(|f| f.name.text == include.flow.text);
            let Some(other) = library.file_of(&include.flow.text).filter(|_| !private) else {
                continue;
            };
            if parts.iter().any(|(part, _)| part.name() == other.name()) {
                continue;
            }
            // A line break first: the scenario's file may end in a comment.
            appended.push('\n');
            parts.push((other.clone(), file.text().len() + appended.len()));
            own.push(library.own_findings_of(&include.flow.text).to_vec());
            appended.push_str(other.text());
        }
        let file = if appended.is_empty() {
            file.clone()
        } else {
            SourceFile::new(file.name(), [file.text(), appended.as_str()].concat())
        };
        Bundle {
            file,
            parts,
            own,
            problems,
        }
    }

    /// Whether the bundle is the scenario's file alone, with nothing found while bundling.
    pub fn is_plain(&self) -> bool {
        self.parts.len() == 1 && self.problems.is_empty()
    }

    /// Checks the bundle and answers one report per file: the scenario's first, then each
    /// flow file with the findings the scenario's context causes in it. An error in an
    /// included flow is also summed up at each `include` of that flow (C131).
    pub fn check(&self, workspace: &Workspace) -> Vec<FileReport> {
        let (scenario_file, _) = &self.parts[0];
        let parsed = match syntax::parse(&self.file) {
            Ok(parsed) => parsed,
            Err(error) => return self.split(vec![error], None),
        };
        let mut diagnostics = crate::check::check(&parsed, workspace);
        diagnostics.extend(self.problems.iter().cloned());
        let scenario_name = parsed
            .scenario
            .as_ref()
            .map_or_else(|| scenario_file.name().to_owned(), |s| s.name.text.clone());
        self.split(diagnostics, Some((&parsed, scenario_name.as_str())))
    }

    /// Sends each finding to the file it is in.
    fn split(
        &self,
        diagnostics: Vec<Diagnostic>,
        parsed: Option<(&Parsed, &str)>,
    ) -> Vec<FileReport> {
        let mut per_part: Vec<Vec<Diagnostic>> = vec![Vec::new(); self.parts.len()];
        let mut summaries = Vec::new();
        for diagnostic in diagnostics {
            let part = self.part_of(diagnostic.primary.span);
            if part == 0 {
                per_part[0].push(diagnostic);
                continue;
            }
            let (file, offset) = &self.parts[part];
            let local = self.localize(diagnostic, part);
            let Some((parsed, scenario)) = parsed else {
                per_part[part].push(local);
                continue;
            };
            let flow = flow_at(&parsed.flows, local.primary.span, *offset);
            if let (Some(flow), Severity::Error) = (flow, local.severity) {
                summaries.push((flow.name.text.clone(), file.clone(), local.clone()));
            }
            // The flow's own mistakes (found in its file alone) need no scenario to explain.
            if self.own[part].contains(&(local.code, local.primary.span)) {
                per_part[part].push(local);
            } else {
                per_part[part].push(in_context(local, scenario, parsed, flow, &self.parts[0].0));
            }
        }
        if let Some((parsed, _)) = parsed {
            per_part[0].extend(summarize(parsed, &summaries));
        }
        self.parts
            .iter()
            .zip(per_part)
            .enumerate()
            .filter(|(index, (_, found))| *index == 0 || !found.is_empty())
            .map(|(_, ((file, _), found))| FileReport::new(file.clone(), found))
            .collect()
    }

    /// The file and the line and column of a position of the bundle.
    pub fn locate(&self, offset: usize) -> (&SourceFile, crate::source::LineColumn) {
        let (file, start) = &self.parts[self.part_of(Span::at(offset))];
        (file, file.line_column(offset.saturating_sub(*start)))
    }

    /// A file on its own as a bundle (it includes no other file).
    pub fn plain(file: SourceFile) -> Self {
        Bundle {
            file: file.clone(),
            parts: vec![(file, 0)],
            own: vec![Vec::new()],
            problems: Vec::new(),
        }
    }

    fn part_of(&self, span: Span) -> usize {
        self.parts
            .iter()
            .rposition(|(_, offset)| *offset <= span.start as usize)
            .unwrap_or(0)
    }

    /// The diagnostic with its spans in its part's own file; labels in other parts are left
    /// out (they cannot be drawn under that file's lines).
    fn localize(&self, mut diagnostic: Diagnostic, part: usize) -> Diagnostic {
        let offset = self.parts[part].1;
        let shift = |span: Span| {
            Span::new(
                (span.start as usize).saturating_sub(offset),
                (span.end as usize).saturating_sub(offset),
            )
        };
        diagnostic.primary.span = shift(diagnostic.primary.span);
        diagnostic
            .secondary
            .retain(|label| self.part_of(label.span) == part);
        for label in &mut diagnostic.secondary {
            label.span = shift(label.span);
        }
        diagnostic
    }
}

/// The flow (of the bundle) whose text holds `span` (given in its file, which starts at
/// `offset` in the bundle).
fn flow_at(flows: &[Flow], span: Span, offset: usize) -> Option<&Flow> {
    let at = span.start as usize + offset;
    flows
        .iter()
        .find(|flow| flow.span.start as usize <= at && at < flow.span.end as usize)
}

/// A finding in an included flow, with the scenario whose context caused it.
fn in_context(
    mut diagnostic: Diagnostic,
    scenario: &str,
    parsed: &Parsed,
    flow: Option<&Flow>,
    scenario_file: &SourceFile,
) -> Diagnostic {
    let site = flow.and_then(|flow| {
        parsed
            .scenario
            .as_ref()?
            .includes()
            .find_map(|(include, _)| {
                (include.flow.text == flow.name.text).then_some(include.flow.span)
            })
    });
    let context = match site {
        Some(span) => {
            let at = scenario_file.line_column(span.start as usize);
            format!(
                "found when scenario `{scenario}` includes it at {}:{}:{}",
                scenario_file.name(),
                at.line,
                at.column
            )
        }
        None => format!("found when scenario `{scenario}` includes it"),
    };
    diagnostic.help = Some(match diagnostic.help {
        Some(help) => format!("{help} ({context})"),
        None => context,
    });
    diagnostic
}

/// One C131 at each `include` of a flow with errors, naming the first.
fn summarize(parsed: &Parsed, errors: &[(String, SourceFile, Diagnostic)]) -> Vec<Diagnostic> {
    let Some(scenario) = &parsed.scenario else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (include, _) in scenario.includes() {
        let found: Vec<&(String, SourceFile, Diagnostic)> = errors
            .iter()
            .filter(|(flow, _, _)| *flow == include.flow.text)
            .collect();
        let Some((_, file, first)) = found.first() else {
            continue;
        };
        let at = file.line_column(first.primary.span.start as usize);
        let count = match found.len() {
            1 => "an error".to_owned(),
            n => format!("{n} errors"),
        };
        out.push(
            Diagnostic::new(
                Code::FlowFailsHere,
                include.flow.span,
                format!(
                    "flow `{}` has {count} in this scenario: {}",
                    include.flow.text, first.message
                ),
            )
            .with_label("included here")
            .with_help(format!(
                "see {}:{}:{}; a flow is checked with the fields, teams and languages of each scenario that includes it",
                file.name(),
                at.line,
                at.column
            )),
        );
    }
    out
}

/// Merges reports of the same file (a flow file gets findings from each scenario that
/// includes it): one report per file, in order of first appearance, each finding once.
pub fn merge(reports: Vec<FileReport>) -> Vec<FileReport> {
    let mut merged: Vec<FileReport> = Vec::new();
    for report in reports {
        match merged
            .iter_mut()
            .find(|r| r.file.name() == report.file.name())
        {
            Some(into) => {
                let mut all = std::mem::take(&mut into.diagnostics);
                for diagnostic in report.diagnostics {
                    let seen = all.iter().any(|d| {
                        d.code == diagnostic.code && d.primary.span == diagnostic.primary.span
                    });
                    if !seen {
                        all.push(diagnostic);
                    }
                }
                *into = FileReport::new(into.file.clone(), all);
            }
            None => merged.push(report),
        }
    }
    merged
}
