//! Scanning a keyspace a page at a time (`Backend::scan_from`), or the conversation records
//! (`Store::conversations_after`), so an export, an inspection or a pass over every record
//! holds one page in memory, never a whole tree. Writes may go on between
//! pages: a page sees the tree as it is when it is read.

use super::backend::{Backend, TreeName};
use super::{Record, Store, StoreError};

/// Entries read per page.
const PAGE: usize = 256;

/// Calls `each` on every entry of `tree` whose key starts with `prefix`, in key order.
pub(super) fn each<E: From<StoreError>>(
    backend: &dyn Backend,
    tree: TreeName,
    prefix: &[u8],
    mut each: impl FnMut(Vec<u8>, Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let mut start = prefix.to_vec();
    loop {
        let page = backend.scan_from(tree, &start, PAGE)?;
        let full = page.len() == PAGE;
        let mut next = None;
        for (key, value) in page {
            if !key.starts_with(prefix) {
                return Ok(());
            }
            // The smallest key after this one.
            let mut after = key.clone();
            after.push(0);
            next = Some(after);
            each(key, value)?;
        }
        match next {
            Some(after) if full => start = after,
            _ => return Ok(()),
        }
    }
}

/// Every stored conversation with its record, a page of `size` at a time, in id order
/// (`Store::conversations_after`): a pass over the whole store that holds one page in memory.
/// A page is read when the previous one is consumed, so writes may go on in between.
pub fn conversation_pages(store: &dyn Store, size: usize) -> ConversationPages<'_> {
    ConversationPages {
        store,
        size: size.max(1),
        after: None,
        done: false,
    }
}

pub struct ConversationPages<'a> {
    store: &'a dyn Store,
    size: usize,
    after: Option<String>,
    done: bool,
}

impl Iterator for ConversationPages<'_> {
    type Item = Result<Vec<Record>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let page = match self
            .store
            .conversations_after(self.after.as_deref(), self.size)
        {
            Ok(page) => page,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        // A short page is the last one.
        self.done = page.len() < self.size;
        let (last, _) = page.last()?;
        self.after = Some(last.clone());
        Some(Ok(page))
    }
}
