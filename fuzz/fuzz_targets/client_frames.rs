//! Fuzzes the hub's frame handling: arbitrary bytes as a stream of length-prefixed
//! `ClientFrame`s into a hub engine holding one document (`nic_hub::frame_check`). Nothing
//! may panic, and whatever the hub would store must load as Automerge.
//!
//! Run with `cargo +nightly fuzz run client_frames` from the repository root (see
//! `fuzz/README.md`); copy any crasher into `fuzz/regressions/`, where the normal test run
//! replays it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nic_hub::frame_check::FrameCheck;

fuzz_target!(|bytes: &[u8]| {
    let outcome = FrameCheck::new().feed(bytes);
    assert!(FrameCheck::stored_is_valid(&outcome));
});
