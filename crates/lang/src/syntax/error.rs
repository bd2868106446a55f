//! pest errors → diagnostics in plain words. pest names the rules it tried at the furthest
//! position it reached; we turn them into phrases (`grammar::rule_name`), fold long lists
//! into one idea ("a statement"), say what came before and what was found, and add a help
//! sentence for the common mistakes.

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::{Rule, rule_name};
use crate::diagnostic::{Code, Diagnostic, closest};
use crate::source::Span;

const STATEMENTS: &[&str] = &[
    "`say`",
    "`ask`",
    "`if`",
    "`set`",
    "`goto`",
    "`route`",
    "`handoff`",
    "`end`",
    "`call`",
];
const ASK_OPTIONS: &[&str] = &[
    "`expect`",
    "`save`",
    "`invalid`",
    "`attempts`",
    "`timeout`",
    "`choice`",
];
const VALUES: &[&str] = &[
    "`(`",
    "a text in quotes",
    "a number",
    "`true` or `false`",
    "a list `[…]`",
    "a variable or field such as `contact.email`",
    "a variable name",
    "`[`",
    "`not`",
];
const OPERATORS: &[&str] = &[
    "`or`",
    "`and`",
    "`==`",
    "`!=`",
    "`<=`",
    "`>=`",
    "`<`",
    "`>`",
    "`is set` or `is empty`",
    "`is`",
    "`matches`",
];
const KEYWORDS: &[&str] = &[
    "scenario",
    "description",
    "start",
    "step",
    "languages",
    "language",
    "from",
    "say",
    "ask",
    "if",
    "else",
    "set",
    "goto",
    "route",
    "handoff",
    "end",
    "call",
    "expect",
    "save",
    "invalid",
    "attempts",
    "timeout",
    "choice",
    "then",
    "as",
    "and",
    "or",
    "not",
    "is",
    "matches",
    "true",
    "false",
];

/// Words that cannot be names (`grammar/scenario.pest`, rule `keyword`).
const RESERVED: &[&str] = &["true", "false", "not", "and", "or", "is", "matches"];

/// `braces`: each block's `{` and its `}`, from the prescan.
pub(crate) fn from_pest(
    error: &pest::error::Error<Rule>,
    text: &str,
    braces: &[(usize, Option<usize>)],
) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(pos) | InputLocation::Span((pos, _)) => pos.min(text.len()),
    };
    match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let found = token_at(text, pos);
            if let Some(diagnostic) = hyphenated_name(text, pos, found) {
                return diagnostic;
            }
            let closes = phrases(positives).iter().any(|p| p == "`}`");
            if closes && found.is_none_or(|t| t == "step") {
                if let Some(diagnostic) = unclosed(text, pos, found, braces) {
                    return diagnostic;
                }
            }
            describe(positives, pos, text)
        }
        ErrorVariant::CustomError { message } => {
            Diagnostic::new(Code::SyntaxError, Span::at(pos), message.clone())
        }
    }
}

fn describe(positives: &[Rule], pos: usize, text: &str) -> Diagnostic {
    let found = token_at(text, pos);
    let found_span = Span::new(pos, pos + found.map_or(0, str::len));
    let found_words = found.map_or_else(|| "the end of the file".to_owned(), |t| format!("`{t}`"));

    if positives.contains(&Rule::closing_quote) && found.is_none_or(|t| t.starts_with('\n')) {
        return Diagnostic::new(
            Code::UnterminatedString,
            Span::at(pos),
            "this text is not closed",
        )
        .with_label("the closing `\"` is missing here")
        .with_help(
            "end the text with `\"` on the same line; for a text over several lines, \
                 use `\"\"\"` before and after it",
        );
    }
    if positives.contains(&Rule::closing_triple_quote) && found.is_none() {
        return Diagnostic::new(
            Code::UnterminatedString,
            Span::at(pos),
            "this multi-line text is never closed",
        )
        .with_label("the file ends before the closing `\"\"\"`")
        .with_help("end the text with `\"\"\"` on a line of its own");
    }

    if positives.contains(&Rule::escape) && found == Some("\\") {
        let escape: String = text[pos..].chars().take(2).collect();
        return Diagnostic::new(
            Code::SyntaxError,
            Span::new(pos, pos + escape.len()),
            format!("`{escape}` is not an escape sequence"),
        )
        .with_label("unknown escape")
        .with_help(
            "the escapes are \\\" \\\\ \\{ \\} \\n \\t and \\u{…}; to write a backslash itself, write `\\\\`",
        );
    }

    let phrases = phrases(positives);
    let expected = join(&phrases);
    let before = previous_words(text, pos);
    let after = before.map(|w| format!(" after `{w}`")).unwrap_or_default();
    let message = format!("expected {expected}{after}, found {found_words}");
    let diagnostic = Diagnostic::new(Code::SyntaxError, found_span, message)
        .with_label(format!("expected {expected} here"));
    diagnostic.with_help(help(positives, &phrases, found, before))
}

/// `ask-email` where a name or statement goes: names cannot contain `-`.
fn hyphenated_name(text: &str, pos: usize, found: Option<&str>) -> Option<Diagnostic> {
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    let joined = found == Some("-")
        && pos > 0
        && is_name_byte(bytes[pos - 1])
        && bytes.get(pos + 1).is_some_and(u8::is_ascii_alphabetic);
    if !joined {
        return None;
    }
    let start = text[..pos]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let end = text[pos..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(text.len(), |i| pos + i);
    let name = &text[start..end];
    let fixed = name.replace('-', "_");
    Some(
        Diagnostic::new(
            Code::SyntaxError,
            Span::new(start, end),
            format!("names cannot contain `-`: `{name}` is not a name"),
        )
        .with_label("`-` is not allowed in a name")
        .with_help(format!(
            "names use only ASCII letters, digits and `_`: write `{fixed}` (here and wherever it is used)"
        )),
    )
}

/// A `}` is missing: names the `{` left open rather than the `step` (or the end of the file)
/// where pest noticed. The block left open is the first inside the innermost open one whose
/// `}` stands at another indentation than the line that opened it (that `}` was meant for an
/// outer block), else the innermost open block itself.
fn unclosed(
    text: &str,
    pos: usize,
    found: Option<&str>,
    braces: &[(usize, Option<usize>)],
) -> Option<Diagnostic> {
    let innermost = braces
        .iter()
        .filter(|(open, close)| *open < pos && close.is_none_or(|c| c >= pos))
        .map(|(open, _)| *open)
        .max()?;
    let misplaced = braces.iter().find_map(|(open, close)| {
        let close = (*close)?;
        let inside = *open > innermost && close < pos;
        let own_line = text[line_start(text, close)..close].trim().is_empty();
        (inside && own_line && indent(text, *open) != indent(text, close)).then_some(*open)
    });
    let open = misplaced.unwrap_or(innermost);
    let line = |offset: usize| text[..offset].matches('\n').count() + 1;
    let opened = text[line_start(text, open)..=open].trim();
    let (where_, span) = match found {
        Some(word) => (
            format!("`{word}` on line {}", line(pos)),
            Span::new(pos, pos + word.len()),
        ),
        None => ("the end of the file".to_owned(), Span::at(pos)),
    };
    Some(
        Diagnostic::new(
            Code::SyntaxError,
            Span::new(open, open + 1),
            format!(
                "missing `}}`: the `{{` of `{opened}` on line {} is still open at {where_}",
                line(open)
            ),
        )
        .with_label("this `{` is never closed")
        .with_secondary(span, "expected `}` before this")
        .with_help(
            "add the `}` that closes this block, at the indentation of the line that opens it",
        ),
    )
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The indentation of the line holding `offset`.
fn indent(text: &str, offset: usize) -> usize {
    let start = line_start(text, offset);
    text[start..]
        .find(|c: char| c != ' ' && c != '\t')
        .unwrap_or(0)
}

/// The phrases for the expected rules, de-duplicated and folded into groups.
fn phrases(positives: &[Rule]) -> Vec<String> {
    let mut raw: Vec<&str> = Vec::new();
    for rule in positives {
        let phrase = rule_name(*rule);
        if !raw.contains(&phrase) {
            raw.push(phrase);
        }
    }
    let mut out: Vec<String> = Vec::new();
    fold(
        &mut raw,
        &mut out,
        STATEMENTS,
        4,
        "a statement (`say`, `ask`, `goto`, …)",
    );
    fold(
        &mut raw,
        &mut out,
        ASK_OPTIONS,
        3,
        "an option (`expect`, `save`, `attempts`, …)",
    );
    fold(&mut raw, &mut out, VALUES, 3, "a value");
    fold(&mut raw, &mut out, OPERATORS, 3, "an operator");
    out.extend(raw.iter().map(|p| (*p).to_owned()));
    // `}` reads best last: "a statement or `}`".
    out.sort_by_key(|p| p == "`}`");
    out
}

/// Replaces the members of `group` by `name` when at least `min` of them are present.
fn fold(raw: &mut Vec<&str>, out: &mut Vec<String>, group: &[&str], min: usize, name: &str) {
    if raw.iter().filter(|p| group.contains(p)).count() >= min {
        raw.retain(|p| !group.contains(p));
        out.push(name.to_owned());
    }
}

fn join(phrases: &[String]) -> String {
    match phrases {
        [] => "something else".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn help(
    positives: &[Rule],
    phrases: &[String],
    found: Option<&str>,
    before: Option<&str>,
) -> String {
    let found_word = found.filter(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()));
    let wants_name = positives.iter().any(|r| {
        matches!(
            r,
            Rule::step_ref | Rule::step_name | Rule::var_name | Rule::scenario_name | Rule::path
        )
    });
    if found == Some("not") && before.is_some_and(|b| b.ends_with("not")) {
        return "`not` may appear only once in front of a value: write `x` rather than `not not x`"
            .into();
    }
    if found == Some("==") && positives.contains(&Rule::assign) {
        return "`set` takes a single `=`: `set name = value`; `==` compares two values in a condition".into();
    }
    if found == Some("'") {
        return "texts are written between double quotes: \"Hello\"".into();
    }
    if wants_name
        && found.is_some_and(|t| t.starts_with(|c: char| !c.is_ascii() && c.is_alphabetic()))
    {
        return "names use only ASCII letters, digits and `_`; accents and emoji belong in texts"
            .into();
    }
    if positives.contains(&Rule::arg_name)
        && found.is_some_and(|t| !t.starts_with(|c: char| c.is_ascii_alphabetic()))
    {
        return "arguments are named: write `name: value`, such as `tag: \"vip\"`".into();
    }
    if let Some(word) = found_word {
        if phrases.iter().any(|p| p == "`{`") && STATEMENTS.contains(&format!("`{word}`").as_str())
        {
            return "the statements of an `if` go between `{` and `}`: `if … { goto next }`".into();
        }
        if wants_name && RESERVED.contains(&word) {
            return format!("`{word}` is a reserved word of the language; choose another name");
        }
        let keywords = phrases
            .iter()
            .flat_map(|p| expand(p))
            .filter(|k| KEYWORDS.contains(k))
            .collect::<Vec<_>>();
        if let Some(best) = closest(word, keywords) {
            return format!("did you mean `{best}`?");
        }
    }
    if found == Some("=") && phrases.iter().any(|p| p == "an operator") {
        return "to compare two values write `==`; `=` only appears in `set name = value`".into();
    }
    if positives.contains(&Rule::step_ref) {
        return "name the step to go to, such as `goto handoff`".into();
    }
    if positives.contains(&Rule::field_name) {
        return "after a `.` comes the name of a field, such as `contact.email`".into();
    }
    if positives.contains(&Rule::EOI) {
        return "a file holds one scenario and this text comes after its closing `}`: \
                is there one `}` too many above?"
            .into();
    }
    if phrases.iter().any(|p| p.starts_with("a statement")) {
        return "each line of a step starts with a statement: say, ask, if, set, goto, \
                route team, handoff advisor, end or call"
            .into();
    }
    if phrases.iter().any(|p| p.starts_with("an option")) {
        return "inside `ask … { }` each line is an option: expect, save, invalid, attempts, \
                timeout or choice"
            .into();
    }
    if phrases.iter().any(|p| p == "a value") {
        return "write a value here: a text in quotes, a number, `true` or `false`, a list \
                `[…]`, or a name such as `contact.email`"
            .into();
    }
    "check the text just before this point: a quote, bracket or keyword may be missing".into()
}

/// The keywords mentioned by a phrase (for "did you mean").
fn expand(phrase: &str) -> Vec<&'static str> {
    match phrase {
        p if p.starts_with("a statement") => {
            STATEMENTS.iter().map(|s| s.trim_matches('`')).collect()
        }
        p if p.starts_with("an option") => {
            ASK_OPTIONS.iter().map(|s| s.trim_matches('`')).collect()
        }
        p => KEYWORDS
            .iter()
            .copied()
            .filter(|k| p == format!("`{k}`"))
            .collect(),
    }
}

/// The token starting at `pos`: a word, an operator, a line break, or one character.
fn token_at(text: &str, pos: usize) -> Option<&str> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let operator = |c: char| matches!(c, '=' | '!' | '<' | '>');
    let len = if first.is_ascii_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if operator(first) {
        rest.find(|c: char| !operator(c)).unwrap_or(rest.len())
    } else if first == '\r' && rest.starts_with("\r\n") {
        2
    } else {
        first.len_utf8()
    };
    rest.get(..len)
}

/// The word before `pos`, with `is`/`not` in front of `set`/`empty`: "after `is set`".
fn previous_words(text: &str, pos: usize) -> Option<&str> {
    let word = previous_word(text, pos)?;
    let start = word.as_ptr() as usize - text.as_ptr() as usize;
    let mut from = start;
    if matches!(word, "set" | "empty") {
        while let Some(earlier) = previous_word(text, from).filter(|w| matches!(*w, "is" | "not")) {
            from = earlier.as_ptr() as usize - text.as_ptr() as usize;
            if earlier == "is" {
                break;
            }
        }
    }
    text.get(from..start + word.len())
}

/// The word just before `pos` (skipping spaces), if the previous token is a word.
fn previous_word(text: &str, pos: usize) -> Option<&str> {
    let before = text.get(..pos)?.trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let word = before.get(start..)?;
    (!word.is_empty() && word.starts_with(|c: char| c.is_ascii_alphabetic())).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_reads_like_a_sentence() {
        assert_eq!(join(&["a".into()]), "a");
        assert_eq!(join(&["a".into(), "b".into(), "c".into()]), "a, b or c");
    }

    #[test]
    fn tokens_and_previous_words() {
        assert_eq!(token_at("goto }", 5), Some("}"));
        assert_eq!(token_at("say sey", 4), Some("sey"));
        assert_eq!(token_at("x", 1), None);
        assert_eq!(previous_word("goto   }", 7), Some("goto"));
        assert_eq!(previous_word("\"a\" }", 4), None);
    }

    fn error(text: &str) -> Diagnostic {
        match crate::syntax::parse(&crate::source::SourceFile::new("t.scn", text.to_owned())) {
            Err(diagnostic) => diagnostic,
            Ok(_) => panic!("a parse error expected"),
        }
    }

    #[test]
    fn a_missing_brace_names_the_block_it_leaves_open() {
        let text = "scenario s {\n  start a\n  step a {\n    if contact.name is set {\n      say \"hi\"\n    goto b\n  }\n  step b {\n    end\n  }\n}\n";
        let error = error(text);
        let if_brace = text.find("set {").unwrap() + 4;
        assert_eq!(error.primary.span, Span::new(if_brace, if_brace + 1));
        assert_eq!(
            error.message,
            "missing `}`: the `{` of `if contact.name is set {` on line 4 is still open at `step` on line 8"
        );
        let step_b = text.find("step b").unwrap();
        assert_eq!(error.secondary[0].span, Span::new(step_b, step_b + 4));

        // At the end of the file, with nothing misplaced: the innermost open block.
        let error = self::error("scenario s {\n  start a\n  step a {\n    end\n");
        assert_eq!(
            error.message,
            "missing `}`: the `{` of `step a {` on line 3 is still open at the end of the file"
        );
    }

    #[test]
    fn a_hyphen_in_a_name_says_names_cannot_contain_it() {
        for text in [
            "scenario s {\n  start a\n  step ask-email {\n    end\n  }\n}\n",
            "scenario s {\n  start ask-email\n  step ask_email {\n    end\n  }\n}\n",
            "scenario s {\n  start a\n  step a {\n    goto ask-email\n  }\n}\n",
        ] {
            let error = error(text);
            assert_eq!(
                error.message, "names cannot contain `-`: `ask-email` is not a name",
                "{text}"
            );
            let start = text.find("ask-email").unwrap();
            assert_eq!(error.primary.span, Span::new(start, start + 9));
            assert!(error.help.as_deref().unwrap().contains("`ask_email`"));
        }
    }
}
