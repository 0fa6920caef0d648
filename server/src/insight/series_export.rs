//! A measure's series as a file that describes itself: the measure (name, unit, direction,
//! scoring), the rules applied, the target line and the phasing beside the series, so a
//! reader needs nothing else to redraw the chart.

use nic_insight::export;
use nic_insight::series::{Gap, Series};
use nic_model::schema::measure::{Direction, MeasureDefinition, Scoring};
use nic_proto::v1;
use serde::Serialize;

use super::target::TargetLine;

/// The series export's JSON shape. Signals' `points` index their series' `points` (the
/// array written here, suppressed points included); their `periods` name the same points.
#[derive(Serialize)]
pub(crate) struct SeriesExport {
    measure_id: String,
    name: String,
    unit: String,
    direction: &'static str,
    scoring: &'static str,
    rule_set: String,
    min_cell_size: u32,
    target: Option<TargetJson>,
    phasing: PhasingJson,
    warnings: Vec<String>,
    series: Vec<Series>,
    gaps: Vec<Gap>,
}

#[derive(Serialize)]
struct TargetJson {
    value: f64,
    by_when: Option<String>,
    unit: String,
    aim_id: String,
    label: String,
}

#[derive(Serialize)]
struct PhasingJson {
    baseline_end: Option<String>,
    rebases: Vec<RebaseJson>,
}

#[derive(Serialize)]
struct RebaseJson {
    from: String,
    baseline_end: Option<String>,
    reason: String,
}

/// What a series export is made from.
pub(crate) struct Parts<'a> {
    pub(crate) measure_id: String,
    pub(crate) def: &'a MeasureDefinition,
    pub(crate) rule_set: nic_insight::RuleSet,
    pub(crate) min_cell_size: u32,
    pub(crate) target: Option<&'a TargetLine>,
    pub(crate) warnings: Vec<String>,
    pub(crate) series: Vec<Series>,
    pub(crate) gaps: Vec<Gap>,
}

pub(crate) fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}

pub(crate) fn scoring(s: Scoring) -> &'static str {
    match s {
        Scoring::Proportion => "proportion",
        Scoring::Ratio => "ratio",
        Scoring::Count => "count",
        Scoring::Continuous => "continuous",
    }
}

/// The JSON document.
pub(crate) fn json(p: Parts<'_>) -> SeriesExport {
    SeriesExport {
        measure_id: p.measure_id,
        name: p.def.name.as_str().to_owned(),
        unit: p.def.unit.clone(),
        direction: direction(p.def.direction),
        scoring: scoring(p.def.scoring),
        rule_set: export::snake(p.rule_set),
        min_cell_size: p.min_cell_size,
        target: p.target.map(|t| TargetJson {
            value: t.line.value,
            by_when: t.line.by_when.clone(),
            unit: t.unit.clone(),
            aim_id: t.aim_id.clone(),
            label: t.line.label.clone(),
        }),
        phasing: PhasingJson {
            baseline_end: p.def.baseline_end.clone(),
            rebases: p
                .def
                .rebases
                .iter()
                .map(|r| RebaseJson {
                    from: r.from.clone(),
                    baseline_end: r.baseline_end.clone(),
                    reason: r.reason.as_str().to_owned(),
                })
                .collect(),
        },
        warnings: p.warnings,
        series: p.series,
        gaps: p.gaps,
    }
}

/// The target line in its wire form.
pub(crate) fn target(t: &TargetLine) -> v1::Target {
    v1::Target {
        value: t.line.value,
        by_when: t.line.by_when.clone().unwrap_or_default(),
        unit: t.unit.clone(),
        aim_id: t.aim_id.clone(),
    }
}

/// The measure's phasing in its wire form.
pub(crate) fn phasing(def: &MeasureDefinition) -> v1::Phasing {
    v1::Phasing {
        baseline_end: def.baseline_end.clone().unwrap_or_default(),
        rebases: def
            .rebases
            .iter()
            .map(|r| v1::Rebase {
                from: r.from.clone(),
                baseline_end: r.baseline_end.clone().unwrap_or_default(),
                reason: r.reason.as_str().to_owned(),
            })
            .collect(),
    }
}
