//! The archive scenario: a district hub holding years of documents, a few hundred in use.
//!
//! Stores N worksheets through `Documents.Create`, restarts the hub on the same data folder
//! and times it back to serving, opens idle documents on demand (by `Documents.Get` and by
//! a client subscribing to them), then runs the ordinary load scenario on a few hundred
//! active documents beside the archive, reading the hub's memory at each step.

use std::time::{Duration, Instant};

use anyhow::Context;
use nic_client::Target;
use nic_client::automerge::ReadDoc;
use nic_model::DocumentId;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::hub::{Access, Hub};
use crate::latency::Summary;
use crate::scenario::{self, Report, Scenario};
use crate::workload::worksheet;

/// What to run.
#[derive(Clone, Debug)]
pub struct Archive {
    /// N: documents stored before the restart.
    pub stored: usize,
    /// Idle documents opened one after another, by each way of opening.
    pub samples: usize,
    /// The load run on active documents afterwards (its M is the active count).
    pub active: Scenario,
}

/// What an archive run measured.
#[derive(Clone, Debug, Serialize)]
pub struct ArchiveReport {
    /// N.
    pub stored: usize,
    /// Seconds to store the N documents through `Documents.Create`.
    pub populate_s: f64,
    /// The hub's data folder after populating, MiB.
    pub disk_mib: Option<f64>,
    /// Seconds from starting the hub process again until it answered a `Documents.Get`.
    pub restart_s: f64,
    /// The restarted hub's resident memory once serving, MiB.
    pub rss_after_restart_mib: Option<f64>,
    /// `Documents.Get` of an idle document (read from storage), ms.
    pub get_idle: Summary,
    /// A client subscribing to one idle document until it holds it (the hub loads it into
    /// the sync engine and sends it), ms.
    pub open_idle: Summary,
    /// The restarted hub's resident memory after the idle opens, MiB.
    pub rss_after_opens_mib: Option<f64>,
    /// The load run on the active documents beside the archive.
    pub active: Report,
    /// The restarted hub's resident memory at the end, MiB.
    pub rss_end_mib: Option<f64>,
    /// The restarted hub's peak resident memory, MiB.
    pub peak_rss_mib: Option<f64>,
}

const NETWORK: &str = "archive-nic";
/// Schools in the archive's network.
const SITES: usize = 12;
/// `Documents.Create` calls in flight while populating.
const IN_FLIGHT: usize = 64;

/// Runs the archive scenario; `hub` must be one this tool started (it is restarted).
pub async fn run(hub: &mut Hub, a: &Archive) -> anyhow::Result<ArchiveReport> {
    let started = Instant::now();
    let ids = populate(&hub.access(), a.stored).await?;
    let populate_s = started.elapsed().as_secs_f64();
    let disk_mib = hub.disk_bytes().map(mib);

    let spawned = hub.restart().await?;
    let mut rng = ChaCha8Rng::seed_from_u64(a.active.seed);
    let probe = *ids.first().context("nothing was stored")?;
    let channel = serving(&hub.access(), probe, a.active.timeout).await?;
    let restart_s = spawned.elapsed().as_secs_f64();
    let rss_after_restart_mib = hub.rss_bytes().map(mib);

    // Idle documents, each opened once: none of them is in the hub's memory yet.
    let mut idle: Vec<DocumentId> = ids.iter().skip(1).copied().collect();
    idle.shuffle(&mut rng);
    let samples = a.samples.min(idle.len() / 2);
    let get_idle = get_each(channel, &idle[..samples]).await?;
    let open_idle = open_each(&hub.access(), &idle[samples..2 * samples], a.active.timeout).await?;
    let rss_after_opens_mib = hub.rss_bytes().map(mib);

    let active = scenario::run(&*hub, &a.active).await?;
    Ok(ArchiveReport {
        stored: a.stored,
        populate_s,
        disk_mib,
        restart_s,
        rss_after_restart_mib,
        get_idle,
        open_idle,
        rss_after_opens_mib,
        active,
        rss_end_mib: hub.rss_bytes().map(mib),
        peak_rss_mib: hub.peak_rss_bytes().map(mib),
    })
}

#[allow(clippy::cast_precision_loss)]
fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// Stores `count` worksheets, [`IN_FLIGHT`] at a time; returns their ids in creation order.
async fn populate(access: &Access, count: usize) -> anyhow::Result<Vec<DocumentId>> {
    let hub = access.hub()?;
    scenario::ensure_network(&hub, NETWORK, SITES).await?;
    // One worksheet's bytes serve for all: building 100,000 Automerge documents here would
    // measure this tool, not the hub.
    let initial = worksheet(0)?.save();
    let created = crate::create::create_many(hub, count, IN_FLIGHT, move |n| {
        let meta = crate::create::worksheet_meta(
            crate::workload::Kind::default(),
            NETWORK,
            &scenario::site_name(NETWORK, n % SITES),
            format!("Warm-up routine, cycle {n}"),
        )?;
        Ok((meta, initial.clone()))
    })
    .await?;
    Ok(created.into_iter().map(|(id, _)| id).collect())
}

/// Connects to a (re)starting hub and waits until it answers `Documents.Get` for `probe`.
async fn serving(
    access: &Access,
    probe: DocumentId,
    timeout: Duration,
) -> anyhow::Result<nic_client::Hub> {
    let deadline = Instant::now() + timeout;
    loop {
        let attempt = async {
            let hub = access.hub()?;
            hub.get_document(probe).await?;
            anyhow::Ok(hub)
        };
        match attempt.await {
            Ok(hub) => return Ok(hub),
            Err(e) if Instant::now() >= deadline => {
                return Err(e.context("the restarted hub never served"));
            }
            // Not listening or not loaded yet: try again at once (bounded by the deadline).
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// Times `Documents.Get` of each document in turn, ms.
async fn get_each(hub: nic_client::Hub, docs: &[DocumentId]) -> anyhow::Result<Summary> {
    let mut samples = Vec::with_capacity(docs.len());
    for doc in docs {
        let started = Instant::now();
        let got = hub.get_document(*doc).await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(!got.heads.is_empty(), "document {doc} came back empty");
    }
    Ok(Summary::of(samples))
}

/// Times a client subscribing to each document in turn until it holds its content, ms.
async fn open_each(
    access: &Access,
    docs: &[DocumentId],
    timeout: Duration,
) -> anyhow::Result<Summary> {
    let client = access.client("archive-reader").await?;
    let mut samples = Vec::with_capacity(docs.len());
    for doc in docs {
        let started = Instant::now();
        client.subscribe(Target::Docs(vec![*doc])).await?;
        client
            .wait_for(*doc, timeout, |am| {
                am.get(nic_client::automerge::ROOT, "title")
                    .ok()
                    .flatten()
                    .is_some()
            })
            .await
            .with_context(|| format!("document {doc} never arrived"))?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Summary::of(samples))
}
