//! Scanning a keyspace a page at a time (`Backend::scan_from`), so an export or an inspection
//! of a large store holds one page in memory, never a whole tree. Writes may go on between
//! pages: a page sees the tree as it is when it is read.

use super::StoreError;
use super::backend::{Backend, TreeName};

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
