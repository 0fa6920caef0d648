//! The slow-reader attack, measured: readers that subscribe to a large document, repeat
//! "send me everything" many times on a connection they never read, then leave. Reports the
//! hub's memory before, at its peak, while the readers hold their connections, and after
//! they leave — the figure the red team reported (16 → 221 MB, kept after leaving) and the
//! one the bounded, merging queues are meant to hold down.

use std::time::{Duration, Instant};

use anyhow::Context;
use nic_proto::v1;
use nic_sync::automerge::sync::{self, SyncDoc};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ROOT, ScalarValue};
use rand::RngCore;
use serde::Serialize;

use crate::hub::Hub;

/// What to run.
#[derive(Clone, Debug)]
pub struct SlowReaderRun {
    /// Readers, each on its own connection, as one observer member.
    pub readers: usize,
    /// Requests each reader sends without reading.
    pub requests: usize,
    /// Bytes of incompressible content in the document.
    pub doc_bytes: usize,
}

/// What the hub's memory did.
#[derive(Debug, Serialize)]
pub struct SlowReaderReport {
    /// Resident memory with the document stored, before any reader.
    pub rss_before_mb: f64,
    /// Resident memory once the hub has answered every request (readers still connected).
    pub rss_attacked_mb: f64,
    /// Resident memory after the readers left.
    pub rss_after_mb: f64,
    /// The process's peak resident memory.
    pub peak_rss_mb: f64,
}

fn mb(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / 1_048_576.0)
}

/// Runs the attack against `hub` (which must be a hub whose memory the tool can read).
pub async fn run(hub: &Hub, run: &SlowReaderRun) -> anyhow::Result<SlowReaderReport> {
    let access = hub.access();
    let channel = access.raw_channel().await?;
    let mut directory = v1::directory_client::DirectoryClient::new(channel.clone());
    directory
        .create_network(v1::CreateNetworkRequest {
            network_id: "slow".into(),
            name: "slow readers".into(),
            ..Default::default()
        })
        .await
        .context("create the network")?;
    directory
        .add_member(v1::AddMemberRequest {
            member: Some(v1::Member {
                member_id: "otto".into(),
                display_name: "Otto".into(),
                role: v1::Role::Observer as i32,
                network_ids: vec!["slow".into()],
                site_id: String::new(),
            }),
        })
        .await
        .context("add the observer")?;
    let token = directory
        .issue_token(v1::IssueTokenRequest {
            member_id: "otto".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .secret;
    let mut blob = vec![0u8; run.doc_bytes];
    rand::rng().fill_bytes(&mut blob);
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "blob", ScalarValue::Bytes(blob))?;
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let created = v1::documents_client::DocumentsClient::new(channel)
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "slow".into(),
            visibility: v1::Visibility::Network as i32,
            title: "large".into(),
            initial: Some(doc.save()),
            ..Default::default()
        })
        .await
        .context("create the document")?
        .into_inner();
    let doc_id = created.meta.map(|m| m.doc_id).unwrap_or_default();
    let rss_before_mb = mb(hub.rss_bytes());

    let ask = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .map(|m| m.encode())
        .unwrap_or_default();
    let reader_access = crate::hub::Access {
        token,
        ..access.clone()
    };
    let mut held = Vec::new();
    for r in 0..run.readers {
        let (tx, rx) = tokio::sync::mpsc::channel(run.requests + 4);
        let frame = |f| v1::ClientFrame { frame: Some(f) };
        use v1::client_frame::Frame as F;
        tx.send(frame(F::Hello(v1::Hello {
            peer_id: format!("slow-{r}"),
            client_name: "nic-load slow reader".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: nic_proto::PROTOCOL_VERSION,
        })))
        .await?;
        tx.send(frame(F::Subscribe(v1::Subscribe {
            target: Some(v1::subscribe::Target::Docs(v1::DocIds {
                doc_ids: vec![doc_id.clone()],
            })),
            known: Vec::new(),
        })))
        .await?;
        for _ in 0..run.requests {
            tx.send(frame(F::DocSync(v1::DocSync {
                doc_id: doc_id.clone(),
                message: ask.clone(),
            })))
            .await?;
        }
        let response = v1::sync_client::SyncClient::new(reader_access.raw_channel().await?)
            .connect(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?;
        // Never read: HTTP/2 flow control stops the hub's sending.
        held.push((tx, response));
    }
    let rss_attacked_mb = mb(settled(hub).await);
    drop(held);
    let rss_after_mb = mb(settled(hub).await);
    Ok(SlowReaderReport {
        rss_before_mb,
        rss_attacked_mb,
        rss_after_mb,
        peak_rss_mb: mb(hub.peak_rss_bytes()),
    })
}

/// The hub's resident memory once it has stopped changing for a second (at most 60 s).
async fn settled(hub: &Hub) -> Option<u64> {
    let started = Instant::now();
    let mut last = hub.rss_bytes();
    let mut stable_since = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = hub.rss_bytes();
        if now != last {
            last = now;
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= Duration::from_secs(1) {
            break;
        }
    }
    last
}
