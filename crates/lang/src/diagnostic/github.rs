//! GitHub Actions workflow commands: one `::error file=…,line=…,col=…::message` line per
//! diagnostic, which GitHub shows as an annotation on the pull request's diff.

use super::{Diagnostic, Severity};
use crate::source::SourceFile;

/// One annotation line (without trailing newline).
pub fn annotation(file: &SourceFile, diagnostic: &Diagnostic) -> String {
    let start = file.line_column(diagnostic.primary.span.start as usize);
    let end = file.line_column(diagnostic.primary.span.end as usize);
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(file.name()),
        start.line,
        start.column,
        end.line,
        end.column,
        escape_property(&format!(
            "{} {}",
            diagnostic.code.id(),
            diagnostic.code.name()
        )),
        escape_data(&message),
    )
}

// The escaping rules of @actions/core's `command.ts`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::Span;

    #[test]
    fn annotation_escapes_and_positions() {
        let file = SourceFile::new("a,b.scn", "x\n  goto nowhere\n");
        let diagnostic = Diagnostic::new(Code::UnknownStep, Span::new(9, 16), "no step 100%")
            .with_help("declare it");
        assert_eq!(
            annotation(&file, &diagnostic),
            "::error file=a%2Cb.scn,line=2,col=8,endLine=2,endColumn=15,\
             title=C101 unknown-step::no step 100%25%0Ahelp: declare it"
        );
    }
}
