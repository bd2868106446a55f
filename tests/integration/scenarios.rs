//! The shipped scenarios are examples admins copy: each lints with no finding at all and
//! draws as a graph in both formats.

use scenarist::graph::{GraphFormat, render};
use scenarist::lint::lint_file;
use scenarist::source::SourceFile;
use scenarist::syntax::parse;

use crate::support::{default_workspace, fixtures, root};

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
    for path in fixtures("scenarios", "scn") {
        let text = std::fs::read_to_string(root().join(&path)).unwrap();
        let parsed = parse(&SourceFile::new(path.display().to_string(), text)).unwrap();
        let dot = render(&parsed.scenario, GraphFormat::Dot);
        let mermaid = render(&parsed.scenario, GraphFormat::Mermaid);
        for step in parsed.scenario.steps() {
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
}
