//! `PgStore`: the [`Store`] and the [`crate::Directory`] on PostgreSQL, for several hubs
//! sharing one database.
//!
//! The tables are in `pg_store/schema.sql`, applied by [`PgStore::open`] (migrations are
//! numbered; each is applied once, in one transaction, under an advisory lock so hubs
//! starting together do not race). Writes commit with `synchronous_commit = off`, so they
//! are visible at once and cost no disk flush each; [`Store::flush`] commits one small write
//! with synchronous commit, which flushes the write-ahead log through it and so makes every
//! earlier commit durable. That is group commit, as sled's flush is: a durable ack still
//! means committed to disk.
//!
//! Appends and compaction of one document are kept apart by the lock on its row in
//! `nic_documents` (an append updates the row's sizes first), across every hub.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nic_model::{DocMeta, DocumentId, PeerId};
use postgres::{Client, IsolationLevel, NoTls, Transaction};

mod directory;
mod notify;

use self::notify::Note;
use crate::snapshot::snapshot_of;
use crate::{
    AppendOutcome, Batch, ChunkSeq, CompactOutcome, CompactionPolicy, Durability, ListFilter,
    Listening, Op, SharedStore, Store, StoreError, StoreEvent, StoredDoc,
};

/// The schema's versions, oldest first.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("pg_store/schema.sql"))];

/// A sync state, created or replaced (`put_sync_state` and a batch's `PutSyncState`).
const PUT_SYNC_STATE: &str = "INSERT INTO nic_sync_states (peer, doc, state) VALUES ($1, $2, $3) \
     ON CONFLICT (peer, doc) DO UPDATE SET state = EXCLUDED.state";

/// Any constant: the advisory lock migrations take.
const MIGRATION_LOCK: i64 = 0x006e_6963_5f68_7562;

/// How a [`PgStore`] behaves.
#[derive(Clone, Copy, Debug)]
pub struct PgConfig {
    /// When appends report compaction as due.
    pub compaction: CompactionPolicy,
    /// Connections kept open (calls beyond this many at once wait for one).
    pub connections: usize,
}

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            compaction: CompactionPolicy::default(),
            connections: 4,
        }
    }
}

/// A [`Store`] on a PostgreSQL database (see the module's documentation).
pub struct PgStore {
    url: String,
    pool: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
    policy: CompactionPolicy,
    /// This store's name in its notifications, so it can skip its own.
    origin: String,
    /// What committed since the last flush, for the other hubs to hear of with it.
    notes: Mutex<Vec<Note>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgStore")
            .field("connections", &self.pool.len())
            .finish_non_exhaustive()
    }
}

fn connect(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls)?;
    client.batch_execute("SET synchronous_commit = off")?;
    Ok(client)
}

impl PgStore {
    /// The `application_name` of the connection on which a hub hears the other hubs (see
    /// [`SharedStore::listen`]), as `pg_stat_activity` shows it.
    pub const LISTENER_NAME: &'static str = notify::LISTENER_NAME;

    /// Connects to the database at `url` (`postgresql://user@host/db`, or with
    /// `?host=/socket/folder`) and brings its schema up to date.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PgConfig::default())
    }

    /// [`PgStore::open`] with a configuration. Blocks; callable from an async task too (it
    /// connects on a thread of its own), though every other call must come from a thread
    /// that may block, as with any [`Store`].
    pub fn open_with(url: &str, config: PgConfig) -> Result<Self, StoreError> {
        // The driver runs a runtime of its own per connection, which tokio does not allow
        // to start on a runtime's thread.
        std::thread::scope(|s| {
            s.spawn(|| Self::open_here(url, config))
                .join()
                .unwrap_or_else(|_| Err(StoreError::Unavailable("connecting panicked".into())))
        })
    }

    fn open_here(url: &str, config: PgConfig) -> Result<Self, StoreError> {
        let mut first = connect(url)?;
        migrate(&mut first)?;
        let mut pool: Vec<Mutex<Option<Client>>> = (1..config.connections.max(1))
            .map(|_| Mutex::new(None))
            .collect();
        pool.insert(0, Mutex::new(Some(first)));
        Ok(Self {
            url: url.to_owned(),
            pool,
            next: AtomicUsize::new(0),
            policy: config.compaction,
            origin: notify::new_origin(),
            notes: Mutex::new(Vec::new()),
        })
    }

    /// A free connection (or the next one in turn, waited for), connected again if the
    /// last one was lost.
    fn slot(&self) -> Result<MutexGuard<'_, Option<Client>>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.pool.len();
        let free = (0..n).find_map(|i| self.pool[(start + i) % n].try_lock().ok());
        let mut guard = match free {
            Some(guard) => guard,
            None => self.pool[start % n]
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        };
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(connect(&self.url)?);
        }
        Ok(guard)
    }

    /// Records what just committed, for the next flush to tell the other hubs.
    fn note(&self, notes: impl IntoIterator<Item = Note>) {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(notes);
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.slot()?;
        match guard.as_mut() {
            Some(client) => f(client),
            None => Err(StoreError::Unavailable("no database connection".into())),
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping a connection stops its runtime, which tokio forbids on a runtime's thread
        // (a hub drops its store wherever it stops): they go on a thread of their own.
        let clients: Vec<Client> = self
            .pool
            .iter_mut()
            .filter_map(|m| m.get_mut().unwrap_or_else(PoisonError::into_inner).take())
            .collect();
        if !clients.is_empty() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS nic_schema (version int PRIMARY KEY)")?;
    let have: Option<i32> = tx
        .query_one("SELECT max(version) FROM nic_schema", &[])?
        .get(0);
    let have = have.unwrap_or(0);
    if let Some((newest, _)) = MIGRATIONS.last()
        && have > *newest
    {
        return Err(StoreError::Unavailable(format!(
            "the database's schema is version {have}, newer than this hub knows ({newest}): \
             upgrade this hub"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > have) {
        tx.batch_execute(sql)?;
        tx.execute("INSERT INTO nic_schema (version) VALUES ($1)", &[version])?;
    }
    tx.commit()?;
    Ok(())
}

fn encode_meta(meta: &DocMeta) -> Result<String, StoreError> {
    serde_json::to_string(meta).map_err(|e| StoreError::CorruptRecord {
        what: "metadata",
        reason: e.to_string(),
    })
}

/// Metadata as stored, checked to be under its own id (the record sled keeps, decoded the
/// same way).
fn decode_meta(id: &[u8], json: &str) -> Result<DocMeta, StoreError> {
    crate::sled_store::records::decode_meta(id, json.as_bytes())
}

/// Creates or replaces metadata; with `create`, only creates (`false` if it existed).
fn put_meta_in(tx: &mut Transaction<'_>, meta: &DocMeta, create: bool) -> Result<bool, StoreError> {
    meta.validate()?;
    let json = encode_meta(meta)?;
    let site = meta.site.as_ref().map(|s| s.as_str().to_owned());
    let on_conflict = if create {
        "DO NOTHING"
    } else {
        "DO UPDATE SET network = EXCLUDED.network, site = EXCLUDED.site, kind = EXCLUDED.kind, \
         archived = EXCLUDED.archived, meta = EXCLUDED.meta"
    };
    let written = tx.execute(
        &format!(
            "INSERT INTO nic_documents (id, network, site, kind, archived, meta) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) {on_conflict}"
        ),
        &[
            &&meta.id.as_bytes()[..],
            &meta.network.as_str(),
            &site,
            &meta.kind.as_str(),
            &meta.archived,
            &json,
        ],
    )?;
    Ok(written == 1)
}

fn append_in(
    tx: &mut Transaction<'_>,
    policy: &CompactionPolicy,
    doc: &DocumentId,
    chunk: &[u8],
) -> Result<(AppendOutcome, Note), StoreError> {
    let id = &doc.as_bytes()[..];
    let len = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
    // Updating the row's sizes first takes its lock: a compaction of this document waits.
    let Some(sizes) = tx.query_opt(
        "UPDATE nic_documents SET incremental_bytes = incremental_bytes + $2, \
         incremental_chunks = incremental_chunks + 1 WHERE id = $1 \
         RETURNING snapshot_bytes, incremental_bytes, incremental_chunks",
        &[&id, &len],
    )?
    else {
        return Err(StoreError::UnknownDocument(*doc));
    };
    let seq: i64 = tx
        .query_one(
            "INSERT INTO nic_chunks (doc, seq, snapshot, bytes) \
             VALUES ($1, nextval('nic_chunk_seq'), false, $2) RETURNING seq",
            &[&id, &chunk],
        )?
        .get(0);
    let size = |i: usize| usize::try_from(sizes.get::<_, i64>(i)).unwrap_or(usize::MAX);
    let outcome = AppendOutcome {
        compaction_due: policy.is_due(size(0), size(1), size(2)),
    };
    Ok((outcome, Note::Chunk(*doc, ChunkSeq(seq))))
}

impl Store for PgStore {
    fn put_meta(&self, meta: &DocMeta) -> Result<(), StoreError> {
        meta.validate()?;
        self.with(|c| {
            let mut tx = c.transaction()?;
            put_meta_in(&mut tx, meta, false)?;
            tx.commit()?;
            Ok(())
        })?;
        self.note([Note::Meta(meta.id)]);
        Ok(())
    }

    fn meta(&self, doc: &DocumentId) -> Result<Option<DocMeta>, StoreError> {
        let id = &doc.as_bytes()[..];
        let row = self
            .with(|c| Ok(c.query_opt("SELECT meta FROM nic_documents WHERE id = $1", &[&id])?))?;
        row.map(|r| decode_meta(id, r.get(0))).transpose()
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<DocMeta>, StoreError> {
        let network = filter.network.as_ref().map(|n| n.as_str().to_owned());
        let site = filter.site.as_ref().map(|s| s.as_str().to_owned());
        let kind = filter.kind.map(|k| k.as_str().to_owned());
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT id, meta FROM nic_documents \
                 WHERE ($1::text IS NULL OR network = $1) AND ($2::text IS NULL OR site = $2) \
                 AND ($3::text IS NULL OR kind = $3) AND ($4 OR NOT archived) ORDER BY id",
                &[&network, &site, &kind, &filter.include_archived],
            )?)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let meta = decode_meta(row.get(0), row.get(1))?;
            if filter.matches(&meta) {
                out.push(meta);
            }
        }
        Ok(out)
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<AppendOutcome, StoreError> {
        let (outcome, note) = self.with(|c| {
            let mut tx = c.transaction()?;
            let appended = append_in(&mut tx, &self.policy, doc, chunk)?;
            tx.commit()?;
            Ok(appended)
        })?;
        self.note([note]);
        Ok(outcome)
    }

    fn load(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError> {
        let id = &doc.as_bytes()[..];
        let found = self.with(|c| {
            // One snapshot of the database for both reads: a compaction is all or nothing.
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let Some(meta) =
                tx.query_opt("SELECT meta FROM nic_documents WHERE id = $1", &[&id])?
            else {
                return Ok(None);
            };
            let chunks = tx.query(
                "SELECT bytes FROM nic_chunks WHERE doc = $1 ORDER BY seq",
                &[&id],
            )?;
            tx.commit()?;
            let json: String = meta.get(0);
            let chunks: Vec<Vec<u8>> = chunks.iter().map(|r| r.get(0)).collect();
            Ok(Some((json, chunks)))
        })?;
        found
            .map(|(json, chunks)| {
                Ok(StoredDoc {
                    meta: decode_meta(id, &json)?,
                    chunks,
                })
            })
            .transpose()
    }

    fn compact(&self, doc: &DocumentId) -> Result<CompactOutcome, StoreError> {
        let id = &doc.as_bytes()[..];
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The row's lock keeps appends out until this commits.
            if tx
                .query_opt(
                    "SELECT 1 FROM nic_documents WHERE id = $1 FOR UPDATE",
                    &[&id],
                )?
                .is_none()
            {
                return Err(StoreError::UnknownDocument(*doc));
            }
            let rows = tx.query(
                "SELECT seq, bytes FROM nic_chunks WHERE doc = $1 ORDER BY seq",
                &[&id],
            )?;
            let Some(last) = rows.last().map(|r| r.get::<_, i64>(0)) else {
                return Ok(CompactOutcome {
                    chunks_replaced: 0,
                    snapshot_bytes: 0,
                });
            };
            let mut joined = Vec::new();
            for row in &rows {
                joined.extend_from_slice(row.get::<_, &[u8]>(1));
            }
            let snapshot = snapshot_of(doc, &joined)?;
            let size = i64::try_from(snapshot.len()).unwrap_or(i64::MAX);
            tx.execute("DELETE FROM nic_chunks WHERE doc = $1", &[&id])?;
            tx.execute(
                "INSERT INTO nic_chunks (doc, seq, snapshot, bytes) VALUES ($1, $2, true, $3)",
                &[&id, &last, &snapshot],
            )?;
            tx.execute(
                "UPDATE nic_documents SET snapshot_bytes = $2, incremental_bytes = 0, \
                 incremental_chunks = 0 WHERE id = $1",
                &[&id, &size],
            )?;
            tx.commit()?;
            Ok(CompactOutcome {
                chunks_replaced: rows.len(),
                snapshot_bytes: snapshot.len(),
            })
        })
    }

    fn put_sync_state(
        &self,
        peer: &PeerId,
        doc: &DocumentId,
        state: &[u8],
    ) -> Result<(), StoreError> {
        let id = &doc.as_bytes()[..];
        self.with(|c| {
            c.execute(PUT_SYNC_STATE, &[&peer.as_str(), &id, &state])?;
            Ok(())
        })
    }

    fn sync_state(&self, peer: &PeerId, doc: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = &doc.as_bytes()[..];
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT state FROM nic_sync_states WHERE peer = $1 AND doc = $2",
                &[&peer.as_str(), &id],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn write_batch(&self, batch: &Batch) -> Result<Vec<AppendOutcome>, StoreError> {
        for op in &batch.ops {
            if let Op::PutMeta(meta) | Op::CreateMeta(meta) = op {
                meta.validate()?;
            }
        }
        // Rows locked in id order first, so two batches touching the same documents in
        // another order wait for each other instead of deadlocking.
        let mut touched: Vec<Vec<u8>> = batch
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Append { doc, .. } => Some(doc.as_bytes().to_vec()),
                _ => None,
            })
            .collect();
        touched.sort();
        touched.dedup();
        let (outcomes, notes) = self.with(|c| {
            let mut tx = c.transaction()?;
            let mut notes = Vec::new();
            if !touched.is_empty() {
                tx.query(
                    "SELECT 1 FROM nic_documents WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                    &[&touched],
                )?;
            }
            let mut outcomes = Vec::new();
            for op in &batch.ops {
                match op {
                    Op::PutMeta(meta) => {
                        put_meta_in(&mut tx, meta, false)?;
                        notes.push(Note::Meta(meta.id));
                    }
                    Op::CreateMeta(meta) => {
                        if !put_meta_in(&mut tx, meta, true)? {
                            return Err(StoreError::AlreadyExists(meta.id));
                        }
                        notes.push(Note::Meta(meta.id));
                    }
                    Op::Append { doc, chunk } => {
                        let (outcome, note) = append_in(&mut tx, &self.policy, doc, chunk)?;
                        outcomes.push(outcome);
                        notes.push(note);
                    }
                    Op::PutSyncState { peer, doc, state } => {
                        tx.execute(
                            PUT_SYNC_STATE,
                            &[&peer.as_str(), &&doc.as_bytes()[..], state],
                        )?;
                    }
                }
            }
            tx.commit()?;
            Ok((outcomes, notes))
        })?;
        self.note(notes);
        Ok(outcomes)
    }

    fn flush(&self, _durability: Durability) -> Result<(), StoreError> {
        // With fsync on, a synchronous commit survives a power loss too: both levels are the
        // same here. The other hubs hear of what this makes durable with its commit.
        let notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(PoisonError::into_inner));
        let flushed = self.with(|c| {
            let mut tx = c.transaction()?;
            tx.batch_execute(
                "SET LOCAL synchronous_commit = on; UPDATE nic_flush SET n = n + 1 WHERE id = 1",
            )?;
            notify::send(&mut tx, &self.origin, &notes)?;
            tx.commit()?;
            Ok(())
        });
        if flushed.is_err() {
            // Told with the next flush that succeeds (the writes may still become durable).
            let mut kept = self.notes.lock().unwrap_or_else(PoisonError::into_inner);
            let later = std::mem::replace(&mut *kept, notes);
            kept.extend(later);
        }
        flushed
    }

    fn shared(&self) -> Option<&dyn SharedStore> {
        Some(self)
    }
}

impl SharedStore for PgStore {
    fn listen(
        &self,
        mut on_event: Box<dyn FnMut(StoreEvent) -> bool + Send>,
    ) -> Result<Listening, StoreError> {
        let url = self.url.clone();
        let origin = self.origin.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        // Connected here, so a database that cannot be reached fails the caller at once.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("nic-hub-listen".into())
            .spawn(move || {
                let client = match notify::connect_listener(&url) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                notify::listen_loop(&url, &origin, client, &flag, &mut *on_event);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the listener: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Listening::new(stop, thread)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::Unavailable(
                "the listener stopped at once".into(),
            )),
        }
    }

    fn stored_chunks(
        &self,
        doc: &DocumentId,
        seqs: &[ChunkSeq],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let id = &doc.as_bytes()[..];
        let wanted: Vec<i64> = seqs.iter().map(|s| s.0).collect();
        // The snapshot too: it holds whichever of them a compaction replaced meanwhile.
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT seq, bytes FROM nic_chunks \
                 WHERE doc = $1 AND (seq = ANY($2) OR snapshot) ORDER BY seq",
                &[&id, &wanted],
            )?)
        })?;
        let found = |s: i64| rows.iter().any(|r| r.get::<_, i64>(0) == s);
        let all_found = wanted.iter().all(|s| found(*s));
        Ok(rows
            .iter()
            .filter(|r| !all_found || wanted.contains(&r.get::<_, i64>(0)))
            .map(|r| r.get::<_, Vec<u8>>(1))
            .collect())
    }
}
