//! The retention sweeper of a running workspace (`retention:` in the config).

use crate::config::Workspace;
use crate::runtime::engine::Engine;
use crate::runtime::retention::{Retention, Sweeper};

/// The config's retention, in the runtime's terms.
pub fn retention(workspace: &Workspace) -> Retention {
    let config = &workspace.config.retention;
    Retention {
        ended: config.ended_conversations().millis(),
        seen: config.seen().millis(),
        versions: config.scenario_versions().millis(),
    }
}

/// Starts the background sweeper on `engine`, unless everything is kept forever. It runs
/// until the task is aborted; the policy read at start holds until the next start.
pub fn spawn_sweeper(
    workspace: &Workspace,
    engine: &Engine,
) -> Option<tokio::task::JoinHandle<()>> {
    let retention = retention(workspace);
    let interval = retention.interval()?;
    tracing::info!(
        ended_conversations = %workspace.config.retention.ended_conversations,
        seen = %workspace.config.retention.seen,
        scenario_versions = %workspace.config.retention.scenario_versions,
        "retention sweeper started (every {} s)",
        interval.as_secs()
    );
    Some(Sweeper::new(engine.clone(), retention).spawn(interval))
}
