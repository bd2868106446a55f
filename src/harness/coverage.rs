//! Which parts of a scenario the transcripts reached: every step, both outcomes of every
//! `if` test, every outcome an `ask` can have (a valid answer or each choice, an invalid one,
//! each `when` pattern, attempts running out, the timeout), the `escape` words once, and both outcomes of a fallible `call`.
//!
//! In a scenario with `languages` and `language from`, the points that send text — steps and
//! the outcomes of an `ask` — are counted once per language: each must be reached by a
//! conversation in that language (a choice picked in `fr` and never in `en` is reported for
//! `en`). Tests and calls count once, in any language: a test such as
//! `conversation.language == "en"` can only be true in one.

use std::collections::BTreeSet;

use crate::library::Bundle;
use crate::runtime::interpreter::{AskOutcome, Trace};
use crate::runtime::program::{Check, Instr, Program};

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
                    outcomes.extend((0..ask.patterns.len()).map(AskOutcome::Pattern));
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
    if program.escape.is_some() {
        points.push(Trace::Escape);
    }
    points
}

/// The languages whose conversations must reach each text-bearing point: every declared
/// language when the scenario says where the language comes from, else only the default (or
/// `None`, for a scenario without languages).
pub fn languages(program: &Program) -> Vec<Option<String>> {
    match (program.languages.first(), &program.language_from) {
        (None, _) => vec![None],
        (Some(default), None) => vec![Some(default.clone())],
        (Some(_), Some(_)) => program.languages.iter().cloned().map(Some).collect(),
    }
}

/// Whether a point is counted per language.
fn per_language(point: &Trace) -> bool {
    matches!(point, Trace::Step(_) | Trace::Ask { .. })
}

/// The points of a run's trace, each with the language the conversation was in.
pub fn attribute(trace: Vec<Trace>) -> impl Iterator<Item = (Option<String>, Trace)> {
    let mut language = None;
    trace.into_iter().filter_map(move |point| match point {
        Trace::Language(next) => {
            language = Some(next);
            None
        }
        point => Some((language.clone(), point)),
    })
}

/// The coverage of one scenario by a set of runs.
#[derive(Debug)]
pub struct Coverage {
    pub total: usize,
    pub missed: Vec<String>,
}

impl Coverage {
    /// `reached`: the points the runs reached, each with its language (`attribute`).
    pub fn compute(
        program: &Program,
        file: &Bundle,
        reached: &BTreeSet<(Option<String>, Trace)>,
    ) -> Self {
        let languages = languages(program);
        let anywhere: BTreeSet<&Trace> = reached.iter().map(|(_, point)| point).collect();
        let mut total = 0;
        let mut missed = Vec::new();
        for point in points(program) {
            if !per_language(&point) {
                total += 1;
                if !anywhere.contains(&point) {
                    missed.push(describe(program, file, &point));
                }
                continue;
            }
            for language in &languages {
                total += 1;
                if reached.contains(&(language.clone(), point.clone())) {
                    continue;
                }
                let sentence = describe(program, file, &point);
                missed.push(match (language, languages.len() > 1) {
                    (Some(language), true) => format!("{sentence} in `{language}`"),
                    _ => sentence,
                });
            }
        }
        Self { total, missed }
    }

    pub fn reached(&self) -> usize {
        self.total - self.missed.len()
    }
}

fn describe(program: &Program, bundle: &Bundle, point: &Trace) -> String {
    // A flow's line is in the flow's own file.
    let at = |step: &str, index: u32| {
        program.span(step, index).map_or_else(String::new, |span| {
            let (file, position) = bundle.locate(span.start as usize);
            format!("{}:{}: ", file.name(), position.line)
        })
    };
    let file = &bundle.file;
    match point {
        Trace::Language(language) => format!("the language `{language}`"),
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
                            .and_then(|(t, _)| t.text.as_literal())
                            .unwrap_or_default();
                        format!("never had the choice \"{label}\" picked")
                    }
                    _ => format!("never had choice {} picked", i + 1),
                },
                AskOutcome::Pattern(i) => match program.instr(step, *index) {
                    Some(Instr::Ask(ask)) => {
                        // The key is `flags/pattern` (`program::pattern_key`).
                        let (flags, pattern) = ask
                            .patterns
                            .get(*i)
                            .and_then(|(key, _)| key.split_once('/'))
                            .unwrap_or_default();
                        format!("never had an answer matching /{pattern}/{flags}")
                    }
                    _ => format!("never had an answer matching pattern {}", i + 1),
                },
                AskOutcome::Invalid => "never got an invalid answer".to_owned(),
                AskOutcome::Exhausted => "never ran out of attempts".to_owned(),
                AskOutcome::TimedOut => "never timed out".to_owned(),
            };
            format!("{}the question in step `{step}` {what}", at(step, *index))
        }
        Trace::Escape => "the scenario's `escape` words were never used".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::{attribute, languages};
    use crate::harness::language_field;
    use crate::runtime::interpreter::{AskOutcome, Trace};
    use crate::runtime::program::Program;
    use crate::source::SourceFile;
    use crate::syntax::parse;

    fn program(header: &str) -> Program {
        let source = format!("scenario s {{ {header} start a step a {{ end }} }}");
        let parsed = parse(&SourceFile::new("s.scn", source.clone())).unwrap();
        Program::compile(parsed.scenario.as_ref().unwrap(), &source).unwrap()
    }

    #[test]
    fn each_when_pattern_and_the_escape_are_points_to_cover() {
        let source = "scenario s { escape \"agent\" -> handoff advisor start a\n step a { ask \"q\" { when /refund/i -> a timeout 1m then end } end } }";
        let parsed = parse(&SourceFile::new("s.scn", source)).unwrap();
        let program = Program::compile(parsed.scenario.as_ref().unwrap(), source).unwrap();
        let file = crate::library::Bundle::plain(SourceFile::new("s.scn", source));
        let points = super::points(&program);
        let pattern = Trace::Ask {
            step: "a".into(),
            index: 0,
            outcome: AskOutcome::Pattern(0),
        };
        assert!(points.contains(&pattern), "{points:?}");
        assert!(points.contains(&Trace::Escape), "{points:?}");
        assert_eq!(
            super::describe(&program, &file, &pattern),
            "s.scn:2: the question in step `a` never had an answer matching /refund/i"
        );
        assert_eq!(
            super::describe(&program, &file, &Trace::Escape),
            "the scenario's `escape` words were never used"
        );
    }

    #[test]
    fn only_the_languages_a_conversation_can_be_in_are_covered() {
        let some = |tags: &[&str]| {
            tags.iter()
                .map(|t| Some((*t).to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(languages(&program("")), vec![None]);
        assert_eq!(languages(&program("languages fr, en")), some(&["fr"]));
        assert_eq!(
            languages(&program("languages fr, en language from contact.language")),
            some(&["fr", "en"])
        );
    }

    #[test]
    fn each_point_is_attributed_to_the_language_before_it() {
        let trace = vec![
            Trace::Language("fr".into()),
            Trace::Step("a".into()),
            Trace::Language("en".into()),
            Trace::Step("b".into()),
        ];
        let points: Vec<_> = attribute(trace).collect();
        assert_eq!(
            points,
            [
                (Some("fr".to_owned()), Trace::Step("a".into())),
                (Some("en".to_owned()), Trace::Step("b".into())),
            ]
        );
        assert_eq!(
            attribute(vec![Trace::Step("a".into())]).collect::<Vec<_>>(),
            [(None, Trace::Step("a".into()))]
        );
    }

    #[test]
    fn a_language_is_set_through_the_language_from_field_only() {
        let full = program("languages fr, en language from contact.language");
        assert_eq!(language_field(&full, "en"), Ok("language".to_owned()));
        let error = language_field(&full, "de").unwrap_err();
        assert!(error.contains("its languages are fr, en"), "{error}");
        let error = language_field(&program("languages fr, en"), "en").unwrap_err();
        assert!(error.contains("has no `language from`"), "{error}");
        let error = language_field(&program(""), "en").unwrap_err();
        assert!(error.contains("declares no languages"), "{error}");
    }
}
