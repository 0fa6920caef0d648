//! Cross-site insight from the hub: compare, chart, export.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use nic_proto::v1;
use serde_json::json;

use crate::Rules;
use crate::error::CliError;
use crate::output::Out;
use crate::session::Session;

/// A table to export.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Table {
    /// A measure's series per site and group (needs --measure; --focal for gaps).
    Series,
    /// A change idea's cycles across sites (needs --idea).
    Cycles,
    /// The network at a glance.
    Overview,
    /// Every network you have a role in.
    District,
}

/// A file format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// JSON.
    Json,
}

/// `nic export`'s arguments.
pub struct ExportArgs {
    /// Which table.
    pub table: Table,
    /// The measure, for series.
    pub measure: Option<String>,
    /// The change idea, for cycles.
    pub idea: Option<String>,
    /// The focal group, for gaps.
    pub focal: Option<String>,
    /// The format.
    pub format: Format,
    /// Where to write.
    pub output: Option<PathBuf>,
}

fn rule_set(r: Rules) -> i32 {
    (match r {
        Rules::Ihi => v1::RuleSet::Ihi,
        Rules::Anhoj => v1::RuleSet::Anhoj,
        Rules::Xmr => v1::RuleSet::Xmr,
    }) as i32
}

/// `nic compare`
pub async fn compare(out: Out, network: Option<&str>, idea: &str) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let network = session.config.network(network)?;
    let c = session
        .insight()
        .await?
        .compare_cycles(v1::CompareCyclesRequest {
            network_id: network.to_string(),
            change_idea: idea.to_owned(),
        })
        .await?
        .into_inner();
    if c.sites.is_empty() {
        return Err(CliError::new(
            crate::error::Exit::NotFound,
            format!(
                "no cycles test {idea:?} in {network}; `nic docs list --kind pdsa_cycle` shows the cycles you may read"
            ),
        ));
    }
    let mut rows = Vec::new();
    for s in &c.sites {
        for cy in &s.cycles {
            let p = cy.predictions.first();
            rows.push(vec![
                s.site_id.clone(),
                cy.number.to_string(),
                cy.planned_start.clone(),
                p.map(|p| p.prediction.clone()).unwrap_or_default(),
                p.map(|p| p.result.clone()).unwrap_or_default(),
                if cy.decision.is_empty() {
                    "(open)".into()
                } else {
                    cy.decision.clone()
                },
                s.status.clone(),
                s.days_to_adoption
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ]);
        }
    }
    out.table(
        &[
            "site",
            "cycle",
            "start",
            "predicted",
            "found",
            "decision",
            "site_status",
            "days_to_adopt",
        ],
        &rows,
    );
    if !out.json {
        let d = c.decisions.unwrap_or_default();
        crate::output::line(&format!(
            "\n{idea}: {} adopt, {} adapt, {} abandon, {} open across {} sites",
            d.adopt,
            d.adapt,
            d.abandon,
            d.open,
            c.sites.len()
        ));
    }
    Ok(())
}

/// A measure by document id, or by its title in the network.
pub async fn resolve_measure(
    session: &mut Session,
    network: Option<&str>,
    measure: &str,
) -> Result<String, CliError> {
    if measure.parse::<nic_model::DocumentId>().is_ok() {
        return Ok(measure.to_owned());
    }
    let network = session.config.network(network)?;
    let listed = session
        .documents()
        .await?
        .list(v1::ListDocumentsRequest {
            network_id: network.to_string(),
            kind: v1::DocKind::MeasureDefinition as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await?
        .into_inner();
    let found: Vec<&v1::DocumentMeta> = listed
        .documents
        .iter()
        .filter(|m| m.title.eq_ignore_ascii_case(measure))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.doc_id.clone()),
        [] => Err(CliError::new(
            crate::error::Exit::NotFound,
            format!(
                "no measure called {measure:?} in {network}; `nic docs list --kind measure_definition` lists them"
            ),
        )),
        _ => Err(CliError::invalid(format!(
            "several measures are called {measure:?}; give its document id"
        ))),
    }
}

/// `nic chart`
#[allow(clippy::too_many_arguments)]
pub async fn chart(
    out: Out,
    network: Option<&str>,
    measure: &str,
    output: &Path,
    site: Option<String>,
    group: Option<String>,
    rules: Rules,
) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let measure = resolve_measure(&mut session, network, measure).await?;
    let svg = session
        .insight()
        .await?
        .chart(v1::ChartRequest {
            measure_id: measure,
            site_id: site.unwrap_or_default(),
            group: group.unwrap_or_default(),
            rule_set: rule_set(rules),
        })
        .await?
        .into_inner()
        .svg;
    std::fs::write(output, &svg).map_err(|e| {
        CliError::new(
            crate::error::Exit::Failure,
            format!("cannot write {}: {e}", output.display()),
        )
    })?;
    out.value(
        json!({"file": output, "bytes": svg.len()}),
        &format!(
            "chart written to {} (open it in a browser)",
            output.display()
        ),
    );
    Ok(())
}

/// `nic export`
pub async fn export(out: Out, network: Option<&str>, a: ExportArgs) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let need = |v: Option<String>, flag: &str| {
        v.ok_or_else(|| CliError::invalid(format!("this table needs {flag}")))
    };
    let table = match a.table {
        Table::Series => v1::export_request::Table::Series(v1::MeasureSeriesRequest {
            measure_id: resolve_measure(
                &mut session,
                network,
                &need(a.measure, "--measure MEASURE")?,
            )
            .await?,
            focal_group: a.focal.unwrap_or_default(),
            ..Default::default()
        }),
        Table::Cycles => v1::export_request::Table::Cycles(v1::CompareCyclesRequest {
            network_id: session.config.network(network)?.to_string(),
            change_idea: need(a.idea, "--idea CHANGE_IDEA")?,
        }),
        Table::Overview => v1::export_request::Table::Overview(v1::NetworkOverviewRequest {
            network_id: session.config.network(network)?.to_string(),
        }),
        Table::District => v1::export_request::Table::District(v1::DistrictOverviewRequest {}),
    };
    let file = session
        .insight()
        .await?
        .export(v1::ExportRequest {
            table: Some(table),
            format: (match a.format {
                Format::Csv => v1::ExportFormat::Csv,
                Format::Json => v1::ExportFormat::Json,
            }) as i32,
        })
        .await?
        .into_inner();
    match a.output {
        Some(path) => {
            std::fs::write(&path, &file.data)?;
            out.value(
                json!({"file": path, "bytes": file.data.len()}),
                &format!("{} written to {}", file.filename, path.display()),
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&file.data)?;
        }
    }
    Ok(())
}
