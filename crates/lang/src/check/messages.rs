//! What the scenario sends and where: a team the config does not know (C115) or not
//! written out (C121), and messages or choice labels longer than a channel the scenario
//! runs on accepts (L205: each variant of `say one of`, link labels against the button limit,
//! card titles and texts too), and more choices than its buttons can show (L210).

use crate::ast::{AskOptionKind, Message, Rich, Scenario, Stmt, StmtKind, Text, TextPart};
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

pub(super) fn check(scenario: &Scenario, workspace: &Workspace, out: &mut Vec<Diagnostic>) {
    let channels = workspace.channels_for(&scenario.name.text);
    let message_limit = channels
        .iter()
        .map(|(name, c)| (c.max_message_length, *name))
        .min();
    let choice_limit = channels
        .iter()
        .filter_map(|(name, c)| c.max_choice_length.map(|l| (l, *name)))
        .min();
    let choice_count_limit = channels
        .iter()
        .filter_map(|(name, c)| c.max_choices.map(|l| (l, *name)))
        .min();
    let mut checker = Checker {
        workspace,
        message_limit,
        choice_limit,
        choice_count_limit,
        out,
    };
    scenario.for_each_statement(&mut |stmt| checker.statement(stmt));
}

struct Checker<'a> {
    workspace: &'a Workspace,
    message_limit: Option<(usize, &'a str)>,
    choice_limit: Option<(usize, &'a str)>,
    choice_count_limit: Option<(usize, &'a str)>,
    out: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn statement(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Say(message) => self.lengths(message, self.message_limit, "message"),
            StmtKind::Ask(ask) => {
                self.lengths(&ask.prompt, self.message_limit, "question");
                self.choice_count(ask);
                for option in &ask.options {
                    match &option.kind {
                        AskOptionKind::Invalid(message) => {
                            self.lengths(message, self.message_limit, "message");
                        }
                        AskOptionKind::Choice { label, .. } => {
                            self.lengths(label, self.choice_limit, "choice label");
                        }
                        _ => {}
                    }
                }
            }
            StmtKind::SayOneOf(variants) => {
                for variant in variants {
                    self.lengths(variant, self.message_limit, "message");
                }
            }
            StmtKind::Rich(rich) => {
                for link in rich.links() {
                    self.lengths(&link.label, self.choice_limit, "link label");
                }
                if let Rich::Card(card) = rich {
                    self.lengths(&card.title, self.message_limit, "card title");
                    if let Some(text) = &card.text {
                        self.lengths(text, self.message_limit, "card text");
                    }
                }
            }
            StmtKind::RouteTeam(text) => self.team(text),
            _ => {}
        }
    }

    fn team(&mut self, text: &Text) {
        let Some(team) = text.as_literal() else {
            self.out.push(
                Diagnostic::new(Code::TypeMismatch, text.span, "a team name must be written out")
                    .with_label("this name is computed")
                    .with_help("write the team's name as plain text, such as `route team \"Zendesk\"`; use `if` to choose between teams"),
            );
            return;
        };
        if self.workspace.has_team(&team) {
            return;
        }
        let help = did_you_mean(
            &team,
            self.workspace.config.teams.iter().map(String::as_str),
        )
        .unwrap_or_else(|| {
            format!(
                "add \"{team}\" to `teams` in {}",
                self.workspace.file.name()
            )
        });
        self.out.push(
            Diagnostic::new(
                Code::UnknownTeam,
                text.span,
                format!("there is no team \"{team}\" in the workspace config"),
            )
            .with_label("unknown team")
            .with_help(help),
        );
    }

    fn choice_count(&mut self, ask: &crate::ast::Ask) {
        let Some((limit, channel)) = self.choice_count_limit else {
            return;
        };
        let labels: Vec<&Text> = ask.choices().map(|(label, _)| &label.text).collect();
        if let Some(first_extra) = labels.get(limit) {
            self.out.push(
                Diagnostic::new(
                    Code::TooManyChoices,
                    first_extra.span,
                    format!(
                        "this question offers {} choices; {channel} shows at most {limit}",
                        labels.len()
                    ),
                )
                .with_label("this choice and the ones after it would not be shown")
                .with_help(format!(
                    "keep {limit} choices, or split the question in two"
                )),
            );
        }
    }

    /// L205 for every text of a message: a translation can be longer than its original.
    fn lengths(&mut self, message: &Message, limit: Option<(usize, &str)>, what: &str) {
        self.length(&message.text, limit, what, "");
        for translation in &message.translations {
            let language = format!(" (`{}`)", translation.language.text);
            self.length(&translation.text, limit, what, &language);
        }
    }

    fn length(&mut self, text: &Text, limit: Option<(usize, &str)>, what: &str, language: &str) {
        let Some((limit, channel)) = limit else {
            return;
        };
        let length: usize = text
            .parts
            .iter()
            .map(|part| match part {
                TextPart::Literal(literal) => literal.chars().count(),
                TextPart::Interpolation(_) => 0,
            })
            .sum();
        if length > limit {
            let at_least = if text.interpolations().next().is_some() {
                "at least "
            } else {
                ""
            };
            self.out.push(
                Diagnostic::new(Code::MessageTooLong, text.span, format!("this {what}{language} is {at_least}{length} characters long; {channel} accepts {limit}"))
                    .with_label(format!("longer than {limit} characters"))
                    .with_help(if what == "choice label" || what == "link label" {
                        format!("shorten the label to {limit} characters; {channel} cuts or refuses longer buttons")
                    } else {
                        "shorten it or split it into several `say` lines; the channel would cut or refuse it".to_owned()
                    }),
            );
        }
    }
}
