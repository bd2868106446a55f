//! The server's loop: messages in, answers and diagnostics out, on one thread (lsp-server's
//! synchronous model, as rust-analyzer's main loop). Each turn takes every message already
//! waiting: edits are applied to the text at once, but a document is checked only once per
//! turn, after them, so a burst of keystrokes costs one check of the latest text. Requests
//! that need positions in the current text (hover, definition, rename…) check first;
//! completion answers from the last good parse without waiting for a check.
//!
//! Nothing a client sends can stop the server but `exit` or the end of its input: malformed
//! messages and parameters, unknown methods and positions out of range are answered with
//! errors or clamped.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    Diagnostic, DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, InitializeResult, PublishDiagnosticsParams, ServerInfo, Url,
    notification, request,
};
use serde_json::Value;

use crate::analysis::analyze;
use crate::completion;
use crate::diagnostics::to_lsp;
use crate::dispatch::{self, capabilities, params, params_uri, to_value, with};
use crate::document::{Document, Good};
use crate::position::LineIndex;
use crate::transport::{self, Incoming};
use crate::workspace::{CONFIG_NAME, Workspaces};

/// Why the loop stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`, as the protocol asks.
    Clean,
    /// `exit` without `shutdown`, or the input ended.
    Abrupt,
}

pub(crate) struct Server<W: Write> {
    out: W,
    docs: HashMap<Url, Document>,
    workspaces: Workspaces,
    initialized: bool,
    shutdown: bool,
    /// Findings other documents cause in a flow file: flow file → (document → findings).
    borrowed: HashMap<Url, HashMap<Url, Vec<Diagnostic>>>,
}

enum Step {
    Continue,
    Exit,
}

impl<W: Write> Server<W> {
    pub(crate) fn new(out: W, config: Option<PathBuf>) -> Option<Self> {
        Some(Self {
            out,
            docs: HashMap::new(),
            workspaces: Workspaces::new(config)?,
            initialized: false,
            shutdown: false,
            borrowed: HashMap::new(),
        })
    }

    pub(crate) fn run(&mut self, incoming: &Receiver<Incoming>) -> std::io::Result<Ending> {
        while let Ok(first) = incoming.recv() {
            let mut batch = vec![first];
            batch.extend(incoming.try_iter());
            for message in batch {
                let id = match &message {
                    Incoming::Message(Message::Request(request)) => Some(request.id.clone()),
                    _ => None,
                };
                match self.guarded(|server| server.handle(message)) {
                    Some(Step::Exit) => {
                        return Ok(if self.shutdown {
                            Ending::Clean
                        } else {
                            Ending::Abrupt
                        });
                    }
                    Some(Step::Continue) => {}
                    None => {
                        if let Some(id) = id {
                            let why =
                                "scenarist lsp failed on this request (a bug: please report it)";
                            self.reply(id, Err((ErrorCode::InternalError, why.to_owned())))?;
                        }
                    }
                }
            }
            match self.guarded(|server| server.check_dirty().map(|()| Step::Continue)) {
                Some(Step::Continue) => {}
                Some(Step::Exit) => return Ok(Ending::Abrupt),
                // What made the check fail would make it fail again: wait for the next edit.
                None => self.docs.values_mut().for_each(|doc| doc.dirty = false),
            }
        }
        Ok(Ending::Abrupt)
    }

    /// Runs `work`; a panic in it — a bug of the server or of the checker, never the input's
    /// fault — is logged and answered `None` instead of ending the editor's session. I/O
    /// errors (the editor went away) still end it.
    fn guarded(&mut self, work: impl FnOnce(&mut Self) -> std::io::Result<Step>) -> Option<Step> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self))) {
            Ok(Ok(step)) => Some(step),
            Ok(Err(_)) => Some(Step::Exit),
            Err(_) => {
                let _ = self.log("scenarist lsp hit a bug (its message is on stderr); it goes on");
                None
            }
        }
    }

    fn handle(&mut self, incoming: Incoming) -> std::io::Result<Step> {
        match incoming {
            Incoming::Malformed(why) => {
                let response = Response::new_err(
                    RequestId::from(String::new()),
                    ErrorCode::ParseError as i32,
                    why,
                );
                // A parse error's id is null (JSON-RPC 2.0 §5).
                let mut value = serde_json::to_value(&response).map_err(std::io::Error::other)?;
                value["id"] = Value::Null;
                self.send_value(&value)?;
                Ok(Step::Continue)
            }
            Incoming::Message(Message::Request(request)) => {
                self.request(request)?;
                Ok(Step::Continue)
            }
            Incoming::Message(Message::Notification(notification)) => {
                self.notification(notification)
            }
            Incoming::Message(Message::Response(_)) => Ok(Step::Continue),
        }
    }

    fn request(&mut self, request: Request) -> std::io::Result<()> {
        let id = request.id.clone();
        if request.method == request::Initialize::METHOD {
            self.initialized = true;
            let result = InitializeResult {
                capabilities: capabilities(),
                server_info: Some(ServerInfo {
                    name: "scenarist".to_owned(),
                    version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                }),
            };
            return self.reply(id, Ok(to_value(result)));
        }
        if !self.initialized {
            return self.reply(
                id,
                Err((
                    ErrorCode::ServerNotInitialized,
                    "initialize first".to_owned(),
                )),
            );
        }
        if self.shutdown {
            return self.reply(
                id,
                Err((
                    ErrorCode::InvalidRequest,
                    "the server is shutting down".to_owned(),
                )),
            );
        }
        let answer = match request.method.as_str() {
            request::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            request::Completion::METHOD => {
                // The first completion of a document waits for its first check (the config
                // and the flows it is completed from); later ones answer at once.
                if let Some(uri) = params_uri(&request.params)
                    && self
                        .docs
                        .get(&uri)
                        .is_some_and(|doc| doc.workspace.is_none())
                {
                    self.check(&uri)?;
                }
                with(request.params, |p: lsp_types::CompletionParams| {
                    let at = &p.text_document_position;
                    self.docs
                        .get(&at.text_document.uri)
                        .map(|doc| completion::complete(doc, at.position))
                })
            }
            method => {
                let uri = params_uri(&request.params);
                if let Some(uri) = &uri {
                    self.check(uri)?;
                }
                dispatch::answer(&self.docs, method, request.params)
            }
        };
        self.reply(id, answer)
    }

    fn notification(&mut self, notification: Notification) -> std::io::Result<Step> {
        match notification.method.as_str() {
            notification::Exit::METHOD => return Ok(Step::Exit),
            notification::DidOpenTextDocument::METHOD => {
                if let Ok(p) = params::<DidOpenTextDocumentParams>(notification.params) {
                    let doc = Document::new(p.text_document.uri.clone(), p.text_document.text);
                    self.flow_changed(doc.path.as_deref());
                    self.docs.insert(p.text_document.uri, doc);
                }
            }
            notification::DidChangeTextDocument::METHOD => {
                if let Ok(p) = params::<DidChangeTextDocumentParams>(notification.params)
                    && let Some(doc) = self.docs.get_mut(&p.text_document.uri)
                {
                    doc.apply(p.content_changes);
                }
            }
            notification::DidSaveTextDocument::METHOD => {
                if let Ok(p) = params::<DidSaveTextDocumentParams>(notification.params) {
                    let path = p.text_document.uri.to_file_path().ok();
                    if path.as_ref().is_some_and(|p| p.ends_with(CONFIG_NAME)) {
                        self.workspaces.forget_configs();
                        self.docs.values_mut().for_each(|doc| doc.dirty = true);
                    }
                }
            }
            notification::DidCloseTextDocument::METHOD => {
                if let Ok(p) = params::<DidCloseTextDocumentParams>(notification.params)
                    && let Some(doc) = self.docs.remove(&p.text_document.uri)
                {
                    self.flow_changed(doc.path.as_deref());
                    self.forget_findings_of(&p.text_document.uri)?;
                    self.publish(p.text_document.uri, Vec::new())?;
                }
            }
            _ => {}
        }
        Ok(Step::Continue)
    }

    /// A file that may hold flows was opened, edited or closed: the flows are read again and
    /// the open documents checked again with them.
    fn flow_changed(&mut self, path: Option<&std::path::Path>) {
        if path.is_some() {
            self.workspaces.forget_flows();
            self.docs.values_mut().for_each(|doc| doc.dirty = true);
        }
    }

    /// Checks every changed document. A flow file's check marks the open scenarios changed
    /// (they include its new text), so a second round checks them; scenarios mark nothing,
    /// so there is no third.
    fn check_dirty(&mut self) -> std::io::Result<()> {
        loop {
            let mut dirty: Vec<Url> = self
                .docs
                .iter()
                .filter(|(_, doc)| doc.dirty)
                .map(|(uri, _)| uri.clone())
                .collect();
            if dirty.is_empty() {
                return Ok(());
            }
            // Flow files first: the scenarios are then checked once, with their new text.
            dirty.sort_by_key(|uri| !self.docs.get(uri).is_some_and(Document::holds_flows));
            for uri in dirty {
                self.check(&uri)?;
            }
        }
    }

    /// Checks a document when its text changed, and publishes what was found.
    fn check(&mut self, uri: &Url) -> std::io::Result<()> {
        let Some(doc) = self.docs.get(uri) else {
            return Ok(());
        };
        if !doc.dirty {
            return Ok(());
        }
        let was_flows = doc
            .good
            .as_ref()
            .is_some_and(|g| g.parsed.scenario.is_none());
        let (workspace, problem) = self.workspaces.workspace_for(doc.path.as_deref());
        let docs = &self.docs;
        let open = |path: &std::path::Path| {
            docs.values()
                .find(|d| d.path.as_deref() == Some(path))
                .map(|d| d.text.clone())
        };
        let library = self
            .workspaces
            .library_for(doc.path.as_deref(), &workspace, &open);
        let previous = doc
            .good
            .as_ref()
            .map(|good| (good.text.as_str(), good.parsed.as_ref()));
        let analysis = analyze(&doc.name, &doc.text, previous, &workspace, &library);
        let Some(doc) = self.docs.get_mut(uri) else {
            return Ok(());
        };
        doc.dirty = false;
        doc.workspace = Some(workspace);
        doc.library = library;
        if let Some(parsed) = analysis.parsed {
            let is_flows = parsed.scenario.is_none();
            doc.good = Some(Good::new(doc.text.clone(), parsed));
            if is_flows || was_flows {
                // Scenarios may include these flows: check them with the new text (a file of
                // flows is checked alone, so the others need nothing).
                self.workspaces.forget_flows();
                for (other, doc) in &mut self.docs {
                    if other != uri && !doc.holds_flows() {
                        doc.dirty = true;
                    }
                }
            }
        }
        let Some(doc) = self.docs.get_mut(uri) else {
            return Ok(());
        };
        doc.reports = analysis.reports;
        if let Some(problem) = problem {
            self.log(&problem)?;
        }
        self.publish_document(uri)?;
        self.publish_borrowed(uri)
    }

    /// Publishes a document's own findings with those other documents cause in it.
    fn publish_document(&mut self, uri: &Url) -> std::io::Result<()> {
        let mut all = Vec::new();
        if let Some(doc) = self.docs.get(uri)
            && let Some(report) = doc.reports.first()
        {
            all.extend(
                report
                    .diagnostics
                    .iter()
                    .map(|d| to_lsp(d, &doc.text, &doc.index, uri)),
            );
        }
        if let Some(borrowed) = self.borrowed.get(uri) {
            for found in borrowed.values().flatten() {
                let seen = all
                    .iter()
                    .any(|d| d.range == found.range && d.code == found.code);
                if !seen {
                    all.push(found.clone());
                }
            }
        }
        self.publish(uri.clone(), all)
    }

    /// Records the findings a document's check made in the flow files it includes, and
    /// publishes each flow file touched.
    fn publish_borrowed(&mut self, from: &Url) -> std::io::Result<()> {
        let mut touched: Vec<Url> = self
            .borrowed
            .iter_mut()
            .filter_map(|(file, by)| by.remove(from).map(|_| file.clone()))
            .collect();
        let found: Vec<(Url, Vec<Diagnostic>)> = self
            .docs
            .get(from)
            .map(|doc| {
                doc.reports
                    .iter()
                    .skip(1)
                    .filter_map(|report| {
                        let path = std::fs::canonicalize(report.file.name()).ok()?;
                        let uri = Url::from_file_path(path).ok()?;
                        let text = report.file.text();
                        let index = LineIndex::new(text);
                        let found = report
                            .diagnostics
                            .iter()
                            .map(|d| to_lsp(d, text, &index, &uri))
                            .collect();
                        Some((uri, found))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (file, diagnostics) in found {
            self.borrowed
                .entry(file.clone())
                .or_default()
                .insert(from.clone(), diagnostics);
            touched.push(file);
        }
        touched.sort();
        touched.dedup();
        for file in touched {
            if &file != from {
                self.publish_document(&file)?;
            }
        }
        Ok(())
    }

    fn forget_findings_of(&mut self, from: &Url) -> std::io::Result<()> {
        let touched: Vec<Url> = self
            .borrowed
            .iter_mut()
            .filter_map(|(file, by)| by.remove(from).map(|_| file.clone()))
            .collect();
        for file in touched {
            self.publish_document(&file)?;
        }
        Ok(())
    }

    fn publish(&mut self, uri: Url, diagnostics: Vec<Diagnostic>) -> std::io::Result<()> {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        self.send(&Message::Notification(Notification::new(
            notification::PublishDiagnostics::METHOD.to_owned(),
            params,
        )))
    }

    fn log(&mut self, message: &str) -> std::io::Result<()> {
        let params = lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::WARNING,
            message: message.to_owned(),
        };
        self.send(&Message::Notification(Notification::new(
            notification::LogMessage::METHOD.to_owned(),
            params,
        )))
    }

    fn reply(
        &mut self,
        id: RequestId,
        answer: Result<Value, (ErrorCode, String)>,
    ) -> std::io::Result<()> {
        let response = match answer {
            Ok(result) => Response::new_ok(id, result),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(&Message::Response(response))
    }

    fn send(&mut self, message: &Message) -> std::io::Result<()> {
        transport::write(&mut self.out, message)
    }

    fn send_value(&mut self, value: &Value) -> std::io::Result<()> {
        let body = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        write!(self.out, "Content-Length: {}\r\n\r\n", body.len())?;
        self.out.write_all(&body)?;
        self.out.flush()
    }
}
