//! Measures: the network's definitions and a site's data.

use nic_model::schema::measure::{MeasureData, MeasureDefinition};

use super::Page;

pub(super) fn definition(m: &MeasureDefinition) -> String {
    let mut page = Page::default();
    page.line(format!(
        "{} ({:?} measure, {:?}, {:?} is better, unit {})",
        m.name.as_str(),
        m.measure_type,
        m.scoring,
        m.direction,
        if m.unit.is_empty() { "none" } else { &m.unit }
    ));
    let d = &m.definition;
    page.field("numerator", d.numerator.as_str());
    page.field("denominator", d.denominator.as_str());
    page.field("left out", d.exclusions.as_str());
    page.field("data source", d.data_source.as_str());
    page.field("frequency", &d.frequency);
    page.field("collected by", d.collected_by.as_str());
    page.list("groups", &m.group_dimensions);
    page.line(format!(
        "baseline: {}",
        m.baseline_end
            .as_deref()
            .map_or("every point (not frozen)".to_owned(), |e| format!(
                "frozen, up to {e}"
            ))
    ));
    for r in &m.rebases {
        page.line(format!(
            "rebase from {} (baseline {}): {}",
            r.from,
            r.baseline_end
                .as_deref()
                .map_or("all of it".to_owned(), |e| format!("up to {e}")),
            r.reason.as_str()
        ));
    }
    page.findings(&m.validate());
    page.0
}

/// The points by period and group, oldest first.
pub(super) fn data(d: &MeasureData) -> String {
    let mut page = Page::default();
    page.line(format!(
        "measure {}: {} points",
        d.measure_id,
        d.points.len()
    ));
    let mut points: Vec<_> = d.points.iter().collect();
    points.sort_by(|a, b| (&a.period, &a.group).cmp(&(&b.period, &b.group)));
    for p in points {
        let value = match (p.numerator, p.denominator, p.value) {
            (_, _, Some(v)) => v.to_string(),
            (Some(n), Some(d), None) => format!("{n} of {d}"),
            (Some(n), None, None) => n.to_string(),
            _ => "no value".into(),
        };
        let note = p.note.as_str().trim();
        page.line(format!(
            "  {}  {}  {value}  (n={}){}",
            p.period,
            p.group,
            p.n,
            if note.is_empty() {
                String::new()
            } else {
                format!("  {note}")
            }
        ));
    }
    page.findings(&d.validate());
    page.0
}
