//! A second member at the same hub: their own config and replica folders (a replica belongs
//! to one member), signed in with a token the admin issues.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // each test uses some

use std::process::{Command, Output};

use serde_json::Value;

use crate::common::Env;

/// Another member's `nic`.
pub struct Member<'a> {
    env: &'a Env,
    name: String,
}

impl<'a> Member<'a> {
    /// Adds `name` to the network as `role` (`lead`, `site-member` with `site`,
    /// `observer`), and signs them in with their own folders.
    pub async fn add(env: &'a Env, name: &str, role: &str, site: Option<&str>) -> Member<'a> {
        let mut args = vec!["members", "add", name, "--role", role];
        if let Some(s) = site {
            args.extend(["--site", s]);
        }
        env.ok(&args).await;
        let token = env.json(&["members", "token", name]).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let member = Member {
            env,
            name: name.to_owned(),
        };
        let hub = env.hub.url.clone();
        member
            .ok(&["login", "--hub", &hub, "--token", &token])
            .await;
        member.ok(&["use", "algebra"]).await;
        member
    }

    /// Runs `nic ARGS` as this member.
    pub async fn nic(&self, args: &[&str]) -> Output {
        let dir = self.env.dir.path();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nic"));
        cmd.args(args)
            .current_dir(dir)
            .env(
                "NIC_CONFIG",
                dir.join(format!("cfg-{}", self.name)).join("config.toml"),
            )
            .env("NIC_REPLICA", dir.join(format!("replica-{}", self.name)))
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
            "{}: nic {args:?} failed ({:?}): {}",
            self.name,
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
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}: nic {args:?}: {stderr}",
            self.name
        );
        stderr
    }
}
