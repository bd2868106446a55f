//! Expressions and texts evaluated against a conversation: the runtime meaning of the
//! language's operators. An unset name evaluates to "nothing" (`None`): `is set` is false,
//! `or` takes its fallback, a message shows nothing in its place.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::program::{Program, pattern_key};
use super::state::{Contact, Conversation, Part};
use super::value::Value;
use scenarist_lang::ast::{
    BinaryOp, Expr, ExprKind, Image, Link, Message, Path, Rich, TestOp, Text, TextPart,
};
use scenarist_lang::builtins::functions as f;
use scenarist_lang::builtins::{self, contact, conversation};
use scenarist_lang::schedule::{self, Schedule as OpeningHours};

/// The workspace's schedules by name, compiled.
pub type Schedules = BTreeMap<String, OpeningHours>;

/// What names resolve against.
pub struct Env<'a> {
    pub program: &'a Program,
    pub conversation: &'a Conversation,
    pub contact: &'a Contact,
    /// The time of the input being applied (the runtime's clock), in ms since the epoch.
    pub now: i64,
    pub schedules: &'a Schedules,
}

impl Env<'_> {
    pub fn eval(&self, expr: &Expr) -> Option<Value> {
        match &expr.kind {
            ExprKind::Text(text) => Some(Value::Text(self.render(text))),
            ExprKind::Number(number) => Some(Value::Number(number.value)),
            ExprKind::Bool(b) => Some(Value::Bool(*b)),
            ExprKind::List(items) => Some(Value::List(
                items.iter().filter_map(|i| self.eval(i)).collect(),
            )),
            ExprKind::Path(path) => self.lookup(path),
            ExprKind::Paren(inner) => self.eval(inner),
            ExprKind::Not(inner) => Some(Value::Bool(!truthy(self.eval(inner).as_ref()))),
            ExprKind::Test { op, operand } => {
                let value = self.eval(operand);
                Some(Value::Bool(match op {
                    TestOp::IsSet => value.is_some(),
                    TestOp::IsNotSet => value.is_none(),
                    TestOp::IsEmpty => value.as_ref().is_none_or(Value::is_empty),
                    TestOp::IsNotEmpty => value.as_ref().is_some_and(|v| !v.is_empty()),
                }))
            }
            ExprKind::Matches { operand, regex } => {
                let text = self
                    .eval(operand)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let found = self
                    .program
                    .regex(&pattern_key(&regex.pattern, &regex.flags))
                    .is_some_and(|r| r.is_match(&text));
                Some(Value::Bool(found))
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            ExprKind::Call { function, args } => self.call(&function.text, args),
            ExprKind::Open(name) => Some(Value::Bool(
                self.schedules
                    .get(&name.text)
                    .is_some_and(|hours| hours.is_open(self.now)),
            )),
        }
    }

    /// The language numbers and dates are written in: the conversation's, else English.
    fn written_in(&self) -> &str {
        self.language().unwrap_or("en")
    }

    /// The schedule a function's first argument names.
    fn schedule_arg(&self, args: &[Expr]) -> Option<&OpeningHours> {
        match args.first().map(|a| &a.kind) {
            Some(ExprKind::Path(path)) => self.schedules.get(path.root()),
            _ => None,
        }
    }

    /// A built-in function; nothing when an argument is nothing or not of its type.
    fn call(&self, name: &str, args: &[Expr]) -> Option<Value> {
        let arg = |index: usize| args.get(index).and_then(|a| self.eval(a));
        let text = |index: usize| arg(index).map(|v| v.to_string());
        let number = |index: usize| match arg(index) {
            Some(Value::Number(n)) => Some(n),
            _ => None,
        };
        match name {
            f::LOWER => text(0).map(|t| Value::Text(t.to_lowercase())),
            f::UPPER => text(0).map(|t| Value::Text(t.to_uppercase())),
            f::TRIM => text(0).map(|t| Value::Text(t.trim().to_owned())),
            f::LENGTH => match arg(0)? {
                Value::List(items) => Some(Value::Number(count(items.len()))),
                other => Some(Value::Number(count(other.to_string().chars().count()))),
            },
            f::CONTAINS => {
                let needle = text(1)?;
                Some(Value::Bool(match arg(0)? {
                    Value::List(items) => items.iter().any(|i| i.to_string() == needle),
                    other => other
                        .to_string()
                        .to_lowercase()
                        .contains(&needle.to_lowercase()),
                }))
            }
            f::ROUND => {
                let factor = 10f64.powi(decimals(number(1)?));
                Some(Value::Number((number(0)? * factor).round() / factor))
            }
            f::FORMAT_NUMBER => Some(Value::Text(format_number(
                number(0)?,
                decimals(number(1)?),
                self.written_in(),
            ))),
            f::FORMAT_DATE => {
                let date: jiff::civil::Date = text(0)?.parse().ok()?;
                // A pattern that asks for more than a date has gives nothing.
                jiff::fmt::strtime::format(text(1)?, date)
                    .ok()
                    .map(Value::Text)
            }
            f::NEXT_OPEN => {
                let hours = self.schedule_arg(args)?;
                let opening = hours.next_open(self.now)?;
                let now = hours.local(self.now)?;
                Some(Value::Text(schedule::describe(
                    &opening,
                    &now,
                    self.written_in(),
                )))
            }
            f::TODAY => {
                let now = self.schedule_arg(args)?.local(self.now)?;
                Some(Value::Text(now.date().to_string()))
            }
            f::WEEKDAY => {
                let now = self.schedule_arg(args)?.local(self.now)?;
                let index = usize::try_from(now.date().weekday().to_monday_zero_offset()).ok()?;
                schedule::DAYS.get(index).map(|day| Value::text(*day))
            }
            f::HOUR => {
                let now = self.schedule_arg(args)?.local(self.now)?;
                Some(Value::Number(f64::from(now.time().hour())))
            }
            _ => None,
        }
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Option<Value> {
        match op {
            // `a or b`: a if it has something in it, else b (both the logical or and the fallback).
            BinaryOp::Or => {
                let left = self.eval(lhs);
                if truthy(left.as_ref()) {
                    left
                } else {
                    self.eval(rhs)
                }
            }
            BinaryOp::And => Some(Value::Bool(
                truthy(self.eval(lhs).as_ref()) && truthy(self.eval(rhs).as_ref()),
            )),
            BinaryOp::Eq => Some(Value::Bool(equal(
                self.eval(lhs).as_ref(),
                self.eval(rhs).as_ref(),
            ))),
            BinaryOp::Ne => Some(Value::Bool(!equal(
                self.eval(lhs).as_ref(),
                self.eval(rhs).as_ref(),
            ))),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let (Some(Value::Number(x)), Some(Value::Number(y))) =
                    (self.eval(lhs), self.eval(rhs))
                else {
                    return None;
                };
                let result = match op {
                    BinaryOp::Add => x + y,
                    BinaryOp::Sub => x - y,
                    BinaryOp::Mul => x * y,
                    _ => x / y,
                };
                // A division by zero (or an overflow) is nothing, not infinity.
                result.is_finite().then_some(Value::Number(result))
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ordering = compare(self.eval(lhs).as_ref(), self.eval(rhs).as_ref());
                Some(Value::Bool(ordering.is_some_and(|o| match op {
                    BinaryOp::Lt => o == Ordering::Less,
                    BinaryOp::Le => o != Ordering::Greater,
                    BinaryOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })))
            }
        }
    }

    /// Whether a condition holds.
    pub fn holds(&self, expr: &Expr) -> bool {
        truthy(self.eval(expr).as_ref())
    }

    /// A text with its interpolations filled in.
    pub fn render(&self, text: &Text) -> String {
        let mut out = String::new();
        for part in &text.parts {
            match part {
                TextPart::Literal(literal) => out.push_str(literal),
                TextPart::Interpolation(expr) => {
                    if let Some(value) = self.eval(expr) {
                        out.push_str(&value.to_string());
                    }
                }
            }
        }
        out
    }

    /// A URL: like [`Env::render`], but each value shown is percent-encoded (all but
    /// `A-Z a-z 0-9 - . _ ~`), so an order number with a space or a `/` stays one segment.
    pub fn render_url(&self, text: &Text) -> String {
        let mut out = String::new();
        for part in &text.parts {
            match part {
                TextPart::Literal(literal) => out.push_str(literal),
                TextPart::Interpolation(expr) => {
                    if let Some(value) = self.eval(expr) {
                        for byte in value.to_string().bytes() {
                            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                                out.push(char::from(byte));
                            } else {
                                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                                out.push('%');
                                out.push(char::from(HEX[usize::from(byte >> 4)]));
                                out.push(char::from(HEX[usize::from(byte & 0xF)]));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// A rich message's part: its texts in the conversation's language, its URLs rendered.
    pub fn part(&self, rich: &Rich) -> Part {
        let link = |link: &Link| (self.localize(&link.label), self.render_url(&link.url));
        let image = |image: &Image| (self.render_url(&image.url), self.localize(&image.alt));
        match rich {
            Rich::Link(l) => {
                let (label, url) = link(l);
                Part::Link { label, url }
            }
            Rich::Image(i) => {
                let (url, alt) = image(i);
                Part::Image { url, alt }
            }
            Rich::Card(card) => Part::Card {
                title: self.localize(&card.title),
                text: card.text.as_ref().map(|text| self.localize(text)),
                image: card.image.as_ref().map(image),
                links: card.links.iter().map(link).collect(),
            },
        }
    }

    /// The conversation's language: the one the `language from` field names among the
    /// scenario's languages, else the default; `None` in a scenario without languages. Read at
    /// each text, so a change of the field takes effect at the next message.
    pub fn language(&self) -> Option<&str> {
        let program = self.program;
        let default = program.languages.first()?;
        let chosen = program
            .language_from
            .as_ref()
            .and_then(|field| self.contact.fields.get(field))
            .and_then(|value| {
                scenarist_lang::language::resolve(&program.languages, &value.to_string())
            });
        Some(chosen.unwrap_or(default))
    }

    /// A message in the conversation's language, its interpolations filled in.
    pub fn localize(&self, message: &Message) -> String {
        let text = self
            .language()
            .and_then(|language| message.translation(language))
            .unwrap_or(&message.text);
        self.render(text)
    }

    pub fn lookup(&self, path: &Path) -> Option<Value> {
        let segments: Vec<&str> = path.segments.iter().map(|n| n.text.as_str()).collect();
        match segments.as_slice() {
            [builtins::CONTACT, field] => match *field {
                contact::ID => Some(Value::text(&self.contact.id)),
                contact::NAME => non_empty(&self.contact.name),
                contact::FIRST_NAME => non_empty(self.contact.first_name()),
                other => self.contact.fields.get(other).cloned(),
            },
            [builtins::CONVERSATION, field] => match *field {
                conversation::ID => Some(Value::text(&self.conversation.id)),
                conversation::ACCOUNT => Some(Value::text(&self.conversation.account)),
                conversation::CHANNEL => Some(Value::text(channel_of(&self.conversation.account))),
                conversation::LANGUAGE => self.language().map(Value::text),
                _ => None,
            },
            [variable, fields @ ..] => {
                let mut value = self.conversation.variables.get(*variable)?;
                for field in fields {
                    value = value.field(field)?;
                }
                Some(value.clone())
            }
            [] => None,
        }
    }
}

/// The channel kind of an account id such as `facebook:acme`.
pub fn channel_of(account: &str) -> &str {
    account.split(':').next().unwrap_or(account)
}

fn non_empty(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| Value::text(text))
}

fn truthy(value: Option<&Value>) -> bool {
    value.is_some_and(Value::is_truthy)
}

/// Equality across the types the checker lets meet: texts (emails, phones, dates) compare as
/// texts, numbers as numbers; "nothing" equals only "nothing".
fn equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Number(x)), Some(Value::Number(y))) => (x - y).abs() < f64::EPSILON,
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Order of numbers, and of dates written `YYYY-MM-DD` (which sort as text).
fn compare(a: Option<&Value>, b: Option<&Value>) -> Option<Ordering> {
    match (a?, b?) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A count as a number value.
fn count(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Decimals asked for, kept to 0..=10.
fn decimals(n: f64) -> i32 {
    if n.is_finite() {
        // Truncation is the intent: `2.7` decimals means 2.
        #[expect(clippy::cast_possible_truncation, reason = "clamped to 0..=10 first")]
        let n = n.clamp(0.0, 10.0) as i32;
        n
    } else {
        0
    }
}

/// `1234.5` with 2 decimals: `1,234.50`, or `1 234,50` in French.
pub fn format_number(n: f64, decimals: i32, language: &str) -> String {
    let places = usize::try_from(decimals).unwrap_or(0);
    let fixed = format!("{:.*}", places, n.abs());
    let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let french = language.to_ascii_lowercase().starts_with("fr");
    let (group, point) = if french {
        ('\u{202F}', ',')
    } else {
        (',', '.')
    };
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    let sign = if n < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{point}{fraction}")
    }
}
