//! The backup file, version 1. All integers are big-endian.
//!
//! ```text
//! header   MAGIC (16 bytes) | version u16 | created_at_ms i64 | next_id u64
//! records  tag u8 | fields, each a length u32 and that many bytes
//!          'T' tree:  name                  (the entries that follow are this tree's)
//!          'E' entry: key | value
//!          'F' file:  name | contents       (a small file of the data folder)
//! trailer  'Z' | record count u64 | SHA-256 of every byte before this 'Z'
//! ```
//!
//! Nothing may follow the trailer. The magic's first byte is not ASCII and it ends in
//! `\r\n`, so a transfer that strips the eighth bit or converts line ends breaks it at once.
//! A reader trusts no length it reads: a field is read as far as the file goes, so a damaged
//! length costs at most the file's size in memory, never an allocation of 4 GiB up front.
//! The checksum is only known at the end, so a restore reads the file through once to check
//! it ([`BackupReader::verify`]) before it writes anything.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use super::{BackupError, BackupSummary, file_name_ok};

/// The first bytes of every backup file.
pub const MAGIC: [u8; 16] = *b"\x89NICHUB-BACKUP\r\n";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

const TAG_TREE: u8 = b'T';
const TAG_ENTRY: u8 = b'E';
const TAG_FILE: u8 = b'F';
const TAG_END: u8 = b'Z';

/// What the header says beside the magic and version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// When the snapshot was taken, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// A number above every sequence number the store had drawn when the snapshot was
    /// taken: the restored store draws new ones from here, so new chunks sort after the
    /// restored ones and new audit entries never take an old entry's number.
    pub next_id: u64,
}

/// One record of a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The start of a tree (table), by name; the entries that follow are its.
    Tree(Vec<u8>),
    /// A key and its value in the current tree.
    Entry {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// A small file of the data folder.
    File {
        /// Its name (checked with [`file_name_ok`]).
        name: String,
        /// What it holds.
        contents: Vec<u8>,
    },
}

/// Counts and hashes every byte written through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        self.inner
            .write_all(bytes)
            .map_err(BackupError::io("cannot write the backup"))?;
        self.hash.update(bytes);
        self.bytes = self.bytes.saturating_add(bytes.len() as u64);
        Ok(())
    }
}

/// Writes a backup file: [`BackupWriter::new`] writes the header, then trees, entries and
/// files in any order (an entry belongs to the last tree), then [`BackupWriter::finish`]
/// writes the trailer. A file without its trailer is refused on restore, so an interrupted
/// backup can never pass for a complete one.
pub struct BackupWriter<W: Write> {
    out: Hashing<W>,
    records: u64,
    summary: BackupSummary,
    in_tree: bool,
}

impl<W: Write> BackupWriter<W> {
    /// Starts a backup on `out` with `header`.
    pub fn new(out: W, header: Header) -> Result<Self, BackupError> {
        let mut out = Hashing {
            inner: out,
            hash: Sha256::new(),
            bytes: 0,
        };
        out.put(&MAGIC)?;
        out.put(&FORMAT_VERSION.to_be_bytes())?;
        out.put(&header.created_at_ms.to_be_bytes())?;
        out.put(&header.next_id.to_be_bytes())?;
        Ok(Self {
            out,
            records: 0,
            summary: BackupSummary {
                created_at_ms: header.created_at_ms,
                ..BackupSummary::default()
            },
            in_tree: false,
        })
    }

    fn record(&mut self, tag: u8, fields: &[(&'static str, &[u8])]) -> Result<(), BackupError> {
        // Checked first, so a refused record leaves nothing half-written.
        let mut lengths = Vec::with_capacity(fields.len());
        for (what, field) in fields {
            let len = u32::try_from(field.len()).map_err(|_| BackupError::TooLarge {
                what,
                len: field.len(),
            })?;
            lengths.push(len);
        }
        self.out.put(&[tag])?;
        for ((_, field), len) in fields.iter().zip(lengths) {
            self.out.put(&len.to_be_bytes())?;
            self.out.put(field)?;
        }
        self.records = self.records.saturating_add(1);
        Ok(())
    }

    /// Starts tree `name`: the entries written next are its.
    pub fn tree(&mut self, name: &[u8]) -> Result<(), BackupError> {
        self.record(TAG_TREE, &[("a tree name", name)])?;
        self.summary.trees = self.summary.trees.saturating_add(1);
        self.in_tree = true;
        Ok(())
    }

    /// Writes a key and its value in the current tree.
    ///
    /// # Errors
    /// [`BackupError::Damaged`] if no tree was started (a bug in the caller: the file would
    /// not restore).
    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), BackupError> {
        if !self.in_tree {
            return Err(BackupError::damaged("an entry was written before any tree"));
        }
        self.record(TAG_ENTRY, &[("a key", key), ("a value", value)])?;
        self.summary.entries = self.summary.entries.saturating_add(1);
        Ok(())
    }

    /// Writes a small file of the data folder, under `name` (see [`file_name_ok`]).
    pub fn file(&mut self, name: &str, contents: &[u8]) -> Result<(), BackupError> {
        if !file_name_ok(name) {
            return Err(BackupError::damaged(format!(
                "{name:?} cannot be a file name in a backup"
            )));
        }
        self.record(
            TAG_FILE,
            &[("a file name", name.as_bytes()), ("a file", contents)],
        )?;
        self.summary.files.push(name.to_owned());
        Ok(())
    }

    /// Writes the trailer (record count and checksum) and flushes; what was written.
    pub fn finish(mut self) -> Result<BackupSummary, BackupError> {
        let digest = self.out.hash.clone().finalize();
        self.out.put(&[TAG_END])?;
        self.out.put(&self.records.to_be_bytes())?;
        self.out.put(&digest)?;
        self.out
            .inner
            .flush()
            .map_err(BackupError::io("cannot write the backup"))?;
        self.summary.bytes = self.out.bytes;
        Ok(self.summary)
    }
}

/// Reads a backup file record by record, checking it as it goes; the checksum is checked
/// when the trailer is reached, so only a read that ends in `Ok(None)` from
/// [`BackupReader::next_record`] has proved the file whole.
pub struct BackupReader<R: Read> {
    inner: R,
    hash: Sha256,
    offset: u64,
    records: u64,
    header: Header,
    summary: BackupSummary,
    in_tree: bool,
    done: bool,
}

impl<R: Read> BackupReader<R> {
    /// Reads and checks the header.
    pub fn new(inner: R) -> Result<Self, BackupError> {
        let mut reader = Self {
            inner,
            hash: Sha256::new(),
            offset: 0,
            records: 0,
            header: Header::default(),
            summary: BackupSummary::default(),
            in_tree: false,
            done: false,
        };
        let mut magic = [0u8; MAGIC.len()];
        // A file shorter than the magic is not a backup at all, rather than a cut one.
        match reader.exact(&mut magic) {
            Ok(()) if magic == MAGIC => {}
            Ok(()) | Err(BackupError::Truncated { .. }) => return Err(BackupError::NotABackup),
            Err(e) => return Err(e),
        }
        let version = u16::from_be_bytes(reader.array()?);
        if version == 0 {
            return Err(BackupError::damaged("its header says format version 0"));
        }
        if version > FORMAT_VERSION {
            return Err(BackupError::NewerVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        reader.header = Header {
            created_at_ms: i64::from_be_bytes(reader.array()?),
            next_id: u64::from_be_bytes(reader.array()?),
        };
        reader.summary.created_at_ms = reader.header.created_at_ms;
        Ok(reader)
    }

    /// The header's contents.
    pub fn header(&self) -> Header {
        self.header
    }

    /// Reads `buf.len()` bytes into the checksum; [`BackupError::Truncated`] at the end.
    fn exact(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.exact_unhashed(buf)?;
        self.hash.update(&*buf);
        Ok(())
    }

    fn exact_unhashed(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.offset = self.offset.saturating_add(buf.len() as u64);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(self.truncated()),
            Err(e) => Err(BackupError::io("cannot read the backup")(e)),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BackupError> {
        let mut buf = [0u8; N];
        self.exact(&mut buf)?;
        Ok(buf)
    }

    fn truncated(&self) -> BackupError {
        BackupError::Truncated {
            records: self.records,
            offset: self.offset,
        }
    }

    /// One length-prefixed field. The length is not trusted: the bytes are read as far as
    /// the file goes, in pieces, so memory follows what the file holds.
    fn field(&mut self) -> Result<Vec<u8>, BackupError> {
        let len = u32::from_be_bytes(self.array()?);
        let mut out = Vec::new();
        let read = (&mut self.inner)
            .take(u64::from(len))
            .read_to_end(&mut out)
            .map_err(BackupError::io("cannot read the backup"))?;
        self.offset = self.offset.saturating_add(read as u64);
        if read < len as usize {
            return Err(self.truncated());
        }
        self.hash.update(&out);
        Ok(out)
    }

    /// The next record; `Ok(None)` once the trailer is read and the checksum matches.
    pub fn next_record(&mut self) -> Result<Option<Record>, BackupError> {
        if self.done {
            return Ok(None);
        }
        let at = self.offset;
        // The trailer's tag is outside the checksum (which covers what comes before it).
        let mut tag = [0u8; 1];
        self.exact_unhashed(&mut tag)?;
        if tag[0] == TAG_END {
            self.trailer()?;
            return Ok(None);
        }
        self.hash.update(tag);
        let record = match tag[0] {
            TAG_TREE => {
                let name = self.field()?;
                self.in_tree = true;
                self.summary.trees = self.summary.trees.saturating_add(1);
                Record::Tree(name)
            }
            TAG_ENTRY => {
                if !self.in_tree {
                    return Err(BackupError::damaged(format!(
                        "an entry before any tree at byte {at}"
                    )));
                }
                let key = self.field()?;
                let value = self.field()?;
                self.summary.entries = self.summary.entries.saturating_add(1);
                Record::Entry { key, value }
            }
            TAG_FILE => {
                let name = self.field()?;
                let contents = self.field()?;
                let name = String::from_utf8(name)
                    .ok()
                    .filter(|n| file_name_ok(n))
                    .ok_or_else(|| {
                        BackupError::damaged(format!("a file with a bad name at byte {at}"))
                    })?;
                self.summary.files.push(name.clone());
                Record::File { name, contents }
            }
            other => {
                return Err(BackupError::damaged(format!(
                    "an unknown record type {other:#04x} at byte {at}"
                )));
            }
        };
        self.records = self.records.saturating_add(1);
        Ok(Some(record))
    }

    /// Checks the trailer: the record count, the checksum, and that nothing follows.
    fn trailer(&mut self) -> Result<(), BackupError> {
        let expected = self.hash.clone().finalize();
        let mut count = [0u8; 8];
        self.exact_unhashed(&mut count)?;
        let mut digest = [0u8; 32];
        self.exact_unhashed(&mut digest)?;
        if expected.as_slice() != digest {
            return Err(BackupError::damaged(
                "its contents do not match its checksum (a byte was changed)",
            ));
        }
        let count = u64::from_be_bytes(count);
        if count != self.records {
            return Err(BackupError::damaged(format!(
                "its end marker counts {count} records, the file holds {}",
                self.records
            )));
        }
        let mut more = [0u8; 1];
        match self.inner.read(&mut more) {
            Ok(0) => {}
            Ok(_) => {
                return Err(BackupError::damaged(format!(
                    "bytes follow its end marker at byte {}",
                    self.offset
                )));
            }
            Err(e) => return Err(BackupError::io("cannot read the backup")(e)),
        }
        self.summary.bytes = self.offset;
        self.done = true;
        Ok(())
    }

    /// What was read so far (all of it once [`BackupReader::next_record`] gave `None`).
    pub fn summary(&self) -> &BackupSummary {
        &self.summary
    }

    /// Reads the whole file, checking it; its header and what it holds.
    pub fn verify(mut self) -> Result<(Header, BackupSummary), BackupError> {
        while self.next_record()?.is_some() {}
        Ok((self.header, self.summary))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    const HEADER: Header = Header {
        created_at_ms: 1_700_000_000_000,
        next_id: 4_242,
    };

    fn sample() -> (Vec<u8>, Vec<Record>) {
        let records = vec![
            Record::Tree(b"meta".to_vec()),
            Record::Entry {
                key: vec![1, 2, 3],
                value: b"{\"json\":true}".to_vec(),
            },
            Record::Entry {
                key: Vec::new(),
                value: Vec::new(),
            },
            Record::Tree(b"chunks".to_vec()),
            Record::Entry {
                key: vec![0; 24],
                value: vec![7; 3_000],
            },
            Record::File {
                name: "admin-token".into(),
                contents: b"secret\n".to_vec(),
            },
        ];
        let mut out = Vec::new();
        let mut writer = BackupWriter::new(&mut out, HEADER).unwrap();
        for record in &records {
            match record {
                Record::Tree(name) => writer.tree(name).unwrap(),
                Record::Entry { key, value } => writer.entry(key, value).unwrap(),
                Record::File { name, contents } => writer.file(name, contents).unwrap(),
            }
        }
        let summary = writer.finish().unwrap();
        assert_eq!(summary.bytes, out.len() as u64);
        assert_eq!((summary.trees, summary.entries), (2, 3));
        (out, records)
    }

    fn read_all(bytes: &[u8]) -> Result<(Header, Vec<Record>, BackupSummary), BackupError> {
        let mut reader = BackupReader::new(bytes)?;
        let mut records = Vec::new();
        while let Some(record) = reader.next_record()? {
            records.push(record);
        }
        Ok((reader.header(), records, reader.summary().clone()))
    }

    #[test]
    fn a_backup_reads_back_as_written() {
        let (bytes, written) = sample();
        assert!(bytes.starts_with(&MAGIC));
        let (header, read, summary) = read_all(&bytes).unwrap();
        assert_eq!(header, HEADER);
        assert_eq!(read, written);
        assert_eq!(summary.files, ["admin-token"]);
        assert_eq!(summary.bytes, bytes.len() as u64);
        let (_, verified) = BackupReader::new(&bytes[..]).unwrap().verify().unwrap();
        assert_eq!(verified, summary);
    }

    #[test]
    fn every_truncation_is_refused() {
        let (bytes, _) = sample();
        for len in 0..bytes.len() {
            let err = read_all(&bytes[..len]).unwrap_err();
            let expected = if len < MAGIC.len() {
                matches!(err, BackupError::NotABackup)
            } else {
                matches!(err, BackupError::Truncated { .. })
            };
            assert!(expected, "cut at {len}: {err}");
        }
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let (bytes, _) = sample();
        // Every byte, one bit each (a different bit per position), and every bit of the
        // header and the first record.
        let flips = (0..bytes.len())
            .map(|i| (i, 1u8 << (i % 8)))
            .chain((0..60).flat_map(|i| (0..8).map(move |b| (i, 1u8 << b))));
        for (i, bit) in flips {
            let mut damaged = bytes.clone();
            damaged[i] ^= bit;
            let err = read_all(&damaged).unwrap_err();
            assert!(
                matches!(
                    err,
                    BackupError::Damaged { .. }
                        | BackupError::Truncated { .. }
                        | BackupError::NotABackup
                        | BackupError::NewerVersion { .. }
                ),
                "byte {i} bit {bit:#x}: {err}"
            );
        }
    }

    #[test]
    fn bytes_after_the_end_and_unknown_versions_are_refused() {
        let (mut bytes, _) = sample();
        let mut newer = bytes.clone();
        newer[MAGIC.len() + 1] = 2;
        assert!(matches!(
            read_all(&newer),
            Err(BackupError::NewerVersion { found: 2, .. })
        ));
        bytes.push(0);
        let err = read_all(&bytes).unwrap_err();
        assert!(err.to_string().contains("follow its end marker"), "{err}");
    }

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        let mut writer = BackupWriter::new(Vec::new(), HEADER).unwrap();
        for name in ["../x", "a/b", ".hidden", "", "tab\tname"] {
            assert!(writer.file(name, b"").is_err(), "{name:?}");
        }
        assert!(writer.entry(b"k", b"v").is_err(), "an entry needs a tree");
    }
}
