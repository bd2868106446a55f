//! An open document: its text as the editor has it (edits applied in UTF-16 positions), and
//! what was found the last time it was checked. The parse kept for navigation is the last
//! one that succeeded (`good`): it is the current text's when `fresh`, an older text's while
//! the admin is in the middle of typing something that does not parse yet.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::Arc;

use lsp_types::{TextDocumentContentChangeEvent, Url};
use scenarist_lang::config::Workspace;
use scenarist_lang::diagnostic::FileReport;
use scenarist_lang::library::Library;
use scenarist_lang::syntax::Parsed;

use crate::names::Names;
use crate::position::LineIndex;

pub(crate) struct Document {
    pub(crate) uri: Url,
    /// The file on disk, for a `file:` URI.
    pub(crate) path: Option<PathBuf>,
    /// How findings name the file (its path, as `lint` names it).
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) index: LineIndex,
    /// Whether the text changed since it was last checked.
    pub(crate) dirty: bool,
    /// What the last check found: the document's report, then the included flows'.
    pub(crate) reports: Vec<FileReport>,
    /// The last parse that succeeded, with its text.
    pub(crate) good: Option<Good>,
    pub(crate) workspace: Option<Arc<Workspace>>,
    pub(crate) library: Arc<Library>,
}

pub(crate) struct Good {
    pub(crate) text: String,
    pub(crate) parsed: Arc<Parsed>,
    /// Whether it is the current text's parse.
    pub(crate) fresh: bool,
    names: OnceCell<Names>,
}

impl Good {
    pub(crate) fn new(text: String, parsed: Arc<Parsed>) -> Self {
        Self {
            text,
            parsed,
            fresh: true,
            names: OnceCell::new(),
        }
    }

    /// The names of the parse, found on first use.
    pub(crate) fn names(&self) -> &Names {
        self.names.get_or_init(|| Names::of(&self.parsed))
    }
}

impl Document {
    pub(crate) fn new(uri: Url, text: String) -> Self {
        let path = (uri.scheme() == "file")
            .then(|| uri.to_file_path().ok())
            .flatten();
        let name = path
            .as_ref()
            .map_or_else(|| uri.to_string(), |p| p.display().to_string());
        let index = LineIndex::new(&text);
        Self {
            uri,
            path,
            name,
            text,
            index,
            dirty: true,
            reports: Vec::new(),
            good: None,
            workspace: None,
            library: Arc::new(Library::default()),
        }
    }

    /// Applies the editor's changes in order (a change without a range replaces the text).
    pub(crate) fn apply(&mut self, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let bytes = self.index.span(&self.text, range);
                    self.text.replace_range(bytes, &change.text);
                }
                None => self.text = change.text,
            }
            self.index = LineIndex::new(&self.text);
        }
        self.dirty = true;
        if let Some(good) = &mut self.good {
            good.fresh = false;
        }
    }

    /// Whether the last good parse is a file of flows (no scenario).
    pub(crate) fn holds_flows(&self) -> bool {
        self.good
            .as_ref()
            .is_some_and(|good| good.parsed.scenario.is_none())
    }

    /// The current text's parse and names, when the current text parses.
    pub(crate) fn fresh(&self) -> Option<&Good> {
        self.good.as_ref().filter(|good| good.fresh && !self.dirty)
    }
}
