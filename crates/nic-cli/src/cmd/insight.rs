//! Cross-site insight from the hub: compare, chart, export.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use nic_client::hub::{ExportFormat, ExportTable, RuleSet, Series, SeriesQuery};
use nic_model::{DocKind, DocumentId};
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

fn rule_set(r: Rules) -> RuleSet {
    match r {
        Rules::Ihi => RuleSet::Ihi,
        Rules::Anhoj => RuleSet::Anhoj,
        Rules::Xmr => RuleSet::Xmr,
        Rules::P => RuleSet::P,
        Rules::PPrime => RuleSet::PPrime,
        Rules::U => RuleSet::U,
        Rules::UPrime => RuleSet::UPrime,
    }
}

/// `nic compare`
pub async fn compare(out: Out, network: Option<&str>, idea: &str) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let network = session.config.network(network)?;
    let c = session.hub()?.compare_cycles(&network, idea).await?;
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
                s.site.to_string(),
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
        let d = c.decisions;
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

/// A measure by document id, a unique prefix of its id, or its title in the network.
pub async fn resolve_measure(
    session: &mut Session,
    network: Option<&str>,
    measure: &str,
) -> Result<DocumentId, CliError> {
    if let Ok(id) = measure.parse::<DocumentId>() {
        return Ok(id);
    }
    let network = session.config.network(network)?;
    let listed = session
        .hub()?
        .list_documents(&network, None, Some(DocKind::MeasureDefinition), false)
        .await?;
    let found: Vec<DocumentId> = listed
        .iter()
        .filter(|m| m.title.eq_ignore_ascii_case(measure))
        .map(|m| m.id)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let known: Vec<(DocumentId, String)> =
                listed.into_iter().map(|m| (m.id, m.title)).collect();
            super::names::by_prefix(measure, &known).map_err(|_| {
                CliError::new(
                    crate::error::Exit::NotFound,
                    format!(
                        "no measure called {measure:?} (or with an id starting so) in {network}; `nic docs list --kind measure_definition` lists them"
                    ),
                )
            })
        }
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
    let site = site.map(nic_model::SiteId::new).transpose()?;
    let (svg, _) = session
        .hub()?
        .chart(measure, site.as_ref(), group.as_deref(), rule_set(rules))
        .await?;
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
        Table::Series => ExportTable::Series {
            measure: resolve_measure(
                &mut session,
                network,
                &need(a.measure, "--measure MEASURE")?,
            )
            .await?,
            query: SeriesQuery {
                rules: rule_set(a.rules),
                focal_group: a.focal,
                ..SeriesQuery::default()
            },
        },
        Table::Cycles => ExportTable::Cycles {
            network: session.config.network(network)?,
            change_idea: need(a.idea, "--idea CHANGE_IDEA")?,
        },
        Table::Overview => ExportTable::Overview {
            network: session.config.network(network)?,
        },
        Table::District => ExportTable::District,
    };
    let format = match a.format {
        Format::Csv => ExportFormat::Csv,
        Format::Json => ExportFormat::Json,
    };
    let file = session.hub()?.export(&table, format).await?;
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
    let query = SeriesQuery {
        rules: rule_set(rules),
        group: Some(group.clone()),
        ..SeriesQuery::default()
    };
    let r = session.hub()?.measure_series(measure, &query).await?;
    let chosen: Vec<&Series> = r
        .series
        .iter()
        .filter(|s| site.as_ref().is_none_or(|site| s.site.as_str() == site))
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
        |t| json!({"value": t.value, "by_when": t.by_when, "unit": t.unit, "aim_id": t.aim.map(|a| a.to_string()).unwrap_or_default()}),
    );
    if out.json {
        let series: Vec<serde_json::Value> = chosen.iter().map(|s| series_json(s)).collect();
        out.value(
            json!({"measure_id": r.measure.to_string(), "name": r.name, "unit": r.unit,
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
                s.site.to_string(),
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
            s.site,
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
            t.aim.map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    for w in &r.warnings {
        crate::output::line(&format!("note: {w}"));
    }
    Ok(())
}

fn series_json(s: &Series) -> serde_json::Value {
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
    json!({"site": s.site, "group": s.group, "rule_set": a.rule_set,
           "verdict": a.verdict, "verdict_detail": a.verdict_detail, "centre": a.centre,
           "points": points, "signals": signals, "phases": phases, "warnings": a.warnings})
}
