//! Which request gets which answer: the parameters parsed into their lsp-types type (bad
//! ones are "invalid params", an unknown method "method not found"), the feature called on
//! the document, its result turned into JSON (`null` for a document the server does not
//! have). Also the capabilities the server announces, which list the same features.

use std::collections::HashMap;

use lsp_server::ErrorCode;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionProviderCapability, CompletionOptions,
    FoldingRangeProviderCapability, HoverProviderCapability, OneOf, PositionEncodingKind,
    ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url, request,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::document::Document;
use crate::{hover, navigate, outline, quickfix};

/// Answers a request about a document, already checked.
pub(crate) fn answer(
    docs: &HashMap<Url, Document>,
    method: &str,
    raw: Value,
) -> Result<Value, (ErrorCode, String)> {
    match method {
        request::HoverRequest::METHOD => with(raw, |p: lsp_types::HoverParams| {
            let at = &p.text_document_position_params;
            docs.get(&at.text_document.uri)
                .and_then(|doc| hover::hover(doc, at.position))
        }),
        request::GotoDefinition::METHOD => with(raw, |p: lsp_types::GotoDefinitionParams| {
            let at = &p.text_document_position_params;
            docs.get(&at.text_document.uri)
                .and_then(|doc| navigate::definition(doc, at.position))
        }),
        request::References::METHOD => with(raw, |p: lsp_types::ReferenceParams| {
            let at = &p.text_document_position;
            docs.get(&at.text_document.uri)
                .map(|doc| navigate::references(doc, at.position, p.context.include_declaration))
        }),
        request::Rename::METHOD => {
            let p: lsp_types::RenameParams = params(raw)?;
            let at = &p.text_document_position;
            match docs.get(&at.text_document.uri) {
                Some(doc) => navigate::rename(doc, at.position, &p.new_name)
                    .map(|edit| edit.map_or(Value::Null, to_value))
                    .map_err(|why| (ErrorCode::InvalidParams, why)),
                None => Ok(Value::Null),
            }
        }
        request::Formatting::METHOD => with(raw, |p: lsp_types::DocumentFormattingParams| {
            docs.get(&p.text_document.uri).and_then(outline::format)
        }),
        request::DocumentSymbolRequest::METHOD => {
            with(raw, |p: lsp_types::DocumentSymbolParams| {
                docs.get(&p.text_document.uri).map(outline::symbols)
            })
        }
        request::FoldingRangeRequest::METHOD => with(raw, |p: lsp_types::FoldingRangeParams| {
            docs.get(&p.text_document.uri).map(outline::folding)
        }),
        request::CodeActionRequest::METHOD => with(raw, |p: lsp_types::CodeActionParams| {
            docs.get(&p.text_document.uri)
                .map(|doc| quickfix::actions(doc, p.range))
        }),
        other => Err((
            ErrorCode::MethodNotFound,
            format!("scenarist lsp does not answer `{other}`"),
        )),
    }
}

pub(crate) fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([".", " ", "\"", ">", "("].map(str::to_owned).to_vec()),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(
            lsp_types::CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..lsp_types::CodeActionOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    }
}

pub(crate) fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(crate) fn params<P: DeserializeOwned>(params: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(params)
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters: {e}")))
}

/// Parses the parameters and answers `f`'s result (JSON `null` for `None`).
pub(crate) fn with<P: DeserializeOwned, R: serde::Serialize>(
    raw: Value,
    f: impl FnOnce(P) -> Option<R>,
) -> Result<Value, (ErrorCode, String)> {
    Ok(f(params(raw)?).map_or(Value::Null, to_value))
}

/// The document a request is about, if its parameters name one.
pub(crate) fn params_uri(params: &Value) -> Option<Url> {
    let uri = params.get("textDocument")?.get("uri")?.as_str()?;
    Url::parse(uri).ok()
}
