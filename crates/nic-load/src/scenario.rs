//! The load scenario: create M worksheets, connect K clients that sync them all, let every
//! client make E edits, wait until all are durable and every client has every edit, then
//! time a new client cloning the lot.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nic_client::automerge::{Automerge, ChangeHash, ReadDoc};
use nic_client::{Client, Refusal, Target};
use nic_model::{DocumentId, Grant, MemberId, NetworkId, SiteId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::hub::Hub;
use crate::latency::{Sent, Summary, Watcher};
use crate::procfs;
use crate::workload::{Edit, Kind, worksheet_of};

/// What to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// K: editing clients.
    pub clients: usize,
    /// M: documents.
    pub docs: usize,
    /// E: edits per client.
    pub edits: usize,
    /// Seeds which documents are edited and how.
    pub seed: u64,
    /// Edits per second per client; `None` edits as fast as the client can.
    pub rate: Option<f64>,
    /// What the worksheets are stored as.
    pub kind: Kind,
    /// Longest any one wait may take.
    pub timeout: Duration,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
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
    /// What the worksheets were stored as.
    pub kind: Kind,
    /// Seconds to create the M documents through `Documents.Create`.
    pub create_s: f64,
    /// Seconds until all K clients held all M new documents (K clones at once).
    pub initial_sync_s: f64,
    /// Seconds from the first edit until every edit was acknowledged durable.
    pub edit_phase_s: f64,
    /// K×E divided by `edit_phase_s`: durable edits per second through the hub.
    pub edits_per_s: f64,
    /// Seconds from the first edit until every client had every edit.
    pub converged_s: f64,
    /// Edit on one client until another holds it.
    pub propagation: Summary,
    /// K×E×(K−1): the arrivals there should be.
    pub expected_arrivals: usize,
    /// Sync messages with changes the K clients merged between them (each one Automerge
    /// merge), from connecting until converged.
    pub client_merges: u64,
    /// Changes those merges carried: `client_changes_merged / client_merges` is the mean batch.
    pub client_changes_merged: u64,
    /// Seconds for a new client to fetch all M documents after the edits.
    pub cold_clone_s: f64,
    /// Whose CPU and memory these are.
    pub measured: String,
    /// CPU seconds (user + system) the measured process used during the run.
    pub hub_cpu_s: Option<f64>,
    /// CPU seconds this load tool (the K clients) used during the run; with an in-process
    /// hub this is the same figure as `hub_cpu_s`.
    pub clients_cpu_s: Option<f64>,
    /// Peak resident memory of the measured process, MiB.
    pub hub_peak_rss_mib: Option<f64>,
    /// The hub's data folder at the end, MiB.
    pub hub_disk_mib: Option<f64>,
}

/// The load test's network.
pub const NETWORK: &str = "load-nic";
/// Schools in the network; worksheets are spread over them.
pub const SITES: usize = 8;

/// The id of a network's `n`th school (site ids are unique in a hub).
pub fn site_name(network: &str, n: usize) -> String {
    format!("{network}-school-{n}")
}

/// One member per client — a lead of `network`, so it may edit every worksheet — and a
/// fresh token for each: a person per laptop, as in a real network (and within the hub's
/// streams-per-member limit).
pub async fn member_tokens(
    hub: &nic_client::Hub,
    network: &str,
    clients: usize,
) -> anyhow::Result<Vec<String>> {
    let network = NetworkId::new(network)?;
    let mut tokens = Vec::with_capacity(clients);
    for i in 0..clients {
        let id = MemberId::new(format!("{network}-member-{i}"))?;
        let grant = Grant::NetworkLead {
            network: network.clone(),
        };
        match hub
            .add_member(&id, &format!("Load client {i}"), vec![grant])
            .await
        {
            Err(e) if e.refusal() != Some(Refusal::AlreadyExists) => {
                return Err(e).context("cannot add the load test's members");
            }
            _ => {}
        }
        let issued = hub
            .issue_token(&id, "nic-load", None)
            .await
            .context("cannot issue the load test's tokens")?;
        tokens.push(issued.secret);
    }
    Ok(tokens)
}

/// Creates `network` and its first `sites` schools through the Directory service (as the
/// hub admin), unless they exist.
pub async fn ensure_network(
    hub: &nic_client::Hub,
    network: &str,
    sites: usize,
) -> anyhow::Result<()> {
    let id = NetworkId::new(network)?;
    match hub
        .create_network(&id, &format!("{network} (load test)"), "", 0)
        .await
    {
        Err(e) if e.refusal() != Some(Refusal::AlreadyExists) => {
            return Err(e).context("cannot create the load test's network");
        }
        _ => {}
    }
    for n in 0..sites {
        let site = SiteId::new(site_name(network, n))?;
        match hub.create_site(&id, &site, &format!("School {n}")).await {
            Err(e) if e.refusal() != Some(Refusal::AlreadyExists) => {
                return Err(e).context("cannot create the load test's schools");
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs the scenario against `hub`.
pub async fn run(hub: &Hub, s: &Scenario) -> anyhow::Result<Report> {
    if s.clients < 2 || s.docs == 0 || s.edits == 0 {
        bail!("need at least 2 clients, 1 document and 1 edit (to measure propagation)");
    }
    let cpu_before = hub.cpu_seconds();
    let own_cpu_before = procfs::cpu_seconds(std::process::id());
    let access = hub.access();
    let channel = access.hub()?;

    ensure_network(&channel, NETWORK, SITES).await?;
    let tokens = member_tokens(&channel, NETWORK, s.clients).await?;
    let started = Instant::now();
    let created = create_docs(channel.clone(), s.docs, s.kind).await?;
    let create_s = started.elapsed().as_secs_f64();
    let ids: Vec<DocumentId> = created.keys().copied().collect();

    // K clients clone the network at once.
    let started = Instant::now();
    let mut clients = Vec::with_capacity(s.clients);
    for (i, token) in tokens.iter().enumerate() {
        let client = access.client_as(&format!("load-client-{i}"), token).await?;
        client.subscribe(Target::Network(network()?)).await?;
        clients.push(client);
    }
    for client in &clients {
        wait_heads(client, &created, s.timeout).await?;
    }
    let initial_sync_s = started.elapsed().as_secs_f64();

    let sent = Sent::default();
    let watchers: Vec<Watcher> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| Watcher::start(c.clone(), i, sent.clone(), created.clone()))
        .collect();

    // Every client edits; each waits until its own edits are durable on the hub.
    let started = Instant::now();
    let mut editors = tokio::task::JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, sent, ids, s) = (client.clone(), sent.clone(), ids.clone(), s.clone());
        editors.spawn(async move { edit_and_save(i, client, sent, ids, s).await });
    }
    while let Some(done) = editors.join_next().await {
        done??;
    }
    let edit_phase_s = started.elapsed().as_secs_f64();

    // Every client converges on the hub's saved heads.
    let saved = saved_heads(channel.clone(), &ids).await?;
    for client in &clients {
        wait_heads(client, &saved, s.timeout).await?;
    }
    let converged_s = started.elapsed().as_secs_f64();
    let (mut client_merges, mut client_changes_merged) = (0, 0);
    for client in &clients {
        let stats = client.stats().await?;
        client_merges += stats.merges;
        client_changes_merged += stats.changes_merged;
    }
    let mut samples = Vec::new();
    for w in watchers {
        samples.extend(w.finish().await);
    }

    // A new client clones everything.
    let started = Instant::now();
    let cold = access.client("load-cold-clone").await?;
    cold.subscribe(Target::Network(network()?)).await?;
    wait_heads(&cold, &saved, s.timeout).await?;
    let cold_clone_s = started.elapsed().as_secs_f64();
    drop(cold);
    drop(clients);

    let total = s.clients * s.edits;
    Ok(Report {
        clients: s.clients,
        docs: s.docs,
        edits_per_client: s.edits,
        seed: s.seed,
        rate: s.rate,
        kind: s.kind,
        create_s,
        initial_sync_s,
        edit_phase_s,
        #[allow(clippy::cast_precision_loss)]
        edits_per_s: total as f64 / edit_phase_s,
        converged_s,
        propagation: Summary::of(samples),
        expected_arrivals: total * (s.clients - 1),
        client_merges,
        client_changes_merged,
        cold_clone_s,
        measured: hub.measured.to_owned(),
        hub_cpu_s: hub
            .cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| after - before),
        clients_cpu_s: procfs::cpu_seconds(std::process::id())
            .zip(own_cpu_before)
            .map(|(after, before)| after - before),
        #[allow(clippy::cast_precision_loss)]
        hub_peak_rss_mib: hub.peak_rss_bytes().map(|b| b as f64 / 1048576.0),
        #[allow(clippy::cast_precision_loss)]
        hub_disk_mib: hub.disk_bytes().map(|b| b as f64 / 1048576.0),
    })
}

fn network() -> anyhow::Result<NetworkId> {
    Ok(NetworkId::new(NETWORK)?)
}

/// Creates M worksheets, 16 requests in flight; returns each one's heads.
pub async fn create_docs(
    hub: nic_client::Hub,
    count: usize,
    kind: Kind,
) -> anyhow::Result<HashMap<DocumentId, Vec<ChangeHash>>> {
    let created = crate::create::create_many(hub, count, 16, move |n| {
        let meta = crate::create::worksheet_meta(
            kind,
            NETWORK,
            &site_name(NETWORK, n % SITES),
            format!("Warm-up routine, cycle {n}"),
        )?;
        Ok((meta, worksheet_of(kind, n)?.save()))
    })
    .await?;
    Ok(created.into_iter().collect())
}

/// The heads the hub has saved for each document.
async fn saved_heads(
    hub: nic_client::Hub,
    ids: &[DocumentId],
) -> anyhow::Result<HashMap<DocumentId, Vec<ChangeHash>>> {
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        out.insert(*id, hub.get_document(*id).await?.heads);
    }
    Ok(out)
}

/// Waits until the client holds every document at (at least) the given heads.
async fn wait_heads(
    client: &Client,
    want: &HashMap<DocumentId, Vec<ChangeHash>>,
    timeout: Duration,
) -> anyhow::Result<()> {
    for (doc, heads) in want {
        let heads = heads.clone();
        client
            .wait_for(*doc, timeout, move |am: &Automerge| {
                heads.iter().all(|h| am.get_change_by_hash(h).is_some())
            })
            .await
            .with_context(|| format!("{} never got document {doc}", client.peer()))?;
    }
    Ok(())
}

/// One client's edits, then its wait until the hub has made them all durable.
async fn edit_and_save(
    me: usize,
    client: Client,
    sent: Sent,
    ids: Vec<DocumentId>,
    s: Scenario,
) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed.wrapping_mul(1_000_003).wrapping_add(me as u64));
    let mut pace = s
        .rate
        .map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r)));
    let mut touched = HashSet::new();
    for _ in 0..s.edits {
        if let Some(pace) = pace.as_mut() {
            pace.tick().await;
        }
        let doc = ids[rng.random_range(0..ids.len())];
        let edit = Edit::random(&mut rng);
        let sent = sent.clone();
        let started = Instant::now();
        client
            .edit(doc, move |am| {
                let hash = edit.apply(am)?;
                sent.record(hash, started, me);
                anyhow::Ok(())
            })
            .await??;
        touched.insert(doc);
    }
    for doc in touched {
        client
            .wait_saved(doc, s.timeout)
            .await
            .with_context(|| format!("the hub never acknowledged client {me}'s edits to {doc}"))?;
    }
    Ok(())
}
