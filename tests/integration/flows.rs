//! Shared flows across files: each checked in the context of every scenario that includes it,
//! findings sent back to the file they are in, clashes and unused flows of a folder, and the
//! bundle a scenario runs (a changed flow is a new version of every scenario that includes it).

use std::path::{Path, PathBuf};

use scenarist::config::Workspace;
use scenarist::diagnostic::FileReport;
use scenarist::library::Library;
use scenarist::lint::{Libraries, lint_path};
use scenarist::setup::{self, LoadError};

use crate::support::{default_workspace, findings, root, scenarist, stdout, tempdir};

/// A flow whose text has no English translation: right in a scenario without languages,
/// wrong in a bilingual one.
const FLOW: &str = r#"flow capture(save_to: field, next: step) {
  start ask
  step ask {
    ask "Votre e-mail ?" { expect email save save_to attempts 3 then goto next timeout 15m then goto next }
    goto next
  }
}
"#;

const PLAIN: &str = r"scenario plain {
  include capture(save_to: contact.email, next: done) as ask_email
  start ask_email
  step done { end }
}
";

const BILINGUAL: &str = r#"scenario bilingual {
  languages fr, en
  language from contact.language
  include capture(save_to: contact.email, next: done) as ask_email
  start ask_email
  step done {
    say "Merci !" en "Thank you!"
    end
  }
}
"#;

fn folder(files: &[(&str, &str)]) -> PathBuf {
    let dir = tempdir();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

/// Every report of linting `names` in `dir` one by one, merged per file.
fn lint_all(dir: &Path, names: &[&str]) -> Vec<FileReport> {
    let workspace = default_workspace();
    let mut libraries = Libraries::default();
    let mut reports = Vec::new();
    for name in names {
        reports.extend(
            lint_path(&dir.join(name), &workspace, &mut libraries)
                .unwrap()
                .reports,
        );
    }
    scenarist::library::merge(reports)
}

fn report<'a>(reports: &'a [FileReport], name: &str) -> Option<&'a FileReport> {
    reports.iter().find(|r| r.file.name().ends_with(name))
}

fn codes(report: Option<&FileReport>) -> Vec<&'static str> {
    report.map_or_else(Vec::new, |r| {
        r.diagnostics.iter().map(|d| d.code.id()).collect()
    })
}

#[test]
fn a_flow_is_checked_in_the_context_of_each_scenario_that_includes_it() {
    let dir = folder(&[
        ("capture.scn", FLOW),
        ("plain.scn", PLAIN),
        ("bilingual.scn", BILINGUAL),
    ]);
    let reports = lint_all(&dir, &["plain.scn", "bilingual.scn", "capture.scn"]);
    assert!(
        codes(report(&reports, "plain.scn")).is_empty(),
        "{reports:#?}"
    );
    // The bilingual scenario is told at its include…
    let bilingual = report(&reports, "bilingual.scn").unwrap();
    assert_eq!(findings(bilingual), vec![("C131".to_owned(), 4, 11)]);
    assert!(bilingual.diagnostics[0].message.contains("flow `capture`"));
    // …and the flow's file holds the missing translation, naming the scenario it breaks.
    let flow = report(&reports, "capture.scn").unwrap();
    assert_eq!(findings(flow), vec![("C135".to_owned(), 4, 9)]);
    let help = flow.diagnostics[0].help.as_deref().unwrap();
    assert!(help.contains("scenario `bilingual`"), "{help}");
    assert!(help.contains("bilingual.scn:4:11"), "{help}");
}

#[test]
fn an_unknown_field_given_to_a_flow_is_reported_at_the_include() {
    let wrong = PLAIN.replace("contact.email", "contact.emial");
    let dir = folder(&[("capture.scn", FLOW), ("plain.scn", &wrong)]);
    let reports = lint_all(&dir, &["plain.scn"]);
    let plain = report(&reports, "plain.scn").unwrap();
    assert_eq!(findings(plain), vec![("C108".to_owned(), 2, 36)]);
    assert!(codes(report(&reports, "capture.scn")).is_empty());
}

#[test]
fn two_files_declaring_one_flow_and_a_flow_nobody_includes_are_reported_for_the_folder() {
    let orphan = FLOW.replace("flow capture", "flow orphan");
    let dir = folder(&[
        ("a_capture.scn", FLOW),
        ("b_capture.scn", FLOW),
        ("orphan.scn", &orphan),
        ("plain.scn", PLAIN),
    ]);
    let library = Library::load(&dir).unwrap();
    let clash = &library.problems()[0];
    assert!(clash.file.name().ends_with("b_capture.scn"));
    assert_eq!(findings(clash), vec![("C117".to_owned(), 1, 6)]);
    assert!(clash.diagnostics[0].message.contains("a_capture.scn"));

    let workspace = default_workspace();
    let linted = lint_path(
        &dir.join("plain.scn"),
        &workspace,
        &mut Libraries::default(),
    )
    .unwrap();
    let sources: Vec<_> = linted
        .bundle
        .iter()
        .filter_map(|b| setup::scenario_source(dir.join("plain.scn"), &b.file))
        .collect();
    let problems = setup::workspace_problems(&workspace, &sources, &library);
    let unused = report(&problems, "orphan.scn").unwrap();
    assert_eq!(findings(unused), vec![("L216".to_owned(), 1, 6)]);
    assert!(
        report(&problems, "a_capture.scn").is_none(),
        "an included flow is used"
    );
}

#[test]
fn a_scenario_cannot_declare_a_flow_the_folder_already_declares() {
    let own = format!("{PLAIN}\n{FLOW}");
    let dir = folder(&[("capture.scn", FLOW), ("plain.scn", &own)]);
    let reports = lint_all(&dir, &["plain.scn"]);
    assert_eq!(
        findings(report(&reports, "plain.scn").unwrap()),
        vec![("C117".to_owned(), 7, 6)]
    );
}

#[test]
fn a_changed_flow_makes_a_new_version_of_the_scenarios_that_include_it() {
    let dir = folder(&[("capture.scn", FLOW), ("plain.scn", PLAIN)]);
    let bundle = |dir: &Path| {
        let linted = lint_path(
            &dir.join("plain.scn"),
            &default_workspace(),
            &mut Libraries::default(),
        )
        .unwrap();
        linted.bundle.unwrap().file.text().to_owned()
    };
    let before = bundle(&dir);
    assert!(
        before.contains("Votre e-mail ?"),
        "the bundle carries the flow: {before}"
    );
    std::fs::write(
        dir.join("capture.scn"),
        FLOW.replace("Votre e-mail ?", "Votre adresse ?"),
    )
    .unwrap();
    let after = bundle(&dir);
    let version = scenarist::runtime::program::version_of;
    assert_ne!(version(&before), version(&after));
}

#[test]
fn serve_refuses_a_folder_whose_flow_breaks_one_of_its_scenarios() {
    // The shipped workspace, with the shared email question reading a field that does not exist.
    let dir = tempdir();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let workspace = |dir: &Path| {
        Workspace::load(&dir.join("scenarist.yaml"))
            .unwrap()
            .unwrap()
    };
    assert!(setup::load_workspace_scenarios(&workspace(&dir)).is_ok());
    let flow = std::fs::read_to_string(dir.join("email_capture.scn")).unwrap();
    std::fs::write(
        dir.join("email_capture.scn"),
        flow.replace("{save_to}", "{contact.emial}"),
    )
    .unwrap();
    let Err(LoadError::Invalid(reports)) = setup::load_workspace_scenarios(&workspace(&dir)) else {
        panic!("the broken flow was accepted");
    };
    let flow = report(&reports, "email_capture.scn").unwrap();
    assert_eq!(codes(Some(flow)), vec!["C108"]);
    for includer in ["ticket_sync.scn", "order_lookup.scn"] {
        assert_eq!(
            codes(report(&reports, includer)),
            vec!["C131"],
            "{includer}"
        );
    }
}

#[test]
fn the_graph_draws_an_included_flow_in_a_box_of_its_own() {
    let output = scenarist(&["graph", "--format", "dot", "scenarios/ticket_sync.scn"]);
    assert_eq!(output.status.code(), Some(0));
    let dot = stdout(&output);
    let cluster = dot.find("subgraph \"cluster_0\"").expect("a cluster");
    let inside = &dot[cluster..cluster + dot[cluster..].find("  }").unwrap()];
    assert!(
        inside.contains("label=\"ask_email: flow email_capture\""),
        "{dot}"
    );
    assert!(inside.contains("\"ask_email.ask_email\""), "{dot}");
    assert!(
        dot.contains("\"welcome\" -> \"ask_email.ask_email\""),
        "{dot}"
    );
}
