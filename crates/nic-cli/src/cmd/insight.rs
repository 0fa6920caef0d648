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
    /// The chart rules, for series.
    pub rules: Rules,
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
        Rules::P => v1::RuleSet::P,
        Rules::PPrime => v1::RuleSet::PPrime,
        Rules::U => v1::RuleSet::U,
        Rules::UPrime => v1::RuleSet::UPrime,
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
            rule_set: rule_set(a.rules),
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

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{}", (v * 100.0).round() / 100.0))
        .unwrap_or_default()
}

/// `nic series`
pub async fn series(
    out: Out,
    network: Option<&str>,
    measure: &str,
    site: Option<String>,
    group: Option<String>,
    rules: Rules,
) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let measure = resolve_measure(&mut session, network, measure).await?;
    let group = group.unwrap_or_else(|| "all".into());
    let r = session
        .insight()
        .await?
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: measure,
            rule_set: rule_set(rules),
            group: group.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let chosen: Vec<&v1::Series> = r
        .series
        .iter()
        .filter(|s| site.as_ref().is_none_or(|site| &s.site_id == site))
        .collect();
    if chosen.is_empty() {
        return Err(CliError::new(
            crate::error::Exit::NotFound,
            format!(
                "{} has no data for group {group}{}",
                r.name,
                site.map(|s| format!(" at site {s}")).unwrap_or_default()
            ),
        ));
    }
    let target = r.target.as_ref().map(
        |t| json!({"value": t.value, "by_when": t.by_when, "unit": t.unit, "aim_id": t.aim_id}),
    );
    if out.json {
        let series: Vec<serde_json::Value> = chosen.iter().map(|s| series_json(s)).collect();
        out.value(
            json!({"measure_id": r.measure_id, "name": r.name, "unit": r.unit,
                   "direction": r.direction, "scoring": r.scoring, "target": target,
                   "warnings": r.warnings, "series": series}),
            "",
        );
        return Ok(());
    }
    let mut rows = Vec::new();
    for s in &chosen {
        let a = s.analysis.clone().unwrap_or_default();
        for (i, p) in s.points.iter().enumerate() {
            let l = a.lines.get(i).cloned().unwrap_or_default();
            let marks: Vec<&str> = a
                .signals
                .iter()
                .filter(|g| g.points.iter().any(|&k| k as usize == i))
                .map(|g| g.rule.as_str())
                .collect();
            rows.push(vec![
                s.site_id.clone(),
                p.period.clone(),
                if p.suppressed.is_empty() {
                    num(p.value)
                } else {
                    "suppressed".into()
                },
                p.n.map(|n| n.to_string()).unwrap_or_default(),
                num(l.centre),
                num(l.lower),
                num(l.upper),
                marks.join(";"),
            ]);
        }
    }
    out.table(
        &[
            "site", "period", "value", "n", "centre", "lower", "upper", "signals",
        ],
        &rows,
    );
    let unit = if r.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", r.unit)
    };
    crate::output::line(&format!("\n{}, {group}:", r.name));
    for s in &chosen {
        let a = s.analysis.clone().unwrap_or_default();
        crate::output::line(&format!(
            "{} ({}, {} phase{}): {}",
            s.site_id,
            a.rule_set,
            a.phases.len(),
            if a.phases.len() == 1 { "" } else { "s" },
            a.verdict_detail
        ));
        for g in &a.signals {
            crate::output::line(&format!("  {} ({}): {}", g.rule, g.label, g.detail));
        }
        for w in &a.warnings {
            crate::output::line(&format!("  note: {w}"));
        }
    }
    if let Some(t) = &r.target {
        crate::output::line(&format!(
            "target: {}{unit}{} (aim {})",
            t.value,
            if t.by_when.is_empty() {
                String::new()
            } else {
                format!(" by {}", t.by_when)
            },
            t.aim_id
        ));
    }
    for w in &r.warnings {
        crate::output::line(&format!("note: {w}"));
    }
    Ok(())
}

fn series_json(s: &v1::Series) -> serde_json::Value {
    let a = s.analysis.clone().unwrap_or_default();
    let points: Vec<serde_json::Value> = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let l = a.lines.get(i).cloned().unwrap_or_default();
            json!({"period": p.period, "value": p.value, "n": p.n, "suppressed": p.suppressed,
                   "centre": l.centre, "lower": l.lower, "upper": l.upper})
        })
        .collect();
    let signals: Vec<serde_json::Value> = a
        .signals
        .iter()
        .map(|g| {
            json!({"rule": g.rule, "label": g.label, "periods": g.periods, "points": g.points,
                   "detail": g.detail})
        })
        .collect();
    let phases: Vec<serde_json::Value> = a
        .phases
        .iter()
        .map(|p| {
            json!({"first": p.first, "last": p.last, "baseline_last": p.baseline_last,
                   "centre": p.centre})
        })
        .collect();
    json!({"site": s.site_id, "group": s.group, "rule_set": a.rule_set,
           "verdict": a.verdict, "verdict_detail": a.verdict_detail, "centre": a.centre,
           "points": points, "signals": signals, "phases": phases, "warnings": a.warnings})
}
