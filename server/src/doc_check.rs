//! The hub's document loader, runnable without a network: Automerge bytes as a client sends
//! them (a Create's `initial`, a sync message's changes) or as storage returns them are
//! measured under limits (`nic_sync::inspect`), and only what passes is decoded — as
//! `loads.rs` and the engine do. The fuzz target (`fuzz/fuzz_targets/doc_loader.rs`, run
//! under a memory limit) and the property test (`tests/doc_loader.rs`) drive it with
//! arbitrary bytes: what passes must decode to no more than the inspector measured.

use std::panic::{AssertUnwindSafe, catch_unwind};

use nic_sync::automerge::Automerge;
use nic_sync::inspect::{self, InspectError, Limits, Measure};

/// Limits small enough that whatever passes them decodes in a few megabytes (a fuzzer's
/// memory limit then catches any bytes the inspector under-measures).
pub const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_ops: 20_000,
    max_changes: 20_000,
};

/// What became of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Refused before decoding.
    Refused(InspectError),
    /// Within the limits, but Automerge does not load them (or panicked, which the hub's
    /// loaders contain).
    Unloadable,
    /// Loaded.
    Loaded {
        /// What the inspector measured.
        measured: Measure,
        /// Operations the document holds.
        ops: u64,
        /// Changes the document holds.
        changes: u64,
    },
}

/// Measures `bytes` under `limits`, then loads them if they pass.
pub fn check(bytes: &[u8], limits: &Limits) -> Outcome {
    let measured = match inspect::inspect(bytes, limits) {
        Ok(m) => m,
        Err(e) => return Outcome::Refused(e),
    };
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        let doc = Automerge::load(bytes).ok()?;
        let changes = doc.get_changes(&[]);
        let ops: usize = changes.iter().map(|c| c.len()).sum();
        Some((count(ops), count(changes.len())))
    }));
    match loaded {
        Ok(Some((ops, changes))) => Outcome::Loaded {
            measured,
            ops,
            changes,
        },
        _ => Outcome::Unloadable,
    }
}

impl Outcome {
    /// Whether what loaded holds no more than the inspector measured (the guarantee the
    /// limits rest on).
    pub fn within_measure(&self) -> bool {
        match self {
            Outcome::Loaded {
                measured,
                ops,
                changes,
            } => *ops <= measured.ops && *changes <= measured.changes,
            _ => true,
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
