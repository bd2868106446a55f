//! The types of what expressions compute: arithmetic, the built-in functions
//! (`builtins::functions`) and the schedules of the workspace config (`open support`).

use super::typing::{Typer, article, mismatch};
use crate::ast::{BinaryOp, Expr, ExprKind, Name};
use crate::builtins::functions::{self, Param};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::types::Type;

impl Typer<'_> {
    /// `a + b`, `a - b`, `a * b`, `a / b`: numbers only (a text is joined with `"{a}{b}"`).
    pub(crate) fn arithmetic_type(
        &mut self,
        op: BinaryOp,
        (lhs, left): (&Expr, Type),
        (rhs, right): (&Expr, Type),
    ) -> Type {
        for (side, ty) in [(lhs, left), (rhs, right)] {
            if !matches!(ty, Type::Number | Type::Unknown) {
                let help = if op == BinaryOp::Add && ty.fits(Type::Text) {
                    "to join texts, write them in one text: `\"{a}{b}\"`"
                } else {
                    "arithmetic applies to numbers; an answer becomes a number with `expect number`, a contact field with the type `number` in the workspace config"
                };
                self.report(
                    mismatch(
                        side,
                        &format!(
                            "`{}` computes with numbers, but this is {}",
                            op.symbol(),
                            article(ty)
                        ),
                    )
                    .with_help(help),
                );
            }
        }
        Type::Number
    }

    /// A call of a built-in function: its name, its arguments' count and types.
    pub(crate) fn function_type(&mut self, name: &Name, args: &[Expr]) -> Type {
        let Some(function) = functions::get(&name.text) else {
            let help = did_you_mean(&name.text, functions::FUNCTIONS.iter().map(|f| f.name))
                .unwrap_or_else(|| {
                    let names: Vec<&str> = functions::FUNCTIONS.iter().map(|f| f.name).collect();
                    format!("the functions are {}", names.join(", "))
                });
            self.report(
                Diagnostic::new(
                    Code::UnknownFunction,
                    name.span,
                    format!("there is no function `{}`", name.text),
                )
                .with_label("unknown function")
                .with_help(help),
            );
            for arg in args {
                self.type_of(arg);
            }
            return Type::Unknown;
        };
        if args.len() != function.params.len() {
            self.report(
                Diagnostic::new(
                    Code::FunctionArguments,
                    name.span,
                    format!(
                        "`{}` takes {} argument{}, not {}",
                        function.name,
                        function.params.len(),
                        if function.params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .with_help(function.summary.to_owned()),
            );
        }
        for (arg, param) in args.iter().zip(function.params) {
            match param {
                Param::Schedule => self.schedule_arg(function.name, arg),
                Param::Value(expected) => {
                    let ty = self.type_of(arg);
                    let fits = match (function.name, expected) {
                        // A text or a list.
                        (_, Type::Unknown) => {
                            matches!(ty, Type::TextList | Type::Unknown) || ty.fits(Type::Text)
                        }
                        _ => ty.fits(*expected),
                    };
                    if !fits {
                        self.report(
                            mismatch(
                                arg,
                                &format!(
                                    "`{}` needs {} here, but this is {}",
                                    function.name,
                                    if *expected == Type::Unknown {
                                        "a text or a list".to_owned()
                                    } else {
                                        article(*expected)
                                    },
                                    article(ty)
                                ),
                            )
                            .with_help(function.summary.to_owned()),
                        );
                    }
                }
            }
        }
        function.result
    }

    /// `next_open(support)`: the argument is a schedule's bare name.
    fn schedule_arg(&mut self, function: &str, arg: &Expr) {
        match &arg.kind {
            ExprKind::Path(path) if path.segments.len() == 1 => {
                if let Some(name) = path.segments.first() {
                    self.check_schedule(name);
                }
            }
            _ => self.report(
                Diagnostic::new(
                    Code::FunctionArguments,
                    arg.span,
                    format!("`{function}` takes the name of a schedule"),
                )
                .with_help(format!(
                    "write the name the workspace config gives it under `schedules`, e.g. `{function}(support)`"
                )),
            ),
        }
    }

    /// `open support`: whether it is open now.
    pub(crate) fn open_type(&mut self, schedule: &Name) -> Type {
        self.check_schedule(schedule);
        Type::Bool
    }

    /// The schedule must be one the workspace config declares.
    fn check_schedule(&mut self, name: &Name) {
        let schedules = &self.workspace.config.schedules;
        if schedules.contains_key(&name.text) {
            return;
        }
        let help =
            did_you_mean(&name.text, schedules.keys().map(String::as_str)).unwrap_or_else(|| {
                if schedules.is_empty() {
                    format!(
                        "declare opening hours under `schedules` in {}",
                        self.workspace.file.name()
                    )
                } else {
                    let names: Vec<&str> = schedules.keys().map(String::as_str).collect();
                    format!("the schedules are {}", names.join(", "))
                }
            });
        self.report(
            Diagnostic::new(
                Code::UnknownSchedule,
                name.span,
                format!(
                    "there is no schedule `{}` in the workspace config",
                    name.text
                ),
            )
            .with_label("unknown schedule")
            .with_help(help),
        );
    }
}
