//! `nic-load`: K clients, M documents, E edits per client against a nic-hub; see `--help`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use nic_hub::DurabilityMode;
use nic_load::archive::{self, Archive, ArchiveReport};
use nic_load::baseline::{self, BaselineReport};
use nic_load::creates;
use nic_load::hub::{Hub, HubSpec};
use nic_load::replica::{self, ReplicaReport, ReplicaRun};
use nic_load::samod_bench::{self, Comparison};
use nic_load::scenario::{self, Report, Scenario};
use nic_load::slow_reader::{self, SlowReaderRun};
use tracing_subscriber::EnvFilter;

/// Load a nic-hub: K clients co-edit M worksheets, E edits each. Reports cold-clone
/// time, durable edits per second, propagation latency p50/p99, and the hub's CPU seconds,
/// peak memory and bytes on disk.
///
/// By default it starts the `nic-hub` built beside it on a fresh data folder; pin the hub
/// with `--hub-cpus 0` and this tool with `taskset -c 1 nic-load ...`.
#[derive(Parser)]
#[command(name = "nic-load", version, about, long_about)]
struct Args {
    /// K: clients that edit at once.
    #[arg(short = 'k', long, default_value_t = 8)]
    clients: usize,
    /// M: documents (worksheets) in the network.
    #[arg(short = 'm', long, default_value_t = 200)]
    docs: usize,
    /// E: edits each client makes (70% typing into notes, 30% map puts).
    #[arg(short = 'e', long, default_value_t = 125)]
    edits: usize,
    /// Seeds which documents get edited and how.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Edits per second per client; unset edits as fast as each client can.
    #[arg(long)]
    rate: Option<f64>,
    /// The `nic-hub` binary to start (default: the one beside this tool).
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    /// Pin the started hub to these CPUs (`taskset -c` list, e.g. `0`).
    #[arg(long)]
    hub_cpus: Option<String>,
    /// The started hub's durability mode.
    #[arg(long, value_enum, default_value = "process")]
    durability: DurabilityMode,
    /// Start this many hubs on one database (NIC_HUB_STORE=postgresql://…, which the hubs
    /// inherit) and spread the clients over them; CPU figures are summed over the hubs.
    #[arg(long, default_value_t = 1, conflicts_with_all = ["hub", "in_process"])]
    hubs: usize,
    /// Run the hub inside this process instead (CPU and memory then include the clients).
    #[arg(long, conflicts_with_all = ["hub", "hub_bin", "hub_cpus"])]
    in_process: bool,
    /// Load a hub already running at this address instead of starting one.
    #[arg(long, conflicts_with_all = ["hub_bin", "hub_cpus"])]
    hub: Option<String>,
    /// With --hub: its process id, to report its CPU and memory.
    #[arg(long, requires = "hub")]
    hub_pid: Option<u32>,
    /// With --hub: its data folder, to report its size.
    #[arg(long, requires = "hub")]
    hub_data: Option<PathBuf>,
    /// With --hub: the token to present (a hub the tool starts gives it its admin's).
    /// Prefer the NIC_TOKEN variable: a token on the command line shows in `ps`.
    #[arg(long, env = "NIC_TOKEN", hide_env_values = true, requires = "hub")]
    token: Option<String>,
    /// With an `https://` --hub: the CA certificate (PEM) that signed the hub's certificate.
    #[arg(long, requires = "hub")]
    tls_ca: Option<PathBuf>,
    /// With an `https://` --hub: the name in the hub's certificate, if not the address's host.
    #[arg(long, requires = "tls_ca")]
    tls_domain: Option<String>,
    /// With an `https://` --hub that requires client certificates: ours (PEM), and its key.
    #[arg(long, requires_all = ["tls_ca", "tls_key"])]
    tls_cert: Option<PathBuf>,
    /// The key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Longest any one wait may take, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Archive scenario: first store this many documents, restart the hub, open idle ones
    /// on demand, then run the load on M active documents beside them (not with --hub).
    #[arg(long, conflicts_with = "hub")]
    archive: Option<usize>,
    /// With --archive: idle documents opened by each way of opening.
    #[arg(long, default_value_t = 1000, requires = "archive")]
    archive_samples: usize,
    /// Measure the in-process baseline instead: the same workload made without a hub, then
    /// every client's replicas merging the others' changes straight into Automerge, one at a
    /// time and batched per document (run it pinned to one core: `taskset -c 1`).
    #[arg(long, conflicts_with_all = ["hub", "in_process", "archive"])]
    baseline: bool,
    /// With --baseline: each edit is made on the documents as they stood this many rounds
    /// (of one edit per client) earlier, as clients that lag behind make them.
    #[arg(long, default_value_t = 0, requires = "baseline")]
    lag_rounds: usize,
    /// Replica scenario instead: N documents synced into a client-library replica on disk,
    /// its reopen timed until all are read, and a reconnect after a short offline period
    /// measured in bytes.
    #[arg(long, conflicts_with_all = ["archive", "baseline"])]
    replica: Option<usize>,
    /// Slow-reader attack instead: this many readers subscribe to one large document, ask
    /// for all of it --slow-requests times each without reading, then leave; reports the
    /// hub's memory.
    #[arg(long, conflicts_with_all = ["archive", "baseline", "replica", "in_process"])]
    slow_readers: Option<usize>,
    /// With --slow-readers: requests each reader sends.
    #[arg(long, default_value_t = 400, requires = "slow_readers")]
    slow_requests: usize,
    /// With --slow-readers: the document's size in KiB.
    #[arg(long, default_value_t = 512, requires = "slow_readers")]
    slow_doc_kib: usize,
    /// What the worksheets are stored as: school improvement plans (three texts typed
    /// into), or PDSA cycles, which the hub also reads for hindsight after every change.
    #[arg(long, value_enum, default_value = "improvement-plan")]
    kind: nic_load::workload::Kind,
    /// Creation scenario instead: N documents created at once, straight to the hub and
    /// through one replica (see `creates.rs`).
    #[arg(long, conflicts_with_all = ["archive", "baseline", "replica"])]
    creates: Option<usize>,
    /// With --replica: documents changed on the hub while the replica is offline.
    #[arg(long, default_value_t = 5, requires = "replica")]
    replica_changed: usize,
    /// samod comparison instead: K samod 0.16 clients (this process) find the M worksheets,
    /// make E edits each and wait for everyone's, against nic-hub's automerge-repo endpoint
    /// and then against a samod hub (`samod-hub`, pinned like the hub); side by side.
    #[arg(long, conflicts_with_all = ["hub", "archive", "baseline", "replica", "slow_readers"])]
    samod: bool,
    /// With --samod: which hubs to drive.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "nic-hub,samod",
        requires = "samod"
    )]
    samod_hubs: Vec<samod_bench::Which>,
    /// With --samod: the `samod-hub` binary (default: the one beside this tool).
    #[arg(long, requires = "samod")]
    samod_hub_bin: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // samod warns of every dialer it closes when a repo stops.
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,samod=error,samod_core=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let run = Scenario {
        clients: args.clients,
        docs: args.docs,
        edits: args.edits,
        seed: args.seed,
        rate: args.rate,
        kind: args.kind,
        timeout: Duration::from_secs(args.timeout_secs),
    };
    if args.baseline {
        let report =
            tokio::task::spawn_blocking(move || baseline::run(&run, args.lag_rounds)).await??;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_baseline(&report);
        }
        return Ok(());
    }
    let spec = if let Some(url) = args.hub.clone() {
        HubSpec::External {
            url,
            pid: args.hub_pid,
            data_dir: args.hub_data.clone(),
            token: args
                .token
                .clone()
                .context("--hub needs --token (or NIC_TOKEN): a token the hub accepts")?,
            tls: tls_settings(&args)?,
        }
    } else if args.in_process {
        HubSpec::InProcess {
            durability: args.durability,
        }
    } else {
        let bin = match args.hub_bin.clone() {
            Some(bin) => bin,
            None => std::env::current_exe()
                .context("cannot find this tool's own path")?
                .with_file_name("nic-hub"),
        };
        if args.hubs > 1 && !std::env::var("NIC_HUB_STORE").is_ok_and(|s| s.starts_with("postgres"))
        {
            anyhow::bail!(
                "--hubs {} needs one database for them all: set NIC_HUB_STORE=postgresql://…",
                args.hubs
            );
        }
        HubSpec::Child {
            bin,
            cpus: args.hub_cpus.clone(),
            durability: args.durability,
            count: args.hubs.max(1),
        }
    };
    if args.samod {
        let samod_bin = match args.samod_hub_bin.clone() {
            Some(bin) => bin,
            None => std::env::current_exe()
                .context("cannot find this tool's own path")?
                .with_file_name("samod-hub"),
        };
        let report = samod_bench::compare(
            &spec,
            &samod_bin,
            args.hub_cpus.as_deref(),
            &args.samod_hubs,
            &run,
        )
        .await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_comparison(&report);
        }
        return Ok(());
    }
    let mut hub = Hub::start(&spec).await?;
    if let Some(readers) = args.slow_readers {
        let run = SlowReaderRun {
            readers,
            requests: args.slow_requests,
            doc_bytes: args.slow_doc_kib * 1024,
        };
        let report = slow_reader::run(&hub, &run).await;
        let hub_measured = hub.measured;
        hub.stop().await?;
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "slow readers: {readers} x {} requests for a {} KiB document",
                run.requests, args.slow_doc_kib
            );
            println!(
                "hub memory: {:.1} MB before, {:.1} MB attacked, {:.1} MB after they left, peak {:.1} MB ({})",
                report.rss_before_mb,
                report.rss_attacked_mb,
                report.rss_after_mb,
                report.peak_rss_mb,
                hub_measured
            );
        }
        return Ok(());
    }
    if let Some(docs) = args.creates {
        let report =
            creates::run(&hub.access(), docs, Duration::from_secs(args.timeout_secs)).await;
        hub.stop().await?;
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!("{docs} documents created at once, each round on fresh documents");
            println!(
                "Documents.Create, all in flight, all answered   {:.3} s",
                report.hub_create_s
            );
            println!(
                "replica: create_raw, then each one's Acked event {:.3} s",
                report.client_acked_events_s
            );
            println!(
                "replica: create_raw, then wait_saved on each     {:.3} s",
                report.client_wait_saved_s
            );
        }
        return Ok(());
    }
    if let Some(docs) = args.replica {
        let run = ReplicaRun {
            docs,
            changed_remote: args.replica_changed.min(docs),
            changed_local: 1.min(docs),
            timeout: Duration::from_secs(args.timeout_secs),
        };
        let report = replica::run(&hub.access(), &run).await;
        hub.stop().await?;
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_replica(&report);
        }
        return Ok(());
    }
    if let Some(stored) = args.archive {
        let archive = Archive {
            stored,
            samples: args.archive_samples,
            active: run,
        };
        let report = archive::run(&mut hub, &archive).await;
        hub.stop().await?;
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_archive(&report);
        }
        return Ok(());
    }
    let report = scenario::run(&hub, &run).await;
    hub.stop().await?;
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// TLS settings from the flags, if a CA was given.
fn tls_settings(args: &Args) -> anyhow::Result<Option<nic_client::Tls>> {
    let Some(ca) = &args.tls_ca else {
        return Ok(None);
    };
    let mut tls = nic_client::Tls::default().ca_file(ca)?;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        tls = tls.identity_files(cert, key)?;
    }
    tls.domain = args.tls_domain.clone();
    Ok(Some(tls))
}

fn print_table(r: &Report) {
    let opt = |v: Option<f64>, unit: &str| v.map_or("n/a".to_owned(), |v| format!("{v:.2} {unit}"));
    println!(
        "K={} clients, M={} documents, E={} edits each (seed {}, rate {})",
        r.clients,
        r.docs,
        r.edits_per_client,
        r.seed,
        r.rate
            .map_or("unthrottled".into(), |r| format!("{r}/s per client"))
    );
    println!("create M documents     {:>10.2} s", r.create_s);
    println!("initial sync (K at once){:>9.2} s", r.initial_sync_s);
    println!(
        "edits acked durable    {:>10.2} s  ({:.0} edits/s)",
        r.edit_phase_s, r.edits_per_s
    );
    println!("all clients converged  {:>10.2} s", r.converged_s);
    println!(
        "propagation p50 / p99  {:>10.1} / {:.1} ms  (max {:.1} ms, {} of {} arrivals timed)",
        r.propagation.p50_ms,
        r.propagation.p99_ms,
        r.propagation.max_ms,
        r.propagation.samples,
        r.expected_arrivals
    );
    #[allow(clippy::cast_precision_loss)]
    let batch = r.client_changes_merged as f64 / r.client_merges.max(1) as f64;
    println!(
        "client merges          {:>10}    ({} changes, {batch:.2} per merge)",
        r.client_merges, r.client_changes_merged
    );
    println!("cold clone of M docs   {:>10.2} s", r.cold_clone_s);
    println!("CPU ({})  {}", r.measured, opt(r.hub_cpu_s, "s"));
    println!("CPU (load tool, K clients)  {}", opt(r.clients_cpu_s, "s"));
    println!("peak memory            {}", opt(r.hub_peak_rss_mib, "MiB"));
    println!("hub data on disk       {}", opt(r.hub_disk_mib, "MiB"));
}

fn print_comparison(r: &Comparison) {
    println!(
        "samod 0.16 clients: K={}, M={} documents, E={} edits each (seed {}, rate {})",
        r.clients,
        r.docs,
        r.edits_per_client,
        r.seed,
        r.rate
            .map_or("unthrottled".into(), |r| format!("{r}/s per client"))
    );
    let runs = [("nic-hub", &r.nic_hub), ("samod hub", &r.samod)];
    let row = |what: &str, f: &dyn Fn(&samod_bench::HubRun) -> String| {
        let cells: Vec<String> = runs
            .iter()
            .map(|(_, run)| run.as_ref().map_or("—".to_owned(), f))
            .collect();
        println!("{what:<34} {:>22} {:>22}", cells[0], cells[1]);
    };
    let opt = |v: Option<f64>, unit: &str| v.map_or("n/a".to_owned(), |v| format!("{v:.2} {unit}"));
    println!("{:<34} {:>22} {:>22}", "", runs[0].0, runs[1].0);
    row("documents on the hub", &|h| {
        format!("{:.2} s", h.docs_ready_s)
    });
    row("initial sync (K find M)", &|h| {
        format!("{:.2} s", h.initial_sync_s)
    });
    row("all clients converged", &|h| {
        format!("{:.2} s", h.converged_s)
    });
    row("propagation p50 / p99", &|h| {
        format!(
            "{:.1} / {:.1} ms",
            h.propagation.p50_ms, h.propagation.p99_ms
        )
    });
    row("deliveries timed", &|h| {
        format!("{} of {}", h.propagation.samples, h.delivered)
    });
    row("hub CPU, edits until converged", &|h| {
        opt(h.hub_cpu_converged_s, "s")
    });
    row("hub CPU, edits until quiet", &|h| {
        opt(h.hub_cpu_settled_s, "s")
    });
    row("hub CPU per delivered change", &|h| {
        opt(h.hub_cpu_per_delivery_us, "µs")
    });
    row("hub CPU, whole run", &|h| opt(h.hub_cpu_total_s, "s"));
    row("hub peak memory", &|h| opt(h.hub_peak_rss_mib, "MiB"));
    row("clients' CPU until converged", &|h| {
        opt(h.clients_cpu_s, "s")
    });
    if let Some(ratio) = r.cpu_ratio.filter(|r| r.is_finite()) {
        println!(
            "nic-hub's CPU per delivered change is {ratio:.3} of samod's (target: at most 0.1)"
        );
    }
}

#[allow(clippy::cast_precision_loss)]
fn print_archive(r: &ArchiveReport) {
    let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.1} MiB"));
    println!("N={} stored documents", r.stored);
    println!(
        "store N documents      {:>10.2} s  ({:.0} documents/s)",
        r.populate_s,
        r.stored as f64 / r.populate_s
    );
    println!("hub data on disk       {}", opt(r.disk_mib));
    println!("restart to serving     {:>10.2} s", r.restart_s);
    println!("memory after restart   {}", opt(r.rss_after_restart_mib));
    for (what, s) in [
        ("Get idle document    ", &r.get_idle),
        ("open idle (subscribe)", &r.open_idle),
    ] {
        println!(
            "{what}  p50 / p99 {:.2} / {:.2} ms  (max {:.2} ms, {} documents)",
            s.p50_ms, s.p99_ms, s.max_ms, s.samples
        );
    }
    println!("memory after opens     {}", opt(r.rss_after_opens_mib));
    println!("-- load on active documents beside the archive --");
    print_table(&r.active);
    println!("memory at the end      {}", opt(r.rss_end_mib));
    println!("peak memory since restart {}", opt(r.peak_rss_mib));
}

fn print_replica(r: &ReplicaReport) {
    println!("N={} PDSA cycles in a replica on disk", r.docs);
    println!(
        "cold sync              {:>10.2} s  ({} bytes sent, {} received)",
        r.cold_sync_s, r.cold_bytes.0, r.cold_bytes.1
    );
    println!("replica on disk        {:>10.1} MiB", r.replica_disk_mib);
    println!("reopen (Client::open)  {:>10.3} s", r.open_s);
    println!("reopen, all N read     {:>10.3} s", r.ready_s);
    println!(
        "reconnect after {} remote + {} local changes: {:.3} s, {} frames / {} bytes sent, {} frames / {} bytes received ({:.0} bytes per held document)",
        r.changed_remote,
        r.changed_local,
        r.reconnect_s,
        r.reconnect.frames_sent,
        r.reconnect.bytes_sent,
        r.reconnect.frames_received,
        r.reconnect.bytes_received,
        r.reconnect_bytes_per_doc
    );
}

fn print_baseline(r: &BaselineReport) {
    println!(
        "in-process baseline: K={} replicas merge {} changes (M={}, E={}, edits made {} rounds behind)",
        r.clients, r.merges, r.docs, r.edits_per_client, r.lag_rounds
    );
    for (what, secs, us) in [
        (
            "one change per apply_changes   ",
            r.single_s,
            r.single_us_per_change,
        ),
        (
            "one change per load_incremental",
            r.bytes_s,
            r.bytes_us_per_change,
        ),
        (
            "one merge per document         ",
            r.batched_s,
            r.batched_us_per_change,
        ),
    ] {
        println!("{what} {secs:>8.2} s  ({us:.1} µs per change)");
    }
}
