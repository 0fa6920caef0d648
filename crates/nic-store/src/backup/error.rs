//! Why a backup could not be made, read or restored; each message says what to do next.

use std::path::PathBuf;

use crate::StoreError;

/// What went wrong in making, reading or restoring a backup.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// This store does not make backups itself (PostgreSQL: use the database's tools).
    #[error(
        "this store does not make backups itself; back up its database with the database's own tools (PostgreSQL: pg_dump -Fc)"
    )]
    Unsupported,
    /// Reading the store failed.
    #[error("cannot read the store: {0}")]
    Store(#[from] StoreError),
    /// Reading or writing the backup (or the restored folder) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, e.g. "cannot write the backup".
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start as a backup does.
    #[error(
        "this is not a nic-hub backup file (it does not start with the backup's magic bytes); check the file name"
    )]
    NotABackup,
    /// The file was made by a newer nic-hub.
    #[error(
        "this backup has format version {found}, and this nic-hub reads only version {supported}: restore it with the nic-hub that made it, or a newer one"
    )]
    NewerVersion {
        /// The file's version.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The file ends before its end marker.
    #[error(
        "the backup ends early, after {records} records ({offset} bytes): the file is incomplete (an interrupted copy or download?) or damaged; copy it again, or take a new backup"
    )]
    Truncated {
        /// Records read before the end.
        records: u64,
        /// Bytes read before the end.
        offset: u64,
    },
    /// The file's contents do not match its checksum, or are malformed.
    #[error(
        "the backup is damaged: {reason}; nothing was restored from it. Copy it again, or take a new backup"
    )]
    Damaged {
        /// What is wrong, with where.
        reason: String,
    },
    /// A key, value or file is larger than the format holds (4 GiB).
    #[error("cannot back up {what} of {len} bytes: the backup format holds at most 4 GiB each")]
    TooLarge {
        /// What it is.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A restore was asked into a folder that holds something already.
    #[error(
        "{} is not empty: restore only into a new or empty folder (restoring over a hub's data would mix two hubs' data); choose another --data-dir or move its contents away",
        .0.display()
    )]
    TargetNotEmpty(PathBuf),
}

impl BackupError {
    /// An I/O error while doing `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    /// A malformed or mismatching file.
    pub(crate) fn damaged(reason: impl Into<String>) -> Self {
        Self::Damaged {
            reason: reason.into(),
        }
    }
}
