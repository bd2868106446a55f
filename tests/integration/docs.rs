//! The documentation is tested like code: every `docs/codes/<ID>.md` page's example
//! triggers its code and its fix is clean, so `lint --explain` never shows advice that the
//! linter itself contradicts; every code has its row in the codes tables; and the README's
//! quick start is what CI runs.

use std::path::PathBuf;

use scenarist::config::Workspace;
use scenarist::diagnostic::Code;
use scenarist::lint::lint_source;
use scenarist::source::SourceFile;

use crate::support::{default_workspace, root};

/// The first fenced block of `language` after the heading `section`.
fn block<'a>(page: &'a str, section: &str, language: &str) -> Option<&'a str> {
    let after = &page[page.find(section)? + section.len()..];
    let after = after.split("\n## ").next()?;
    let start = after.find(&format!("```{language}\n"))? + language.len() + 4;
    let end = after[start..].find("\n```")?;
    Some(&after[start..=(start + end)])
}

fn codes_in_scenario(text: &str) -> Vec<&'static str> {
    lint_source(
        "example.scn",
        text.as_bytes().to_vec(),
        &default_workspace(),
    )
    .diagnostics
    .iter()
    .map(|d| d.code.id())
    .collect()
}

fn codes_in_config(text: &str) -> Vec<&'static str> {
    match Workspace::parse(SourceFile::new("example.yaml", text), PathBuf::new()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|d| d.code.id()).collect(),
    }
}

#[test]
fn every_documented_example_triggers_its_code_and_every_fix_is_clean() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for code in Code::ALL {
        let page =
            std::fs::read_to_string(root().join(format!("docs/codes/{}.md", code.id()))).unwrap();
        for (language, lint) in [
            ("scn", codes_in_scenario as fn(&str) -> Vec<&'static str>),
            ("yaml", codes_in_config),
        ] {
            if let Some(example) = block(&page, "## Example", language) {
                checked += 1;
                let found = lint(example);
                if !found.contains(&code.id()) {
                    failures.push(format!("{}: the example reports {found:?}", code.id()));
                }
            }
            if let Some(fix) = block(&page, "## Fix", language) {
                let found = lint(fix);
                if !found.is_empty() {
                    failures.push(format!("{}: the fix reports {found:?}", code.id()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 30, "only {checked} examples found");
}

#[test]
fn every_code_has_its_row_in_the_codes_page_and_in_the_language_reference() {
    let mut missing = Vec::new();
    for page in ["docs/codes.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        for code in Code::ALL {
            let row = format!(
                "| [{id}](codes/{id}.md) | {} |",
                code.name(),
                id = code.id()
            );
            if !text.contains(&row) {
                missing.push(format!("{page} lacks the row of {}: `{row}`", code.id()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_readme_has_a_two_command_quick_start_that_ci_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let quick_start = block(&readme, "## Quick start", "sh").expect("a quick start block");
    let commands: Vec<&str> = quick_start
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let test_command = commands[1].split('#').next().unwrap().trim();
    assert!(
        ci.contains(&format!("exec {test_command}")),
        ".ci/run must run `{test_command}`"
    );
}
