//! `set contact.FIELD = …` and `set ticket.… = …`: the field must be one the scenario may
//! write, and the value of its type.

use super::typing::{Typer, article, mismatch};
use crate::ast::{Expr, ExprKind, Path};
use crate::builtins::{self, ticket};
use crate::config::BUILTIN_CONTACT_FIELDS;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::types::Type;

impl Typer<'_> {
    pub(crate) fn check_set_field(&mut self, target: &Path, value: &Expr) {
        let ty = self.type_of(value);
        let Some(expected) = self.writable_type(target) else {
            return;
        };
        if !ty.fits(expected) {
            let help = match expected {
                Type::Email | Type::Phone | Type::Date => format!(
                    "{} is checked when it is typed: save it from an `ask` with `expect {}`",
                    article(expected),
                    expected
                ),
                Type::TextList => "write a list of texts, e.g. `[\"order\", \"vip\"]`".to_owned(),
                _ => format!("give it {}", article(expected)),
            };
            self.report(
                mismatch(
                    value,
                    &format!(
                        "`{}` holds {}, but this is {}",
                        target.dotted(),
                        article(expected),
                        article(ty)
                    ),
                )
                .with_secondary(target.span, article(expected))
                .with_help(help),
            );
        }
        if target.dotted() == format!("{}.{}", builtins::TICKET, ticket::PRIORITY) {
            self.check_priority(value);
        }
    }

    /// The type a written field holds, or `None` after reporting why it cannot be written.
    fn writable_type(&mut self, target: &Path) -> Option<Type> {
        let names: Vec<&str> = target.segments.iter().map(|n| n.text.as_str()).collect();
        match names.as_slice() {
            [builtins::CONTACT, field] => self.contact_field(target, field),
            [builtins::TICKET, ticket::FIELDS, field] => self.ticket_custom_field(target, field),
            [builtins::TICKET, field] => match *field {
                ticket::TAGS => Some(Type::TextList),
                ticket::PRIORITY => Some(Type::Text),
                ticket::GROUP_ID => Some(Type::Number),
                other => {
                    let help = did_you_mean(other, ticket::ALL.iter().copied()).unwrap_or_else(|| {
                        "the ticket's fields are tags, priority, group_id and fields.NAME (a custom field of `sync.ticket_fields`)".to_owned()
                    });
                    self.unknown(target, "is not a field of the ticket", help);
                    None
                }
            },
            [builtins::CONTACT | builtins::TICKET, ..] => {
                self.unknown(
                    target,
                    "is not a field that can be set",
                    format!("write `{}.FIELD`", target.root()),
                );
                None
            }
            [root, ..] => {
                let why = if builtins::RESERVED_ROOTS.contains(root) {
                    format!("`{root}` is kept by the runtime")
                } else {
                    format!("`{root}` is a variable; a field of a variable cannot be set")
                };
                self.report(
                    Diagnostic::new(
                        Code::ReadOnlyTarget,
                        target.span,
                        format!("`{}` cannot be set: {why}", target.dotted()),
                    )
                    .with_help("set a variable (`set name = …`), a contact field (`set contact.language = …`) or the mode-B ticket (`set ticket.priority = …`)"),
                );
                None
            }
            [] => None,
        }
    }

    fn contact_field(&mut self, target: &Path, field: &str) -> Option<Type> {
        if BUILTIN_CONTACT_FIELDS.contains(&field) {
            self.report(
                Diagnostic::new(
                    Code::ReadOnlyTarget,
                    target.span,
                    format!(
                        "`{}` comes from the channel and cannot be set",
                        target.dotted()
                    ),
                )
                .with_help("declare a field of your own under `contact_fields` and set that"),
            );
            return None;
        }
        if let Some(kind) = self.workspace.field_type(field) {
            return Some(Type::from(kind));
        }
        let help = did_you_mean(field, self.workspace.field_names()).unwrap_or_else(|| {
            format!(
                "declare it under `contact_fields` in {} (with its type), then set it",
                self.workspace.file.name()
            )
        });
        self.unknown(target, "is not a declared contact field", help);
        None
    }

    /// `ticket.fields.order_number`: a custom field some organization's sync declares.
    fn ticket_custom_field(&mut self, target: &Path, field: &str) -> Option<Type> {
        let organizations = &self.workspace.config.zendesk.organizations;
        let declared: Vec<&str> = organizations
            .values()
            .flat_map(|o| o.sync.ticket_fields.keys().map(String::as_str))
            .collect();
        if declared.contains(&field) {
            return Some(Type::Text);
        }
        let help = did_you_mean(field, declared.iter().copied()).unwrap_or_else(|| {
            "name it under `sync.ticket_fields` of the organization, with its Zendesk ticket field id (`order_number: 360012345`)".to_owned()
        });
        self.unknown(
            target,
            "is not a custom ticket field of the workspace config",
            help,
        );
        None
    }

    fn unknown(&mut self, target: &Path, what: &str, help: String) {
        let last = target.segments.last().map_or(target.span, |n| n.span);
        self.report(
            Diagnostic::new(
                Code::UnknownField,
                last,
                format!("`{}` {what}", target.dotted()),
            )
            .with_label("unknown field")
            .with_help(help),
        );
    }

    /// A literal priority must be one Zendesk knows.
    fn check_priority(&mut self, value: &Expr) {
        let ExprKind::Text(text) = &value.kind else {
            return;
        };
        let Some(literal) = text.as_literal() else {
            return;
        };
        if ticket::PRIORITIES.contains(&literal.as_str()) {
            return;
        }
        let help =
            did_you_mean(&literal, ticket::PRIORITIES.iter().copied()).unwrap_or_else(|| {
                format!("Zendesk's priorities are {}", ticket::PRIORITIES.join(", "))
            });
        self.report(
            Diagnostic::new(
                Code::InvalidValue,
                value.span,
                format!("\"{literal}\" is not a ticket priority"),
            )
            .with_label("unknown priority")
            .with_help(help),
        );
    }
}
