//! Document limits on a hub (see [`crate::inspect`]): what a stored document, a created one
//! and the changes of one sync message may amount to, measured before Automerge decodes them.

use automerge::Automerge;
use nic_model::DocumentId;

use crate::ErrorCode;
use crate::inspect::{self, InspectError, Limits, Measure};

/// Most hash probes a peer's Bloom filter may ask for (Automerge uses 7), and most bits per
/// entry (Automerge uses 10). Automerge allocates the probes of every hash it checks
/// against the filter: a filter claiming four billion would take 16 GB per check, and one
/// without bits divides by zero.
const MAX_BLOOM_PROBES: u64 = 32;
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;

/// What is wrong with a peer's Bloom filter, if anything.
pub(super) fn bloom_problem(bloom: &automerge::sync::BloomFilter) -> Option<String> {
    let bytes = bloom.to_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut rest = bytes.as_slice();
    let mut next = || {
        let (value, len) = crate::chunks::uleb128(rest)?;
        rest = &rest[len..];
        Some(value)
    };
    let (Some(_entries), Some(bits), Some(probes)) = (next(), next(), next()) else {
        return Some("its header does not parse".into());
    };
    if !(1..=MAX_BLOOM_PROBES).contains(&probes) {
        return Some(format!(
            "it asks for {probes} probes per hash; 1 to {MAX_BLOOM_PROBES} are accepted"
        ));
    }
    if !(1..=MAX_BLOOM_BITS_PER_ENTRY).contains(&bits) {
        return Some(format!(
            "it has {bits} bits per entry; 1 to {MAX_BLOOM_BITS_PER_ENTRY} are accepted"
        ));
    }
    None
}

/// Why a stored document is not loaded.
pub(super) enum Unloadable {
    /// It exceeds the limits.
    Limit(ErrorCode, String),
    /// It does not decode.
    Corrupt(String),
}

/// What a stored document's chunks hold; refused beyond the limits, before it is loaded.
pub(super) fn measure_stored(
    limits: Option<&Limits>,
    doc: DocumentId,
    chunks: &[Vec<u8>],
) -> Result<Measure, Unloadable> {
    let Some(limits) = limits else {
        return Ok(Measure::default());
    };
    let mut measure = Measure::default();
    for chunk in chunks {
        measure = inspect::inspect_more(measure, chunk, limits).map_err(|e| match e {
            InspectError::TooLarge { .. } => Unloadable::Limit(
                ErrorCode::ResourceExhausted,
                format!(
                    "document {doc} is too large to load: {e}; the hub's document limits must be raised to open it"
                ),
            ),
            InspectError::Malformed(_) => Unloadable::Corrupt(e.to_string()),
        })?;
    }
    Ok(measure)
}

/// What a document created here holds (only measured when there are limits to keep).
pub(super) fn measure_created(limits: Option<&Limits>, doc: &Automerge) -> Measure {
    limits
        .and_then(|_| inspect::inspect(&doc.save(), &Limits::NONE).ok())
        .unwrap_or_default()
}

/// Running totals of one sync message's changes, checked as each piece is measured.
pub(super) struct MessageBudget<'a> {
    limits: Option<&'a Limits>,
    pub(super) doc: DocumentId,
    /// Every piece of the message.
    all: Measure,
    /// The document with the pieces it lacks.
    pub(super) grown: Measure,
}

impl<'a> MessageBudget<'a> {
    pub(super) fn new(limits: Option<&'a Limits>, doc: DocumentId, base: Measure) -> Self {
        Self {
            limits,
            doc,
            all: Measure::default(),
            grown: base,
        }
    }

    /// Measures one piece (a change, or a whole document) before anything decodes it.
    pub(super) fn measure(&mut self, piece: &[u8]) -> Result<Measure, (ErrorCode, String)> {
        let Some(limits) = self.limits else {
            return Ok(Measure::default());
        };
        let doc = self.doc;
        let refused = |e: InspectError| match e {
            InspectError::TooLarge { .. } => (
                ErrorCode::ResourceExhausted,
                format!(
                    "sync message for document {doc} carries changes too large for this hub: {e}; nothing was stored"
                ),
            ),
            InspectError::Malformed(_) => (
                ErrorCode::InvalidArgument,
                format!("sync message for document {doc} carries a malformed change: {e}"),
            ),
        };
        let m = inspect::inspect(piece, limits).map_err(refused)?;
        self.all = self.all.plus(&m);
        limits.check(&self.all).map_err(refused)?;
        Ok(m)
    }

    /// Counts a measured piece the document lacks: the document must still fit.
    pub(super) fn grow(&mut self, m: &Measure) -> Result<(), (ErrorCode, String)> {
        let Some(limits) = self.limits else {
            return Ok(());
        };
        self.grown = self.grown.plus(m);
        let doc = self.doc;
        limits.check(&self.grown).map_err(|e| {
            (
                ErrorCode::ResourceExhausted,
                format!(
                    "document {doc} would grow beyond this hub's limits with these changes: {e}; nothing was stored"
                ),
            )
        })
    }
}
