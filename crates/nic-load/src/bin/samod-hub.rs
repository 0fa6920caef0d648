//! `samod-hub`: the reference hub `nic-load --samod` compares `nic-hub` with — a samod 0.16
//! repo that accepts automerge-repo WebSocket clients and keeps what they send in a folder
//! (samod's filesystem storage), sharing every document with every peer (samod's default
//! policy). No authentication: it listens on loopback for the benchmark only.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// A samod sync server for `nic-load --samod`: prints `samod-hub listening on ADDR` once it
/// accepts connections, and stops on SIGTERM or Ctrl-C.
#[derive(Parser)]
#[command(name = "samod-hub", version, about)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where samod stores the documents.
    #[arg(long)]
    data_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let repo = samod::Repo::build_tokio()
        .with_storage(samod::storage::TokioFilesystemStorage::new(&args.data_dir))
        .with_peer_id(samod::PeerId::from("samod-hub"))
        .load()
        .await;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let acceptor = repo.make_acceptor(samod::Url::parse(&format!(
        "ws://{}",
        listener.local_addr()?
    ))?)?;
    println!("samod-hub listening on {}", listener.local_addr()?);
    let mut term = signal(SignalKind::terminate())?;
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match nic_load::samod_ws::accept(tcp).await {
                Ok(transport) => {
                    if acceptor.accept(transport).is_err() {
                        tracing::warn!("the repo has stopped");
                    }
                }
                Err(e) => tracing::warn!("WebSocket handshake failed: {e}"),
            }
        });
    }
    repo.stop().await;
    Ok(())
}
