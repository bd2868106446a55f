//! `scenarist studio`: serves the studio page (`crate::studio`) over the config's scenarios
//! folder and prints its URL. On loopback (the default) no token is needed: the `Host` check
//! keeps other sites' pages out (DNS rebinding); on any other address a token is (from
//! `SCENARIST_STUDIO_TOKEN`, else made at start), carried by the printed URL.
#![expect(clippy::print_stdout, reason = "the studio prints its URL")]

use std::net::SocketAddr;

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, load};
use crate::service::browsers::Hosts;
use crate::studio::{self, Door, Studio};
use crate::zendesk::secret::Secret;

#[derive(Debug, clap::Args)]
pub struct StudioArgs {
    /// The address to listen on; beyond loopback, every request needs the token the printed
    /// URL carries.
    #[arg(long, default_value = "127.0.0.1:7330")]
    pub listen: SocketAddr,
}

/// The variable that gives the token instead of a random one.
const TOKEN_ENV: &str = "SCENARIST_STUDIO_TOKEN";

pub(super) fn run(args: &StudioArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let token = match std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()) {
        Some(token) if token.len() < 16 => {
            println!("✗ {TOKEN_ENV} is shorter than 16 characters; use a longer, random one");
            return Ok(ExitStatus::Error);
        }
        Some(token) => Some(Secret::new(token)),
        None if args.listen.ip().is_loopback() => None,
        None => Some(random_token()?),
    };
    let runtime = crate::setup::tokio_runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let hosts = if address.ip().is_loopback() {
            Hosts::loopback(address)
        } else {
            Hosts::any()
        };
        let query = token
            .as_ref()
            .map(|t| format!("?token={}", t.expose()))
            .unwrap_or_default();
        let config = global.config.clone();
        let studio = Studio::new(workspace, config, Door { token, hosts })?;
        println!(
            "Scenarist studio over {}: http://{address}/{query}",
            studio.folder().display()
        );
        println!("(Ctrl-C stops it)");
        axum::serve(listener, studio::router(studio))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the studio stopped")
    })?;
    Ok(ExitStatus::Success)
}

/// 32 bytes from the operating system's CSPRNG, as hex.
fn random_token() -> anyhow::Result<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no random bytes: {e}"))?;
    Ok(Secret::new(scenarist_base::hex::encode(&bytes)))
}
