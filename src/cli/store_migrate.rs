//! `scenarist store migrate`: brings the PostgreSQL store's schema up to date and says what it
//! did, without starting anything (`serve` migrates too when it starts; this lets an operator
//! do it first, once, before rolling out nodes). A sled store has no schema to migrate.

use super::{ExitStatus, GlobalArgs, load};

#[expect(clippy::print_stdout, reason = "the command's report")]
pub(super) fn run(global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let store = &workspace.config.store;
    if !store.is_postgres() {
        anyhow::bail!(
            "the config's store is `{}`, which has no schema to migrate: `store migrate` is for \
             `store.backend: postgres`",
            store.backend
        );
    }
    let migrated = crate::setup::open_postgres(store)?.migrated();
    if migrated.from == migrated.to {
        println!(
            "the PostgreSQL store's schema is up to date (version {})",
            migrated.to
        );
    } else {
        println!(
            "migrated the PostgreSQL store's schema from version {} to {}",
            migrated.from, migrated.to
        );
    }
    Ok(ExitStatus::Success)
}
