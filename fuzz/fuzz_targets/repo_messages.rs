//! Fuzzes the automerge-repo WebSocket endpoint's message handling: arbitrary bytes as a
//! stream of length-prefixed messages, decoded as `/automerge` decodes them, `request` and
//! `sync` handed to a hub engine holding one document (`nic_hub::frame_check`). Nothing may
//! panic, every decoded message must decode back to itself once encoded, and whatever the
//! hub would store must load as Automerge and read as its kind.
//!
//! Run with `cargo +nightly fuzz run repo_messages` from the repository root (see
//! `fuzz/README.md`); copy any crasher into `fuzz/regressions_repo/`, where the normal test
//! run replays it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nic_hub::frame_check::FrameCheck;

fuzz_target!(|bytes: &[u8]| {
    let outcome = FrameCheck::new().feed_repo(bytes);
    assert_eq!(outcome.roundtrip_failures, 0);
    assert!(FrameCheck::stored_is_valid(&outcome));
});
