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

pub(crate) fn from_pest(error: &pest::error::Error<Rule>, text: &str) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(pos) | InputLocation::Span((pos, _)) => pos.min(text.len()),
    };
    match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives, pos, text),
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
}
