//! The language server's responsiveness on a 10,000-line scenario: the time from a
//! `didChange` to its `publishDiagnostics`, and to a completion's answer, over 1,000 edits,
//! then the server's resident memory. Drives the release binary over stdio, as an editor does.
//! Run: `cargo bench --bench lsp` (figures in docs/editors.md).
#![expect(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark reports, and stops on a broken setup"
)]

use std::io::{BufReader, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const EDITS: usize = 1000;

#[path = "../tests/integration/lsp_frame.rs"]
mod lsp_frame;
use lsp_frame::read_frame;

#[path = "support/generated.rs"]
mod generated;
use generated::generate;

struct Server {
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: &Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: &Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn wait(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(60))
                .expect("the server answers");
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics(&self) -> Vec<Value> {
        let message = self.wait(|m| m["method"] == "textDocument/publishDiagnostics");
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

fn change(uri: &str, version: usize, line: usize, from: usize, to: usize, text: &str) -> Value {
    json!({
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{
            "range": {"start": {"line": line, "character": from}, "end": {"line": line, "character": to}},
            "text": text
        }]
    })
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |percent: usize| times[(times.len() - 1) * percent / 100];
    println!(
        "{name}: median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} samples)",
        at(50).as_secs_f64() * 1e3,
        at(95).as_secs_f64() * 1e3,
        at(100).as_secs_f64() * 1e3,
        times.len()
    );
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` passes nothing and
    // should not spend a minute here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("scenarist-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = generate(322);
    let path = dir.join("generated.scn");
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());
    let lines: Vec<&str> = text.lines().collect();
    println!("scenario: {} lines, {} bytes", lines.len(), text.len());

    let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .arg("lsp")
        .current_dir(&dir)
        .env_remove("SCENARIST_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("scenarist lsp starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, messages) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        while let Some(message) = read_frame(&mut reader) {
            if sender.send(message).is_err() {
                return;
            }
        }
    });
    let mut server = Server {
        stdin: child.stdin.take().unwrap(),
        messages,
        next_id: 1,
    };
    let id = server.request(
        "initialize",
        &json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    server.wait(|m| m["id"] == id);
    server.notify("initialized", &json!({}));
    let started = Instant::now();
    server.notify(
        "textDocument/didOpen",
        &json!({"textDocument": {"uri": uri, "languageId": "scenarist", "version": 1, "text": text}}),
    );
    let found = server.diagnostics();
    assert!(
        found.is_empty(),
        "the generated scenario is not clean: {} findings, first {}",
        found.len(),
        found[0]
    );
    println!(
        "didOpen → publishDiagnostics (a full parse and check): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let rss_open = rss_kib(child.id()).unwrap_or(0);
    // Typing in the middle of the file: a character into a text, then out again.
    let say = lines
        .iter()
        .enumerate()
        .skip(lines.len() / 2)
        .find(|(_, l)| l.contains("this is step"))
        .map(|(i, _)| i)
        .unwrap();
    let column = lines[say].find("this is").unwrap();
    let goto = lines
        .iter()
        .enumerate()
        .skip(say)
        .find(|(_, l)| l.trim_start().starts_with("goto step_"))
        .map(|(i, _)| i)
        .unwrap();
    let goto_column = lines[goto].find("goto ").unwrap() + 5;
    let mut to_diagnostics = Vec::new();
    let mut to_completion = Vec::new();
    let mut offered = 0;
    for edit in 0..EDITS {
        let params = if edit % 2 == 0 {
            change(&uri, edit + 2, say, column, column, "x")
        } else {
            change(&uri, edit + 2, say, column, column + 1, "")
        };
        let sent = Instant::now();
        server.notify("textDocument/didChange", &params);
        let found = server.diagnostics();
        to_diagnostics.push(sent.elapsed());
        assert!(found.is_empty(), "{} findings", found.len());
        if edit % 10 == 0 {
            let sent = Instant::now();
            let id = server.request(
                "textDocument/completion",
                &json!({"textDocument": {"uri": uri}, "position": {"line": goto, "character": goto_column}}),
            );
            let answer = server.wait(|m| m["id"] == id);
            to_completion.push(sent.elapsed());
            offered = answer["result"].as_array().map_or(0, Vec::len);
            assert!(offered > 600, "{offered} steps offered");
        }
    }
    summary(
        "didChange → publishDiagnostics (edit inside a step)",
        to_diagnostics,
    );
    summary(
        &format!("completion after `goto ` ({offered} steps offered)"),
        to_completion,
    );

    // Values in an expression: every variable, those set on every path here first (the
    // checker's flow analysis of the whole scenario, run for the cursor's place).
    let set_line = lines
        .iter()
        .enumerate()
        .skip(say)
        .find(|(_, l)| l.trim_start().starts_with("set total_"))
        .map(|(i, _)| i)
        .unwrap();
    let set_column = lines[set_line].find("= ").unwrap() + 2;
    let mut to_values = Vec::new();
    let mut values = 0;
    for _ in 0..20 {
        let sent = Instant::now();
        let id = server.request(
            "textDocument/completion",
            &json!({"textDocument": {"uri": uri}, "position": {"line": set_line, "character": set_column}}),
        );
        let answer = server.wait(|m| m["id"] == id);
        to_values.push(sent.elapsed());
        values = answer["result"].as_array().map_or(0, Vec::len);
    }
    summary(
        &format!("completion of a value ({values} variables, functions and roots offered)"),
        to_values,
    );
    println!(
        "server RSS: {} MiB after didOpen, {} MiB after {EDITS} edits",
        rss_open / 1024,
        rss_kib(child.id()).unwrap_or(0) / 1024
    );

    // A comment typed between two steps: the text between them is parsed again alone.
    let blank = lines
        .iter()
        .enumerate()
        .skip(say)
        .find(|(_, l)| l.is_empty())
        .map(|(i, _)| i)
        .unwrap();
    let mut between = Vec::new();
    let mut broken = Vec::new();
    let mut fixed = Vec::new();
    for edit in 0..40 {
        let version = EDITS + 10 + edit;
        let params = match edit % 4 {
            0 => change(&uri, version, blank, 0, 0, "#"),
            1 => change(&uri, version, blank, 0, 1, ""),
            // A `{` left open in a step: nothing parses alone, the whole file is parsed.
            2 => change(&uri, version, say, column, column, "\" {"),
            _ => change(&uri, version, say, column, column + 3, ""),
        };
        let sent = Instant::now();
        server.notify("textDocument/didChange", &params);
        let found = server.diagnostics();
        let took = sent.elapsed();
        match edit % 4 {
            2 => {
                assert!(!found.is_empty(), "the open brace is reported");
                broken.push(took);
            }
            3 => {
                assert!(found.is_empty(), "{} findings", found.len());
                fixed.push(took);
            }
            _ => between.push(took),
        }
    }
    summary(
        "didChange → publishDiagnostics (a comment typed between two steps)",
        between,
    );
    summary(
        "didChange → publishDiagnostics (a syntax error: the whole file parsed)",
        broken,
    );
    summary("didChange → publishDiagnostics (the error undone)", fixed);

    // The scenario's own name changed: nothing smaller than the file to parse again.
    let mut header = Vec::new();
    for edit in 0..10 {
        let version = EDITS + 100 + edit;
        let params = if edit % 2 == 0 {
            change(&uri, version, 0, 18, 18, "x")
        } else {
            change(&uri, version, 0, 18, 19, "")
        };
        let sent = Instant::now();
        server.notify("textDocument/didChange", &params);
        let found = server.diagnostics();
        header.push(sent.elapsed());
        assert!(found.is_empty(), "{} findings", found.len());
    }
    summary(
        "didChange → publishDiagnostics (the scenario's name: the whole file parsed)",
        header,
    );

    let id = server.request("shutdown", &Value::Null);
    server.wait(|m| m["id"] == id);
    server.notify("exit", &Value::Null);
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
