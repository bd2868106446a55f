//! `retention:` — how long data that ends is kept: ended conversations with their histories,
//! the `seen` index that recognises a message delivered again, and scenario versions no
//! conversation uses any more. Each is a duration (`90d`, `12h`, `1d12h`) or `forever`.
//! A value that is neither is an error (`W405`); a `seen` window shorter than senders may
//! take to deliver a message again is a warning (`W406`).

use serde::Deserialize;

use super::locate::locate;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;
use crate::syntax::parse_duration_text;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// An ended conversation (and its history), from its last change.
    #[serde(default = "default_ended")]
    pub ended_conversations: String,
    /// An entry of the `seen` index, from the message it records.
    #[serde(default = "default_seen")]
    pub seen: String,
    /// A scenario version no stored conversation is pinned to and that is not the newest.
    #[serde(default = "default_versions")]
    pub scenario_versions: String,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            ended_conversations: default_ended(),
            seen: default_seen(),
            scenario_versions: default_versions(),
        }
    }
}

fn default_ended() -> String {
    "90d".into()
}

fn default_seen() -> String {
    "30d".into()
}

fn default_versions() -> String {
    "30d".into()
}

/// How long something is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    Forever,
    Seconds(u64),
}

impl Keep {
    pub fn parse(text: &str) -> Option<Keep> {
        if text.trim() == "forever" {
            return Some(Keep::Forever);
        }
        parse_duration_text(text).map(Keep::Seconds)
    }

    /// In milliseconds; `None` for forever.
    pub fn millis(self) -> Option<i64> {
        match self {
            Keep::Forever => None,
            Keep::Seconds(seconds) => {
                Some(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX))
            }
        }
    }
}

/// At-least-once senders deliver a message again for days (a chat platform's webhooks retry
/// for up to 7): a `seen` window shorter than this would let a late repeat run as a new message.
const SEEN_MINIMUM_SECONDS: u64 = 7 * 86_400;

impl RetentionConfig {
    /// Each key with its text.
    fn entries(&self) -> [(&'static str, &str); 3] {
        [
            ("ended_conversations", &self.ended_conversations),
            ("seen", &self.seen),
            ("scenario_versions", &self.scenario_versions),
        ]
    }

    pub fn ended_conversations(&self) -> Keep {
        keep(&self.ended_conversations)
    }

    pub fn seen(&self) -> Keep {
        keep(&self.seen)
    }

    pub fn scenario_versions(&self) -> Keep {
        keep(&self.scenario_versions)
    }
}

/// A value as read; one that does not parse (refused by `W405` before anything runs) keeps
/// forever.
fn keep(text: &str) -> Keep {
    Keep::parse(text).unwrap_or(Keep::Forever)
}

/// Values that are not a duration or `forever` (`W405`).
pub(super) fn errors(retention: &RetentionConfig, file: &SourceFile) -> Vec<Diagnostic> {
    retention
        .entries()
        .into_iter()
        .filter(|(_, text)| Keep::parse(text).is_none())
        .map(|(key, text)| {
            Diagnostic::new(
                Code::RetentionInvalid,
                locate(file.text(), &["retention", key]),
                format!("`retention.{key}` is `{text}`, which is neither a duration nor `forever`"),
            )
            .with_help(
                "write a duration such as `90d`, `12h` or `1d12h` (units s, m, h, d; at most ten years), or `forever`",
            )
        })
        .collect()
}

/// Values that work but are likely a mistake (`W406`).
pub(super) fn warnings(retention: &RetentionConfig, file: &SourceFile) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if let Some(Keep::Seconds(seconds)) = Keep::parse(&retention.seen) {
        if seconds < SEEN_MINIMUM_SECONDS {
            found.push(
                Diagnostic::new(
                    Code::RetentionShort,
                    locate(file.text(), &["retention", "seen"]),
                    format!(
                        "`retention.seen` is `{}`: a channel that delivers a message again later than that (senders retry for up to 7 days) has it run a second time",
                        retention.seen
                    ),
                )
                .with_help("keep `seen` entries at least `7d` (the default is `30d`)"),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::Workspace;

    fn parse(text: &str) -> Result<Workspace, Vec<Diagnostic>> {
        Workspace::parse(SourceFile::new("c.yaml", text), PathBuf::new())
    }

    #[test]
    fn durations_and_forever_are_read_and_defaults_apply() {
        let workspace =
            parse("version: 1\nretention:\n  ended_conversations: 1d12h\n  seen: forever\n")
                .unwrap();
        let retention = &workspace.config.retention;
        assert_eq!(retention.ended_conversations(), Keep::Seconds(129_600));
        assert_eq!(retention.seen(), Keep::Forever);
        assert_eq!(retention.scenario_versions(), Keep::Seconds(30 * 86_400));
        assert_eq!(Keep::Seconds(2).millis(), Some(2000));
        assert_eq!(Keep::Forever.millis(), None);
        let default = parse("version: 1\n").unwrap();
        assert_eq!(default.config.retention, RetentionConfig::default());
        assert!(default.warnings().is_empty());
    }

    #[test]
    fn a_value_that_is_not_a_duration_is_an_error_where_it_is_written() {
        let text = "version: 1\nretention:\n  seen: 30d\n  scenario_versions: 3 weeks\n";
        let file = SourceFile::new("c.yaml", text);
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        let problem = &problems[0];
        assert_eq!(problem.code, Code::RetentionInvalid);
        assert!(problem.message.contains("`3 weeks`"), "{}", problem.message);
        let at = file.line_column(problem.primary.span.start as usize);
        assert_eq!(
            (at.line, &text[problem.primary.span.range()]),
            (4, "scenario_versions")
        );
        for bad in ["-1d", "forever!", "", "10000d", "1w"] {
            let text = format!("version: 1\nretention:\n  ended_conversations: '{bad}'\n");
            assert!(parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let problems = parse("version: 1\nretention:\n  history: 1d\n").unwrap_err();
        assert_eq!(problems[0].code, Code::ConfigSyntax);
    }

    #[test]
    fn a_short_seen_window_is_a_warning_not_an_error() {
        let text = "version: 1\nretention:\n  seen: 2h\n";
        let workspace = parse(text).unwrap();
        let warnings = workspace.warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].code, Code::RetentionShort);
        assert_eq!(&text[warnings[0].primary.span.range()], "seen");
        assert!(
            parse("version: 1\nretention:\n  seen: 7d\n")
                .unwrap()
                .warnings()
                .is_empty()
        );
        assert!(
            parse("version: 1\nretention:\n  seen: forever\n")
                .unwrap()
                .warnings()
                .is_empty()
        );
    }
}
