//! The reference samod hub (`samod-hub`, built beside this tool) in a child process on a
//! fresh data folder, optionally pinned with `taskset`: waited for until it prints where it
//! listens (no sleeps), killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use tempfile::TempDir;

/// What `samod-hub` prints, followed by its address, once it accepts connections.
pub const LISTENING: &str = "samod-hub listening on ";

/// A running `samod-hub`.
pub struct SamodHub {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
}

impl SamodHub {
    /// Starts `bin` on a fresh data folder, pinned to `cpus` if given.
    pub fn start(bin: &Path, cpus: Option<&str>) -> anyhow::Result<SamodHub> {
        if !bin.exists() {
            bail!(
                "no samod hub binary at {}; build it with `cargo build --release -p nic-load`",
                bin.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("nic-load-samod")
            .tempdir()?;
        let mut cmd = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.arg("--data-dir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("samod-hub's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            match lines.next() {
                Some(line) => {
                    if let Some(addr) = line?.strip_prefix(LISTENING) {
                        break addr.trim().parse()?;
                    }
                }
                None => {
                    let _ = child.kill();
                    let status = child.wait()?;
                    bail!("samod-hub exited ({status}) before it listened");
                }
            }
        };
        // It prints nothing more; a closed pipe would not block it anyway.
        drop(lines);
        Ok(SamodHub { child, addr, dir })
    }

    /// Its WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Its process id (to measure it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its data folder.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops it (SIGTERM, then wait).
    pub fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("samod-hub exited with {status}");
        }
        Ok(())
    }
}

impl Drop for SamodHub {
    fn drop(&mut self) {
        // Already exited (stopped): both calls fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
