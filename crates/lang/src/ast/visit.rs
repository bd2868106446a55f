//! Walking the tree. `Visit` visits every statement, expression, text and path in source
//! order; override what you need and call the `walk_*` function to keep descending.
//! `erase_spans` zeroes every span, so two trees can be compared for structure alone (the
//! formatter's round-trip test).

use super::{
    AskOptionKind, Block, Expr, ExprKind, Image, ItemKind, Jump, JumpKind, Link, Message, Name,
    Path, RegexLit, Rich, Scenario, Stmt, StmtKind, Text, TextPart, Validator,
};
use crate::source::Span;

pub trait Visit<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        walk_expr(self, expr);
    }

    fn visit_text(&mut self, text: &'a Text) {
        walk_text(self, text);
    }

    fn visit_path(&mut self, _path: &'a Path) {}
}

/// Visits every text of a message, the translations' included.
pub fn walk_message<'a, V: Visit<'a> + ?Sized>(visitor: &mut V, message: &'a Message) {
    for text in message.texts() {
        visitor.visit_text(text);
    }
}

pub fn walk_stmt<'a, V: Visit<'a> + ?Sized>(visitor: &mut V, stmt: &'a Stmt) {
    match &stmt.kind {
        StmtKind::Say(message) => walk_message(visitor, message),
        StmtKind::SayOneOf(variants) => {
            for message in variants {
                walk_message(visitor, message);
            }
        }
        StmtKind::Rich(rich) => {
            for message in rich.messages() {
                walk_message(visitor, message);
            }
            for url in rich.urls() {
                visitor.visit_text(url);
            }
        }
        StmtKind::RouteTeam(text) => visitor.visit_text(text),
        StmtKind::Ask(ask) => {
            walk_message(visitor, &ask.prompt);
            for option in &ask.options {
                match &option.kind {
                    AskOptionKind::Save(path) => visitor.visit_path(path),
                    AskOptionKind::Invalid(message)
                    | AskOptionKind::Choice { label: message, .. } => {
                        walk_message(visitor, message);
                    }
                    AskOptionKind::Expect(Validator::OneOf(texts)) => {
                        for text in texts {
                            visitor.visit_text(text);
                        }
                    }
                    AskOptionKind::Expect(_)
                    | AskOptionKind::When { .. }
                    | AskOptionKind::Attempts { .. }
                    | AskOptionKind::Timeout { .. } => {}
                }
            }
        }
        StmtKind::If(if_stmt) => {
            for branch in &if_stmt.branches {
                visitor.visit_expr(&branch.condition);
                walk_block(visitor, &branch.body);
            }
            if let Some(block) = &if_stmt.otherwise {
                walk_block(visitor, block);
            }
        }
        // A written field's path is not a read: the checker looks at it on its own.
        StmtKind::Set { value, .. } | StmtKind::SetField { value, .. } => {
            visitor.visit_expr(value);
        }
        StmtKind::Call(call) => {
            for argument in &call.arguments {
                visitor.visit_expr(&argument.value);
            }
        }
        StmtKind::Goto(_) | StmtKind::Handoff | StmtKind::End => {}
    }
}

pub fn walk_block<'a, V: Visit<'a> + ?Sized>(visitor: &mut V, block: &'a Block) {
    for stmt in &block.statements {
        visitor.visit_stmt(stmt);
    }
}

pub fn walk_expr<'a, V: Visit<'a> + ?Sized>(visitor: &mut V, expr: &'a Expr) {
    match &expr.kind {
        ExprKind::Text(text) => visitor.visit_text(text),
        ExprKind::Path(path) => visitor.visit_path(path),
        ExprKind::List(items) => items.iter().for_each(|item| visitor.visit_expr(item)),
        ExprKind::Paren(inner)
        | ExprKind::Not(inner)
        | ExprKind::Test { operand: inner, .. }
        | ExprKind::Matches { operand: inner, .. } => visitor.visit_expr(inner),
        ExprKind::Binary { lhs, rhs, .. } => {
            visitor.visit_expr(lhs);
            visitor.visit_expr(rhs);
        }
        // A schedule's name (`next_open(support)`) is not a value that is read.
        ExprKind::Call { function, args } => {
            for (index, arg) in args.iter().enumerate() {
                if !crate::builtins::functions::is_schedule_arg(&function.text, index) {
                    visitor.visit_expr(arg);
                }
            }
        }
        ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Open(_) => {}
    }
}

pub fn walk_text<'a, V: Visit<'a> + ?Sized>(visitor: &mut V, text: &'a Text) {
    for expr in text.interpolations() {
        visitor.visit_expr(expr);
    }
}

/// Sets every span in the tree to `Span::default()`.
pub fn erase_spans(scenario: &mut Scenario) {
    erase_name(&mut scenario.name);
    scenario.span = Span::default();
    for item in &mut scenario.items {
        item.span = Span::default();
        match &mut item.kind {
            ItemKind::Description(text) => erase_text(text),
            ItemKind::Start(name) | ItemKind::Hook { step: name, .. } => erase_name(name),
            ItemKind::Entry(names) => names.iter_mut().for_each(erase_name),
            ItemKind::Languages(languages) => languages.iter_mut().for_each(erase_name),
            ItemKind::LanguageFrom(path) => erase_path(path),
            ItemKind::Escape(escape) => {
                escape.words.iter_mut().for_each(erase_text);
                erase_jump(&mut escape.target);
            }
            ItemKind::Step(step) => {
                step.span = Span::default();
                erase_name(&mut step.name);
                erase_block(&mut step.body);
            }
        }
    }
}

fn erase_name(name: &mut Name) {
    name.span = Span::default();
}

fn erase_block(block: &mut Block) {
    block.span = Span::default();
    block.statements.iter_mut().for_each(erase_stmt);
}

fn erase_jump(jump: &mut Jump) {
    jump.span = Span::default();
    if let JumpKind::Goto(name) = &mut jump.kind {
        erase_name(name);
    }
}

fn erase_link(link: &mut Link) {
    link.span = Span::default();
    erase_message(&mut link.label);
    erase_text(&mut link.url);
}

fn erase_image(image: &mut Image) {
    image.span = Span::default();
    erase_text(&mut image.url);
    erase_message(&mut image.alt);
}

fn erase_rich(rich: &mut Rich) {
    match rich {
        Rich::Link(link) => erase_link(link),
        Rich::Image(image) => erase_image(image),
        Rich::Card(card) => {
            card.body = Span::default();
            erase_message(&mut card.title);
            if let Some(text) = &mut card.text {
                erase_message(text);
            }
            if let Some(image) = &mut card.image {
                erase_image(image);
            }
            card.links.iter_mut().for_each(erase_link);
        }
    }
}

fn erase_stmt(stmt: &mut Stmt) {
    stmt.span = Span::default();
    match &mut stmt.kind {
        StmtKind::Say(message) => erase_message(message),
        StmtKind::SayOneOf(variants) => variants.iter_mut().for_each(erase_message),
        StmtKind::Rich(rich) => erase_rich(rich),
        StmtKind::RouteTeam(text) => erase_text(text),
        StmtKind::Ask(ask) => {
            erase_message(&mut ask.prompt);
            for option in &mut ask.options {
                option.span = Span::default();
                match &mut option.kind {
                    AskOptionKind::Expect(Validator::Named(name)) => erase_name(name),
                    AskOptionKind::Expect(Validator::Regex(regex)) => erase_regex(regex),
                    AskOptionKind::Expect(Validator::Ranged(name, range)) => {
                        erase_name(name);
                        range.span = Span::default();
                    }
                    AskOptionKind::Expect(Validator::OneOf(texts)) => {
                        texts.iter_mut().for_each(erase_text);
                    }
                    AskOptionKind::When { regex, target } => {
                        erase_regex(regex);
                        erase_name(target);
                    }
                    AskOptionKind::Save(path) => erase_path(path),
                    AskOptionKind::Invalid(message) => erase_message(message),
                    AskOptionKind::Attempts { count, then } => {
                        count.span = Span::default();
                        erase_jump(then);
                    }
                    AskOptionKind::Timeout { duration, then } => {
                        duration.span = Span::default();
                        erase_jump(then);
                    }
                    AskOptionKind::Choice {
                        label,
                        value,
                        target,
                    } => {
                        erase_message(label);
                        if let Some(value) = value {
                            erase_text(value);
                        }
                        if let Some(name) = target {
                            erase_name(name);
                        }
                    }
                }
            }
        }
        StmtKind::If(if_stmt) => {
            for branch in &mut if_stmt.branches {
                branch.span = Span::default();
                erase_expr(&mut branch.condition);
                erase_block(&mut branch.body);
            }
            if let Some(block) = &mut if_stmt.otherwise {
                erase_block(block);
            }
        }
        StmtKind::Set { name, value } => {
            erase_name(name);
            erase_expr(value);
        }
        StmtKind::SetField { target, value } => {
            erase_path(target);
            erase_expr(value);
        }
        StmtKind::Goto(name) => erase_name(name),
        StmtKind::Call(call) => {
            erase_name(&mut call.action);
            for argument in &mut call.arguments {
                argument.span = Span::default();
                erase_name(&mut argument.name);
                erase_expr(&mut argument.value);
            }
            if let Some(name) = &mut call.result {
                erase_name(name);
            }
            if let Some(jump) = &mut call.on_error {
                erase_jump(jump);
            }
        }
        StmtKind::Handoff | StmtKind::End => {}
    }
}

fn erase_message(message: &mut Message) {
    erase_text(&mut message.text);
    for translation in &mut message.translations {
        translation.span = Span::default();
        erase_name(&mut translation.language);
        erase_text(&mut translation.text);
    }
}

fn erase_text(text: &mut Text) {
    text.span = Span::default();
    for part in &mut text.parts {
        if let TextPart::Interpolation(expr) = part {
            erase_expr(expr);
        }
    }
}

fn erase_path(path: &mut Path) {
    path.span = Span::default();
    path.segments.iter_mut().for_each(erase_name);
}

fn erase_regex(regex: &mut RegexLit) {
    regex.span = Span::default();
    regex.pattern_span = Span::default();
}

fn erase_expr(expr: &mut Expr) {
    expr.span = Span::default();
    match &mut expr.kind {
        ExprKind::Text(text) => erase_text(text),
        ExprKind::Path(path) => erase_path(path),
        ExprKind::List(items) => items.iter_mut().for_each(erase_expr),
        ExprKind::Paren(inner) | ExprKind::Not(inner) | ExprKind::Test { operand: inner, .. } => {
            erase_expr(inner);
        }
        ExprKind::Matches { operand, regex } => {
            erase_expr(operand);
            erase_regex(regex);
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            erase_expr(lhs);
            erase_expr(rhs);
        }
        ExprKind::Call { function, args } => {
            erase_name(function);
            args.iter_mut().for_each(erase_expr);
        }
        ExprKind::Open(schedule) => erase_name(schedule),
        ExprKind::Number(_) | ExprKind::Bool(_) => {}
    }
}
