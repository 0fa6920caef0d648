//! What the `nic` tests share: a real hub in a temporary folder, and a `nic` with its own
//! config and replica folders that runs against it.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // each test uses some

use std::path::PathBuf;
use std::process::{Command, Output};

use nic_e2e::TestHub;
use serde_json::Value;

/// A hub, and a `nic` with its own config and replica folders.
pub struct Env {
    /// The hub.
    pub hub: TestHub,
    /// The folder holding its data, the config and the replicas.
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let hub = TestHub::start(&dir.path().join("nic-data")).await;
        Env { hub, dir }
    }

    /// A hub serving TLS with a certificate for `localhost` from `server_ca` (and, if given,
    /// asking for client certificates from `clients_ca`).
    pub async fn start_tls(
        server_ca: &nic_e2e::certs::Ca,
        clients_ca: Option<&nic_e2e::certs::Ca>,
    ) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let files = nic_e2e::certs::hub_files(dir.path(), server_ca, clients_ca);
        let hub = TestHub::start_with(&dir.path().join("nic-data"), |c| c.tls = Some(files)).await;
        Env { hub, dir }
    }

    /// The hub's address as `https://localhost:PORT`, the name on its certificate.
    pub fn https(&self) -> String {
        self.hub
            .url
            .replace("http://127.0.0.1", "https://localhost")
    }

    /// Writes `text` into a file of this environment's folder; returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    pub fn token_file(&self) -> PathBuf {
        self.dir.path().join("nic-data").join("admin-token")
    }

    /// Runs `nic ARGS` (off the async runtime, where the hub runs).
    pub async fn nic(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nic"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env(
                "NIC_CONFIG",
                self.dir.path().join("cfg").join("config.toml"),
            )
            .env("NIC_REPLICA", self.dir.path().join("replica"))
            .env_remove("NIC_TOKEN");
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    /// Runs it and expects success; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.nic(args).await;
        assert!(
            out.status.success(),
            "nic {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs it with `--json` and parses what it printed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Runs it expecting failure with `code`; returns stderr.
    pub async fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.nic(args).await;
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "nic {args:?}: {stderr}");
        stderr
    }

    /// Signed in as the admin, with network `algebra` (the default) and site `lincoln`.
    pub async fn with_network(&self) {
        self.login().await;
        self.ok(&["networks", "create", "algebra", "--name", "Algebra"])
            .await;
        self.ok(&["use", "algebra"]).await;
        self.ok(&["sites", "create", "lincoln", "--name", "Lincoln"])
            .await;
    }

    /// `program ARGS` with this environment's config and the replica folder `replica`.
    pub fn command(&self, program: &str, replica: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env(
                "NIC_CONFIG",
                self.dir.path().join("cfg").join("config.toml"),
            )
            .env("NIC_REPLICA", self.dir.path().join(replica))
            .env_remove("NIC_TOKEN");
        cmd
    }

    pub async fn login(&self) {
        let token = self.token_file();
        self.ok(&[
            "login",
            "--hub",
            &self.hub.url,
            "--token-file",
            token.to_str().unwrap(),
        ])
        .await;
    }
}
