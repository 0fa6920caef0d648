//! The power-safe half of [`crate::Durability::PowerSafe`].
//!
//! On Linux, sled's `flush` ends in `sync_file_range`, which pushes the written pages to the
//! device but neither flushes the device's write cache nor records file sizes and directory
//! entries: after a power loss the log may be cut short or a new segment file may be missing.
//! `fsync` (`File::sync_all`) on every file and directory covers all three. Process crashes
//! need none of this: the kernel already holds the data.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::StoreError;

/// Fsyncs every regular file under `dir`, recursively, then the directories themselves (so
/// files created since the last sync are reachable after a power loss).
pub(super) fn sync_dir_tree(dir: &Path) -> Result<(), StoreError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            sync_dir_tree(&path)?;
        } else if kind.is_file() {
            sync_file(&path).map_err(io_err(&path))?;
        }
    }
    sync_file(dir).map_err(io_err(dir))
}

fn sync_file(path: &Path) -> io::Result<()> {
    // sled removes old snapshot files in the background; one gone meanwhile needs no sync.
    match File::open(path) {
        Ok(file) => file.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
