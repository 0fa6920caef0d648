//! The in-process baseline of a load run: the work every client must do at the least.
//!
//! The same shape of workload as [`crate::scenario`] — K clients, M worksheets, E edits each
//! from the same seeded mix — made without hub or network; then each of the K replicas
//! merges the K−1 others' changes straight into its Automerge documents: one change per
//! `apply_changes` call, one per `load_incremental` from the change's bytes (what a replica
//! does when every change arrives on its own in a sync message), and each document's
//! changes in one call (the most batching could give). Run on one core,
//! these times bound from below what the load tool's clients can reach on theirs.

use std::time::Instant;

use nic_sync::automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::scenario::Scenario;
use crate::workload::{Edit, worksheet};

/// What the baseline measured.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineReport {
    /// K.
    pub clients: usize,
    /// M.
    pub docs: usize,
    /// E.
    pub edits_per_client: usize,
    /// How many rounds behind the documents each edit was made on (see `make_changes`).
    pub lag_rounds: usize,
    /// K×E×(K−1): the merges the replicas do between them.
    pub merges: usize,
    /// Seconds for every replica to merge every other client's changes one at a time.
    pub single_s: f64,
    /// Microseconds per change, one at a time.
    pub single_us_per_change: f64,
    /// Seconds for every replica to merge every other client's changes one at a time from
    /// their bytes (`load_incremental`, as a sync message's changes are merged).
    pub bytes_s: f64,
    /// Microseconds per change, one at a time from bytes.
    pub bytes_us_per_change: f64,
    /// Seconds for the same with each document's changes merged in one call.
    pub batched_s: f64,
    /// Microseconds per change, batched per document.
    pub batched_us_per_change: f64,
}

/// One change: which client made it, to which document.
struct Made {
    client: usize,
    doc: usize,
    change: Change,
}

/// Makes the workload's changes, then times the replicas' merges.
pub fn run(s: &Scenario, lag_rounds: usize) -> anyhow::Result<BaselineReport> {
    let initial: Vec<Vec<u8>> = (0..s.docs)
        .map(|n| worksheet(n).map(|d| d.save()))
        .collect::<Result<_, _>>()?;
    let (made, expected) = make_changes(s, &initial, lag_rounds)?;

    // Each change reaches every other replica before the next is merged, as in a live run
    // (all K replicas' documents are in memory at once, which costs cache misses too).
    let mut all = replicas(s.clients, &initial)?;
    let started = Instant::now();
    for m in &made {
        for (me, docs) in all.iter_mut().enumerate() {
            if me != m.client {
                docs[m.doc].apply_changes([m.change.clone()])?;
            }
        }
    }
    let single_s = started.elapsed().as_secs_f64();

    let mut all = replicas(s.clients, &initial)?;
    let started = Instant::now();
    for m in &made {
        for (me, docs) in all.iter_mut().enumerate() {
            if me != m.client {
                docs[m.doc].load_incremental(m.change.raw_bytes())?;
            }
        }
    }
    let bytes_s = started.elapsed().as_secs_f64();
    // With its own edits added (a client made them, so they were never merged), every
    // replica must end where the edits left each document, or nothing was measured.
    for m in &made {
        all[m.client][m.doc].apply_changes([m.change.clone()])?;
    }
    for docs in &all {
        for (doc, heads) in docs.iter().zip(&expected) {
            anyhow::ensure!(doc.get_heads() == *heads, "a replica did not converge");
        }
    }
    drop(all);

    let started = Instant::now();
    for me in 0..s.clients {
        let mut replicas = load_all(&initial)?;
        let mut per_doc: Vec<Vec<Change>> = vec![Vec::new(); s.docs];
        for m in made.iter().filter(|m| m.client != me) {
            per_doc[m.doc].push(m.change.clone());
        }
        for (doc, changes) in replicas.iter_mut().zip(per_doc) {
            doc.apply_changes(changes)?;
        }
    }
    let batched_s = started.elapsed().as_secs_f64();

    let merges = s.clients * s.edits * (s.clients - 1);
    #[allow(clippy::cast_precision_loss)]
    let per = |secs: f64| secs * 1e6 / merges as f64;
    Ok(BaselineReport {
        clients: s.clients,
        docs: s.docs,
        edits_per_client: s.edits,
        lag_rounds,
        merges,
        single_s,
        single_us_per_change: per(single_s),
        bytes_s,
        bytes_us_per_change: per(bytes_s),
        batched_s,
        batched_us_per_change: per(batched_s),
    })
}

fn replicas(clients: usize, initial: &[Vec<u8>]) -> anyhow::Result<Vec<Vec<Automerge>>> {
    (0..clients).map(|_| load_all(initial)).collect()
}

fn load_all(initial: &[Vec<u8>]) -> anyhow::Result<Vec<Automerge>> {
    Ok(initial
        .iter()
        .map(|bytes| Automerge::load(bytes))
        .collect::<Result<_, _>>()?)
}

/// The clients' edits in E rounds: in each, every client makes its next edit under its own
/// actor id on the document as it stood `lag` rounds before the round began, so edits are
/// concurrent with each other as live clients' are (a live client edits before it has
/// received what others did meanwhile), and each round's changes are then applied.
/// Returns the changes in the order made and each document's heads at the end.
fn make_changes(
    s: &Scenario,
    initial: &[Vec<u8>],
    lag: usize,
) -> anyhow::Result<(Vec<Made>, Vec<Vec<ChangeHash>>)> {
    let mut docs = load_all(initial)?;
    let mut rngs: Vec<ChaCha8Rng> = (0..s.clients)
        .map(|me| ChaCha8Rng::seed_from_u64(s.seed.wrapping_mul(1_000_003).wrapping_add(me as u64)))
        .collect();
    let actors: Vec<ActorId> = (0..s.clients).map(|_| ActorId::random()).collect();
    // Each document's heads at the start of every round.
    let mut history: Vec<Vec<Vec<ChangeHash>>> = Vec::with_capacity(s.edits);
    let mut made = Vec::with_capacity(s.clients * s.edits);
    // Each client's last change to each document: it always holds its own edits.
    let mut own: Vec<Vec<Option<ChangeHash>>> = vec![vec![None; s.docs]; s.clients];
    for round in 0..s.edits {
        history.push(docs.iter().map(Automerge::get_heads).collect());
        let seen = &history[round.saturating_sub(lag)];
        let first = made.len();
        for (client, rng) in rngs.iter_mut().enumerate() {
            let doc = rng.random_range(0..s.docs);
            let edit = Edit::random(rng);
            let copy = if lag == 0 {
                docs[doc].fork()
            } else {
                let mut heads = seen[doc].clone();
                heads.extend(own[client][doc]);
                docs[doc].fork_at(&heads)?
            };
            let mut copy = copy.with_actor(actors[client].clone());
            let hash = edit.apply(&mut copy)?;
            let change = copy
                .get_change_by_hash(&hash)
                .ok_or_else(|| anyhow::anyhow!("an edit made no change"))?;
            own[client][doc] = Some(hash);
            made.push(Made {
                client,
                doc,
                change,
            });
        }
        for m in &made[first..] {
            docs[m.doc].apply_changes([m.change.clone()])?;
        }
    }
    Ok((made, docs.iter().map(Automerge::get_heads).collect()))
}
