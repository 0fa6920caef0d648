//! [`SledStore`]'s backups: every tree copied while the write gate is held exclusively, and a
//! new store made from a backup file.
//!
//! Why a gate and not something of sled's: sled 0.34 has no snapshot reads (its iterators see
//! writes made while they run), and a transaction cannot span an unbounded scan. Every write
//! of the store holds the gate shared for its transaction (`SledStore::writing`); the backup
//! holds it exclusively from before it draws the next sequence number until the last tree is
//! copied, so no write is in progress while it copies and the copy is one moment of every
//! tree: documents, their chunks and stats, sync states, the directory and the audit log.
//! Writes wait meanwhile (the time it takes to copy the database into the backup's
//! temporary file on the same disk); reads go on. A write the hub acknowledged before the
//! backup started had finished its transaction, so it is in the copy.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::PoisonError;

use super::SledStore;
use super::records::corrupt;
use crate::backup::{BackupError, BackupFile, BackupReader, BackupSummary, BackupWriter, Header};
use crate::{Durability, Store, StoreError};

/// The default tree's key for `id_offset` (see [`SledStore`]'s fields). It is not copied
/// into a backup: the backup's header carries the number a restored store starts from.
pub(super) const ID_OFFSET_KEY: &[u8] = b"id_offset";

/// Entries restored per sled batch: large enough to be quick, small enough to bound memory.
const RESTORE_BATCH: usize = 4096;

/// Decodes the stored `id_offset`.
pub(super) fn decode_id_offset(value: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(value)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt("id_offset", format!("{} bytes, expected 8", value.len())))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl SledStore {
    /// [`Store::backup`] for sled: see the module's documentation for why the copy is
    /// consistent.
    pub(super) fn write_backup(
        &self,
        out: &mut dyn Write,
        files: &[BackupFile<'_>],
    ) -> Result<BackupSummary, BackupError> {
        // Buffered: writes wait for as long as the copy takes, so it should not make a
        // system call per record.
        let mut out = BufWriter::with_capacity(1 << 20, out);
        let created_at_ms = now_ms();
        let exclusive = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        // Drawn under the gate, after every write that is in the copy drew its numbers.
        let next_id = self.next_id()?;
        let mut writer = BackupWriter::new(
            &mut out,
            Header {
                created_at_ms,
                next_id,
            },
        )?;
        let default_tree = self.db.name();
        let mut names = self.db.tree_names();
        names.sort();
        for name in names {
            let tree = self.db.open_tree(&name).map_err(StoreError::from)?;
            writer.tree(&name)?;
            let is_default = name == default_tree;
            for item in tree.iter() {
                let (key, value) = item.map_err(StoreError::from)?;
                if is_default && key == ID_OFFSET_KEY {
                    continue;
                }
                writer.entry(&key, &value)?;
            }
        }
        drop(exclusive);
        for file in files {
            writer.file(file.name, file.contents)?;
        }
        writer.finish()
    }

    /// Makes a new store in the folder `dir` from the backup file `from`, and writes the
    /// files the backup carries (the hub admin's token) beside it, readable by their owner
    /// only. `dir` must be missing or empty.
    ///
    /// The whole file is read and checked (checksum included) before anything is written, so
    /// a damaged or incomplete file is refused with nothing made; if writing fails part-way,
    /// what was made is removed again.
    pub fn restore(from: &Path, dir: &Path) -> Result<BackupSummary, BackupError> {
        let existed = empty_or_missing(dir)?;
        let open = || {
            File::open(from)
                .map(|f| BufReader::with_capacity(1 << 20, f))
                .map_err(BackupError::io(format!("cannot open {}", from.display())))
        };
        let (_, summary) = BackupReader::new(open()?)?.verify()?;
        match import(open()?, dir) {
            Ok(()) => Ok(summary),
            Err(e) => {
                remove_restored(dir, existed);
                Err(e)
            }
        }
    }
}

/// Whether `dir` exists (empty); refuses one that holds anything.
fn empty_or_missing(dir: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(true),
            Some(_) => Err(BackupError::TargetNotEmpty(dir.to_owned())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(BackupError::io(format!(
            "cannot use {} as the data folder",
            dir.display()
        ))(e)),
    }
}

/// Writes a checked backup into a new store in `dir`.
fn import(file: impl Read, dir: &Path) -> Result<(), BackupError> {
    let mut reader = BackupReader::new(file)?;
    let next_id = reader.header().next_id;
    // Opening makes the folder owner-only, as every store folder is.
    let store = SledStore::open(dir)?;
    let mut files = Vec::new();
    let mut tree: Option<sled::Tree> = None;
    let mut batch = sled::Batch::default();
    let mut batched = 0;
    // The reader refuses an entry before any tree, so a batch always has its tree.
    let apply = |tree: &Option<sled::Tree>, batch: &mut sled::Batch| -> Result<(), StoreError> {
        if let Some(tree) = tree {
            tree.apply_batch(std::mem::take(batch))?;
        }
        Ok(())
    };
    while let Some(record) = reader.next_record()? {
        match record {
            crate::backup::Record::Tree(name) => {
                apply(&tree, &mut batch)?;
                batched = 0;
                tree = Some(store.db.open_tree(name).map_err(StoreError::from)?);
            }
            crate::backup::Record::Entry { key, value } => {
                batch.insert(key, value);
                batched += 1;
                if batched == RESTORE_BATCH {
                    apply(&tree, &mut batch)?;
                    batched = 0;
                }
            }
            crate::backup::Record::File { name, contents } => files.push((name, contents)),
        }
    }
    apply(&tree, &mut batch)?;
    store
        .db
        .insert(ID_OFFSET_KEY, &next_id.to_be_bytes())
        .map_err(StoreError::from)?;
    store.flush(Durability::PowerSafe)?;
    drop(store);
    for (name, contents) in files {
        write_private(&dir.join(&name), &contents)?;
    }
    Ok(())
}

/// Writes a new file readable by its owner only (it may hold a secret: the admin's token).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let what = format!("cannot write {}", path.display());
    let mut file = options.open(path).map_err(BackupError::io(what.clone()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(BackupError::io(what))
}

/// Removes what a failed restore made: the folder, or its contents if it was there before.
fn remove_restored(dir: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}
