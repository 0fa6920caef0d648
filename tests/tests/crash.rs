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
use nic_model::PeerId;
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
    cmd.args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stderr(Stdio::null());
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

async fn crash_rounds(store: Option<&str>) {
    let rounds: usize = std::env::var("NIC_E2E_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("NIC_E2E_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
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

        let client = Client::connect(&url, PeerId::new("writer").unwrap(), &token)
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
        let kill_after = rng.random_range(1..=20);
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
        acknowledged.extend(keys.into_iter().filter(|k| k.starts_with('r')));
        drop(client);
        if std::env::var_os("NIC_E2E_CRASH_VERBOSE").is_some() {
            println!(
                "round {round}: killed after {acks} acks; {} acknowledged so far",
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
