//! Documents: list and show what you may read; create an aim, a change idea, a measure.

use clap::{Subcommand, ValueEnum};
use nic_client::automerge::Automerge;
use nic_model::schema::Text;
use nic_model::schema::{aim::Aim, driver::ChangeIdea, measure};
use nic_model::{DocKind, DocumentId};
use nic_proto::{convert, v1};
use serde_json::json;

use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::session::{Session, settle_writes};

/// `nic docs …`
#[derive(Subcommand)]
pub enum DocsCmd {
    /// List the network's documents you may read.
    List {
        /// Only this kind, e.g. pdsa_cycle, aim, change_idea, measure_definition.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Show one document in readable form.
    Show {
        /// The document's id.
        doc: String,
    },
    /// Who changed a document, what, and when (oldest first).
    History {
        /// The document: its id or a unique prefix.
        doc: String,
    },
}

/// `nic aim …`
#[derive(Subcommand)]
pub enum AimCmd {
    /// Create the network's aim.
    Create {
        /// The aim statement: what, how much, by when, for whom.
        statement: String,
        /// Where things stand now.
        #[arg(long)]
        baseline: Option<f64>,
        /// The target.
        #[arg(long)]
        target: Option<f64>,
        /// The unit of baseline and target, e.g. %.
        #[arg(long, default_value = "")]
        unit: String,
        /// By when, YYYY-MM-DD.
        #[arg(long)]
        by_when: Option<String>,
        /// For whom (student groups), repeatable.
        #[arg(long = "for")]
        for_whom: Vec<String>,
        /// The outcome measure that tracks it (its document id): its charts draw the
        /// target as a line when the units agree.
        #[arg(long, value_name = "MEASURE_ID")]
        outcome_measure: Option<String>,
    },
}

/// `nic idea …`
#[derive(Subcommand)]
pub enum IdeaCmd {
    /// Create a change idea.
    Create {
        /// Its title.
        title: String,
        /// What it is and how to try it.
        #[arg(long, default_value = "")]
        description: String,
    },
}

/// Which way is better.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DirectionArg {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
}

/// How a value is computed.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScoringArg {
    /// Numerator over denominator, shown in %.
    Proportion,
    /// Numerator over denominator.
    Ratio,
    /// A count.
    Count,
    /// A measured value.
    Continuous,
}

/// `nic measure …`
#[derive(Subcommand)]
pub enum MeasureCmd {
    /// Create a measure definition (network level).
    Create {
        /// Its name.
        name: String,
        /// What is counted on top (the operational definition).
        #[arg(long)]
        numerator: String,
        /// What it is counted out of.
        #[arg(long, default_value = "")]
        denominator: String,
        /// How a value is computed.
        #[arg(long, value_enum, default_value = "proportion")]
        scoring: ScoringArg,
        /// Which way is better.
        #[arg(long, value_enum, default_value = "up")]
        direction: DirectionArg,
        /// Student-group dimensions it is broken down by, repeatable.
        #[arg(long = "group-dimension")]
        dimensions: Vec<String>,
    },
    /// Freeze the baseline: charts compute the centre line and limits from the periods up
    /// to --end and extend them, so later points are judged against the baseline. Stored
    /// on the measure definition: every reader sees the same chart.
    Baseline {
        /// The measure: its document id, or its name.
        measure: String,
        /// The baseline's last period, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", required_unless_present = "clear")]
        end: Option<String>,
        /// Remove the frozen baseline (every point of the first phase counts again).
        #[arg(long, conflicts_with = "end")]
        clear: bool,
    },
    /// Rebase: from --from on, charts start a new centre line and limits (typically when a
    /// change is adopted). Stored on the measure definition.
    Rebase {
        /// The measure: its document id, or its name.
        measure: String,
        /// The new phase's first period, YYYY-MM-DD (with --remove: the rebase to remove).
        #[arg(long, value_name = "YYYY-MM-DD", required_unless_present = "clear")]
        from: Option<String>,
        /// The last period of the new phase's baseline (default: all of the phase).
        #[arg(long, value_name = "YYYY-MM-DD")]
        baseline_end: Option<String>,
        /// Why the limits start again, e.g. "adopted number talks (cycle 3)".
        #[arg(long, default_value = "")]
        reason: String,
        /// Remove the rebase at --from instead of adding it.
        #[arg(long, conflicts_with_all = ["baseline_end", "clear"])]
        remove: bool,
        /// Remove every rebase.
        #[arg(long, conflicts_with_all = ["from", "baseline_end"])]
        clear: bool,
    },
}

fn kind(s: &str) -> Result<DocKind, CliError> {
    s.parse::<DocKind>()
        .map_err(|e| CliError::invalid(e.to_string()))
}

/// `nic docs …`
pub async fn docs(out: Out, network: Option<&str>, c: DocsCmd) -> Result<(), CliError> {
    if let DocsCmd::History { doc } = &c {
        return super::history::history(out, network, doc).await;
    }
    let mut session = Session::load()?;
    match c {
        DocsCmd::History { .. } => {}
        DocsCmd::List { kind: k } => {
            let network = session.config.network(network)?;
            let filter = k.as_deref().map(kind).transpose()?;
            let mut rows = Vec::new();
            let mut page_token = String::new();
            let mut docs = session.documents().await?;
            loop {
                let page = docs
                    .list(v1::ListDocumentsRequest {
                        network_id: network.to_string(),
                        kind: filter.map_or(0, |k| convert::kind_to_wire(k) as i32),
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                for m in page.documents {
                    let meta = convert::meta(&m)
                        .map_err(|e| CliError::new(Exit::Failure, e.to_string()))?;
                    rows.push(vec![
                        meta.id.to_string(),
                        meta.kind.as_str().to_owned(),
                        meta.site.map(|s| s.to_string()).unwrap_or_default(),
                        meta.title,
                    ]);
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            out.table(&["id", "kind", "site", "title"], &rows);
        }
        DocsCmd::Show { doc } => {
            let id: DocumentId = doc.parse()?;
            let got = session
                .documents()
                .await?
                .get(v1::GetDocumentRequest {
                    doc_id: id.to_string(),
                })
                .await?
                .into_inner();
            let meta = convert::meta(&got.meta.unwrap_or_default())
                .map_err(|e| CliError::new(Exit::Failure, e.to_string()))?;
            let am = Automerge::load(&got.document).map_err(|e| {
                CliError::new(
                    Exit::Failure,
                    format!("the hub sent a document that does not load: {e}"),
                )
            })?;
            show(out, &meta, &am)?;
        }
    }
    Ok(())
}

/// Renders a document (every kind; the whole content with `--json`): see `render`.
fn show(out: Out, meta: &nic_model::DocMeta, am: &Automerge) -> Result<(), CliError> {
    super::render::show(out, meta, am)
}

/// `nic aim …`
pub async fn aim(out: Out, network: Option<&str>, c: AimCmd) -> Result<(), CliError> {
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let AimCmd::Create {
        statement,
        baseline,
        target,
        unit,
        by_when,
        for_whom,
        outcome_measure,
    } = c;
    if let Some(m) = &outcome_measure {
        m.parse::<DocumentId>()?;
    }
    let value = Aim {
        statement: Text::with_value(&statement),
        baseline,
        target,
        unit,
        by_when,
        for_whom,
        outcome_measure_id: outcome_measure,
        ..Aim::default()
    };
    create(out, &session, network, "Aim", &statement, &value).await
}

/// `nic idea …`
pub async fn idea(out: Out, network: Option<&str>, c: IdeaCmd) -> Result<(), CliError> {
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let IdeaCmd::Create { title, description } = c;
    let value = ChangeIdea {
        title: Text::with_value(&title),
        description: Text::with_value(&description),
        ..ChangeIdea::default()
    };
    create(out, &session, network, "Change idea", &title, &value).await
}

/// `nic measure …`
pub async fn measure(out: Out, network: Option<&str>, c: MeasureCmd) -> Result<(), CliError> {
    let (name, numerator, denominator, scoring, direction, dimensions) = match c {
        MeasureCmd::Create {
            name,
            numerator,
            denominator,
            scoring,
            direction,
            dimensions,
        } => (name, numerator, denominator, scoring, direction, dimensions),
        other => return super::phasing::phasing(out, network, other).await,
    };
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let scoring = match scoring {
        ScoringArg::Proportion => measure::Scoring::Proportion,
        ScoringArg::Ratio => measure::Scoring::Ratio,
        ScoringArg::Count => measure::Scoring::Count,
        ScoringArg::Continuous => measure::Scoring::Continuous,
    };
    let value = measure::MeasureDefinition {
        name: Text::with_value(&name),
        scoring,
        unit: if scoring == measure::Scoring::Proportion {
            "%".into()
        } else {
            String::new()
        },
        direction: match direction {
            DirectionArg::Up => measure::Direction::Up,
            DirectionArg::Down => measure::Direction::Down,
        },
        definition: measure::OperationalDefinition {
            numerator: Text::with_value(&numerator),
            denominator: Text::with_value(&denominator),
            ..Default::default()
        },
        group_dimensions: dimensions,
        ..Default::default()
    };
    create(out, &session, network, "Measure", &name, &value).await
}

async fn create<T: nic_client::Typed>(
    out: Out,
    session: &Session,
    network: nic_model::NetworkId,
    what: &str,
    title: &str,
    value: &T,
) -> Result<(), CliError> {
    let client = session.replica().await?;
    let handle = client.network(network).await?;
    let id = handle.create(title, value).await?;
    let synced = settle_writes(&client).await;
    client.close().await?;
    out.value(
        json!({"id": id.to_string()}),
        &format!("{what} {id} created"),
    );
    synced
}
