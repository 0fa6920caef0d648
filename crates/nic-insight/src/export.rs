//! CSV exports of every table (JSON comes from the types' `Serialize`), all written by the
//! `csv` crate through [`rows_csv`]. Suppressed cells say so in their own column; numbers
//! behind them are never written.

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

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// Series as rows: site, group, period, value, n, suppressed (the reason, or empty).
pub fn series_csv(series: &[Series]) -> String {
    let header = ["site", "group", "period", "value", "n", "suppressed"];
    let mut rows = Vec::new();
    for s in series {
        for p in &s.points {
            rows.push([
                s.site.clone(),
                s.group.clone(),
                p.period.clone(),
                num(p.value),
                p.n.map(|n| n.to_string()).unwrap_or_default(),
                p.suppressed.map(|w| w.explain()).unwrap_or_default(),
            ]);
        }
    }
    rows_csv(header, rows)
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
                format!("{:?}", g.rule),
                format!("{:?}", g.label).to_lowercase(),
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
                format!("{:?}", g.reference).to_lowercase(),
                p.period.clone(),
                num(p.gap),
                p.suppressed.map(|w| w.explain()).unwrap_or_default(),
            ]);
        }
    }
    rows_csv(header, rows)
}
