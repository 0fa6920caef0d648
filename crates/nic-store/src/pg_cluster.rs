//! A throwaway PostgreSQL server for tests and benchmarks: a new cluster in a temporary
//! folder, reached only through a Unix socket in that folder (no TCP port, so runs never
//! collide), stopped and deleted on drop or, at the latest, once the process that started
//! it has ended (a small watchdog shell waits for it).
//!
//! It needs Debian's `postgresql` package (`initdb`, `pg_ctl`, `postgres`): `scripts/postgres`
//! installs it, and [`PgCluster::start`] runs that script when the programs are missing.
//! Run as root (as CI is), the server runs as the `postgres` user the package creates, since
//! PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// What went wrong starting the throwaway server.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `initdb` and friends were not found.
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found in PATH or \
         /usr/lib/postgresql/*/bin: install Debian's postgresql package (scripts/postgres does)"
    )]
    NotInstalled,
    /// A step failed.
    #[error("{step} failed: {detail}")]
    Step {
        /// Which step.
        step: &'static str,
        /// What it printed.
        detail: String,
    },
}

/// A running throwaway cluster; stopped (immediately) and deleted on drop.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<&'static str>,
    next_db: AtomicU32,
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// Installs the server programs with the repository's `scripts/postgres` (Debian's
/// package), once per process; whether it worked shows in whether they are found after.
fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres");
        if is_root() && script.is_file() {
            let _ = Command::new(script).status();
        }
    });
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

impl PgCluster {
    /// Creates and starts a cluster; returns once it accepts connections.
    pub fn start() -> Result<Self, ClusterError> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                install();
                find_bin().ok_or(ClusterError::NotInstalled)?
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("nic-pg-")
            .tempdir()
            .map_err(|e| step("making the cluster's folder", e))?;
        let run_as = is_root().then_some("postgres");
        if run_as.is_some() {
            // The server's user must own its folder.
            let done = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .output()
                .map_err(|e| step("chown", e))?;
            check("chown", &done)?;
        }
        let cluster = Self {
            dir,
            bin,
            run_as,
            next_db: AtomicU32::new(0),
        };
        let data = cluster.data_dir();
        let done = cluster.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "nic",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
        )?;
        check("initdb", &done)?;
        // In the cluster's own configuration, so a restart (crash tests) keeps it.
        let conf = format!(
            "\nlisten_addresses = ''\nunix_socket_directories = '{}'\nfsync = on\n\
             max_connections = 200\n",
            cluster.dir.path().display()
        );
        let conf_file = data.join("postgresql.conf");
        let mut text =
            std::fs::read_to_string(&conf_file).map_err(|e| step("reading postgresql.conf", e))?;
        text.push_str(&conf);
        std::fs::write(&conf_file, text).map_err(|e| step("writing postgresql.conf", e))?;
        let log = cluster.dir.path().join("server.log");
        let done = cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-w",
                "start",
            ],
        )?;
        if !done.status.success() {
            let logged = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(ClusterError::Step {
                step: "pg_ctl start",
                detail: format!("{}{logged}", String::from_utf8_lossy(&done.stderr)),
            });
        }
        cluster.watch()?;
        Ok(cluster)
    }

    /// One cluster for the whole process, started on first use: tests share it (each
    /// takes a database of its own with [`PgCluster::new_database`]).
    pub fn shared() -> Result<&'static PgCluster, ClusterError> {
        static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Self::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|detail| ClusterError::Step {
                step: "starting the shared cluster",
                detail: detail.clone(),
            })
    }

    /// Stops the server and deletes its folder once this process is gone, however it
    /// ends: a shared cluster is never dropped, and a test killed midway drops nothing.
    fn watch(&self) -> Result<(), ClusterError> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{} -D '{}' -m immediate -w stop",
            pg_ctl.display(),
            self.data_dir().display()
        );
        let stop = match self.run_as {
            Some(user) => format!("runuser -u {user} -- {stop}"),
            None => stop,
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.path().display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| step("starting the cluster's watchdog", e))?;
        Ok(())
    }

    /// Crashes the server (an immediate stop: no checkpoint, and what sits in its
    /// write-ahead-log buffers is lost, as in a crash) and starts it again, which replays its
    /// log. Returns once it accepts connections again.
    pub fn crash_and_restart(&self) -> Result<(), ClusterError> {
        let data = self.data_dir().to_string_lossy().into_owned();
        let done = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])?;
        check("pg_ctl stop -m immediate", &done)?;
        let log = self.dir.path().join("server.log");
        let done = self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log.to_string_lossy(), "-w", "start"],
        )?;
        check("pg_ctl start", &done)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &'static str, args: &[&str]) -> Result<Output, ClusterError> {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| step(program, e))
    }

    /// The folder holding the server's socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection URL for database `db` as the cluster's superuser `nic`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql:///{db}?user=nic&host={}",
            self.socket_dir().display()
        )
    }

    /// Creates a new, empty database and returns its URL.
    pub fn new_database(&self) -> Result<String, ClusterError> {
        // One creation at a time: each copies the template database.
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = CREATING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{n}");
        let admin_url = self.url("postgres");
        // On a thread of its own: the driver cannot block on an async task's thread.
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
                    .map_err(|e| step("connecting to the cluster", e))?;
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .map_err(|e| step("CREATE DATABASE", e))
            })
            .join()
            .unwrap_or_else(|_| Err(step("CREATE DATABASE", "panicked")))
        })?;
        Ok(self.url(&name))
    }

    /// Runs `sql` (one or more statements) on the database at `url`, as its owner: for
    /// tests that reach behind the hub's back (ending its connections, say).
    pub fn execute(&self, url: &str, sql: &str) -> Result<(), ClusterError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut client = postgres::Client::connect(url, postgres::NoTls)
                    .map_err(|e| step("connecting to the cluster", e))?;
                client
                    .batch_execute(sql)
                    .map_err(|e| step("running SQL", e))
            })
            .join()
            .unwrap_or_else(|_| Err(step("running SQL", "panicked")))
        })
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        // Immediate: nothing here needs a clean shutdown, and tests should not wait for one.
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

fn step(what: &'static str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Step {
        step: what,
        detail: e.to_string(),
    }
}

fn check(what: &'static str, done: &Output) -> Result<(), ClusterError> {
    if done.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Step {
            step: what,
            detail: String::from_utf8_lossy(&done.stderr).into_owned(),
        })
    }
}
