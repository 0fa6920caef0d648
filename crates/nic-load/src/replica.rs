//! The replica scenario: what the client library costs a tool that embeds it.
//!
//! Stores N PDSA cycles on the hub, syncs them into a replica on disk (cold), closes it,
//! then times reopening it — offline, so only local work counts — until every cycle has
//! been read as a typed value. Finally it measures a reconnect after a short offline
//! period in which a few documents changed on both sides: the bytes exchanged, beside the
//! cold sync's.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use nic_client::{Client, ReplicaConfig, Storage, Target, WireStats};
use nic_model::schema::pdsa::{LearningQuestion, PdsaCycle, Purpose};
use nic_model::schema::{self, Text};
use nic_model::{DocKind, DocumentId, NetworkId};
use nic_sync::Notification;
use serde::Serialize;

use crate::hub::Access;
use crate::scenario;

/// What to run.
#[derive(Clone, Debug)]
pub struct ReplicaRun {
    /// N: documents in the replica.
    pub docs: usize,
    /// Documents changed on the hub while the replica is offline.
    pub changed_remote: usize,
    /// Documents changed in the replica while offline.
    pub changed_local: usize,
    /// Longest any one wait may take.
    pub timeout: Duration,
}

/// What a replica run measured.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaReport {
    /// N.
    pub docs: usize,
    /// Seconds from opening an empty replica until it held all N, settled with the hub.
    pub cold_sync_s: f64,
    /// Bytes the cold sync exchanged (encoded frames): to the hub, from the hub.
    pub cold_bytes: (u64, u64),
    /// The replica folder after the cold sync, MiB.
    pub replica_disk_mib: f64,
    /// Seconds for `Client::open` on the synced folder (offline: nothing waits for a hub).
    pub open_s: f64,
    /// Seconds from starting `Client::open` until all N cycles were read as typed values.
    pub ready_s: f64,
    /// Documents changed on the hub while the replica was offline.
    pub changed_remote: usize,
    /// Documents changed in the replica while offline.
    pub changed_local: usize,
    /// Seconds from reconnecting until both sides agreed on everything.
    pub reconnect_s: f64,
    /// What the reconnect exchanged.
    pub reconnect: WireStats,
    /// Sync frames the reconnect sent per held document (the hub must learn each one's
    /// heads), and bytes sent per document beyond the changed ones' content.
    pub reconnect_bytes_per_doc: f64,
}

const NETWORK: &str = "replica-nic";
const SITES: usize = 4;
const IN_FLIGHT: usize = 64;

/// A cycle of the kind a school team writes, different per document.
fn cycle(n: usize) -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: format!("change-idea-{}", n % 12),
        cycle_number: u32::try_from(n % 6 + 1).unwrap_or(1),
        purpose: Purpose::Test,
        ..PdsaCycle::default()
    };
    c.plan.objective = Text::with_value(format!(
        "Cycle {n}: will a daily 5-minute number talk raise exit-ticket completion?"
    ));
    c.plan.who = Text::with_value("Period 2 Algebra I, Ms. Rivera");
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many students complete the exit ticket?"),
        prediction: Text::with_value(format!("{} of 28", 18 + n % 8)),
        ..LearningQuestion::default()
    });
    c
}

/// Runs the replica scenario against the hub at `access`.
pub async fn run(access: &Access, r: &ReplicaRun) -> anyhow::Result<ReplicaReport> {
    let hub = access.hub()?;
    scenario::ensure_network(&hub, NETWORK, SITES).await?;
    let ids = populate(hub, r.docs).await?;
    let folder = tempfile::tempdir()?;
    let dir = folder.path().join("replica");
    let config = |url: &str| {
        let mut c = ReplicaConfig::new(url, &access.token).storage(Storage::Dir(dir.clone()));
        c.tls = access.tls.clone();
        c
    };
    let network = NetworkId::new(NETWORK)?;

    // Cold: an empty replica takes the whole network.
    let started = Instant::now();
    let client = Client::open(config(&access.url)).await?;
    let mut events = client.events();
    client.subscribe(Target::Network(network.clone())).await?;
    let mut held: BTreeSet<DocumentId> = BTreeSet::new();
    let wanted: BTreeSet<DocumentId> = ids.iter().copied().collect();
    tokio::time::timeout(r.timeout, async {
        while !wanted.is_subset(&held) {
            match events.recv().await {
                Ok(Notification::Changed { doc, .. }) => {
                    held.insert(doc);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Missed some: ask each document instead.
                    for doc in &wanted {
                        if client.heads(*doc).await?.is_some_and(|h| !h.is_empty()) {
                            held.insert(*doc);
                        }
                    }
                }
                Err(e) => return Err(anyhow::anyhow!(e)),
            }
        }
        up_to_date(&client).await
    })
    .await
    .context("the cold sync did not finish in time")??;
    let cold_sync_s = started.elapsed().as_secs_f64();
    let cold = client.wire_stats().await?;
    client.close().await?;
    let replica_disk_mib = dir_bytes(&dir) as f64 / 1_048_576.0;

    // Reopen offline (port 9 refuses): only local work is timed.
    let started = Instant::now();
    let client = Client::open(config("http://127.0.0.1:9")).await?;
    let open_s = started.elapsed().as_secs_f64();
    let cycles = client.network(network.clone()).await?.cycles().await?;
    let ready_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        cycles.len() == r.docs,
        "read {} cycles of {}",
        cycles.len(),
        r.docs
    );
    client.close().await?;

    // Online and settled, then a short offline period with changes on both sides.
    let client = Client::open(config(&access.url)).await?;
    tokio::time::timeout(r.timeout, up_to_date(&client))
        .await
        .context("the reopened replica did not settle")??;
    client.go_offline().await?;
    let remote: Vec<DocumentId> = ids.iter().take(r.changed_remote).copied().collect();
    edit_on_hub(access, &remote, r.timeout).await?;
    for doc in ids.iter().rev().take(r.changed_local) {
        client
            .change::<PdsaCycle>(*doc, "Study: results", |c| {
                c.study.learning = Text::with_value("Completion rose from 19 to 24 of 28.");
            })
            .await?;
    }
    let before = client.wire_stats().await?;
    let started = Instant::now();
    client.reconnect().await?;
    tokio::time::timeout(r.timeout, async {
        for doc in &remote {
            client
                .wait_for(*doc, r.timeout, |am| {
                    schema::read::<PdsaCycle, _>(am, DocKind::PdsaCycle)
                        .is_ok_and(|c| !c.do_.what_happened.as_str().is_empty())
                })
                .await?;
        }
        client.wait_synced(r.timeout).await?;
        up_to_date(&client).await
    })
    .await
    .context("the reconnect did not settle")??;
    let reconnect_s = started.elapsed().as_secs_f64();
    let after = client.wire_stats().await?;
    client.close().await?;
    let reconnect = WireStats {
        frames_sent: after.frames_sent - before.frames_sent,
        bytes_sent: after.bytes_sent - before.bytes_sent,
        frames_received: after.frames_received - before.frames_received,
        bytes_received: after.bytes_received - before.bytes_received,
        connects: after.connects - before.connects,
    };
    #[allow(clippy::cast_precision_loss)]
    let reconnect_bytes_per_doc =
        (reconnect.bytes_sent + reconnect.bytes_received) as f64 / r.docs as f64;
    Ok(ReplicaReport {
        docs: r.docs,
        cold_sync_s,
        cold_bytes: (cold.bytes_sent, cold.bytes_received),
        replica_disk_mib,
        open_s,
        ready_s,
        changed_remote: r.changed_remote,
        changed_local: r.changed_local,
        reconnect_s,
        reconnect,
        reconnect_bytes_per_doc,
    })
}

/// Waits until the replica is online and agrees with the hub on everything.
async fn up_to_date(client: &Client) -> anyhow::Result<()> {
    Ok(client.wait_up_to_date(Duration::from_secs(3600)).await?)
}

/// Stores `count` cycles, [`IN_FLIGHT`] at a time; returns their ids, sorted.
async fn populate(hub: nic_client::Hub, count: usize) -> anyhow::Result<Vec<DocumentId>> {
    let created = crate::create::create_many(hub, count, IN_FLIGHT, |n| {
        let meta = crate::create::cycle_meta(
            NETWORK,
            &scenario::site_name(NETWORK, n % SITES),
            format!("Number talks, cycle {n}"),
        )?;
        Ok((
            meta,
            schema::new_document(DocKind::PdsaCycle, &cycle(n))?.save(),
        ))
    })
    .await?;
    let mut ids: Vec<DocumentId> = created.into_iter().map(|(id, _)| id).collect();
    ids.sort();
    Ok(ids)
}

/// Another member's edits to `docs`, made through a second (in-memory) replica.
async fn edit_on_hub(
    access: &Access,
    docs: &[DocumentId],
    timeout: Duration,
) -> anyhow::Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let other = access.client("replica-scenario-coach").await?;
    other.subscribe(Target::Docs(docs.to_vec())).await?;
    for doc in docs {
        other
            .wait_for(*doc, timeout, |am| {
                schema::read::<PdsaCycle, _>(am, DocKind::PdsaCycle).is_ok()
            })
            .await?;
        other
            .change::<PdsaCycle>(*doc, "Do: what happened", |c| {
                c.do_.what_happened = Text::with_value("Ran it Monday to Thursday.");
            })
            .await?;
    }
    other.wait_synced(timeout).await?;
    other.close().await?;
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
