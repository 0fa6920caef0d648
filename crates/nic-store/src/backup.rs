//! Backups of a store in one file, for `nic-hub backup` and `nic-hub restore`.
//!
//! [`Store::backup`](crate::Store::backup) writes a consistent copy of everything a store
//! holds (a [`crate::SledStore`] makes one; PostgreSQL has its own tools, `pg_dump`), with
//! the few small files of the data folder its caller adds ([`BackupFile`]: the hub admin's
//! token). [`crate::SledStore::restore`] makes a new store folder from it.
//!
//! The file (`format.rs`) is a header with a magic string and a version, length-prefixed
//! records and a SHA-256 of everything before the end marker, so a file cut short or changed
//! by a single bit is refused before anything is restored from it.

mod error;
mod format;

pub use error::BackupError;
pub use format::{BackupReader, BackupWriter, FORMAT_VERSION, Header, MAGIC, Record};

/// A small file of the data folder carried in a backup beside the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupFile<'a> {
    /// Its name in the data folder: one plain name, no folders (see [`file_name_ok`]).
    pub name: &'a str,
    /// What it holds.
    pub contents: &'a [u8],
}

/// What a backup holds, as counted while writing or checking it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupSummary {
    /// When the snapshot was taken, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The trees (tables) copied.
    pub trees: u64,
    /// Their keys and values, all trees together.
    pub entries: u64,
    /// The names of the data folder's files carried with them.
    pub files: Vec<String>,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Whether `name` may name a file carried in a backup: one plain file name of letters,
/// digits, `-`, `_` and `.`, not starting with a dot. A backup is read from outside, and
/// restore writes these files into the new data folder: a name with a `/` or `..` would
/// reach outside it.
pub fn file_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
