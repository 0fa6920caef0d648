//! `nic`: a networked improvement community's hub from the terminal — for coaches, district
//! data people and scripts. See `nic --help`.

mod cmd;
mod config;
mod error;
mod output;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::CliError;
use crate::output::Out;

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  failed for a reason not below
  2  bad usage (unknown command or option)
  3  not signed in, or the config file is unusable (run `nic login`)
  4  the hub cannot be reached
  5  the hub refused the token (sign in again)
  6  something named does not exist
  7  you may not do this (your role)
  8  invalid input (an argument, or bad rows in a file)
  9  saved in the local replica, not yet confirmed by the hub

Files: the sign-in is kept in $NIC_CONFIG (default ~/.config/nic/config.toml, readable by you
only); documents are kept in a local replica ($NIC_REPLICA, default beside the config), so
recording works with the hub away and syncs when it is back.";

/// Work with a nic-hub: networks, sites and members; aims, change ideas and PDSA cycles;
/// cross-site comparison, charts and exports; measure data imported from spreadsheets.
#[derive(Parser)]
#[command(name = "nic", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    /// Print JSON instead of tables, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Print only the id of the document (or feedback thread) the command created or
    /// changed, for scripts: `cycle=$(nic cycle create … --print-id)`.
    #[arg(long, global = true, conflicts_with = "json")]
    print_id: bool,
    /// The network to work in (default: the one chosen with `nic use`).
    #[arg(long, short = 'n', global = true, value_name = "NETWORK")]
    network: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a hub: checks the token, then saves the address and token.
    Login {
        /// The hub's address, e.g. http://127.0.0.1:50051, or https://… for a hub with TLS.
        #[arg(long)]
        hub: String,
        /// The access token. Prefer --token-file or the NIC_TOKEN variable: a token given
        /// here is shown by `ps` to every user of this machine, and kept in shell history.
        #[arg(
            long,
            env = "NIC_TOKEN",
            hide_env_values = true,
            conflicts_with = "token_file"
        )]
        token: Option<String>,
        /// A file holding the token, e.g. nic-data/admin-token.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        #[command(flatten)]
        tls: cmd::directory::TlsArgs,
    },
    /// Show who you are signed in as, on which hub.
    Whoami,
    /// Choose the network commands use by default.
    Use {
        /// The network's id.
        network: String,
    },
    /// Networks: list them, create one (hub admins).
    #[command(subcommand)]
    Networks(cmd::directory::NetworksCmd),
    /// Sites (schools) of the network: list them, add one (leads).
    #[command(subcommand)]
    Sites(cmd::directory::SitesCmd),
    /// Members of the network: list, add, issue a token (leads).
    #[command(subcommand)]
    Members(cmd::directory::MembersCmd),
    /// Documents you may read: list them, show one in readable form.
    #[command(subcommand)]
    Docs(cmd::docs::DocsCmd),
    /// Create the network's aim.
    #[command(subcommand)]
    Aim(cmd::docs::AimCmd),
    /// Create a change idea.
    #[command(subcommand)]
    Idea(cmd::docs::IdeaCmd),
    /// Create a measure definition.
    #[command(subcommand)]
    Measure(cmd::docs::MeasureCmd),
    /// PDSA cycles: create one, record its Do, Study and Act phases.
    #[command(subcommand)]
    Cycle(cmd::cycle::CycleCmd),
    /// The driver diagram: show it, add and change drivers, link change ideas to them.
    #[command(subcommand)]
    Driver(cmd::driver::DriverCmd),
    /// Equity lens codes: define them for the network, tag documents with them.
    #[command(subcommand)]
    Equity(cmd::equity::EquityCmd),
    /// Coaching logs: visits to a site, the commitments made, what followed.
    #[command(subcommand)]
    Coaching(cmd::coaching::CoachingCmd),
    /// Feedback threads on any document: request, reply, resolve; a coach's inbox.
    #[command(subcommand)]
    Feedback(cmd::feedback::FeedbackCmd),
    /// Empathy interviews at your site: record one, add themes, show it.
    #[command(subcommand)]
    Interview(cmd::interview::InterviewCmd),
    /// Root-cause analyses: fishbone causes and 5 whys for a problem of practice.
    #[command(subcommand)]
    Rca(cmd::rca::RcaCmd),
    /// Equity audits: findings by student group in one area.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCmd),
    /// The school improvement plan: problem → root causes → aims → cycles, planned vs. done.
    #[command(subcommand)]
    Plan(cmd::plan::PlanCmd),
    /// Compare one change idea's cycles across the network's sites.
    Compare {
        /// The change idea, as the cycles name it.
        change_idea: String,
    },
    /// Draw a measure's run, XmR, P or U chart as SVG, every finding listed under it (the
    /// rules as implemented, with their sources: README, "Reading the charts").
    Chart {
        /// The measure: its document id, or its name (e.g. "On track for Algebra I").
        measure: String,
        /// Where to write the SVG.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
        /// One site (default: small multiples of every site).
        #[arg(long)]
        site: Option<String>,
        /// The student group (default: all).
        #[arg(long)]
        group: Option<String>,
        /// The chart rules.
        #[arg(long, value_enum, default_value = "ihi")]
        rules: Rules,
    },
    /// Show a measure's series with the chart rules applied: each point with its centre
    /// line and limits, what fired, and the target line (suppressed as the hub suppresses
    /// it for you).
    Series {
        /// The measure: its document id, or its name.
        measure: String,
        /// One site (default: every site).
        #[arg(long)]
        site: Option<String>,
        /// The student group (default: all).
        #[arg(long)]
        group: Option<String>,
        /// The chart rules.
        #[arg(long, value_enum, default_value = "ihi")]
        rules: Rules,
    },
    /// Export a table as CSV or JSON (suppressed as the hub suppresses it for you).
    Export {
        /// Which table.
        #[arg(value_enum)]
        table: cmd::insight::Table,
        /// The measure, by id or name (for `series`).
        #[arg(long)]
        measure: Option<String>,
        /// The change idea (for `cycles`).
        #[arg(long)]
        idea: Option<String>,
        /// With `series`: export the gaps of this focal group instead, e.g.
        /// english_learner=yes.
        #[arg(long)]
        focal: Option<String>,
        /// With `series`: the chart rules whose centre lines, limits and signals are
        /// exported.
        #[arg(long, value_enum, default_value = "ihi")]
        rules: Rules,
        /// The file format.
        #[arg(long, value_enum, default_value = "csv")]
        format: cmd::insight::Format,
        /// Where to write it (default: standard output).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import data from a spreadsheet.
    #[command(subcommand)]
    Import(cmd::import::ImportCmd),
    /// Show what is synced with the hub and what waits in the local replica.
    Status,
    /// Be a second client: print each change to the network as it arrives (says
    /// "watching …" once it is up to date).
    Watch {
        /// Stop after this many changes (default: run until Ctrl-C).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Create a sample network — an Algebra I readiness NIC of four schools with an aim,
    /// a driver diagram, change ideas, PDSA ramps and a measure by student group over a
    /// school year — and make it the default.
    Demo,
}

/// Chart rules.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Rules {
    /// Run chart, IHI rules (Perla, Provost & Murray 2011): median; a shift (6 on one
    /// side), a trend (5 up or down), too few or too many runs (the paper's Table 1),
    /// astronomical candidates. Any measure; the default.
    Ihi,
    /// Run chart, Anhøj's rules (as qicharts2 applies them): median; an unusually long
    /// run, too few crossings. Any measure.
    Anhoj,
    /// XmR chart (NHS Making Data Count): mean, limits at 2.66 average moving ranges; a
    /// point outside, 7 on one side, 7 rising or falling, 2 of 3 beyond 2 sigma. For one
    /// value per period, e.g. a count or a measured value.
    Xmr,
    /// P chart: a proportion with each period's denominator; limits vary by point (wider
    /// for small groups); the XmR chart's four rules. Only for a measure scored as a
    /// proportion.
    P,
    /// Laney's P′ chart: the P chart's limits scaled by the variation between periods.
    /// Use it instead of P when denominators are large (hundreds of students) and the P
    /// chart flags most points.
    PPrime,
    /// U chart: a rate (events per unit of exposure, e.g. absences per student-day) with
    /// each period's exposure; limits vary by point. Only for a measure scored as a ratio.
    U,
    /// Laney's U′ chart: the U chart adjusted as P′ adjusts P, for large exposures.
    UPrime,
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let out = Out {
        json: cli.json,
        id_only: cli.print_id,
    };
    let network = cli.network.as_deref();
    match cli.command {
        Command::Login {
            hub,
            token,
            token_file,
            tls,
        } => cmd::directory::login(out, hub, token, token_file, tls).await,
        Command::Whoami => cmd::directory::whoami(out).await,
        Command::Use { network } => cmd::directory::use_network(out, &network).await,
        Command::Networks(c) => cmd::directory::networks(out, c).await,
        Command::Sites(c) => cmd::directory::sites(out, network, c).await,
        Command::Members(c) => cmd::directory::members(out, network, c).await,
        Command::Docs(c) => cmd::docs::docs(out, network, c).await,
        Command::Aim(c) => cmd::docs::aim(out, network, c).await,
        Command::Idea(c) => cmd::docs::idea(out, network, c).await,
        Command::Measure(c) => cmd::docs::measure(out, network, c).await,
        Command::Cycle(c) => cmd::cycle::cycle(out, network, c).await,
        Command::Driver(c) => cmd::driver::driver(out, network, c).await,
        Command::Equity(c) => cmd::equity::equity(out, network, c).await,
        Command::Coaching(c) => cmd::coaching::coaching(out, network, c).await,
        Command::Feedback(c) => cmd::feedback::feedback(out, network, c).await,
        Command::Interview(c) => cmd::interview::interview(out, network, c).await,
        Command::Rca(c) => cmd::rca::rca(out, network, c).await,
        Command::Audit(c) => cmd::audit::audit(out, network, c).await,
        Command::Plan(c) => cmd::plan::plan(out, network, c).await,
        Command::Compare { change_idea } => cmd::insight::compare(out, network, &change_idea).await,
        Command::Chart {
            measure,
            output,
            site,
            group,
            rules,
        } => cmd::insight::chart(out, network, &measure, &output, site, group, rules).await,
        Command::Series {
            measure,
            site,
            group,
            rules,
        } => cmd::insight::series(out, network, &measure, site, group, rules).await,
        Command::Export {
            table,
            measure,
            idea,
            focal,
            rules,
            format,
            output,
        } => {
            cmd::insight::export(
                out,
                network,
                cmd::insight::ExportArgs {
                    table,
                    measure,
                    idea,
                    focal,
                    rules,
                    format,
                    output,
                },
            )
            .await
        }
        Command::Import(c) => cmd::import::import(out, network, c).await,
        Command::Status => cmd::status::status(out).await,
        Command::Watch { count } => cmd::watch::watch(out, network, count).await,
        Command::Demo => cmd::demo::demo(out).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nic: {e}");
            e.code()
        }
    }
}
