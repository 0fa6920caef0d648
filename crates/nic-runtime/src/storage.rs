//! The runtime's storage work, as plain values an environment carries out where blocking is
//! allowed (a writer thread, the blocking pool, or inline in the simulation): [`Read`]s
//! answered with [`read`], and [`Group`]s of writes made durable by [`commit`] — one flush
//! per group, and only then are its chunks reported persisted.

use nic_model::{AuditEntry, DocMeta, DocumentId, MemberId, PeerId};
use nic_store::{Binding, ChunkSeq, Directory, Durability, Store};
use nic_sync::LoadResult;

/// The directory key under which an Automerge actor id is bound to a member.
pub fn actor_key(actor: &[u8]) -> Vec<u8> {
    let mut key = b"actor:".to_vec();
    key.extend_from_slice(actor);
    key
}

/// A read the engine is waiting for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// A document's metadata and chunks (and, on a replica, its ack record).
    Doc(DocumentId),
    /// The sync state kept for a peer and document.
    SyncState(PeerId, DocumentId),
    /// On a hub sharing its database: chunks of a document another hub stored (`None`:
    /// every chunk, after notifications may have been missed).
    Stored(DocumentId, Option<Vec<ChunkSeq>>),
}

/// The answer to a [`Read`], to hand back to the runtime.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadDone {
    /// A document read.
    Doc {
        /// The document.
        doc: DocumentId,
        /// What the store had.
        result: LoadResult,
        /// The replica's record of the hub's last ack (see `replica.rs`), if any.
        acked: Option<Vec<u8>>,
    },
    /// A sync state read; `None` when absent or unreadable (it is only a cache).
    SyncState {
        /// The peer.
        peer: PeerId,
        /// The document.
        doc: DocumentId,
        /// `automerge::sync::State::encode` bytes.
        state: Option<Vec<u8>>,
    },
    /// Chunks another hub stored, or why they could not be read.
    Stored {
        /// The document.
        doc: DocumentId,
        /// Whether these are all the document's chunks (not only those told of).
        whole: bool,
        /// The chunks, in order.
        result: Result<Vec<Vec<u8>>, String>,
    },
}

/// Answers a read. Blocking: call it where blocking is allowed. `ack_record_peer` is the
/// pseudo-peer under which a replica keeps its ack records (`None` on a hub).
pub fn read(store: &dyn Store, read: Read, ack_record_peer: Option<&PeerId>) -> ReadDone {
    match read {
        Read::Doc(doc) => {
            let result = match store.load(&doc) {
                Ok(Some(stored)) => LoadResult::Found {
                    meta: Some(stored.meta),
                    chunks: stored.chunks,
                },
                Ok(None) => LoadResult::NotFound,
                Err(e) => LoadResult::Failed(e.to_string()),
            };
            let acked = ack_record_peer.and_then(|p| store.sync_state(p, &doc).ok().flatten());
            ReadDone::Doc { doc, result, acked }
        }
        Read::SyncState(peer, doc) => {
            // A sync state that cannot be read only costs a longer first exchange.
            let state = store.sync_state(&peer, &doc).ok().flatten();
            ReadDone::SyncState { peer, doc, state }
        }
        Read::Stored(doc, seqs) => {
            let whole = seqs.is_none();
            let result = match (seqs, store.shared()) {
                (_, None) => Err("this hub's store is not shared with other hubs".to_owned()),
                (Some(seqs), Some(shared)) => {
                    shared.stored_chunks(&doc, &seqs).map_err(|e| e.to_string())
                }
                (None, Some(_)) => store
                    .load(&doc)
                    .map(|found| found.map(|d| d.chunks).unwrap_or_default())
                    .map_err(|e| e.to_string()),
            };
            ReadDone::Stored { doc, whole, result }
        }
    }
}

/// One write of a group.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A document's metadata.
    Meta(DocMeta),
    /// A chunk of a document's changes: persist `seq` of the engine.
    Chunk {
        /// The document.
        doc: DocumentId,
        /// The engine's persist number.
        seq: u64,
        /// Automerge change bytes.
        chunk: Vec<u8>,
        /// On a hub, for a peer's changes: the member they are from and their actor ids,
        /// bound to that member before the chunk is stored (and the chunk refused if one
        /// belongs to someone else).
        authored: Option<(MemberId, Vec<Vec<u8>>)>,
    },
    /// A sync state (or, on a replica, an ack record) under a peer and document.
    SyncState {
        /// The peer (or pseudo-peer).
        peer: PeerId,
        /// The document.
        doc: DocumentId,
        /// The bytes.
        state: Vec<u8>,
    },
    /// An audit entry (a hindsight edit to a prediction), written before the chunk it
    /// belongs to so that a stored change never lacks its entry.
    Audit(AuditEntry),
}

/// Writes to make durable together, with one flush.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// In the order the engine asked for them.
    pub writes: Vec<Write>,
}

impl Group {
    /// The writes so far, leaving this group empty; `None` if there are none.
    pub fn take(&mut self) -> Option<Group> {
        (!self.is_empty()).then(|| std::mem::take(self))
    }

    /// Whether it holds no write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// What committing a group did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Committed {
    /// Persists now durable.
    pub persisted: Vec<(DocumentId, u64)>,
    /// Persists not durable, with why.
    pub failed: Vec<(DocumentId, u64, String)>,
    /// Actor ids found bound to another member (their chunks were refused), with the owner.
    pub taken: Vec<(Vec<u8>, MemberId)>,
    /// Actor ids now durably bound to a member.
    pub bound: Vec<(Vec<u8>, MemberId)>,
    /// Documents whose chunks should be compacted (off the acknowledgement path).
    pub compact: Vec<DocumentId>,
    /// The flush failed: nothing of the group may be taken as durable.
    pub flush_error: Option<String>,
}

/// Carries out a group's writes in order, then flushes once. Blocking: run it where
/// blocking is allowed. `directory` is the hub's (for actor bindings and audit entries);
/// a replica has none. After a failed chunk, the document's later chunks in the group are
/// not written either, so persists are reported durable only in order.
pub fn commit(
    store: &dyn Store,
    directory: Option<&dyn Directory>,
    group: Group,
    durability: Durability,
) -> Committed {
    let mut done = Committed::default();
    let mut failed_docs: Vec<DocumentId> = Vec::new();
    for write in group.writes {
        match write {
            Write::Meta(meta) => {
                if let Err(e) = store.put_meta(&meta) {
                    tracing::error!(doc = %meta.id, error = %e, "storing metadata failed");
                }
            }
            Write::Chunk {
                doc,
                seq,
                chunk,
                authored,
            } => {
                if failed_docs.contains(&doc) {
                    done.failed
                        .push((doc, seq, "an earlier write of it failed".to_owned()));
                    continue;
                }
                if let Some(refusal) = authored
                    .and_then(|(member, actors)| bind(directory, &member, actors, &mut done))
                {
                    failed_docs.push(doc);
                    done.failed.push((doc, seq, refusal));
                    continue;
                }
                match store.append(&doc, &chunk) {
                    Ok(outcome) => {
                        if outcome.compaction_due {
                            done.compact.push(doc);
                        }
                        done.persisted.push((doc, seq));
                    }
                    Err(e) => {
                        failed_docs.push(doc);
                        done.failed.push((doc, seq, e.to_string()));
                    }
                }
            }
            Write::SyncState { peer, doc, state } => {
                if let Err(e) = store.put_sync_state(&peer, &doc, &state) {
                    tracing::debug!(%peer, %doc, error = %e, "storing sync state failed (a cache)");
                }
            }
            Write::Audit(entry) => {
                let written = directory.map(|d| d.write_directory(&[], Some(&entry)));
                if let Some(Err(e)) = written {
                    tracing::error!(error = %e, target = %entry.target, "cannot record an audit entry");
                }
            }
        }
    }
    if let Err(e) = store.flush(durability) {
        tracing::error!(error = %e, "flush failed: nothing in this group is acknowledged");
        let reason = format!("flushing failed: {e}");
        done.failed.extend(
            done.persisted
                .drain(..)
                .map(|(doc, seq)| (doc, seq, reason.clone())),
        );
        done.bound.clear();
        done.flush_error = Some(reason);
    }
    done
}

/// Binds each actor to `member`; the reason the chunk is refused if one is someone else's
/// or the directory cannot say (fail closed).
fn bind(
    directory: Option<&dyn Directory>,
    member: &MemberId,
    actors: Vec<Vec<u8>>,
    done: &mut Committed,
) -> Option<String> {
    let directory = directory?;
    for actor in actors {
        match directory.bind_actor(&actor_key(&actor), member) {
            Ok(Binding::Bound | Binding::Same) => done.bound.push((actor, member.clone())),
            Ok(Binding::Other(owner)) => {
                let reason =
                    format!("changes under an actor id of {owner} are not {member}'s to make");
                done.taken.push((actor, owner));
                return Some(reason);
            }
            Err(e) => return Some(format!("cannot check an actor binding: {e}")),
        }
    }
    None
}
