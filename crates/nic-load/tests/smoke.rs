//! The load tool runs end to end on a tiny load and reports what it measured.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::Command;

fn nic_load() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nic-load"))
}

/// Runs the tool with `args`, which must succeed, and returns its JSON report.
fn report_of(args: &[&str]) -> serde_json::Value {
    let out = nic_load().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "nic-load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn tiny_run_reports_every_figure() {
    let report = report_of(&[
        "--in-process",
        "--json",
        "-k",
        "2",
        "-m",
        "3",
        "-e",
        "5",
        "--timeout-secs",
        "60",
    ]);
    assert_eq!(report["clients"], 2);
    assert_eq!(report["docs"], 3);
    // Every edit reached the other client and was timed: 2 clients × 5 edits × 1 other.
    assert_eq!(report["expected_arrivals"], 10);
    assert_eq!(report["propagation"]["samples"], 10);
    let p50 = report["propagation"]["p50_ms"].as_f64().unwrap();
    let p99 = report["propagation"]["p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "p50 {p50} p99 {p99}");
    assert!(report["edits_per_s"].as_f64().unwrap() > 0.0);
    assert!(report["cold_clone_s"].as_f64().unwrap() > 0.0);
    // Each client merged at least the other's 5 changes, in at least one merge.
    let merges = report["client_merges"].as_u64().unwrap();
    let changes = report["client_changes_merged"].as_u64().unwrap();
    assert!(
        merges >= 1 && changes >= 10 && changes >= merges,
        "{merges} {changes}"
    );
    assert!(report["hub_cpu_s"].as_f64().unwrap() >= 0.0);
    assert!(report["hub_peak_rss_mib"].as_f64().unwrap() > 1.0);
    // The worksheets and their edits are on the hub's disk.
    assert!(report["hub_disk_mib"].as_f64().unwrap() > 0.0);
}

#[test]
fn tiny_archive_run_restarts_and_opens_idle_documents() {
    let report = report_of(&[
        "--in-process",
        "--json",
        "--archive",
        "40",
        "--archive-samples",
        "5",
        "-k",
        "2",
        "-m",
        "3",
        "-e",
        "3",
        "--timeout-secs",
        "60",
    ]);
    assert_eq!(report["stored"], 40);
    assert!(report["restart_s"].as_f64().unwrap() > 0.0);
    // Each way of opening timed every sample, and every one found its document.
    assert_eq!(report["get_idle"]["samples"], 5);
    assert_eq!(report["open_idle"]["samples"], 5);
    // The active load ran beside the archive, on the restarted hub.
    assert_eq!(report["active"]["docs"], 3);
    assert_eq!(report["active"]["propagation"]["samples"], 6);
    assert!(report["disk_mib"].as_f64().unwrap() > 0.0);
}

#[test]
fn tiny_baseline_merges_every_change_three_ways() {
    let report = report_of(&[
        "--baseline",
        "--json",
        "-k",
        "3",
        "-m",
        "4",
        "-e",
        "6",
        "--lag-rounds",
        "2",
    ]);
    // 3 clients × 6 edits, each merged by the 2 others.
    assert_eq!(report["merges"], 36);
    assert_eq!(report["lag_rounds"], 2);
    for key in ["single_s", "bytes_s", "batched_s"] {
        assert!(report[key].as_f64().unwrap() > 0.0, "{key}");
    }
}

#[test]
fn more_clients_than_one_members_stream_limit_run() {
    // Each client is its own member: 40 clients stay within the hub's default limit of 32
    // streams per member.
    let report = report_of(&[
        "--in-process",
        "--json",
        "-k",
        "40",
        "-m",
        "2",
        "-e",
        "1",
        "--timeout-secs",
        "60",
    ]);
    assert_eq!(report["propagation"]["samples"], 40 * 39);
}

#[test]
fn a_missing_hub_binary_says_how_to_build_it() {
    let out = nic_load()
        .args([
            "--hub-bin",
            "/nonexistent/nic-hub",
            "-k",
            "2",
            "-m",
            "1",
            "-e",
            "1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cargo build --release -p nic-hub"), "{err}");
}

#[test]
fn one_client_is_refused_with_a_reason() {
    let out = nic_load()
        .args(["--in-process", "-k", "1", "-m", "1", "-e", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 2 clients"));
}

#[test]
fn tiny_replica_run_reopens_and_reconnects() {
    let report = report_of(&[
        "--in-process",
        "--json",
        "--replica",
        "20",
        "--replica-changed",
        "2",
        "--timeout-secs",
        "60",
    ]);
    assert_eq!(report["docs"], 20);
    assert!(report["ready_s"].as_f64().unwrap() >= report["open_s"].as_f64().unwrap());
    assert_eq!(report["reconnect"]["connects"], 1);
    // The reconnect moved less than the cold sync did.
    let cold = report["cold_bytes"][1].as_u64().unwrap();
    let again = report["reconnect"]["bytes_received"].as_u64().unwrap();
    assert!(again < cold, "{again} >= {cold}");
}

#[test]
fn tiny_samod_comparison_drives_both_hubs() {
    // nic-hub in this process, the samod hub as a child (built beside the tool).
    let report = report_of(&[
        "--samod",
        "--in-process",
        "--json",
        "-k",
        "2",
        "-m",
        "2",
        "-e",
        "3",
        "--timeout-secs",
        "60",
    ]);
    for hub in ["nic_hub", "samod"] {
        let run = &report[hub];
        // Every edit reached the other client and was timed: 2 clients × 3 edits × 1 other.
        assert_eq!(run["delivered"], 6, "{hub}");
        assert_eq!(run["propagation"]["samples"], 6, "{hub}");
        assert!(run["converged_s"].as_f64().unwrap() > 0.0, "{hub}");
        assert!(run["hub_cpu_settled_s"].as_f64().unwrap() >= 0.0, "{hub}");
    }
    // Tiny loads may cost the hubs less than one clock tick: no ratio is asserted.
}

#[test]
fn tiny_creates_run_creates_three_rounds() {
    let report = report_of(&[
        "--in-process",
        "--json",
        "--creates",
        "12",
        "--timeout-secs",
        "60",
    ]);
    assert_eq!(report["docs"], 12);
    for figure in [
        "hub_create_s",
        "client_acked_events_s",
        "client_wait_saved_s",
    ] {
        assert!(report[figure].as_f64().unwrap() > 0.0, "{figure}");
    }
}
