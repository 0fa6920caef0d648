//! Crash test: a child process writes to a store and reports each flush; the parent kills
//! it with SIGKILL at a seeded-random point, reopens the store and checks that every write
//! acknowledged as flushed is there. On SledStore the child's process holds the database;
//! on PgStore the parent also crashes the PostgreSQL server right after the kill (an
//! immediate stop, which loses what sits in its log buffers) and starts it again.
//!
//! The child is this test binary itself, run with libtest arguments that select
//! `crash_child`; that test does nothing unless `CHILD_DB_ENV` names its database.
//! Replay a failing run with `NIC_STORE_CRASH_SEED=<base seed> cargo test -p nic-store --test crash`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{Writer, doc_id, get_str, load, meta, peer};
use nic_model::{DocKind, DocumentId};
use nic_store::pg_cluster::PgCluster;
use nic_store::{
    Batch, CompactionPolicy, Durability, Op, PgConfig, PgStore, SledConfig, SledStore, Store,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHILD_DB_ENV: &str = "NIC_STORE_CRASH_CHILD_DB";
const CHILD_SEED_ENV: &str = "NIC_STORE_CRASH_CHILD_SEED";
const CHILD_ACTOR_ENV: &str = "NIC_STORE_CRASH_CHILD_ACTOR";
const BASE_SEED_ENV: &str = "NIC_STORE_CRASH_SEED";
const DEFAULT_BASE_SEED: u64 = 0x006e_6963_5f68_7562;

/// Fresh databases; each is crashed `GENERATIONS` times (48 kills in all), so recovery is
/// also tested on a database that was itself recovered.
const DATABASES: u64 = 16;
const GENERATIONS: u8 = 3;
/// The child stops by itself after this many steps if nobody kills it.
const MAX_STEPS: u64 = 1_000;

fn doc() -> DocumentId {
    doc_id(7)
}

/// Compact often, so kills land in and around compactions.
const POLICY: CompactionPolicy = CompactionPolicy {
    max_incremental_chunks: 8,
    min_incremental_bytes: 4096,
};

fn config() -> SledConfig {
    SledConfig {
        compaction: POLICY,
        cache_capacity_bytes: 8 * 1024 * 1024,
    }
}

/// The store at `db`: a PostgreSQL URL, or a sled folder.
fn open(db: &str) -> Box<dyn Store> {
    if db.starts_with("postgresql://") {
        let config = PgConfig {
            compaction: POLICY,
            connections: 2,
        };
        Box::new(PgStore::open_with(db, config).unwrap())
    } else {
        Box::new(SledStore::open_with(db, config()).unwrap())
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The child: writes until killed. Each step sets key `k{i}` in one Automerge change, appended
/// alone or in a batch with a sync state holding `i`, sometimes compacts, then flushes.
///
/// It announces each operation on stdout before starting it, so a parent that kills it right
/// after reading a line kills it inside that operation, and reports each finished flush as
/// `flushed {i} state {last i whose sync state was written, or -1}`: the acknowledgement.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(CHILD_DB_ENV) else {
        return;
    };
    let seed = env_u64(CHILD_SEED_ENV).unwrap();
    let actor = u8::try_from(env_u64(CHILD_ACTOR_ENV).unwrap()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    };
    // The newline ends libtest's unfinished "test crash_child ... " line.
    say("\nopen".into());
    let store = open(&db);
    let (mut writer, first, mut state) = match store.load(&doc()).unwrap() {
        Some(stored) => {
            let (next, state) = recovered(&*store, &stored);
            (Writer::resume(&stored, actor), next, state)
        }
        None => (Writer::new(actor), 0, -1),
    };
    for i in first..first + MAX_STEPS {
        let chunk = writer.set(&format!("k{i}"), &i.to_string());
        let due = if i == 0 || rng.random_bool(0.3) {
            let mut batch = Batch::new();
            if i == 0 {
                batch.push(Op::PutMeta(meta(doc(), "net", None, DocKind::PdsaCycle)));
            }
            batch
                .push(Op::Append { doc: doc(), chunk })
                .push(Op::PutSyncState {
                    peer: peer("p"),
                    doc: doc(),
                    state: (i as i64).to_be_bytes().to_vec(),
                });
            say(format!("batch {i}"));
            let due = store.write_batch(&batch).unwrap()[0].compaction_due;
            state = i as i64;
            due
        } else {
            say(format!("append {i}"));
            store.append(&doc(), &chunk).unwrap().compaction_due
        };
        if due || rng.random_bool(0.1) {
            say("compact".into());
            store.compact(&doc()).unwrap();
        }
        // Not every step is flushed: unflushed writes may be lost, but never half of them.
        if rng.random_bool(0.7) {
            let power_safe = rng.random_bool(0.1);
            say(format!("flush power_safe={power_safe}"));
            store
                .flush(if power_safe {
                    Durability::PowerSafe
                } else {
                    Durability::Process
                })
                .unwrap();
            say(format!("flushed {i} state {state}"));
        }
    }
}

/// Checks a recovered document and returns (next key index, sync state index).
///
/// The keys must be exactly `k0..k{n-1}`: sled recovers a prefix of its log, so nothing after
/// a lost write may survive. The sync state is written in the same batch as its key, so that
/// key must be there too.
fn recovered(store: &dyn Store, stored: &nic_store::StoredDoc) -> (u64, i64) {
    let loaded = load(stored);
    let keys = automerge::ReadDoc::length(&loaded, automerge::ROOT) as u64;
    for i in 0..keys {
        assert_eq!(
            get_str(&loaded, &format!("k{i}")),
            Some(i.to_string()),
            "key k{i}"
        );
    }
    let state = store.sync_state(&peer("p"), &doc()).unwrap().unwrap();
    let state = i64::from_be_bytes(state.try_into().unwrap());
    assert!(
        state < keys as i64,
        "sync state {state} without its key ({keys} keys)"
    );
    (keys, state)
}

/// Prints how to replay a run if it panics.
struct Announce(String);

impl Drop for Announce {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("crash test failed: {}", self.0);
        }
    }
}

/// The last acknowledgement a child printed: (key index, sync state index).
type Ack = Option<(u64, i64)>;

/// Runs one child until it has printed `kill_after` lines, kills it, and returns the last
/// acknowledgement it printed.
fn run_child(db: &str, seed: u64, actor: u8, kill_after: usize) -> Ack {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB_ENV, db)
        .env(CHILD_SEED_ENV, seed.to_string())
        .env(CHILD_ACTOR_ENV, actor.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last = None;
    let mut seen = 0;
    // Kept open until the child is dead: closing the pipe earlier would make the child's next
    // write fail, and it would exit by panicking (running destructors) instead of by SIGKILL.
    let mut reader = BufReader::new(stdout);
    // Skip libtest's own lines ("running 1 test"); the child's start with "open".
    let lines = (&mut reader).lines().map(Result::unwrap);
    for line in lines.skip_while(|l| l != "open") {
        if let Some(rest) = line.strip_prefix("flushed ") {
            let (i, state) = rest.split_once(" state ").unwrap();
            last = Some((i.parse().unwrap(), state.parse().unwrap()));
        }
        seen += 1;
        if seen == kill_after {
            break;
        }
    }
    // `Child::kill` sends SIGKILL on Unix: no destructor, no final flush.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drop(reader);
    assert!(
        seen == kill_after,
        "child exited ({status}) after {seen} of {kill_after} lines"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "child ended by itself: {status}");
    }
    last
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    crash_runs(DATABASES, |_| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db").to_string_lossy().into_owned();
        // The folder lives as long as the closure: for the whole run.
        (
            db,
            Box::new(move || assert!(dir.path().exists())) as Box<dyn Fn()>,
        )
    });
}

#[test]
fn acknowledged_writes_survive_sigkill_and_a_database_crash() {
    let cluster = std::rc::Rc::new(PgCluster::start().expect("a throwaway PostgreSQL server"));
    // Fewer databases: each crash restarts the server (about a second).
    crash_runs(DATABASES / 2, |_| {
        let db = cluster.new_database().unwrap();
        let cluster = cluster.clone();
        (
            db,
            Box::new(move || cluster.crash_and_restart().unwrap()) as Box<dyn Fn()>,
        )
    });
}

/// `runs` fresh databases, each crashed `GENERATIONS` times: `make` gives a database and
/// what to do after each kill (crash the database server too, or nothing).
fn crash_runs(runs: u64, make: impl Fn(u64) -> (String, Box<dyn Fn()>)) {
    let base = env_u64(BASE_SEED_ENV).unwrap_or(DEFAULT_BASE_SEED);
    for run in 0..runs {
        let (db, after_kill) = make(run);
        let mut acked = None;
        for generation in 0..GENERATIONS {
            let seed =
                base ^ (run << 8 | u64::from(generation)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let _announce = Announce(format!(
                "run {run} generation {generation} seed {seed:#x}; replay with {BASE_SEED_ENV}={base:#x}"
            ));
            // About 40 steps of 2 to 4 lines each.
            let kill_after = ChaCha8Rng::seed_from_u64(seed).random_range(1..=120);
            // What an earlier generation acknowledged must survive this one's crash too.
            acked = run_child(&db, seed, generation + 1, kill_after).or(acked);
            after_kill();

            let store = open(&db);
            let Some(stored) = store.load(&doc()).unwrap() else {
                assert_eq!(acked, None, "acknowledged document lost");
                continue;
            };
            let (keys, state) = recovered(&*store, &stored);
            if let Some((key, acked_state)) = acked {
                assert!(
                    keys > key,
                    "acknowledged k{key} lost: only {keys} keys recovered"
                );
                assert!(
                    state >= acked_state,
                    "sync state {state} older than acked {acked_state}"
                );
            }
            println!(
                "run {run} gen {generation}: killed after {kill_after} lines, acked {acked:?}, recovered {keys} keys (state {state})"
            );
            // The recovered store works: it compacts to the same document.
            let before = load(&stored);
            store.compact(&doc()).unwrap();
            common::assert_same(&load(&store.load(&doc()).unwrap().unwrap()), &before);
        }
    }
}
