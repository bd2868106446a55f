//! Which config and which shared flows a document is checked with. The config is the one
//! given to `scenarist lsp` (`--config`, `SCENARIST_CONFIG`), else the first `scenarist.yaml`
//! found walking up from the document's folder, else the built-in default — what `lint`
//! would use when run with that config. The flows come from `library::folder_for` that
//! config, read through the open documents first (an unsaved flow is checked as typed), and
//! are cached per folder until a flow file changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use scenarist_lang::config::Workspace;
use scenarist_lang::library::{self, Library};

/// The config file looked for in a document's folder and the folders above it.
pub(crate) const CONFIG_NAME: &str = "scenarist.yaml";

pub(crate) struct Workspaces {
    explicit: Option<PathBuf>,
    default: Arc<Workspace>,
    /// Config path → the loaded config, or why it could not be used.
    configs: HashMap<PathBuf, Result<Arc<Workspace>, String>>,
    /// Flow folder → its flows.
    libraries: HashMap<PathBuf, Arc<Library>>,
}

impl Workspaces {
    /// `None` when the built-in default config does not load (a bug of the build).
    pub(crate) fn new(explicit: Option<PathBuf>) -> Option<Self> {
        Some(Self {
            explicit,
            default: Arc::new(Workspace::default_workspace().ok()?),
            configs: HashMap::new(),
            libraries: HashMap::new(),
        })
    }

    /// The config for a document at `path` (none for an unsaved, untitled one), with a
    /// message when a config was found but has problems (the default is used then).
    pub(crate) fn workspace_for(
        &mut self,
        path: Option<&Path>,
    ) -> (Arc<Workspace>, Option<String>) {
        let config = self.explicit.clone().or_else(|| find_config(path?));
        let Some(config) = config else {
            return (self.default.clone(), None);
        };
        let loaded = self
            .configs
            .entry(config.clone())
            .or_insert_with(|| load(&config));
        match loaded {
            Ok(workspace) => (workspace.clone(), None),
            Err(why) => (self.default.clone(), Some(why.clone())),
        }
    }

    /// The flows a document at `path` may include, reading open documents through `open`.
    pub(crate) fn library_for(
        &mut self,
        path: Option<&Path>,
        workspace: &Workspace,
        open: &dyn Fn(&Path) -> Option<String>,
    ) -> Arc<Library> {
        let Some(path) = path else {
            return Arc::new(Library::default());
        };
        let folder = library::folder_for(path, workspace);
        if let Some(library) = self.libraries.get(&folder) {
            return library.clone();
        }
        let read = |file: &Path| match open(file) {
            Some(text) => Ok(text.into_bytes()),
            None => std::fs::read(file),
        };
        let library = Arc::new(Library::load_with(&folder, read).unwrap_or_default());
        self.libraries.insert(folder, library.clone());
        library
    }

    /// Forgets the flows read so far (a flow file changed) and the configs (one was saved).
    pub(crate) fn forget_flows(&mut self) {
        self.libraries.clear();
    }

    pub(crate) fn forget_configs(&mut self) {
        self.configs.clear();
        self.libraries.clear();
    }
}

fn find_config(document: &Path) -> Option<PathBuf> {
    document
        .parent()?
        .ancestors()
        .map(|folder| folder.join(CONFIG_NAME))
        .find(|candidate| candidate.is_file())
}

fn load(config: &Path) -> Result<Arc<Workspace>, String> {
    match Workspace::load(config) {
        Ok(Ok(workspace)) => Ok(Arc::new(workspace)),
        Ok(Err((_, problems))) => Err(format!(
            "{} has {} problem(s) (run `scenarist lint` with it to see them); the built-in default config is used",
            config.display(),
            problems.len()
        )),
        Err(error) => Err(format!(
            "cannot read {}: {error}; the built-in default config is used",
            config.display()
        )),
    }
}
