//! Fuzzes the document loader under limits (`nic_hub::doc_check`): arbitrary bytes are
//! measured by the inspector and loaded by Automerge only if they pass. Nothing may panic
//! here, and what loads must hold no more than the inspector measured. Run it under a memory
//! limit: bytes the inspector lets through while they inflate beyond it are a crasher too.
//!
//! Run with `cargo +nightly fuzz run doc_loader -- -rss_limit_mb=256` from the repository
//! root (see `fuzz/README.md`); copy any crasher into `fuzz/regressions_doc_loader/`, where
//! the normal test run replays it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nic_hub::doc_check;

fuzz_target!(|bytes: &[u8]| {
    let outcome = doc_check::check(bytes, &doc_check::LIMITS);
    assert!(outcome.within_measure(), "{outcome:?}");
});
