//! What start-up needs from the due index without reading every conversation record.
//!
//! The index is a superset of what the records call for: a step writes its entries before its
//! record (the commit point) and removes the stale ones after, so every armed timer and pending
//! effect has its entry, and an entry may outlive what it stood for (dispatch finds such an
//! entry stale when it fires and drops it). Only stores written before that held — an earlier
//! version's scheduler could drop an effect's entry — need their records read once; the
//! marker below says that was done, so later starts read nothing of the records.

use std::collections::BTreeSet;

use super::backend::{Backend, TreeName};
use super::{StoreError, keys, pages};

/// The key of the marker that says every record's timer and effects have their due entries.
/// It lives in `contact_conversations`, the tree of the contact index's own marker, under a
/// key no contact's entry can have: each of those starts with an account id's length, and no
/// id is 4 GiB long. (A due-tree key would be returned by `due`, and a scenario key listed as
/// a version.)
const COMPLETE: &[u8] = b"\xff\xff\xff\xffdue index complete";

pub(super) fn complete(backend: &dyn Backend) -> Result<bool, StoreError> {
    Ok(backend
        .get(TreeName::ContactConversations, COMPLETE)?
        .is_some())
}

pub(super) fn mark_complete(backend: &dyn Backend) -> Result<(), StoreError> {
    let value = super::envelope::encode(&"every record's due entries are in the index".to_owned())?;
    backend.insert(TreeName::ContactConversations, COMPLETE, &value)?;
    // Once, at start: the marker must not survive a crash without the entries it vouches
    // for (sled recovers a prefix of its writes; the flush makes both durable now anyway).
    backend.flush()
}

/// How many effect entries the index holds: the outbox's depth (an entry a crash left behind
/// counts until it fires and is dropped), from the keys alone.
pub(super) fn effect_entries(backend: &dyn Backend) -> Result<usize, StoreError> {
    let mut count = 0;
    pages::each(backend, TreeName::Due, &[], |key, _| {
        if keys::due_effect_conversation(&key).is_some() {
            count += 1;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(count)
}

/// The conversations the index holds an effect entry for, each once, read from the keys (a
/// page at a time; a damaged value still names its conversation).
pub(super) fn conversations_with_effects(backend: &dyn Backend) -> Result<Vec<String>, StoreError> {
    let mut found = BTreeSet::new();
    pages::each(backend, TreeName::Due, &[], |key, _| {
        if let Some(conversation) = keys::due_effect_conversation(&key) {
            found.insert(String::from_utf8_lossy(conversation).into_owned());
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(found.into_iter().collect())
}
