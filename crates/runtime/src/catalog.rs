//! Scenario versions. New conversations get the newest version of their scenario; a
//! conversation stays on the version it started with, which the store keeps (by source hash)
//! for as long as the runtime may need it — even after the file changed on disk.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::program::{Program, version_of};
use crate::store::{ScenarioVersion, Store};
use scenarist_lang::include;
use scenarist_lang::source::SourceFile;

/// Why a scenario version cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario does not parse: {0}")]
    Parse(String),
    #[error("the scenario does not compile: {0}")]
    Compile(String),
    #[error("scenario version {0} is not in the store")]
    MissingVersion(String),
    #[error("scenario `{name}` of account `{account}` is not loaded")]
    NotLoaded { name: String, account: String },
    #[error("the scenario store failed: {0}")]
    Storage(#[from] crate::store::StoreError),
}

#[derive(Default)]
pub(super) struct Catalog {
    newest: RwLock<HashMap<String, Arc<Program>>>,
    versions: RwLock<HashMap<String, Arc<Program>>>,
}

impl Catalog {
    /// Makes `source` the newest version of its scenario and stores it.
    pub(super) fn publish(
        &self,
        store: &dyn Store,
        source: &str,
    ) -> Result<Arc<Program>, ScenarioError> {
        let program = Arc::new(compile(source)?);
        store.put_scenario(&ScenarioVersion {
            name: program.name.clone(),
            version: program.version.clone(),
            source: source.to_owned(),
        })?;
        write(&self.versions).insert(program.version.clone(), Arc::clone(&program));
        write(&self.newest).insert(program.name.clone(), Arc::clone(&program));
        Ok(program)
    }

    pub(super) fn newest(&self, name: &str) -> Option<Arc<Program>> {
        read(&self.newest).get(name).cloned()
    }

    /// The newest version of every scenario: the versions new conversations get.
    pub(super) fn newest_versions(&self) -> std::collections::HashSet<String> {
        read(&self.newest)
            .values()
            .map(|program| program.version.clone())
            .collect()
    }

    /// The program of a version, compiled from the store if it is not loaded.
    pub(super) fn version(
        &self,
        store: &dyn Store,
        version: &str,
    ) -> Result<Arc<Program>, ScenarioError> {
        if let Some(program) = read(&self.versions).get(version) {
            return Ok(Arc::clone(program));
        }
        let stored = store
            .scenario(version)?
            .ok_or_else(|| ScenarioError::MissingVersion(version.to_owned()))?;
        let program = Arc::new(compile(&stored.source)?);
        write(&self.versions).insert(version.to_owned(), Arc::clone(&program));
        Ok(program)
    }
}

fn compile(source: &str) -> Result<Program, ScenarioError> {
    let file = SourceFile::new(format!("scenario {}", version_of(source)), source);
    let scenario = include::runnable(&file).map_err(|d| ScenarioError::Parse(d.message))?;
    Program::compile(&scenario, source).map_err(|e| ScenarioError::Compile(e.to_string()))
}

// A poisoned lock only means a panic elsewhere; the maps are always consistent.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
