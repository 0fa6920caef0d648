//! Clients co-editing through a real hub over gRPC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::Client;
use nic_e2e::{TestHub, put};
use nic_model::DocumentId;
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ROOT, ReadDoc};

const WAIT: Duration = Duration::from_secs(20);

async fn client(hub: &TestHub, name: &str, doc: DocumentId) -> Client {
    hub.replica(name, &hub.token, doc).await
}

fn type_note(am: &mut Automerge, words: &str) {
    let notes = am.get(ROOT, "notes").unwrap().unwrap().1;
    am.transact::<_, _, AutomergeError>(|tx| {
        let len = tx.length(&notes);
        tx.splice_text(&notes, len, 0, words).map(|_| ())
    })
    .unwrap();
}

/// Waits until every client holds exactly the hub's saved heads.
async fn converge(hub: &TestHub, doc: DocumentId, clients: &[&Client]) -> Automerge {
    for c in clients {
        c.wait_saved(doc, WAIT).await.unwrap();
    }
    let saved = hub.saved(doc).await;
    let heads = saved.get_heads();
    for c in clients {
        let want = heads.clone();
        if let Err(e) = c
            .wait_for(doc, WAIT, move |am| am.get_heads() == want)
            .await
        {
            let mine = c.heads(doc).await.unwrap();
            let missing = c.read(doc, {
                let heads = heads.clone();
                move |am| {
                    heads
                        .iter()
                        .filter(|h| am.get_change_meta_by_hash(h).is_none())
                        .count()
                }
            });
            panic!(
                "{} did not converge ({e}): its heads {mine:?}, the hub's {heads:?}, missing {:?}",
                c.peer(),
                missing.await
            );
        }
    }
    saved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_co_edit_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let a = client(&hub, "lincoln", doc).await;
    let b = client(&hub, "roosevelt", doc).await;
    let c = client(&hub, "washington", doc).await;

    let edits = |client: Client, name: &'static str| async move {
        for i in 0..25 {
            client
                .edit(doc, move |am| put(am, &format!("{name}-{i}"), i))
                .await
                .unwrap();
            client
                .edit(doc, move |am| type_note(am, &format!("{name}{i} ")))
                .await
                .unwrap();
        }
    };
    tokio::join!(
        edits(a.clone(), "a"),
        edits(b.clone(), "b"),
        edits(c.clone(), "c")
    );

    let saved = converge(&hub, doc, &[&a, &b, &c]).await;
    for name in ["a", "b", "c"] {
        for i in 0..25 {
            assert!(
                saved.get(ROOT, format!("{name}-{i}")).unwrap().is_some(),
                "{name}-{i} missing"
            );
        }
    }
    let notes = saved.get(ROOT, "notes").unwrap().unwrap().1;
    let text = saved.text(&notes).unwrap();
    for word in ["a24 ", "b24 ", "c24 "] {
        assert!(text.contains(word), "{word:?} missing from {text:?}");
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_client_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let a = client(&hub, "lincoln", doc).await;
    let b = client(&hub, "roosevelt", doc).await;

    a.go_offline().await.unwrap();
    b.edit(doc, |am| put(am, "from-b", 1)).await.unwrap();
    b.wait_saved(doc, WAIT).await.unwrap();
    a.edit(doc, |am| put(am, "from-a-offline", 2))
        .await
        .unwrap();
    assert_eq!(
        a.read(doc, |am| am.get(ROOT, "from-b").unwrap().is_some())
            .await
            .unwrap(),
        Some(false)
    );

    a.reconnect().await.unwrap();
    let saved = converge(&hub, doc, &[&a, &b]).await;
    assert!(saved.get(ROOT, "from-b").unwrap().is_some());
    assert!(saved.get(ROOT, "from-a-offline").unwrap().is_some());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let a = client(&hub, "lincoln", doc).await;
    for i in 0..40 {
        a.edit(doc, move |am| put(am, &format!("k{i}"), i))
            .await
            .unwrap();
    }
    a.wait_saved(doc, WAIT).await.unwrap();
    let heads = a.heads(doc).await.unwrap().unwrap();
    drop(a);
    hub.stop().await;

    let hub = TestHub::start(dir.path()).await;
    assert_eq!(hub.saved(doc).await.get_heads(), heads);
    let b = client(&hub, "roosevelt", doc).await;
    let want = heads.clone();
    b.wait_for(doc, WAIT, move |am| am.get_heads() == want)
        .await
        .unwrap();
    hub.stop().await;
}
