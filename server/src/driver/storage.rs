//! The storage writer: one thread that writes what the engine asks, many documents at a
//! time, with one flush per group ("group commit"), then reports what is durable.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvError};
use std::time::Instant;

use nic_model::{DocMeta, DocumentId, PeerId};
use nic_store::{Durability, Store};
use tokio::sync::mpsc::UnboundedSender;

use super::Internal;
use crate::metrics::Metrics;

/// A write for the writer thread.
pub(crate) enum Write {
    Meta(DocMeta),
    Chunk {
        doc: DocumentId,
        seq: u64,
        chunk: Vec<u8>,
    },
    SyncState {
        peer: PeerId,
        doc: DocumentId,
        state: Vec<u8>,
    },
    /// Answered once everything before it is durable.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// Most writes grouped under one flush.
const MAX_GROUP: usize = 4096;

/// Runs until every sender is gone, then returns after a last flush.
pub(crate) fn run(
    store: Arc<dyn Store>,
    rx: Receiver<Write>,
    done: UnboundedSender<Internal>,
    durability: Durability,
    metrics: Arc<Metrics>,
) {
    loop {
        let first = match rx.recv() {
            Ok(w) => w,
            Err(RecvError) => return,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(w) => group.push(w),
                Err(_) => break,
            }
        }
        let mut persisted = Vec::new();
        let mut failed = Vec::new();
        let mut barriers = Vec::new();
        let mut compact = Vec::new();
        for write in group {
            match write {
                Write::Meta(meta) => {
                    if let Err(e) = store.put_meta(&meta) {
                        tracing::error!(doc = %meta.id, error = %e, "storing metadata failed");
                    }
                }
                Write::Chunk { doc, seq, chunk } => match store.append(&doc, &chunk) {
                    Ok(outcome) => {
                        Metrics::add(&metrics.chunks_written, 1);
                        if outcome.compaction_due {
                            compact.push(doc);
                        }
                        persisted.push((doc, seq));
                    }
                    Err(e) => failed.push((doc, seq, e.to_string())),
                },
                Write::SyncState { peer, doc, state } => {
                    if let Err(e) = store.put_sync_state(&peer, &doc, &state) {
                        tracing::warn!(%peer, %doc, error = %e, "storing sync state failed");
                    }
                }
                Write::Barrier(tx) => barriers.push(tx),
            }
        }
        let started = Instant::now();
        if let Err(e) = store.flush(durability) {
            tracing::error!(error = %e, "flush failed: nothing in this group is acknowledged");
            failed.extend(
                persisted
                    .drain(..)
                    .map(|(doc, seq)| (doc, seq, e.to_string())),
            );
        }
        metrics.flushed(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        let _ = done.send(Internal::Persisted { persisted, failed });
        for tx in barriers {
            let _ = tx.send(());
        }
        // Off the acknowledgement path: compaction rewrites a document's chunks.
        for doc in compact {
            if let Err(e) = store.compact(&doc) {
                tracing::warn!(%doc, error = %e, "compaction failed");
            }
        }
    }
}
