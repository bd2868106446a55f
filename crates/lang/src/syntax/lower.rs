//! Pairs → AST for the scenario, its items and statements. One `lower_<rule>` per rule;
//! expressions are in `expr.rs`, strings in `text.rs`. A returned `Err` is an internal
//! error (grammar/lowering mismatch); mistakes in literals (`attempts 99999999999`) are
//! user diagnostics pushed to `Lowerer::diagnostics` while lowering goes on.

use pest::iterators::Pair;

use super::cursor::{Children, exact, internal, span_of};
use super::expr::lower_path;
use super::grammar::Rule;
use crate::ast::{
    Argument, Ask, AskOption, AskOptionKind, Block, Branch, Call, Card, Count, Duration, Flow,
    Hook, If, Image, Include, IncludeArg, Item, ItemKind, Jump, JumpKind, Link, Message, Name,
    Param, ParamKind, Path, Rich, Scenario, Step, Stmt, StmtKind, Text, Translation, Validator,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

pub(crate) type Lowered<T> = Result<T, Diagnostic>;

pub(crate) struct Lowerer {
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Lowerer {
    pub(crate) fn new() -> Self {
        Self {
            diagnostics: Vec::new(),
        }
    }

    /// The file's scenario, if it declares one, and its flows.
    pub(crate) fn lower_file(
        &mut self,
        pair: Pair<'_, Rule>,
    ) -> Lowered<(Option<Scenario>, Vec<Flow>)> {
        debug_assert_eq!(pair.as_rule(), Rule::file);
        let mut children = Children::of(pair);
        let scenario = children
            .optional(Rule::scenario)
            .map(|pair| self.lower_scenario(pair))
            .transpose()?;
        let mut flows = Vec::new();
        while let Some(flow) = children.optional(Rule::flow_decl) {
            flows.push(self.lower_flow(flow)?);
        }
        children.finish()?;
        Ok((scenario, exact(flows)))
    }

    pub(crate) fn lower_flow(&mut self, pair: Pair<'_, Rule>) -> Lowered<Flow> {
        let span = span_of(&pair);
        let mut children = Children::of(pair);
        let flow_name = name(&children.child(Rule::flow_name)?);
        let mut params = Vec::new();
        let params_pair = children.child(Rule::params)?;
        let params_span = span_of(&params_pair);
        for param in Children::of(params_pair) {
            let span_of_param = span_of(&param);
            let mut inner = Children::of(param);
            let param_name = name(&inner.child(Rule::param_name)?);
            let kind = match inner.child(Rule::param_kind)?.as_str() {
                "step" => ParamKind::Step,
                _ => ParamKind::Field,
            };
            inner.finish()?;
            params.push(Param {
                name: param_name,
                kind,
                span: span_of_param,
            });
        }
        let items = children
            .map(|item| self.lower_item(item))
            .collect::<Lowered<Vec<_>>>()?;
        Ok(Flow {
            name: flow_name,
            params: exact(params),
            params_span,
            items: exact(items),
            span,
        })
    }

    fn lower_scenario(&mut self, pair: Pair<'_, Rule>) -> Lowered<Scenario> {
        let span = span_of(&pair);
        let mut children = Children::of(pair);
        let name = name(&children.child(Rule::scenario_name)?);
        let items = children
            .map(|item| self.lower_item(item))
            .collect::<Lowered<Vec<_>>>()?;
        Ok(Scenario {
            name,
            items: exact(items),
            span,
        })
    }

    pub(crate) fn lower_item(&mut self, pair: Pair<'_, Rule>) -> Lowered<Item> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::description => {
                let mut children = Children::of(pair);
                let text = self.lower_string(children.child(Rule::string)?)?;
                children.finish()?;
                ItemKind::Description(text)
            }
            Rule::start_decl => {
                let mut children = Children::of(pair);
                let step = name(&children.child(Rule::step_ref)?);
                children.finish()?;
                ItemKind::Start(step)
            }
            Rule::entry_decl => {
                ItemKind::Entry(exact(Children::of(pair).map(|step| name(&step)).collect()))
            }
            Rule::hook_decl => {
                let mut children = Children::of(pair);
                let event = match children.child(Rule::hook_event)?.as_str() {
                    "close" => Hook::Close,
                    _ => Hook::Resume,
                };
                let step = name(&children.child(Rule::step_ref)?);
                children.finish()?;
                ItemKind::Hook { event, step }
            }
            Rule::escape_decl => {
                let mut children = Children::of(pair);
                let mut words = Vec::new();
                while let Some(word) = children.optional(Rule::string) {
                    words.push(self.lower_string(word)?);
                }
                let last = children.any_child()?;
                let target = match last.as_rule() {
                    Rule::step_ref => Jump {
                        span: span_of(&last),
                        kind: JumpKind::Goto(name(&last)),
                    },
                    _ => lower_jump(last)?,
                };
                children.finish()?;
                ItemKind::Escape(crate::ast::Escape {
                    words: exact(words),
                    target,
                })
            }
            Rule::languages_decl => {
                let languages = Children::of(pair).map(|tag| name(&tag)).collect();
                ItemKind::Languages(exact(languages))
            }
            Rule::language_from => {
                let mut children = Children::of(pair);
                let path = lower_path(children.child(Rule::path)?)?;
                children.finish()?;
                ItemKind::LanguageFrom(path)
            }
            Rule::step_decl => ItemKind::Step(self.lower_step_decl(pair)?),
            Rule::include_decl => {
                let mut children = Children::of(pair);
                let flow = name(&children.child(Rule::flow_ref)?);
                let mut args = Vec::new();
                while let Some(arg) = children.optional(Rule::include_arg) {
                    let arg_span = span_of(&arg);
                    let mut inner = Children::of(arg);
                    let arg_name = name(&inner.child(Rule::arg_name)?);
                    let value = lower_path(inner.child(Rule::path)?)?;
                    inner.finish()?;
                    args.push(IncludeArg {
                        name: arg_name,
                        value,
                        span: arg_span,
                    });
                }
                let alias = children
                    .optional(Rule::include_alias)
                    .map(|pair| name(&pair));
                children.finish()?;
                ItemKind::Include(Include {
                    flow,
                    args: exact(args),
                    alias,
                })
            }
            other => {
                return Err(internal(
                    span,
                    &format!("scenario item: unexpected {other:?}"),
                ));
            }
        };
        Ok(Item { kind, span })
    }

    fn lower_step_decl(&mut self, pair: Pair<'_, Rule>) -> Lowered<Step> {
        let span = span_of(&pair);
        let mut children = Children::of(pair);
        let step_name = name(&children.child(Rule::step_name)?);
        let body = self.lower_block(children.child(Rule::block)?)?;
        children.finish()?;
        Ok(Step {
            name: step_name,
            body,
            span,
        })
    }

    fn lower_block(&mut self, pair: Pair<'_, Rule>) -> Lowered<Block> {
        debug_assert_eq!(pair.as_rule(), Rule::block);
        let span = span_of(&pair);
        let statements = Children::of(pair)
            .map(|stmt| self.lower_stmt(stmt))
            .collect::<Lowered<_>>()?;
        Ok(Block {
            statements: exact(statements),
            span,
        })
    }

    fn lower_stmt(&mut self, pair: Pair<'_, Rule>) -> Lowered<Stmt> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut children = Children::of(pair);
        let kind = match rule {
            Rule::say_stmt => match children.optional(Rule::say_one_of) {
                Some(one_of) => StmtKind::SayOneOf(exact(
                    Children::of(one_of)
                        .map(|variant| {
                            let mut texts = Children::of(variant);
                            let message = self.lower_message(&mut texts)?;
                            texts.finish()?;
                            Ok(message)
                        })
                        .collect::<Lowered<_>>()?,
                )),
                None => StmtKind::Say(self.lower_message(&mut children)?),
            },
            Rule::link_stmt => StmtKind::Rich(Rich::Link(self.lower_link(&mut children, span)?)),
            Rule::image_stmt => StmtKind::Rich(Rich::Image(self.lower_image(&mut children, span)?)),
            Rule::card_stmt => {
                StmtKind::Rich(Rich::Card(Box::new(self.lower_card(&mut children)?)))
            }
            Rule::ask_stmt => {
                let prompt = self.lower_message(&mut children)?;
                let options = match children.optional(Rule::ask_block) {
                    Some(block) => exact(
                        Children::of(block)
                            .map(|option| self.lower_ask_option(option))
                            .collect::<Lowered<_>>()?,
                    ),
                    None => Vec::new(),
                };
                StmtKind::Ask(Ask { prompt, options })
            }
            Rule::if_stmt => StmtKind::If(self.lower_if(&mut children)?),
            Rule::set_stmt => {
                let target = super::expr::lower_path(children.child(Rule::path)?)?;
                let value = self.lower_expr(children.child(Rule::expr)?)?;
                match <[_; 1]>::try_from(target.segments) {
                    Ok([name]) => StmtKind::Set { name, value },
                    Err(segments) => StmtKind::SetField {
                        target: Path {
                            segments,
                            span: target.span,
                        },
                        value,
                    },
                }
            }
            Rule::goto_stmt => StmtKind::Goto(name(&children.child(Rule::step_ref)?)),
            Rule::route_stmt => {
                StmtKind::RouteTeam(self.lower_string(children.child(Rule::string)?)?)
            }
            Rule::handoff_stmt => StmtKind::Handoff,
            Rule::end_stmt => StmtKind::End,
            Rule::call_stmt => StmtKind::Call(self.lower_call(&mut children)?),
            other => return Err(internal(span, &format!("statement: unexpected {other:?}"))),
        };
        children.finish()?;
        Ok(Stmt { kind, span })
    }

    fn lower_if(&mut self, children: &mut Children<'_>) -> Lowered<If> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        let first_condition = children.child(Rule::expr)?;
        let first_body = children.child(Rule::block)?;
        let span = span_of(&first_condition).to(span_of(&first_body));
        branches.push(Branch {
            condition: self.lower_expr(first_condition)?,
            body: self.lower_block(first_body)?,
            span,
        });
        for pair in children {
            let pair_span = span_of(&pair);
            match pair.as_rule() {
                Rule::else_if => {
                    let mut inner = Children::of(pair);
                    let condition = self.lower_expr(inner.child(Rule::expr)?)?;
                    let body = self.lower_block(inner.child(Rule::block)?)?;
                    inner.finish()?;
                    branches.push(Branch {
                        condition,
                        body,
                        span: pair_span,
                    });
                }
                Rule::else_clause => {
                    let mut inner = Children::of(pair);
                    otherwise = Some(self.lower_block(inner.child(Rule::block)?)?);
                    inner.finish()?;
                }
                other => return Err(internal(pair_span, &format!("if: unexpected {other:?}"))),
            }
        }
        Ok(If {
            branches: exact(branches),
            otherwise,
        })
    }

    fn lower_call(&mut self, children: &mut Children<'_>) -> Lowered<Call> {
        let action = name(&children.child(Rule::action_name)?);
        let mut arguments = Vec::new();
        while let Some(pair) = children.optional(Rule::argument) {
            let span = span_of(&pair);
            let mut inner = Children::of(pair);
            let arg_name = name(&inner.child(Rule::arg_name)?);
            let value = self.lower_expr(inner.child(Rule::expr)?)?;
            inner.finish()?;
            arguments.push(Argument {
                name: arg_name,
                value,
                span,
            });
        }
        let result = children.optional(Rule::var_name).map(|pair| name(&pair));
        let on_error = match children.optional(Rule::on_error) {
            Some(pair) => {
                let mut inner = Children::of(pair);
                let jump = lower_jump(inner.any_child()?)?;
                inner.finish()?;
                Some(jump)
            }
            None => None,
        };
        Ok(Call {
            action,
            arguments: exact(arguments),
            result,
            on_error,
        })
    }

    fn lower_ask_option(&mut self, pair: Pair<'_, Rule>) -> Lowered<AskOption> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut children = Children::of(pair);
        let kind = match rule {
            Rule::expect_opt => {
                let inner = children.any_child()?;
                match inner.as_rule() {
                    Rule::regex => AskOptionKind::Expect(Validator::Regex(lower_regex(inner)?)),
                    Rule::validator_name => match children.optional(Rule::range) {
                        Some(range) => {
                            let range_span = span_of(&range);
                            let mut bounds = Children::of(range);
                            let low = super::expr::lower_number(&bounds.child(Rule::number)?)?;
                            let high = super::expr::lower_number(&bounds.child(Rule::number)?)?;
                            bounds.finish()?;
                            AskOptionKind::Expect(Validator::Ranged(
                                name(&inner),
                                crate::ast::Range {
                                    low,
                                    high,
                                    span: range_span,
                                },
                            ))
                        }
                        None => match children.optional(Rule::region) {
                            Some(region) => AskOptionKind::Expect(Validator::Regional(
                                name(&inner),
                                name(&region),
                            )),
                            None => AskOptionKind::Expect(Validator::Named(name(&inner))),
                        },
                    },
                    Rule::one_of => {
                        let mut texts = Vec::new();
                        for text in Children::of(inner) {
                            texts.push(self.lower_string(text)?);
                        }
                        AskOptionKind::Expect(Validator::OneOf(exact(texts)))
                    }
                    other => {
                        return Err(internal(span, &format!("expect: unexpected {other:?}")));
                    }
                }
            }
            Rule::save_opt => AskOptionKind::Save(lower_path(children.child(Rule::path)?)?),
            Rule::invalid_opt => AskOptionKind::Invalid(self.lower_message(&mut children)?),
            Rule::attempts_opt => {
                let count = self.lower_count(&children.child(Rule::integer)?);
                let then = lower_jump(children.any_child()?)?;
                AskOptionKind::Attempts { count, then }
            }
            Rule::timeout_opt => {
                let duration = self.lower_duration(&children.child(Rule::duration)?);
                let then = lower_jump(children.any_child()?)?;
                AskOptionKind::Timeout { duration, then }
            }
            Rule::choice_opt => {
                let label = self.lower_message(&mut children)?;
                let value = match children.optional(Rule::string) {
                    Some(pair) => Some(self.lower_string(pair)?),
                    None => None,
                };
                let target = children.optional(Rule::step_ref).map(|pair| name(&pair));
                AskOptionKind::Choice {
                    label,
                    value,
                    target,
                }
            }
            Rule::when_opt => {
                let regex = lower_regex(children.child(Rule::regex)?)?;
                let target = name(&children.child(Rule::step_ref)?);
                AskOptionKind::When { regex, target }
            }
            other => return Err(internal(span, &format!("ask option: unexpected {other:?}"))),
        };
        children.finish()?;
        Ok(AskOption { kind, span })
    }

    /// A text and the translations after it: `"Bonjour" en "Hello"`.
    fn lower_url(&mut self, children: &mut Children<'_>) -> Lowered<Text> {
        let mut inner = Children::of(children.child(Rule::url)?);
        let url = self.lower_string(inner.child(Rule::string)?)?;
        inner.finish()?;
        Ok(url)
    }

    fn lower_link(&mut self, children: &mut Children<'_>, span: Span) -> Lowered<Link> {
        let label = self.lower_message(children)?;
        let url = self.lower_url(children)?;
        Ok(Link { label, url, span })
    }

    fn lower_image(&mut self, children: &mut Children<'_>, span: Span) -> Lowered<Image> {
        let url = self.lower_url(children)?;
        let alt = self.lower_message(children)?;
        Ok(Image { url, alt, span })
    }

    fn lower_card(&mut self, children: &mut Children<'_>) -> Lowered<Card> {
        let title = self.lower_message(children)?;
        let block = children.child(Rule::card_block)?;
        let body = span_of(&block);
        let mut inner = Children::of(block);
        let text = match inner.optional(Rule::card_text) {
            Some(pair) => {
                let mut text = Children::of(pair);
                let message = self.lower_message(&mut text)?;
                text.finish()?;
                Some(message)
            }
            None => None,
        };
        let image = match inner.optional(Rule::image_stmt) {
            Some(pair) => {
                let span = span_of(&pair);
                let mut parts = Children::of(pair);
                let image = self.lower_image(&mut parts, span)?;
                parts.finish()?;
                Some(image)
            }
            None => None,
        };
        let mut links = Vec::new();
        while let Some(pair) = inner.optional(Rule::link_stmt) {
            let span = span_of(&pair);
            let mut parts = Children::of(pair);
            links.push(self.lower_link(&mut parts, span)?);
            parts.finish()?;
        }
        inner.finish()?;
        Ok(Card {
            title,
            text,
            image,
            links: exact(links),
            body,
        })
    }

    fn lower_message(&mut self, children: &mut Children<'_>) -> Lowered<Message> {
        let text = self.lower_string(children.child(Rule::string)?)?;
        let mut translations = Vec::new();
        while let Some(pair) = children.optional(Rule::translation) {
            let span = span_of(&pair);
            let mut inner = Children::of(pair);
            let language = name(&inner.child(Rule::language_tag)?);
            let text = self.lower_string(inner.child(Rule::string)?)?;
            inner.finish()?;
            translations.push(Translation {
                language,
                text,
                span,
            });
        }
        Ok(Message {
            text,
            translations: exact(translations),
        })
    }

    fn lower_count(&mut self, pair: &Pair<'_, Rule>) -> Count {
        let span = span_of(pair);
        let value = pair.as_str().parse::<u32>().unwrap_or_else(|_| {
            self.diagnostics.push(
                Diagnostic::new(Code::InvalidLiteral, span, "this number is too large")
                    .with_help("write a whole number below 4294967296"),
            );
            u32::MAX
        });
        Count { value, span }
    }

    fn lower_duration(&mut self, pair: &Pair<'_, Rule>) -> Duration {
        let span = span_of(pair);
        let text = pair.as_str();
        let seconds = parse_duration(text).unwrap_or_else(|| {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    span,
                    format!("the duration `{text}` is too long"),
                )
                .with_help("write a duration of at most a few years, such as `15m`, `2h` or `7d`"),
            );
            u64::MAX
        });
        Duration {
            text: text.to_owned(),
            seconds,
            span,
        }
    }
}

pub(crate) fn name(pair: &Pair<'_, Rule>) -> Name {
    Name {
        text: pair.as_str().to_owned(),
        span: span_of(pair),
    }
}

fn lower_jump(pair: Pair<'_, Rule>) -> Lowered<Jump> {
    let span = span_of(&pair);
    let rule = pair.as_rule();
    let mut children = Children::of(pair);
    let kind = match rule {
        Rule::goto_stmt => JumpKind::Goto(name(&children.child(Rule::step_ref)?)),
        Rule::handoff_stmt => JumpKind::Handoff,
        Rule::end_stmt => JumpKind::End,
        other => return Err(internal(span, &format!("jump: unexpected {other:?}"))),
    };
    children.finish()?;
    Ok(Jump { kind, span })
}

pub(crate) fn lower_regex(pair: Pair<'_, Rule>) -> Lowered<crate::ast::RegexLit> {
    let span = span_of(&pair);
    let mut children = Children::of(pair);
    let body = children.child(Rule::regex_body)?;
    let flags = children.child(Rule::regex_flags)?;
    children.finish()?;
    Ok(crate::ast::RegexLit {
        pattern: body.as_str().to_owned(),
        flags: flags.as_str().to_owned(),
        span,
        pattern_span: span_of(&body),
    })
}

/// `1h30m` → 5400. `None` when the total overflows (the grammar guarantees the shape).
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut number: u64 = 0;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = number.checked_mul(10)?.checked_add(u64::from(digit))?;
        } else {
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return None,
            };
            total = total.checked_add(number.checked_mul(unit)?)?;
            number = 0;
        }
    }
    // Ten years is plenty for a reply timeout; beyond it is surely a typo.
    (total <= 10 * 365 * 86_400).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("99999999999999999999s"), None);
        assert_eq!(parse_duration("99999d"), None);
    }
}
