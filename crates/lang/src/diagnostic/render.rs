//! Human rendering: the only module that uses miette (STYLE C3). A diagnostic becomes a
//! code frame with the file, line and column, the source line, a caret under the span, the
//! code and name, and the help sentence. No global hook is installed; colour is decided by
//! the caller.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};

use super::{Diagnostic, Label, Severity};
use crate::source::SourceFile;

/// Width used for wrapping; fixed so that output does not depend on the terminal.
const WIDTH: usize = 100;

/// Renders one diagnostic of `file` as text, with ANSI colours when `color` is true.
pub fn render(file: &SourceFile, diagnostic: &Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false);
    // The code frame shows source lines: a password in one is masked first (`redact`).
    let text = super::redact::masked(file.text());
    let report = Report {
        file,
        text: &text,
        diagnostic,
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // miette only fails on a formatter error; fall back to one plain line.
        return render_plain(file, diagnostic);
    }
    out
}

/// A single `file:line:col: severity[CODE]: message` line.
pub fn render_plain(file: &SourceFile, diagnostic: &Diagnostic) -> String {
    let at = file.line_column(diagnostic.primary.span.start as usize);
    format!(
        "{}:{}:{}: {}[{}]: {}\n",
        file.name(),
        at.line,
        at.column,
        diagnostic.severity.as_str(),
        diagnostic.code.id(),
        diagnostic.message
    )
}

struct Report<'a> {
    file: &'a SourceFile,
    /// The file's text as shown, passwords masked.
    text: &'a str,
    diagnostic: &'a Diagnostic,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = self.diagnostic.code;
        Some(Box::new(format!("{} {}", code.id(), code.name())))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = std::iter::once(labeled(&self.diagnostic.primary, true));
        let secondary = self.diagnostic.secondary.iter().map(|l| labeled(l, false));
        Some(Box::new(primary.chain(secondary)))
    }
}

impl miette::SourceCode for Report<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.file.name().to_owned(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from((label.span.start as usize, label.span.len()));
    if primary {
        LabeledSpan::new_primary_with_span(label.message.clone(), span)
    } else {
        LabeledSpan::new_with_span(label.message.clone(), span)
    }
}
