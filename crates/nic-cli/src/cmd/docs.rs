//! Documents: list and show what you may read; create an aim, a change idea, a measure.

use clap::{Subcommand, ValueEnum};
use nic_client::automerge::Automerge;
use nic_model::schema::{self, Text};
use nic_model::schema::{aim::Aim, driver::ChangeIdea, measure, pdsa::PdsaCycle};
use nic_model::{DocKind, DocumentId};
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
    let mut session = Session::load()?;
    let hub = session.hub()?;
    match c {
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

fn read<T: autosurgeon::Hydrate>(am: &Automerge, kind: DocKind) -> Result<T, CliError> {
    schema::read(am, kind).map_err(|e| CliError::invalid(e.to_string()))
}

fn show(out: Out, meta: &nic_model::DocMeta, am: &Automerge) -> Result<(), CliError> {
    let head = format!(
        "{} — {} ({}{})",
        meta.title,
        meta.kind.as_str(),
        meta.network,
        meta.site
            .as_ref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    );
    match meta.kind {
        DocKind::PdsaCycle => {
            let c: PdsaCycle = read(am, meta.kind)?;
            let mut text = format!(
                "{head}\nchange idea: {}   cycle {}   purpose: {:?}\nplanned: {} to {}\nplan: {}\n",
                c.change_idea_id,
                c.cycle_number,
                c.purpose,
                c.planned_start.as_deref().unwrap_or("?"),
                c.planned_end.as_deref().unwrap_or("?"),
                c.plan.objective.as_str()
            );
            for q in &c.plan.questions {
                let result = c
                    .study
                    .results
                    .iter()
                    .find(|r| r.question_id == q.id)
                    .map_or("", |r| r.result.as_str());
                text.push_str(&format!(
                    "  question: {}\n    predicted: {}\n    found: {}\n",
                    q.question.as_str(),
                    q.prediction.as_str(),
                    result
                ));
            }
            text.push_str(&format!(
                "do: {}\nstudy: {}\nact: {} {}",
                c.do_.what_happened.as_str(),
                c.study.learning.as_str(),
                c.act
                    .decision
                    .map(|d| format!("{d:?}").to_lowercase())
                    .unwrap_or_else(|| "(open)".into()),
                c.act.rationale.as_str()
            ));
            for f in c.validate() {
                text.push_str(&format!("\nnote: {}: {}", f.field, f.message));
            }
            out.value(
                json!({"id": meta.id.to_string(), "kind": "pdsa_cycle", "change_idea": c.change_idea_id,
                       "cycle_number": c.cycle_number, "decision": c.act.decision.map(|d| format!("{d:?}").to_lowercase()),
                       "predictions": c.plan.questions.iter().map(|q| q.prediction.as_str().to_owned()).collect::<Vec<_>>(),
                       "learning": c.study.learning.as_str()}),
                &text,
            );
        }
        DocKind::Aim => {
            let a: Aim = read(am, meta.kind)?;
            out.value(
                json!({"id": meta.id.to_string(), "kind": "aim", "statement": a.statement.as_str(),
                       "baseline": a.baseline, "target": a.target, "by_when": a.by_when,
                       "outcome_measure_id": a.outcome_measure_id}),
                &format!(
                    "{head}\n{}\nbaseline {} → target {} {} by {}; for {}\noutcome measure: {}",
                    a.statement.as_str(),
                    a.baseline.map_or("?".into(), |v| v.to_string()),
                    a.target.map_or("?".into(), |v| v.to_string()),
                    a.unit,
                    a.by_when.as_deref().unwrap_or("?"),
                    a.for_whom.join(", "),
                    a.outcome_measure_id
                        .as_deref()
                        .unwrap_or("none (no chart shows its target)")
                ),
            );
        }
        DocKind::ChangeIdea => {
            let c: ChangeIdea = read(am, meta.kind)?;
            out.value(
                json!({"id": meta.id.to_string(), "kind": "change_idea", "title": c.title.as_str(), "description": c.description.as_str()}),
                &format!("{head}\n{}\n{}", c.title.as_str(), c.description.as_str()),
            );
        }
        DocKind::MeasureDefinition => {
            let m: measure::MeasureDefinition = read(am, meta.kind)?;
            let mut text = format!(
                "{head}\n{} ({:?}, {:?} is better, unit {})\nnumerator: {}\ndenominator: {}\ngroups: {}",
                m.name.as_str(),
                m.scoring,
                m.direction,
                m.unit,
                m.definition.numerator.as_str(),
                m.definition.denominator.as_str(),
                m.group_dimensions.join(", ")
            );
            text.push_str(&format!(
                "\nbaseline: {}",
                m.baseline_end
                    .as_deref()
                    .map_or("every point (not frozen)".to_owned(), |e| format!(
                        "frozen, up to {e}"
                    ))
            ));
            for r in &m.rebases {
                text.push_str(&format!(
                    "\nrebase from {} (baseline {}): {}",
                    r.from,
                    r.baseline_end
                        .as_deref()
                        .map_or("all of it".to_owned(), |e| format!("up to {e}")),
                    r.reason.as_str()
                ));
            }
            for f in m.validate() {
                text.push_str(&format!("\nnote: {}: {}", f.field, f.message));
            }
            let rebases: Vec<serde_json::Value> = m
                .rebases
                .iter()
                .map(|r| json!({"from": r.from, "baseline_end": r.baseline_end, "reason": r.reason.as_str()}))
                .collect();
            out.value(
                json!({"id": meta.id.to_string(), "kind": "measure_definition", "name": m.name.as_str(),
                       "unit": m.unit, "groups": m.group_dimensions,
                       "baseline_end": m.baseline_end, "rebases": rebases}),
                &text,
            );
        }
        DocKind::MeasureData => {
            let d: measure::MeasureData = read(am, meta.kind)?;
            out.value(
                json!({"id": meta.id.to_string(), "kind": "measure_data", "measure_id": d.measure_id, "points": d.points.len()}),
                &format!("{head}\nmeasure {}: {} points", d.measure_id, d.points.len()),
            );
        }
        other => {
            let (kind, schema_version) = schema::envelope(am);
            out.value(
                json!({"id": meta.id.to_string(), "kind": other.as_str()}),
                &format!(
                    "{head}\n(a {} document, schema {}; `nic --json docs show` or the client library reads it whole)",
                    kind.unwrap_or_default(),
                    schema_version.unwrap_or(0)
                ),
            );
        }
    }
    Ok(())
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
        code,
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
