//! One invalid fixture per diagnostic code (`tests/fixtures/lint/<ID>_<slug>.scn`), with
//! its `# expect:` header checked exactly and its human and JSON outputs kept as golden
//! snapshots (`snapshots/`; review changes with `cargo insta review`).

use scenarist::diagnostic::{Code, FileReport, json, render};
use scenarist::lint::lint_file;

use crate::support::{default_workspace, expectations, findings, fixtures, root};

const LINT: &str = "tests/fixtures/lint";
const CONFIG: &str = "tests/fixtures/config";

fn lint(path: &std::path::Path) -> FileReport {
    lint_file(path, &default_workspace()).unwrap()
}

fn human(report: &FileReport) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| render::render(&report.file, d, false))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_fixture_reports_exactly_its_expectations() {
    let mut failures = Vec::new();
    for path in fixtures(LINT, "scn") {
        let report = lint(&path);
        let expected = expectations(report.file.text());
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` header",
            path.display()
        );
        let found = findings(&report);
        if found != expected {
            failures.push(format!(
                "{}:\n  expected {expected:?}\n  found    {found:?}\n{}",
                path.display(),
                human(&report)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_has_a_fixture() {
    let names: Vec<String> = fixtures(LINT, "scn")
        .into_iter()
        .chain(fixtures(CONFIG, "yaml"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // I001 is our bug, P005 needs a 4 MiB file (generated in `robustness`), L216 a whole
    // folder (`flows::a_flow_no_scenario_includes_is_reported`).
    let exempt = [Code::Internal, Code::FileTooLarge, Code::UnusedFlow];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !exempt.contains(code))
        .map(|code| code.id())
        .filter(|id| !names.iter().any(|n| n.starts_with(&format!("{id}_"))))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn human_output_is_golden() {
    insta::glob!("../fixtures/lint", "*.scn", |path| {
        let relative = path.strip_prefix(root()).unwrap();
        insta::assert_snapshot!(human(&lint(relative)));
    });
}

#[test]
fn json_output_is_golden() {
    insta::glob!("../fixtures/lint", "*.scn", |path| {
        let relative = path.strip_prefix(root()).unwrap();
        let report = json::report(&[lint(relative)]);
        insta::assert_json_snapshot!(report);
    });
}

#[test]
fn config_fixtures_report_their_code() {
    for path in fixtures(CONFIG, "yaml") {
        let text = std::fs::read_to_string(root().join(&path)).unwrap();
        let expected = expectations(&text);
        let (file, problems) =
            match scenarist::config::Workspace::load(&root().join(&path)).unwrap() {
                Err(refused) => refused,
                // A config that loads may still warn (`W406`); one with nothing to say is no fixture.
                Ok(workspace) if !workspace.warnings().is_empty() => {
                    (workspace.file.clone(), workspace.warnings())
                }
                Ok(_) => panic!("{} is accepted", path.display()),
            };
        let report = FileReport::new(file, problems);
        assert_eq!(
            findings(&report),
            expected,
            "{}\n{}",
            path.display(),
            human(&report)
        );
    }
}
