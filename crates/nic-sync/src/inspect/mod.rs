//! Measuring Automerge bytes before anything decodes them.
//!
//! Automerge's storage format is small on the wire and can be enormous in memory: a change
//! chunk may be deflate-compressed (chunk type 2), a document's columns may be too (column
//! spec bit `0x08`), and a run-length encoded column describes millions of operations in a
//! few bytes. A peer's bytes are therefore measured here first — their size once
//! decompressed, and how many operations and changes their columns decode to — and loaded
//! only if they fit the [`Limits`].
//!
//! The inspector walks the chunk headers and column metadata (format: "Automerge binary
//! format", <https://automerge.org/automerge-binary-format-spec/>), streams deflate output
//! through a counting reader that stops at the byte limit, and sums run lengths without
//! materialising a single row. It keeps none of what it reads and allocates nothing in
//! proportion to a size the bytes claim; it stops at the first limit exceeded. It does not
//! validate everything Automerge does (checksums, op semantics): bytes it accepts may still
//! fail to load, but bytes it refuses would have cost more than the limits allow.

mod columns;

use std::cell::Cell;

use columns::{Capped, In, RowCap};

/// How large a document (or the changes of one message) may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes once every compressed part is decompressed.
    pub max_bytes: u64,
    /// Most operations the columns decode to.
    pub max_ops: u64,
    /// Most changes (change chunks, or rows of a document's change columns).
    pub max_changes: u64,
}

impl Limits {
    /// Defaults generous for a networked improvement community's documents: 16 MiB
    /// decompressed, 250,000 operations, as many changes. A year of weekly data for a few
    /// hundred students is some 10⁵ operations; reading the history of 250,000 takes some
    /// 110 MB on a hub (about 450 bytes per operation), which bounds what one request costs.
    pub const DEFAULT: Limits = Limits {
        max_bytes: 16 * 1024 * 1024,
        max_ops: 250_000,
        max_changes: 250_000,
    };

    /// No limit at all (for callers that only want to measure).
    pub const NONE: Limits = Limits {
        max_bytes: u64::MAX,
        max_ops: u64::MAX,
        max_changes: u64::MAX,
    };

    /// Whether a measure fits these limits; the first limit it exceeds if not.
    pub fn check(&self, m: &Measure) -> Result<(), InspectError> {
        for (limit, value, max) in [
            (Limit::Bytes, m.bytes, self.max_bytes),
            (Limit::Ops, m.ops, self.max_ops),
            (Limit::Changes, m.changes, self.max_changes),
        ] {
            if value > max {
                return Err(InspectError::TooLarge { limit, value, max });
            }
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What Automerge bytes amount to once decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Bytes once every compressed part is decompressed (chunk headers included).
    pub bytes: u64,
    /// Operations the columns decode to.
    pub ops: u64,
    /// Changes.
    pub changes: u64,
}

impl Measure {
    /// Both measures together (saturating).
    pub fn plus(&self, other: &Measure) -> Measure {
        Measure {
            bytes: self.bytes.saturating_add(other.bytes),
            ops: self.ops.saturating_add(other.ops),
            changes: self.changes.saturating_add(other.changes),
        }
    }
}

/// Which limit bytes exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_bytes`].
    Bytes,
    /// [`Limits::max_ops`].
    Ops,
    /// [`Limits::max_changes`].
    Changes,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::Bytes => "bytes once decompressed",
            Limit::Ops => "operations",
            Limit::Changes => "changes",
        })
    }
}

/// Why bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// A limit is exceeded (`value` is how far the count had got when it was: at least that).
    #[error("at least {value} {limit}, more than the limit of {max}")]
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// The count, at least.
        value: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes are not Automerge storage chunks.
    #[error("not Automerge storage bytes: {0}")]
    Malformed(&'static str),
}

/// Measures `bytes` — documents, changes, compressed changes or bundles, concatenated in any
/// order — and refuses them as soon as they exceed `limits`.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Measure, InspectError> {
    inspect_more(Measure::default(), bytes, limits)
}

/// Like [`inspect`] for bytes added to what `base` measured (a document growing by changes):
/// the total must fit `limits`, and is returned.
pub fn inspect_more(base: Measure, bytes: &[u8], limits: &Limits) -> Result<Measure, InspectError> {
    limits.check(&base)?;
    let budget = Budget {
        limits: *limits,
        bytes: Cell::new(base.bytes),
        ops: Cell::new(base.ops),
        changes: Cell::new(base.changes),
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        let (kind, header_len, body) = header(rest)?;
        budget.add_bytes(to_u64(header_len))?;
        match kind {
            0 => {
                budget.add_bytes(to_u64(body.len()))?;
                document(body, &budget)?;
            }
            1 => {
                budget.add_bytes(to_u64(body.len()))?;
                budget.add_changes(1)?;
                let mut slice = body;
                change(&mut In::slice(&mut slice), &budget)?;
            }
            2 => {
                // Counted as it inflates, and only that far.
                budget.add_changes(1)?;
                let mut inflated = Capped::new(flate2::read::DeflateDecoder::new(body), &budget);
                change(&mut In::new(&mut inflated), &budget)?;
            }
            3 => {
                budget.add_bytes(to_u64(body.len()))?;
                bundle(body, &budget)?;
            }
            _ => return Err(InspectError::Malformed("unknown chunk type")),
        }
        rest = &rest[header_len + body.len()..];
    }
    Ok(budget.measure())
}

/// The counts so far, checked against the limits as they grow.
pub(crate) struct Budget {
    limits: Limits,
    bytes: Cell<u64>,
    ops: Cell<u64>,
    changes: Cell<u64>,
}

impl Budget {
    fn measure(&self) -> Measure {
        Measure {
            bytes: self.bytes.get(),
            ops: self.ops.get(),
            changes: self.changes.get(),
        }
    }

    pub(crate) fn add_bytes(&self, n: u64) -> Result<(), InspectError> {
        let value = self.bytes.get().saturating_add(n);
        self.bytes.set(value);
        bounded(Limit::Bytes, value, self.limits.max_bytes)
    }

    /// Takes back bytes counted in their compressed form (they are counted again inflated).
    pub(crate) fn remove_bytes(&self, n: u64) {
        self.bytes.set(self.bytes.get().saturating_sub(n));
    }

    fn add_changes(&self, n: u64) -> Result<(), InspectError> {
        let value = self.changes.get().saturating_add(n);
        self.changes.set(value);
        bounded(Limit::Changes, value, self.limits.max_changes)
    }

    fn add_ops(&self, n: u64) -> Result<(), InspectError> {
        let value = self.ops.get().saturating_add(n);
        self.ops.set(value);
        bounded(Limit::Ops, value, self.limits.max_ops)
    }

    fn op_rows(&self) -> RowCap {
        RowCap::new(Limit::Ops, self.ops.get(), self.limits.max_ops)
    }

    fn change_rows(&self) -> RowCap {
        RowCap::new(Limit::Changes, self.changes.get(), self.limits.max_changes)
    }
}

fn bounded(limit: Limit, value: u64, max: u64) -> Result<(), InspectError> {
    if value > max {
        Err(InspectError::TooLarge { limit, value, max })
    } else {
        Ok(())
    }
}

/// The four bytes every Automerge chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// A chunk's type, header length and body.
fn header(bytes: &[u8]) -> Result<(u8, usize, &[u8]), InspectError> {
    // magic (4) + checksum (4) + type (1), then the body length as unsigned LEB128.
    if bytes.len() < 9 || bytes[..4] != MAGIC {
        return Err(InspectError::Malformed("no chunk header"));
    }
    let mut rest = &bytes[9..];
    let mut r = In::new(&mut rest);
    let len = r.uleb()?;
    let header_len = 9 + usize::try_from(r.pos).unwrap_or(usize::MAX);
    let body = usize::try_from(len)
        .ok()
        .and_then(|len| bytes.get(header_len..header_len.checked_add(len)?))
        .ok_or(InspectError::Malformed("a chunk is longer than the bytes"))?;
    Ok((bytes[8], header_len, body))
}

/// A document chunk's body: actors, heads, column metadata, change columns, op columns,
/// head indexes.
fn document(mut body: &[u8], budget: &Budget) -> Result<(), InspectError> {
    let r = &mut In::slice(&mut body);
    skip_actors(r)?;
    skip_hashes(r)?;
    let change_cols = columns::specs(r)?;
    let op_cols = columns::specs(r)?;
    let changes = columns::data(r, &change_cols, budget, budget.change_rows(), true)?;
    budget.add_changes(changes)?;
    let ops = columns::data(r, &op_cols, budget, budget.op_rows(), true)?;
    budget.add_ops(ops)?;
    r.drain()?;
    Ok(())
}

/// A change chunk's body (inflated if it was compressed): dependencies, actor, seq, start op,
/// time, message, other actors, op columns, extra bytes.
fn change(r: &mut In<'_>, budget: &Budget) -> Result<(), InspectError> {
    skip_hashes(r)?;
    skip_bytes(r)?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    skip_bytes(r)?; // message
    skip_actors(r)?;
    let op_cols = columns::specs(r)?;
    // Automerge refuses compressed columns inside a change.
    let ops = columns::data(r, &op_cols, budget, budget.op_rows(), false)?;
    budget.add_ops(ops)?;
    r.drain()?;
    Ok(())
}

/// A bundle chunk's body: dependencies, actors, change columns, op columns.
fn bundle(mut body: &[u8], budget: &Budget) -> Result<(), InspectError> {
    let r = &mut In::slice(&mut body);
    skip_hashes(r)?;
    skip_actors(r)?;
    let change_cols = columns::specs(r)?;
    let changes = columns::data(r, &change_cols, budget, budget.change_rows(), true)?;
    budget.add_changes(changes)?;
    let op_cols = columns::specs(r)?;
    let ops = columns::data(r, &op_cols, budget, budget.op_rows(), true)?;
    budget.add_ops(ops)?;
    r.drain()?;
    Ok(())
}

/// A count, then that many 32-byte hashes.
fn skip_hashes(r: &mut In<'_>) -> Result<(), InspectError> {
    let n = r.uleb()?;
    for _ in 0..n {
        r.skip(32)?;
    }
    Ok(())
}

/// A count, then that many length-prefixed actor ids.
fn skip_actors(r: &mut In<'_>) -> Result<(), InspectError> {
    let n = r.uleb()?;
    for _ in 0..n {
        skip_bytes(r)?;
    }
    Ok(())
}

/// A length, then that many bytes.
fn skip_bytes(r: &mut In<'_>) -> Result<(), InspectError> {
    let len = r.uleb()?;
    r.skip(len)
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
