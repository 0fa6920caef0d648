//! Documents: list and show what you may read; create an aim, a change idea, a measure.

use clap::{Subcommand, ValueEnum};
use nic_client::automerge::Automerge;
use nic_model::DocKind;
use nic_model::schema::Text;
use nic_model::schema::{aim::Aim, driver::ChangeIdea, measure};
use serde_json::json;

use crate::error::CliError;
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
        /// The outcome measure that tracks it (its id, id prefix or name): its charts draw the
        /// target as a line when the units agree.
        #[arg(long, value_name = "MEASURE_ID")]
        outcome_measure: Option<String>,
        /// An equity lens code the network defines (`nic equity list`), repeatable.
        #[arg(long)]
        code: Vec<String>,
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
        /// An equity lens code the network defines (`nic equity list`), repeatable.
        #[arg(long)]
        code: Vec<String>,
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
        #[command(flatten)]
        fields: super::measures::MeasureFields,
    },
    /// Change a measure definition: only the fields given.
    Edit {
        /// The measure (id or unique prefix).
        measure: String,
        /// Its name.
        #[arg(long)]
        name: Option<String>,
        /// What is counted on top.
        #[arg(long)]
        numerator: Option<String>,
        /// What it is counted out of.
        #[arg(long)]
        denominator: Option<String>,
        /// How a value is computed.
        #[arg(long, value_enum)]
        scoring: Option<ScoringArg>,
        /// Which way is better.
        #[arg(long, value_enum)]
        direction: Option<DirectionArg>,
        /// Student-group dimensions (replace the old ones), repeatable.
        #[arg(long = "group-dimension")]
        dimensions: Vec<String>,
        #[command(flatten)]
        fields: super::measures::MeasureFields,
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
    let hub = session.hub()?;
    match c {
        DocsCmd::History { .. } => {}
        DocsCmd::List { kind: k } => {
            let network = session.config.network(network)?;
            let filter = k.as_deref().map(kind).transpose()?;
            let rows: Vec<Vec<String>> = hub
                .list_documents(&network, None, filter, false)
                .await?
                .into_iter()
                .map(|meta| {
                    vec![
                        meta.id.to_string(),
                        meta.kind.as_str().to_owned(),
                        meta.site.map(|s| s.to_string()).unwrap_or_default(),
                        meta.title,
                    ]
                })
                .collect();
            out.table(&["id", "kind", "site", "title"], &rows);
        }
        DocsCmd::Show { doc } => {
            let network = session.config.network(network).ok();
            let id = super::names::doc_on_hub(&hub, network.as_ref(), &doc).await?;
            let got = hub.get_document(id).await?;
            show(out, &got.meta, &got.doc)?;
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
    let mut session = Session::load()?;
    let given_network = network;
    let network = session.config.network(network)?;
    let AimCmd::Create {
        statement,
        baseline,
        target,
        unit,
        by_when,
        for_whom,
        outcome_measure,
        code,
    } = c;
    // By id, prefix or name, stored as the full id.
    let outcome_measure = match outcome_measure {
        Some(m) => Some(
            super::insight::resolve_measure(&mut session, given_network, &m)
                .await?
                .to_string(),
        ),
        None => None,
    };
    let value = Aim {
        statement: Text::with_value(&statement),
        baseline,
        target,
        unit,
        by_when,
        for_whom,
        outcome_measure_id: outcome_measure,
        equity_codes: code,
        ..Aim::default()
    };
    let codes = value.equity_codes.clone();
    create(
        out,
        &session,
        network,
        "Aim",
        &statement,
        &value,
        Some(&codes),
    )
    .await
}

/// `nic idea …`
pub async fn idea(out: Out, network: Option<&str>, c: IdeaCmd) -> Result<(), CliError> {
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let IdeaCmd::Create {
        title,
        description,
        code,
    } = c;
    let value = ChangeIdea {
        title: Text::with_value(&title),
        description: Text::with_value(&description),
        equity_codes: code,
        ..ChangeIdea::default()
    };
    let codes = value.equity_codes.clone();
    create(
        out,
        &session,
        network,
        "Change idea",
        &title,
        &value,
        Some(&codes),
    )
    .await
}

/// `nic measure …`
pub async fn measure(out: Out, network: Option<&str>, c: MeasureCmd) -> Result<(), CliError> {
    let (name, numerator, denominator, scoring, direction, dimensions, fields) = match c {
        MeasureCmd::Create {
            name,
            numerator,
            denominator,
            scoring,
            direction,
            dimensions,
            fields,
        } => (
            name,
            numerator,
            denominator,
            scoring,
            direction,
            dimensions,
            fields,
        ),
        MeasureCmd::Edit {
            measure,
            name,
            numerator,
            denominator,
            scoring,
            direction,
            dimensions,
            fields,
        } => {
            let e = super::measures::Edit {
                measure,
                name,
                numerator,
                denominator,
                scoring,
                direction,
                dimensions,
                fields,
            };
            return super::measures::edit(out, network, e).await;
        }
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
    let mut value = measure::MeasureDefinition {
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
    fields.apply(&mut value);
    create(out, &session, network, "Measure", &name, &value, None).await
}

async fn create<T: nic_client::Typed>(
    out: Out,
    session: &Session,
    network: nic_model::NetworkId,
    what: &str,
    title: &str,
    value: &T,
    codes: Option<&[String]>,
) -> Result<(), CliError> {
    let client = session.replica().await?;
    let handle = client.network(network).await?;
    if let Some(codes) = codes.filter(|c| !c.is_empty()) {
        crate::session::settle_reads(&client).await;
        if let Err(e) = super::equity::check(&handle, codes).await {
            client.close().await?;
            return Err(e);
        }
    }
    let id = handle.create(title, value).await?;
    let synced = settle_writes(&client).await;
    client.close().await?;
    out.value(
        json!({"id": id.to_string()}),
        &format!("{what} {id} created"),
    );
    synced
}
