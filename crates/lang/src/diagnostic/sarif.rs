//! SARIF 2.1.0 output, the format GitHub code scanning ingests. Every registry code is a
//! rule (so `ruleIndex` is stable between runs); each diagnostic is a result with one
//! physical location and its secondary labels as related locations. Columns count Unicode
//! code points, declared by the run's `columnKind`.

use serde_json::{Value, json};

use super::{Code, Diagnostic, FileReport, Label, Severity};
use crate::source::SourceFile;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log of a whole lint run.
pub fn log(reports: &[FileReport]) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|code| rule(*code)).collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(|d| result(&r.file, d)))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "scenarist",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/scenarist/scenarist",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn rule(code: Code) -> Value {
    json!({
        "id": code.id(),
        "name": code.name(),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.summary() },
        "help": { "text": code.summary(), "markdown": code.explanation() },
        "defaultConfiguration": { "level": level(code.severity()) },
    })
}

fn result(file: &SourceFile, diagnostic: &Diagnostic) -> Value {
    let rule_index = Code::ALL
        .iter()
        .position(|c| *c == diagnostic.code)
        .unwrap_or(0);
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut location = location(file, label);
            location["id"] = json!(i);
            location
        })
        .collect();
    let mut value = json!({
        "ruleId": diagnostic.code.id(),
        "ruleIndex": rule_index,
        "level": level(diagnostic.severity),
        "message": { "text": text },
        "locations": [location(file, &diagnostic.primary)],
    });
    if !related.is_empty() {
        value["relatedLocations"] = json!(related);
    }
    value
}

fn location(file: &SourceFile, label: &Label) -> Value {
    let start = file.line_column(label.span.start as usize);
    let end = file.line_column(label.span.end as usize);
    let mut value = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file.name()) },
            "region": {
                "startLine": start.line,
                "startColumn": start.column,
                "endLine": end.line,
                "endColumn": end.column,
            },
        },
    });
    if let Some(message) = &label.message {
        value["message"] = json!({ "text": message });
    }
    value
}

/// A relative URI reference with forward slashes, as code scanning expects.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    path.replace(' ', "%20")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
