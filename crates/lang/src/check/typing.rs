//! Types of expressions and names: what `contact.email`, `ticket.id` or `a or b` is, and
//! the findings that come with resolving them (unknown field C108, unknown variable C109,
//! type mismatch C121, invalid regex C112).
//!
//! Variables get their type from what assigns them (`set`, `save` after a validator,
//! `call … as`); a variable assigned values of different types is `Unknown`.

use std::collections::HashMap;

use super::varset::{RESERVED_ROOTS, saved_variable};
use crate::ast::{
    AskOptionKind, BinaryOp, Expr, ExprKind, Path, RegexLit, Scenario, Stmt, StmtKind, Text,
    Validator, Visit, walk_stmt,
};
use crate::builtins::{self, NamedValidator};
use crate::config::{BUILTIN_CONTACT_FIELDS, Workspace};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::types::Type;

pub(crate) const CONVERSATION_FIELDS: &[&str] = builtins::conversation::FIELDS;

/// Resolves names and types against the workspace; optionally reports what is wrong.
pub(crate) struct Typer<'w> {
    pub(crate) workspace: &'w Workspace,
    /// The type of `answer` where it is read, from the flow analysis.
    answer_types: &'w HashMap<u32, Type>,
    pub(crate) variables: HashMap<String, Type>,
    /// Findings; only filled when `report` is on, so a type can be asked twice quietly.
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) report: bool,
    /// What is wrong with each pattern already compiled (case-insensitive or not), if anything.
    regexes: HashMap<(bool, String), Option<String>>,
}

impl<'w> Typer<'w> {
    /// Infers every variable's type (two rounds, so `set b = a` sees `a`'s type).
    pub(crate) fn new(
        scenario: &Scenario,
        workspace: &'w Workspace,
        answer_types: &'w HashMap<u32, Type>,
    ) -> Self {
        let mut typer = Typer {
            workspace,
            answer_types,
            variables: HashMap::new(),
            diagnostics: Vec::new(),
            report: false,
            regexes: HashMap::new(),
        };
        for _ in 0..2 {
            let mut assigned: HashMap<String, Type> = HashMap::new();
            let mut collector = Assignments {
                typer: &mut typer,
                assigned: &mut assigned,
            };
            for step in scenario.steps() {
                for stmt in &step.body.statements {
                    collector.visit_stmt(stmt);
                }
            }
            typer.variables = assigned;
        }
        typer.report = true;
        typer
    }

    pub(crate) fn is_variable(&self, name: &str) -> bool {
        self.variables.contains_key(name)
    }

    pub(crate) fn report(&mut self, diagnostic: Diagnostic) {
        if self.report {
            self.diagnostics.push(diagnostic);
        }
    }

    pub(crate) fn type_of(&mut self, expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::Text(text) => {
                self.check_text(text);
                Type::Text
            }
            ExprKind::Number(_) => Type::Number,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::List(items) => {
                for item in items {
                    let ty = self.type_of(item);
                    if !ty.fits(Type::Text) {
                        self.report(mismatch(
                            item,
                            &format!("a list holds texts, but this is {}", article(ty)),
                        ));
                    }
                }
                Type::TextList
            }
            ExprKind::Path(path) => self.path_type(path),
            ExprKind::Paren(inner) => self.type_of(inner),
            ExprKind::Not(inner) => {
                let ty = self.type_of(inner);
                self.expect_condition(inner, ty, "`not` applies to a condition");
                Type::Bool
            }
            ExprKind::Test { operand, .. } => {
                self.type_of(operand);
                Type::Bool
            }
            ExprKind::Matches { operand, regex } => {
                let ty = self.type_of(operand);
                if !ty.is_textual() {
                    self.report(
                        mismatch(
                            operand,
                            &format!("`matches` tests a text, but this is {}", article(ty)),
                        )
                        .with_help("compare true/false values and numbers with `==` instead"),
                    );
                }
                self.check_regex(regex);
                Type::Bool
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary_type(*op, lhs, rhs),
            ExprKind::Call { function, args } => self.function_type(function, args),
            ExprKind::Open(schedule) => self.open_type(schedule),
        }
    }

    fn binary_type(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Type {
        let (mut left, mut right) = (self.type_of(lhs), self.type_of(rhs));
        // A date compares with a literal written `"2026-12-24"`.
        if left == Type::Date && is_date_literal(rhs) {
            right = Type::Date;
        } else if right == Type::Date && is_date_literal(lhs) {
            left = Type::Date;
        }
        match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                self.arithmetic_type(op, (lhs, left), (rhs, right))
            }
            // `a or b` is also the fallback of a value (`contact.first_name or "there"`).
            BinaryOp::Or if left == Type::Bool || right == Type::Bool => {
                self.expect_condition(
                    lhs,
                    left,
                    "`or` between conditions needs a condition on both sides",
                );
                self.expect_condition(
                    rhs,
                    right,
                    "`or` between conditions needs a condition on both sides",
                );
                Type::Bool
            }
            BinaryOp::Or => left.join(right),
            BinaryOp::And => {
                self.expect_condition(lhs, left, "`and` joins two conditions");
                self.expect_condition(rhs, right, "`and` joins two conditions");
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if !comparable(left, right) {
                    self.report(
                        mismatch(
                            rhs,
                            &format!(
                                "{} is never equal to {}",
                                describe(lhs, left),
                                article(right)
                            ),
                        )
                        .with_secondary(lhs.span, article(left))
                        .with_help(compare_help(left)),
                    );
                }
                self.check_known_name(lhs, rhs);
                self.check_known_name(rhs, lhs);
                Type::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                for (side, ty) in [(lhs, left), (rhs, right)] {
                    if !ty.is_ordered() {
                        let help = if is_contact_field(side) {
                            "the type of a contact field is declared in the workspace config; declare it `number` or `date` to compare it this way"
                        } else {
                            "compare texts with `==` or `!=`; an answer becomes a number with `expect number`, a date with `expect date`"
                        };
                        self.report(
                            mismatch(
                                side,
                                &format!(
                                    "`{}` compares numbers or dates, but this is {}",
                                    op.symbol(),
                                    article(ty)
                                ),
                            )
                            .with_help(help),
                        );
                    }
                }
                if left.is_ordered() && right.is_ordered() && !comparable(left, right) {
                    self.report(
                        mismatch(
                            rhs,
                            &format!(
                                "{} cannot be compared with {}",
                                describe(lhs, left),
                                article(right)
                            ),
                        )
                        .with_help("compare numbers with numbers and dates with dates"),
                    );
                }
                Type::Bool
            }
        }
    }

    /// `conversation.account == "facebook:acme"`: the name must be one the config declares
    /// (a misspelt account or channel makes the condition silently never true).
    fn check_known_name(&mut self, path: &Expr, literal: &Expr) {
        let (ExprKind::Path(path), ExprKind::Text(text)) = (&path.kind, &literal.kind) else {
            return;
        };
        let Some(value) = text.as_literal() else {
            return;
        };
        let config = &self.workspace.config;
        let (what, known): (&str, Vec<&str>) = match path.dotted().as_str() {
            "conversation.account" => (
                "account",
                config.accounts.keys().map(String::as_str).collect(),
            ),
            "conversation.channel" => (
                "channel",
                config.channels.keys().map(String::as_str).collect(),
            ),
            _ => return,
        };
        if known.contains(&value.as_str()) {
            return;
        }
        let help = did_you_mean(&value, known.iter().copied()).unwrap_or_else(|| {
            format!(
                "the {what}s of {} are: {}",
                self.workspace.file.name(),
                known.join(", ")
            )
        });
        self.report(
            Diagnostic::new(
                Code::UnknownAccount,
                text.span,
                format!("there is no {what} \"{value}\" in the workspace config"),
            )
            .with_label(format!("unknown {what}"))
            .with_help(help),
        );
    }

    /// Reports a value used as a condition that is not true or false.
    pub(crate) fn expect_condition(&mut self, expr: &Expr, ty: Type, context: &str) {
        if matches!(ty, Type::Bool | Type::Unknown) {
            return;
        }
        let help = match &expr.kind {
            ExprKind::Path(path) => format!(
                "to test whether it has a value, write `{} is set`",
                path.dotted()
            ),
            _ => "write a test such as `x is set`, `x == \"…\"` or `x matches /…/`".to_owned(),
        };
        self.report(
            mismatch(expr, &format!("{context}, but this is {}", article(ty)))
                .with_label("not true or false")
                .with_help(help),
        );
    }

    /// Checks the interpolations of a text: each must be showable.
    pub(crate) fn check_text(&mut self, text: &Text) {
        for expr in text.interpolations() {
            let ty = self.type_of(expr);
            if !ty.is_displayable() {
                self.report(
                    mismatch(
                        expr,
                        &format!("{} cannot be shown in a message", article(ty)),
                    )
                    .with_help(field_hint(expr, ty)),
                );
            }
        }
    }

    pub(crate) fn check_regex(&mut self, regex: &RegexLit) {
        // A pattern used in many steps is compiled once: compiling is most of a check's cost.
        let problem = flag_problem(regex).or_else(|| {
            let key = (regex.flags.contains('i'), regex.pattern.clone());
            let found = self
                .regexes
                .entry(key)
                .or_insert_with_key(|(insensitive, pattern)| compile_problem(pattern, *insensitive))
                .clone();
            found.map(|problem| (problem, regex.pattern_span))
        });
        if let Some((problem, span)) = problem {
            self.report(
                Diagnostic::new(Code::InvalidRegex, span, "this regular expression is not valid")
                    .with_label(problem)
                    .with_help("check the pattern's brackets and special characters (write `\\.` for a dot and `\\/` for a slash); the only flag is `i`, to ignore case"),
            );
        }
    }

    pub(crate) fn path_type(&mut self, path: &Path) -> Type {
        let segments = &path.segments;
        let root = path.root();
        match root {
            builtins::CONTACT => self.namespace_field(path, builtins::CONTACT, |typer, field| {
                if BUILTIN_CONTACT_FIELDS.contains(&field) {
                    Some(Type::Text)
                } else {
                    typer.workspace.field_type(field).map(Type::from)
                }
            }),
            builtins::CONVERSATION => {
                self.namespace_field(path, builtins::CONVERSATION, |_, field| {
                    CONVERSATION_FIELDS.contains(&field).then_some(Type::Text)
                })
            }
            builtins::ANSWER if segments.len() == 1 => self
                .answer_types
                .get(&path.span.start)
                .copied()
                .unwrap_or(Type::Unknown),
            builtins::ANSWER => {
                self.report(
                    Diagnostic::new(Code::UnknownField, path.span, "`answer` has no fields")
                        .with_label("the answer is the text the contact typed")
                        .with_help("write `answer` alone"),
                );
                Type::Unknown
            }
            _ => self.variable_path(path),
        }
    }

    fn namespace_field(
        &mut self,
        path: &Path,
        namespace: &str,
        lookup: impl Fn(&Self, &str) -> Option<Type>,
    ) -> Type {
        let Some(field) = path.segments.get(1) else {
            let example = if namespace == builtins::CONTACT {
                "contact.email"
            } else {
                "conversation.id"
            };
            self.report(
                Diagnostic::new(
                    Code::UnknownField,
                    path.span,
                    format!("`{namespace}` needs a field name"),
                )
                .with_help(format!("name one of its fields, such as `{example}`")),
            );
            return Type::Unknown;
        };
        if let Some(extra) = path.segments.get(2) {
            self.report(
                Diagnostic::new(
                    Code::UnknownField,
                    extra.span,
                    format!("`{}` has no fields", path_prefix(path, 2)),
                )
                .with_help(format!("write `{}` alone", path_prefix(path, 2))),
            );
            return Type::Unknown;
        }
        if let Some(ty) = lookup(self, &field.text) {
            return ty;
        }
        let help = if namespace == builtins::CONTACT {
            let known: Vec<&str> = BUILTIN_CONTACT_FIELDS
                .iter()
                .copied()
                .chain(self.workspace.field_names())
                .collect();
            did_you_mean(&field.text, known).unwrap_or_else(|| {
                format!(
                    "declare it under `contact_fields` in {}",
                    self.workspace.file.name()
                )
            })
        } else {
            did_you_mean(&field.text, CONVERSATION_FIELDS.iter().copied()).unwrap_or_else(|| {
                format!(
                    "the conversation's fields are {}",
                    CONVERSATION_FIELDS.join(", ")
                )
            })
        };
        self.report(
            Diagnostic::new(
                Code::UnknownField,
                field.span,
                format!("`{}` is not a {namespace} field", path.dotted()),
            )
            .with_label("unknown field")
            .with_help(help),
        );
        Type::Unknown
    }

    fn variable_path(&mut self, path: &Path) -> Type {
        let root = path.root();
        let Some(ty) = self.variables.get(root).copied() else {
            let candidates: Vec<&str> = self
                .variables
                .keys()
                .map(String::as_str)
                .chain(RESERVED_ROOTS.iter().copied())
                .collect();
            let help = did_you_mean(root, candidates).unwrap_or_else(|| {
                "give it a value first with `set`, `save` in an `ask`, or `call … as`".to_owned()
            });
            let first = path.segments.first().map_or(path.span, |n| n.span);
            self.report(
                Diagnostic::new(
                    Code::UnknownVariable,
                    first,
                    format!("`{root}` is never set in this scenario"),
                )
                .with_label("unknown variable")
                .with_help(help),
            );
            return Type::Unknown;
        };
        let mut ty = ty;
        for field in path.segments.iter().skip(1) {
            ty = match ty {
                Type::Unknown => Type::Unknown,
                Type::Record(record) => {
                    if let Some(field_type) = record.field(&field.text) {
                        field_type
                    } else {
                        let names: Vec<&str> = record.fields.iter().map(|(n, _)| *n).collect();
                        let help =
                            did_you_mean(&field.text, names.iter().copied()).unwrap_or_else(|| {
                                format!("a {} has the fields {}", record.name, names.join(", "))
                            });
                        self.report(
                            Diagnostic::new(
                                Code::UnknownField,
                                field.span,
                                format!("a {} has no field `{}`", record.name, field.text),
                            )
                            .with_label("unknown field")
                            .with_help(help),
                        );
                        Type::Unknown
                    }
                }
                other => {
                    self.report(
                        Diagnostic::new(
                            Code::UnknownField,
                            field.span,
                            format!("`{root}` is {} and has no fields", article(other)),
                        )
                        .with_help(format!("write `{root}` alone")),
                    );
                    Type::Unknown
                }
            };
        }
        ty
    }
}

/// The type an answer has once it passed `validator` (a text when there is none).
pub(crate) fn validator_type(validator: Option<&Validator>) -> Type {
    match validator {
        Some(
            Validator::Named(name) | Validator::Ranged(name, _) | Validator::Regional(name, _),
        ) => NamedValidator::named(&name.text).map_or(Type::Unknown, NamedValidator::answer_type),
        Some(Validator::Regex(_) | Validator::OneOf(_)) | None => Type::Text,
    }
}

/// An unknown flag, and where the flags are.
fn flag_problem(regex: &RegexLit) -> Option<(String, Span)> {
    let flag = regex.flags.chars().find(|c| *c != 'i')?;
    let flags = Span::new(regex.pattern_span.end as usize + 1, regex.span.end as usize);
    Some((format!("unknown flag `{flag}`"), flags))
}

/// Why a pattern does not compile, in one line.
fn compile_problem(pattern: &str, case_insensitive: bool) -> Option<String> {
    let built = regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 20)
        .build();
    let problem = match built {
        Ok(_) => return None,
        Err(regex::Error::CompiledTooBig(_)) => "the pattern is too large".to_owned(),
        Err(error) => error
            .to_string()
            .lines()
            .rev()
            .find(|line| line.starts_with("error:"))
            .map_or_else(
                || "cannot be compiled".to_owned(),
                |line| line.trim_start_matches("error: ").to_owned(),
            ),
    };
    Some(problem)
}

/// Whether `==` between the two types can ever hold: validated texts and dates are texts.
fn comparable(a: Type, b: Type) -> bool {
    let textual = |t: Type| matches!(t, Type::Text | Type::Email | Type::Phone | Type::Date);
    match (a, b) {
        (Type::Unknown, _) | (_, Type::Unknown) => true,
        (a, b) if textual(a) && textual(b) => true,
        (Type::Record(a), Type::Record(b)) => a.name == b.name,
        (a, b) => a == b,
    }
}

fn compare_help(ty: Type) -> String {
    match ty {
        Type::Bool => {
            "compare it with `true` or `false`, or test it alone: `if contact.vip { … }`".to_owned()
        }
        Type::Number => "compare it with a number, written without quotes: `== 3`".to_owned(),
        other => format!("compare it with {}", article(other)),
    }
}

/// "`contact.vip` (true/false)" for a name, else "this value".
fn describe(expr: &Expr, ty: Type) -> String {
    match &expr.kind {
        ExprKind::Path(path) => format!("`{}` ({ty})", path.dotted()),
        _ => format!("this {ty}"),
    }
}

fn is_contact_field(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Path(path) if path.root() == builtins::CONTACT)
}

/// "show one of its fields instead, such as `{user.name}`".
fn field_hint(expr: &Expr, ty: Type) -> String {
    match (ty, &expr.kind) {
        (Type::Record(record), ExprKind::Path(path)) => {
            let field = record
                .fields
                .iter()
                .find(|(_, t)| *t == Type::Text)
                .or(record.fields.first())
                .map_or("id", |(n, _)| *n);
            format!(
                "show one of its fields instead, such as `{{{}.{field}}}`",
                path.dotted()
            )
        }
        _ => "show one of its fields instead".to_owned(),
    }
}

pub(crate) fn mismatch(expr: &Expr, message: &str) -> Diagnostic {
    Diagnostic::new(Code::TypeMismatch, expr.span, message)
}

/// "an email", "a text", …
pub(crate) fn article(ty: Type) -> String {
    let name = ty.to_string();
    let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    if matches!(ty, Type::Unknown) {
        name
    } else if vowel {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

fn path_prefix(path: &Path, n: usize) -> String {
    path.segments
        .iter()
        .take(n)
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// Collects the type of every assignment.
struct Assignments<'t, 'w> {
    typer: &'t mut Typer<'w>,
    assigned: &'t mut HashMap<String, Type>,
}

impl Assignments<'_, '_> {
    fn add(&mut self, name: &str, ty: Type) {
        if RESERVED_ROOTS.contains(&name) {
            return;
        }
        let joined = self.assigned.get(name).map_or(ty, |old| old.join(ty));
        self.assigned.insert(name.to_owned(), joined);
    }
}

impl<'a> Visit<'a> for Assignments<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match &stmt.kind {
            StmtKind::Set { name, value } => {
                // The typer is quiet during inference; the checking pass reports.
                let ty = self.typer.type_of(value);
                self.add(&name.text, ty);
            }
            StmtKind::Ask(ask) => {
                for option in &ask.options {
                    if let AskOptionKind::Save(path) = &option.kind {
                        if let Some(name) = saved_variable(path) {
                            self.add(name, validator_type(ask.validator()));
                        }
                    }
                }
            }
            StmtKind::Call(call) => {
                if let Some(name) = &call.result {
                    let ty = self
                        .typer
                        .workspace
                        .action(&call.action.text)
                        .and_then(|a| a.result)
                        .map_or(Type::Unknown, Type::Record);
                    self.add(&name.text, ty);
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }
}

/// A text literal that is a calendar date, `"2026-12-24"`.
fn is_date_literal(expr: &Expr) -> bool {
    let ExprKind::Text(text) = &expr.kind else {
        return false;
    };
    text.as_literal().is_some_and(|literal| {
        literal.len() == 10
            && literal
                .parse::<jiff::civil::Date>()
                .is_ok_and(|date| date.to_string() == literal)
    })
}
