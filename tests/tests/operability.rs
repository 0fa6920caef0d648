//! A slow client cannot stall others; health, reflection and metrics answer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::{Client, Target};
use nic_e2e::{RawStream, TestHub, hello};
use nic_model::PeerId;
use nic_proto::v1::{self, client_frame::Frame as C};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{AutomergeError, ROOT};
use tonic::Code;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.peer_queue = 16).await;
    let doc = hub.create_worksheet("algebra").await;
    for _ in 0..400 {
        hub.create_worksheet("algebra").await;
    }

    // Subscribes to the whole network, then never reads again: the hub's frames for 400
    // documents fill its transport window, then its queue.
    let mut slow = RawStream::open(&hub, hello("slowpoke")).await.unwrap();
    slow.send(C::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::NetworkId("algebra".into())),
        known: Vec::new(),
    }))
    .await;

    let a = Client::connect(&hub.url, PeerId::new("a").unwrap(), &hub.token)
        .await
        .unwrap();
    let b = Client::connect(&hub.url, PeerId::new("b").unwrap(), &hub.token)
        .await
        .unwrap();
    for c in [&a, &b] {
        c.subscribe(Target::Docs(vec![doc])).await.unwrap();
    }
    for i in 0..20 {
        a.edit(doc, move |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, format!("k{i}"), i).map(|_| ()))
                .unwrap();
        })
        .await
        .unwrap();
        a.wait_saved(doc, WAIT).await.unwrap();
    }
    let heads = a.heads(doc).await.unwrap().unwrap();
    let want = heads.clone();
    b.wait_for(doc, WAIT, move |am| am.get_heads() == want)
        .await
        .unwrap();

    // The slow client finds its stream ended, saying why.
    let status = slow.until(|_| None::<()>).await.expect_err("cut off");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
    assert!(status.message().contains("too slowly"), "{status}");
    hub.stop().await;
}

#[tokio::test]
async fn health_reflection_and_metrics_answer() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let hub = TestHub::start_with(dir.path(), |c| c.metrics_listen = Some(metrics_port)).await;
    let channel = hub.channel().await;

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "nic.v1.Sync".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let _doc = hub.create_worksheet("algebra").await;
    let body = http_get(metrics_port, "/metrics").await;
    for name in [
        "nic_hub_peers",
        "nic_hub_loaded_documents",
        "nic_hub_flushes_total",
        "nic_hub_flush_microseconds_max",
    ] {
        assert!(body.contains(name), "{name} missing from:\n{body}");
    }
    hub.stop().await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
