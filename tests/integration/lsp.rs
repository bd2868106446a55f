//! `scenarist lsp` driven as an editor drives it: the real binary, JSON-RPC framed with
//! `Content-Length` over its stdin and stdout, every answer read with a deadline (a server
//! that hangs fails the test instead of blocking it).

use crate::lsp_frame::read_frame;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any one answer may take (debug build, loaded machine).
const DEADLINE: Duration = Duration::from_secs(20);

const CONFIG: &str = "version: 1
scenarios: .
contact_fields:
  email: email
  vip:
    type: bool
    description: Key account, set by the nightly CRM import
teams:
  - Orders
  - Support
schedules:
  support:
    time_zone: Europe/Paris
    hours:
      monday: 09:00-18:00
";

const FLOWS: &str = "flow capture(save_to: field, next: step) {
  start ask

  step ask {
    ask \"Email?\" {
      expect email
      save save_to
    }
    goto next
  }
}
";

const MAIN: &str = "scenario shop {
  start welcome
  include capture(save_to: contact.email, next: done) as ask_email

  step welcome {
    say \"Héllo 😀 {contact.first_name}\"
    ask \"Your order?\" {
      save order
      timeout 15m then goto done
    }
    set total = 1
    if contact.vip is set and open support {
      goto ask_email
    }
    say \"Order {order}, {total}\"
    goto done
  }

  step done {
    route team \"Orders\"
    call contact.tag(tag: \"shop\")
    end
  }
}
";

pub(crate) struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications read while waiting for something else.
    pending: Vec<Value>,
    next_id: i64,
}

impl Client {
    /// Starts `scenarist lsp` in `dir` (no config from the environment).
    pub(crate) fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
            .arg("lsp")
            .current_dir(dir)
            .env_remove("SCENARIST_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("scenarist lsp starts");
        let stdin = child.stdin.take().unwrap();
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
        Self {
            child,
            stdin,
            messages,
            pending: Vec::new(),
            next_id: 1,
        }
    }

    pub(crate) fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.send_raw(&serde_json::to_vec(message).unwrap());
    }

    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers write the JSON in place"
    )]
    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and answers the whole response (`result` or `error`).
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers write the JSON in place"
    )]
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m.get("id") == Some(&json!(id)))
    }

    /// The result of a request that must succeed.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next message `wanted` accepts (earlier notifications are kept for later waits).
    pub(crate) fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.pending.push(message),
                Err(RecvTimeoutError::Timeout) => panic!("no answer within {DEADLINE:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the server stopped"),
            }
        }
    }

    /// Forgets every message that comes within a second (what a change of several documents
    /// publishes), so the next wait sees only what follows.
    pub(crate) fn drain(&mut self) {
        while self.messages.recv_timeout(Duration::from_secs(1)).is_ok() {}
        self.pending.clear();
    }

    /// The next diagnostics published for `uri`.
    pub(crate) fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let message = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub(crate) fn initialize(&mut self) -> Value {
        let result = self.call(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub(crate) fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "scenarist", "version": 1, "text": text}}),
        );
    }

    /// Replaces `range` (`[line, character, line, character]`) with `text`.
    pub(crate) fn edit(&mut self, uri: &str, version: i64, range: [u32; 4], text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": range_json(range), "text": text}]
            }),
        );
    }

    /// `shutdown`, `exit`, and the exit code.
    pub(crate) fn stop(mut self) -> Option<i32> {
        assert_eq!(self.call("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn range_json([l1, c1, l2, c2]: [u32; 4]) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion
        .as_array()
        .or_else(|| completion["items"].as_array())
        .unwrap();
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect()
}

/// A folder with the config, the flows and the scenario; the scenario's and flows' URIs.
fn workspace() -> (PathBuf, String, String) {
    let dir = std::fs::canonicalize(crate::support::tempdir()).unwrap();
    std::fs::write(dir.join("scenarist.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join("flows.scn"), FLOWS).unwrap();
    std::fs::write(dir.join("main.scn"), MAIN).unwrap();
    let uri = |name: &str| {
        url::Url::from_file_path(dir.join(name))
            .unwrap()
            .to_string()
    };
    let (main, flows) = (uri("main.scn"), uri("flows.scn"));
    (dir, main, flows)
}

/// The position (line, UTF-16 column) of the first `needle` in `text`, plus `shift` columns.
fn find(text: &str, needle: &str, shift: u32) -> (u32, u32) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count() as u32;
    let column: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    (line, column as u32 + shift)
}

#[test]
fn an_editor_session_gets_diagnostics_completion_navigation_and_edits() {
    let (dir, main, flows) = workspace();
    let mut client = Client::start(&dir);
    let init = client.initialize();
    let capabilities = &init["capabilities"];
    assert_eq!(
        capabilities["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "documentFormattingProvider",
        "documentSymbolProvider",
        "foldingRangeProvider",
        "codeActionProvider",
        "completionProvider",
    ] {
        assert!(
            capabilities.get(provider).is_some_and(|v| !v.is_null()),
            "{provider}"
        );
    }

    // didOpen: the scenario is clean; its context finds two warnings in the included flow,
    // published on the flow's file, as `lint` reports them there.
    client.open(&main, MAIN);
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());
    let in_flows = client.diagnostics(&flows);
    let codes: Vec<&str> = in_flows
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["L202", "L203"]);
    assert_eq!(
        in_flows[0]["range"]["start"],
        json!({"line": 4, "character": 4})
    );
    assert!(
        in_flows[0]["message"]
            .as_str()
            .unwrap()
            .contains("found when scenario `shop` includes it")
    );

    // didChange: a typo in a `goto` is C101 at its span, with the help of `lint`.
    let (line, column) = find(MAIN, "goto done\n  }", 5);
    client.edit(&main, 2, [line, column, line, column + 4], "dnoe");
    let found = client.diagnostics(&main);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "C101");
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(
        found[0]["range"],
        range_json([line, column, line, column + 4])
    );
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("help: did you mean `done`?"),
        "{}",
        found[0]
    );

    // Hover over the finding explains its code; the quick fix puts the suggestion in place.
    let hover = client.call("textDocument/hover", at(&main, line, column + 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("**C101** `unknown-step`"), "{text}");
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": main}, "range": range_json([line, column, line, column]), "context": {"diagnostics": []}}),
    );
    assert_eq!(actions[0]["title"], "Replace with `done`");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edit = &actions[0]["edit"]["changes"][&main][0];
    assert_eq!(edit["range"], range_json([line, column, line, column + 4]));
    assert_eq!(edit["newText"], "done");
    client.edit(&main, 3, [line, column, line, column + 4], "done");
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());

    // Completion, context by context.
    let (l, c) = find(MAIN, "goto done\n  }", 5);
    let steps = labels(&client.call("textDocument/completion", at(&main, l, c)));
    for step in ["welcome", "done", "ask_email"] {
        assert!(steps.contains(&step.to_owned()), "{steps:?}");
    }
    let (l, c) = find(MAIN, "contact.vip", 8);
    let fields = client.call("textDocument/completion", at(&main, l, c + 3));
    assert!(
        labels(&fields).contains(&"vip".to_owned())
            && labels(&fields).contains(&"first_name".to_owned())
    );
    let vip = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "vip")
        .unwrap();
    assert_eq!(vip["detail"], "bool");
    assert_eq!(vip["textEdit"]["range"], range_json([l, c, l, c + 3]));
    let (l, c) = find(MAIN, "Orders\"", 0);
    assert_eq!(
        labels(&client.call("textDocument/completion", at(&main, l, c))),
        ["Orders", "Support"]
    );
    let (l, c) = find(MAIN, "open support", 5);
    assert_eq!(
        labels(&client.call("textDocument/completion", at(&main, l, c))),
        ["support"]
    );
    let (l, c) = find(MAIN, "1\n", 0);
    let values = client.call("textDocument/completion", at(&main, l, c));
    let detail = |label: &str| {
        let items = values.as_array().unwrap();
        let item = items.iter().find(|i| i["label"] == label).unwrap();
        (
            item["detail"].as_str().unwrap().to_owned(),
            item["sortText"].as_str().unwrap().to_owned(),
        )
    };
    // `order` is saved by the question before: set on every path; `total` is being set.
    assert_eq!(
        detail("order"),
        (
            "variable, set on every path here".to_owned(),
            "0order".to_owned()
        )
    );
    assert_eq!(
        detail("total"),
        ("variable".to_owned(), "1total".to_owned())
    );
    let values = labels(&values);
    assert!(
        values.contains(&"contact".to_owned()) && values.contains(&"lower".to_owned()),
        "{values:?}"
    );

    // Inside a message's words nothing is offered; inside its placeholder, values are.
    let (l, c) = find(MAIN, "Order {order}", 3);
    let words = client.call("textDocument/completion", at(&main, l, c));
    assert_eq!(words, json!([]));
    let (l, c) = find(MAIN, "{order}", 2);
    let values = labels(&client.call("textDocument/completion", at(&main, l, c)));
    assert!(values.contains(&"order".to_owned()), "{values:?}");

    // `call ` and `include ` need a line of their own: typed at the end of step `done`.
    let (l, _) = find(MAIN, "    end\n  }\n}", 0);
    client.edit(&main, 4, [l, 0, l, 0], "    call \n");
    let _ = client.diagnostics(&main);
    let actions = client.call("textDocument/completion", at(&main, l, 9));
    let create = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "zendesk.create_ticket")
        .unwrap();
    assert_eq!(create["insertTextFormat"], 2, "a snippet");
    let snippet = create["textEdit"]["newText"].as_str().unwrap();
    assert_eq!(
        snippet,
        "zendesk.create_ticket(requester: $1, subject: $2) as ${3:result} { on error goto $4 }"
    );
    client.edit(&main, 5, [l, 4, l, 8], "include");
    let _ = client.diagnostics(&main);
    let includes = client.call("textDocument/completion", at(&main, l, 12));
    assert_eq!(labels(&includes), ["capture"]);
    assert_eq!(
        includes[0]["textEdit"]["newText"],
        "capture(save_to: $1, next: $2) as ${3:capture}"
    );
    client.edit(&main, 6, [l, 0, l + 1, 0], "");
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());

    // Hover: a field's type and description, an action's signature, a step's first line.
    let (l, c) = find(MAIN, "vip is set", 1);
    let hover = client.call("textDocument/hover", at(&main, l, c));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("contact.vip: bool") && text.contains("Key account"),
        "{text}"
    );
    let (l, c) = find(MAIN, "goto done", 6);
    let hover = client.call("textDocument/hover", at(&main, l, c));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("step done {") && text.contains("route team \"Orders\""),
        "{text}"
    );

    let (l, c) = find(MAIN, "contact.tag", 3);
    let hover = client.call("textDocument/hover", at(&main, l, c));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("call contact.tag(tag: text)")
            && text.contains("Adds a tag to the contact's record.")
            && text.contains("- `tag`: the tag to add"),
        "{text}"
    );

    // Definition: a contact field leads to its line in the config.
    let (l, c) = find(MAIN, "vip is set", 1);
    let definition = client.call("textDocument/definition", at(&main, l, c));
    let config = url::Url::from_file_path(dir.join("scenarist.yaml"))
        .unwrap()
        .to_string();
    assert_eq!(definition["uri"], config);
    assert_eq!(definition["range"], range_json([4, 2, 4, 5]));

    // Definition: a step, an include's name (the flow's start, in its file), a variable.
    let (decl_line, decl_col) = find(MAIN, "done {", 0);
    let (l, c) = find(MAIN, "goto done", 6);
    let definition = client.call("textDocument/definition", at(&main, l, c));
    assert_eq!(definition["uri"], main);
    assert_eq!(
        definition["range"],
        range_json([decl_line, decl_col, decl_line, decl_col + 4])
    );
    let (l, c) = find(MAIN, "goto ask_email", 6);
    let definition = client.call("textDocument/definition", at(&main, l, c));
    assert_eq!(definition["uri"], flows);
    assert_eq!(definition["range"], range_json([3, 7, 3, 10]));
    let (l, c) = find(MAIN, "{total}", 2);
    let definition = client.call("textDocument/definition", at(&main, l, c));
    let (tl, tc) = find(MAIN, "total = 1", 0);
    assert_eq!(definition["range"], range_json([tl, tc, tl, tc + 5]));

    // References and rename of step `done`: the include's argument, the timeout, the goto.
    let references = client.call(
        "textDocument/references",
        json!({"textDocument": {"uri": main}, "position": {"line": decl_line, "character": decl_col + 1}, "context": {"includeDeclaration": true}}),
    );
    let lines: Vec<u64> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [u64::from(decl_line), 2, 8, 15]);
    let rename = client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": main}, "position": {"line": decl_line, "character": decl_col}, "newName": "finish"}),
    );
    let edits = rename["changes"][&main].as_array().unwrap();
    assert_eq!(edits.len(), 4);
    assert!(edits.iter().all(|e| e["newText"] == "finish"));
    let bad = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": main}, "position": {"line": decl_line, "character": decl_col}, "newName": "welcome"}),
    );
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    // An include's alias: its declaration and the `goto` to it.
    let (l, c) = find(MAIN, "goto ask_email", 6);
    let rename = client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": main}, "position": {"line": l, "character": c}, "newName": "email"}),
    );
    let edits = rename["changes"][&main].as_array().unwrap();
    let lines: Vec<u64> = edits
        .iter()
        .map(|e| e["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, u64::from(l)]);

    // Symbols and folding.
    let symbols = client.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": main}}),
    );
    assert_eq!(symbols[0]["name"], "shop");
    let children: Vec<&str> = symbols[0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["ask_email", "welcome", "done"]);
    let folds = client.call(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": main}}),
    );
    let folds: Vec<(u64, u64)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        folds.contains(&(0, 23))
            && folds.contains(&(4, 16))
            && folds.contains(&(6, 9))
            && folds.contains(&(18, 22)),
        "{folds:?}"
    );

    // An unsaved edit to the flow file: the scenario is checked again with it, and the
    // warnings its context caused in the flow go when the flow has a timeout and attempts.
    client.open(&flows, FLOWS);
    client.drain();
    let (l, c) = find(FLOWS, "save save_to", 18);
    client.edit(
        &flows,
        2,
        [l, c, l, c],
        "\n      attempts 3 then goto next\n      timeout 15m then goto next",
    );
    // The flow file is checked (its findings published with those the scenario caused
    // before), then the scenario with the flow's new text, and the flow's findings are
    // published again, without the scenario's warnings.
    assert_eq!(client.diagnostics(&flows).len(), 2);
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());
    assert_eq!(client.diagnostics(&flows), Vec::<Value>::new());

    // Formatting: the formatter's text as one edit.
    client.edit(&main, 7, [1, 0, 1, 2], "      ");
    let _ = client.diagnostics(&main);
    let edits = client.call(
        "textDocument/formatting",
        json!({"textDocument": {"uri": main}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits[0]["newText"], MAIN);

    assert_eq!(client.stop(), Some(0));
}

#[test]
fn bad_input_is_answered_and_the_server_goes_on() {
    let (dir, main, _) = workspace();
    // A file that is not UTF-8 beside the scenario: the flows are read without it.
    std::fs::write(dir.join("broken.scn"), b"flow x() {\xff\xfe}").unwrap();
    let mut client = Client::start(&dir);
    let early = client.request("textDocument/hover", at(&main, 0, 0));
    assert_eq!(early["error"]["code"], -32002, "not initialized yet");
    client.initialize();
    client.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": ");
    let parse_error = client.wait(|m| m.get("error").is_some());
    assert_eq!(parse_error["error"]["code"], -32700);
    assert_eq!(parse_error["id"], Value::Null);
    let unknown = client.request("scenarist/unknown", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let invalid = client.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(invalid["error"]["code"], -32602);
    client.open(&main, MAIN);
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());
    // Positions past the end of lines and of the text, and inside a surrogate pair.
    client.edit(&main, 2, [900, 0, 901, 5], "# tail\n");
    let _ = client.diagnostics(&main);
    let (l, c) = find(MAIN, "😀", 1);
    client.edit(&main, 3, [l, c, l, c], "é");
    let _ = client.diagnostics(&main);
    for (line, character) in [(0, 999), (999, 0), (l, c)] {
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
        ] {
            let answer = client.request(method, at(&main, line, character));
            assert!(answer.get("error").is_none(), "{method} {answer}");
        }
    }
    // An unknown document is not an error: there is nothing to say about it.
    assert_eq!(
        client.call("textDocument/hover", at("file:///nowhere.scn", 0, 0)),
        Value::Null
    );
    assert_eq!(client.stop(), Some(0));
}

/// Snippets of scenario text typed anywhere, multibyte characters included.
const SNIPPETS: &[&str] = &[
    "goto ",
    "step x {\n",
    "}",
    "{",
    "\"",
    "say \"ça 😀\"\n",
    "é",
    "😀",
    "\n",
    "  ",
    "if ",
    "contact.",
    "call ",
    "ask \"?\" {\n expect email\n}\n",
    "# note\n",
    "\"\"\"",
    "set a = 1 + ",
    "->",
    "include capture(",
    "/re/",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn random_edits_never_crash_or_hang_the_server() {
    let (dir, main, _) = workspace();
    let mut client = Client::start(&dir);
    client.initialize();
    client.open(&main, MAIN);
    let _ = client.diagnostics(&main);
    // The client's copy of the text as UTF-16 lines, to pick positions as an editor would.
    let mut text = MAIN.to_owned();
    let mut rng = Rng(0x0005_eed0_1ce5_2026);
    for version in 2..302 {
        let lines: Vec<&str> = text.split('\n').collect();
        let line = rng.below(lines.len());
        let units = lines[line].encode_utf16().count();
        // Any column, a surrogate's middle and one past the end included.
        let column = rng.below(units + 2);
        let (end_line, end_column) = if rng.below(3) == 0 {
            let end_line = (line + rng.below(2)).min(lines.len() - 1);
            (
                end_line,
                rng.below(lines[end_line].encode_utf16().count() + 1),
            )
        } else {
            (line, column)
        };
        let inserted = if rng.below(4) == 0 {
            ""
        } else {
            SNIPPETS[rng.below(SNIPPETS.len())]
        };
        let range = [
            line as u32,
            column as u32,
            end_line as u32,
            end_column as u32,
        ];
        client.edit(&main, version, range, inserted);
        text = apply(&text, range, inserted);
        let _ = client.diagnostics(&main);
        if version % 10 == 0 {
            let method = [
                "textDocument/completion",
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/formatting",
            ][rng.below(4)];
            let mut params = at(&main, line as u32, column as u32);
            params["options"] = json!({"tabSize": 2, "insertSpaces": true});
            let answer = client.request(method, params);
            assert!(answer.get("error").is_none(), "{method}: {answer}");
        }
    }
    // The server's text is the client's: formatting it (when it parses) starts from the same.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": main}}),
    );
    assert!(symbols.get("result").is_some());
    assert_eq!(client.stop(), Some(0));
}

/// The text after replacing `range` as the server does (columns clamped to the line, a
/// column between a surrogate pair moved back to the character's start).
fn apply(text: &str, [l1, c1, l2, c2]: [u32; 4], inserted: &str) -> String {
    let offset = |line: u32, column: u32| -> usize {
        let mut start = 0;
        for (i, l) in text.split('\n').enumerate() {
            if i == line as usize {
                let mut units = 0;
                for (byte, ch) in l.char_indices() {
                    if units + ch.len_utf16() > column as usize {
                        return start + byte;
                    }
                    units += ch.len_utf16();
                }
                return start + l.len();
            }
            start += l.len() + 1;
        }
        text.len()
    };
    let (a, b) = (offset(l1, c1), offset(l2, c2));
    let (a, b) = (a.min(b), a.max(b));
    format!("{}{}{}", &text[..a], inserted, &text[b..])
}

#[test]
fn a_burst_of_edits_is_checked_once_at_its_end() {
    let (dir, main, _) = workspace();
    let mut client = Client::start(&dir);
    client.initialize();
    client.open(&main, MAIN);
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());
    // Keystrokes written at once, typing `goto nowhere` into step `done`, a letter each.
    let (l, _) = find(MAIN, "    end\n  }\n}", 0);
    let typed = "goto nowhere";
    let mut burst = Vec::new();
    let mut frame = |version: usize, range: [u32; 4], text: &str| {
        let body = serde_json::to_vec(&json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": main, "version": version},
                "contentChanges": [{"range": range_json(range), "text": text}]
            }
        }))
        .unwrap();
        burst.extend(format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes());
        burst.extend(body);
    };
    frame(2, [l, 0, l, 0], "    \n");
    for (i, letter) in typed.chars().enumerate() {
        let column = 4 + i as u32;
        frame(3 + i, [l, column, l, column], &letter.to_string());
    }
    client.stdin.write_all(&burst).unwrap();
    client.stdin.flush().unwrap();
    // Publishes come until the one of the whole burst's text.
    let mut publishes = 0;
    let last = loop {
        let found = client.diagnostics(&main);
        publishes += 1;
        let done = found
            .iter()
            .any(|d| d["code"] == "C101" && d["message"].as_str().unwrap().contains("nowhere"));
        if done {
            break found;
        }
        assert!(publishes <= typed.len() + 1, "no check of the last text");
    };
    assert_eq!(last[0]["range"], range_json([l, 9, l, 16]));
    // The loop takes every message already waiting before it checks: a handful of checks,
    // not one per keystroke.
    assert!(
        publishes <= typed.len() / 2,
        "{publishes} checks for {} edits",
        typed.len() + 1
    );
    assert_eq!(client.stop(), Some(0));
}
