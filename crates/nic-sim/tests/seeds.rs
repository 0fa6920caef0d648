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
    // Guard against a harness that quietly stops injecting faults.
    let mut totals = nic_sim::SimReport::default();
    for seed in 0..50 {
        let r = run(seed, &SimConfig::default()).expect("seed passes");
        totals.delivered += r.delivered;
        totals.dropped += r.dropped;
        totals.duplicated += r.duplicated;
        totals.reordered += r.reordered;
        totals.partitions += r.partitions;
        totals.edits += r.edits;
        totals.restarts += r.restarts;
        totals.acks_checked += r.acks_checked;
        totals.fast_relays += r.fast_relays;
        totals.batches += r.batches;
        totals.relays_held += r.relays_held;
        totals.catch_ups += r.catch_ups;
    }
    println!("50 seeds: {totals:?}");
    assert!(
        totals.dropped > 0 && totals.duplicated > 0 && totals.reordered > 0,
        "{totals:?}"
    );
    assert!(
        totals.partitions > 0 && totals.restarts > 0 && totals.edits > 0,
        "{totals:?}"
    );
    assert!(
        totals.batches > 0,
        "no batch was ever delivered: {totals:?}"
    );
    assert!(
        totals.fast_relays > 0,
        "the hub's fast relay path was never taken: {totals:?}"
    );
    assert!(
        totals.relays_held > 0 && totals.catch_ups > 0,
        "the hub never held relays back or caught a peer up: {totals:?}"
    );
    assert!(
        totals.acks_checked > 0,
        "no ack was ever checked: {totals:?}"
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
