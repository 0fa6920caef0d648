//! What Insight answers, as plain values: cycles compared across sites, measure series with
//! the chart rules' findings, and the network and district overviews. Everything here is
//! already suppressed by the hub for the caller (small groups left out, `suppressed` saying
//! why), so a tool shows it as it is.

use nic_model::{DocKind, DocumentId, NetworkId, SiteId};
use nic_proto::convert;
use nic_proto::v1;
use serde::Serialize;

use super::bad_answer;
use crate::ClientError;

/// A document Insight could not use (its content does not read as its kind), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unusable {
    /// The document.
    pub doc: DocumentId,
    /// Its kind.
    pub kind: Option<DocKind>,
    /// Which field, and what is wrong with it.
    pub reason: String,
}

/// How many sites or cycles decided what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecisionCounts {
    /// Adopted.
    pub adopt: u32,
    /// Adapted (tried again, changed).
    pub adapt: u32,
    /// Abandoned.
    pub abandon: u32,
    /// Not decided yet.
    pub open: u32,
}

/// A question of a cycle with what was predicted and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Prediction {
    /// The question.
    pub question: String,
    /// The prediction made in Plan.
    pub prediction: String,
    /// What happened (Study).
    pub result: String,
}

/// One cycle of a site's ramp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CycleSummary {
    /// The cycle's document.
    pub doc: DocumentId,
    /// Its number in the ramp.
    pub number: u32,
    /// Planned start, YYYY-MM-DD or empty.
    pub planned_start: String,
    /// Planned end, YYYY-MM-DD or empty.
    pub planned_end: String,
    /// Its questions, predictions and results.
    pub predictions: Vec<Prediction>,
    /// What was learned.
    pub learning: String,
    /// The decision (adopt, adapt, abandon) or empty.
    pub decision: String,
}

/// One site's ramp of cycles for a change idea.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteRamp {
    /// The site.
    pub site: SiteId,
    /// Its cycles in order.
    pub cycles: Vec<CycleSummary>,
    /// Its decisions.
    pub decisions: DecisionCounts,
    /// Where the site stands (e.g. testing, adopted).
    pub status: String,
    /// Days from the first cycle's start to adoption, once adopted.
    pub days_to_adoption: Option<i64>,
}

/// A change idea's cycles compared across sites.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The change idea, as the cycles name it.
    pub change_idea: String,
    /// Each site's ramp.
    pub sites: Vec<SiteRamp>,
    /// The decisions of every site.
    pub decisions: DecisionCounts,
    /// Cycles left out because they do not read.
    pub unusable: Vec<Unusable>,
}

/// One period of a series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// The period, YYYY-MM-DD.
    pub period: String,
    /// The value, unless suppressed or missing.
    pub value: Option<f64>,
    /// How many students it counts, unless suppressed.
    pub n: Option<u32>,
    /// Why it is hidden, if it is (e.g. a group below the minimum cell size).
    pub suppressed: String,
}

/// XmR limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// The mean.
    pub mean: f64,
    /// Lower natural process limit.
    pub lower: f64,
    /// Upper natural process limit.
    pub upper: f64,
    /// Lower 2-sigma line.
    pub lower_two_sigma: f64,
    /// Upper 2-sigma line.
    pub upper_two_sigma: f64,
    /// The average moving range.
    pub average_moving_range: f64,
}

/// Something a rule found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// The rule, e.g. shift.
    pub rule: String,
    /// How it reads (improvement, concern, neutral).
    pub label: String,
    /// The periods it covers.
    pub periods: Vec<String>,
    /// In words.
    pub detail: String,
    /// The points (indexes into the series) it covers.
    pub points: Vec<u32>,
}

/// The centre line and limits at one point (they vary by point on P and U charts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PointLines {
    /// Whether the point counts in the analysis.
    pub analysed: bool,
    /// Centre line.
    pub centre: Option<f64>,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
    /// Lower 2-sigma line.
    pub lower_two_sigma: Option<f64>,
    /// Upper 2-sigma line.
    pub upper_two_sigma: Option<f64>,
}

/// One phase of a chart (before and after a rebase).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PhaseLines {
    /// Its first point.
    pub first: u32,
    /// Its last point.
    pub last: u32,
    /// The last point of its baseline.
    pub baseline_last: u32,
    /// Its centre line.
    pub centre: f64,
    /// Its XmR limits, if the rules draw them.
    pub limits: Option<Limits>,
    /// Laney's sigma-z, for P′ and U′.
    pub sigma_z: Option<f64>,
}

/// The chart rules applied to a series.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// The rules, e.g. ihi.
    pub rule_set: String,
    /// The centre line (median or mean).
    pub centre: Option<f64>,
    /// XmR limits, when the rules draw them.
    pub limits: Option<Limits>,
    /// What fired.
    pub signals: Vec<Signal>,
    /// Why the analysis may mislead (too few points, …).
    pub warnings: Vec<String>,
    /// Points not on the centre line (run charts).
    pub useful_observations: Option<u32>,
    /// Runs counted.
    pub runs: Option<u32>,
    /// Crossings of the centre line.
    pub crossings: Option<u32>,
    /// The longest run.
    pub longest_run: Option<u32>,
    /// The overall reading (improvement, concern, stable, …).
    pub verdict: String,
    /// The reading in words.
    pub verdict_detail: String,
    /// Fewest runs expected by chance.
    pub runs_expected_lower: Option<u32>,
    /// Most runs expected by chance.
    pub runs_expected_upper: Option<u32>,
    /// Where the runs limits come from.
    pub runs_source: String,
    /// The longest run allowed (Anhøj).
    pub longest_run_limit: Option<u32>,
    /// The fewest crossings allowed (Anhøj).
    pub crossings_limit: Option<u32>,
    /// The lines at each point.
    pub lines: Vec<PointLines>,
    /// The phases.
    pub phases: Vec<PhaseLines>,
}

/// One site's series for one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The site.
    pub site: SiteId,
    /// `all`, or `dimension=value`.
    pub group: String,
    /// Points in period order.
    pub points: Vec<SeriesPoint>,
    /// The rules' findings.
    pub analysis: Option<Analysis>,
}

/// One period of a gap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapPoint {
    /// The period.
    pub period: String,
    /// The gap, unless suppressed.
    pub gap: Option<f64>,
    /// Why it is hidden, if it is.
    pub suppressed: String,
}

/// A focal group's gap at a site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// The site.
    pub site: SiteId,
    /// The focal group.
    pub focal_group: String,
    /// What it is measured against.
    pub reference: String,
    /// By period.
    pub points: Vec<GapPoint>,
    /// Whether it is closing, when that can be said.
    pub closing: Option<bool>,
}

/// The aim's target as a line on the charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetLine {
    /// The target value.
    pub value: f64,
    /// By when, or empty.
    pub by_when: String,
    /// Its unit.
    pub unit: String,
    /// The aim.
    pub aim: Option<DocumentId>,
}

/// A rebase of a measure's charts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rebase {
    /// The new phase's first period.
    pub from: String,
    /// Its baseline's last period, or empty.
    pub baseline_end: String,
    /// Why.
    pub reason: String,
}

/// A measure's series at every site the caller may see.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasureSeries {
    /// The measure definition.
    pub measure: DocumentId,
    /// Its name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Which way is better.
    pub direction: String,
    /// How a value is computed.
    pub scoring: String,
    /// Groups smaller than this are suppressed.
    pub min_cell_size: u32,
    /// The series.
    pub series: Vec<Series>,
    /// The gaps, when a focal group was asked for.
    pub gaps: Vec<Gap>,
    /// The aim's target line, if any.
    pub target: Option<TargetLine>,
    /// Why the figures may mislead.
    pub warnings: Vec<String>,
    /// The frozen baseline's last period, or empty.
    pub baseline_end: String,
    /// The rebases.
    pub rebases: Vec<Rebase>,
    /// Measure data left out because it does not read.
    pub unusable: Vec<Unusable>,
}

/// A site's status with a change idea.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteStatus {
    /// The site.
    pub site: SiteId,
    /// Where it stands.
    pub status: String,
}

/// A change idea across the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeIdeaStatus {
    /// The change idea, as the cycles name it.
    pub change_idea: String,
    /// Its title.
    pub title: String,
    /// Each site's status.
    pub sites: Vec<SiteStatus>,
    /// The decisions.
    pub decisions: DecisionCounts,
}

/// A measure across the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MeasureStatus {
    /// The measure.
    pub measure: DocumentId,
    /// Its name.
    pub name: String,
    /// Sites whose chart shows improvement.
    pub improvement_sites: Vec<String>,
    /// Sites whose chart shows a concern.
    pub concern_sites: Vec<String>,
}

/// Where a network stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkOverview {
    /// The network.
    pub network: NetworkId,
    /// Its change ideas.
    pub change_ideas: Vec<ChangeIdeaStatus>,
    /// Its measures.
    pub measures: Vec<MeasureStatus>,
    /// How many cycles it has run.
    pub cycles: u32,
    /// Documents left out because they do not read.
    pub unusable: Vec<Unusable>,
}

/// Every network the caller may read, and the equity lens codes tagged across them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistrictOverview {
    /// The networks.
    pub networks: Vec<NetworkOverview>,
    /// Each equity lens code with how many documents carry it.
    pub equity_codes: Vec<(String, u32)>,
    /// Documents left out because they do not read.
    pub unusable: Vec<Unusable>,
}

fn doc(field: &'static str, s: &str) -> Result<DocumentId, ClientError> {
    convert::doc_id(field, s).map_err(bad_answer)
}

fn site(field: &'static str, s: &str) -> Result<SiteId, ClientError> {
    convert::site_id(field, s)
        .map_err(bad_answer)?
        .ok_or_else(|| super::missing(field))
}

pub(crate) fn unusable(list: &[v1::UnusableDocument]) -> Result<Vec<Unusable>, ClientError> {
    list.iter()
        .map(|u| {
            Ok(Unusable {
                doc: doc("unusable.doc_id", &u.doc_id)?,
                kind: convert::kind("unusable.kind", u.kind).ok(),
                reason: u.reason.clone(),
            })
        })
        .collect()
}

fn decisions(d: Option<&v1::DecisionCounts>) -> DecisionCounts {
    d.map(|d| DecisionCounts {
        adopt: d.adopt,
        adapt: d.adapt,
        abandon: d.abandon,
        open: d.open,
    })
    .unwrap_or_default()
}

pub(crate) fn comparison(r: &v1::CompareCyclesResponse) -> Result<Comparison, ClientError> {
    let sites = r
        .sites
        .iter()
        .map(|s| {
            Ok(SiteRamp {
                site: site("ramp.site_id", &s.site_id)?,
                cycles: s
                    .cycles
                    .iter()
                    .map(|c| {
                        Ok(CycleSummary {
                            doc: doc("cycle.doc_id", &c.doc_id)?,
                            number: c.number,
                            planned_start: c.planned_start.clone(),
                            planned_end: c.planned_end.clone(),
                            predictions: c
                                .predictions
                                .iter()
                                .map(|p| Prediction {
                                    question: p.question.clone(),
                                    prediction: p.prediction.clone(),
                                    result: p.result.clone(),
                                })
                                .collect(),
                            learning: c.learning.clone(),
                            decision: c.decision.clone(),
                        })
                    })
                    .collect::<Result<_, ClientError>>()?,
                decisions: decisions(s.decisions.as_ref()),
                status: s.status.clone(),
                days_to_adoption: s.days_to_adoption,
            })
        })
        .collect::<Result<_, ClientError>>()?;
    Ok(Comparison {
        change_idea: r.change_idea.clone(),
        sites,
        decisions: decisions(r.decisions.as_ref()),
        unusable: unusable(&r.unusable_documents)?,
    })
}

fn limits(l: Option<&v1::ProcessLimits>) -> Option<Limits> {
    l.map(|l| Limits {
        mean: l.mean,
        lower: l.lower,
        upper: l.upper,
        lower_two_sigma: l.lower_two_sigma,
        upper_two_sigma: l.upper_two_sigma,
        average_moving_range: l.average_moving_range,
    })
}

fn analysis(a: &v1::Analysis) -> Analysis {
    Analysis {
        rule_set: a.rule_set.clone(),
        centre: a.centre,
        limits: limits(a.limits.as_ref()),
        signals: a
            .signals
            .iter()
            .map(|s| Signal {
                rule: s.rule.clone(),
                label: s.label.clone(),
                periods: s.periods.clone(),
                detail: s.detail.clone(),
                points: s.points.clone(),
            })
            .collect(),
        warnings: a.warnings.clone(),
        useful_observations: a.useful_observations,
        runs: a.runs,
        crossings: a.crossings,
        longest_run: a.longest_run,
        verdict: a.verdict.clone(),
        verdict_detail: a.verdict_detail.clone(),
        runs_expected_lower: a.runs_expected_lower,
        runs_expected_upper: a.runs_expected_upper,
        runs_source: a.runs_source.clone(),
        longest_run_limit: a.longest_run_limit,
        crossings_limit: a.crossings_limit,
        lines: a
            .lines
            .iter()
            .map(|l| PointLines {
                analysed: l.analysed,
                centre: l.centre,
                lower: l.lower,
                upper: l.upper,
                lower_two_sigma: l.lower_two_sigma,
                upper_two_sigma: l.upper_two_sigma,
            })
            .collect(),
        phases: a
            .phases
            .iter()
            .map(|p| PhaseLines {
                first: p.first,
                last: p.last,
                baseline_last: p.baseline_last,
                centre: p.centre,
                limits: limits(p.limits.as_ref()),
                sigma_z: p.sigma_z,
            })
            .collect(),
    }
}

pub(crate) fn measure_series(r: &v1::MeasureSeriesResponse) -> Result<MeasureSeries, ClientError> {
    let series = r
        .series
        .iter()
        .map(|s| {
            Ok(Series {
                site: site("series.site_id", &s.site_id)?,
                group: s.group.clone(),
                points: s
                    .points
                    .iter()
                    .map(|p| SeriesPoint {
                        period: p.period.clone(),
                        value: p.value,
                        n: p.n,
                        suppressed: p.suppressed.clone(),
                    })
                    .collect(),
                analysis: s.analysis.as_ref().map(analysis),
            })
        })
        .collect::<Result<_, ClientError>>()?;
    let gaps = r
        .gaps
        .iter()
        .map(|g| {
            Ok(Gap {
                site: site("gap.site_id", &g.site_id)?,
                focal_group: g.focal_group.clone(),
                reference: g.reference.clone(),
                points: g
                    .points
                    .iter()
                    .map(|p| GapPoint {
                        period: p.period.clone(),
                        gap: p.gap,
                        suppressed: p.suppressed.clone(),
                    })
                    .collect(),
                closing: g.closing,
            })
        })
        .collect::<Result<_, ClientError>>()?;
    let target = match &r.target {
        Some(t) => Some(TargetLine {
            value: t.value,
            by_when: t.by_when.clone(),
            unit: t.unit.clone(),
            aim: if t.aim_id.is_empty() {
                None
            } else {
                Some(doc("target.aim_id", &t.aim_id)?)
            },
        }),
        None => None,
    };
    let phasing = r.phasing.clone().unwrap_or_default();
    Ok(MeasureSeries {
        measure: doc("measure_id", &r.measure_id)?,
        name: r.name.clone(),
        unit: r.unit.clone(),
        direction: r.direction.clone(),
        scoring: r.scoring.clone(),
        min_cell_size: r.min_cell_size,
        series,
        gaps,
        target,
        warnings: r.warnings.clone(),
        baseline_end: phasing.baseline_end,
        rebases: phasing
            .rebases
            .into_iter()
            .map(|b| Rebase {
                from: b.from,
                baseline_end: b.baseline_end,
                reason: b.reason,
            })
            .collect(),
        unusable: unusable(&r.unusable_documents)?,
    })
}

pub(crate) fn network_overview(
    r: &v1::NetworkOverviewResponse,
) -> Result<NetworkOverview, ClientError> {
    Ok(NetworkOverview {
        network: convert::network_id("network_id", &r.network_id).map_err(bad_answer)?,
        change_ideas: r
            .change_ideas
            .iter()
            .map(|c| {
                Ok(ChangeIdeaStatus {
                    change_idea: c.change_idea.clone(),
                    title: c.title.clone(),
                    sites: c
                        .sites
                        .iter()
                        .map(|s| {
                            Ok(SiteStatus {
                                site: site("status.site_id", &s.site_id)?,
                                status: s.status.clone(),
                            })
                        })
                        .collect::<Result<_, ClientError>>()?,
                    decisions: decisions(c.decisions.as_ref()),
                })
            })
            .collect::<Result<_, ClientError>>()?,
        measures: r
            .measures
            .iter()
            .map(|m| {
                Ok(MeasureStatus {
                    measure: doc("measure.measure_id", &m.measure_id)?,
                    name: m.name.clone(),
                    improvement_sites: m.improvement_sites.clone(),
                    concern_sites: m.concern_sites.clone(),
                })
            })
            .collect::<Result<_, ClientError>>()?,
        cycles: r.cycles,
        unusable: unusable(&r.unusable_documents)?,
    })
}

pub(crate) fn district_overview(
    r: &v1::DistrictOverviewResponse,
) -> Result<DistrictOverview, ClientError> {
    Ok(DistrictOverview {
        networks: r
            .networks
            .iter()
            .map(network_overview)
            .collect::<Result<_, _>>()?,
        equity_codes: r
            .equity_codes
            .iter()
            .map(|c| (c.code.clone(), c.count))
            .collect(),
        unusable: unusable(&r.unusable_documents)?,
    })
}
