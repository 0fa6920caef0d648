//! Decoding documents for requests (`Documents.Create`, `Get`, `History`, Insight) within
//! limits. Bytes are measured first (`nic_sync::inspect`): beyond the document limits they
//! are refused before Automerge sees them. A decoded document then holds its estimated
//! memory from one budget until the request is done, so concurrent requests on large
//! documents take turns (first come, first served) instead of all decoding at once; when
//! too many are already waiting, the next is refused with `RESOURCE_EXHAUSTED`.
//!
//! Called on blocking threads (waiting for the budget blocks).

use std::sync::{Condvar, Mutex};

use nic_model::{DocMeta, DocumentId};
use nic_store::{Store, StoreError};
use nic_sync::automerge::Automerge;
use nic_sync::inspect::{self, InspectError, Limit, Limits, Measure};

use crate::status::ApiError;

/// Requests that may wait for the budget at once; the next is refused.
const MAX_WAITING: usize = 64;

/// Estimated memory of a request on a decoded document, from what it measures. Measured on
/// a hub (`crates/nic-load/examples/bombs.rs`), `History` of a document of 990,000 map
/// operations peaked at some 420 MiB (about 450 bytes per operation, with the rebuilt
/// changes), and of a 16 MB string at some 77 MiB (the decompressed bytes several times
/// over: columns, value, rebuilt change, response).
pub fn estimate(m: &Measure) -> u64 {
    m.bytes
        .saturating_mul(6)
        .saturating_add(m.ops.saturating_mul(450))
}

/// The document limits and the memory budget of requests.
pub struct DocLoads {
    limits: Limits,
    budget: Budget,
}

/// A decoded document and its share of the budget (given back when dropped).
pub(crate) struct Loaded<'a> {
    pub(crate) doc: Automerge,
    _share: Share<'a>,
}

impl DocLoads {
    /// Loads under `limits`, with `memory` bytes shared by all requests.
    pub fn new(limits: Limits, memory: u64) -> Self {
        Self {
            limits,
            budget: Budget::new(memory),
        }
    }

    /// Decodes a client's document bytes (`what` names the field), refused beyond the limits.
    pub(crate) fn decode(&self, what: &str, bytes: &[u8]) -> Result<Loaded<'_>, ApiError> {
        let measure = inspect::inspect(bytes, &self.limits).map_err(|e| match e {
            InspectError::TooLarge { limit, .. } => ApiError::ResourceExhausted(format!(
                "{what} is too large for this hub: {e} ({}); split it or ask the hub's operator",
                setting(limit)
            )),
            InspectError::Malformed(_) => {
                ApiError::BadRequest(format!("{what} is not an Automerge document: {e}"))
            }
        })?;
        let share = self.budget.take(estimate(&measure))?;
        let doc = client_bytes(what, || Automerge::load(bytes))?;
        Ok(Loaded { doc, _share: share })
    }

    /// Loads a stored document: its metadata and content.
    pub(crate) fn load(
        &self,
        store: &dyn Store,
        id: DocumentId,
    ) -> Result<(DocMeta, Loaded<'_>), ApiError> {
        let stored = store.load(&id)?.ok_or(ApiError::NotFound(id))?;
        let corrupt =
            |reason: String| ApiError::Store(StoreError::CorruptChunk { doc: id, reason });
        let mut measure = Measure::default();
        for chunk in &stored.chunks {
            measure = inspect::inspect_more(measure, chunk, &self.limits).map_err(|e| match e {
                InspectError::TooLarge { limit, .. } => ApiError::ResourceExhausted(format!(
                    "document {id} is too large to open on this hub: {e} ({}); the hub's operator can raise it",
                    setting(limit)
                )),
                InspectError::Malformed(_) => corrupt(e.to_string()),
            })?;
        }
        let share = self.budget.take(estimate(&measure))?;
        let doc = Automerge::load(&stored.concatenated()).map_err(|e| corrupt(e.to_string()))?;
        Ok((stored.meta, Loaded { doc, _share: share }))
    }
}

/// The hub setting behind a limit, for messages.
pub(crate) fn setting(limit: Limit) -> &'static str {
    match limit {
        Limit::Bytes => "max-doc-bytes",
        Limit::Ops | Limit::Changes => "max-doc-ops",
    }
}

/// Bytes of memory handed out first come, first served.
struct Budget {
    capacity: u64,
    state: Mutex<Queue>,
    turn: Condvar,
}

#[derive(Default)]
struct Queue {
    in_use: u64,
    /// Tickets handed out, and the ticket whose turn it is.
    next: u64,
    serving: u64,
}

/// A share of the budget, given back when dropped.
pub(crate) struct Share<'a> {
    budget: &'a Budget,
    amount: u64,
}

impl Budget {
    fn new(capacity: u64) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(Queue::default()),
            turn: Condvar::new(),
        }
    }

    /// Waits for `amount` (at most the whole budget: a larger document decodes alone).
    fn take(&self, amount: u64) -> Result<Share<'_>, ApiError> {
        let amount = amount.min(self.capacity);
        let mut q = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let waiting = usize::try_from(q.next - q.serving).unwrap_or(usize::MAX);
        if waiting > MAX_WAITING {
            return Err(ApiError::Busy(format!(
                "the hub is busy opening large documents ({waiting} requests waiting); try again shortly"
            )));
        }
        let ticket = q.next;
        q.next += 1;
        while q.serving != ticket || q.in_use + amount > self.capacity {
            q = self.turn.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        q.serving += 1;
        q.in_use += amount;
        drop(q);
        // The next in line may fit too.
        self.turn.notify_all();
        Ok(Share {
            budget: self,
            amount,
        })
    }

    #[cfg(test)]
    fn waiting(&self) -> u64 {
        let q = self.state.lock().unwrap_or_else(|p| p.into_inner());
        q.next - q.serving
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        let mut q = self.budget.state.lock().unwrap_or_else(|p| p.into_inner());
        q.in_use -= self.amount;
        drop(q);
        self.budget.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins (without sleeping) until `n` requests wait.
    fn until_waiting(budget: &Budget, n: u64) {
        while budget.waiting() != n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_request_waits_until_the_memory_it_needs_is_given_back() {
        let budget = Budget::new(100);
        let first = budget.take(60).unwrap();
        let small = budget.take(40).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _third = budget.take(50).unwrap();
                tx.send(()).unwrap();
            });
            until_waiting(&budget, 1);
            drop(small);
            // 60 + 50 > 100: still waiting.
            assert!(rx.try_recv().is_err());
            drop(first);
            rx.recv().unwrap();
        });
        // A document larger than the whole budget still opens, alone.
        let whole = budget.take(1_000).unwrap();
        assert_eq!(whole.amount, 100);
    }

    #[test]
    fn requests_are_served_in_order_and_a_long_queue_is_refused() {
        let budget = Budget::new(10);
        let held = budget.take(10).unwrap();
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for i in 0..=MAX_WAITING as u64 {
                let (budget, order) = (&budget, &order);
                s.spawn(move || {
                    let _share = budget.take(10).unwrap();
                    order.lock().unwrap().push(i);
                });
                // Queue them in a known order.
                until_waiting(budget, i + 1);
            }
            let refused = budget.take(1).err().map(|e| e.to_string());
            assert!(refused.is_some_and(|e| e.contains("busy")));
            drop(held);
        });
        let order = order.into_inner().unwrap();
        assert_eq!(order, (0..=MAX_WAITING as u64).collect::<Vec<_>>());
    }

    #[test]
    fn bytes_beyond_the_limits_are_refused_before_decoding_naming_the_setting() {
        let loads = DocLoads::new(
            Limits {
                max_ops: 2,
                ..Limits::DEFAULT
            },
            1 << 20,
        );
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        for i in 0..3 {
            nic_sync::automerge::transaction::Transactable::put(
                &mut tx,
                nic_sync::automerge::ROOT,
                format!("k{i}"),
                i,
            )
            .unwrap();
        }
        tx.commit();
        let refused = loads
            .decode("initial", &doc.save())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some(
                "initial is too large for this hub: at least 3 operations, more than the limit of 2 (max-doc-ops); split it or ask the hub's operator"
            )
        );
        let garbage = loads
            .decode("initial", b"nope")
            .err()
            .map(|e| e.to_string());
        assert!(garbage.is_some_and(|e| e.contains("not an Automerge document")));
    }
}

/// Decodes bytes a client sent with `load`. Automerge's decoder is written for documents
/// Automerge wrote; should it panic on a crafted one, that is the client's bad input
/// (INVALID_ARGUMENT, saying so), not an internal error of the hub.
fn client_bytes<T>(
    what: &str,
    load: impl FnOnce() -> Result<T, nic_sync::automerge::AutomergeError>,
) -> Result<T, ApiError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!(
            "{what} is not an Automerge document: {e}"
        ))),
        Err(_) => {
            tracing::warn!(target: "security", event = "decoder_panic", what, "Automerge's decoder panicked on bytes a client sent");
            Err(ApiError::BadRequest(format!(
                "{what} could not be read: Automerge's decoder failed on it, so it is not a \
                 document Automerge wrote; send the bytes of Automerge's save()"
            )))
        }
    }
}

#[cfg(test)]
mod client_bytes_tests {
    use super::*;

    #[test]
    fn a_decoder_panic_on_client_bytes_is_their_bad_input() {
        let found = client_bytes::<()>("initial", || panic!("a decoder bug"));
        match found {
            Err(ApiError::BadRequest(message)) => {
                assert!(
                    message.starts_with("initial could not be read"),
                    "{message}"
                );
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
        assert!(matches!(
            client_bytes::<()>("initial", || Err(nic_sync::automerge::AutomergeError::Fail)),
            Err(ApiError::BadRequest(_))
        ));
    }
}
