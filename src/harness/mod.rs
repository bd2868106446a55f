//! `scenarist test`: transcript tests. Each test runs its scenario in a fresh engine — the
//! real interpreter and commit path, over the memory store, with a clock the transcript moves
//! (`wait: 15m`) and actions the transcript mocks — and compares what happened after each
//! transcript entry with what the entry expects. The first difference fails the test.

pub mod coverage;
mod mock;
pub mod transcript;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use coverage::Coverage;
use mock::MockActions;
use transcript::{CallSpec, Entry, TestCase, TestFile};

use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::library::{Bundle, Library};
use crate::lint::lint_bytes;
use crate::runtime::engine::{Engine, EngineOptions, Inbound};
use crate::runtime::interpreter::Trace;
use crate::runtime::program::Program;
use crate::runtime::state::{Author, Conversation, Input, Part};
use crate::runtime::value::{Value, from_json};
use crate::runtime::{Clock, FlushPolicy, ManualClock};
use crate::store::{KvStore, MemoryBackend, Store};
use crate::syntax::parse_duration_text;

/// Monday 5 January 2026, 09:00 UTC: where every transcript's clock starts.
pub const START: i64 = 1_767_603_600_000;
const CONVERSATION: &str = "transcript";

/// The outcome of one test file.
#[derive(Debug)]
pub struct FileResult {
    pub path: PathBuf,
    /// The file could not be run at all (unreadable, malformed YAML, a missing scenario).
    pub error: Option<String>,
    /// The scenario has lint errors: its reports.
    pub lint: Vec<FileReport>,
    pub tests: Vec<TestResult>,
    pub coverage: Option<Coverage>,
}

impl FileResult {
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.lint.is_empty()
            && self.tests.iter().all(|t| t.failure.is_none())
    }
}

#[derive(Debug)]
pub struct TestResult {
    pub name: String,
    pub failure: Option<Failure>,
}

/// Where a test went wrong.
#[derive(Debug)]
pub struct Failure {
    /// 1-based index of the transcript entry, and what it did.
    pub entry: usize,
    pub action: String,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug)]
pub struct Mismatch {
    pub what: String,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
}

impl Mismatch {
    fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            what: what.into(),
            expected: vec![expected.into()],
            actual: vec![actual.into()],
        }
    }
}

/// Runs every test of a test file.
pub async fn run_file(path: &Path) -> FileResult {
    let mut result = FileResult {
        path: path.to_owned(),
        error: None,
        lint: Vec::new(),
        tests: Vec::new(),
        coverage: None,
    };
    let loaded = match load(path) {
        Ok(loaded) => loaded,
        Err(Problem::Message(error)) => {
            result.error = Some(error);
            return result;
        }
        Err(Problem::Lint(reports)) => {
            result.lint = reports;
            return result;
        }
    };
    let mut reached = BTreeSet::new();
    for case in &loaded.file.tests {
        let (failure, trace) = match run_test(&loaded, case).await {
            Ok(outcome) => outcome,
            Err(error) => (
                Some(Failure {
                    entry: 0,
                    action: "start".into(),
                    mismatches: vec![Mismatch::new("the test could not run", "", error)],
                }),
                Vec::new(),
            ),
        };
        reached.extend(coverage::attribute(trace));
        result.tests.push(TestResult {
            name: case.name.clone(),
            failure,
        });
    }
    result.coverage = Some(Coverage::compute(&loaded.program, &loaded.source, &reached));
    result
}

struct Loaded {
    file: TestFile,
    /// The scenario with the files of the flows it includes.
    source: Bundle,
    program: Program,
    account: String,
    schedules: Arc<crate::runtime::eval::Schedules>,
}

enum Problem {
    Message(String),
    Lint(Vec<FileReport>),
}

/// Why a path the test file names is not read.
fn outside(key: &str, path: &Path) -> String {
    format!(
        "`{key}: {}` leads outside the test file's folder; it was not read (keep the scenario and the config beside the test file or below it)",
        path.display()
    )
}

fn load(path: &Path) -> Result<Loaded, Problem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::Message(format!("cannot read it: {e}")))?;
    let file: TestFile = serde_yaml::from_str(&text)
        .map_err(|e| Problem::Message(format!("not a valid test file: {e}")))?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    let workspace = match &file.config {
        None => Workspace::default_workspace()
            .map_err(|_| Problem::Message("the built-in config is invalid".into()))?,
        Some(config) if !crate::config::stays_inside(base, &base.join(config)) => {
            return Err(Problem::Message(outside("config", config)));
        }
        Some(config) => match Workspace::load(&base.join(config)) {
            Ok(Ok(workspace)) => workspace,
            Ok(Err((file, problems))) => {
                return Err(Problem::Lint(vec![FileReport::new(file, problems)]));
            }
            Err(e) => {
                return Err(Problem::Message(format!(
                    "cannot read the config {}: {e}",
                    config.display()
                )));
            }
        },
    };
    if let Some(problem) = mock::mock_problem(&file, &workspace) {
        return Err(Problem::Message(problem));
    }
    if let Some(problem) = field_problem(&file, &workspace) {
        return Err(Problem::Message(problem));
    }
    let scenario_path = base.join(&file.scenario);
    if !crate::config::stays_inside(base, &scenario_path) {
        // Its content could be anything (`../../etc/shadow`): not read, never quoted.
        return Err(Problem::Message(outside("scenario", &file.scenario)));
    }
    let bytes = std::fs::read(&scenario_path).map_err(|e| {
        Problem::Message(format!(
            "cannot read the scenario {}: {e}",
            scenario_path.display()
        ))
    })?;
    // The flows it includes come from the test file's folder too.
    let library = Library::load(base).map_err(|e| {
        Problem::Message(format!("cannot read the flows of {}: {e}", base.display()))
    })?;
    let linted = lint_bytes(
        &scenario_path.display().to_string(),
        bytes,
        &workspace,
        &library,
    );
    if linted.reports.iter().any(|report| report.errors() > 0) {
        return Err(Problem::Lint(linted.reports));
    }
    let Some(source) = linted.bundle else {
        return Err(Problem::Message(format!(
            "{} holds flows but no scenario; test a scenario that includes them",
            scenario_path.display()
        )));
    };
    let scenario =
        crate::include::runnable(&source.file).map_err(|d| Problem::Message(d.message))?;
    let program = Program::compile(&scenario, source.file.text())
        .map_err(|e| Problem::Message(e.to_string()))?;
    let account = file
        .account
        .clone()
        .unwrap_or_else(|| "test:transcript".into());
    Ok(Loaded {
        file,
        source,
        program,
        account,
        schedules: crate::setup::schedules(&workspace),
    })
}

/// A contact field that a test starts with (`contact: {fields: …}`) or expects (`fields:`)
/// but the config does not declare: such a test could only pass by accident.
fn field_problem(file: &TestFile, workspace: &Workspace) -> Option<String> {
    let declared = |name: &str| {
        workspace.field_type(name).is_some()
            || crate::config::BUILTIN_CONTACT_FIELDS.contains(&name)
    };
    for case in &file.tests {
        let starting = case
            .contact
            .fields
            .keys()
            .map(|n| (n, "`contact: {fields: …}`"));
        let expected = case
            .transcript
            .iter()
            .flat_map(|entry| entry.fields.iter().flat_map(BTreeMap::keys))
            .map(|n| (n, "`fields:`"));
        for (name, place) in starting.chain(expected) {
            if declared(name) {
                continue;
            }
            let names = workspace
                .field_names()
                .chain(crate::config::BUILTIN_CONTACT_FIELDS.iter().copied());
            let hint = crate::diagnostic::did_you_mean(name, names).unwrap_or_else(|| {
                format!(
                    "declare it under `contact_fields` in {}",
                    workspace.file.name()
                )
            });
            return Some(format!(
                "test `{}`: {place} names the contact field `{name}`, which the config does not declare; {hint}",
                case.name
            ));
        }
    }
    None
}

async fn run_test(
    loaded: &Loaded,
    case: &TestCase,
) -> Result<(Option<Failure>, Vec<Trace>), String> {
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let start = match &case.at {
        Some(at) => {
            scenarist_lang::schedule::parse_instant(at).map_err(|e| format!("`at`: {e}"))?
        }
        None => START,
    };
    let clock = Arc::new(ManualClock::new(start));
    let actions = Arc::new(MockActions::new(case.actions.clone()));
    let trace = Arc::new(Mutex::new(Vec::new()));
    let options = EngineOptions {
        flush: FlushPolicy::EveryMessage,
        default_scenario: Some(loaded.program.name.clone()),
        trace: Some(Arc::clone(&trace)),
        schedules: Arc::clone(&loaded.schedules),
        ..EngineOptions::default()
    };
    let engine = Engine::new(
        store,
        Arc::clone(&clock) as Arc<dyn Clock>,
        actions.clone(),
        options,
    );
    engine
        .publish(loaded.source.file.text())
        .map_err(|e| e.to_string())?;
    let mut runner = Runner {
        engine,
        clock,
        actions,
        loaded,
        case,
        messages: 0,
    };
    let mut failure = None;
    for (i, entry) in case.transcript.iter().enumerate() {
        let mismatches = runner.entry(entry).await;
        if !mismatches.is_empty() {
            failure = Some(Failure {
                entry: i + 1,
                action: entry.describe(),
                mismatches,
            });
            break;
        }
    }
    let traces = std::mem::take(&mut *trace.lock().unwrap_or_else(PoisonError::into_inner));
    Ok((failure, traces))
}

struct Runner<'a> {
    engine: Engine,
    clock: Arc<ManualClock>,
    actions: Arc<MockActions>,
    loaded: &'a Loaded,
    case: &'a TestCase,
    messages: u32,
}

impl Runner<'_> {
    async fn entry(&mut self, entry: &Entry) -> Vec<Mismatch> {
        if entry.actions() != 1 {
            let message = "each entry does exactly one of: contact, wait, advisor, route, return_to_bot, close";
            return vec![Mismatch::new(
                "the entry",
                message,
                format!("{} of them", entry.actions()),
            )];
        }
        if let Some(problem) = self.return_problem(entry) {
            return vec![Mismatch::new(
                "return_to_bot",
                "an entry point of the scenario",
                problem,
            )];
        }
        let before = self.conversation().map_or(0, |c| c.last_seq);
        if let Err(error) = self.perform(entry).await {
            return vec![Mismatch::new("running the entry", "no error", error)];
        }
        if let Err(error) = self.engine.settle(64).await {
            return vec![Mismatch::new(
                "running timers and actions",
                "no error",
                error.to_string(),
            )];
        }
        let calls = self.actions.take_calls();
        let Some(conversation) = self.conversation() else {
            return vec![Mismatch::new(
                "the conversation",
                "started",
                "no conversation yet: begin with `contact:`",
            )];
        };
        self.compare(entry, &conversation, before, &calls)
    }

    /// Why a `return_to_bot: STEP` cannot happen: the step does not exist, or it is not an
    /// entry point. The engine only logs these; a test must fail on them.
    fn return_problem(&self, entry: &Entry) -> Option<String> {
        let step = entry.return_to_bot.as_ref()?.as_str()?;
        let program = &self.loaded.program;
        let entries = program.entry_points().join(", ");
        if !program.has_step(step) {
            let steps = program.step_names();
            let hint = crate::diagnostic::did_you_mean(step, steps.iter().copied())
                .unwrap_or_else(|| format!("its entry points are {entries}"));
            return Some(format!(
                "the scenario `{}` has no step `{step}`; {hint}",
                program.name
            ));
        }
        (!program.is_entry(step)).then(|| {
            format!(
                "`{step}` is not an entry point of the scenario `{}`, so an advisor cannot return there; its entry points are {entries} (declare `entry {step}`)",
                program.name
            )
        })
    }

    async fn perform(&mut self, entry: &Entry) -> Result<(), String> {
        let input = if let Some(text) = &entry.contact {
            self.messages += 1;
            let fields: BTreeMap<String, Value> = if self.messages == 1 {
                let mut fields: BTreeMap<String, Value> = self
                    .case
                    .contact
                    .fields
                    .iter()
                    .filter_map(|(k, v)| from_json(v).map(|v| (k.clone(), v)))
                    .collect();
                if let Some(language) = &self.case.language {
                    let field = language_field(&self.loaded.program, language)?;
                    fields.insert(field, Value::text(language));
                }
                fields
            } else {
                BTreeMap::new()
            };
            let inbound = Inbound {
                account: self.loaded.account.clone(),
                conversation: CONVERSATION.into(),
                message_id: format!("m{}", self.messages),
                contact_id: "contact".into(),
                contact_name: self.case.contact.name.clone(),
                fields,
                text: text.clone(),
            };
            return self
                .engine
                .handle(inbound)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
        } else if let Some(duration) = &entry.wait {
            let seconds = parse_duration_text(duration)
                .ok_or_else(|| format!("`{duration}` is not a duration such as 15m or 1h30m"))?;
            self.clock
                .advance(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX));
            return Ok(());
        } else if let Some(text) = &entry.advisor {
            self.messages += 1;
            Input::Advisor {
                message_id: format!("a{}", self.messages),
                advisor_id: "advisor".into(),
                advisor_name: "Advisor".into(),
                text: text.clone(),
            }
        } else if let Some(team) = &entry.route {
            Input::Team { team: team.clone() }
        } else if let Some(step) = &entry.return_to_bot {
            Input::ReturnToBot {
                step: step.as_str().map(str::to_owned),
            }
        } else {
            Input::Close
        };
        self.engine
            .apply(CONVERSATION, input)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn conversation(&self) -> Option<Conversation> {
        self.engine.conversation(CONVERSATION).ok().flatten()
    }

    fn compare(
        &self,
        entry: &Entry,
        conversation: &Conversation,
        before: u64,
        calls: &[(String, serde_json::Value)],
    ) -> Vec<Mismatch> {
        let mut mismatches = Vec::new();
        if let Some(expected) = &entry.bot {
            let actual = self.bot_messages(conversation, before);
            if *expected != actual {
                mismatches.push(Mismatch {
                    what: "the bot's messages".into(),
                    expected: expected.iter().map(|m| visible(m)).collect(),
                    actual: actual.iter().map(|m| visible(m)).collect(),
                });
            }
        }
        if let Some(status) = &entry.status {
            if status != conversation.status.name() {
                mismatches.push(Mismatch::new(
                    "status",
                    status.clone(),
                    conversation.status.name(),
                ));
            }
        }
        if let Some(team) = &entry.team {
            let actual = conversation
                .team
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::String);
            if *team != actual {
                mismatches.push(Mismatch::new("team", team.to_string(), actual.to_string()));
            }
        }
        let contact = self
            .engine
            .contact(&conversation.account, &conversation.contact)
            .ok()
            .flatten()
            .unwrap_or_default();
        if let Some(fields) = &entry.fields {
            compare_values("contact field", fields, &contact.fields, &mut mismatches);
        }
        if let Some(variables) = &entry.variables {
            compare_values(
                "variable",
                variables,
                &conversation.variables,
                &mut mismatches,
            );
        }
        if let Some(tags) = &entry.tags {
            for tag in tags.iter().filter(|t| !contact.tags.contains(*t)) {
                let have: Vec<&str> = contact.tags.iter().map(String::as_str).collect();
                mismatches.push(Mismatch::new(
                    format!("tag `{tag}`"),
                    "present",
                    format!("the contact's tags are [{}]", have.join(", ")),
                ));
            }
        }
        if let Some(expected) = &entry.calls {
            compare_calls(expected, calls, &mut mismatches);
        }
        mismatches
    }

    /// Bot messages of the turns after `before`, with choices written `Text [A | B]`.
    fn bot_messages(&self, conversation: &Conversation, before: u64) -> Vec<String> {
        let history = self.engine.history(conversation).unwrap_or_default();
        history
            .iter()
            .filter(|turn| turn.seq > before)
            .flat_map(|turn| &turn.messages)
            .filter(|m| m.author == Author::Bot)
            .map(|m| {
                if !m.parts.is_empty() {
                    let parts: Vec<String> = m.parts.iter().map(transcript_form).collect();
                    parts.join(" ")
                } else if m.choices.is_empty() {
                    m.text.clone()
                } else {
                    format!("{} [{}]", m.text, m.choices.join(" | "))
                }
            })
            .collect()
    }
}

/// How a transcript writes a rich message: on one line, each URL after `->`:
/// `link: Track it -> https://…`, `image: Map -> https://…`,
/// `card: Title | Text | image: Alt -> https://… | link: Label -> https://…`.
pub fn transcript_form(part: &Part) -> String {
    let link = |(label, url): &(String, String)| format!("link: {label} -> {url}");
    let image = |(url, alt): &(String, String)| format!("image: {alt} -> {url}");
    match part {
        Part::Link { label, url } => link(&(label.clone(), url.clone())),
        Part::Image { url, alt } => image(&(url.clone(), alt.clone())),
        Part::Card {
            title,
            text,
            image: picture,
            links,
        } => {
            let mut pieces = vec![title.clone()];
            pieces.extend(text.iter().cloned());
            pieces.extend(picture.iter().map(image));
            pieces.extend(links.iter().map(link));
            format!("card: {}", pieces.join(" | "))
        }
    }
}

/// How `chat` shows a rich message: the transcript's notation, a card one piece per line.
pub fn chat_lines(part: &Part) -> Vec<String> {
    match part {
        Part::Card { .. } => transcript_form(part)
            .split(" | ")
            .map(str::to_owned)
            .collect(),
        Part::Link { .. } | Part::Image { .. } => vec![transcript_form(part)],
    }
}

/// The contact field that sets a conversation's language to `language`, or why there is none.
pub fn language_field(program: &Program, language: &str) -> Result<String, String> {
    if program.languages.is_empty() {
        return Err(format!(
            "the scenario `{}` declares no languages, so it cannot run in `{language}`",
            program.name
        ));
    }
    if !program.languages.iter().any(|l| l == language) {
        return Err(format!(
            "the scenario `{}` is not written in `{language}`; its languages are {}",
            program.name,
            program.languages.join(", ")
        ));
    }
    program.language_from.clone().ok_or_else(|| {
        format!(
            "the scenario `{}` has no `language from`: every conversation is in `{}`",
            program.name,
            program.languages.first().map_or("", String::as_str)
        )
    })
}

fn compare_values(
    kind: &str,
    expected: &BTreeMap<String, serde_json::Value>,
    actual: &BTreeMap<String, Value>,
    out: &mut Vec<Mismatch>,
) {
    for (name, value) in expected {
        let want = from_json(value);
        let have = actual.get(name);
        if !fits(want.as_ref(), have) {
            let show = |v: Option<&Value>| v.map_or_else(|| "not set".to_owned(), literal);
            out.push(Mismatch::new(
                format!("{kind} `{name}`"),
                show(want.as_ref()),
                show(have),
            ));
        }
    }
}

/// A value as a scenario writes it: `3`, `4.5`, `"high"` (quoted, so spaces show),
/// `true`, `["a", "b"]`, and a record `{id: 42, status: "open"}`.
pub fn literal(value: &Value) -> String {
    match value {
        Value::Text(text) => serde_json::Value::String(text.clone()).to_string(),
        Value::Number(n) => crate::runtime::value::format_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Record(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A bot message for a diff, one message a line, its whitespace made visible: a line break
/// inside it is `⏎`, a tab `→`, and a space at the end of a line `·` (so `"Hi "` and `"Hi"`,
/// or one message over two lines and two messages, do not look the same).
pub fn visible(message: &str) -> String {
    let lines: Vec<String> = message
        .split('\n')
        .map(|line| {
            let line = line.replace('\t', "→");
            let kept = line.trim_end_matches(' ');
            let trailing = line.len() - kept.len();
            format!("{kept}{}", "·".repeat(trailing))
        })
        .collect();
    lines.join("⏎")
}

/// Whether an actual value matches an expectation: equal, except that an expected record
/// lists only the fields it cares about.
fn fits(expected: Option<&Value>, actual: Option<&Value>) -> bool {
    match (expected, actual) {
        (Some(Value::Record(want)), Some(Value::Record(have))) => {
            want.iter().all(|(k, v)| fits(Some(v), have.get(k)))
        }
        (expected, actual) => expected == actual,
    }
}

fn compare_calls(
    expected: &[CallSpec],
    actual: &[(String, serde_json::Value)],
    out: &mut Vec<Mismatch>,
) {
    let show = |(action, args): &(String, serde_json::Value)| format!("{action} {args}");
    let matches = expected.len() == actual.len()
        && expected.iter().zip(actual).all(|(want, (action, args))| {
            want.action == *action
                && want.args.iter().all(|(k, v)| {
                    fits(
                        from_json(v).as_ref(),
                        args.get(k).and_then(from_json).as_ref(),
                    )
                })
        });
    if !matches {
        out.push(Mismatch {
            what: "the actions called".into(),
            expected: expected
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.action,
                        serde_json::Value::Object(c.args.clone().into_iter().collect())
                    )
                })
                .collect(),
            actual: actual.iter().map(show).collect(),
        });
    }
}

/// `*.test.yaml` files given directly or found under folders.
pub fn test_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if std::fs::metadata(path)?.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".test.yaml"))
        {
            files.push(path);
        }
    }
    Ok(())
}
