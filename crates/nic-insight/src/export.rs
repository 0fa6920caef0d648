//! CSV exports of every table (JSON comes from the types' `Serialize`), all written by the
//! `csv` crate through [`rows_csv`]. Suppressed cells say so in their own column; numbers
//! behind them are never written.

use crate::chart::Target;
use crate::cycles::Comparison;
use crate::series::{Gap, Series};

/// A table as CSV: the header, then each row, quoted where the `csv` crate must quote
/// (`,` `"` `\r` `\n`), lines ending in `\n`. Every row has the header's width, by type.
pub fn rows_csv<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    // The errors `csv` can return are I/O errors (a Vec takes every write), rows of unequal
    // width (`N` rules them out) and invalid UTF-8 (every field is a `str`).
    write_rows(header, rows).expect("CSV into memory cannot fail")
}

fn write_rows<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(row.iter().map(|f| spreadsheet_safe(f).into_owned()))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A field a spreadsheet will not run as a formula: text that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's advice for CSV injection).
/// Numbers, negative ones included, are left as they are. Site, group, idea and question
/// names come from users, and coaches open these files in spreadsheets.
pub fn spreadsheet_safe(field: &str) -> std::borrow::Cow<'_, str> {
    let risky = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && field.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

/// A value's wire name, from its Rust name (`TooFewRuns` → `too_few_runs`), as the
/// JSON export and the API spell it.
pub fn snake(v: impl std::fmt::Debug) -> String {
    let debug = format!("{v:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// The series CSV's columns, in order.
pub const SERIES_COLUMNS: [&str; 20] = [
    "site",
    "group",
    "period",
    "value",
    "n",
    "suppressed",
    "centre",
    "lower_limit",
    "upper_limit",
    "lower_two_sigma",
    "upper_two_sigma",
    "phase",
    "baseline",
    "signals",
    "signal_labels",
    "phase_signals",
    "target",
    "target_by_when",
    "rule_set",
    "verdict",
];

/// Series as rows, one per point: the point (its value and size, or why it is
/// suppressed), the lines at it (centre, limits, 2-sigma lines: empty where the rule set
/// has none or the point is not analysed), its phase (1-based) and whether it is in that
/// phase's baseline, the rules that mark it and their labels (`;`-joined, in the same
/// order), the whole-series rules of its phase (too few or too many runs, few crossings:
/// on every analysed point of the phase), and the target line, the rule set and the
/// series' verdict (the same on every row of a series).
pub fn series_csv(series: &[Series], target: Option<&Target>) -> String {
    let mut rows = Vec::new();
    let target_value = num(target.map(|t| t.value));
    let target_by = target.and_then(|t| t.by_when.clone()).unwrap_or_default();
    for s in series {
        let a = &s.analysis;
        let rule_set = snake(a.rule_set);
        let verdict = a.verdict.describe();
        for (i, p) in s.points.iter().enumerate() {
            let lines = a.lines.get(i).copied().flatten();
            let phase = a
                .phases
                .iter()
                .position(|ph| ph.first <= i && i <= ph.last)
                .filter(|_| lines.is_some());
            let baseline = phase.map(|k| {
                if i <= a.phases[k].baseline_last {
                    "yes"
                } else {
                    "no"
                }
            });
            let marking: Vec<&crate::rules::Signal> =
                a.signals.iter().filter(|g| g.points.contains(&i)).collect();
            let (whole, own): (Vec<_>, Vec<_>) =
                marking.into_iter().partition(|g| g.rule.is_whole_series());
            let joined = |gs: &[&crate::rules::Signal],
                          f: &dyn Fn(&crate::rules::Signal) -> String| {
                gs.iter().map(|g| f(g)).collect::<Vec<_>>().join(";")
            };
            rows.push([
                s.site.clone(),
                s.group.clone(),
                p.period.clone(),
                num(p.value),
                p.n.map(|n| n.to_string()).unwrap_or_default(),
                p.suppressed.map(|w| w.explain()).unwrap_or_default(),
                num(lines.map(|l| l.centre)),
                num(lines.and_then(|l| l.lower)),
                num(lines.and_then(|l| l.upper)),
                num(lines.and_then(|l| l.lower_two_sigma)),
                num(lines.and_then(|l| l.upper_two_sigma)),
                phase.map(|k| (k + 1).to_string()).unwrap_or_default(),
                baseline.unwrap_or_default().to_owned(),
                joined(&own, &|g| snake(g.rule)),
                joined(&own, &|g| snake(g.label)),
                joined(&whole, &|g| snake(g.rule)),
                target_value.clone(),
                target_by.clone(),
                rule_set.clone(),
                verdict.clone(),
            ]);
        }
    }
    rows_csv(SERIES_COLUMNS, rows)
}

/// Signals as rows: site, group, rule, label, first and last period involved, detail.
pub fn signals_csv(series: &[Series]) -> String {
    let header = ["site", "group", "rule", "label", "from", "to", "detail"];
    let mut rows = Vec::new();
    for s in series {
        for g in &s.analysis.signals {
            let period = |p: Option<&String>| p.cloned().unwrap_or_default();
            rows.push([
                s.site.clone(),
                s.group.clone(),
                snake(g.rule),
                snake(g.label),
                period(g.periods.first()),
                period(g.periods.last()),
                g.detail.clone(),
            ]);
        }
    }
    rows_csv(header, rows)
}

/// A comparison as rows: site, cycle, number, start, question, prediction, result,
/// decision, site status, days to adoption.
pub fn comparison_csv(c: &Comparison) -> String {
    let header = [
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
    ];
    let mut rows = Vec::new();
    for site in &c.sites {
        for cycle in &site.cycles {
            let questions = if cycle.predictions.is_empty() {
                vec![None]
            } else {
                cycle.predictions.iter().map(Some).collect()
            };
            for p in questions {
                rows.push([
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
                ]);
            }
        }
    }
    rows_csv(header, rows)
}

/// Gaps as rows: site, focal group, reference, period, gap, suppressed.
pub fn gaps_csv(gaps: &[Gap]) -> String {
    let header = ["site", "focal", "reference", "period", "gap", "suppressed"];
    let mut rows = Vec::new();
    for g in gaps {
        for p in &g.points {
            rows.push([
                g.site.clone(),
                g.focal.clone(),
                snake(g.reference),
                p.period.clone(),
                num(p.gap),
                p.suppressed.map(|w| w.explain()).unwrap_or_default(),
            ]);
        }
    }
    rows_csv(header, rows)
}
