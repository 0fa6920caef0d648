//! Measures: the network's definitions, and a site's data points by period and student group.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

use super::findings::{Finding, Severity};

/// What a measure tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum MeasureType {
    /// The aim's outcome.
    #[default]
    #[autosurgeon(rename = "outcome")]
    Outcome,
    /// Whether the change is carried out.
    #[autosurgeon(rename = "process")]
    Process,
    /// Whether something else got worse.
    #[autosurgeon(rename = "balancing")]
    Balancing,
}

/// How a value is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum Scoring {
    /// Numerator over denominator, as a share.
    #[default]
    #[autosurgeon(rename = "proportion")]
    Proportion,
    /// Numerator over denominator, any ratio.
    #[autosurgeon(rename = "ratio")]
    Ratio,
    /// A count.
    #[autosurgeon(rename = "count")]
    Count,
    /// A measured value.
    #[autosurgeon(rename = "continuous")]
    Continuous,
}

/// Which way is better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum Direction {
    /// Higher is better.
    #[default]
    #[autosurgeon(rename = "up")]
    Up,
    /// Lower is better.
    #[autosurgeon(rename = "down")]
    Down,
}

/// How a measure is taken, precisely enough that two sites count the same thing.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct OperationalDefinition {
    /// What is counted on top.
    #[autosurgeon(missing = "Default::default")]
    pub numerator: Text,
    /// What it is counted out of (empty for counts and continuous values).
    #[autosurgeon(missing = "Default::default")]
    pub denominator: Text,
    /// What is left out.
    #[autosurgeon(missing = "Default::default")]
    pub exclusions: Text,
    /// Where the data comes from.
    #[autosurgeon(missing = "Default::default")]
    pub data_source: Text,
    /// How often, e.g. `weekly`.
    #[autosurgeon(missing = "Default::default")]
    pub frequency: String,
    /// Who collects it.
    #[autosurgeon(missing = "Default::default")]
    pub collected_by: Text,
}

/// A measure definition document's content (network-level).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct MeasureDefinition {
    /// Its name.
    #[autosurgeon(missing = "Default::default")]
    pub name: Text,
    /// Outcome, process or balancing.
    #[autosurgeon(missing = "Default::default")]
    pub measure_type: MeasureType,
    /// How it is taken.
    #[autosurgeon(missing = "Default::default")]
    pub definition: OperationalDefinition,
    /// How a value is computed.
    #[autosurgeon(missing = "Default::default")]
    pub scoring: Scoring,
    /// The unit, e.g. `%`.
    #[autosurgeon(missing = "Default::default")]
    pub unit: String,
    /// Which way is better.
    #[autosurgeon(missing = "Default::default")]
    pub direction: Direction,
    /// The student-group dimensions it is broken down by, e.g. `english_learner`.
    #[autosurgeon(missing = "Default::default")]
    pub group_dimensions: Vec<String>,
    /// The last period (`YYYY-MM-DD`) of the baseline its charts' centre line and limits
    /// are computed from and then extended (frozen); null: every point until the first
    /// rebase.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub baseline_end: Option<String>,
    /// Rebases: each starts new centre lines and limits at a period, typically when a
    /// change is adopted.
    #[autosurgeon(missing = "Default::default")]
    pub rebases: Vec<Rebase>,
}

/// A rebase: from this period on, charts compute a new centre line and limits.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Rebase {
    /// The first period of the new phase, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub from: String,
    /// The last period of the new phase's baseline; null: all of the phase.
    #[autosurgeon(missing = "Default::default")]
    pub baseline_end: Option<String>,
    /// Why, e.g. "adopted the greeter routine (PDSA cycle 3)".
    #[autosurgeon(missing = "Default::default")]
    pub reason: Text,
}

impl MeasureDefinition {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.name.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "name",
                "a measure needs a name",
            ));
        }
        if self.definition.numerator.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "definition",
                "a measure without an operational definition: say exactly what is counted",
            ));
        }
        let needs_denominator = matches!(self.scoring, Scoring::Proportion | Scoring::Ratio);
        if needs_denominator && self.definition.denominator.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "definition.denominator",
                "a proportion or ratio needs its denominator",
            ));
        }
        if self.definition.data_source.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "definition.data_source",
                "say where the data comes from",
            ));
        }
        if self.definition.frequency.trim().is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "definition.frequency",
                "say how often it is collected",
            ));
        }
        let is_date = |s: &str| crate::Period::parse(s).is_ok();
        if let Some(end) = &self.baseline_end
            && !is_date(end)
        {
            found.push(Finding::new(
                Severity::Error,
                "baseline_end",
                "the baseline ends at a period: YYYY-MM-DD",
            ));
        }
        let mut last: Option<&str> = None;
        for (i, r) in self.rebases.iter().enumerate() {
            let field = format!("rebases[{i}]");
            if !is_date(&r.from) || r.baseline_end.as_deref().is_some_and(|e| !is_date(e)) {
                found.push(Finding::new(
                    Severity::Error,
                    field.clone(),
                    "a rebase starts at a period and its baseline ends at one: YYYY-MM-DD",
                ));
            }
            if r.baseline_end
                .as_deref()
                .is_some_and(|e| e < r.from.as_str())
            {
                found.push(Finding::new(
                    Severity::Error,
                    field.clone(),
                    "a rebase's baseline cannot end before it starts",
                ));
            }
            if last.is_some_and(|l| r.from.as_str() <= l)
                || self
                    .baseline_end
                    .as_deref()
                    .is_some_and(|e| r.from.as_str() <= e)
            {
                found.push(Finding::new(
                    Severity::Warning,
                    field.clone(),
                    "rebases come in order, after the baseline",
                ));
            }
            if r.reason.as_str().trim().is_empty() {
                found.push(Finding::new(
                    Severity::Info,
                    field,
                    "say why the limits start again (e.g. the change adopted)",
                ));
            }
            last = Some(r.from.as_str());
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

/// One data point.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Point {
    /// Stable id.
    #[key]
    pub id: String,
    /// The period, `YYYY-MM-DD` (its first day).
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub period: String,
    /// The group: `all`, or `dimension=value` (e.g. `english_learner=yes`).
    #[autosurgeon(missing = "Default::default")]
    pub group: String,
    /// The numerator (proportion, ratio, count).
    #[autosurgeon(missing = "Default::default")]
    pub numerator: Option<f64>,
    /// The denominator (proportion, ratio).
    #[autosurgeon(missing = "Default::default")]
    pub denominator: Option<f64>,
    /// The value (continuous).
    #[autosurgeon(missing = "Default::default")]
    pub value: Option<f64>,
    /// Students behind the point: what privacy suppression looks at.
    #[autosurgeon(missing = "Default::default")]
    pub n: u32,
    /// A note.
    #[autosurgeon(missing = "Default::default")]
    pub note: Text,
}

/// A site's measure data document's content (`site` visibility by default).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct MeasureData {
    /// The measure definition's document id.
    #[autosurgeon(missing = "Default::default")]
    pub measure_id: String,
    /// The points.
    #[autosurgeon(missing = "Default::default")]
    pub points: Vec<Point>,
}

impl MeasureData {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.measure_id.trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "measure_id",
                "data belongs to a measure: link it",
            ));
        }
        for p in &self.points {
            let field = format!("points[{}]", p.id);
            if p.value.is_none() && p.numerator.is_none() {
                found.push(Finding::new(
                    Severity::Error,
                    field.clone(),
                    "a point without a value",
                ));
            }
            if let (Some(num), Some(den)) = (p.numerator, p.denominator)
                && (den <= 0.0 || num > den || num < 0.0)
            {
                found.push(Finding::new(
                    Severity::Error,
                    field.clone(),
                    format!("{num} out of {den} cannot be right"),
                ));
            }
            if p.group != "all" && !p.group.contains('=') {
                found.push(Finding::new(
                    Severity::Warning,
                    field,
                    "a group is `all` or `dimension=value`",
                ));
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}
