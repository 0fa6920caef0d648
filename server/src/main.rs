//! `nic-hub`: flags, tracing, bind, serve until Ctrl-C or SIGTERM; or take a backup of a
//! running hub, or restore one into a new data folder.

use anyhow::Context;
use clap::{Parser, Subcommand};
use nic_hub::backup_cmd::BackupArgs;
use nic_hub::restore_cmd::RestoreArgs;
use nic_hub::{Config, ServeArgs};
use tracing_subscriber::EnvFilter;

/// The hub of a networked improvement community: syncs its documents between schools.
#[derive(Parser)]
#[command(name = "nic-hub", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// One value, parsed once at start-up: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the hub (sled in ./nic-data and 127.0.0.1:50051 unless told otherwise).
    Serve(ServeArgs),
    /// Take a backup of a running hub (sled) into one file, with a hub admin's token.
    #[command(long_about = nic_hub::backup_cmd::LONG_HELP)]
    Backup(BackupArgs),
    /// Make a new data folder from a backup, for `nic-hub serve --data-dir DIR`.
    #[command(long_about = nic_hub::restore_cmd::LONG_HELP)]
    Restore(RestoreArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Logs on stderr: stdout carries the one line that says where the hub listens.
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(&args).await,
        Command::Backup(args) => backup(&args).await,
        Command::Restore(args) => restore(args).await,
    }
}

/// `nic-hub backup`: the file, then what it holds.
async fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let report = nic_hub::backup_cmd::run(args).await?;
    let s = &report.summary;
    println!(
        "backup written to {} ({} bytes: {} trees, {} entries; files: {})",
        report.path.display(),
        s.bytes,
        s.trees,
        s.entries,
        if s.files.is_empty() {
            "none".to_owned()
        } else {
            s.files.join(", ")
        }
    );
    println!(
        "restore it with: nic-hub restore --from {} --data-dir DIR",
        report.path.display()
    );
    Ok(())
}

/// `nic-hub restore`, on a blocking thread (sled and files).
async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let report = tokio::task::spawn_blocking(move || {
        nic_hub::restore_cmd::run(&args)
            .with_context(|| format!("cannot restore {}", args.from.display()))
    })
    .await??;
    let s = &report.summary;
    println!(
        "restored {} trees, {} entries into {}",
        s.trees,
        s.entries,
        report.data_dir.display()
    );
    if report.admin_token {
        println!(
            "the hub admin's token is in {} (readable by this user only), as it was",
            report
                .data_dir
                .join(nic_hub::auth::ADMIN_TOKEN_FILE)
                .display()
        );
    } else {
        println!(
            "this backup carries no admin-token file: sign in with a hub admin's token you kept"
        );
    }
    println!(
        "serve it with: nic-hub serve --data-dir {}",
        report.data_dir.display()
    );
    Ok(())
}

/// `nic-hub serve`.
async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(args)?;
    let opened = nic_hub::open_for(&config).with_context(|| match config.store {
        nic_hub::StoreChoice::Sled => format!(
            "cannot start the hub on {}; is another hub using it?",
            config.data_dir.display()
        ),
        nic_hub::StoreChoice::Postgres(_) => {
            "cannot start the hub on the PostgreSQL database given with --store".to_owned()
        }
    })?;
    // Before the listening line, so whoever waits for that line finds the token file.
    if let Some(path) = &opened.new_admin_token {
        eprintln!(
            "first start: the hub admin's token is in {} (readable by this user only)",
            path.display()
        );
    }
    // Every listener is bound before the listening line: a busy port fails here, naming the
    // flag that moves it, instead of after the line has told a caller the hub is up.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another hub running there? (choose another address with --listen)",
                config.listen
            )
        })?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!(
                "cannot serve metrics on {addr}; is another hub running there? (choose another address with --metrics-listen, or turn metrics off with --metrics-listen off)"
            )
        })?),
        None => None,
    };
    let insecure = if config.serves_plain_text_to_the_network() {
        " — INSECURE: no TLS, tokens and documents cross the network unencrypted"
    } else {
        ""
    };
    // The line `nic_hub::testing::ChildHub` (and whoever starts the hub) waits for.
    println!(
        "{}{} (data in {}){insecure}",
        nic_hub::testing::LISTENING,
        listener.local_addr()?,
        config.data_dir.display()
    );
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("web app: {scheme}://{}/", listener.local_addr()?);
    let metrics = std::sync::Arc::new(nic_hub::Metrics::default());
    nic_hub::serve_bound(
        config,
        opened.store,
        metrics,
        listener,
        metrics_listener,
        shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
