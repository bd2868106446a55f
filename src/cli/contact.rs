//! `scenarist contact …`: a contact record and its Zendesk links, for admins (product.md,
//! "Contacts outlive conversations"): `show`, `candidates` (the Zendesk users matching on the
//! search fields, exact matches first), `link` (an existing user, or `--create` one from the
//! create fields), `unlink` and `display` (the linked user's display fields); `export` and
//! `erase` (contacts' rights) are in `contact_rights`.
//!
//! They open the config's store, as `serve` does (PostgreSQL, or sled in `data_dir`), or
//! sled in `--data`. On sled they refuse to run while the service (or another command) holds
//! the directory: sled locks it, and `Store::put_contact` must not race the engine. On
//! PostgreSQL they run beside the service's nodes, holding the database locks a step holds
//! (`engine::beside`), so none of their changes interleaves with a step.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail};

use super::zendesk::{WorkspaceArgs, data_dir, describe, org, runtime, workspace};
use super::{ExitStatus, GlobalArgs};
use crate::config::Workspace;
use crate::diagnostic::did_you_mean;
use crate::runtime::engine::beside;
use crate::runtime::state::Contact;
use crate::store::{KvStore, Store};
use crate::zendesk::actions::{Org, UserSeed};
use crate::zendesk::linking::{self, LinkError};
use scenarist_base::clock::iso8601;

#[derive(Debug, clap::Args)]
pub struct ContactArgs {
    #[command(subcommand)]
    pub command: ContactCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ContactCommand {
    /// Show a contact: name, fields, tags, Zendesk links and conversations.
    Show(ContactRef),
    /// The Zendesk users that may be this contact (search fields; exact matches first).
    Candidates(OrgContact),
    /// Link the contact to a Zendesk user: an existing one (--user) or a new one (--create).
    Link(LinkArgs),
    /// Remove the contact's link to a Zendesk organization.
    Unlink(OrgContact),
    /// The linked Zendesk user's display fields.
    Display(OrgContact),
    /// Everything stored about the contact (fields, links, every conversation with its
    /// history), as one JSON document (GDPR article 15).
    Export(ContactRef),
    /// Erase the contact, its fields and links, and its conversations with their histories
    /// (GDPR article 17); lists the Zendesk user and tickets only Zendesk can erase.
    Erase(ContactRef),
}

/// A contact: the channel account and the contact's id on it.
#[derive(Debug, clap::Args)]
pub struct ContactRef {
    /// The channel account (e.g. `facebook:acme`).
    pub account: String,
    /// The contact's id on that account.
    pub id: String,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

#[derive(Debug, clap::Args)]
pub struct OrgContact {
    #[command(flatten)]
    pub contact: ContactRef,
    /// The Zendesk organization; default: the one the account is linked to.
    #[arg(long)]
    pub org: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["user", "create"])))]
pub struct LinkArgs {
    #[command(flatten)]
    pub target: OrgContact,
    /// The id of an existing Zendesk user.
    #[arg(long, value_name = "ZENDESK_ID")]
    pub user: Option<u64>,
    /// Create the Zendesk user from the organization's create fields.
    #[arg(long)]
    pub create: bool,
}

pub(super) fn run(args: &ContactArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (contact, org_arg) = match &args.command {
        ContactCommand::Show(contact)
        | ContactCommand::Export(contact)
        | ContactCommand::Erase(contact) => (contact, None),
        ContactCommand::Candidates(target)
        | ContactCommand::Unlink(target)
        | ContactCommand::Display(target)
        | ContactCommand::Link(LinkArgs { target, .. }) => (&target.contact, Some(target)),
    };
    let workspace = match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let data = data_dir(&contact.workspace, &workspace);
    let store = open_configured(contact.workspace.data.as_deref(), &data, &workspace)?;
    match &args.command {
        ContactCommand::Export(_) => return super::contact_rights::export(store.as_ref(), contact),
        ContactCommand::Erase(_) => return super::contact_rights::erase(store.as_ref(), contact),
        _ => {}
    }
    // Until the command ends, no node writes the contact (a step would overwrite a link).
    let _held = beside::hold_contact(store.as_ref(), &contact.account, &contact.id)?;
    let record = store.contact(&contact.account, &contact.id)?.ok_or_else(|| {
        anyhow!(
            "there is no contact `{}` on `{}` in this data directory (a contact is recorded when \
             it first writes)",
            contact.id,
            contact.account
        )
    })?;
    let Some(target) = org_arg else {
        show(store.as_ref(), &record)?;
        return Ok(ExitStatus::Success);
    };
    let org_name = org_of(&workspace, &contact.account, target.org.as_deref())?;
    match &args.command {
        ContactCommand::Unlink(_) => {
            match linking::unlink(store.as_ref(), &record, &org_name)? {
                Some(user) => println!(
                    "Unlinked {} on {} from Zendesk user #{user} in `{org_name}`.",
                    record.id, record.account
                ),
                None => println!(
                    "{} on {} was not linked to a Zendesk user in `{org_name}`; nothing changed.",
                    record.id, record.account
                ),
            }
            store.flush()?;
            Ok(ExitStatus::Success)
        }
        command => {
            let runtime = runtime()?;
            // A sandbox organization runs here, on the data directory's sandbox data.
            let (workspace, _sandboxes) =
                runtime.block_on(crate::setup::sandboxes(&workspace, Some(&data)))?;
            let org = org(&workspace, &org_name)?;
            runtime.block_on(async {
                let result = match command {
                    ContactCommand::Candidates(_) => candidates(&org, &record).await,
                    ContactCommand::Link(args) => link(store.as_ref(), &org, &record, args).await,
                    _ => display(&org, &record).await,
                };
                store.flush()?;
                Ok(match result {
                    Ok(()) => ExitStatus::Success,
                    Err(LinkError::Store(error)) => return Err(error.into()),
                    Err(error) => {
                        println!("✗ {error}");
                        ExitStatus::Failure
                    }
                })
            })
        }
    }
}

/// The store a command works on: sled in `--data` when it is given (`flag`), else the
/// config's store — PostgreSQL, or sled in `data` (its `data_dir`).
pub(super) fn open_configured(
    flag: Option<&Path>,
    data: &Path,
    workspace: &Workspace,
) -> anyhow::Result<Arc<dyn Store>> {
    let config = &workspace.config.store;
    if flag.is_none() && config.is_postgres() {
        return crate::setup::open_store(data, config);
    }
    open_store(data)
}

/// The store of a command with a `--data` flag of its own: sled in `flag` when given, else
/// the config's store. `Err(status)` after writing the config's problems.
pub(super) fn open_flagged(
    flag: Option<&Path>,
    global: &GlobalArgs,
) -> anyhow::Result<Result<Arc<dyn Store>, ExitStatus>> {
    if let Some(data) = flag {
        return open_store(data).map(Ok);
    }
    Ok(match workspace(global.config.as_deref(), global)? {
        Ok(workspace) => {
            let data = crate::setup::data_dir(None, &workspace);
            Ok(open_configured(None, &data, &workspace)?)
        }
        Err(status) => Err(status),
    })
}

/// Opens an existing sled data directory, saying so plainly when another process holds it.
pub(super) fn open_store(data: &Path) -> anyhow::Result<Arc<dyn Store>> {
    if !data.join("db").exists() && !data.join("conf").exists() {
        bail!(
            "there is no data directory at {} (pass --data, or the --config whose `data_dir` it is)",
            data.display()
        );
    }
    let backend = crate::setup::open_data(data)?;
    Ok(Arc::new(KvStore::new(backend)))
}

/// `--org`, else the organization the account is linked to.
fn org_of(workspace: &Workspace, account: &str, org: Option<&str>) -> anyhow::Result<String> {
    if let Some(org) = org {
        return Ok(org.to_owned());
    }
    let accounts = &workspace.config.accounts;
    let Some(found) = accounts.get(account) else {
        let hint = did_you_mean(account, accounts.keys().map(String::as_str))
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        bail!(
            "there is no account `{account}` in {} to take the organization from (pass --org){hint}",
            workspace.file.name()
        );
    };
    found.zendesk.clone().ok_or_else(|| {
        anyhow!("account `{account}` is not linked to a Zendesk organization (pass --org)")
    })
}

fn show(store: &dyn Store, contact: &Contact) -> anyhow::Result<()> {
    println!("{} on {}", contact.id, contact.account);
    println!(
        "  name: {}",
        if contact.name.is_empty() {
            "(unknown)"
        } else {
            &contact.name
        }
    );
    if contact.fields.is_empty() {
        println!("  fields: none");
    }
    for (name, value) in &contact.fields {
        println!("  {name}: {value}");
    }
    if !contact.tags.is_empty() {
        let tags: Vec<&str> = contact.tags.iter().map(String::as_str).collect();
        println!("  tags: {}", tags.join(", "));
    }
    if contact.zendesk.is_empty() {
        println!("  zendesk: not linked");
    }
    for (org, user) in &contact.zendesk {
        println!("  zendesk {org}: user #{user}");
    }
    let mut conversations = Vec::new();
    for (_, record) in store.conversations()? {
        if let Ok(conversation) = record {
            if conversation.account == contact.account && conversation.contact == contact.id {
                conversations.push(conversation);
            }
        }
    }
    conversations.sort_by_key(|c| c.created_at);
    for conversation in conversations {
        println!(
            "  conversation {}: {}, {}{}, last active {}",
            conversation.id,
            conversation.scenario,
            conversation.status.name(),
            conversation
                .team
                .as_deref()
                .map(|t| format!(", team {t}"))
                .unwrap_or_default(),
            iso8601(conversation.updated_at)
        );
    }
    Ok(())
}

async fn candidates(org: &Org, contact: &Contact) -> Result<(), LinkError> {
    let found = linking::candidates(org, contact).await?;
    if org.fields.search.is_empty() {
        println!(
            "`{}` has no search fields configured (`fields.search`).",
            org.name
        );
        return Ok(());
    }
    if found.list.is_empty() {
        let searched: Vec<String> = org
            .fields
            .search
            .iter()
            .filter_map(|(property, field)| {
                linking::contact_text(contact, field).map(|value| format!("{property} = {value}"))
            })
            .collect();
        if searched.is_empty() {
            println!(
                "No search field has a value for this contact (searched on: {}).",
                org.fields
                    .search
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            println!("No Zendesk user matches {}.", searched.join(", "));
        }
        return Ok(());
    }
    let linked = contact.zendesk.get(&org.name).copied();
    let fuzzy = found
        .list
        .iter()
        .any(|c| c.matched.iter().any(|m| !m.exact));
    for candidate in &found.list {
        let id = candidate.user.id.unwrap_or_default();
        let kind = if candidate.exact() { "exact" } else { "fuzzy" };
        let matched: Vec<String> = candidate
            .matched
            .iter()
            .map(|m| {
                if m.exact {
                    m.property.clone()
                } else {
                    format!("{}~", m.property)
                }
            })
            .collect();
        let mark = if linked == Some(id) { "  (linked)" } else { "" };
        println!(
            "{kind}  #{id}  {}  matched: {}{mark}",
            describe(&candidate.user),
            matched.join(", ")
        );
    }
    if fuzzy {
        println!("(`~`: Zendesk's search found it, but the value is not equal.)");
    }
    if found.truncated {
        println!(
            "(A search matched more than {} users; only those were read. A more precise field, such as an email, narrows it.)",
            crate::zendesk::client::SEARCH_CAP
        );
    }
    Ok(())
}

/// `link --user ID` or `link --create`.
async fn link(
    store: &dyn Store,
    org: &Org,
    contact: &Contact,
    args: &LinkArgs,
) -> Result<(), LinkError> {
    let user = match args.user {
        Some(id) => linking::link(store, org, contact, id).await?,
        None => linking::create_and_link(store, org, contact, &UserSeed::default()).await?,
    };
    let how = if args.create {
        " (created, or matched by its email or external id)"
    } else {
        ""
    };
    println!(
        "{} on {}: linked Zendesk user #{} ({}){how} in `{}`.",
        contact.id,
        contact.account,
        user.id.unwrap_or_default(),
        describe(&user),
        org.name
    );
    Ok(())
}

async fn display(org: &Org, contact: &Contact) -> Result<(), LinkError> {
    let (user, shown) = linking::display(org, contact).await?;
    println!(
        "Zendesk user #{} in `{}`",
        user.id.unwrap_or_default(),
        org.name
    );
    if shown.is_empty() {
        println!("  (no display fields configured: `fields.display`)");
    }
    for (property, value) in shown {
        println!("  {property}: {}", value.as_deref().unwrap_or("(empty)"));
    }
    Ok(())
}
