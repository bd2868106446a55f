//! Which parts of a scenario the transcripts reached: every step, both outcomes of every
//! `if` test, every outcome an `ask` can have (a valid answer or each choice, an invalid one,
//! attempts running out, the timeout) and both outcomes of a fallible `call`.

use std::collections::BTreeSet;

use crate::runtime::interpreter::{AskOutcome, Trace};
use crate::runtime::program::{Check, Instr, Program};
use crate::source::SourceFile;

/// The points that can be reached, with a sentence for each one that was not.
pub fn points(program: &Program) -> Vec<Trace> {
    let mut points = Vec::new();
    for step in program.step_names() {
        points.push(Trace::Step(step.to_owned()));
        for (index, instr) in program.instructions(step) {
            let step = step.to_owned();
            match instr {
                Instr::JumpUnless { .. } => {
                    points.push(Trace::Branch {
                        step: step.clone(),
                        index,
                        taken: true,
                    });
                    points.push(Trace::Branch {
                        step,
                        index,
                        taken: false,
                    });
                }
                Instr::Ask(ask) => {
                    let mut outcomes = Vec::new();
                    if ask.choices.is_empty() {
                        outcomes.push(AskOutcome::Valid);
                    } else {
                        outcomes.extend((0..ask.choices.len()).map(AskOutcome::Choice));
                    }
                    if !matches!(ask.check, Check::Text) || !ask.choices.is_empty() {
                        outcomes.push(AskOutcome::Invalid);
                    }
                    if ask.attempts.is_some() {
                        outcomes.push(AskOutcome::Exhausted);
                    }
                    if ask.timeout.is_some() {
                        outcomes.push(AskOutcome::TimedOut);
                    }
                    points.extend(outcomes.into_iter().map(|outcome| Trace::Ask {
                        step: step.clone(),
                        index,
                        outcome,
                    }));
                }
                Instr::Call(call) => {
                    points.push(Trace::Call {
                        step: step.clone(),
                        index,
                        failed: false,
                    });
                    if call.on_error.is_some() {
                        points.push(Trace::Call {
                            step,
                            index,
                            failed: true,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    points
}

/// The coverage of one scenario by a set of runs.
#[derive(Debug)]
pub struct Coverage {
    pub total: usize,
    pub missed: Vec<String>,
}

impl Coverage {
    pub fn compute(program: &Program, file: &SourceFile, reached: &BTreeSet<Trace>) -> Self {
        let all = points(program);
        let missed = all
            .iter()
            .filter(|p| !reached.contains(p))
            .map(|p| describe(program, file, p))
            .collect();
        Self {
            total: all.len(),
            missed,
        }
    }

    pub fn reached(&self) -> usize {
        self.total - self.missed.len()
    }
}

fn describe(program: &Program, file: &SourceFile, point: &Trace) -> String {
    let at = |step: &str, index: u32| {
        program.span(step, index).map_or_else(String::new, |span| {
            let position = file.line_column(span.start as usize);
            format!("{}:{}: ", file.name(), position.line)
        })
    };
    match point {
        Trace::Step(step) => format!("step `{step}` was never reached"),
        Trace::Branch { step, index, taken } => {
            let never = if *taken { "true" } else { "false" };
            let condition = program
                .span(step, *index)
                .map(|s| file.slice(s).to_owned())
                .unwrap_or_default();
            format!("{}`{condition}` was never {never}", at(step, *index))
        }
        Trace::Ask {
            step,
            index,
            outcome,
        } => {
            let what = match outcome {
                AskOutcome::Valid => "never got a valid answer".to_owned(),
                AskOutcome::Choice(i) => match program.instr(step, *index) {
                    Some(Instr::Ask(ask)) => {
                        let label = ask
                            .choices
                            .get(*i)
                            .and_then(|(t, _)| t.as_literal())
                            .unwrap_or_default();
                        format!("never had the choice \"{label}\" picked")
                    }
                    _ => format!("never had choice {} picked", i + 1),
                },
                AskOutcome::Invalid => "never got an invalid answer".to_owned(),
                AskOutcome::Exhausted => "never ran out of attempts".to_owned(),
                AskOutcome::TimedOut => "never timed out".to_owned(),
            };
            format!("{}the question in step `{step}` {what}", at(step, *index))
        }
        Trace::Call {
            step,
            index,
            failed,
        } => {
            let action = match program.instr(step, *index) {
                Some(Instr::Call(call)) => call.action.clone(),
                _ => "the action".to_owned(),
            };
            let what = if *failed {
                "never failed"
            } else {
                "never succeeded"
            };
            format!("{}`{action}` in step `{step}` {what}", at(step, *index))
        }
    }
}
