//! Two hubs on one PostgreSQL database, as a district runs them behind a load balancer:
//! clients of either co-edit and converge, a document made on one reaches the other's
//! subscribers, and a lead's revocation on one hub ends the member's streams on the other.
//! (Killing one of two hubs under load is in `crash.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::{Client, Target};
use nic_e2e::{RawStream, TestHub, hello, put};
use nic_model::{NetworkId, PeerId};
use nic_proto::v1;
use nic_store::pg_cluster::PgCluster;
use nic_sync::automerge::{ROOT, ReadDoc};

const WAIT: Duration = Duration::from_secs(20);

/// Two hubs on a fresh database; the second uses the first's admin token (one directory).
async fn two_hubs() -> (TestHub, TestHub, [tempfile::TempDir; 2]) {
    two_hubs_on(&database()).await
}

fn database() -> String {
    PgCluster::shared()
        .expect("a throwaway PostgreSQL server")
        .new_database()
        .unwrap()
}

async fn two_hubs_on(url: &str) -> (TestHub, TestHub, [tempfile::TempDir; 2]) {
    let url = url.to_owned();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let on_pg = |c: &mut nic_hub::Config| c.store = nic_hub::StoreChoice::Postgres(url.clone());
    let a = TestHub::start_with(dirs[0].path(), on_pg).await;
    let mut b = TestHub::start_with(dirs[1].path(), on_pg).await;
    assert!(
        b.token.is_empty(),
        "the second hub made no admin of its own"
    );
    b.token = a.token.clone();
    (a, b, dirs)
}

async fn client(hub: &TestHub, peer: &str, token: &str) -> Client {
    Client::connect(&hub.url, PeerId::new(peer).unwrap(), token)
        .await
        .unwrap()
}

fn keys(am: &nic_sync::automerge::Automerge, prefix: &str) -> usize {
    am.keys(ROOT).filter(|k| k.starts_with(prefix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_two_hubs_co_edit_one_document_and_converge() {
    let (a, b, _dirs) = two_hubs().await;
    let doc = a.create_worksheet("algebra").await;
    let on_a = client(&a, "on-a", &a.token).await;
    let on_b = client(&b, "on-b", &b.token).await;
    on_a.subscribe(Target::Docs(vec![doc])).await.unwrap();
    on_b.subscribe(Target::Docs(vec![doc])).await.unwrap();
    for c in [&on_a, &on_b] {
        c.wait_caught_up(Target::Docs(vec![doc]), WAIT)
            .await
            .unwrap();
    }
    // Both write at once, each through its own hub, to the same document.
    let n = 40;
    let write = |c: Client, prefix: &'static str| {
        tokio::spawn(async move {
            for i in 0..n {
                let key = format!("{prefix}{i}");
                c.edit(doc, move |am| put(am, &key, i)).await.unwrap();
            }
            c.wait_synced(WAIT).await.unwrap();
        })
    };
    let (wa, wb) = (write(on_a.clone(), "a"), write(on_b.clone(), "b"));
    wa.await.unwrap();
    wb.await.unwrap();
    let n = usize::try_from(n).unwrap();
    for c in [&on_a, &on_b] {
        c.wait_for(doc, WAIT, move |am| {
            keys(am, "a") == n && keys(am, "b") == n
        })
        .await
        .unwrap();
    }
    let heads = |c: Client| async move {
        c.read(doc, |am| {
            let mut h = am.get_heads();
            h.sort();
            h
        })
        .await
        .unwrap()
        .unwrap()
    };
    let (ha, hb) = (heads(on_a.clone()).await, heads(on_b.clone()).await);
    assert_eq!(ha, hb, "both clients hold the same history");
    // And so does each hub.
    let (sa, sb) = (a.saved(doc).await, b.saved(doc).await);
    assert_eq!(keys(&sa, "a") + keys(&sa, "b"), 2 * n);
    let (mut xa, mut xb) = (sa.get_heads(), sb.get_heads());
    xa.sort();
    xb.sort();
    assert_eq!(xa, xb);
    assert_eq!(xa, ha);

    // A document made through hub B reaches a client of hub A that follows the network.
    let network = NetworkId::new("algebra").unwrap();
    on_a.subscribe(Target::Network(network)).await.unwrap();
    let made = b.create_worksheet("algebra").await;
    on_a.wait_for(made, WAIT, |am| {
        am.get(ROOT, "notes").ok().flatten().is_some()
    })
    .await
    .unwrap();
    on_b.close().await.unwrap();
    on_a.close().await.unwrap();
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_hub_ends_streams_on_the_other() {
    let (a, b, _dirs) = two_hubs().await;
    let doc = a.create_worksheet("algebra").await;
    let sam = a.member("sam", v1::Role::NetworkLead, "algebra", "").await;
    let otto = a.member("otto", v1::Role::NetworkLead, "algebra", "").await;

    // Both stream through hub B; the admin revokes Sam's token and removes Otto through A.
    let mut sams = RawStream::open_as(&b, &sam, hello("sam-laptop"))
        .await
        .unwrap();
    sams.subscribe(&[doc]).await;
    let mut ottos = RawStream::open_as(&b, &otto, hello("otto-laptop"))
        .await
        .unwrap();
    ottos.subscribe(&[doc]).await;
    let mut admin = a.directory().await;
    let tokens = admin
        .list_tokens(v1::ListTokensRequest {
            member_id: "sam".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens;
    for t in tokens {
        admin
            .revoke_token(v1::RevokeTokenRequest {
                token_id: t.token_id,
            })
            .await
            .unwrap();
    }
    let ended = sams.ended().await;
    assert_eq!(ended.code(), tonic::Code::Unauthenticated, "{ended:?}");
    admin
        .remove_member(v1::RemoveMemberRequest {
            member_id: "otto".into(),
        })
        .await
        .unwrap();
    let ended = ottos.ended().await;
    assert_eq!(ended.code(), tonic::Code::Unauthenticated, "{ended:?}");
    // Neither can come back through hub B.
    let again = RawStream::open_as(&b, &sam, hello("sam-laptop")).await;
    assert_eq!(
        again.err().map(|s| s.code()),
        Some(tonic::Code::Unauthenticated)
    );
    b.stop().await;
    a.stop().await;
}

/// The database drops the connections on which both hubs hear each other (a failover, a
/// restarted pooler, an administrator). Each reconnects and reads again what it holds, and
/// what is written through one hub reaches the other's client afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_that_lost_their_listening_connection_catch_up() {
    let url = database();
    let (a, b, _dirs) = two_hubs_on(&url).await;
    let doc = a.create_worksheet("algebra").await;
    let on_a = client(&a, "on-a", &a.token).await;
    let on_b = client(&b, "on-b", &b.token).await;
    for c in [&on_a, &on_b] {
        c.subscribe(Target::Docs(vec![doc])).await.unwrap();
        c.wait_caught_up(Target::Docs(vec![doc]), WAIT)
            .await
            .unwrap();
    }
    let whole = |hub: &TestHub| {
        hub.metrics
            .stored_whole_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = (whole(&a), whole(&b));
    let ended = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}'",
        nic_store::PgStore::LISTENER_NAME
    );
    let cluster = PgCluster::shared().unwrap();
    let terminate = {
        let (url, ended) = (url.clone(), ended.clone());
        tokio::task::spawn_blocking(move || cluster.execute(&url, &ended))
    };
    terminate.await.unwrap().unwrap();
    // Written while B may not be listening: B finds it on reconnecting, if not before.
    on_a.edit(doc, |am| put(am, "while-away", 1)).await.unwrap();
    on_a.wait_synced(WAIT).await.unwrap();
    on_b.wait_for(doc, WAIT, |am| {
        am.get(ROOT, "while-away").ok().flatten().is_some()
    })
    .await
    .unwrap();
    // Both reconnected and re-read the document they hold.
    a.until_metrics(WAIT, "hub A re-read what it holds", |m| {
        m.stored_whole_reads
            .load(std::sync::atomic::Ordering::Relaxed)
            > before.0
    })
    .await;
    b.until_metrics(WAIT, "hub B re-read what it holds", |m| {
        m.stored_whole_reads
            .load(std::sync::atomic::Ordering::Relaxed)
            > before.1
    })
    .await;
    // And hear each other again.
    on_b.edit(doc, |am| put(am, "after", 2)).await.unwrap();
    on_a.wait_for(doc, WAIT, |am| {
        am.get(ROOT, "after").ok().flatten().is_some()
    })
    .await
    .unwrap();
    on_a.close().await.unwrap();
    on_b.close().await.unwrap();
    b.stop().await;
    a.stop().await;
}
