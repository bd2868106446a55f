//! The shipped scenarios are examples admins copy: each lints with no finding at all and
//! draws as a graph in both formats.

use scenarist::graph::{GraphFormat, render_parsed};
use scenarist::lint::{Libraries, lint_file, lint_path};
use scenarist::syntax::parse;

use crate::support::{default_workspace, fixtures};

#[test]
fn every_scenario_is_lint_clean() {
    let workspace = default_workspace();
    for path in fixtures("scenarios", "scn") {
        let report = lint_file(&path, &workspace).unwrap();
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.id()).collect();
        assert!(codes.is_empty(), "{}: {codes:?}", path.display());
    }
}

#[test]
fn there_are_at_least_four_scenarios_including_the_seed_flow() {
    let names: Vec<String> = fixtures("scenarios", "scn")
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(names.len() >= 4, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("zendesk_handoff.scn")));
}

#[test]
fn every_scenario_draws() {
    let workspace = default_workspace();
    let mut drawn = 0;
    for path in fixtures("scenarios", "scn") {
        let linted = lint_path(&path, &workspace, &mut Libraries::default()).unwrap();
        // A file of shared flows is drawn in the scenarios that include it.
        let Some(bundle) = linted.bundle else {
            continue;
        };
        let parsed = parse(&bundle.file).unwrap();
        let dot = render_parsed(&parsed, GraphFormat::Dot).unwrap();
        let mermaid = render_parsed(&parsed, GraphFormat::Mermaid).unwrap();
        drawn += 1;
        let expanded = scenarist::include::expand(parsed.scenario.as_ref().unwrap(), &parsed.flows);
        for step in expanded.scenario.steps() {
            assert!(
                dot.contains(&format!("\"{}\"", step.name.text)),
                "{}: {dot}",
                path.display()
            );
            assert!(
                mermaid.contains(&format!("[\"{}\"]", step.name.text)),
                "{}: {mermaid}",
                path.display()
            );
        }
    }
    assert!(drawn >= 8, "only {drawn} scenarios drawn");
}
