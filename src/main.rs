//! The `coffer` binary: parses flags, environment and the TOML config, then starts a role:
//! `server` (gateway + node in one process), `node`, or `gateway`; or runs an `admin` command. No S3 or storage logic
//! lives here; this is the only place where the gateway and node crates meet.

mod admin;
mod admin_kms;
mod admin_policy;
mod admin_tier;
mod config;
mod identity;
mod kube;
mod roles;
mod secrets;

use clap::{Parser, Subcommand};

use crate::config::Args;

/// jemalloc returns freed memory to the system on its own (decay-based purging), where glibc's
/// per-thread arenas held on to it: peak RSS under load is the target it serves.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Coffer: an S3-compatible object storage cluster.
#[derive(Parser)]
#[command(name = "coffer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the all-in-one server: an S3 gateway and a storage node in one process.
    Server(Args),
    /// Run a storage node (metadata Raft + erasure-coded drives), serving the internal RPC.
    Node(Args),
    /// Run an S3 gateway in front of a cluster (`--cluster ADDR[,ADDR...]`).
    Gateway(Args),
    /// Ask a node's admin API: cluster, heal and rebalance status, membership, storage
    /// classes, IAM users, access keys, groups, identity policies, Block Public Access.
    Admin(admin::AdminArgs),
}

/// Have jemalloc return freed memory from a background thread of its own. Otherwise the
/// purge runs inside whichever thread allocates or frees next: for about ten seconds (its
/// decay time) after a large transfer, the small requests that followed paid for it, at
/// 17-27% fewer small PUTs per second (docs/bench/2026-12-04-session22).
fn purge_in_background() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!("jemalloc background purging not enabled: {e}");
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    if !matches!(cli.command, Command::Admin(_)) {
        purge_in_background();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Server(a) => roles::server(config::Settings::load(a)?).await,
            Command::Node(a) => roles::node(config::Settings::load(a)?).await,
            Command::Gateway(a) => roles::gateway(config::Settings::load(a)?).await,
            Command::Admin(a) => admin::run(a).await,
        }
    })
}
