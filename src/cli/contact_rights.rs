//! `scenarist contact export|erase`: contacts' rights (GDPR articles 15 and 17) on the
//! config's store. On sled only while the service is stopped (sled locks the directory; with
//! the service running, use `GET /v1/contacts/{id}/export` and `DELETE /v1/contacts/{id}`);
//! on PostgreSQL also beside running nodes, in turn with their steps. The work is the
//! runtime's `rights`, the same the service runs.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

use std::io::Write as _;

use anyhow::{Context as _, bail};

use super::ExitStatus;
use super::contact::ContactRef;
use crate::runtime::engine::beside;
use crate::runtime::rights::{self, EraseError};
use crate::store::Store;

/// The contact's document on stdout, as JSON.
pub(super) fn export(store: &dyn Store, contact: &ContactRef) -> anyhow::Result<ExitStatus> {
    let Some(document) = rights::export(store, &contact.account, &contact.id)? else {
        bail!(
            "nothing is stored about contact `{}` on `{}` in this data directory (never recorded, or erased)",
            contact.id,
            contact.account
        );
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document).context("cannot write the export")?;
    writeln!(out).context("cannot write the export")?;
    Ok(ExitStatus::Success)
}

/// Erases the contact, then says what went and what only Zendesk can remove.
pub(super) fn erase(store: &dyn Store, contact: &ContactRef) -> anyhow::Result<ExitStatus> {
    // Beside running nodes (PostgreSQL), in turn with their steps.
    let erasure = match beside::erase_contact(store, &contact.account, &contact.id) {
        Ok(erasure) => erasure,
        Err(EraseError::Store(error)) => return Err(error.into()),
        Err(error @ EraseError::OutboxPending(_)) => {
            println!("✗ {error}");
            return Ok(ExitStatus::Failure);
        }
    };
    store.flush()?;
    let removed = &erasure.removed;
    if !removed.contact && removed.conversations.is_empty() && removed.turns == 0 {
        println!(
            "Nothing is stored about {} on {}; nothing to erase.",
            contact.id, contact.account
        );
        return Ok(ExitStatus::Success);
    }
    println!(
        "Erased {} on {}: contact record {}, {} field(s), {} tag(s), {} Zendesk link(s), {} conversation(s) with {} history turn(s).",
        contact.id,
        contact.account,
        if removed.contact {
            "removed"
        } else {
            "already gone"
        },
        removed.fields,
        removed.tags,
        removed.links,
        removed.conversations.len(),
        removed.turns
    );
    for conversation in &removed.conversations {
        println!("  conversation {conversation}");
    }
    for left in &erasure.not_removed.zendesk {
        let ids = |set: &std::collections::BTreeSet<u64>| {
            set.iter()
                .map(|id| format!("#{id}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "Not removed (erase them in Zendesk `{}`): user(s) {}; ticket(s) {}.",
            left.organization,
            if left.user_ids.is_empty() {
                "none".to_owned()
            } else {
                ids(&left.user_ids)
            },
            if left.ticket_ids.is_empty() {
                "none".to_owned()
            } else {
                ids(&left.ticket_ids)
            },
        );
    }
    Ok(ExitStatus::Success)
}
