//! A scenario compiled for execution: each step becomes a flat list of instructions (an
//! `if` becomes conditional jumps), so a waiting conversation's position is just a step name
//! and an index — stable for as long as the conversation stays on this version. Regexes are
//! compiled once here. The AST must have passed the checker; anything the compiler still
//! cannot place is an error, never a panic.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};

use scenarist_lang::ast::{
    AskOptionKind, Block, Expr, ExprKind, Hook, Jump, JumpKind, Message, Path, Rich, Scenario,
    Stmt, StmtKind, Text, TextPart, Validator,
};
use scenarist_lang::builtins::NamedValidator;
use scenarist_lang::source::Span;

/// A scenario ready to run.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    /// The hash of the source this program was compiled from.
    pub version: String,
    pub start: String,
    /// The steps `entry` declares: advisors' tools may hand the conversation back there (and
    /// at the start).
    pub entries: Vec<String>,
    /// `on close goto STEP`: where the bot goes when an advisor closes the conversation.
    pub on_close: Option<String>,
    /// `on resume goto STEP`: where a conversation that ended starts again.
    pub on_resume: Option<String>,
    /// The scenario's `languages`, the default first; empty without languages.
    pub languages: Vec<String>,
    /// The contact field of `language from`.
    pub language_from: Option<String>,
    /// The `escape` words, normalised (`answers::normalize`), and where they lead.
    pub escape: Option<(Vec<String>, Target)>,
    steps: HashMap<String, Code>,
    regexes: HashMap<String, Regex>,
}

#[derive(Debug)]
pub enum Instr {
    Say(Message),
    /// `say one of …`: one variant, chosen per conversation and position.
    SayOneOf(Vec<Message>),
    /// `link`, `image`, `card`.
    Rich(Rich),
    Ask(Box<AskInstr>),
    /// Jump to `target` (an index in the same step) unless `condition` holds.
    JumpUnless {
        condition: Expr,
        target: u32,
    },
    Jump(u32),
    Set {
        name: String,
        value: Expr,
    },
    /// `set contact.language = …`, `set ticket.priority = …`.
    SetField {
        target: FieldTarget,
        value: Expr,
    },
    Goto(String),
    RouteTeam(String),
    Handoff,
    End,
    Call(Box<CallInstr>),
    /// The end of a step's instructions: reached only if the checker was bypassed.
    FellOff,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Goto(String),
    Handoff,
    End,
}

#[derive(Debug)]
pub enum Check {
    Email,
    /// A phone number; with a country (`expect phone FR`), its national numbers too.
    Phone(Option<String>),
    /// A number, within the bounds when given (both included).
    Number(Option<(f64, f64)>),
    /// A whole number, within the bounds when given.
    Integer(Option<(f64, f64)>),
    /// One of these texts, normalised; the value saved is the text as the scenario writes it.
    OneOf(Vec<(String, String)>),
    Date,
    Text,
    Choice,
    Pattern(String),
}

/// A field `set` writes.
#[derive(Debug)]
pub enum FieldTarget {
    /// A declared contact field.
    Contact(String),
    /// A value of the mode-B ticket, kept in the conversation's variables under its dotted
    /// name (`ticket.priority`, `ticket.fields.order_number`) until the ticket is created.
    Ticket(String),
}

#[derive(Debug)]
pub enum SaveTo {
    Contact(String),
    Variable(String),
}

#[derive(Debug)]
pub struct AskInstr {
    pub prompt: Message,
    pub check: Check,
    pub save: Option<SaveTo>,
    pub invalid: Option<Message>,
    pub attempts: Option<(u32, Target)>,
    pub timeout: Option<(u64, Target)>,
    pub choices: Vec<(Message, Option<String>)>,
    /// Each choice's `= "value"`, in the order of `choices`.
    pub choice_values: Vec<Option<String>>,
    /// The `when` patterns in order: the regex key and the step.
    pub patterns: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct CallInstr {
    pub action: String,
    pub arguments: Vec<(String, Expr)>,
    pub result: Option<String>,
    pub on_error: Option<Target>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot compile scenario `{scenario}`: {reason}")]
pub struct CompileError {
    pub scenario: String,
    pub reason: Unrunnable,
}

/// Why a scenario cannot become a program. The checker refuses each of these first; they
/// reach here only from a source that skipped it.
#[derive(Debug, thiserror::Error)]
pub enum Unrunnable {
    #[error("it has no `start`")]
    NoStart,
    #[error("the start step `{0}` does not exist")]
    MissingStart(String),
    #[error("cannot save into `{0}`")]
    CannotSave(String),
    #[error("a team name is computed")]
    ComputedTeam,
    #[error("unknown validator `{0}`")]
    UnknownValidator(String),
    #[error("invalid regex /{pattern}/: {reason}")]
    InvalidRegex { pattern: String, reason: String },
}

/// The version id of a scenario's source: the first 16 hex digits of its SHA-256.
pub fn version_of(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    scenarist_base::hex::encode(&digest[..8])
}

impl Program {
    pub fn compile(scenario: &Scenario, source: &str) -> Result<Self, CompileError> {
        let fail = |reason: Unrunnable| CompileError {
            scenario: scenario.name.text.clone(),
            reason,
        };
        let start = scenario
            .start()
            .ok_or_else(|| fail(Unrunnable::NoStart))?
            .text
            .clone();
        let mut program = Program {
            name: scenario.name.text.clone(),
            version: version_of(source),
            start,
            entries: scenario.entries().map(|n| n.text.clone()).collect(),
            on_close: scenario.hook(Hook::Close).map(|n| n.text.clone()),
            on_resume: scenario.hook(Hook::Resume).map(|n| n.text.clone()),
            languages: scenario
                .languages()
                .iter()
                .map(|l| l.text.clone())
                .collect(),
            language_from: scenario
                .language_from()
                .and_then(|path| path.segments.get(1))
                .map(|field| field.text.clone()),
            escape: scenario.escape().map(|escape| {
                let words = escape
                    .words
                    .iter()
                    .filter_map(Text::as_literal)
                    .map(|word| scenarist_lang::answers::normalize(&word))
                    .collect();
                (words, target(&escape.target))
            }),
            steps: HashMap::new(),
            regexes: HashMap::new(),
        };
        for step in scenario.steps() {
            let mut code = Code::default();
            compile_block(&step.body, &mut code, &mut program.regexes).map_err(&fail)?;
            let close = Span::new(
                step.body.span.end.saturating_sub(1) as usize,
                step.body.span.end as usize,
            );
            code.push(Instr::FellOff, close);
            program.steps.insert(step.name.text.clone(), code);
        }
        if !program.steps.contains_key(&program.start) {
            return Err(fail(Unrunnable::MissingStart(program.start)));
        }
        Ok(program)
    }

    /// Whether advisors' tools may hand the conversation back at `step`.
    pub fn is_entry(&self, step: &str) -> bool {
        step == self.start || self.entries.iter().any(|entry| entry == step)
    }

    /// The steps a conversation may be handed back at: the start, then the `entry` steps.
    pub fn entry_points(&self) -> Vec<String> {
        std::iter::once(self.start.clone())
            .chain(self.entries.iter().filter(|e| **e != self.start).cloned())
            .collect()
    }

    pub fn instr(&self, step: &str, index: u32) -> Option<&Instr> {
        self.steps.get(step)?.instrs.get(index as usize)
    }

    /// Where in the source an instruction comes from.
    pub fn span(&self, step: &str, index: u32) -> Option<Span> {
        self.steps.get(step)?.spans.get(index as usize).copied()
    }

    /// The instructions of a step, with their indexes (for coverage).
    pub fn instructions(&self, step: &str) -> impl Iterator<Item = (u32, &Instr)> {
        self.steps.get(step).into_iter().flat_map(|code| {
            code.instrs
                .iter()
                .enumerate()
                .map(|(i, instr)| (u32::try_from(i).unwrap_or(u32::MAX), instr))
        })
    }

    pub fn has_step(&self, step: &str) -> bool {
        self.steps.contains_key(step)
    }

    pub fn regex(&self, pattern: &str) -> Option<&Regex> {
        self.regexes.get(pattern)
    }

    /// Every step name (for coverage reports), sorted.
    pub fn step_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.steps.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

type Regexes = HashMap<String, Regex>;

/// A step's instructions and the source span of each.
#[derive(Debug, Default)]
struct Code {
    instrs: Vec<Instr>,
    spans: Vec<Span>,
}

impl Code {
    fn push(&mut self, instr: Instr, span: Span) {
        self.instrs.push(instr);
        self.spans.push(span);
    }

    fn len(&self) -> usize {
        self.instrs.len()
    }
}

fn compile_block(block: &Block, code: &mut Code, regexes: &mut Regexes) -> Result<(), Unrunnable> {
    for stmt in &block.statements {
        compile_stmt(stmt, code, regexes)?;
    }
    Ok(())
}

fn here(code: &Code) -> u32 {
    u32::try_from(code.len()).unwrap_or(u32::MAX)
}

fn compile_stmt(stmt: &Stmt, code: &mut Code, regexes: &mut Regexes) -> Result<(), Unrunnable> {
    match &stmt.kind {
        StmtKind::Say(message) => {
            collect_message_regexes(message, regexes)?;
            code.push(Instr::Say(message.clone()), stmt.span);
        }
        StmtKind::SayOneOf(variants) => {
            for message in variants {
                collect_message_regexes(message, regexes)?;
            }
            code.push(Instr::SayOneOf(variants.clone()), stmt.span);
        }
        StmtKind::Rich(rich) => {
            for message in rich.messages() {
                collect_message_regexes(message, regexes)?;
            }
            for url in rich.urls() {
                collect_text_regexes(url, regexes)?;
            }
            code.push(Instr::Rich(rich.clone()), stmt.span);
        }
        StmtKind::Set { name, value } => {
            collect_regexes(value, regexes)?;
            code.push(
                Instr::Set {
                    name: name.text.clone(),
                    value: value.clone(),
                },
                stmt.span,
            );
        }
        StmtKind::SetField { target, value } => {
            collect_regexes(value, regexes)?;
            let target = match target.segments.as_slice() {
                [root, field] if root.text == scenarist_lang::builtins::CONTACT => {
                    FieldTarget::Contact(field.text.clone())
                }
                [root, ..] if root.text == scenarist_lang::builtins::TICKET => {
                    FieldTarget::Ticket(target.dotted())
                }
                _ => return Err(Unrunnable::CannotSave(target.dotted())),
            };
            code.push(
                Instr::SetField {
                    target,
                    value: value.clone(),
                },
                stmt.span,
            );
        }
        StmtKind::Goto(name) => code.push(Instr::Goto(name.text.clone()), stmt.span),
        StmtKind::RouteTeam(text) => {
            let team = text.as_literal().ok_or(Unrunnable::ComputedTeam)?;
            code.push(Instr::RouteTeam(team), stmt.span);
        }
        StmtKind::Handoff => code.push(Instr::Handoff, stmt.span),
        StmtKind::End => code.push(Instr::End, stmt.span),
        StmtKind::If(if_stmt) => {
            // if c1 {A} else if c2 {B} else {C}:
            //   JumpUnless c1 → L1; A; Jump → END; L1: JumpUnless c2 → L2; B; Jump → END; L2: C; END:
            let mut to_end = Vec::new();
            for branch in &if_stmt.branches {
                collect_regexes(&branch.condition, regexes)?;
                let test = code.len();
                code.push(
                    Instr::JumpUnless {
                        condition: branch.condition.clone(),
                        target: 0,
                    },
                    branch.condition.span,
                );
                compile_block(&branch.body, code, regexes)?;
                to_end.push(code.len());
                code.push(Instr::Jump(0), stmt.span);
                let next = here(code);
                if let Some(Instr::JumpUnless { target, .. }) = code.instrs.get_mut(test) {
                    *target = next;
                }
            }
            if let Some(block) = &if_stmt.otherwise {
                compile_block(block, code, regexes)?;
            }
            let end = here(code);
            for index in to_end {
                if let Some(Instr::Jump(target)) = code.instrs.get_mut(index) {
                    *target = end;
                }
            }
        }
        StmtKind::Ask(ask) => {
            collect_message_regexes(&ask.prompt, regexes)?;
            let mut instr = AskInstr {
                prompt: ask.prompt.clone(),
                check: Check::Text,
                save: None,
                invalid: None,
                attempts: None,
                timeout: None,
                choices: Vec::new(),
                choice_values: Vec::new(),
                patterns: Vec::new(),
            };
            for option in &ask.options {
                match &option.kind {
                    AskOptionKind::Expect(validator) => instr.check = check(validator, regexes)?,
                    AskOptionKind::Save(path) => instr.save = Some(save_to(path)?),
                    AskOptionKind::Invalid(message) => {
                        collect_message_regexes(message, regexes)?;
                        instr.invalid = Some(message.clone());
                    }
                    AskOptionKind::Attempts { count, then } => {
                        instr.attempts = Some((count.value, target(then)));
                    }
                    AskOptionKind::Timeout { duration, then } => {
                        instr.timeout = Some((duration.seconds, target(then)));
                    }
                    AskOptionKind::Choice {
                        label,
                        value,
                        target,
                    } => {
                        collect_message_regexes(label, regexes)?;
                        instr
                            .choices
                            .push((label.clone(), target.as_ref().map(|n| n.text.clone())));
                        instr
                            .choice_values
                            .push(value.as_ref().and_then(Text::as_literal));
                    }
                    AskOptionKind::When { regex, target } => {
                        let key = pattern_key(&regex.pattern, &regex.flags);
                        compile_regex(&key, &regex.pattern, &regex.flags, regexes)?;
                        instr.patterns.push((key, target.text.clone()));
                    }
                }
            }
            if !instr.choices.is_empty() {
                instr.check = Check::Choice;
            }
            code.push(Instr::Ask(Box::new(instr)), stmt.span);
        }
        StmtKind::Call(call) => {
            for argument in &call.arguments {
                collect_regexes(&argument.value, regexes)?;
            }
            code.push(
                Instr::Call(Box::new(CallInstr {
                    action: call.action.text.clone(),
                    arguments: call
                        .arguments
                        .iter()
                        .map(|a| (a.name.text.clone(), a.value.clone()))
                        .collect(),
                    result: call.result.as_ref().map(|n| n.text.clone()),
                    on_error: call.on_error.as_ref().map(target),
                })),
                stmt.span,
            );
        }
    }
    Ok(())
}

fn target(jump: &Jump) -> Target {
    match &jump.kind {
        JumpKind::Goto(name) => Target::Goto(name.text.clone()),
        JumpKind::Handoff => Target::Handoff,
        JumpKind::End => Target::End,
    }
}

fn save_to(path: &Path) -> Result<SaveTo, Unrunnable> {
    match path.segments.as_slice() {
        [root, field] if root.text == scenarist_lang::builtins::CONTACT => {
            Ok(SaveTo::Contact(field.text.clone()))
        }
        [name] => Ok(SaveTo::Variable(name.text.clone())),
        _ => Err(Unrunnable::CannotSave(path.dotted())),
    }
}

fn check(validator: &Validator, regexes: &mut Regexes) -> Result<Check, Unrunnable> {
    Ok(match validator {
        Validator::Regex(regex) => {
            let key = pattern_key(&regex.pattern, &regex.flags);
            compile_regex(&key, &regex.pattern, &regex.flags, regexes)?;
            Check::Pattern(key)
        }
        Validator::OneOf(texts) => Check::OneOf(
            texts
                .iter()
                .filter_map(Text::as_literal)
                .map(|text| (scenarist_lang::answers::normalize(&text), text))
                .collect(),
        ),
        Validator::Ranged(name, range) => {
            let bounds = Some((range.low.value, range.high.value));
            match NamedValidator::named(&name.text) {
                Some(NamedValidator::Number) => Check::Number(bounds),
                Some(NamedValidator::Integer) => Check::Integer(bounds),
                _ => return Err(Unrunnable::UnknownValidator(name.text.clone())),
            }
        }
        Validator::Regional(name, region) => match NamedValidator::named(&name.text) {
            Some(NamedValidator::Phone) => Check::Phone(Some(region.text.clone())),
            _ => return Err(Unrunnable::UnknownValidator(name.text.clone())),
        },
        Validator::Named(name) => match NamedValidator::named(&name.text) {
            Some(NamedValidator::Email) => Check::Email,
            Some(NamedValidator::Phone) => Check::Phone(None),
            Some(NamedValidator::Number) => Check::Number(None),
            Some(NamedValidator::Integer) => Check::Integer(None),
            Some(NamedValidator::Date) => Check::Date,
            Some(NamedValidator::Choice) => Check::Choice,
            Some(NamedValidator::Text) => Check::Text,
            None => return Err(Unrunnable::UnknownValidator(name.text.clone())),
        },
    })
}

/// The key of a regex in the program's table: the flags and the pattern.
pub fn pattern_key(pattern: &str, flags: &str) -> String {
    format!("{flags}/{pattern}")
}

fn compile_regex(
    key: &str,
    pattern: &str,
    flags: &str,
    regexes: &mut Regexes,
) -> Result<(), Unrunnable> {
    if !regexes.contains_key(key) {
        let regex = RegexBuilder::new(pattern)
            .case_insensitive(flags.contains('i'))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| Unrunnable::InvalidRegex {
                pattern: pattern.to_owned(),
                reason: e.to_string(),
            })?;
        regexes.insert(key.to_owned(), regex);
    }
    Ok(())
}

fn collect_message_regexes(message: &Message, regexes: &mut Regexes) -> Result<(), Unrunnable> {
    message
        .texts()
        .try_for_each(|text| collect_text_regexes(text, regexes))
}

fn collect_text_regexes(text: &Text, regexes: &mut Regexes) -> Result<(), Unrunnable> {
    for part in &text.parts {
        if let TextPart::Interpolation(expr) = part {
            collect_regexes(expr, regexes)?;
        }
    }
    Ok(())
}

fn collect_regexes(expr: &Expr, regexes: &mut Regexes) -> Result<(), Unrunnable> {
    match &expr.kind {
        ExprKind::Matches { operand, regex } => {
            compile_regex(
                &pattern_key(&regex.pattern, &regex.flags),
                &regex.pattern,
                &regex.flags,
                regexes,
            )?;
            collect_regexes(operand, regexes)
        }
        ExprKind::Text(text) => collect_text_regexes(text, regexes),
        ExprKind::List(items) => items
            .iter()
            .try_for_each(|item| collect_regexes(item, regexes)),
        ExprKind::Paren(inner) | ExprKind::Not(inner) | ExprKind::Test { operand: inner, .. } => {
            collect_regexes(inner, regexes)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            collect_regexes(lhs, regexes)?;
            collect_regexes(rhs, regexes)
        }
        ExprKind::Call { args, .. } => args
            .iter()
            .try_for_each(|arg| collect_regexes(arg, regexes)),
        ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Path(_) | ExprKind::Open(_) => Ok(()),
    }
}
