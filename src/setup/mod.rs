//! The assembly: the one place that turns a workspace and a mode into a running application.
//! It chooses the data directory (one rule), opens the store, starts the sandbox
//! organizations, builds the action runners, the engine and the tokio runtime; the commands,
//! the service and the harness are thin edges over it.

mod app;
mod retention;
mod runners;
mod scenarios;

pub use app::{
    App, Data, data_dir, demo_apis, open_data, open_postgres, open_store, options, runner,
    sandboxes, schedules, service_runtime, snapshot_data, start, start_wrapped, sync_targets,
    tokio_runtime,
};
pub use retention::{retention, spawn_sweeper};
pub use runners::Runners;
pub use scenarios::{
    LoadError, ScenarioSource, load_scenarios, load_workspace_scenarios, scenario_source,
    scenarios_folder, workspace_problems,
};
