//! The formatter: AST plus comment table → the canonical text of a scenario (STYLE C7).
//!
//! Everything is printed from the tree; only comment text is copied from the source. The
//! layout: two spaces per level, one statement or `ask` option per line, a blank line
//! before each `step`, at most one blank line where the author left some between two
//! statements, none after `{` or before `}`, `{}` for an empty block, and a `call` whose
//! line would pass 100 columns (or that has a `"""` argument) gets one argument per line.
//! A text's translations (`en "…"`) go one per line, one level deeper than the statement,
//! except a choice's, which stay on the choice's line when it fits in 100 columns and no
//! comment stands between them.
//! The source is otherwise only consulted for byte offsets: where comments and blank lines
//! were (`printer.rs`).
//!
//! Invariants, tested in `tests.rs`: formatting is idempotent, the parse of the output
//! equals the parse of the input once spans are erased, and every comment comes out
//! exactly once.

mod expr;
mod printer;
mod text;

#[cfg(test)]
mod tests;

use crate::ast::{
    AskOption, AskOptionKind, Block, Call, Card, If, Image, Item, ItemKind, Jump, JumpKind, Link,
    Message, Rich, Stmt, StmtKind, Validator,
};
use crate::source::{SourceFile, Span};
use crate::syntax::Parsed;
use expr::expr;
use printer::{Blank, Printer, width};
use text::text;

/// A `call` line longer than this gets one argument per line.
const MAX_WIDTH: usize = 100;

/// Formats a parsed scenario in the canonical layout, keeping every comment.
/// An expression as the formatter writes it on one line, e.g. for a graph's edge label.
pub(crate) fn expression(e: &crate::ast::Expr) -> String {
    expr(e, 0)
}

pub fn format(parsed: &Parsed, source: &SourceFile) -> String {
    let mut printer = Printer::new(source.text(), &parsed.comments);
    let mut blank = Blank::Keep;
    if let Some(scenario) = &parsed.scenario {
        let header = format!("scenario {}", scenario.name.text);
        let open = printer.next_token(scenario.name.span.end as usize);
        container(
            &mut printer,
            &header,
            &scenario.items,
            scenario.span,
            open,
            blank,
        );
        blank = Blank::Always;
    }
    for flow in &parsed.flows {
        let params: Vec<String> = flow
            .params
            .iter()
            .map(|param| format!("{}: {}", param.name.text, param.kind.word()))
            .collect();
        let header = format!("flow {}({})", flow.name.text, params.join(", "));
        let open = printer.next_token(flow.params_span.end as usize);
        container(&mut printer, &header, &flow.items, flow.span, open, blank);
        blank = Blank::Always;
    }
    printer.finish()
}

/// A scenario or a flow: `header {`, its items, `}`; `open` is where its `{` is.
fn container(
    p: &mut Printer<'_>,
    header: &str,
    items: &[Item],
    span: Span,
    open: usize,
    blank: Blank,
) {
    let end = p.code_end(span);
    let close = end.saturating_sub(1);
    p.start_node(span.start as usize, 0, blank);
    p.push(header);
    p.push(" {");
    if items.is_empty() && !p.has_comment_in(open + 1, close) {
        p.push("}");
        p.close(end);
        return;
    }
    p.close(open + 1);
    let mut after_step = false;
    for item in items {
        let is_step = matches!(item.kind, ItemKind::Step(_));
        let blank = if is_step || after_step {
            Blank::Always
        } else {
            Blank::Keep
        };
        self::item(p, item, blank);
        after_step = is_step;
    }
    p.flush_comments(close, 1, Blank::Keep);
    p.open(0);
    p.push("}");
    p.close(end);
}

fn item(p: &mut Printer<'_>, item: &Item, blank: Blank) {
    p.start_node(item.span.start as usize, 1, blank);
    match &item.kind {
        ItemKind::Description(description) => {
            p.push("description ");
            p.push(&text(description, 1));
        }
        ItemKind::Start(step) => {
            p.push("start ");
            p.push(&step.text);
        }
        ItemKind::Entry(steps) => {
            let names: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
            p.push("entry ");
            p.push(&names.join(", "));
        }
        ItemKind::Hook { event, step } => {
            p.push("on ");
            p.push(event.word());
            p.push(" goto ");
            p.push(&step.text);
        }
        ItemKind::Languages(languages) => {
            let tags: Vec<&str> = languages.iter().map(|l| l.text.as_str()).collect();
            p.push("languages ");
            p.push(&tags.join(", "));
        }
        ItemKind::LanguageFrom(path) => {
            p.push("language from ");
            p.push(&path.dotted());
        }
        ItemKind::Escape(escape) => {
            let words: Vec<String> = escape.words.iter().map(|w| text(w, 1)).collect();
            p.push("escape ");
            p.push(&words.join(", "));
            p.push(" -> ");
            p.push(&match &escape.target.kind {
                JumpKind::Goto(step) => step.text.clone(),
                JumpKind::Handoff | JumpKind::End => jump(&escape.target),
            });
        }
        ItemKind::Step(step) => {
            p.push("step ");
            p.push(&step.name.text);
            p.push(" ");
            block(p, &step.body, 1);
        }
        ItemKind::Include(include) => {
            let args: Vec<String> = include
                .args
                .iter()
                .map(|arg| format!("{}: {}", arg.name.text, arg.value.dotted()))
                .collect();
            p.push("include ");
            p.push(&include.flow.text);
            p.push(&format!("({})", args.join(", ")));
            if let Some(alias) = &include.alias {
                p.push(" as ");
                p.push(&alias.text);
            }
        }
    }
    p.close(p.code_end(item.span));
}

/// Prints `{`, the statements and `}`; the line holding `{` is already begun, and the
/// line holding `}` is left open for the caller (`} else {`, a trailing comment).
fn block(p: &mut Printer<'_>, block: &Block, indent: usize) {
    let open = block.span.start as usize;
    let close = p.code_end(block.span).saturating_sub(1);
    p.push("{");
    if block.statements.is_empty() && !p.has_comment_in(open + 1, close) {
        p.push("}");
        return;
    }
    p.close(open + 1);
    for stmt in &block.statements {
        statement(p, stmt, indent + 1);
    }
    p.flush_comments(close, indent + 1, Blank::Keep);
    p.open(indent);
    p.push("}");
}

fn statement(p: &mut Printer<'_>, stmt: &Stmt, indent: usize) {
    let end = p.code_end(stmt.span);
    p.start_node(stmt.span.start as usize, indent, Blank::Keep);
    match &stmt.kind {
        StmtKind::Say(message) => {
            p.push("say ");
            self::message(p, message, indent, Layout::Lines);
        }
        StmtKind::SayOneOf(variants) => one_of(p, variants, stmt.span, indent),
        StmtKind::Rich(Rich::Link(link)) => self::link(p, link, indent),
        StmtKind::Rich(Rich::Image(image)) => self::image(p, image, indent),
        StmtKind::Rich(Rich::Card(card)) => self::card(p, card, indent),
        StmtKind::Ask(ask) => {
            p.push("ask ");
            message(p, &ask.prompt, indent, Layout::Lines);
            if !ask.options.is_empty() {
                p.push(" {");
                let open = p.next_token(ask.prompt.end() as usize);
                p.close(open + 1);
                for option in &ask.options {
                    ask_option(p, option, indent + 1);
                }
                p.flush_comments(end.saturating_sub(1), indent + 1, Blank::Keep);
                p.open(indent);
                p.push("}");
            }
        }
        StmtKind::If(if_stmt) => if_chain(p, if_stmt, indent),
        StmtKind::Set { name, value } => {
            p.push("set ");
            p.push(&name.text);
            p.push(" = ");
            p.push(&expr(value, indent));
        }
        StmtKind::SetField { target, value } => {
            p.push("set ");
            p.push(&target.dotted());
            p.push(" = ");
            p.push(&expr(value, indent));
        }
        StmtKind::Goto(step) => {
            p.push("goto ");
            p.push(&step.text);
        }
        StmtKind::RouteTeam(team) => {
            p.push("route team ");
            p.push(&text(team, indent));
        }
        StmtKind::Handoff => p.push("handoff advisor"),
        StmtKind::End => p.push("end"),
        StmtKind::Call(call) => self::call(p, call, indent),
    }
    p.close(end);
}

/// `say one of "A", "B"` on one line when it fits and no variant is translated; else one
/// variant per line, one level deeper, each but the last followed by `,`.
fn one_of(p: &mut Printer<'_>, variants: &[Message], span: Span, indent: usize) {
    p.push("say one of");
    let texts: Vec<String> = variants.iter().map(|v| text(&v.text, indent + 1)).collect();
    let joined = format!(" {}", texts.join(", "));
    let simple = variants.iter().all(|v| v.translations.is_empty())
        && !joined.contains('\n')
        && !p.has_comment_in(span.start as usize, p.code_end(span))
        && width(indent, p.line_so_far()) + joined.chars().count() <= MAX_WIDTH;
    if simple {
        p.push(&joined);
        return;
    }
    // The line of `say one of` ends after `of` (a comment after it stays on that line).
    let one = p.next_token(span.start as usize + "say".len());
    let mut end = p.next_token(one + "one".len()) + "of".len();
    for (index, variant) in variants.iter().enumerate() {
        p.close(end);
        p.start_node(variant.text.span.start as usize, indent + 1, Blank::Never);
        let last = index + 1 == variants.len();
        message(
            p,
            variant,
            indent + 1,
            Layout::JoinedIfFits(usize::from(!last)),
        );
        if !last {
            p.push(",");
        }
        end = variant.end() as usize;
    }
}

/// `link "LABEL" "URL"`; translations of the label stay on its line when they fit.
fn link(p: &mut Printer<'_>, link: &Link, indent: usize) {
    p.push("link ");
    let url = text(&link.url, indent + 1);
    message(
        p,
        &link.label,
        indent,
        Layout::JoinedIfFits(url.chars().count() + 1),
    );
    p.push(" ");
    p.push(&url);
}

/// `image "URL" "ALT"`.
fn image(p: &mut Printer<'_>, image: &Image, indent: usize) {
    p.push("image ");
    p.push(&text(&image.url, indent + 1));
    p.push(" ");
    message(p, &image.alt, indent, Layout::JoinedIfFits(0));
}

/// `card "TITLE" {`, then `text`, `image` and each `link` on a line of its own, then `}`.
fn card(p: &mut Printer<'_>, card: &Card, indent: usize) {
    p.push("card ");
    message(p, &card.title, indent, Layout::Lines);
    p.push(" {");
    let open = card.body.start as usize;
    let close = p.code_end(card.body).saturating_sub(1);
    p.close(open + 1);
    if let Some(body) = &card.text {
        p.start_node(body.text.span.start as usize, indent + 1, Blank::Keep);
        p.push("text ");
        message(p, body, indent + 1, Layout::Lines);
        p.close(body.end() as usize);
    }
    if let Some(picture) = &card.image {
        p.start_node(picture.span.start as usize, indent + 1, Blank::Keep);
        image(p, picture, indent + 1);
        p.close(picture.span.end as usize);
    }
    for button in &card.links {
        p.start_node(button.span.start as usize, indent + 1, Blank::Keep);
        link(p, button, indent + 1);
        p.close(button.span.end as usize);
    }
    p.flush_comments(close, indent + 1, Blank::Keep);
    p.open(indent);
    p.push("}");
}

fn if_chain(p: &mut Printer<'_>, if_stmt: &If, indent: usize) {
    for (index, branch) in if_stmt.branches.iter().enumerate() {
        p.push(if index == 0 { "if " } else { " else if " });
        p.push(&expr(&branch.condition, indent));
        p.push(" ");
        block(p, &branch.body, indent);
    }
    if let Some(otherwise) = &if_stmt.otherwise {
        p.push(" else ");
        block(p, otherwise, indent);
    }
}

fn ask_option(p: &mut Printer<'_>, option: &AskOption, indent: usize) {
    p.start_node(option.span.start as usize, indent, Blank::Keep);
    match &option.kind {
        AskOptionKind::Expect(Validator::Named(name)) => {
            p.push("expect ");
            p.push(&name.text);
        }
        AskOptionKind::Expect(Validator::Ranged(name, range)) => {
            p.push(&format!(
                "expect {} {}..{}",
                name.text, range.low.text, range.high.text
            ));
        }
        AskOptionKind::Expect(Validator::Regional(name, region)) => {
            p.push(&format!("expect {} {}", name.text, region.text));
        }
        AskOptionKind::Expect(Validator::OneOf(texts)) => {
            let texts: Vec<String> = texts.iter().map(|t| text(t, indent)).collect();
            p.push("expect one of ");
            p.push(&texts.join(", "));
        }
        AskOptionKind::When { regex, target } => {
            p.push(&format!(
                "when /{}/{} -> {}",
                regex.pattern, regex.flags, target.text
            ));
        }
        AskOptionKind::Expect(Validator::Regex(regex)) => {
            p.push("expect /");
            p.push(&regex.pattern);
            p.push("/");
            p.push(&regex.flags);
        }
        AskOptionKind::Save(path) => {
            p.push("save ");
            p.push(&path.dotted());
        }
        AskOptionKind::Invalid(invalid) => {
            p.push("invalid ");
            message(p, invalid, indent, Layout::Lines);
        }
        AskOptionKind::Attempts { count, then } => {
            p.push(&format!("attempts {} then {}", count.value, jump(then)));
        }
        AskOptionKind::Timeout { duration, then } => {
            p.push(&format!("timeout {} then {}", duration.text, jump(then)));
        }
        AskOptionKind::Choice {
            label,
            value,
            target,
        } => {
            p.push("choice ");
            let value = value.as_ref().map(|v| format!(" = {}", text(v, indent)));
            let arrow = target.as_ref().map_or(0, |t| t.text.len() + 4)
                + value.as_ref().map_or(0, String::len);
            message(p, label, indent, Layout::JoinedIfFits(arrow));
            if let Some(value) = value {
                p.push(&value);
            }
            if let Some(target) = target {
                p.push(" -> ");
                p.push(&target.text);
            }
        }
    }
    p.close(p.code_end(option.span));
}

/// How a message's translations are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// Each translation on a line of its own, one level deeper (`say`, `ask`, `invalid`:
    /// the texts of one message read one under the other).
    Lines,
    /// On the line of the default text when the whole line, with this many more columns,
    /// fits (a choice's short labels); else as `Lines`.
    JoinedIfFits(usize),
}

/// Prints a message's default text, then its translations; the line of the default text is
/// begun, and the line of the last text is left open for the caller (` {`, ` -> step`).
fn message(p: &mut Printer<'_>, message: &Message, indent: usize, layout: Layout) {
    p.push(&text(&message.text, indent));
    if message.translations.is_empty() {
        return;
    }
    let texts: Vec<String> = message
        .translations
        .iter()
        .map(|t| format!("{} {}", t.language.text, text(&t.text, indent + 1)))
        .collect();
    // A comment between two texts keeps them on their lines, so it stays between them (one
    // inside a translation, between its language and its text, goes after the option).
    let mut before = message.text.span.end as usize;
    let commented = message.translations.iter().any(|t| {
        let gap = p.has_comment_in(before, t.span.start as usize);
        before = t.text.span.end as usize;
        gap
    });
    if let (Layout::JoinedIfFits(more), false) = (layout, commented) {
        let joined = format!(" {}", texts.join(" "));
        let wide = width(indent, p.line_so_far()) + joined.chars().count() + more;
        if !joined.contains('\n') && wide <= MAX_WIDTH {
            p.push(&joined);
            return;
        }
    }
    let mut end = message.text.span.end as usize;
    for (translation, printed) in message.translations.iter().zip(texts) {
        p.close(end);
        p.start_node(translation.span.start as usize, indent + 1, Blank::Never);
        p.push(&printed);
        end = translation.text.span.end as usize;
    }
}

fn jump(jump: &Jump) -> String {
    match &jump.kind {
        JumpKind::Goto(step) => format!("goto {}", step.text),
        JumpKind::Handoff => "handoff advisor".to_owned(),
        JumpKind::End => "end".to_owned(),
    }
}

/// `call a.b(x: 1, y: 2) as r { on error goto s }`, or with one argument per line (and
/// trailing commas) when that line would be too wide or holds a multi-line text.
fn call(p: &mut Printer<'_>, call: &Call, indent: usize) {
    let head = format!("call {}(", call.action.text);
    let mut tail = String::from(")");
    if let Some(result) = &call.result {
        tail.push_str(" as ");
        tail.push_str(&result.text);
    }
    if let Some(on_error) = &call.on_error {
        tail.push_str(" { on error ");
        tail.push_str(&jump(on_error));
        tail.push_str(" }");
    }
    let joined: Vec<String> = call
        .arguments
        .iter()
        .map(|argument| format!("{}: {}", argument.name.text, expr(&argument.value, indent)))
        .collect();
    let one_line = format!("{head}{}{tail}", joined.join(", "));
    // A `"""` argument spreads over lines anyway; one argument per line reads better then.
    let fits = width(indent, &one_line) <= MAX_WIDTH && !one_line.contains('\n');
    if call.arguments.is_empty() || fits {
        p.push(&one_line);
        return;
    }
    p.push(&head);
    p.close(p.next_token(call.action.span.end as usize) + 1);
    let mut after = 0;
    for argument in &call.arguments {
        p.start_node(argument.span.start as usize, indent + 1, Blank::Never);
        p.push(&argument.name.text);
        p.push(": ");
        p.push(&expr(&argument.value, indent + 1));
        p.push(",");
        // The line stands for the argument and its comma, so `a: 1, # why` keeps its
        // comment at the end of the line.
        let argument_end = p.code_end(argument.span);
        after = p.next_token(argument_end);
        let end = if p.byte_at(after) == Some(b',') {
            after + 1
        } else {
            argument_end
        };
        p.close(end);
    }
    let close = if p.byte_at(after) == Some(b',') {
        p.next_token(after + 1)
    } else {
        after
    };
    p.flush_comments(close, indent + 1, Blank::Never);
    p.open(indent);
    p.push(&tail);
}
