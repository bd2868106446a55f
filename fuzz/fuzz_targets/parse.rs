//! Any bytes through the whole front end (size and encoding checks, pre-scan, pest,
//! lowering, checker): it must return, never panic, and never report an internal error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarist::config::Workspace;
use scenarist::diagnostic::Code;
use scenarist::lint::lint_source;

fuzz_target!(|data: &[u8]| {
    let Ok(workspace) = Workspace::default_workspace() else { return };
    let report = lint_source("fuzz.scn", data.to_vec(), &workspace);
    assert!(report.diagnostics.iter().all(|d| d.code != Code::Internal), "{:?}", report.diagnostics);
});
