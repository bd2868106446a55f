//! `scenarist store export|import`: the logical backup of a store (JSON lines, one record
//! each, with a count and a checksum at the end), and its restore into an empty one. Copying
//! a live sled directory is not a consistent backup; this is. The store is the config's:
//! sled in a data directory (`--data`, else `data_dir`), or PostgreSQL when
//! `store.backend` is `postgres` and there is no `--data` — so a sled export imports into
//! PostgreSQL, and back. `store migrate` is in `store_migrate.rs`.

use std::io::{BufReader, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, load};
use crate::config::StoreConfig;
use crate::store::{Backend, SledBackend, export, import};

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Write every record of a data directory to a backup file (or stdout).
    Export {
        /// The data directory; default: the config's `data_dir`.
        #[arg(long)]
        data: Option<PathBuf>,
        /// The backup file; `-` or nothing for stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Restore a backup into an empty data directory.
    Import {
        /// The data directory to fill, empty or new; default: the config's `data_dir`.
        #[arg(long)]
        data: Option<PathBuf>,
        /// The backup file written by `export` (or `POST /v1/admin/export`).
        file: PathBuf,
    },
    /// List, inspect and remove quarantined conversations (while the service is stopped).
    Quarantine(super::quarantine::QuarantineArgs),
    /// Bring the PostgreSQL store's schema up to date (`serve` does it when it starts).
    Migrate,
}

#[expect(
    clippy::print_stderr,
    reason = "the summary goes to stderr, the backup may go to stdout"
)]
pub(super) fn run(args: &StoreArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let data = match &args.command {
        StoreCommand::Quarantine(quarantine) => return super::quarantine::run(quarantine, global),
        StoreCommand::Migrate => return super::store_migrate::run(global),
        StoreCommand::Export { data, .. } | StoreCommand::Import { data, .. } => data,
    };
    // An export reads: a mistyped folder must not become a new, empty store and an empty
    // backup that looks like a success.
    let reads = matches!(args.command, StoreCommand::Export { .. });
    let (backend, place, sled) = match open(data.as_deref(), reads, global)? {
        Ok(opened) => opened,
        Err(status) => return Ok(status),
    };
    match &args.command {
        StoreCommand::Export { output, .. } => {
            let stats = if let Some(path) = output.as_ref().filter(|p| p.as_os_str() != "-") {
                // Owner-only, written beside the target and renamed (never through a link
                // planted there), so a crash never leaves half a backup.
                scenarist_base::private_file::write_with(path, |writer| {
                    export(backend.as_ref(), writer).map_err(anyhow::Error::from)
                })
                .with_context(|| format!("cannot write {}", path.display()))?
            } else {
                let mut stdout = std::io::stdout().lock();
                let stats = export(backend.as_ref(), &mut stdout)?;
                stdout.flush()?;
                stats
            };
            eprintln!(
                "exported {} from {}",
                super::output::plural(
                    usize::try_from(stats.records).unwrap_or(usize::MAX),
                    "record"
                ),
                place
            );
        }
        StoreCommand::Import { file, .. } => {
            let input = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let stats = import(backend.as_ref(), &mut BufReader::new(input))?;
            // A bulk write: with sled's snapshot written now, `serve`'s first start does not
            // replay the whole import from the log.
            let snapshot = match &sled {
                Some((data, store)) => {
                    drop(backend);
                    match SledBackend::write_snapshot(data, store.cache_bytes()) {
                        Ok(()) => "; its snapshot written".to_owned(),
                        Err(error) => format!(
                            "; its snapshot could not be written ({error}), so the first \
                             start replays the import from the log"
                        ),
                    }
                }
                None => String::new(),
            };
            eprintln!(
                "imported {} into {place}{snapshot}",
                super::output::plural(
                    usize::try_from(stats.records).unwrap_or(usize::MAX),
                    "record"
                ),
            );
        }
        // Handled above.
        StoreCommand::Quarantine(_) | StoreCommand::Migrate => {}
    }
    Ok(ExitStatus::Success)
}

/// An opened store, how to name it in the summary and, for sled, its folder and settings.
type Opened = (Box<dyn Backend>, String, Option<(PathBuf, StoreConfig)>);

/// The store to export or import and how to name it: sled in `--data`; else the config's
/// store (PostgreSQL, or sled in its `data_dir`). `Err(status)` after the config's problems.
fn open(
    data: Option<&std::path::Path>,
    existing: bool,
    global: &GlobalArgs,
) -> anyhow::Result<Result<Opened, ExitStatus>> {
    if let Some(data) = data {
        if existing {
            must_hold_a_store(data)?;
        }
        let backend = crate::setup::open_data(data)?;
        let sled = Some((data.to_owned(), StoreConfig::default()));
        return Ok(Ok((Box::new(backend), data.display().to_string(), sled)));
    }
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(Err(status)),
    };
    let store = &workspace.config.store;
    if store.is_postgres() {
        let backend = crate::setup::open_postgres(store)?;
        return Ok(Ok((
            Box::new(backend),
            format!("the PostgreSQL store (its URL from {})", store.url_env),
            None,
        )));
    }
    let data = crate::setup::data_dir(None, &workspace);
    if existing {
        must_hold_a_store(&data)?;
    }
    let backend = crate::setup::open_data(&data)?;
    let place = data.display().to_string();
    Ok(Ok((Box::new(backend), place, Some((data, store.clone())))))
}

/// Refuses a folder with no sled store in it (sled would create one).
fn must_hold_a_store(data: &std::path::Path) -> anyhow::Result<()> {
    if data.join("db").is_file() {
        return Ok(());
    }
    anyhow::bail!(
        "there is no store in {}: check the folder (`serve` creates its store in its data \
         directory on its first start)",
        data.display()
    )
}
