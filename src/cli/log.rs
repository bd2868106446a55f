//! The log: `tracing` events on stderr, filtered by `SCENARIST_LOG` (e.g. `info`,
//! `scenarist=debug`; default `warn`), as human lines or, with `SCENARIST_LOG_FORMAT=json`,
//! as JSON lines.
//!
//! Logged text comes from callers (account names, refused requests), from Zendesk (its error
//! texts) and from files: a line break in it would forge a whole log line, and an ANSI or OSC
//! sequence would reach the operator's terminal. In the human format every field value and
//! the message are therefore written with their control characters escaped (`\n`, `\r`,
//! `\t`, `\u{1b}`, …: see [`Escape`]); only the newline that ends each event is written as
//! is. The JSON format needs nothing more: `serde_json` writes every C0 control as an escape,
//! so an event stays one line. Colours only on a terminal, and never with `NO_COLOR` set.

use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;

use tracing::field::Field;
use tracing_subscriber::field::MakeExt as _;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

/// Installs the subscriber (once; a second call changes nothing).
pub(super) fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCENARIST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("SCENARIST_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().with_ansi(false).try_init()
    } else {
        builder
            .fmt_fields(escaped_fields())
            .with_ansi(colour(std::io::stderr().is_terminal()))
            .try_init()
    };
}

/// Whether to colour the log: only on a terminal, and not when `NO_COLOR` is set (to
/// anything but the empty string, as no-color.org says).
fn colour(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The fields of events and spans as `name=value`, space-separated, the message bare, like
/// `tracing_subscriber`'s default, but with every control character escaped.
pub(super) fn escaped_fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    debug_fn(write_field).delimited(" ")
}

fn write_field(writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    match field.name() {
        "message" => write!(Escape(writer), "{value:?}"),
        // Field names are identifiers written in our code: only values need escaping.
        name => {
            write!(writer, "{}=", name.trim_start_matches("r#"))?;
            write!(Escape(writer), "{value:?}")
        }
    }
}

/// Writes through to `W` with control characters escaped: `\n`, `\r` and `\t` as those
/// two-character escapes; the other C0 controls, DEL, the C1 controls, the Unicode line and
/// paragraph separators and the bidirectional overrides as `\u{1b}`. Backslashes stay as they
/// are (the point is one event per line and no terminal sequence, not a reversible encoding).
pub(crate) struct Escape<W>(pub(crate) W);

impl<W: fmt::Write> fmt::Write for Escape<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut clean = 0;
        for (at, c) in text.char_indices() {
            if !needs_escape(c) {
                continue;
            }
            self.0.write_str(&text[clean..at])?;
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                other => write!(self.0, "\\u{{{:x}}}", u32::from(other))?,
            }
            clean = at + c.len_utf8();
        }
        self.0.write_str(&text[clean..])
    }
}

fn needs_escape(c: char) -> bool {
    // `is_control`: C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F).
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A log writer the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    const FORGED: &str = "x\n2026-01-01T00:00:00Z  INFO forged: all is well";
    const OSC: &str = "\u{1b}]0;x\u{7}\u{1b}[31mred";

    /// One event whose fields and message carry a forged line and terminal sequences, in every
    /// way the code logs text: `%` (Display), `?` (Debug), a string field, an error, a
    /// message argument, and a span field.
    fn log_hostile_event() {
        let error = io::Error::other(OSC);
        let span = tracing::info_span!("message", account = %FORGED);
        let _entered = span.enter();
        tracing::warn!(
            id = %FORGED,
            debug = ?OSC,
            text = FORGED,
            error = &error as &(dyn std::error::Error + 'static),
            "refused: {} {}",
            FORGED,
            OSC
        );
    }

    #[test]
    fn the_human_format_escapes_every_control_character_of_fields_and_messages() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .fmt_fields(escaped_fields())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, log_hostile_event);
        let text = captured.text();
        assert_eq!(text.lines().count(), 1, "one event, one line: {text}");
        assert!(
            text.ends_with('\n'),
            "the event's own line end stays: {text:?}"
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(
            text.contains(r"id=x\n2026-01-01T00:00:00Z  INFO forged"),
            "{text}"
        );
        assert!(text.contains(r"account=x\n2026"), "span fields too: {text}");
        assert!(
            text.contains(r"refused: x\n2026"),
            "the message too: {text}"
        );
        assert!(text.contains(r"\u{1b}]0;x\u{7}\u{1b}[31mred"), "{text}");
        assert!(text.contains(r"error=\u{1b}]0;x"), "{text}");
    }

    #[test]
    fn the_json_format_keeps_an_event_on_one_line_without_raw_controls() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log_hostile_event);
        let text = captured.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        let event: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(event["fields"]["id"], FORGED, "nothing lost: {text}");
    }

    #[test]
    fn escapes_cover_c0_del_c1_and_line_separators() {
        let mut out = String::new();
        write!(
            Escape(&mut out),
            "a\u{0}b\tc\rd\u{7f}e\u{9b}f\u{2028}g\u{202e}h\\n"
        )
        .unwrap();
        assert_eq!(out, r"a\u{0}b\tc\rd\u{7f}e\u{9b}f\u{2028}g\u{202e}h\n");
    }

    #[test]
    fn colour_only_on_a_terminal() {
        assert!(!colour(false), "never when stderr is a file or a pipe");
    }
}
