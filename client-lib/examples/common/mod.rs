//! What both examples share: where the hub is and which token to present.
//!
//! Defaults fit a hub started as the README says (`cargo run --release -p nic-hub -- serve`
//! in the repository root): `http://127.0.0.1:50051` and the token in
//! `nic-data/admin-token`. Override with `NIC_HUB` and `NIC_TOKEN` (or `NIC_TOKEN_FILE`).

use std::time::Duration;

use anyhow::Context;

/// How long the examples wait for the hub before reporting what is still local.
pub const WAIT: Duration = Duration::from_secs(10);

/// The hub's address.
pub fn hub() -> String {
    std::env::var("NIC_HUB").unwrap_or_else(|_| "http://127.0.0.1:50051".into())
}

/// The token: `NIC_TOKEN`, or the file `NIC_TOKEN_FILE` (default `nic-data/admin-token`).
pub fn token() -> anyhow::Result<String> {
    if let Ok(token) = std::env::var("NIC_TOKEN") {
        return Ok(token);
    }
    let file = std::env::var("NIC_TOKEN_FILE").unwrap_or_else(|_| "nic-data/admin-token".into());
    let token = std::fs::read_to_string(&file).with_context(|| {
        format!("cannot read the token from {file}; set NIC_TOKEN or NIC_TOKEN_FILE, or start the hub as the README says")
    })?;
    Ok(token.trim().to_owned())
}
