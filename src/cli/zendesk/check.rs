//! `scenarist zendesk check [ORG]`: for each organization, are the credentials accepted
//! (`users/me` has an id and the role of an agent or admin — Zendesk answers wrong
//! credentials with an anonymous user, not a 401), and does every property of the search,
//! display and create lists exist: standard properties from a known list, custom ones
//! (`user_fields.<key>`) against the instance's active user fields, with a did-you-mean for a
//! misspelt key; and does every custom ticket field of `sync.ticket_fields` exist and is it
//! active (`GET /api/v2/ticket_fields/{id}`), so a scenario's `ticket.fields.NAME` is not
//! silently dropped by Zendesk. Exit 1 if anything is wrong.
#![expect(clippy::print_stdout, reason = "check reports to the admin")]

use std::collections::BTreeMap;

use super::{GlobalArgs, agent, describe, org, organization, runtime, workspace};
use crate::cli::ExitStatus;
use crate::config::{Auth, Workspace};
use crate::diagnostic::did_you_mean;
use crate::runtime::{Clock as _, SystemClock};
use crate::zendesk::actions::Org;
use crate::zendesk::client::{Credentials, ZendeskClient};
use crate::zendesk::model::UserField;
use crate::zendesk::token_file::TokenSet;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Only this organization; default: every configured one.
    pub org: Option<String>,
}

/// Standard user properties that can be written (and so searched, shown and created).
const WRITABLE: &[&str] = &[
    "name",
    "email",
    "phone",
    "external_id",
    "alias",
    "notes",
    "details",
    "role",
    "locale",
    "locale_id",
    "time_zone",
    "organization_id",
    "tags",
    "verified",
    "signature",
    "shared_phone_number",
    "default_group_id",
    "custom_role_id",
    "moderator",
    "ticket_restriction",
    "only_private_comments",
    "restricted_agent",
    "suspended",
    "remote_photo_url",
];
/// Properties Zendesk sets itself: fine to search or show, not to create.
const READ_ONLY: &[&str] = &[
    "id",
    "url",
    "created_at",
    "updated_at",
    "last_login_at",
    "active",
    "shared",
    "shared_agent",
    "iana_time_zone",
    "photo",
    "two_factor_auth_enabled",
    "role_type",
    "report_csv",
];
/// What `User::property` can read back (the rest shows as empty with a linked contact).
const READABLE: &[&str] = &["name", "email", "phone", "external_id", "role"];

pub(super) fn check(args: &CheckArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let names: Vec<String> = match &args.org {
        Some(name) => {
            organization(&workspace, name)?;
            vec![name.clone()]
        }
        None => workspace
            .config
            .zendesk
            .organizations
            .keys()
            .cloned()
            .collect(),
    };
    if names.is_empty() {
        println!(
            "No Zendesk organization is configured in {}.",
            workspace.file.name()
        );
        return Ok(ExitStatus::Success);
    }
    let runtime = runtime()?;
    // Sandbox organizations are checked against a fresh sandbox.
    let (workspace, _sandboxes) = runtime.block_on(crate::setup::sandboxes(&workspace, None))?;
    let mut problems = 0;
    for name in &names {
        problems += runtime.block_on(check_org(&workspace, name))?;
    }
    if problems == 0 {
        println!("All checks passed.");
        Ok(ExitStatus::Success)
    } else {
        println!(
            "{problems} problem{} found.",
            if problems == 1 { "" } else { "s" }
        );
        Ok(ExitStatus::Failure)
    }
}

/// Checks one organization and returns how many problems it has.
async fn check_org(workspace: &Workspace, name: &str) -> anyhow::Result<usize> {
    let organization = organization(workspace, name)?;
    println!("{name} ({})", organization.url);
    let mut problems = 0;
    let mut custom: Option<Vec<UserField>> = None;
    let mut connected: Option<Org> = None;
    match org(workspace, name) {
        Err(error) => {
            println!("  ✗ {error:#}");
            problems += 1;
        }
        Ok(org) => {
            let hint = match &organization.auth {
                Auth::ApiToken { email, .. } => format!(
                    "Check the API token and that {email} is the email of the agent it belongs to."
                ),
                Auth::Oauth { .. } => format!(
                    "The OAuth token may have been revoked: run `scenarist zendesk reauthorize {name}`."
                ),
                Auth::Sandbox {} => {
                    "The sandbox should accept its own agent: is this URL another program?"
                        .to_owned()
                }
            };
            match agent(&org.client, &hint).await {
                Ok(user) => {
                    println!(
                        "  ✓ credentials accepted: {}, {}",
                        describe(&user),
                        user.role.as_deref().unwrap_or("agent")
                    );
                    if let Credentials::OAuth(session) = org.client.credentials() {
                        println!(
                            "  {}",
                            token_expiry(&session.tokens(), SystemClock.now() / 1000)
                        );
                    }
                    match org.client.user_fields().await {
                        Ok(fields) => custom = Some(fields),
                        Err(error) => {
                            println!("  ✗ cannot read the custom user fields: {error}");
                            problems += 1;
                        }
                    }
                    connected = Some(org);
                }
                Err(problem) => {
                    println!("  ✗ {problem}");
                    problems += 1;
                }
            }
        }
    }
    let fields = &organization.fields;
    for (list, map) in [
        ("search", &fields.search),
        ("display", &fields.display),
        ("create", &fields.create),
    ] {
        for (property, contact_field) in map {
            let line = format!("{list} {property} ← contact.{contact_field}");
            match field_problem(list, property, custom.as_deref()) {
                FieldCheck::Ok => println!("  ✓ {line}"),
                FieldCheck::Unchecked => {
                    println!("  - {line}: not checked (the user fields could not be read)");
                }
                FieldCheck::Note(note) => println!("  ⚠ {line}: {note}"),
                FieldCheck::Problem(problem) => {
                    println!("  ✗ {line}: {problem}");
                    problems += 1;
                }
            }
        }
    }
    let client = connected.as_ref().map(|org| &org.client);
    problems += check_ticket_fields(client, &organization.sync.ticket_fields).await;
    Ok(problems)
}

/// Where an admin creates and finds ticket fields and their ids.
const TICKET_FIELDS_PAGE: &str = "Admin Center → Objects and rules → Tickets → Fields";

/// Checks each `sync.ticket_fields` id against the instance (`None`: the credentials were not
/// accepted, nothing is asked) and returns how many problems there are.
async fn check_ticket_fields(
    client: Option<&ZendeskClient>,
    fields: &BTreeMap<String, u64>,
) -> usize {
    let mut problems = 0;
    for (name, id) in fields {
        let line = format!("sync.ticket_fields {name} → ticket field {id}");
        let Some(client) = client else {
            println!("  - {line}: not checked (Zendesk did not accept the credentials)");
            continue;
        };
        match client.ticket_field(*id).await {
            Ok(Some(field)) if field.active => {
                println!("  ✓ {line} “{}” ({})", field.title, field.kind);
            }
            Ok(Some(field)) => {
                println!(
                    "  ✗ {line}: the ticket field “{}” is inactive in Zendesk, which ignores \
                     values for it; reactivate it in {TICKET_FIELDS_PAGE}",
                    field.title
                );
                problems += 1;
            }
            Ok(None) => {
                println!(
                    "  ✗ {line}: Zendesk has no ticket field {id}, so `ticket.fields.{name}` \
                     would be dropped from every ticket; create the field in \
                     {TICKET_FIELDS_PAGE} and write its id under `sync.ticket_fields`, or \
                     correct the id"
                );
                problems += 1;
            }
            Err(error) => {
                println!("  ✗ {line}: cannot read the ticket field: {error}");
                problems += 1;
            }
        }
    }
    problems
}

enum FieldCheck {
    Ok,
    Unchecked,
    Note(String),
    Problem(String),
}

fn field_problem(list: &str, property: &str, custom: Option<&[UserField]>) -> FieldCheck {
    if let Some(key) = property.strip_prefix("user_fields.") {
        let Some(custom) = custom else {
            return FieldCheck::Unchecked;
        };
        return match custom.iter().find(|f| f.key == key) {
            Some(field) if field.active => FieldCheck::Ok,
            Some(_) => FieldCheck::Problem(
                "this custom user field is inactive in Zendesk (reactivate it in Admin Center → \
                 People → Configuration → User fields)"
                    .to_owned(),
            ),
            None => {
                let keys: Vec<String> = custom
                    .iter()
                    .filter(|f| f.active)
                    .map(|f| format!("user_fields.{}", f.key))
                    .collect();
                let hint =
                    did_you_mean(property, keys.iter().map(String::as_str)).unwrap_or_else(|| {
                        if keys.is_empty() {
                            "the instance defines no custom user field".to_owned()
                        } else {
                            format!("the custom fields are {}", keys.join(", "))
                        }
                    });
                FieldCheck::Problem(format!("Zendesk has no custom user field `{key}`; {hint}"))
            }
        };
    }
    if READ_ONLY.contains(&property) {
        return if list == "create" {
            FieldCheck::Problem(format!(
                "`{property}` is set by Zendesk and cannot be written when creating a user"
            ))
        } else {
            FieldCheck::Ok
        };
    }
    if WRITABLE.contains(&property) {
        if list == "display" && !READABLE.contains(&property) {
            return FieldCheck::Note(format!(
                "Scenarist does not read `{property}` back from Zendesk yet; it shows as empty"
            ));
        }
        return FieldCheck::Ok;
    }
    let known = WRITABLE.iter().chain(READ_ONLY);
    let hint = did_you_mean(property, known.copied())
        .unwrap_or_else(|| "custom fields are written `user_fields.<key>`".to_owned());
    FieldCheck::Problem(format!(
        "`{property}` is not a Zendesk user property; {hint}"
    ))
}

/// The OAuth token's expiry in one line (`now` in Unix seconds): whether it expires, when,
/// and whether Scenarist can renew it by itself.
fn token_expiry(tokens: &TokenSet, now: i64) -> String {
    let at = |seconds: i64| scenarist_base::clock::iso8601(seconds.saturating_mul(1000));
    let access = match tokens.expires_at {
        None => "✓ OAuth access token: does not expire".to_owned(),
        Some(expiry) if expiry <= now => format!("✓ OAuth access token: expired at {}", at(expiry)),
        Some(expiry) => format!("✓ OAuth access token: expires at {}", at(expiry)),
    };
    match (&tokens.refresh, tokens.refresh_expires_at) {
        (None, None) if tokens.expires_at.is_none() => access,
        (None, _) => format!(
            "⚠{}; it has no refresh token, so run `scenarist zendesk reauthorize` before then",
            access.trim_start_matches('✓')
        ),
        (Some(_), None) => format!("{access}; renewed automatically with its refresh token"),
        (Some(_), Some(expiry)) => format!(
            "{access}; renewed automatically with its refresh token, which is valid until {} (a renewal extends it)",
            at(expiry)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_expiry_line_says_when_and_whether_it_renews() {
        let mut tokens = TokenSet::new(crate::zendesk::secret::Secret::new("a"));
        assert_eq!(
            token_expiry(&tokens, 0),
            "✓ OAuth access token: does not expire"
        );
        tokens.expires_at = Some(86_400);
        assert_eq!(
            token_expiry(&tokens, 0),
            "⚠ OAuth access token: expires at 1970-01-02T00:00:00Z; it has no refresh token, so run `scenarist zendesk reauthorize` before then"
        );
        tokens.refresh = Some(crate::zendesk::secret::Secret::new("r"));
        tokens.refresh_expires_at = Some(2 * 86_400);
        let line = token_expiry(&tokens, 90_000);
        assert!(
            line.starts_with(
                "✓ OAuth access token: expired at 1970-01-02T00:00:00Z; renewed automatically"
            ),
            "{line}"
        );
        assert!(line.contains("valid until 1970-01-03T00:00:00Z"), "{line}");
    }

    #[test]
    fn field_lists_are_checked_against_zendesk() {
        let custom = vec![UserField {
            id: 1,
            key: "order_number".into(),
            kind: "text".into(),
            title: "Order".into(),
            active: true,
        }];
        assert!(matches!(
            field_problem("search", "email", Some(&custom)),
            FieldCheck::Ok
        ));
        let FieldCheck::Problem(problem) =
            field_problem("display", "user_fields.ordr_number", Some(&custom))
        else {
            panic!("a misspelt key is a problem");
        };
        assert!(
            problem.contains("did you mean `user_fields.order_number`?"),
            "{problem}"
        );
        assert!(matches!(
            field_problem("create", "created_at", Some(&custom)),
            FieldCheck::Problem(_)
        ));
        let FieldCheck::Problem(problem) = field_problem("search", "emial", None) else {
            panic!("a misspelt property is a problem");
        };
        assert!(problem.contains("did you mean `email`?"), "{problem}");
        assert!(matches!(
            field_problem("display", "user_fields.x", None),
            FieldCheck::Unchecked
        ));
    }
}
