//! `scenarist store export|import`: the logical backup of a data directory (JSON lines, one
//! record each, with a count and a checksum at the end), and its restore into an empty one.
//! Copying a live sled directory is not a consistent backup; this is.

use std::io::{BufReader, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, load};
use crate::store::{SledBackend, export, import};

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
}

#[expect(
    clippy::print_stderr,
    reason = "the summary goes to stderr, the backup may go to stdout"
)]
pub(super) fn run(args: &StoreArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let data = match &args.command {
        StoreCommand::Quarantine(quarantine) => return super::quarantine::run(quarantine, global),
        StoreCommand::Export { data, .. } | StoreCommand::Import { data, .. } => data,
    };
    let data = &match load::data_dir(data.as_deref(), global)? {
        Ok(data) => data,
        Err(status) => return Ok(status),
    };
    match &args.command {
        StoreCommand::Export { output, .. } => {
            let backend = open(data)?;
            let stats = if let Some(path) = output.as_ref().filter(|p| p.as_os_str() != "-") {
                // Owner-only, written beside the target and renamed (never through a link
                // planted there), so a crash never leaves half a backup.
                scenarist_base::private_file::write_with(path, |writer| {
                    export(&backend, writer).map_err(anyhow::Error::from)
                })
                .with_context(|| format!("cannot write {}", path.display()))?
            } else {
                let mut stdout = std::io::stdout().lock();
                let stats = export(&backend, &mut stdout)?;
                stdout.flush()?;
                stats
            };
            eprintln!(
                "exported {} from {}",
                super::output::plural(
                    usize::try_from(stats.records).unwrap_or(usize::MAX),
                    "record"
                ),
                data.display()
            );
        }
        StoreCommand::Import { file, .. } => {
            let backend = open(data)?;
            let input = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let stats = import(&backend, &mut BufReader::new(input))?;
            eprintln!(
                "imported {} into {}",
                super::output::plural(
                    usize::try_from(stats.records).unwrap_or(usize::MAX),
                    "record"
                ),
                data.display()
            );
        }
        // Handled above.
        StoreCommand::Quarantine(_) => {}
    }
    Ok(ExitStatus::Success)
}

fn open(data: &std::path::Path) -> anyhow::Result<SledBackend> {
    crate::setup::open_data(data)
}
