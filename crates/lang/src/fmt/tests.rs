//! Formatter invariants over the shipped scenarios, the messy fixtures in
//! `tests/fixtures/fmt/` and inline inputs: idempotence, an unchanged tree, every comment
//! kept once, and the layout rules (no trailing whitespace, one final newline).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::format;
use crate::ast::{
    AskOptionKind, Expr, ExprKind, Flow, Scenario, Stmt, StmtKind, Text, Validator, Visit,
    erase_flow_spans, erase_spans, walk_block, walk_expr, walk_stmt,
};
use crate::source::{SourceFile, Span};
use crate::syntax::{Parsed, parse};

fn parsed(name: &str, text: &str) -> (Parsed, SourceFile) {
    let file = SourceFile::new(name, text);
    match parse(&file) {
        Ok(parsed) => (parsed, file),
        Err(error) => panic!("{name} does not parse: {error:?}\n{text}"),
    }
}

fn fmt(name: &str, text: &str) -> String {
    let (parsed, file) = parsed(name, text);
    format(&parsed, &file)
}

fn tree(name: &str, text: &str) -> (Option<Scenario>, Vec<Flow>) {
    let parsed = parsed(name, text).0;
    let mut scenario = parsed.scenario;
    if let Some(scenario) = &mut scenario {
        erase_spans(scenario);
    }
    let mut flows = parsed.flows;
    flows.iter_mut().for_each(erase_flow_spans);
    (scenario, flows)
}

fn comments(name: &str, text: &str) -> Vec<String> {
    let (parsed, file) = parsed(name, text);
    let mut found: Vec<String> = parsed
        .comments
        .iter()
        .map(|span| file.slice(*span).trim_end().to_owned())
        .collect();
    found.sort();
    found
}

/// All the invariants; returns the formatted text.
fn check(name: &str, input: &str) -> String {
    let once = fmt(name, input);
    let twice = fmt(name, &once);
    assert_eq!(once, twice, "{name}: not idempotent; first output:\n{once}");
    assert_eq!(
        tree(name, input),
        tree(name, &once),
        "{name}: tree changed:\n{once}"
    );
    assert_eq!(
        comments(name, input),
        comments(name, &once),
        "{name}: comments:\n{once}"
    );
    assert!(
        once.ends_with('\n') && !once.ends_with("\n\n"),
        "{name}: end:\n{once}"
    );
    for (number, line) in once.lines().enumerate() {
        assert_eq!(
            line,
            line.trim_end(),
            "{name}: trailing blank on line {}",
            number + 1
        );
        assert!(!line.contains('\t'), "{name}: tab on line {}", number + 1);
    }
    assert!(
        !once.contains("{\n\n"),
        "{name}: blank line after `{{`:\n{once}"
    );
    once
}

fn scn_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "scn"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .scn file in {}", dir.display());
    files
}

/// The repository's root (this crate is in `crates/lang`).
fn manifest_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_scenarios_format_cleanly() {
    for path in scn_files(&manifest_dir().join("scenarios")) {
        let text = std::fs::read_to_string(&path).unwrap();
        check(&path.display().to_string(), &text);
    }
}

/// Shipped scenarios written by hand in a layout the formatter does not produce; their
/// owners reformat them (whitespace only), then take them off this list.
const NOT_YET_CANONICAL: &[&str] = &["ticket_sync.scn"];

#[test]
fn shipped_scenarios_are_in_canonical_form() {
    let mut drifted = Vec::new();
    for path in scn_files(&manifest_dir().join("scenarios")) {
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if NOT_YET_CANONICAL.contains(&file_name) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if fmt(&path.display().to_string(), &text) != text {
            drifted.push(path.display().to_string());
        }
    }
    assert!(drifted.is_empty(), "not in canonical form: {drifted:?}");
}

#[test]
fn messy_fixtures_keep_their_tree_and_comments() {
    for path in scn_files(&manifest_dir().join("tests/fixtures/fmt")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = check(&path.display().to_string(), &text);
        assert_ne!(formatted, text, "{} is not messy", path.display());
    }
}

#[test]
fn canonical_layout() {
    let input = "# top\nscenario  s {start a\n\n\n step a { say \"x\"\n\n\n goto a }\
                 step b {} }";
    let expected = "# top\nscenario s {\n  start a\n\n  step a {\n    say \"x\"\n\n    \
                    goto a\n  }\n\n  step b {}\n}\n";
    assert_eq!(check("layout", input), expected);
}

#[test]
fn comments_stay_where_they_belong() {
    let input = "scenario s { step a {\n  goto a # why\n\n  # alone\n  end\n  # last\n} }\n# end";
    let expected = "scenario s {\n  step a {\n    goto a # why\n\n    # alone\n    end\n    \
                    # last\n  }\n}\n# end\n";
    assert_eq!(check("comments", input), expected);
}

#[test]
fn comments_inside_one_line_constructs_follow_them() {
    let input = "scenario s { step a {\n  call x.y(a: 1, # one\n b: 2) # two\n  end } }";
    let expected =
        "scenario s {\n  step a {\n    call x.y(a: 1, b: 2) # two\n    # one\n    end\n  }\n}\n";
    assert_eq!(check("inner", input), expected);
    let empty = "scenario s { step a { if x { # todo\n } } }";
    let expected = "scenario s {\n  step a {\n    if x { # todo\n    }\n  }\n}\n";
    assert_eq!(check("empty block", empty), expected);
}

#[test]
fn else_chains_and_collapsed_blocks() {
    let input = "scenario s { step a { if a {} else if b { end } else {} } }";
    let expected =
        "scenario s {\n  step a {\n    if a {} else if b {\n      end\n    } else {}\n  }\n}\n";
    assert_eq!(check("else", input), expected);
}

#[test]
fn long_calls_get_one_argument_per_line() {
    let long = "x".repeat(80);
    let input = format!("scenario s {{ step a {{ call z.t(a: \"{long}\", b: 1) as t }} }}");
    let expected = format!(
        "scenario s {{\n  step a {{\n    call z.t(\n      a: \"{long}\",\n      b: 1,\n    \
         ) as t\n  }}\n}}\n"
    );
    assert_eq!(check("long call", &input), expected);
}

#[test]
fn triple_strings_round_trip_at_every_indentation() {
    let cases = [
        "",
        "a",
        "a\n",
        "\n",
        "\na",
        "a\n\n",
        "  lead",
        "trail  ",
        " ",
        "\"\"\"",
        "x\"",
        "\t",
        "a\r\nb",
        "{",
        "\\",
        "é😀\n  ç",
    ];
    for case in cases {
        let escaped = case
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('{', "\\{")
            .replace('\n', "\\n")
            .replace('\t', "\\t")
            .replace('\r', "\\u{D}");
        // One `"""` line made of escapes holds the case; the output spreads it over lines.
        let input = format!(
            "scenario s {{ step a {{ say \"\"\"\n    {escaped}\n    \"\"\"\n if x {{ \
             say \"\"\"\n{escaped}\n\"\"\" }} }} }}"
        );
        check(&format!("triple {case:?}"), &input);
    }
}

#[test]
fn parsed_expressions_print_back_unchanged() {
    // A small generator of expressions following the grammar's shape; the printer must
    // never add parentheses to (or drop them from) what the parser builds.
    let operands = [
        "a", "b.c", "1", "-2.5", "true", "\"s\"", "[x, 1]", "(a or b)", "(not a)",
    ];
    let infixes = ["or", "and", "==", "!=", "<", "<=", ">", ">="];
    let postfixes = [
        "is set",
        "is not set",
        "is empty",
        "is not empty",
        "matches /x/i",
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    for _ in 0..400 {
        let mut expression = String::new();
        for operand in 0..=next(4) {
            if operand > 0 {
                write!(expression, " {} ", infixes[next(infixes.len())]).unwrap();
            }
            if next(3) == 0 {
                expression.push_str("not ");
            }
            expression.push_str(operands[next(operands.len())]);
            for _ in 0..next(3).saturating_sub(1) {
                write!(expression, " {}", postfixes[next(postfixes.len())]).unwrap();
            }
        }
        let input = format!("scenario s {{ step a {{ set v = {expression} }} }}");
        let formatted = check(&expression, &input);
        assert!(
            formatted.contains(&format!("set v = {expression}\n")),
            "{formatted}"
        );
    }
}

/// The spans of texts and regexes, where a `#` would not start a comment.
#[derive(Default)]
struct Literals(Vec<Span>);

impl<'a> Visit<'a> for Literals {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let StmtKind::Ask(ask) = &stmt.kind {
            for option in &ask.options {
                if let AskOptionKind::Expect(Validator::Regex(regex))
                | AskOptionKind::When { regex, .. } = &option.kind
                {
                    self.0.push(regex.span);
                }
            }
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let ExprKind::Matches { regex, .. } = &expr.kind {
            self.0.push(regex.span);
        }
        walk_expr(self, expr);
    }

    fn visit_text(&mut self, text: &'a Text) {
        self.0.push(text.span);
    }
}

#[test]
fn comments_between_any_two_tokens_survive() {
    let mut inputs = scn_files(&manifest_dir().join("scenarios"));
    inputs.extend(scn_files(&manifest_dir().join("tests/fixtures/fmt")));
    for path in inputs {
        let text = std::fs::read_to_string(&path).unwrap();
        let (parsed, _) = parsed("input", &text);
        let mut literals = Literals::default();
        let flow_steps = parsed.flows.iter().flat_map(Flow::steps);
        for step in parsed
            .scenario
            .iter()
            .flat_map(Scenario::steps)
            .chain(flow_steps)
        {
            walk_block(&mut literals, &step.body);
        }
        if let Some(description) = parsed.scenario.as_ref().and_then(Scenario::description) {
            literals.visit_text(description);
        }
        for item in parsed.flows.iter().flat_map(|flow| &flow.items) {
            if let crate::ast::ItemKind::Description(description) = &item.kind {
                literals.visit_text(description);
            }
        }
        if let Some(escape) = parsed.scenario.as_ref().and_then(Scenario::escape) {
            escape
                .words
                .iter()
                .for_each(|word| literals.visit_text(word));
        }
        let inside = |at: usize| {
            let covered = |span: &Span| span.range().contains(&at);
            literals.0.iter().any(covered) || parsed.comments.iter().any(covered)
        };
        let gaps: Vec<usize> = text
            .char_indices()
            .filter(|&(at, c)| (c == ' ' || c == '\n') && !inside(at))
            .map(|(at, _)| at)
            .collect();
        for variant in 0..5 {
            let mut noisy = String::new();
            let mut last = 0;
            for (number, &at) in gaps.iter().enumerate().skip(variant).step_by(5) {
                noisy.push_str(&text[last..=at]);
                writeln!(noisy, "# c{number}").unwrap();
                last = at + 1;
            }
            noisy.push_str(&text[last..]);
            check(&format!("{} variant {variant}", path.display()), &noisy);
        }
    }
}

#[test]
fn crlf_and_byte_order_mark() {
    let input =
        "\u{FEFF}# top\r\nscenario s {\r\n  step a { # why\r\n\r\n    goto a\r\n  }\r\n}\r\n";
    let expected = "# top\nscenario s {\n  step a { # why\n    goto a\n  }\n}\n";
    assert_eq!(check("crlf", input), expected);
}

#[test]
fn translations_stay_with_their_text() {
    let input = "scenario s { languages fr,en language   from contact.language start a\n step a { say \"Bonjour\" en \"Hello\" # hi\n ask \"Q ?\" en \"Q?\" { choice \"Oui\"\n en \"Yes\" -> a\n choice \"Non\" # why\n en \"No\"\n invalid \"\"\"\n  Pardon\n  \"\"\" en \"Sorry\" } } }\n";
    let expected = "scenario s {\n  languages fr, en\n  language from contact.language\n  start a\n\n  step a {\n    say \"Bonjour\"\n      en \"Hello\" # hi\n    ask \"Q ?\"\n      en \"Q?\" {\n      choice \"Oui\" en \"Yes\" -> a\n      choice \"Non\" # why\n        en \"No\"\n      invalid \"\"\"\n        Pardon\n        \"\"\"\n        en \"Sorry\"\n    }\n  }\n}\n";
    assert_eq!(check("translations", input), expected);
}

#[test]
fn a_choice_too_wide_for_one_line_puts_its_translations_below() {
    let long = "x".repeat(40);
    let input = format!(
        "scenario s {{ step a {{ ask \"Q\" {{ choice \"{long}\" en \"{long}\" -> a }} }} }}\n"
    );
    let out = check("wide choice", &input);
    assert!(
        out.contains(&format!("choice \"{long}\"\n        en \"{long}\" -> a\n")),
        "{out}"
    );
}

#[test]
fn a_statement_after_a_text_is_not_a_translation() {
    let out = check(
        "two says",
        "scenario s { step a { say \"a\" say \"b\" end } }\n",
    );
    assert!(out.contains("    say \"a\"\n    say \"b\"\n"), "{out}");
}

#[test]
fn answer_options_and_the_escape_print_canonically() {
    let input = "scenario s { escape \"agent\" ,\"human\"->handoff   advisor\nescape \"x\" -> a start a step a { ask \"Q\" { choice \"Français\" en \"French\"=\"fr\" ->a\n expect  integer 1 ..5 expect one   of \"a\" ,\"b\" when /re|x/i->a } } }\n";
    let expected = "scenario s {\n  escape \"agent\", \"human\" -> handoff advisor\n  escape \"x\" -> a\n  start a\n\n  step a {\n    ask \"Q\" {\n      choice \"Français\" en \"French\" = \"fr\" -> a\n      expect integer 1..5\n      expect one of \"a\", \"b\"\n      when /re|x/i -> a\n    }\n  }\n}\n";
    assert_eq!(check("answers", input), expected);
}

#[test]
fn rich_messages_and_variants_have_one_layout() {
    let input =
        std::fs::read_to_string(manifest_dir().join("tests/fixtures/fmt/messy_rich.scn")).unwrap();
    let expected = r#"# Rich messages and variants, written carelessly.
scenario rich {
  languages fr, en
  language from contact.language
  start welcome

  step welcome {
    say one of
      "Bonjour !" en "Hello!",
      "Salut !" en "Hi!" # greeting
    say one of "A", "B"
    link "Suivre" en "Track" "https://acme.example/t/{contact.order_number or "x"}"
    image "https://acme.example/map.png" "Plan" en "Map" # the map
    card "Votre commande"
      en "Your order" { # a card
      text "Expédiée"
        en "Shipped"
      image "https://acme.example/p.png" "Colis" en "Parcel"
      # buttons
      link "Suivre" en "Track" "https://acme.example/t"
      link "Aide" en "Help" "https://acme.example/help"
    }
    end
  }
}
"#;
    assert_eq!(check("messy_rich", &input), expected);
}
