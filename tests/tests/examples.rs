//! The client library's examples run against a hub with the README's defaults: the PDSA
//! tracker records a cycle through its phases on a replica on disk and starts the next
//! from "adapt"; the dashboard job prints the network's cycles.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;

use nic_e2e::{TestHub, saved_at};
use nic_model::DocKind;
use nic_model::schema::{self, pdsa::Decision, pdsa::PdsaCycle};

/// The example binary, built now if this test runs without the rest of the workspace.
fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile_dir = deps.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-p", "nic-client", "--examples"])
            .status()
            .unwrap();
        assert!(built.success(), "building the examples failed");
    }
    path
}

/// Runs an example with the hub's address and token; returns its stdout.
async fn run(name: &str, hub: &TestHub, replica: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new(example(name));
    cmd.args(args)
        .env("NIC_HUB", &hub.url)
        .env("NIC_TOKEN", &hub.token)
        .env("NIC_REPLICA", replica);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_and_the_dashboard_run_against_a_hub() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(&dir.path().join("nic-data")).await;
    let replica = dir.path().join("tracker");
    let out = run(
        "pdsa_tracker",
        &hub,
        &replica,
        &["init", "algebra", "lincoln"],
    )
    .await;
    assert!(out.contains("ready"), "{out}");
    let first = run(
        "pdsa_tracker",
        &hub,
        &replica,
        &[
            "new",
            "algebra",
            "lincoln",
            "number-talks",
            "Will a daily number talk raise exit-ticket completion?",
            "20 of 28 finish",
        ],
    )
    .await;
    let first = first.trim().to_owned();
    run(
        "pdsa_tracker",
        &hub,
        &replica,
        &["do", &first, "Ran it Monday to Thursday"],
    )
    .await;
    run(
        "pdsa_tracker",
        &hub,
        &replica,
        &["study", &first, "24 of 28 finished", "Most finished"],
    )
    .await;
    let second = run(
        "pdsa_tracker",
        &hub,
        &replica,
        &["act", &first, "adapt", "Shorter: 4 minutes"],
    )
    .await;
    let second = second.trim().to_owned();
    let shown = run("pdsa_tracker", &hub, &replica, &["show", &first]).await;
    assert!(shown.contains("Most finished"), "{shown}");
    let listed = run("pdsa_tracker", &hub, &replica, &["list", "algebra"]).await;
    assert!(
        listed.contains(&first) && listed.contains(&second),
        "{listed}"
    );

    // What the tracker recorded is on the hub.
    let on_hub = saved_at(&hub.url, &hub.token, first.parse().unwrap()).await;
    let c: PdsaCycle = schema::read(&on_hub, DocKind::PdsaCycle).unwrap();
    assert_eq!(c.act.decision, Some(Decision::Adapt));
    assert_eq!(c.act.next_cycle_id.as_deref(), Some(second.as_str()));

    let board = run(
        "cycle_dashboard",
        &hub,
        &dir.path().join("unused"),
        &["algebra"],
    )
    .await;
    assert!(board.contains("number-talks"), "{board}");
    assert!(
        board.contains("20 of 28 finish → 24 of 28 finished"),
        "{board}"
    );
    let rows: Vec<&str> = board.lines().filter(|l| l.contains("lincoln")).collect();
    assert_eq!(rows.len(), 2, "{board}");
    assert!(
        rows[0].contains("adapt") && rows[0].contains("done"),
        "{board}"
    );
    assert!(
        rows[1].contains("plan"),
        "the next cycle needs predictions: {board}"
    );
}
