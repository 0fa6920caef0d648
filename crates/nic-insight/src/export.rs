//! CSV exports of every table (JSON comes from the types' `Serialize`). Suppressed cells
//! say so in their own column; numbers behind them are never written.

use std::fmt::Write;

use crate::cycles::Comparison;
use crate::series::{Gap, Series};

/// One CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn line(out: &mut String, fields: &[String]) {
    let joined: Vec<String> = fields.iter().map(|f| field(f)).collect();
    let _ = writeln!(out, "{}", joined.join(","));
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// Series as rows: site, group, period, value, n, suppressed (the reason, or empty).
pub fn series_csv(series: &[Series]) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &["site", "group", "period", "value", "n", "suppressed"].map(String::from),
    );
    for s in series {
        for p in &s.points {
            line(
                &mut out,
                &[
                    s.site.clone(),
                    s.group.clone(),
                    p.period.clone(),
                    num(p.value),
                    p.n.map(|n| n.to_string()).unwrap_or_default(),
                    p.suppressed.map(|w| w.explain()).unwrap_or_default(),
                ],
            );
        }
    }
    out
}

/// Signals as rows: site, group, rule, label, first and last period involved, detail.
pub fn signals_csv(series: &[Series]) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &["site", "group", "rule", "label", "from", "to", "detail"].map(String::from),
    );
    for s in series {
        for g in &s.analysis.signals {
            let period = |p: Option<&String>| p.cloned().unwrap_or_default();
            line(
                &mut out,
                &[
                    s.site.clone(),
                    s.group.clone(),
                    format!("{:?}", g.rule),
                    format!("{:?}", g.label).to_lowercase(),
                    period(g.periods.first()),
                    period(g.periods.last()),
                    g.detail.clone(),
                ],
            );
        }
    }
    out
}

/// A comparison as rows: site, cycle, number, start, question, prediction, result,
/// decision, site status, days to adoption.
pub fn comparison_csv(c: &Comparison) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &[
            "change_idea",
            "site",
            "cycle",
            "number",
            "planned_start",
            "question",
            "prediction",
            "result",
            "decision",
            "site_status",
            "days_to_adoption",
        ]
        .map(String::from),
    );
    for site in &c.sites {
        for cycle in &site.cycles {
            let rows = if cycle.predictions.is_empty() {
                vec![None]
            } else {
                cycle.predictions.iter().map(Some).collect()
            };
            for p in rows {
                line(
                    &mut out,
                    &[
                        c.change_idea.clone(),
                        site.site.clone(),
                        cycle.doc.clone(),
                        cycle.number.to_string(),
                        cycle.planned_start.clone().unwrap_or_default(),
                        p.map(|p| p.question.clone()).unwrap_or_default(),
                        p.map(|p| p.prediction.clone()).unwrap_or_default(),
                        p.map(|p| p.result.clone()).unwrap_or_default(),
                        cycle.decision.unwrap_or("").to_owned(),
                        site.status.to_owned(),
                        site.days_to_adoption
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                    ],
                );
            }
        }
    }
    out
}

/// Gaps as rows: site, focal group, reference, period, gap, suppressed.
pub fn gaps_csv(gaps: &[Gap]) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &["site", "focal", "reference", "period", "gap", "suppressed"].map(String::from),
    );
    for g in gaps {
        for p in &g.points {
            line(
                &mut out,
                &[
                    g.site.clone(),
                    g.focal.clone(),
                    format!("{:?}", g.reference).to_lowercase(),
                    p.period.clone(),
                    num(p.gap),
                    p.suppressed.map(|w| w.explain()).unwrap_or_default(),
                ],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
