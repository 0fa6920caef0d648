//! The hub under load: a child `nic-hub` process (so its CPU, memory and disk are its own,
//! and it can be pinned to a core), a hub inside this process, or one given by address.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use nic_hub::testing::{ChildHub, serve_args};
use nic_hub::{Config, DurabilityMode};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::procfs;

/// Which hub to load.
#[derive(Clone, Debug)]
pub enum HubSpec {
    /// Start this `nic-hub` binary on a fresh data folder, optionally pinned with
    /// `taskset -c CPUS`.
    Child {
        /// The binary.
        bin: PathBuf,
        /// A `taskset -c` CPU list.
        cpus: Option<String>,
        /// The hub's durability mode.
        durability: DurabilityMode,
        /// How many hubs: more than one share the database `NIC_HUB_STORE` names (each
        /// started with this process's environment), and clients are spread over them.
        count: usize,
    },
    /// Run the hub inside this process (CPU and memory then include the clients').
    InProcess {
        /// The hub's durability mode.
        durability: DurabilityMode,
    },
    /// A hub already running.
    External {
        /// Its address, e.g. `http://127.0.0.1:50051`.
        url: String,
        /// Its process id, to read its CPU and memory.
        pid: Option<u32>,
        /// Its data folder, to measure its size.
        data_dir: Option<PathBuf>,
        /// The token to present.
        token: String,
        /// TLS settings, for an `https://` address.
        tls: Option<nic_client::Tls>,
    },
}

enum Running {
    Child {
        child: ChildHub,
        bin: PathBuf,
        cpus: Option<String>,
        durability: DurabilityMode,
    },
    InProcess {
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<(), nic_hub::ServeError>>,
        durability: DurabilityMode,
    },
    External,
}

/// How to reach a hub: its address, the token to present, and TLS settings if it serves TLS.
#[derive(Clone, Debug)]
pub struct Access {
    /// `http://…` or, with TLS, `https://…`.
    pub url: String,
    /// Further hubs on the same database: clients connect to each in turn.
    pub more_urls: Vec<String>,
    /// The next hub a client connects to (shared by clones).
    pub next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The token every call carries.
    pub token: String,
    /// How to check the hub's certificate (and present ours), for `https://`.
    pub tls: Option<nic_client::Tls>,
}

impl Access {
    /// The hub's Directory, Documents and Insight services through the client library
    /// (connects on the first call).
    pub fn hub(&self) -> anyhow::Result<nic_client::Hub> {
        Ok(nic_client::Hub::new(
            &self.url,
            &self.token,
            self.tls.as_ref(),
        )?)
    }

    /// A raw gRPC channel carrying the token, for the attacks only (the slow reader, the
    /// decompression bombs): they must misuse the protocol in ways the client library never
    /// would. They run against a hub this tool started, so plain text on loopback.
    pub async fn raw_channel(&self) -> anyhow::Result<nic_proto::auth::AuthedChannel> {
        anyhow::ensure!(
            self.tls.is_none(),
            "the attacks run against a local hub without TLS"
        );
        let channel = tonic::transport::Channel::from_shared(self.url.clone())?
            .connect()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.url))?;
        Ok(nic_proto::auth::Bearer::new(&self.token)?.on(channel))
    }

    /// A client-library replica connected as `peer` with this access's token.
    pub async fn client(&self, peer: &str) -> anyhow::Result<nic_client::Client> {
        self.client_as(peer, &self.token).await
    }

    /// A client-library replica connected as `peer` with `token` (to the hubs in turn,
    /// when there are several).
    pub async fn client_as(&self, peer: &str, token: &str) -> anyhow::Result<nic_client::Client> {
        let peer = nic_model::PeerId::new(peer)?;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = match n % (1 + self.more_urls.len()) {
            0 => &self.url,
            i => &self.more_urls[i - 1],
        };
        Ok(nic_client::Client::connect_with(url, peer, token, self.tls.as_ref()).await?)
    }
}

/// A hub the tool is loading.
pub struct Hub {
    /// Its gRPC address.
    pub url: String,
    /// The token the tool presents: the hub admin's, read from the data folder of a hub it
    /// started, or the one given for a hub given by address.
    pub token: String,
    /// TLS settings for a hub given by an `https://` address.
    pub tls: Option<nic_client::Tls>,
    /// Whose CPU and memory the figures are.
    pub measured: &'static str,
    pid: Option<u32>,
    data_dir: Option<PathBuf>,
    running: Running,
    _dir: Option<TempDir>,
    /// Further hubs on the same database (`--hubs`), each with its own data folder.
    more: Vec<(ChildHub, String, TempDir)>,
}

impl Hub {
    /// Starts (or finds) the hub.
    pub async fn start(spec: &HubSpec) -> anyhow::Result<Hub> {
        match spec {
            HubSpec::Child {
                bin,
                cpus,
                durability,
                count,
            } => {
                let mut hub = start_child(bin, cpus.as_deref(), *durability).await?;
                for _ in 1..*count {
                    let dir = tempfile::Builder::new().prefix("nic-load-hub").tempdir()?;
                    let (child, url) =
                        spawn_child(bin, cpus.as_deref(), *durability, dir.path()).await?;
                    hub.more.push((child, url, dir));
                }
                if *count > 1 {
                    hub.measured = "hub processes (summed)";
                }
                Ok(hub)
            }
            HubSpec::InProcess { durability } => start_in_process(*durability).await,
            HubSpec::External {
                url,
                pid,
                data_dir,
                token,
                tls,
            } => Ok(Hub {
                url: url.clone(),
                token: token.clone(),
                tls: tls.clone(),
                measured: if pid.is_some() {
                    "hub process"
                } else {
                    "not measured (give --hub-pid)"
                },
                pid: *pid,
                data_dir: data_dir.clone(),
                running: Running::External,
                _dir: None,
                more: Vec::new(),
            }),
        }
    }

    /// The measured process, if any.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How to reach it.
    pub fn access(&self) -> Access {
        Access {
            url: self.url.clone(),
            more_urls: self.more.iter().map(|(_, url, _)| url.clone()).collect(),
            next: std::sync::Arc::default(),
            token: self.token.clone(),
            tls: self.tls.clone(),
        }
    }

    /// CPU seconds the measured process (with `--hubs`, every hub) has used.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let first = self.pid.and_then(procfs::cpu_seconds)?;
        let more: Option<f64> = self
            .more
            .iter()
            .map(|(child, _, _)| procfs::cpu_seconds(child.pid()))
            .sum();
        Some(first + more?)
    }

    /// Peak resident memory of the measured process.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.pid.and_then(procfs::peak_rss_bytes)
    }

    /// Resets the measured process's peak resident memory to its present one (see
    /// [`procfs::reset_peak_rss`]); false if that is not possible.
    pub fn reset_peak_rss(&self) -> bool {
        self.pid.is_some_and(procfs::reset_peak_rss)
    }

    /// Resident memory of the measured process now.
    pub fn rss_bytes(&self) -> Option<u64> {
        self.pid.and_then(procfs::rss_bytes)
    }

    /// Bytes in the hub's data folder.
    pub fn disk_bytes(&self) -> Option<u64> {
        self.data_dir.as_deref().map(procfs::disk_bytes)
    }

    /// Stops a hub this tool started (gracefully) and starts it again on the same data
    /// folder; its address changes. Returns when the new hub was started (it may still be
    /// loading). A hub given by address cannot restart.
    pub async fn restart(&mut self) -> anyhow::Result<Instant> {
        if !self.more.is_empty() {
            bail!("restarting is for one hub, not several (--hubs)");
        }
        let data_dir = self
            .data_dir
            .clone()
            .context("only a hub this tool started can be restarted")?;
        let running = std::mem::replace(&mut self.running, Running::External);
        match running {
            Running::Child {
                child,
                bin,
                cpus,
                durability,
            } => {
                stop(Running::Child {
                    child,
                    bin: bin.clone(),
                    cpus: cpus.clone(),
                    durability,
                })
                .await?;
                let spawned = Instant::now();
                let (child, url) =
                    spawn_child(&bin, cpus.as_deref(), durability, &data_dir).await?;
                self.url = url;
                self.pid = Some(child.pid());
                self.running = Running::Child {
                    child,
                    bin,
                    cpus,
                    durability,
                };
                Ok(spawned)
            }
            Running::InProcess {
                stop: stopper,
                task,
                durability,
            } => {
                stop(Running::InProcess {
                    stop: stopper,
                    task,
                    durability,
                })
                .await?;
                let spawned = Instant::now();
                let (url, running) = serve_in_process(&data_dir, durability).await?;
                self.url = url;
                self.running = running;
                Ok(spawned)
            }
            Running::External => bail!("a hub given by address cannot be restarted"),
        }
    }

    /// Stops a hub this tool started (gracefully: SIGTERM, then wait), and the others
    /// with it.
    pub async fn stop(self) -> anyhow::Result<()> {
        for (child, _, _dir) in self.more {
            let (status, _) = tokio::task::spawn_blocking(move || child.stop()).await??;
            if !status.success() {
                bail!("a hub exited with {status}");
            }
        }
        stop(self.running).await
    }
}

async fn stop(running: Running) -> anyhow::Result<()> {
    match running {
        Running::Child { child, .. } => {
            let (status, _) = tokio::task::spawn_blocking(move || child.stop()).await??;
            if !status.success() {
                bail!("the hub exited with {status}");
            }
        }
        Running::InProcess { stop, task, .. } => {
            let _ = stop.send(());
            task.await??;
        }
        Running::External => {}
    }
    Ok(())
}

async fn start_child(
    bin: &Path,
    cpus: Option<&str>,
    durability: DurabilityMode,
) -> anyhow::Result<Hub> {
    if !bin.exists() {
        bail!(
            "no hub binary at {}; build it with `cargo build --release -p nic-hub`, pass --hub-bin, or use --in-process",
            bin.display()
        );
    }
    let dir = tempfile::Builder::new().prefix("nic-load-hub").tempdir()?;
    let (child, url) = spawn_child(bin, cpus, durability, dir.path()).await?;
    Ok(Hub {
        url,
        token: admin_token(dir.path())?,
        tls: None,
        measured: "hub process",
        pid: Some(child.pid()),
        data_dir: Some(dir.path().to_owned()),
        running: Running::Child {
            child,
            bin: bin.to_owned(),
            cpus: cpus.map(str::to_owned),
            durability,
        },
        _dir: Some(dir),
        more: Vec::new(),
    })
}

/// Starts `nic-hub serve` on `data_dir` and a free loopback port; returns it and its URL.
async fn spawn_child(
    bin: &Path,
    cpus: Option<&str>,
    durability: DurabilityMode,
    data_dir: &Path,
) -> anyhow::Result<(ChildHub, String)> {
    let mut cmd = match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(serve_args(data_dir))
        .args(["--durability", durability_flag(durability)])
        .env(
            "RUST_LOG",
            std::env::var("NIC_LOAD_HUB_LOG").unwrap_or("warn".into()),
        )
        .stderr(Stdio::inherit());
    let child = tokio::task::spawn_blocking(move || ChildHub::spawn(cmd))
        .await?
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let url = child.url();
    Ok((child, url))
}

async fn start_in_process(durability: DurabilityMode) -> anyhow::Result<Hub> {
    let dir = tempfile::Builder::new().prefix("nic-load-hub").tempdir()?;
    let (url, running) = serve_in_process(dir.path(), durability).await?;
    Ok(Hub {
        url,
        token: admin_token(dir.path())?,
        tls: None,
        measured: "this process (hub and clients together)",
        pid: Some(std::process::id()),
        data_dir: Some(dir.path().to_owned()),
        running,
        _dir: Some(dir),
        more: Vec::new(),
    })
}

/// Serves a hub on `data_dir` inside this process, on a free loopback port.
async fn serve_in_process(
    data_dir: &Path,
    durability: DurabilityMode,
) -> anyhow::Result<(String, Running)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let config = Config {
        data_dir: data_dir.to_owned(),
        metrics_listen: None,
        durability,
        ..Config::default()
    };
    // Opened (and the admin made) before serving, so the token file is there at once.
    let opened = nic_hub::open(data_dir)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(nic_hub::serve_with_store(
        config,
        opened.store,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    Ok((
        url,
        Running::InProcess {
            stop,
            task,
            durability,
        },
    ))
}

/// The hub admin's token, from the data folder of a hub this tool started.
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(nic_hub::auth::ADMIN_TOKEN_FILE);
    Ok(std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the hub admin's token from {}", path.display()))?
        .trim()
        .to_owned())
}

fn durability_flag(d: DurabilityMode) -> &'static str {
    match d {
        DurabilityMode::Process => "process",
        DurabilityMode::PowerSafe => "power-safe",
    }
}
