// Scenarist studio: the page. Plain JavaScript, no build step; it talks to the studio's
// JSON API under /api/ (src/studio/). Mermaid (vendored, see assets/vendor/README.md) draws
// the step graph.
"use strict";

const $ = (id) => document.getElementById(id);
const LINT_DELAY_MS = 300;

// The token of a studio bound beyond loopback comes in the URL it printed; it is kept for
// this tab and taken out of the address bar (and so of history and screenshots).
const token = (() => {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem("studio-token", given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem("studio-token");
})();

async function api(method, path, body) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (answer.error && answer.error.message) || response.statusText;
    throw Object.assign(new Error(message), { status: response.status, code: answer.error && answer.error.code });
  }
  return answer;
}

function notice(text, error) {
  const box = $("notice");
  box.textContent = text || "";
  box.className = error ? "error" : "";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- Files -------------------------------------------------------------------------

const state = {
  path: null,       // the open file
  saved: "",        // its text on disk
  diagnostics: [],
  lintTimer: null,
  lintSeq: 0,
  graphSeq: 0,
  nodes: {},        // step name -> Mermaid node id
  session: null,    // the chat's view
  sessionText: null,
};

async function loadFiles() {
  const listing = await api("GET", "/api/files");
  $("folder").textContent = listing.folder.split("/").filter(Boolean).pop() + "/";
  $("folder").title = listing.folder;
  const list = $("files");
  list.replaceChildren();
  const add = (path, className) => {
    const item = element("li", className);
    const link = element("a", path === state.path ? "open" : "", path);
    link.dataset.path = path;
    link.title = path;
    link.addEventListener("click", () => openFile(path));
    item.append(link);
    list.append(item);
  };
  for (const scenario of listing.scenarios) {
    add(scenario.path, "scenario");
    for (const test of scenario.tests) add(test, "test");
  }
  for (const test of listing.other_tests) add(test, "test");
  return listing;
}

async function openFile(path) {
  if (state.path && $("editor").value !== state.saved && !confirm("Discard the unsaved changes to " + state.path + "?")) return;
  const file = await api("GET", "/api/file?path=" + encodeURIComponent(path));
  state.path = path;
  state.saved = file.text;
  const editor = $("editor");
  editor.disabled = false;
  editor.value = file.text;
  editor.scrollTop = 0;
  $("file-name").textContent = path;
  for (const link of document.querySelectorAll("#files a")) link.classList.toggle("open", link.dataset.path === path);
  resetChat();
  changed(true);
  // A scenario gets its chat at once (the teams and entry points fill the advisor's row);
  // one with errors gets it once they are fixed, at its first message.
  if (isScenario()) startChat().catch(() => {});
}

async function saveFile() {
  const text = $("editor").value;
  await api("PUT", "/api/file", { path: state.path, text });
  state.saved = text;
  changed(false);
  notice("Saved " + state.path);
  await loadFiles();
}

// ---- Editor, diagnostics -------------------------------------------------------------

const isScenario = () => state.path && state.path.endsWith(".scn");

function changed(now) {
  const dirty = $("editor").value !== state.saved;
  $("dirty").textContent = dirty ? "● unsaved" : "";
  $("save").disabled = !dirty;
  paint();
  clearTimeout(state.lintTimer);
  state.lintTimer = setTimeout(check, now ? 0 : LINT_DELAY_MS);
}

// Lint and draw the text as it is now; an answer to an older text is dropped.
async function check() {
  if (!state.path) return;
  const seq = ++state.lintSeq;
  const body = { path: state.path, text: $("editor").value };
  let linted;
  try {
    linted = await api("POST", "/api/lint", body);
  } catch (error) {
    notice(error.message, true);
    return;
  }
  if (seq !== state.lintSeq) return;
  state.diagnostics = linted.diagnostics;
  showDiagnostics(linted);
  paint();
  caret();
  if (isScenario()) draw(body);
}

function showDiagnostics(linted) {
  const summary = $("lint-summary");
  if (linted.errors + linted.warnings === 0) {
    summary.textContent = "✓ no findings";
    summary.className = "clean";
  } else {
    summary.textContent = `${linted.errors} error(s), ${linted.warnings} warning(s)`;
    summary.className = linted.errors ? "errors" : "";
  }
  const list = $("diagnostics");
  list.replaceChildren();
  for (const d of state.diagnostics) {
    const item = element("li", d.severity);
    item.append(element("span", "where", `${d.line}:${d.column}`), element("span", "code", d.code), d.message);
    if (d.help) item.append(element("span", "help", "help: " + d.help));
    item.title = "Go to line " + d.line;
    item.addEventListener("click", () => jump(d));
    list.append(item);
  }
}

// The index in the editor's text of a 1-based line and column (columns count code points).
function indexAt(text, line, column) {
  let index = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", index);
    if (next < 0) return text.length;
    index = next + 1;
  }
  for (let c = 1; c < column && index < text.length && text[index] !== "\n"; c++) {
    index += text.codePointAt(index) > 0xffff ? 2 : 1;
  }
  return index;
}

// The underlines: the text again, behind the transparent editor, with marks on the spans.
function paint() {
  const text = $("editor").value;
  const spans = state.diagnostics
    .map((d) => ({ start: indexAt(text, d.line, d.column), end: indexAt(text, d.end_line, d.end_column), d }))
    .sort((a, b) => a.start - b.start);
  const out = $("highlight");
  out.replaceChildren();
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    out.append(text.slice(at, span.start));
    const mark = element("mark", span.d.severity + (span.end <= span.start ? " empty" : ""), text.slice(span.start, Math.max(span.end, span.start)));
    mark.dataset.code = span.d.code;
    out.append(mark);
    at = Math.max(span.end, span.start);
  }
  out.append(text.slice(at) + "\n");
  syncScroll();
}

function syncScroll() {
  const editor = $("editor");
  $("highlight").scrollTop = editor.scrollTop;
  $("highlight").scrollLeft = editor.scrollLeft;
}

function caretPosition() {
  const editor = $("editor");
  const before = editor.value.slice(0, editor.selectionStart);
  const line = before.split("\n").length;
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return { line, column };
}

const covers = (d, line, column) =>
  (line > d.line || (line === d.line && column >= d.column)) &&
  (line < d.end_line || (line === d.end_line && column <= Math.max(d.end_column, d.column + 1)));

// The message and help of the finding at the caret, under the editor.
function caret() {
  const { line, column } = caretPosition();
  const here = state.diagnostics.find((d) => covers(d, line, column)) || state.diagnostics.find((d) => d.line === line);
  const box = $("at-caret");
  box.textContent = here
    ? `${here.code} ${here.name}: ${here.message}${here.help ? " — help: " + here.help : ""}`
    : `line ${line}, column ${column}`;
}

// Hovering a line shows its findings as the editor's tooltip.
function hover(event) {
  const editor = $("editor");
  const box = editor.getBoundingClientRect();
  const style = getComputedStyle(editor);
  const lineHeight = parseFloat(style.lineHeight) || 20;
  const y = event.clientY - box.top - parseFloat(style.paddingTop) + editor.scrollTop;
  const line = Math.floor(y / lineHeight) + 1;
  const found = state.diagnostics.filter((d) => d.line <= line && line <= d.end_line);
  editor.title = found.map((d) => `${d.code} ${d.message}${d.help ? "\nhelp: " + d.help : ""}`).join("\n\n");
}

function jump(d) {
  const editor = $("editor");
  const text = editor.value;
  const start = indexAt(text, d.line, d.column);
  const end = Math.max(start, indexAt(text, d.end_line, d.end_column));
  editor.focus();
  editor.setSelectionRange(start, end);
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
  editor.scrollTop = Math.max(0, (d.line - 4) * lineHeight);
  syncScroll();
  caret();
}

// ---- Graph -----------------------------------------------------------------------------

let mermaidReady = false;
function initMermaid() {
  if (mermaidReady || !window.mermaid) return mermaidReady;
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", flowchart: { useMaxWidth: true } });
  mermaidReady = true;
  return true;
}

async function draw(body) {
  const seq = ++state.graphSeq;
  let drawing;
  try {
    drawing = await api("POST", "/api/graph", body);
  } catch (error) {
    return;
  }
  if (seq !== state.graphSeq) return;
  const graph = $("graph");
  if (!drawing.mermaid) {
    graph.classList.add("stale");
    $("graph-note").textContent = drawing.problem ? "not redrawn: the text does not parse" : "";
    return;
  }
  if (!initMermaid()) return;
  try {
    // A pane wider than tall reads a left-to-right drawing better.
    const box = graph.getBoundingClientRect();
    const source = box.width > box.height * 1.3 ? drawing.mermaid.replace(/^flowchart TD/, "flowchart LR") : drawing.mermaid;
    const { svg } = await window.mermaid.render("graph-svg-" + seq, source);
    if (seq !== state.graphSeq) return;
    graph.innerHTML = svg;
    graph.classList.remove("stale");
    $("graph-note").textContent = "";
    state.nodes = drawing.nodes;
    highlightStep();
  } catch (error) {
    $("graph-note").textContent = "cannot draw: " + error.message;
  }
}

// The chat's current step, lit up in the graph.
function highlightStep() {
  for (const node of document.querySelectorAll("#graph .node.current")) node.classList.remove("current");
  const step = state.session && state.session.step;
  const id = step && state.nodes[step];
  if (!id) return;
  const pattern = new RegExp("flowchart-" + id + "-\\d+$");
  for (const node of document.querySelectorAll("#graph .node")) {
    if (pattern.test(node.id)) node.classList.add("current");
  }
}

// ---- Chat ------------------------------------------------------------------------------

function resetChat() {
  state.session = null;
  state.sessionText = null;
  showSession();
  $("ticket").hidden = true;
  $("test-result").textContent = "";
}

async function startChat(language) {
  const text = $("editor").value;
  const view = await api("POST", "/api/sessions", { path: state.path, text, language: language || undefined });
  state.sessionText = text;
  state.session = view;
  $("ticket").hidden = true;
  $("test-result").textContent = "";
  showSession();
  return view;
}

// Runs a chat action, starting the chat first when there is none.
async function chat(action, body) {
  if (!isScenario()) {
    notice("open a scenario (.scn) to chat with it", true);
    return;
  }
  try {
    if (!state.session) await startChat($("language").value);
    state.session = await api("POST", `/api/sessions/${state.session.id}/${action}`, body || {});
    notice("");
    showSession();
    if (state.session.ticket) showTicket();
  } catch (error) {
    notice(error.message, true);
  }
}

function showSession() {
  const view = state.session;
  const log = $("chat-log");
  log.replaceChildren();
  $("choices").replaceChildren();
  if (!view) {
    $("chat-state").textContent = isScenario() ? "fix the errors, then say something to start" : "";
    $("clock").textContent = "";
    highlightStep();
    return;
  }
  for (const line of view.lines) {
    const item = element("li", line.who, line.text);
    if (line.choices.length) item.append(element("div", "choices-note", line.choices.map((c, i) => `[${i + 1}] ${c}`).join("  ")));
    log.append(item);
  }
  log.scrollTop = log.scrollHeight;
  const last = [...view.lines].reverse().find((l) => l.who === "bot");
  if (view.status === "waiting" && last) {
    for (const choice of last.choices) {
      const button = element("button", "", choice);
      button.addEventListener("click", () => chat("message", { text: choice }));
      $("choices").append(button);
    }
  }
  const parts = [view.status.replace("_", " ")];
  if (view.step) parts.push("step " + view.step);
  if (view.team) parts.push("team " + view.team);
  parts.push(view.account);
  if (view.language) parts.push("in " + view.language);
  if (state.sessionText !== null && state.sessionText !== $("editor").value) parts.push("the text changed: New chat runs it");
  $("chat-state").textContent = parts.join(" · ");
  $("clock").textContent = "clock " + view.now.replace("T", " ").replace("Z", " UTC");
  fillSelect($("team"), view.teams);
  fillSelect($("return-step"), ["(start)", ...view.entry_points]);
  const languages = $("language");
  $("language-box").hidden = view.languages.length === 0;
  fillSelect(languages, ["", ...view.languages], view.language || "");
  highlightStep();
}

function fillSelect(select, values, chosen) {
  const current = chosen !== undefined ? chosen : select.value;
  if ([...select.options].map((o) => o.value).join("\n") !== values.join("\n")) {
    select.replaceChildren(...values.map((v) => element("option", "", v || "default")));
    [...select.options].forEach((o, i) => (o.value = values[i]));
  }
  if (values.includes(current)) select.value = current;
}

async function showTicket() {
  const box = $("ticket");
  try {
    const ticket = await api("GET", `/api/sessions/${state.session.id}/ticket`);
    box.replaceChildren(
      element("strong", "", `Zendesk ticket #${ticket.id} (${ticket.status})`),
      document.createTextNode(" " + (ticket.subject || "")),
      ...ticket.comments.map((c) => element("pre", "", c.body)),
    );
    box.hidden = false;
  } catch (error) {
    box.textContent = error.message;
    box.hidden = false;
  }
}

async function saveTest() {
  if (!state.session) {
    notice("chat first: the conversation becomes the test", true);
    return;
  }
  const result = $("test-result");
  try {
    const saved = await api("POST", `/api/sessions/${state.session.id}/test`, { name: $("test-name").value || undefined });
    result.className = saved.passed ? "passed" : "failed";
    result.textContent = `${saved.passed ? "✓" : "✗"} saved ${saved.path}; scenarist test: ${saved.passed ? "passed" : "failed"}\n${saved.report.join("\n")}`;
    result.dataset.path = saved.path;
    await loadFiles();
  } catch (error) {
    result.className = "failed";
    result.textContent = error.message;
  }
}

// ---- Wiring ------------------------------------------------------------------------------

function submit(id, run) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
}

function wire() {
  const editor = $("editor");
  editor.addEventListener("input", () => changed(false));
  editor.addEventListener("scroll", syncScroll);
  editor.addEventListener("keyup", caret);
  editor.addEventListener("click", caret);
  editor.addEventListener("mousemove", hover);
  editor.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      if (!$("save").disabled) saveFile().catch((e) => notice(e.message, true));
    }
  });
  // A click on the graph switches between the whole drawing and its natural size.
  $("graph").addEventListener("click", () => $("graph").classList.toggle("natural"));
  $("graph").title = "Click: whole drawing / natural size";
  $("save").addEventListener("click", () => saveFile().catch((e) => notice(e.message, true)));
  submit("say-form", () => {
    const text = $("say").value;
    if (!text.trim()) return;
    $("say").value = "";
    chat("message", { text });
  });
  submit("advisor-form", () => {
    const text = $("advisor-text").value;
    if (!text.trim()) return;
    $("advisor-text").value = "";
    chat("advisor", { text });
  });
  $("route").addEventListener("click", () => chat("route", { team: $("team").value }));
  $("return").addEventListener("click", () => {
    const step = $("return-step").value;
    chat("return", step === "(start)" ? {} : { step });
  });
  $("close").addEventListener("click", () => chat("close"));
  submit("wait-form", () => chat("wait", { duration: $("wait-duration").value }));
  $("restart").addEventListener("click", () => startChat($("language").value).catch((e) => notice(e.message, true)));
  $("language").addEventListener("change", () => startChat($("language").value).catch((e) => notice(e.message, true)));
  submit("test-form", saveTest);
}

window.addEventListener("DOMContentLoaded", async () => {
  wire();
  try {
    const listing = await loadFiles();
    const wanted = new URL(location.href).searchParams.get("file");
    const first = wanted || (listing.scenarios[0] && listing.scenarios[0].path);
    if (first) await openFile(first);
  } catch (error) {
    notice(error.message, true);
  }
});
