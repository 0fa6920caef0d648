//! The hub's memory under decompression bombs (issue 16, item 5), measured on a child
//! `nic-hub` process from `/proc` (VmHWM, the peak resident set):
//!
//! - `create`: one 50 KB `Documents.Create` whose `initial` holds a 50 MB string;
//! - `history-string BYTES` / `history-ops OPS`: a document holding one string of BYTES, or
//!   OPS map operations, is created, the peak is reset, then four `Documents.History` calls
//!   run at once.
//!
//! ```sh
//! cargo build -p nic-hub
//! cargo run -p nic-load --example bombs -- target/debug/nic-hub create
//! cargo run -p nic-load --example bombs -- target/debug/nic-hub history-ops 990000
//! ```
//!
//! The hub reads its limits from the environment it inherits (`NIC_HUB_MAX_DOC_BYTES`,
//! `NIC_HUB_MAX_DOC_OPS`, `NIC_HUB_MAX_REQUEST_MEMORY`): set them very high to see the hub
//! without the limits.

use std::path::PathBuf;

use anyhow::{Context, bail};
use nic_hub::DurabilityMode;
use nic_load::hub::{Hub, HubSpec};
use nic_proto::v1::{self, directory_client::DirectoryClient, documents_client::DocumentsClient};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, ROOT};

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0))
}

fn string_doc(bytes: usize) -> anyhow::Result<Automerge> {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "notes", "a".repeat(bytes))?;
    tx.commit();
    Ok(doc)
}

fn ops_doc(ops: usize) -> anyhow::Result<Automerge> {
    let mut doc = Automerge::new();
    for chunk in 0..ops.div_ceil(1000) {
        let mut tx = doc.transaction();
        for i in chunk * 1000..((chunk + 1) * 1000).min(ops) {
            tx.put(ROOT, format!("k{}", i % 5000), i as i64)?;
        }
        tx.commit();
    }
    Ok(doc)
}

async fn create(
    docs: &mut DocumentsClient<nic_proto::auth::AuthedChannel>,
    doc: &Automerge,
) -> Result<String, tonic::Status> {
    let initial = doc.save();
    println!("create: {} bytes on the wire", initial.len());
    let reply = docs
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "bombs".into(),
            visibility: v1::Visibility::Network as i32,
            title: "bomb".into(),
            initial: Some(initial),
            ..Default::default()
        })
        .await?;
    Ok(reply
        .into_inner()
        .meta
        .map(|m| m.doc_id)
        .unwrap_or_default())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bin), Some(scenario)) = (args.first(), args.get(1)) else {
        bail!("usage: bombs HUB-BIN create|history-string BYTES|history-ops OPS");
    };
    let size: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(0);
    let hub = Hub::start(&HubSpec::Child {
        bin: PathBuf::from(bin),
        cpus: None,
        durability: DurabilityMode::Process,
        count: 1,
    })
    .await?;
    let access = hub.access();
    DirectoryClient::new(access.raw_channel().await?)
        .create_network(v1::CreateNetworkRequest {
            network_id: "bombs".into(),
            name: "bombs".into(),
            ..Default::default()
        })
        .await?;
    let mut docs = DocumentsClient::new(access.raw_channel().await?)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    println!("hub started: peak {}", mib(hub.peak_rss_bytes()));
    match scenario.as_str() {
        "create" => {
            let outcome = create(&mut docs, &string_doc(50 << 20)?).await;
            println!(
                "create of a 50 MB string: {:?}",
                outcome.map_err(|s| (s.code(), s.message().to_owned()))
            );
            println!("hub peak after: {}", mib(hub.peak_rss_bytes()));
        }
        "history-string" | "history-ops" => {
            let doc = if scenario == "history-string" {
                string_doc(size)?
            } else {
                ops_doc(size)?
            };
            let id = create(&mut docs, &doc)
                .await
                .map_err(|s| anyhow::anyhow!("create refused: {:?} {}", s.code(), s.message()))?;
            drop(doc);
            println!(
                "created {id}: hub peak {}, now {}",
                mib(hub.peak_rss_bytes()),
                mib(hub.rss_bytes())
            );
            let reset = hub.reset_peak_rss();
            println!("peak reset: {reset}; now {}", mib(hub.rss_bytes()));
            let started = std::time::Instant::now();
            let mut calls = Vec::new();
            for _ in 0..4 {
                let mut docs = docs.clone();
                let id = id.clone();
                calls.push(tokio::spawn(async move {
                    docs.history(v1::GetHistoryRequest {
                        doc_id: id,
                        ..Default::default()
                    })
                    .await
                    .map(|r| r.into_inner().entries.len())
                }));
            }
            for call in calls {
                let outcome = call.await.context("history task")?;
                println!(
                    "history: {:?}",
                    outcome.map_err(|s| (s.code(), s.message().to_owned()))
                );
            }
            println!(
                "four concurrent History calls: hub peak {} ({:.1} s)",
                mib(hub.peak_rss_bytes()),
                started.elapsed().as_secs_f64()
            );
        }
        other => bail!("unknown scenario {other}"),
    }
    hub.stop().await
}
