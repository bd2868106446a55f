//! Walking the tree. `Visit` visits every statement, expression, text and path in source
//! order; override what you need and call the `walk_*` function to keep descending.
//! `VisitMut` reaches every span, step reference and path to change them (`erase_spans`
//! zeroes every span, so two trees can be compared for structure alone — the formatter's
//! round-trip test; an `include` renames a flow's steps and fills in its parameters).

use super::{
    AskOptionKind, Block, Expr, ExprKind, Flow, Image, Item, ItemKind, Jump, JumpKind, Link,
    Message, Name, Path, RegexLit, Rich, Scenario, Step, Stmt, StmtKind, Text, TextPart, Validator,
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

/// Changes a tree in place. Every span is passed to `span`, every step reference (`goto`,
/// `->`, `start`, `entry`, hooks, `then`) to `step_ref`, every path — read or written — to
/// `path`, every statement to `stmt` before its parts.
pub trait VisitMut {
    fn span(&mut self, _span: &mut Span) {}

    fn step_ref(&mut self, name: &mut Name) {
        self.span(&mut name.span);
    }

    fn path(&mut self, path: &mut Path) {
        self.span(&mut path.span);
        for segment in &mut path.segments {
            self.span(&mut segment.span);
        }
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        walk_stmt_mut(self, stmt);
    }
}

/// Sets every span in the tree to `Span::default()`.
pub fn erase_spans(scenario: &mut Scenario) {
    struct Eraser;
    impl VisitMut for Eraser {
        fn span(&mut self, span: &mut Span) {
            *span = Span::default();
        }
    }
    let eraser = &mut Eraser;
    eraser.span(&mut scenario.name.span);
    eraser.span(&mut scenario.span);
    walk_items_mut(eraser, &mut scenario.items);
}

/// Sets every span of a flow to `Span::default()`.
pub fn erase_flow_spans(flow: &mut Flow) {
    let mut scenario = Scenario {
        name: flow.name.clone(),
        items: std::mem::take(&mut flow.items),
        span: flow.span,
    };
    erase_spans(&mut scenario);
    flow.items = scenario.items;
    flow.name = scenario.name;
    flow.span = Span::default();
    flow.params_span = Span::default();
    for param in &mut flow.params {
        param.span = Span::default();
        param.name.span = Span::default();
    }
}

pub fn walk_items_mut<V: VisitMut + ?Sized>(v: &mut V, items: &mut [Item]) {
    for item in items {
        v.span(&mut item.span);
        match &mut item.kind {
            ItemKind::Description(text) => walk_text_mut(v, text),
            ItemKind::Start(name) | ItemKind::Hook { step: name, .. } => v.step_ref(name),
            ItemKind::Entry(names) => names.iter_mut().for_each(|name| v.step_ref(name)),
            ItemKind::Languages(languages) => {
                for name in languages.iter_mut() {
                    v.span(&mut name.span);
                }
            }
            ItemKind::LanguageFrom(path) => v.path(path),
            ItemKind::Escape(escape) => {
                escape
                    .words
                    .iter_mut()
                    .for_each(|text| walk_text_mut(v, text));
                walk_jump_mut(v, &mut escape.target);
            }
            ItemKind::Step(step) => walk_step_mut(v, step),
            ItemKind::Include(include) => {
                v.span(&mut include.flow.span);
                for arg in &mut include.args {
                    v.span(&mut arg.span);
                    v.span(&mut arg.name.span);
                    v.path(&mut arg.value);
                }
                if let Some(alias) = &mut include.alias {
                    v.span(&mut alias.span);
                }
            }
        }
    }
}

/// The step's name is a declaration: only its span is visited.
pub fn walk_step_mut<V: VisitMut + ?Sized>(v: &mut V, step: &mut Step) {
    v.span(&mut step.span);
    v.span(&mut step.name.span);
    walk_block_mut(v, &mut step.body);
}

fn walk_block_mut<V: VisitMut + ?Sized>(v: &mut V, block: &mut Block) {
    v.span(&mut block.span);
    block.statements.iter_mut().for_each(|stmt| v.stmt(stmt));
}

fn walk_jump_mut<V: VisitMut + ?Sized>(v: &mut V, jump: &mut Jump) {
    v.span(&mut jump.span);
    if let JumpKind::Goto(name) = &mut jump.kind {
        v.step_ref(name);
    }
}

fn walk_link_mut<V: VisitMut + ?Sized>(v: &mut V, link: &mut Link) {
    v.span(&mut link.span);
    walk_message_mut(v, &mut link.label);
    walk_text_mut(v, &mut link.url);
}

fn walk_image_mut<V: VisitMut + ?Sized>(v: &mut V, image: &mut Image) {
    v.span(&mut image.span);
    walk_text_mut(v, &mut image.url);
    walk_message_mut(v, &mut image.alt);
}

fn walk_rich_mut<V: VisitMut + ?Sized>(v: &mut V, rich: &mut Rich) {
    match rich {
        Rich::Link(link) => walk_link_mut(v, link),
        Rich::Image(image) => walk_image_mut(v, image),
        Rich::Card(card) => {
            v.span(&mut card.body);
            walk_message_mut(v, &mut card.title);
            if let Some(text) = &mut card.text {
                walk_message_mut(v, text);
            }
            if let Some(image) = &mut card.image {
                walk_image_mut(v, image);
            }
            card.links
                .iter_mut()
                .for_each(|link| walk_link_mut(v, link));
        }
    }
}

pub fn walk_stmt_mut<V: VisitMut + ?Sized>(v: &mut V, stmt: &mut Stmt) {
    v.span(&mut stmt.span);
    match &mut stmt.kind {
        StmtKind::Say(message) => walk_message_mut(v, message),
        StmtKind::SayOneOf(variants) => variants.iter_mut().for_each(|m| walk_message_mut(v, m)),
        StmtKind::Rich(rich) => walk_rich_mut(v, rich),
        StmtKind::RouteTeam(text) => walk_text_mut(v, text),
        StmtKind::Ask(ask) => {
            walk_message_mut(v, &mut ask.prompt);
            for option in &mut ask.options {
                v.span(&mut option.span);
                match &mut option.kind {
                    AskOptionKind::Expect(Validator::Named(name)) => v.span(&mut name.span),
                    AskOptionKind::Expect(Validator::Regex(regex)) => walk_regex_mut(v, regex),
                    AskOptionKind::Expect(Validator::Ranged(name, range)) => {
                        v.span(&mut name.span);
                        v.span(&mut range.span);
                    }
                    AskOptionKind::Expect(Validator::Regional(name, region)) => {
                        v.span(&mut name.span);
                        v.span(&mut region.span);
                    }
                    AskOptionKind::Expect(Validator::OneOf(texts)) => {
                        for text in texts.iter_mut() {
                            walk_text_mut(v, text);
                        }
                    }
                    AskOptionKind::When { regex, target } => {
                        walk_regex_mut(v, regex);
                        v.step_ref(target);
                    }
                    AskOptionKind::Save(path) => v.path(path),
                    AskOptionKind::Invalid(message) => walk_message_mut(v, message),
                    AskOptionKind::Attempts { count, then } => {
                        v.span(&mut count.span);
                        walk_jump_mut(v, then);
                    }
                    AskOptionKind::Timeout { duration, then } => {
                        v.span(&mut duration.span);
                        walk_jump_mut(v, then);
                    }
                    AskOptionKind::Choice {
                        label,
                        value,
                        target,
                    } => {
                        walk_message_mut(v, label);
                        if let Some(value) = value {
                            walk_text_mut(v, value);
                        }
                        if let Some(name) = target {
                            v.step_ref(name);
                        }
                    }
                }
            }
        }
        StmtKind::If(if_stmt) => {
            for branch in &mut if_stmt.branches {
                v.span(&mut branch.span);
                walk_expr_mut(v, &mut branch.condition);
                walk_block_mut(v, &mut branch.body);
            }
            if let Some(block) = &mut if_stmt.otherwise {
                walk_block_mut(v, block);
            }
        }
        StmtKind::Set { name, value } => {
            v.span(&mut name.span);
            walk_expr_mut(v, value);
        }
        StmtKind::SetField { target, value } => {
            v.path(target);
            walk_expr_mut(v, value);
        }
        StmtKind::Goto(name) => v.step_ref(name),
        StmtKind::Call(call) => {
            v.span(&mut call.action.span);
            for argument in &mut call.arguments {
                v.span(&mut argument.span);
                v.span(&mut argument.name.span);
                walk_expr_mut(v, &mut argument.value);
            }
            if let Some(name) = &mut call.result {
                v.span(&mut name.span);
            }
            if let Some(jump) = &mut call.on_error {
                walk_jump_mut(v, jump);
            }
        }
        StmtKind::Handoff | StmtKind::End => {}
    }
}

fn walk_message_mut<V: VisitMut + ?Sized>(v: &mut V, message: &mut Message) {
    walk_text_mut(v, &mut message.text);
    for translation in &mut message.translations {
        v.span(&mut translation.span);
        v.span(&mut translation.language.span);
        walk_text_mut(v, &mut translation.text);
    }
}

fn walk_text_mut<V: VisitMut + ?Sized>(v: &mut V, text: &mut Text) {
    v.span(&mut text.span);
    for part in &mut text.parts {
        if let TextPart::Interpolation(expr) = part {
            walk_expr_mut(v, expr);
        }
    }
}

fn walk_regex_mut<V: VisitMut + ?Sized>(v: &mut V, regex: &mut RegexLit) {
    v.span(&mut regex.span);
    v.span(&mut regex.pattern_span);
}

pub fn walk_expr_mut<V: VisitMut + ?Sized>(v: &mut V, expr: &mut Expr) {
    v.span(&mut expr.span);
    match &mut expr.kind {
        ExprKind::Text(text) => walk_text_mut(v, text),
        ExprKind::Path(path) => v.path(path),
        ExprKind::List(items) => items.iter_mut().for_each(|item| walk_expr_mut(v, item)),
        ExprKind::Paren(inner) | ExprKind::Not(inner) | ExprKind::Test { operand: inner, .. } => {
            walk_expr_mut(v, inner);
        }
        ExprKind::Matches { operand, regex } => {
            walk_expr_mut(v, operand);
            walk_regex_mut(v, regex);
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr_mut(v, lhs);
            walk_expr_mut(v, rhs);
        }
        ExprKind::Call { function, args } => {
            v.span(&mut function.span);
            for arg in args.iter_mut() {
                walk_expr_mut(v, arg);
            }
        }
        ExprKind::Open(schedule) => v.span(&mut schedule.span),
        ExprKind::Number(_) | ExprKind::Bool(_) => {}
    }
}
