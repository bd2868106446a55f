//! Mode B's silent failure: a scenario on an account that syncs from Zendesk's side must
//! route to the sync team (L206) and fill the email field (L207), or no ticket is ever
//! created and nobody is told.

use super::flow::StepGraph;
use crate::ast::Scenario;
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic};

pub(super) fn check(
    scenario: &Scenario,
    graph: &StepGraph<'_>,
    workspace: &Workspace,
    out: &mut Vec<Diagnostic>,
) {
    let config = workspace.file.name();
    for duty in workspace.sync_duties(&scenario.name.text) {
        if !graph.routed_teams.contains(&duty.team) {
            out.push(
                Diagnostic::new(
                    Code::SyncTeamNeverRouted,
                    scenario.name.span,
                    format!("scenario `{}` never routes to \"{}\", so account `{}` never creates a Zendesk ticket", scenario.name.text, duty.team, duty.account),
                )
                .with_label("no reachable `route team` to the sync team")
                .with_help(format!("add `route team \"{}\"` before the handoff; {config} makes that team the trigger of mode B", duty.team)),
            );
        }
        if !graph.saved_fields.contains(&duty.email_field) {
            out.push(
                Diagnostic::new(
                    Code::EmailFieldNeverFilled,
                    scenario.name.span,
                    format!("scenario `{}` never fills `contact.{}`, which account `{}` needs to find the Zendesk user", scenario.name.text, duty.email_field, duty.account),
                )
                .with_label("no reachable `save contact.".to_owned() + &duty.email_field + "`")
                .with_help(format!("ask for it: `ask \"What is your email?\" {{ expect email save contact.{} … }}`", duty.email_field)),
            );
        }
    }
}
