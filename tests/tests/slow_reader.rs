//! A client that asks and does not read cannot make the hub hold memory for it: the queue of
//! each stream is bounded in bytes, repeated requests for the same document merge into the
//! answer still waiting, and a client that reads nothing for the slow-reader timeout is cut
//! off (its queue freed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::atomic::Ordering;
use std::time::Duration;

use nic_e2e::{RawStream, TestHub, changes_message, hello, put};
use nic_model::DocumentId;
use nic_proto::v1;
use nic_sync::automerge::sync::{self, SyncDoc};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{ActorId, Automerge, AutomergeError, ROOT, ReadDoc, ScalarValue};
use rand::RngCore;

const BLOB: usize = 512 * 1024;
const REQUESTS: usize = 400;

/// A `network`-visible document at lincoln holding 512 KiB that does not compress.
async fn big_document(hub: &TestHub) -> DocumentId {
    let mut blob = vec![0u8; BLOB];
    rand::rng().fill_bytes(&mut blob);
    let mut doc = nic_e2e::worksheet();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "blob", ScalarValue::Bytes(blob))?;
        Ok(())
    })
    .unwrap();
    hub.create_doc("algebra", "lincoln", v1::Visibility::Network, &doc)
        .await
}

/// "I have nothing; send me everything", as a fresh Automerge peer says it.
fn give_me_everything() -> Vec<u8> {
    Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode()
}

/// Makes sam's stream ask for the big document `REQUESTS` times without reading, then
/// waits until the hub has handled every request: a change sam sends after them, on
/// another document, is durable (the hub handles a stream's frames in order).
async fn ask_without_reading(hub: &TestHub, raw: &RawStream, big: DocumentId, small: DocumentId) {
    raw.subscribe(&[big, small]).await;
    let ask = give_me_everything();
    for _ in 0..REQUESTS {
        raw.send_sync(big, ask.clone()).await;
    }
    let mut change = hub.saved(small).await.with_actor(ActorId::random());
    let before = change.get_heads();
    put(&mut change, "after-the-requests", 1);
    raw.send_sync(small, changes_message(&change, &before))
        .await;
    let handled = async {
        while hub
            .saved(small)
            .await
            .get(ROOT, "after-the-requests")
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), handled)
        .await
        .expect("the hub never handled sam's requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_requests_from_a_client_that_does_not_read_are_bounded_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let big = big_document(&hub).await;
    let small = hub
        .create_doc(
            "algebra",
            "lincoln",
            v1::Visibility::Site,
            &nic_e2e::worksheet(),
        )
        .await;
    // Sam never reads his stream: HTTP/2 flow control stops the hub's sending.
    let raw = RawStream::open_as(&hub, &sam, hello("sam-laptop"))
        .await
        .unwrap();
    ask_without_reading(&hub, &raw, big, small).await;
    let queued = hub.metrics.queued_bytes.load(Ordering::Relaxed);
    let dropped = hub.metrics.slow_peers_dropped.load(Ordering::Relaxed);
    // 400 answers of 512 KiB each would be 200 MiB; merged, it is about one answer.
    assert!(
        queued <= 4 * BLOB as u64,
        "{queued} bytes wait for a client that asked {REQUESTS} times and read nothing"
    );
    assert_eq!(dropped, 0, "merging should have kept sam within his limits");
    drop(raw);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_past_its_byte_limit_is_cut_off_and_its_queue_freed() {
    let dir = tempfile::tempdir().unwrap();
    // Two answers' worth per stream: the first answer fits, distinct ones soon do not.
    let hub = TestHub::start_with(dir.path(), |c| {
        c.max_message_bytes = 1024 * 1024;
        c.max_queued_bytes_per_stream = 2 * 1024 * 1024;
    })
    .await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let mut docs = Vec::new();
    for _ in 0..8 {
        docs.push(big_document(&hub).await);
    }
    let mut raw = RawStream::open_as(&hub, &sam, hello("sam-laptop"))
        .await
        .unwrap();
    // Eight different 512 KiB documents, asked for without reading: 4 MiB of answers.
    raw.subscribe(&docs).await;
    let ask = give_me_everything();
    for doc in &docs {
        raw.send_sync(*doc, ask.clone()).await;
    }
    hub.until_metrics(
        Duration::from_secs(30),
        "a client over its byte limit was not cut off",
        |m| m.slow_peers_dropped.load(Ordering::Relaxed) > 0,
    )
    .await;
    // Its queue is gone with it.
    hub.until_metrics(
        Duration::from_secs(10),
        "the cut-off client's queue was not freed",
        |m| m.queued_bytes.load(Ordering::Relaxed) == 0,
    )
    .await;
    let ended = raw.ended().await;
    assert_eq!(ended.code(), tonic::Code::ResourceExhausted, "{ended}");
    assert!(ended.message().contains("read too slowly"), "{ended}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_for_the_timeout_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| {
        c.slow_reader_timeout = Duration::from_secs(1);
    })
    .await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    // Six answers, 3 MiB: more than the client's HTTP/2 window (2 MiB by default) lets the
    // transport take, so some wait in the hub's queue.
    let mut big = Vec::new();
    for _ in 0..6 {
        big.push(big_document(&hub).await);
    }
    let mut raw = RawStream::open_as(&hub, &sam, hello("sam-laptop"))
        .await
        .unwrap();
    raw.subscribe(&big).await;
    for doc in big.iter().copied() {
        raw.send_sync(doc, give_me_everything()).await;
    }
    hub.until_metrics(
        Duration::from_secs(30),
        "a client that read nothing was never cut off",
        |m| m.slow_peers_dropped.load(Ordering::Relaxed) > 0,
    )
    .await;
    let ended = raw.ended().await;
    assert_eq!(ended.code(), tonic::Code::ResourceExhausted, "{ended}");
    assert!(ended.message().contains("read nothing"), "{ended}");
    hub.stop().await;
}
