//! The samod comparison: the same K samod 0.16 clients (in this process) drive `nic-hub`'s
//! automerge-repo WebSocket endpoint and then a samod hub, one after the other. Each client
//! finds all M worksheets, makes E edits to random ones, and waits until it holds every
//! other client's edits; the run reports convergence, propagation and the hub process's
//! CPU per delivered change.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use nic_client::automerge::ChangeHash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use samod::{BackoffConfig, DocHandle, DocumentId, Repo};
use serde::Serialize;

use crate::latency::Summary;
use crate::procfs;
use crate::samod_ws::WsDialer;
use crate::scenario::Scenario;
use crate::workload::{Edit, worksheet};

/// The hub the samod clients drive.
pub struct Target {
    /// Its name in the report.
    pub name: &'static str,
    /// Its WebSocket URL.
    pub ws_url: String,
    /// Client `i`'s bearer token, if the hub wants one.
    pub tokens: Vec<Option<String>>,
    /// The documents, if the hub made them (nic-hub: `Documents.Create`); otherwise client 0
    /// creates them and the others find them by id.
    pub docs: Option<Vec<String>>,
    /// Its process, to measure.
    pub pid: Option<u32>,
}

/// What one hub's run measured.
#[derive(Clone, Debug, Serialize)]
pub struct HubRun {
    /// Which hub.
    pub hub: String,
    /// Seconds until the M documents were on the hub (created by client 0, for samod).
    pub docs_ready_s: f64,
    /// Seconds until all K clients had found all M documents.
    pub initial_sync_s: f64,
    /// Seconds from the first edit until every client held every other client's edits.
    pub converged_s: f64,
    /// Edit on one client until another holds it.
    pub propagation: Summary,
    /// K×E×(K−1): the deliveries there should be (every one is timed).
    pub delivered: usize,
    /// Hub CPU seconds from the first edit until converged.
    pub hub_cpu_converged_s: Option<f64>,
    /// Hub CPU seconds from the first edit until the hub went quiet after converging (its
    /// trailing sync rounds included).
    pub hub_cpu_settled_s: Option<f64>,
    /// `hub_cpu_settled_s` per delivered change, in microseconds.
    pub hub_cpu_per_delivery_us: Option<f64>,
    /// Hub CPU seconds for the whole run (documents, initial sync, edits).
    pub hub_cpu_total_s: Option<f64>,
    /// Peak resident memory of the hub process, MiB.
    pub hub_peak_rss_mib: Option<f64>,
    /// CPU seconds of this process (the K clients) from the first edit until converged.
    pub clients_cpu_s: Option<f64>,
}

/// When each edit started and which client made it.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<HashMap<ChangeHash, (Instant, usize)>>>);

impl Sent {
    fn record(&self, hash: ChangeHash, started: Instant, client: usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash, (started, client));
    }

    fn lookup(&self, hash: &ChangeHash) -> Option<(Instant, usize)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .copied()
    }
}

/// Runs K samod clients against `target`.
pub async fn run(target: &Target, s: &Scenario) -> anyhow::Result<HubRun> {
    if s.clients < 2 || s.docs == 0 || s.edits == 0 {
        bail!("need at least 2 clients, 1 document and 1 edit (to measure propagation)");
    }
    let hub_cpu = || target.pid.and_then(procfs::cpu_seconds);
    let cpu_start = hub_cpu();
    let mut clients = Vec::with_capacity(s.clients);
    for i in 0..s.clients {
        clients.push(connect(target, i, s.timeout).await?);
    }

    let started = Instant::now();
    let ids = match &target.docs {
        Some(ids) => ids
            .iter()
            .map(|id| DocumentId::from_str(id))
            .collect::<Result<Vec<_>, _>>()?,
        None => create_docs(&clients[0], s).await?,
    };
    let docs_ready_s = started.elapsed().as_secs_f64();

    // K clients find M documents at once.
    let started = Instant::now();
    let mut finding = tokio::task::JoinSet::new();
    for (i, (repo, _)) in clients.iter().enumerate() {
        let (repo, ids, timeout) = (repo.clone(), ids.clone(), s.timeout);
        finding.spawn(async move {
            let found = futures_util::future::join_all(ids.iter().map(|id| repo.find(id.clone())));
            let found = tokio::time::timeout(timeout, found)
                .await
                .with_context(|| format!("samod client {i} did not find the documents"))?;
            let mut handles = Vec::with_capacity(found.len());
            for (handle, id) in found.into_iter().zip(&ids) {
                handles.push(handle?.with_context(|| {
                    format!("document {id} is unavailable to samod client {i}")
                })?);
            }
            anyhow::Ok((i, handles))
        });
    }
    let mut handles = vec![Vec::new(); s.clients];
    while let Some(done) = finding.join_next().await {
        let (i, found) = done??;
        handles[i] = found;
    }
    let initial_sync_s = started.elapsed().as_secs_f64();

    let sent = Sent::default();
    let expected = (s.clients - 1) * s.edits;
    let watchers: Vec<_> = handles
        .iter()
        .enumerate()
        .map(|(me, h)| watch(h.clone(), me, sent.clone(), expected, s.timeout))
        .collect();

    let cpu_edits = hub_cpu();
    let own_cpu = procfs::cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut editors = tokio::task::JoinSet::new();
    for (me, docs) in handles.iter().enumerate() {
        let (docs, sent, s) = (docs.clone(), sent.clone(), s.clone());
        editors.spawn(edit(me, docs, sent, s));
    }
    while let Some(done) = editors.join_next().await {
        done??;
    }
    let mut samples = Vec::with_capacity(expected * s.clients);
    let mut last = started;
    for w in watchers {
        let (mine, done_at) = w.await??;
        samples.extend(mine);
        last = last.max(done_at);
    }
    let converged_s = last.duration_since(started).as_secs_f64();
    let cpu_converged = hub_cpu();
    let clients_cpu_s = procfs::cpu_seconds(std::process::id())
        .zip(own_cpu)
        .map(|(a, b)| a - b);
    let cpu_settled = settle(target.pid).await;
    let peak = target.pid.and_then(procfs::peak_rss_bytes);

    for (repo, dialer) in clients {
        dialer.close();
        repo.stop().await;
    }
    let delivered = s.clients * s.edits * (s.clients - 1);
    let since = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
    let hub_cpu_settled_s = since(cpu_settled, cpu_edits);
    #[allow(clippy::cast_precision_loss)]
    Ok(HubRun {
        hub: target.name.to_owned(),
        docs_ready_s,
        initial_sync_s,
        converged_s,
        propagation: Summary::of(samples),
        delivered,
        hub_cpu_converged_s: since(cpu_converged, cpu_edits),
        hub_cpu_settled_s,
        hub_cpu_per_delivery_us: hub_cpu_settled_s.map(|c| c * 1e6 / delivered as f64),
        hub_cpu_total_s: since(cpu_settled, cpu_start),
        hub_peak_rss_mib: peak.map(|b| b as f64 / 1048576.0),
        clients_cpu_s,
    })
}

/// Client `i`: a samod repo dialing the target, connected.
async fn connect(
    target: &Target,
    i: usize,
    timeout: Duration,
) -> anyhow::Result<(Repo, samod::DialerHandle<crate::samod_ws::Refused>)> {
    let repo = Repo::build_tokio()
        .with_peer_id(samod::PeerId::from(format!("load-samod-{i}")))
        .load()
        .await;
    let token = target.tokens.get(i).cloned().flatten();
    let dialer = Arc::new(WsDialer::new(&target.ws_url, token)?);
    let backoff = BackoffConfig {
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        max_retries: Some(5),
    };
    let handle = repo.dial(backoff, dialer)?;
    tokio::time::timeout(timeout, handle.established())
        .await
        .with_context(|| format!("samod client {i} could not connect to {}", target.name))?
        .with_context(|| format!("samod client {i} could not connect to {}", target.name))?;
    Ok((repo, handle))
}

/// Client 0 creates the M worksheets and waits until the hub holds each.
async fn create_docs(
    (repo, dialer): &(Repo, samod::DialerHandle<crate::samod_ws::Refused>),
    s: &Scenario,
) -> anyhow::Result<Vec<DocumentId>> {
    let conn = dialer
        .connection_id()
        .context("samod client 0 is not connected")?;
    let mut ids = Vec::with_capacity(s.docs);
    for n in 0..s.docs {
        let handle = repo.create(worksheet(n)?).await?;
        tokio::time::timeout(s.timeout, handle.they_have_our_changes(conn))
            .await
            .context("the samod hub never acknowledged a new document")?;
        ids.push(handle.document_id().clone());
    }
    Ok(ids)
}

/// One client's E edits, each recorded (inside the document, right after the commit, so no
/// other client can see it first) with when it started.
async fn edit(me: usize, docs: Vec<DocHandle>, sent: Sent, s: Scenario) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed.wrapping_mul(1_000_003).wrapping_add(me as u64));
    let mut pace = s
        .rate
        .map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r)));
    for _ in 0..s.edits {
        if let Some(pace) = pace.as_mut() {
            pace.tick().await;
        }
        let doc = &docs[rng.random_range(0..docs.len())];
        let edit = Edit::random(&mut rng);
        let sent = sent.clone();
        let started = Instant::now();
        doc.with_document_async(move |am| {
            let hash = edit.apply(am)?;
            sent.record(hash, started, me);
            anyhow::Ok(())
        })
        .await??;
    }
    Ok(())
}

/// Watches client `me`'s documents until `expected` changes by other clients have arrived;
/// returns each one's propagation time (ms) and when the last arrived.
fn watch(
    docs: Vec<DocHandle>,
    me: usize,
    sent: Sent,
    expected: usize,
    timeout: Duration,
) -> tokio::task::JoinHandle<anyhow::Result<(Vec<f64>, Instant)>> {
    // Subscribed before any edit is made, so no change goes unseen.
    let mut changes = futures_util::stream::select_all(
        docs.iter()
            .enumerate()
            .map(|(i, d)| d.changes().map(move |_| i).boxed()),
    );
    let mut last: Vec<Vec<ChangeHash>> = docs
        .iter()
        .map(|d| d.with_document(|am| am.get_heads()))
        .collect();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut samples = Vec::with_capacity(expected);
        let mut done_at = Instant::now();
        while samples.len() < expected {
            let Ok(Some(i)) = tokio::time::timeout_at(deadline, changes.next()).await else {
                bail!(
                    "samod client {me} saw {} of the {expected} changes by others",
                    samples.len()
                );
            };
            let prev = std::mem::take(&mut last[i]);
            let (at, new, heads) = docs[i].with_document(|am| {
                let at = Instant::now();
                let new: Vec<ChangeHash> =
                    am.get_changes_meta(&prev).iter().map(|c| c.hash).collect();
                (at, new, am.get_heads())
            });
            for hash in new {
                if let Some((started, author)) = sent.lookup(&hash)
                    && author != me
                {
                    samples.push(at.duration_since(started).as_secs_f64() * 1000.0);
                    done_at = at;
                }
            }
            last[i] = heads;
        }
        Ok((samples, done_at))
    })
}

/// The hub's CPU seconds once it has gone quiet: two readings 250 ms apart that agree (at
/// most 10 s of waiting; the kernel counts in 10 ms ticks).
async fn settle(pid: Option<u32>) -> Option<f64> {
    let pid = pid?;
    let mut before = procfs::cpu_seconds(pid)?;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = procfs::cpu_seconds(pid)?;
        if now - before < 0.005 {
            return Some(now);
        }
        before = now;
    }
    Some(before)
}

/// Which hubs a comparison drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// `nic-hub`'s automerge-repo endpoint (`/automerge` on its main port).
    NicHub,
    /// The reference samod hub (`samod-hub`).
    Samod,
}

/// The two runs side by side.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// K.
    pub clients: usize,
    /// M.
    pub docs: usize,
    /// E.
    pub edits_per_client: usize,
    /// The seed.
    pub seed: u64,
    /// Edits per second per client asked for (`None`: unthrottled).
    pub rate: Option<f64>,
    /// Against nic-hub.
    pub nic_hub: Option<HubRun>,
    /// Against the samod hub.
    pub samod: Option<HubRun>,
    /// nic-hub's CPU per delivered change over samod's (the target is at most 0.1).
    pub cpu_ratio: Option<f64>,
}

/// Drives the chosen hubs, one after the other: nic-hub as `spec` says, then the samod hub
/// `samod_bin`, pinned to `cpus` if given.
pub async fn compare(
    spec: &crate::hub::HubSpec,
    samod_bin: &std::path::Path,
    cpus: Option<&str>,
    which: &[Which],
    s: &Scenario,
) -> anyhow::Result<Comparison> {
    let nic_hub = if which.contains(&Which::NicHub) {
        Some(against_nic_hub(spec, s).await?)
    } else {
        None
    };
    let samod = if which.contains(&Which::Samod) {
        let hub = crate::samod_hub::SamodHub::start(samod_bin, cpus)?;
        let target = Target {
            name: "samod",
            ws_url: hub.ws_url(),
            tokens: Vec::new(),
            docs: None,
            pid: Some(hub.pid()),
        };
        let report = run(&target, s).await;
        tokio::task::spawn_blocking(move || hub.stop()).await??;
        Some(report?)
    } else {
        None
    };
    let cpu_ratio = nic_hub
        .as_ref()
        .and_then(|n| n.hub_cpu_per_delivery_us)
        .zip(samod.as_ref().and_then(|s| s.hub_cpu_per_delivery_us))
        .map(|(n, s)| n / s);
    Ok(Comparison {
        clients: s.clients,
        docs: s.docs,
        edits_per_client: s.edits,
        seed: s.seed,
        rate: s.rate,
        nic_hub,
        samod,
        cpu_ratio,
    })
}

/// nic-hub: a network, one member (and token) per client, and the M worksheets made through
/// `Documents.Create`; then the samod clients on its WebSocket endpoint.
async fn against_nic_hub(spec: &crate::hub::HubSpec, s: &Scenario) -> anyhow::Result<HubRun> {
    use crate::scenario::{NETWORK, SITES, create_docs, ensure_network, member_tokens};
    let hub = crate::hub::Hub::start(spec).await?;
    let result = async {
        let channel = hub.access().hub()?;
        ensure_network(&channel, NETWORK, SITES).await?;
        let tokens = member_tokens(&channel, NETWORK, s.clients).await?;
        let started = Instant::now();
        let created = create_docs(channel, s.docs, s.kind).await?;
        let docs_ready_s = started.elapsed().as_secs_f64();
        let target = Target {
            name: "nic-hub",
            ws_url: ws_url(&hub.url)?,
            tokens: tokens.into_iter().map(Some).collect(),
            docs: Some(created.keys().map(ToString::to_string).collect()),
            pid: hub.pid(),
        };
        let mut report = run(&target, s).await?;
        report.docs_ready_s = docs_ready_s;
        anyhow::Ok(report)
    }
    .await;
    hub.stop().await?;
    result
}

/// The automerge-repo endpoint of the hub at `url` (`http://HOST:PORT`).
fn ws_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .context("the samod comparison runs against a local hub without TLS")?;
    Ok(format!("ws://{}/automerge", rest.trim_end_matches('/')))
}
