//! `scenarist fmt` as authors and CI use it: `--check` names the files that would change
//! and shows the diff; reformatting a messy copy gives the same AST, and then `--check`
//! passes. (The formatter's invariants are unit-tested in `crates/lang/src/fmt/tests.rs`.)

use scenarist::ast::erase_spans;
use scenarist::source::SourceFile;
use scenarist::syntax::parse;

use crate::support::{fixtures, root, scenarist, stdout, tempdir};

fn ast(path: &std::path::Path) -> scenarist::ast::Scenario {
    let text = std::fs::read_to_string(path).unwrap();
    let mut scenario = parse(&SourceFile::new("x.scn", text))
        .unwrap()
        .scenario
        .unwrap();
    erase_spans(&mut scenario);
    scenario
}

#[test]
fn shipped_scenarios_are_formatted() {
    let output = scenarist(&["fmt", "--check", "scenarios/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn a_messy_copy_is_named_then_reformatted_to_the_same_tree() {
    for fixture in fixtures("tests/fixtures/fmt", "scn") {
        let dir = tempdir();
        let copy = dir.join(fixture.file_name().unwrap());
        std::fs::copy(root().join(&fixture), &copy).unwrap();
        let before = ast(&copy);
        let copy_name = copy.to_str().unwrap();

        let check = scenarist(&["fmt", "--check", copy_name]);
        assert_eq!(check.status.code(), Some(1), "{}", fixture.display());
        assert!(
            stdout(&check).contains(&format!("would reformat {copy_name}")),
            "{}",
            stdout(&check)
        );
        assert!(
            stdout(&check).lines().any(|l| l.starts_with('+')),
            "a diff is shown"
        );
        assert_eq!(
            std::fs::read_to_string(root().join(&fixture)).unwrap(),
            std::fs::read_to_string(&copy).unwrap(),
            "--check changes nothing"
        );

        assert_eq!(scenarist(&["fmt", copy_name]).status.code(), Some(0));
        assert_eq!(
            scenarist(&["fmt", "--check", copy_name]).status.code(),
            Some(0),
            "{}",
            fixture.display()
        );
        assert_eq!(
            ast(&copy),
            before,
            "{}: formatting changed the tree",
            fixture.display()
        );
    }
}

#[test]
fn formatting_stdin_and_broken_files() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"scenario s {start a\nstep a {   end }}",
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        stdout(&output),
        "scenario s {\n  start a\n\n  step a {\n    end\n  }\n}\n"
    );

    let broken = scenarist(&[
        "fmt",
        "--check",
        "tests/fixtures/lint/P001_syntax_error.scn",
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("P001"));
}
