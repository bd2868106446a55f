//! Shared helpers: paths, fixture discovery, `# expect:` headers, running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scenarist::config::Workspace;
use scenarist::diagnostic::FileReport;

/// A contact message on `account`, from the contact `contact-<conversation>` (Ada Lovelace).
pub(crate) fn inbound(
    account: &str,
    conversation: &str,
    id: &str,
    text: &str,
) -> scenarist::runtime::engine::Inbound {
    scenarist::runtime::engine::Inbound {
        account: account.into(),
        conversation: conversation.into(),
        message_id: id.into(),
        contact_id: format!("contact-{conversation}"),
        contact_name: "Ada Lovelace".into(),
        fields: std::collections::BTreeMap::new(),
        text: text.into(),
    }
}

/// The crate root; tests run from it, so file names in outputs are relative and stable.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files in `dir` (relative to the crate root) with extension `ext`, sorted, as relative paths.
pub(crate) fn fixtures(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .map(|path| Path::new(dir).join(path.file_name().unwrap()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.{ext} fixtures in {dir}");
    files
}

/// An expected finding: code, line, column.
pub(crate) type Expectation = (String, usize, usize);

/// The `# expect: C101 2:9` header lines of a fixture.
pub(crate) fn expectations(text: &str) -> Vec<Expectation> {
    let mut expected: Vec<Expectation> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# expect:"))
        .map(|rest| {
            let mut words = rest.split_whitespace();
            let code = words.next().expect("a code after `# expect:`").to_owned();
            let (line, column) = words
                .next()
                .and_then(|p| p.split_once(':'))
                .expect("LINE:COLUMN");
            (
                code,
                line.parse().expect("line"),
                column.parse().expect("column"),
            )
        })
        .collect();
    expected.sort();
    expected
}

/// What a report actually contains, in the same shape.
pub(crate) fn findings(report: &FileReport) -> Vec<Expectation> {
    let mut found: Vec<Expectation> = report
        .diagnostics
        .iter()
        .map(|d| {
            let at = report.file.line_column(d.primary.span.start as usize);
            (d.code.id().to_owned(), at.line, at.column)
        })
        .collect();
    found.sort();
    found
}

pub(crate) fn default_workspace() -> Workspace {
    Workspace::default_workspace().expect("the default config is valid")
}

/// Runs the real binary from the crate root, without colours.
pub(crate) fn scenarist(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("SCENARIST_CONFIG")
        .output()
        .expect("the scenarist binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Validates `instance` against the JSON Schema in `schema_path` (relative to the root).
pub(crate) fn assert_valid(schema_path: &str, instance: &serde_json::Value) {
    let text = std::fs::read_to_string(root().join(schema_path)).unwrap();
    // The official SARIF 2.1.0 schema has a stray `]` in one pattern (`run.language`), which
    // ECMA regexes read as a literal and Rust's regex engines refuse; escaping it keeps the
    // meaning and lets the schema compile.
    let text = text.replace("[a-zA-Z]{2}]?$", "[a-zA-Z]{2}\\\\]?$");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid against {schema_path}:\n{}",
        errors.join("\n")
    );
}

/// A fresh, empty folder under the system temp dir. Never one left by an earlier run whose
/// process had the same id (nextest runs each test in its own process, and ids come round).
pub(crate) fn tempdir() -> std::path::PathBuf {
    sweep_leftovers();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    loop {
        let dir = std::env::temp_dir().join(format!(
            "scenarist-test-{}-{}-{nanos}",
            std::process::id(),
            unique()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => panic!("cannot create {}: {e}", dir.display()),
        }
    }
}

/// Removes, once per test process, the folders that earlier test processes left behind: tests
/// keep theirs (a failed one can be looked at), and a day of runs left 14,000 of them, 1.3 GB.
/// Only folders whose process is gone (never one a running test uses) and over an hour old (a
/// test of another PID namespace sharing /tmp, whose process this one cannot see, is over by
/// then).
fn sweep_leftovers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let proc = std::path::Path::new("/proc");
        if !proc.join("self").exists() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|name| name.strip_prefix("scenarist-test-"))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            let old = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| modified < hour_ago);
            if old && !proc.join(pid.to_string()).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The text the service runs for shipped scenario `name`: its file, then the files of the
/// flows it includes (`library::Bundle`).
pub(crate) fn scenario_bundle(name: &str) -> String {
    let path = Path::new("scenarios").join(format!("{name}.scn"));
    let linted = scenarist::lint::lint_path(
        &path,
        &default_workspace(),
        &mut scenarist::lint::Libraries::default(),
    )
    .unwrap();
    linted.bundle.unwrap().file.text().to_owned()
}
