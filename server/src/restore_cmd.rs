//! `nic-hub restore`: a new sled data folder from a file `nic-hub backup` wrote. No hub
//! runs meanwhile; `nic-hub serve --data-dir DIR` serves the result.

use std::path::PathBuf;

use nic_store::SledStore;
use nic_store::backup::{BackupError, BackupSummary};

use crate::auth::ADMIN_TOKEN_FILE;

/// `nic-hub restore --help`, beside the flags.
pub const LONG_HELP: &str = "Makes a new data folder from a backup taken with `nic-hub backup`, \
for `nic-hub serve --data-dir DIR` (sled) to serve: documents, directory and audit log as \
they were when the backup was taken. Tokens issued before the backup work again; tokens \
issued after it do not exist here.

The backup's admin-token file is restored into the folder, readable by this user only \
(0600), so the hub admin signs in with the token they had. No hub needs to run, and none \
may run on DIR: it must not exist yet, or be empty. The whole file is checked (its \
checksum) before anything is written, so a file that is cut short or damaged is refused \
with nothing made.";

/// `nic-hub restore`'s flags.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup file `nic-hub backup` wrote.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The data folder to make: must not exist yet, or be empty.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// What `nic-hub restore` made.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// The new data folder.
    pub data_dir: PathBuf,
    /// What the backup held.
    pub summary: BackupSummary,
    /// Whether the folder has the hub admin's token file from the backup.
    pub admin_token: bool,
}

/// Restores: see the module's documentation. Blocks (sled, files).
pub fn run(args: &RestoreArgs) -> Result<RestoreReport, BackupError> {
    let summary = SledStore::restore(&args.from, &args.data_dir)?;
    let admin_token = summary.files.iter().any(|f| f == ADMIN_TOKEN_FILE);
    Ok(RestoreReport {
        data_dir: args.data_dir.clone(),
        summary,
        admin_token,
    })
}
