//! Kill the hub with SIGKILL during a steady write load; after each restart every change it
//! had acknowledged must be there. On PostgreSQL the next hub starts from another data
//! folder, as another machine would, and the client moves to it.
//!
//! The hub runs in a child process (this test binary re-executed as `crash_child`), so the
//! kill is a real process crash. `NIC_E2E_CRASH_ROUNDS` sets the number of kills (default
//! 10; run 100+ for a long check) and `NIC_E2E_CRASH_SEED` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use nic_client::{Client, Target};
use nic_e2e::{TestHub, put};
use nic_hub::testing::{ChildHub, LISTENING};
use nic_model::{DocumentId, PeerId};
use nic_sync::Notification;
use nic_sync::automerge::ReadDoc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHILD_ENV: &str = "NIC_E2E_CRASH_DIR";
const CHILD_STORE_ENV: &str = "NIC_E2E_CRASH_STORE";

/// The child: a hub on an OS-chosen port over the given folder, until killed.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // The line the hub binary prints, for `ChildHub`; a leading newline because libtest's
        // "test crash_child ..." has none of its own.
        println!("\n{LISTENING}{}", listener.local_addr().unwrap());
        let store = match std::env::var(CHILD_STORE_ENV) {
            Ok(url) => nic_hub::StoreChoice::Postgres(url),
            Err(_) => nic_hub::StoreChoice::Sled,
        };
        let config = nic_hub::Config {
            data_dir: dir.into(),
            metrics_listen: None,
            store,
            ..nic_hub::Config::default()
        };
        nic_hub::serve(config, listener, std::future::pending())
            .await
            .unwrap();
    });
}

/// This test binary re-run as `crash_child`: a hub in its own process, to kill.
fn spawn_hub(dir: &std::path::Path, store: Option<&str>) -> (ChildHub, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    // NIC_E2E_CRASH_LOGS=FOLDER keeps each hub's log there, for a failure to be read.
    let stderr = match std::env::var_os("NIC_E2E_CRASH_LOGS") {
        Some(logs) => {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Stdio::from(std::fs::File::create(std::path::Path::new(&logs).join(name)).unwrap())
        }
        None => Stdio::null(),
    };
    cmd.args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stderr(stderr);
    if let Some(url) = store {
        cmd.env(CHILD_STORE_ENV, url);
    }
    let hub = ChildHub::spawn(cmd).unwrap();
    let url = hub.url();
    (hub, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_hub_sigkill() {
    crash_rounds(None).await;
}

/// The same on PostgreSQL: each round's hub has a data folder of its own (another machine),
/// so what survives is what the database holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_hub_sigkill_on_postgres_and_move_to_the_next_hub() {
    let cluster =
        nic_store::pg_cluster::PgCluster::shared().expect("a throwaway PostgreSQL server");
    let url = cluster.new_database().unwrap();
    crash_rounds(Some(&url)).await;
}

/// The number of kills (`NIC_E2E_CRASH_ROUNDS`, default 10) and the seed
/// (`NIC_E2E_CRASH_SEED`, default `default_seed`).
fn rounds_and_seed(default_seed: u64) -> (usize, u64) {
    let var = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let rounds = var("NIC_E2E_CRASH_ROUNDS").map_or(10, |n| usize::try_from(n).unwrap());
    (rounds, var("NIC_E2E_CRASH_SEED").unwrap_or(default_seed))
}

async fn crash_rounds(store: Option<&str>) {
    let (rounds, seed) = rounds_and_seed(7);
    println!("crash test: {rounds} rounds, seed {seed} (replay with NIC_E2E_CRASH_SEED={seed})");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();

    // The document is made by a hub in this process, then that hub stops cleanly.
    let setup = TestHub::start_with(dir.path(), |c| {
        if let Some(url) = store {
            c.store = nic_hub::StoreChoice::Postgres(url.to_owned());
        }
    })
    .await;
    let doc = setup.create_worksheet("algebra").await;
    let token = setup.token.clone();
    setup.stop().await;

    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let folders: Vec<tempfile::TempDir> =
        (0..=rounds).map(|_| tempfile::tempdir().unwrap()).collect();
    // On sled every hub is the same folder; on PostgreSQL each has its own.
    let folder = |round: usize| match store {
        Some(_) => folders[round].path().to_owned(),
        None => dir.path().to_owned(),
    };
    for round in 0..rounds {
        let (child, url) = spawn_hub(&folder(round), store);
        // Everything acknowledged before any earlier kill is still there.
        let saved = nic_e2e::saved_at(&url, &token, doc).await;
        for key in &acknowledged {
            assert!(
                saved
                    .get(nic_sync::automerge::ROOT, key.as_str())
                    .unwrap()
                    .is_some(),
                "round {round}: acknowledged {key} was lost (seed {seed})"
            );
        }
        let kill_after = rng.random_range(1..=20);
        let acked = write_then_kill(child, &url, &token, doc, round, kill_after, seed).await;
        acknowledged.extend(acked);
        if std::env::var_os("NIC_E2E_CRASH_VERBOSE").is_some() {
            println!(
                "round {round}: killed after {kill_after} acks; {} acknowledged so far",
                acknowledged.len()
            );
        }
    }
    // A last restart checks the final kill.
    let (child, url) = spawn_hub(&folder(rounds), store);
    let saved = nic_e2e::saved_at(&url, &token, doc).await;
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|k| {
            saved
                .get(nic_sync::automerge::ROOT, k.as_str())
                .unwrap()
                .is_none()
        })
        .collect();
    child.kill().unwrap();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} (seed {seed})"
    );
    assert!(
        acknowledged.len() >= rounds,
        "too few acknowledged edits to mean anything: {}",
        acknowledged.len()
    );
    println!(
        "crash test: {} acknowledged edits survived {rounds} kills",
        acknowledged.len()
    );
}

/// One round: a client of the hub at `url` writes `r{round}-{i}` keys as fast as it can;
/// after `kill_after` acks the hub is killed. The keys acknowledged by then.
async fn write_then_kill(
    child: ChildHub,
    url: &str,
    token: &str,
    doc: DocumentId,
    round: usize,
    kill_after: usize,
    seed: u64,
) -> Vec<String> {
    let client = Client::connect(url, PeerId::new("writer").unwrap(), token)
        .await
        .unwrap();
    client.subscribe(Target::Docs(vec![doc])).await.unwrap();
    client
        .wait_for(doc, Duration::from_secs(20), |am| {
            am.get(nic_sync::automerge::ROOT, "notes")
                .ok()
                .flatten()
                .is_some()
        })
        .await
        .unwrap();
    let mut events = client.events();
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..100_000 {
                let key = format!("r{round}-{i}");
                if client.edit(doc, move |am| put(am, &key, i)).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut acks = 0;
    let mut last_acked = None;
    while acks < kill_after {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(Notification::Acked { heads, .. })) => {
                acks += 1;
                last_acked = Some(heads);
            }
            Ok(_) => {}
            Err(_) => panic!("round {round}: no ack within 20 s (seed {seed})"),
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    writer.abort();
    let heads = last_acked.unwrap();
    let keys = client
        .read(doc, move |am| {
            am.keys_at(nic_sync::automerge::ROOT, &heads)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap()
        .unwrap();
    keys.into_iter().filter(|k| k.starts_with('r')).collect()
}

/// Two hubs on one database, as behind a load balancer: one stays up with a client writing
/// to the document through it all along; the other is killed under a steady write load,
/// round after round, each time restarted from a fresh data folder. After every kill the
/// surviving hub's client holds every change the killed hub acknowledged (it came through
/// the database), and at the end a new hub holds every acknowledged change of both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_hubs_on_postgres_is_killed_under_load_and_nothing_acknowledged_is_lost() {
    let (rounds, seed) = rounds_and_seed(11);
    println!("two-hub crash test: {rounds} rounds, seed {seed} (NIC_E2E_CRASH_SEED={seed})");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cluster =
        nic_store::pg_cluster::PgCluster::shared().expect("a throwaway PostgreSQL server");
    let db = cluster.new_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let steady = TestHub::start_with(dir.path(), |c| {
        c.store = nic_hub::StoreChoice::Postgres(db.clone());
    })
    .await;
    let doc = steady.create_worksheet("algebra").await;
    let token = steady.token.clone();

    // The steady hub's own writer, all along.
    let partner = Client::connect(&steady.url, PeerId::new("partner").unwrap(), &token)
        .await
        .unwrap();
    partner.subscribe(Target::Docs(vec![doc])).await.unwrap();
    partner
        .wait_caught_up(Target::Docs(vec![doc]), Duration::from_secs(20))
        .await
        .unwrap();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let partner_writer = {
        let partner = partner.clone();
        tokio::spawn(async move {
            let mut i = 0i64;
            loop {
                let key = format!("p{i}");
                partner.edit(doc, move |am| put(am, &key, i)).await.unwrap();
                i += 1;
                // A steady pace, not a flood: the stop is checked between edits.
                tokio::select! {
                    _ = &mut stop_rx => return i,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        })
    };

    let folders: Vec<tempfile::TempDir> =
        (0..=rounds).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    for (round, folder) in folders.iter().enumerate().take(rounds) {
        let (child, url) = spawn_hub(folder.path(), Some(&db));
        let kill_after = rng.random_range(1..=20);
        let acked = write_then_kill(child, &url, &token, doc, round, kill_after, seed).await;
        assert!(!acked.is_empty() || kill_after == 0);
        acknowledged.extend(acked);
        // The steady hub passed on every change the killed one acknowledged.
        let wanted = acknowledged.clone();
        partner
            .wait_for(doc, Duration::from_secs(20), move |am| {
                wanted
                    .iter()
                    .all(|k| am.get(nic_sync::automerge::ROOT, k.as_str()).ok().flatten().is_some())
            })
            .await
            .unwrap_or_else(|e| {
                panic!("round {round}: the steady hub's client lacks acknowledged keys: {e} (seed {seed})")
            });
    }
    let _ = stop_tx.send(());
    let written = partner_writer.await.unwrap();
    partner.wait_synced(Duration::from_secs(20)).await.unwrap();
    partner.close().await.unwrap();
    let m = &steady.metrics;
    let counted = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let (heard, reads, whole) = (
        counted(&m.stored_heard),
        counted(&m.stored_reads),
        counted(&m.stored_whole_reads),
    );
    println!(
        "the steady hub heard {heard} notifications, read {reads} times, {whole} of them whole"
    );
    // A whole read follows a chunk the killed hub stored but never told of: a few per kill
    // (one per burst of notifications that build on it), not one per notification.
    assert!(
        whole <= 3 * rounds as u64 + 2,
        "{whole} whole reads for {rounds} kills"
    );
    steady.stop().await;

    // A new hub on the database holds all of it.
    let (last, url) = spawn_hub(folders[rounds].path(), Some(&db));
    let saved = nic_e2e::saved_at(&url, &token, doc).await;
    let present = |k: &str| saved.get(nic_sync::automerge::ROOT, k).unwrap().is_some();
    let missing: Vec<&String> = acknowledged.iter().filter(|k| !present(k)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} (seed {seed})"
    );
    let partner_missing: Vec<i64> = (0..written)
        .filter(|i| !present(&format!("p{i}")))
        .collect();
    assert!(
        partner_missing.is_empty(),
        "the steady hub's acknowledged edits lost: {partner_missing:?} (seed {seed})"
    );
    last.kill().unwrap();
    println!(
        "two-hub crash test: {} edits acknowledged by the killed hubs and {written} by the steady one survived {rounds} kills",
        acknowledged.len()
    );
}

/// Failover behind a load balancer: a client reaches hub A through a proxy that sends each
/// new connection to the first hub that answers. A is killed while the client writes; the
/// same client reconnects through the same address, lands on hub B (same database), and
/// carries on: every edit it made, acknowledged by A or not, ends up acknowledged by B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_behind_a_balancer_carries_on_at_the_other_hub_when_one_is_killed() {
    let cluster =
        nic_store::pg_cluster::PgCluster::shared().expect("a throwaway PostgreSQL server");
    let db = cluster.new_database().unwrap();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let b = TestHub::start_with(dirs[1].path(), |c| {
        c.store = nic_hub::StoreChoice::Postgres(db.clone());
    })
    .await;
    let doc = b.create_worksheet("algebra").await;
    let (a, a_url) = spawn_hub(dirs[0].path(), Some(&db));
    let mut a = Some(a);
    let balancer = nic_e2e::Proxy::start_over(&[&a_url, &b.url]).await;

    let client = Client::connect(&balancer.url, PeerId::new("teacher").unwrap(), &b.token)
        .await
        .unwrap();
    client.subscribe(Target::Docs(vec![doc])).await.unwrap();
    client
        .wait_caught_up(Target::Docs(vec![doc]), Duration::from_secs(20))
        .await
        .unwrap();
    let mut events = client.events();
    let n = 60;
    for i in 0..n {
        let key = format!("k{i}");
        client.edit(doc, move |am| put(am, &key, i)).await.unwrap();
        if i == n / 2 {
            // Killed once it has acknowledged something, with more on the way.
            loop {
                match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
                    Ok(Ok(Notification::Acked { .. })) => break,
                    Ok(_) => {}
                    Err(_) => panic!("hub A acknowledged nothing within 20 s"),
                }
            }
            if let Some(a) = a.take() {
                a.kill().unwrap(); // SIGKILL
            }
        }
    }
    // The same client, the same address: it reconnects on its own and lands on B.
    client.wait_synced(Duration::from_secs(30)).await.unwrap();
    let saved = b.saved(doc).await;
    let missing: Vec<i64> = (0..n)
        .filter(|i| {
            saved
                .get(nic_sync::automerge::ROOT, format!("k{i}").as_str())
                .unwrap()
                .is_none()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "edits lost in the failover: {missing:?}"
    );
    client.close().await.unwrap();
    b.stop().await;
}
