//! The studio in a real browser: Debian's Chromium, headless, driven by chromedriver over
//! the W3C `WebDriver` protocol (plain HTTP and JSON, so the few commands used are spoken here
//! with reqwest rather than with a client crate). It opens the studio, types a typo into the
//! editor and sees the diagnostic underlined and listed with its help, fixes it, chats
//! through the mode-B flow to the Zendesk sandbox ticket (the graph lighting up the current
//! step), saves the conversation as a test, and `scenarist test` passes it.
//!
//! Chromium and chromedriver must be installed (`scripts/test` installs them: `apt-get
//! install chromium chromium-driver`); without them this test fails, it never skips. With
//! `STUDIO_SCREENSHOTS=DIR` it also writes the README's screenshots there
//! (`scripts/studio-screenshots`).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::studio::{Studio, workspace};
use crate::support::tempdir;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the browser test needs {} on the PATH: `apt-get install chromium chromium-driver` (scripts/test installs them)",
        names.join(" or ")
    );
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(log: &Path) -> Self {
        let program = find_program(&["chromedriver"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            if line.unwrap().contains("started successfully") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// A `WebDriver` session: the handful of commands the test needs.
struct Browser {
    client: reqwest::Client,
    session: String,
}

impl Browser {
    async fn open(driver: &Driver) -> Self {
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let client = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1440,1080", "--force-device-scale-factor=1", "--lang=en-US"]
            }
        }}});
        let answer: Value = client
            .post(format!("{}/session", driver.url))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver started no browser: {answer}"))
            .to_owned();
        Self {
            client,
            session: format!("{}/session/{session}", driver.url),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.session));
        // WebDriver wants a JSON body on every POST, `{}` when there is nothing to say.
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// Types into an input (Element Send Keys: focus, caret at the end, keys).
    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await;
    }

    /// Presses keys where the caret is (`WebDriver` actions), as a person types.
    async fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for key in text.chars() {
            actions.push(json!({"type": "keyDown", "value": key.to_string()}));
            actions.push(json!({"type": "keyUp", "value": key.to_string()}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Moves the mouse to `(x, y)` pixels from the centre of the element `css`.
    async fn hover(&self, css: &str, x: i64, y: i64) {
        let element = self.find(css).await;
        let origin = json!({ ELEMENT: element });
        let moves =
            json!([{"type": "pointerMove", "duration": 0, "origin": origin, "x": x, "y": y}]);
        self.post(
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": moves}]}),
        )
        .await;
    }

    async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    async fn text(&self, css: &str) -> String {
        self.script(
            "const e = document.querySelector(arguments[0]); return e ? (e.innerText ?? e.textContent) : null;",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits until the text of `css` contains `wanted`; its text.
    async fn wait_for_text(&self, css: &str, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(css).await;
            if text.contains(wanted) {
                return text;
            }
            if Instant::now() > deadline {
                let notice = self.text("#notice").await;
                panic!("`{css}` never showed {wanted:?}; it shows {text:?} (notice: {notice:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("STUDIO_SCREENSHOTS") else {
            return;
        };
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(Path::new(&dir).join(name), bytes).unwrap();
    }

    async fn quit(&self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

/// Selects `word` in the editor, where it first follows `after` (the caret is put there the
/// way a click would).
async fn select_in_editor(browser: &Browser, after: &str, word: &str) {
    let selected = browser
        .script(
            "const e = document.getElementById('editor'); const i = e.value.indexOf(arguments[0]);
             if (i < 0) return false; const s = i + arguments[0].length;
             e.focus(); e.setSelectionRange(s, s + arguments[1].length); return true;",
            json!([after, word]),
        )
        .await;
    assert_eq!(selected, json!(true), "`{after}` is in the editor");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_browser_a_typo_is_seen_fixed_and_a_chat_becomes_a_passing_test() {
    let dir = tempdir();
    let config = workspace(&dir);
    std::fs::copy(
        crate::support::root().join("scenarios/bilingual.scn"),
        dir.join("scenarios/bilingual.scn"),
    )
    .unwrap();
    let studio = Studio::start(&config, "127.0.0.1:0", &[]);
    let driver = Driver::start(&dir.join("chromedriver.log"));
    let browser = std::sync::Arc::new(Browser::open(&driver).await);
    // The steps run in a task of their own, so that the browser is closed whatever happens
    // (killing chromedriver alone would leave Chromium running).
    let steps = tokio::spawn({
        let (browser, url) = (std::sync::Arc::clone(&browser), studio.url.clone());
        async move { run(&browser, &url, &dir).await }
    });
    let outcome = steps.await;
    browser.quit().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(message)) => panic!("{message}"),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("{error}"),
    }
}

async fn run(browser: &Browser, url: &str, dir: &Path) -> Result<(), String> {
    browser
        .goto(&format!("{url}?file=zendesk_handoff.scn"))
        .await;
    browser
        .wait_for_text("#files", "zendesk_handoff.test.yaml")
        .await;
    browser.wait_for_text("#lint-summary", "no findings").await;
    browser.wait_for_text("#graph", "ask_email").await;

    // A typo: the diagnostic is listed with its code, place and help, and underlined.
    select_in_editor(browser, "goto ", "check_email").await;
    browser.keys("chek_email").await;
    let listed = browser.wait_for_text("#diagnostics", "C101").await;
    if !listed.contains("10:10") || !listed.contains("check_email") {
        return Err(format!("the diagnostic's place and help: {listed:?}"));
    }
    let underlined = browser.text("#highlight mark").await;
    if underlined != "chek_email" {
        return Err(format!("the underlined span is {underlined:?}"));
    }
    browser.wait_for_text("#lint-summary", "1 error").await;
    browser.wait_for_text("#dirty", "unsaved").await;
    // Hovering the line shows the finding's message and help.
    let offset = browser
        .script(
            "const e = document.getElementById('editor'); const r = e.getBoundingClientRect();
             const s = getComputedStyle(e); const h = parseFloat(s.lineHeight);
             const y = parseFloat(s.paddingTop) + (arguments[0] - 1) * h + h / 2 - e.scrollTop;
             return [Math.round(40 - r.width / 2), Math.round(y - r.height / 2)];",
            json!([10]),
        )
        .await;
    let (x, y) = (
        offset[0].as_i64().unwrap_or(0),
        offset[1].as_i64().unwrap_or(0),
    );
    browser.hover("#editor", x, y).await;
    let tooltip = browser
        .script("return document.getElementById('editor').title;", json!([]))
        .await;
    let tooltip = tooltip.as_str().unwrap_or_default();
    if !tooltip.contains("C101") || !tooltip.contains("help: did you mean `check_email`") {
        return Err(format!("the tooltip over line 10: {tooltip:?}"));
    }
    browser.click("#diagnostics li").await;
    let at_caret = browser.wait_for_text("#at-caret", "C101").await;
    if !at_caret.contains("help:") {
        return Err(format!("the message and help at the caret: {at_caret:?}"));
    }
    browser.screenshot("studio-diagnostic.png").await;

    // Fixed: no findings, and the text is the saved one again.
    select_in_editor(browser, "goto ", "chek_email").await;
    browser.keys("check_email").await;
    browser.wait_for_text("#lint-summary", "no findings").await;
    let dirty = browser.text("#dirty").await;
    if !dirty.is_empty() {
        return Err(format!("the fixed text is the saved one: {dirty:?}"));
    }

    // The mode-B flow: a wrong email, a right one, the team, the ticket.
    browser.type_into("#say", "Hi").await;
    browser.click("#send").await;
    browser
        .wait_for_text("#chat-log", "What is your email address?")
        .await;
    let current = browser.text("#graph .node.current").await;
    if current.trim() != "ask_email" {
        return Err(format!("the graph's current step is {current:?}"));
    }
    browser.type_into("#say", "not an email").await;
    browser.click("#send").await;
    browser
        .wait_for_text("#chat-log", "does not look like an email address")
        .await;
    browser.type_into("#say", "ada@example.com").await;
    browser.click("#send").await;
    browser.wait_for_text("#chat-state", "team Zendesk").await;
    let ticket = browser.wait_for_text("#ticket", "Zendesk ticket #").await;
    if !ticket.contains("ada@example.com") {
        return Err(format!("the ticket's history: {ticket:?}"));
    }
    let current = browser.text("#graph .node.current").await;
    if current.trim() != "handoff" {
        return Err(format!("the graph's current step is {current:?}"));
    }
    browser
        .type_into("#advisor-text", "Hello Ada, Grace here.")
        .await;
    browser.click("#advisor-send").await;
    browser.wait_for_text("#chat-log", "Grace here").await;
    browser.screenshot("studio-chat.png").await;

    // Saved as a test, which the harness runs at once and `scenarist test` passes.
    browser
        .type_into("#test-name", "typed in the browser")
        .await;
    browser.click("#save-test").await;
    let saved = browser.wait_for_text("#test-result", "passed").await;
    if !saved.starts_with('✓') {
        return Err(format!("the saved test: {saved:?}"));
    }
    browser
        .wait_for_text("#files", "zendesk_handoff.studio.test.yaml")
        .await;
    let file = dir.join("scenarios/zendesk_handoff.studio.test.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .arg("test")
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !stdout.contains("1 passed, 0 failed") {
        return Err(format!("scenarist test: {stdout}"));
    }
    let written = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    if !written.contains("name: typed in the browser") || !written.contains("advisor: Hello Ada") {
        return Err(format!("the saved test: {written}"));
    }

    // Another scenario: the language switch, and a question's choices as buttons.
    browser.click("#files a[data-path='bilingual.scn']").await;
    browser.wait_for_text("#file-name", "bilingual.scn").await;
    browser.wait_for_text("#language", "en").await;
    browser.click("#language option[value='en']").await;
    browser.wait_for_text("#chat-state", "in en").await;
    browser.type_into("#say", "Hello").await;
    browser.click("#send").await;
    browser.wait_for_text("#choices", "Track my order").await;
    browser.click("#choices button").await;
    browser
        .wait_for_text("#chat-log", "What is your order number?")
        .await;
    Ok(())
}
