//! Reading chunk bodies as streams: LEB128 numbers, column metadata, run lengths, and
//! deflate output counted against the byte limit as it comes.

use std::cmp::Ordering;
use std::io::{self, Read};

use super::{Budget, InspectError, Limit};

/// Most columns one chunk may declare; Automerge writes about twenty. Keeps the list of
/// column metadata (the one thing the inspector holds) small whatever the bytes claim.
const MAX_COLUMNS: u64 = 1024;

const TRUNCATED: InspectError = InspectError::Malformed("the bytes end early");

/// A byte stream with a count of what has been read from it.
pub(super) struct In<'a> {
    r: &'a mut dyn Read,
    /// Bytes read so far.
    pub(super) pos: u64,
    /// The stream's length, when known (a slice).
    size: Option<u64>,
}

impl Read for In<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.pos += u64::try_from(n).unwrap_or(u64::MAX);
        Ok(n)
    }
}

impl<'a> In<'a> {
    /// A stream of unknown length.
    pub(super) fn new(r: &'a mut dyn Read) -> Self {
        Self {
            r,
            pos: 0,
            size: None,
        }
    }

    /// A slice, whose length is known.
    pub(super) fn slice(bytes: &'a mut &[u8]) -> Self {
        let size = Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        Self {
            r: bytes,
            pos: 0,
            size,
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, InspectError> {
        let mut b = [0u8; 1];
        match self.read(&mut b) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(b[0])),
            Err(e) => Err(from_io(e)),
        }
    }

    /// An unsigned LEB128 number, or `None` at the end of the stream.
    fn uleb_or_end(&mut self) -> Result<Option<u64>, InspectError> {
        let mut value = 0u64;
        for i in 0..10u32 {
            let Some(b) = self.byte()? else {
                return if i == 0 { Ok(None) } else { Err(TRUNCATED) };
            };
            let low = u64::from(b & 0x7f);
            if i == 9 && low > 1 {
                return Err(InspectError::Malformed("a number overflows 64 bits"));
            }
            value |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(Some(value));
            }
        }
        Err(InspectError::Malformed("a number overflows 64 bits"))
    }

    /// A signed LEB128 number, or `None` at the end of the stream.
    fn sleb_or_end(&mut self) -> Result<Option<i64>, InspectError> {
        let mut value = 0i64;
        for i in 0..10u32 {
            let Some(b) = self.byte()? else {
                return if i == 0 { Ok(None) } else { Err(TRUNCATED) };
            };
            let shift = 7 * i;
            value |= i64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift + 7 < 64 && b & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(Some(value));
            }
        }
        Err(InspectError::Malformed("a number overflows 64 bits"))
    }

    /// An unsigned LEB128 number.
    pub(super) fn uleb(&mut self) -> Result<u64, InspectError> {
        self.uleb_or_end()?.ok_or(TRUNCATED)
    }

    /// A signed LEB128 number.
    pub(super) fn sleb(&mut self) -> Result<i64, InspectError> {
        self.sleb_or_end()?.ok_or(TRUNCATED)
    }

    /// Reads past `n` bytes, which must be there.
    pub(super) fn skip(&mut self, n: u64) -> Result<(), InspectError> {
        let copied = io::copy(&mut self.take(n), &mut io::sink()).map_err(from_io)?;
        if copied < n { Err(TRUNCATED) } else { Ok(()) }
    }

    /// Reads to the end of the stream.
    pub(super) fn drain(&mut self) -> Result<(), InspectError> {
        io::copy(self, &mut io::sink()).map_err(from_io)?;
        Ok(())
    }

    fn remaining(&self) -> Option<u64> {
        self.size.map(|s| s.saturating_sub(self.pos))
    }
}

/// Deflate output, each byte counted against the byte limit: inflating stops at the limit.
pub(super) struct Capped<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<'b, R: Read> Capped<'b, R> {
    pub(super) fn new(inner: R, budget: &'b Budget) -> Self {
        Self { inner, budget }
    }
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget
            .add_bytes(u64::try_from(n).unwrap_or(u64::MAX))
            .map_err(io::Error::other)?;
        Ok(n)
    }
}

/// A limit exceeded inside a reader comes back as itself; anything else is bad deflate data.
fn from_io(e: io::Error) -> InspectError {
    match e.into_inner().map(|inner| inner.downcast::<InspectError>()) {
        Some(Ok(limit)) => *limit,
        _ => InspectError::Malformed("compressed data is corrupt"),
    }
}

/// The most rows a group of columns may decode to, counting what came before.
#[derive(Clone, Copy)]
pub(super) struct RowCap {
    limit: Limit,
    base: u64,
    max: u64,
}

impl RowCap {
    pub(super) fn new(limit: Limit, base: u64, max: u64) -> Self {
        Self { limit, base, max }
    }

    fn check(&self, rows: u64) -> Result<(), InspectError> {
        let value = self.base.saturating_add(rows);
        if value > self.max {
            Err(InspectError::TooLarge {
                limit: self.limit,
                value,
                max: self.max,
            })
        } else {
            Ok(())
        }
    }
}

/// Column metadata: a count, then each column's spec and data length.
pub(super) fn specs(r: &mut In<'_>) -> Result<Vec<(u32, u64)>, InspectError> {
    let n = r.uleb()?;
    if n > MAX_COLUMNS {
        return Err(InspectError::Malformed("too many columns"));
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let spec = u32::try_from(r.uleb()?)
            .map_err(|_| InspectError::Malformed("a column spec is out of range"))?;
        out.push((spec, r.uleb()?));
    }
    Ok(out)
}

/// Reads the data of `cols`, in order, and returns the most rows any of them decodes to.
/// Deflated columns (spec bit `0x08`) are inflated through the byte limit; `deflate: false`
/// refuses them (Automerge does, inside a change).
pub(super) fn data(
    r: &mut In<'_>,
    cols: &[(u32, u64)],
    budget: &Budget,
    cap: RowCap,
    deflate: bool,
) -> Result<u64, InspectError> {
    let total = cols
        .iter()
        .fold(0u64, |sum, (_, len)| sum.saturating_add(*len));
    if r.remaining().is_some_and(|left| total > left) {
        return Err(InspectError::Malformed(
            "columns are longer than their chunk",
        ));
    }
    let mut most = 0;
    for &(spec, len) in cols {
        let ty = spec & 0x07;
        let start = r.pos;
        let mut region = (&mut *r).take(len);
        let rows = if spec & 0x08 != 0 {
            if !deflate {
                return Err(InspectError::Malformed("a change's columns are compressed"));
            }
            // Counted inflated instead.
            budget.remove_bytes(len);
            let mut inflated = Capped::new(flate2::read::DeflateDecoder::new(&mut region), budget);
            let rows = rows(&mut In::new(&mut inflated), ty, cap)?;
            io::copy(&mut region, &mut io::sink()).map_err(from_io)?;
            rows
        } else {
            rows(&mut In::new(&mut region), ty, cap)?
        };
        if r.pos - start != len {
            return Err(TRUNCATED);
        }
        most = most.max(rows);
    }
    Ok(most)
}

/// How many rows one column's data decodes to, by its type (spec bits 0–2).
fn rows(col: &mut In<'_>, ty: u32, cap: RowCap) -> Result<u64, InspectError> {
    match ty {
        // Raw values: their lengths are in the value-metadata column.
        7 => {
            col.drain()?;
            Ok(0)
        }
        // Boolean: run lengths, alternately false and true.
        4 => {
            let mut rows = 0u64;
            while let Some(n) = col.uleb_or_end()? {
                rows = rows.saturating_add(n);
                cap.check(rows)?;
            }
            Ok(rows)
        }
        _ => rle(col, ty, cap),
    }
}

/// Run-length encoding: a signed count; positive, a run of that many copies of the next
/// value; negative, that many literal values; zero, a count of nulls. A group column's
/// values are how many rows its nested columns hold for each row: their sum is bounded too.
fn rle(col: &mut In<'_>, ty: u32, cap: RowCap) -> Result<u64, InspectError> {
    let group = ty == 0;
    let (mut rows, mut nested) = (0u64, 0u64);
    while let Some(n) = col.sleb_or_end()? {
        let count = match n.cmp(&0) {
            Ordering::Equal => col.uleb()?,
            _ => n.unsigned_abs(),
        };
        rows = rows.saturating_add(count);
        cap.check(rows)?;
        match n.cmp(&0) {
            Ordering::Greater => {
                let v = value(col, ty)?;
                if group {
                    nested = nested.saturating_add(count.saturating_mul(v));
                    cap.check(nested)?;
                }
            }
            Ordering::Less => {
                for _ in 0..count {
                    let v = value(col, ty)?;
                    if group {
                        nested = nested.saturating_add(v);
                        cap.check(nested)?;
                    }
                }
            }
            Ordering::Equal => {}
        }
    }
    Ok(rows)
}

/// Reads past one value of a run-length encoded column; its number if it is unsigned.
fn value(col: &mut In<'_>, ty: u32) -> Result<u64, InspectError> {
    match ty {
        // Delta: signed.
        3 => col.sleb().map(|_| 0),
        // String: length-prefixed UTF-8.
        5 => {
            let len = col.uleb()?;
            col.skip(len).map(|()| 0)
        }
        // Group, actor, integer, value metadata: unsigned.
        _ => col.uleb(),
    }
}
