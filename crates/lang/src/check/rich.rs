//! Rich messages and variants: an image or a card on a channel that cannot show it (C147,
//! for the channels of the accounts that run the scenario, like the limits in `messages`),
//! a URL that is not http(s) (C148: fully checked when literal; when it shows values, its
//! scheme must still be written out), and two variants of `say one of` with the same text
//! (L224). Lengths of labels and variants are `messages`' (L205).

use crate::ast::{Rich, Scenario, StmtKind, Text, TextPart};
use crate::config::Capability;
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic};

pub(super) fn check(scenario: &Scenario, workspace: &Workspace, out: &mut Vec<Diagnostic>) {
    let channels = workspace.channels_for(&scenario.name.text);
    scenario.for_each_statement(&mut |stmt| match &stmt.kind {
        StmtKind::Rich(rich) => {
            for needed in needs(rich) {
                let unable: Vec<&str> = channels
                    .iter()
                    .filter(|(_, channel)| !channel.supports.contains(&needed))
                    .map(|(name, _)| *name)
                    .collect();
                if let Some(first) = unable.first() {
                    out.push(unsupported(stmt.span, rich.word(), needed, &unable, first));
                }
            }
            for url in rich.urls() {
                if let Some(problem) = url_problem(url) {
                    out.push(
                        Diagnostic::new(Code::InvalidUrl, url.span, problem)
                            .with_label("not an http(s) address")
                            .with_help("write the address out from `https://`, such as \"https://acme.example/orders/{contact.order_number}\""),
                    );
                }
            }
        }
        StmtKind::SayOneOf(variants) => {
            for (index, variant) in variants.iter().enumerate() {
                let Some(text) = variant.text.as_literal() else {
                    continue;
                };
                let earlier = variants[..index]
                    .iter()
                    .find(|v| v.text.as_literal().is_some_and(|t| t.trim() == text.trim()));
                if let Some(earlier) = earlier {
                    out.push(
                        Diagnostic::new(
                            Code::DuplicateVariant,
                            variant.text.span,
                            "this variant is the same text as an earlier one",
                        )
                        .with_secondary(earlier.text.span, "the same text here")
                        .with_help("remove one, or reword it: each variant should be a different way of saying it"),
                    );
                }
            }
        }
        _ => {}
    });
}

/// What a rich message needs of a channel besides links (a link shows as text anywhere).
fn needs(rich: &Rich) -> Vec<Capability> {
    match rich {
        Rich::Link(_) => Vec::new(),
        Rich::Image(_) => vec![Capability::Images],
        Rich::Card(_) => vec![Capability::Cards],
    }
}

fn unsupported(
    span: crate::source::Span,
    word: &str,
    needed: Capability,
    unable: &[&str],
    first: &str,
) -> Diagnostic {
    let what = if word == "image" {
        "an image"
    } else {
        "a card"
    };
    Diagnostic::new(
        Code::UnsupportedRichMessage,
        span,
        format!(
            "this scenario runs on {}, which cannot show {what}",
            unable.join(", ")
        ),
    )
    .with_label(format!("{first} does not support {}", needed.word()))
    .with_help(format!(
        "add `{}` to `supports` of the channel in the workspace config if it can show them; otherwise send a `say` and a `link` instead",
        needed.word()
    ))
}

/// Why a URL is not an http(s) address, if it is not.
fn url_problem(url: &Text) -> Option<String> {
    let prefix = match url.parts.first() {
        Some(TextPart::Literal(prefix)) => prefix.as_str(),
        _ => "",
    };
    let lower = prefix.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Some(if prefix.is_empty() {
            "the address must start with `https://` or `http://` written out, not with a value"
                .to_owned()
        } else {
            let shown = url.as_literal().unwrap_or_else(|| format!("{prefix}…"));
            format!("\"{shown}\" does not start with `https://` or `http://`")
        });
    }
    let literal = url.as_literal()?;
    match url::Url::parse(&literal) {
        Ok(parsed) if parsed.host_str().is_some_and(|h| !h.is_empty()) => None,
        Ok(_) => Some(format!("\"{literal}\" has no host")),
        Err(e) => Some(format!("\"{literal}\" is not a valid address: {e}")),
    }
}
