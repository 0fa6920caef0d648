//! The hub's blocking work, off the engine task: the storage writer (one thread that commits
//! the runtime's write groups, several at a time under one flush — "group commit"), the
//! directory reader (one thread, so rights are read in the order the engine task asked), and
//! document reads on the blocking pool.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvError};
use std::time::Instant;

use nic_model::{MemberId, TokenId};
use nic_runtime::rights::{Current, Refusal, read_current};
use nic_runtime::storage::{self, Group, Read};
use nic_store::{Directory, Durability, Store};
use tokio::sync::mpsc::UnboundedSender;

use super::{Internal, PendingConnect};
use crate::metrics::Metrics;

/// Work for the writer thread.
pub(crate) enum Job {
    /// Writes to commit.
    Group(Group),
    /// Answered once everything before it is durable.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// Most groups committed under one flush.
const MAX_GROUPS: usize = 1024;

/// Runs until every sender is gone.
pub(crate) fn write_loop(
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    rx: Receiver<Job>,
    done: UnboundedSender<Internal>,
    durability: Durability,
    metrics: Arc<Metrics>,
) {
    loop {
        let first = match rx.recv() {
            Ok(job) => job,
            Err(RecvError) => return,
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUPS {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut group = Group::default();
        let mut barriers = Vec::new();
        for job in jobs {
            match job {
                Job::Group(g) => group.writes.extend(g.writes),
                Job::Barrier(tx) => barriers.push(tx),
            }
        }
        let started = Instant::now();
        let committed = storage::commit(&*store, Some(&*directory), group, durability);
        metrics.flushed(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        Metrics::add(&metrics.chunks_written, committed.persisted.len() as u64);
        let compact = committed.compact.clone();
        let _ = done.send(Internal::Committed(committed));
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

/// A directory read for the reader thread.
pub(crate) enum DirRead {
    /// A stream's rights, before it is welcomed.
    Connect(Box<PendingConnect>),
    /// A member changed.
    Member(MemberId),
    /// A token changed.
    Token(TokenId),
}

/// Reads the directory in the order asked, so the engine task sees rights in the order of
/// the events it has seen: a read asked after an event's commit sees that commit.
pub(crate) fn read_loop(
    directory: Arc<dyn Directory>,
    rx: Receiver<DirRead>,
    done: UnboundedSender<Internal>,
) {
    while let Ok(read) = rx.recv() {
        let result = match read {
            DirRead::Connect(pending) => {
                let current: Result<Current, Refusal> = read_current(
                    &*directory,
                    &pending.member,
                    &pending.token,
                    crate::auth::now_ms(),
                );
                Internal::ConnectRead(pending, current)
            }
            DirRead::Member(member) => {
                let read = directory.member(&member).map_err(|e| e.to_string());
                Internal::MemberRead(member, read)
            }
            DirRead::Token(token) => {
                let read = directory
                    .token(&token)
                    .map(|t| t.map(|(_, record)| record))
                    .map_err(|e| e.to_string());
                Internal::TokenRead(token, read)
            }
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Reads for the engine on the blocking pool (document loads run in parallel).
pub(crate) fn spawn_read(store: Arc<dyn Store>, read: Read, done: UnboundedSender<Internal>) {
    tokio::task::spawn_blocking(move || {
        let result = nic_store::guard::may_block(|| storage::read(&*store, read, None));
        let _ = done.send(Internal::Read(result));
    });
}
