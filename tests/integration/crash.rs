//! The crash test (reliability.md §6 A1, scaled to CI): `scenarist pipe` runs many
//! conversations on a sled directory and is killed with SIGKILL at random points, again and
//! again — some kills land during start-up and recovery. The test plays the channel: it
//! sends each conversation's messages one after the other and redelivers any message whose
//! answer it did not get before the kill. At the end it opens the store and checks, against
//! an oracle it computes itself, that:
//! - every acknowledged message is in its conversation's history exactly once, in order;
//! - every answer came from the right step (no step skipped or run twice);
//! - each conversation's outbox effect was resolved exactly once and nothing is pending.
//!
//! `SCENARIST_CRASH_KILLS` sets the number of kills (default 40); the figures are printed.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use scenarist::runtime::state::{Author, Status};
use scenarist::store::{KvStore, SledBackend, Store};

use crate::support::tempdir;

const CONVERSATIONS: usize = 50;

/// The scenario: `answers` questions in a row, then an outbox effect, then the end.
fn scenario(answers: usize) -> String {
    let mut text = String::from("scenario crashy {\n  start q0\n");
    for i in 0..answers {
        let next = if i + 1 == answers {
            "sync".to_owned()
        } else {
            format!("q{}", i + 1)
        };
        let _ = write!(
            text,
            "\n  step q{i} {{\n    ask \"Q{i}\" {{\n      save a\n      timeout 1h then end\n    }}\n    say \"Got {{a}}\"\n    goto {next}\n  }}\n"
        );
    }
    text.push_str(
        "\n  step sync {\n    call zendesk.find_or_create_user(email: contact.email) { on error goto done }\n    goto done\n  }\n\n  step done {\n    say \"Done\"\n    end\n  }\n}\n",
    );
    text
}

/// The channel's view of one conversation.
#[derive(Default)]
pub(crate) struct Channel {
    pub(crate) next: usize,
    pub(crate) in_flight: Option<String>,
    pub(crate) acked: Vec<String>,
}

pub(crate) fn message_id(conversation: usize, index: usize) -> String {
    format!("c{conversation}-m{index}")
}

fn text(conversation: usize, index: usize) -> String {
    if index == 0 {
        "hello".to_owned()
    } else {
        format!("w{conversation}-{index}")
    }
}

/// A small deterministic generator (xorshift), so a failing run can be replayed by seed.
pub(crate) struct Random(pub(crate) u64);

impl Random {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) acks: Receiver<(String, bool)>,
    /// Where its stderr goes (unless `SCENARIST_TEST_STDERR` shows it): read when it stops early.
    stderr: Option<std::path::PathBuf>,
    /// Why reading its answers stopped, if not at the end of its output.
    read_error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Worker {
    /// The next answer of a run that must go on: a worker that stopped answering fails the
    /// test with its own last words.
    pub(crate) fn next_answer(&mut self) -> (String, bool) {
        match self.acks.recv_timeout(Duration::from_secs(30)) {
            Ok(answer) => answer,
            Err(error) => {
                // Give an exiting pipe a moment, so that its status and stderr are complete.
                std::thread::sleep(Duration::from_millis(200));
                let said = self
                    .stderr
                    .as_ref()
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .unwrap_or_default();
                let lines: Vec<&str> = said.lines().collect();
                let tail = &lines[lines.len().saturating_sub(20)..];
                panic!(
                    "answers keep coming ({error}); the pipe: {:?}; reading its answers: {:?}; its stderr ends with:\n{}",
                    self.child.try_wait(),
                    self.read_error.lock().map(|e| e.clone()),
                    tail.join("\n")
                )
            }
        }
    }
}

fn spawn(data: &std::path::Path, scenario: &std::path::Path, drain: &str) -> Worker {
    let args: Vec<std::ffi::OsString> = vec![
        "--drain".into(),
        drain.into(),
        "--scenario".into(),
        "crashy".into(),
        "--flush".into(),
        "group-commit".into(),
        "--data".into(),
        data.into(),
        scenario.into(),
    ];
    spawn_pipe(&args)
}

/// `scenarist pipe ARGS…` with its answers read on a thread: (message id, answered without error).
pub(crate) fn spawn_pipe(args: &[std::ffi::OsString]) -> Worker {
    let (stderr, log) = if std::env::var_os("SCENARIST_TEST_STDERR").is_some() {
        (Stdio::inherit(), None)
    } else {
        let path = crate::support::tempdir().join("pipe.stderr");
        let file = std::fs::File::create(&path).expect("the pipe's stderr file");
        (Stdio::from(file), Some(path))
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .arg("pipe")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("scenarist pipe starts");
    let stdout = child.stdout.take().unwrap();
    let (send, acks) = mpsc::channel();
    let read_error = std::sync::Arc::new(std::sync::Mutex::new(None));
    let failed = read_error.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = match line {
                Ok(line) => line,
                Err(error) => {
                    if let Ok(mut slot) = failed.lock() {
                        *slot = Some(error.to_string());
                    }
                    return;
                }
            };
            // A line cut by the kill is not an answer.
            let Ok(answer) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(id) = answer["message_id"].as_str() {
                let ok = answer.get("error").is_none();
                if send.send((id.to_owned(), ok)).is_err() {
                    return;
                }
            }
        }
    });
    let stdin = child.stdin.take();
    Worker {
        child,
        stdin,
        acks,
        stderr: log,
        read_error,
    }
}

/// One inbound message line: conversation `c{conversation}`, message `index`.
pub(crate) type Line<'a> = &'a dyn Fn(usize, usize) -> String;

fn crashy_line(conversation: usize, index: usize) -> String {
    serde_json::json!({
        "account": "crash:test",
        "conversation": format!("c{conversation}"),
        "message_id": message_id(conversation, index),
        "contact": { "id": format!("u{conversation}"), "name": "Ada" },
        "text": text(conversation, index),
    })
    .to_string()
}

fn send(stdin: &mut ChildStdin, line: &str) -> bool {
    stdin
        .write_all(format!("{line}\n").as_bytes())
        .and_then(|()| stdin.flush())
        .is_ok()
}

/// Sends what each conversation needs next (or again, after a restart).
pub(crate) fn feed(
    worker: &mut Worker,
    channels: &mut [Channel],
    answers: usize,
    resend: bool,
    line: Line<'_>,
) {
    let Some(stdin) = worker.stdin.as_mut() else {
        return;
    };
    for (c, channel) in channels.iter_mut().enumerate() {
        if channel.next > answers {
            continue;
        }
        if channel.in_flight.is_none() || resend {
            channel.in_flight = Some(message_id(c, channel.next));
            if !send(stdin, &line(c, channel.next)) {
                return;
            }
        }
    }
}

pub(crate) fn on_ack(
    channels: &mut [Channel],
    id: &str,
    ok: bool,
    errors: &mut Vec<String>,
) -> Option<usize> {
    if !ok {
        errors.push(id.to_owned());
        return None;
    }
    let c: usize = id.strip_prefix('c')?.split('-').next()?.parse().ok()?;
    let channel = channels.get_mut(c)?;
    if channel.in_flight.as_deref() != Some(id) {
        return None; // the answer to a redelivery we already counted
    }
    channel.acked.push(id.to_owned());
    channel.in_flight = None;
    channel.next += 1;
    Some(c)
}

#[test]
fn kill_nine_at_random_points_loses_and_duplicates_nothing() {
    let kills: usize = std::env::var("SCENARIST_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("SCENARIST_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CAFE);
    let mut random = Random(seed);
    // Enough work that the kills land all along it (about 25 messages per kill).
    let answers = 20 + kills / 2;
    let dir = tempdir();
    let data = dir.join("data");
    let scenario_path = dir.join("crashy.scn");
    std::fs::write(&scenario_path, scenario(answers)).unwrap();

    let mut channels: Vec<Channel> = (0..CONVERSATIONS).map(|_| Channel::default()).collect();
    let mut errors = Vec::new();
    let (mut killed, mut during_startup) = (0, 0);
    let started = Instant::now();
    while killed < kills && channels.iter().any(|c| c.next <= answers) {
        let mut worker = spawn(&data, &scenario_path, "0");
        let early = random.below(10) == 0;
        let lifetime = Duration::from_millis(if early {
            random.below(10)
        } else {
            10 + random.below(90)
        });
        let deadline = Instant::now() + lifetime;
        feed(&mut worker, &mut channels, answers, true, &crashy_line);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match worker.acks.recv_timeout(left) {
                Ok((id, ok)) => {
                    if on_ack(&mut channels, &id, ok, &mut errors).is_some() {
                        feed(&mut worker, &mut channels, answers, false, &crashy_line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {
                    break;
                }
            }
        }
        worker.child.kill().unwrap(); // SIGKILL
        worker.child.wait().unwrap();
        // Answers written before the kill still count: the channel got them.
        while let Ok((id, ok)) = worker.acks.recv_timeout(Duration::from_millis(50)) {
            on_ack(&mut channels, &id, ok, &mut errors);
        }
        killed += 1;
        if early {
            during_startup += 1;
        }
    }

    // A last, undisturbed run delivers the rest and lets every outbox effect finish: an
    // effect whose attempts were cut by kills waits out its backoff (seconds to minutes).
    let mut worker = spawn(&data, &scenario_path, "600");
    feed(&mut worker, &mut channels, answers, true, &crashy_line);
    while channels.iter().any(|c| c.next <= answers) {
        let (id, ok) = worker.next_answer();
        if on_ack(&mut channels, &id, ok, &mut errors).is_some() {
            feed(&mut worker, &mut channels, answers, false, &crashy_line);
        }
    }
    drop(worker.stdin.take());
    assert!(worker.child.wait().unwrap().success());
    assert!(
        errors.is_empty(),
        "the worker answered with errors: {errors:?}"
    );

    let store = KvStore::new(SledBackend::open(&data).unwrap());
    let (mut lost, mut duplicated, mut wrong_step, mut effects, mut effect_problems) =
        (0, 0, 0, 0, 0);
    let mut misordered = 0;
    let mut acknowledged = 0;
    for (c, channel) in channels.iter().enumerate() {
        acknowledged += channel.acked.len();
        let conversation = store
            .conversation(&format!("c{c}"))
            .unwrap()
            .expect("the conversation exists");
        let history = store
            .history(&conversation.id, conversation.last_seq)
            .unwrap();
        let applied: Vec<&str> = history
            .iter()
            .filter_map(|t| t.message_id.as_deref())
            .collect();
        for id in &channel.acked {
            match applied.iter().filter(|a| **a == id).count() {
                0 => lost += 1,
                1 => {}
                _ => duplicated += 1,
            }
        }
        let expected: Vec<String> = (0..=answers).map(|i| message_id(c, i)).collect();
        if applied != expected {
            misordered += 1;
        }
        // The oracle: message i is answered by "Got <its text>" then the next question.
        for (i, turn) in history
            .iter()
            .filter(|t| t.message_id.is_some())
            .enumerate()
        {
            let replies: Vec<&str> = turn.replies().map(|m| m.text.as_str()).collect();
            let want: Vec<String> = match i {
                0 => vec!["Q0".into()],
                i if i < answers => vec![format!("Got {}", text(c, i)), format!("Q{i}")],
                _ => vec![format!("Got {}", text(c, i))],
            };
            if replies != want {
                wrong_step += 1;
            }
        }
        let notes = history
            .iter()
            .flat_map(|t| &t.messages)
            .filter(|m| m.author == Author::System && m.text.contains("find_or_create_user failed"))
            .count();
        let done = history
            .iter()
            .flat_map(scenarist::runtime::state::Turn::replies)
            .filter(|m| m.text == "Done")
            .count();
        effects += 1;
        if notes != 1
            || done != 1
            || !conversation.pending.is_empty()
            || conversation.status != Status::Ended
        {
            effect_problems += 1;
        }
    }
    println!(
        "crash test: {killed} kills ({during_startup} during start-up) in {:.1} s, {acknowledged} messages acknowledged: \
         {lost} lost, {duplicated} duplicated, {misordered} conversations out of order, {wrong_step} answered from a wrong step; \
         {effects} outbox effects: {effect_problems} lost or doubled (seed {seed})",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(acknowledged, CONVERSATIONS * (answers + 1));
    assert_eq!(
        (lost, duplicated, misordered, wrong_step, effect_problems),
        (0, 0, 0, 0, 0)
    );
    assert!(killed >= kills.min(10), "only {killed} kills happened");
}
