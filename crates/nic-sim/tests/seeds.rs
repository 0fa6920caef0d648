//! Runs the simulation over many seeds.
//!
//! - `cargo test -p nic-sim` runs seeds 0..1000 (split into four tests so they run in parallel).
//! - Replay one seed: `NIC_SIM_SEED=123 cargo test -p nic-sim --test seeds replay -- --nocapture`.
//! - Soak: `NIC_SIM_SOAK=100000 cargo test --release -p nic-sim --test seeds soak -- --ignored --nocapture`
//!   (optionally `NIC_SIM_START=<first seed>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::ops::Range;

use nic_sim::{SimConfig, run};

fn run_seeds(seeds: Range<u64>) {
    let config = SimConfig::default();
    let mut failures = Vec::new();
    for seed in seeds.clone() {
        if let Err(failure) = run(seed, &config) {
            failures.push(failure.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed (replay one with NIC_SIM_SEED=<seed> cargo test -p nic-sim --test seeds replay):\n{}",
        failures.len(),
        seeds.end - seeds.start,
        failures.join("\n")
    );
}

#[test]
fn seeds_0_to_250() {
    run_seeds(0..250);
}

#[test]
fn seeds_250_to_500() {
    run_seeds(250..500);
}

#[test]
fn seeds_500_to_750() {
    run_seeds(500..750);
}

#[test]
fn seeds_750_to_1000() {
    run_seeds(750..1000);
}

#[test]
fn runs_exercise_every_fault() {
    // Guard against a harness that quietly stops injecting a fault or checking an
    // invariant: over 100 seeds, every kind must have happened.
    let mut totals = nic_sim::SimReport::default();
    for seed in 0..100 {
        let r = run(seed, &SimConfig::default()).unwrap_or_else(|f| panic!("{f}"));
        totals.add(&r);
    }
    println!("100 seeds: {totals:#?}");
    let kinds = [
        ("frames dropped", totals.dropped),
        ("frames duplicated", totals.duplicated),
        ("frames reordered", totals.reordered),
        ("frames read in batches", totals.batches),
        ("partitions", totals.partitions),
        ("edits", totals.edits),
        ("crashes", totals.restarts),
        ("hub crashes", totals.hub_restarts),
        (
            "crashes between writes and flush",
            totals.crashes_mid_commit,
        ),
        ("unflushed writes lost", totals.writes_lost),
        ("unflushed writes kept by a crash", totals.writes_kept),
        ("torn writes", totals.torn_writes),
        ("failed flushes", totals.flush_failures),
        ("tokens revoked mid-stream", totals.revocations),
        ("roles narrowed mid-stream", totals.narrowings),
        ("connections broken and reopened", totals.reconnects),
        (
            "subscriptions naming known documents",
            totals.known_subscriptions,
        ),
        ("hub evictions", totals.evictions),
        ("impostor edits", totals.impostor_edits),
        ("acks checked durable", totals.acks_checked),
        ("acks rechecked after a hub crash", totals.acks_rechecked),
        ("frames checked against rights", totals.frames_checked),
        (
            "stored changes checked for their actor binding",
            totals.bindings_checked,
        ),
        ("fast relays", totals.fast_relays),
        ("relays held back", totals.relays_held),
        ("catch-ups", totals.catch_ups),
    ];
    let missing: Vec<&str> = kinds
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(k, _)| *k)
        .collect();
    assert!(
        missing.is_empty(),
        "never happened in 100 seeds: {missing:?}\n{totals:#?}"
    );
}

#[test]
fn replay() {
    let Ok(seed) = std::env::var("NIC_SIM_SEED") else {
        return;
    };
    let seed: u64 = seed.parse().expect("NIC_SIM_SEED is a number");
    match run(seed, &SimConfig::default()) {
        Ok(report) => println!("seed {seed} passed: {report:?}"),
        Err(failure) => panic!("{failure}"),
    }
}

#[test]
#[ignore = "long soak run; see the module docs"]
fn soak() {
    let count: u64 = std::env::var("NIC_SIM_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let start: u64 = std::env::var("NIC_SIM_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    run_seeds(start..start + count);
}
