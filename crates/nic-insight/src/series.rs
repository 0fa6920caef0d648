//! A measure's series per site and student group, with what leaves a site suppressed, the
//! chart rules applied to each, and the gap between a focal group and a reference.

use std::collections::{BTreeMap, BTreeSet};

use nic_model::schema::measure::{Direction, MeasureData, MeasureDefinition, Point, Scoring};
use serde::Serialize;

use crate::rules::{Analysis, Counts, PhaseStart, Request, RuleSet, analyse_request};
use crate::suppress::{Block, Fate, Line, MinCell, Suppressed, suppress};

/// The group every breakdown adds up to.
pub const ALL: &str = "all";

/// One data document of the measure.
#[derive(Clone, Debug)]
pub struct SiteData<'a> {
    /// The site (the name its series go by).
    pub site: String,
    /// Whether the document belongs to the network rather than a site. Its cells may be
    /// the network's totals of the sites' cells, so suppression assumes they are.
    pub network_level: bool,
    /// Its data document's content.
    pub data: &'a MeasureData,
}

/// A point of a series: its value and size, or why they are not shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// The period, `YYYY-MM-DD`.
    pub period: String,
    /// The value (a proportion in %, when the measure's unit is `%`); `None` when hidden or
    /// not computable (e.g. a zero denominator).
    pub value: Option<f64>,
    /// Students behind it; `None` when hidden.
    pub n: Option<u32>,
    /// The numerator behind a proportion or rate, when shown (P and U charts use it).
    pub numerator: Option<f64>,
    /// Its denominator, when shown.
    pub denominator: Option<f64>,
    /// Why it is hidden, if it is.
    pub suppressed: Option<Suppressed>,
}

impl SeriesPoint {
    /// A shown point with a value and no counts.
    pub fn shown(period: impl Into<String>, value: f64, n: u32) -> SeriesPoint {
        SeriesPoint {
            period: period.into(),
            value: Some(value),
            n: Some(n),
            numerator: None,
            denominator: None,
            suppressed: None,
        }
    }

    /// A point hidden for `why`.
    pub fn hidden(period: impl Into<String>, why: Suppressed) -> SeriesPoint {
        SeriesPoint {
            period: period.into(),
            value: None,
            n: None,
            numerator: None,
            denominator: None,
            suppressed: Some(why),
        }
    }
}

/// Where a chart's centre line and limits come from over time, as the measure definition
/// stores it: a baseline frozen at a period, and rebases that start new limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Phasing {
    /// The last period of the first baseline (`YYYY-MM-DD`); `None`: every point of the
    /// first phase.
    pub baseline_end: Option<String>,
    /// Rebases: (first period of the new phase, last period of its baseline or `None` for
    /// all of it).
    pub rebases: Vec<(String, Option<String>)>,
}

impl Phasing {
    /// The phasing a measure definition stores.
    pub fn of(def: &MeasureDefinition) -> Phasing {
        Phasing {
            baseline_end: def.baseline_end.clone(),
            rebases: def
                .rebases
                .iter()
                .map(|r| (r.from.clone(), r.baseline_end.clone()))
                .collect(),
        }
    }

    /// The phase starts over the shown periods (sorted).
    fn starts(&self, shown: &[&str]) -> Vec<PhaseStart> {
        let count = |from: &str, to: Option<&String>| {
            to.map(|to| {
                shown
                    .iter()
                    .filter(|p| **p >= from && **p <= to.as_str())
                    .count()
            })
        };
        let mut out = Vec::new();
        if let Some(end) = &self.baseline_end {
            out.push(PhaseStart {
                start: 0,
                baseline: count("", Some(end)).filter(|c| *c > 0),
            });
        }
        for (from, end) in &self.rebases {
            if let Some(start) = shown.iter().position(|p| *p >= from.as_str()) {
                out.push(PhaseStart {
                    start,
                    baseline: count(from, end.as_ref()).filter(|c| *c > 0),
                });
            }
        }
        out
    }
}

/// How a series is analysed.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Which way is better.
    pub direction: Direction,
    /// The rules.
    pub rule_set: RuleSet,
    /// Shown value = scale × numerator / denominator (100 for a proportion in %).
    pub scale: f64,
    /// Baseline and rebases.
    pub phasing: Phasing,
}

impl Options {
    /// The options a measure definition implies for `rule_set`.
    pub fn of(def: &MeasureDefinition, rule_set: RuleSet) -> Options {
        Options {
            direction: def.direction,
            rule_set,
            scale: scale(def),
            phasing: Phasing::of(def),
        }
    }
}

/// What a proportion is multiplied by to be shown: 100 when the unit is `%`.
pub fn scale(def: &MeasureDefinition) -> f64 {
    if def.scoring == Scoring::Proportion && def.unit.trim() == "%" {
        100.0
    } else {
        1.0
    }
}

/// One site's series for one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The site.
    pub site: String,
    /// The group: `all` or `dimension=value`.
    pub group: String,
    /// Its points in period order.
    pub points: Vec<SeriesPoint>,
    /// The rules applied to the points shown (hidden points are left out, so nothing about
    /// them leaks through the centre line). Every index in it (signals, lines, phases)
    /// refers to `points`, suppressed points included: the array that is exported.
    pub analysis: Analysis,
}

impl Series {
    /// A series from its points, one phase, values as given (no P or U counts scaling).
    pub fn new(
        site: impl Into<String>,
        group: impl Into<String>,
        points: Vec<SeriesPoint>,
        direction: Direction,
        rule_set: RuleSet,
    ) -> Series {
        Series::analysed(
            site,
            group,
            points,
            &Options {
                direction,
                rule_set,
                scale: 1.0,
                phasing: Phasing::default(),
            },
        )
    }

    /// A series from its points, the rules applied to the shown ones as `options` say
    /// (hidden points are left out, and a warning says how many).
    pub fn analysed(
        site: impl Into<String>,
        group: impl Into<String>,
        points: Vec<SeriesPoint>,
        options: &Options,
    ) -> Series {
        let shown: Vec<usize> = (0..points.len())
            .filter(|&i| points[i].value.is_some())
            .collect();
        let values: Vec<f64> = shown.iter().filter_map(|&i| points[i].value).collect();
        let counts: Option<Vec<Counts>> = shown
            .iter()
            .map(|&i| {
                let p = &points[i];
                Some(Counts {
                    numerator: p.numerator?,
                    denominator: p.denominator?,
                })
            })
            .collect();
        let periods: Vec<&str> = shown.iter().map(|&i| points[i].period.as_str()).collect();
        let starts = options.phasing.starts(&periods);
        let mut analysis = analyse_request(&Request {
            values: &values,
            counts: counts.as_deref(),
            scale: if options.scale > 0.0 {
                options.scale
            } else {
                1.0
            },
            direction: options.direction,
            rule_set: options.rule_set,
            phases: &starts,
        });
        // Indices of shown points become indices of `points`.
        let at = |k: usize| shown.get(k).copied().unwrap_or(k);
        let mut lines = vec![None; points.len()];
        for (k, l) in analysis.lines.iter().enumerate() {
            lines[at(k)] = *l;
        }
        analysis.lines = lines;
        for phase in &mut analysis.phases {
            phase.first = at(phase.first);
            phase.last = at(phase.last);
            phase.baseline_last = at(phase.baseline_last);
        }
        for signal in &mut analysis.signals {
            for i in &mut signal.points {
                *i = at(*i);
            }
            signal.periods = signal
                .points
                .iter()
                .filter_map(|&i| points.get(i).map(|p| p.period.clone()))
                .collect();
        }
        let hidden = points.iter().filter(|p| p.suppressed.is_some()).count();
        if hidden > 0 {
            analysis.warnings.push(format!(
                "{hidden} suppressed point(s) left out of the analysis"
            ));
        }
        Series {
            site: site.into(),
            group: group.into(),
            points,
            analysis,
        }
    }
}

/// The value a point stands for under the measure's scoring.
pub fn point_value(def: &MeasureDefinition, p: &Point) -> Option<f64> {
    let v = match def.scoring {
        Scoring::Proportion | Scoring::Ratio => match (p.numerator, p.denominator) {
            (Some(num), Some(den)) if den != 0.0 => num / den,
            _ => return None,
        },
        Scoring::Count => p.numerator.or(p.value)?,
        Scoring::Continuous => p.value.or(p.numerator)?,
    };
    let v = v * scale(def);
    v.is_finite().then_some(v)
}

fn dimension(group: &str) -> &str {
    group.split_once('=').map_or(group, |(d, _)| d)
}

/// A site's cells from all of its documents: the latest point per (period, group) wins, a
/// correction replacing what it fixes (documents in the order given).
struct Source<'a> {
    site: String,
    network_level: bool,
    raw: bool,
    cells: BTreeMap<(String, String), &'a Point>,
}

fn sources<'a>(sites: &[SiteData<'a>], raw_sites: &BTreeSet<String>) -> Vec<Source<'a>> {
    let mut out: Vec<Source<'a>> = Vec::new();
    for site in sites {
        let i = match out
            .iter()
            .position(|s| s.site == site.site && s.network_level == site.network_level)
        {
            Some(i) => i,
            None => {
                out.push(Source {
                    site: site.site.clone(),
                    network_level: site.network_level,
                    raw: !site.network_level && raw_sites.contains(&site.site),
                    cells: BTreeMap::new(),
                });
                out.len() - 1
            }
        };
        for p in &site.data.points {
            out[i].cells.insert((p.period.clone(), p.group.clone()), p);
        }
    }
    out
}

/// What the parts of a line leave out of its total.
fn shortfall(block: &Block, total: usize, parts: &[usize]) -> u32 {
    block.n[total].saturating_sub(held(block, parts))
}

/// One period of every source as a suppression [`Block`]: each source's groups under its
/// "all", one line per group dimension, and each network-level cell over the sites' cells
/// of its group. Returns the block and, per cell, its (source, group) when it is a
/// reported cell.
///
/// What a line lacks is an unreported cell, unknown to an attacker (unless it is the
/// reader's own) even when it is empty, since they cannot tell: a source's "all" when it
/// has none (its dimensions still count the same students), and the students its groups
/// leave out of its "all" (one remainder per line, holding the shortfall). With
/// network-level data the lines cross, so each missing (source, group) is a cell of its own
/// on both its lines, and counts as empty: it protects nothing.
fn block<'a>(sources: &'a [Source<'_>], period: &str) -> (Block, Vec<Option<(usize, &'a str)>>) {
    // Every value of every dimension anyone reported: groups an attacker knows exist.
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for src in sources {
        for (_, g) in src.cells.keys() {
            if g != ALL {
                values.entry(dimension(g)).or_default().insert(g.as_str());
            }
        }
    }
    let in_period = |src: &Source<'_>| src.cells.keys().any(|(p, _)| p == period);
    let grid = sources.iter().any(|s| s.network_level && in_period(s));
    let mut block = Block::default();
    let mut at: Vec<BTreeMap<&str, usize>> = Vec::new();
    let mut owner: BTreeMap<usize, (usize, &'a str)> = BTreeMap::new();
    for (i, src) in sources.iter().enumerate() {
        let mut cells: BTreeMap<&str, usize> = BTreeMap::new();
        for ((p, g), point) in &src.cells {
            if p == period {
                let c = block.cell(point.n, src.raw, false);
                cells.insert(g.as_str(), c);
                owner.insert(c, (i, g.as_str()));
            }
        }
        let reported: BTreeSet<&str> = cells.keys().copied().collect();
        let mut dims: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, c) in &cells {
            if *g != ALL {
                dims.entry(dimension(g)).or_default().push(*c);
            }
        }
        if grid {
            for (dim, groups) in &values {
                for g in groups.iter().filter(|g| !reported.contains(*g)) {
                    let c = block.cell(0, src.raw, true);
                    cells.insert(g, c);
                    dims.entry(dim).or_default().push(c);
                }
            }
        }
        if !dims.is_empty() {
            let total = match cells.get(ALL) {
                Some(c) => *c,
                None => {
                    let n = dims.values().map(|d| held(&block, d)).max().unwrap_or(0);
                    let c = block.cell(n, src.raw, true);
                    cells.insert(ALL, c);
                    c
                }
            };
            for (dim, mut parts) in dims {
                let short = shortfall(&block, total, &parts);
                let lacks = values
                    .get(dim)
                    .is_some_and(|v| v.iter().any(|g| !reported.contains(g)));
                // In the grid a lacking group has its own cell already, which also stands
                // for whatever else the shortfall is.
                let remainder = if grid {
                    short > 0 && !lacks
                } else {
                    short > 0 || lacks
                };
                if remainder {
                    parts.push(block.cell(short, src.raw, true));
                }
                block.lines.push(Line { total, parts });
            }
        }
        at.push(cells);
    }
    if grid {
        for (i, src) in sources.iter().enumerate() {
            if !src.network_level {
                continue;
            }
            for (g, &total) in &at[i] {
                let mut parts: Vec<usize> = sources
                    .iter()
                    .enumerate()
                    .filter(|(j, s)| !s.network_level && *j != i)
                    .filter_map(|(j, _)| at[j].get(g).copied())
                    .collect();
                if parts.is_empty() {
                    continue;
                }
                // Students beyond the sites' cells (a site without data for the measure):
                // unknown, unless a missing cell already stands for them.
                let short = shortfall(&block, total, &parts);
                let lacks = parts.iter().any(|&c| block.unreported[c]);
                if short > 0 && !lacks {
                    parts.push(block.cell(short, false, true));
                }
                block.lines.push(Line { total, parts });
            }
        }
    }
    let owner = (0..block.n.len()).map(|c| owner.get(&c).copied()).collect();
    (block, owner)
}

/// The students `cells` hold together.
fn held(block: &Block, cells: &[usize]) -> u32 {
    cells
        .iter()
        .fold(0u32, |sum, &c| sum.saturating_add(block.n[c]))
}

/// Every (site, group) series of the measure. Sites in `raw_sites` are shown as they are
/// (the reader belongs there); everything else is suppressed period by period over the
/// whole network's data at once (one [`Block`] per period, see [`suppress`]), so the
/// decision depends on the data and the reader only, never on which part of the result a
/// request asks for: callers filter what this returns, never what it is given.
pub fn measure_series(
    def: &MeasureDefinition,
    sites: &[SiteData<'_>],
    raw_sites: &BTreeSet<String>,
    min: MinCell,
    rule_set: RuleSet,
) -> Vec<Series> {
    let sources = sources(sites, raw_sites);
    let periods: BTreeSet<&str> = sources
        .iter()
        .flat_map(|s| s.cells.keys().map(|(p, _)| p.as_str()))
        .collect();
    let mut fates: BTreeMap<(usize, &str, &str), Fate> = BTreeMap::new();
    for period in periods {
        let (block, owner) = block(&sources, period);
        for (fate, owner) in suppress(&block, min).into_iter().zip(owner) {
            if let Some((i, group)) = owner {
                fates.insert((i, period, group), fate);
            }
        }
    }
    let mut out = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let groups: BTreeSet<&str> = src.cells.keys().map(|(_, g)| g.as_str()).collect();
        for group in groups {
            let points: Vec<SeriesPoint> = src
                .cells
                .iter()
                .filter(|((_, g), _)| g == group)
                .map(|((period, g), p)| {
                    let fate = fates
                        .get(&(i, period.as_str(), g.as_str()))
                        .copied()
                        // Every reported cell has a fate; hide rather than guess.
                        .unwrap_or(Fate::Hidden(Suppressed::Complementary));
                    match fate {
                        Fate::Hidden(why) => SeriesPoint::hidden(period.clone(), why),
                        Fate::Shown => {
                            let value = point_value(def, p);
                            let counted =
                                matches!(def.scoring, Scoring::Proportion | Scoring::Ratio);
                            SeriesPoint {
                                period: period.clone(),
                                value,
                                n: Some(p.n),
                                numerator: p.numerator.filter(|_| counted && value.is_some()),
                                denominator: p.denominator.filter(|_| counted && value.is_some()),
                                suppressed: None,
                            }
                        }
                    }
                })
                .collect();
            out.push(Series::analysed(
                src.site.clone(),
                group,
                points,
                &Options::of(def, rule_set),
            ));
        }
    }
    out
}

/// What a focal group is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// All students.
    All,
    /// The best-performing other group of the same dimension, period by period.
    Best,
}

/// One period's gap: how far the focal group trails the reference (positive: behind, in
/// the measure's better direction), or why it cannot be shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapPoint {
    /// The period.
    pub period: String,
    /// The gap; `None` when either side is hidden or missing.
    pub gap: Option<f64>,
    /// Why it is hidden, if a side is suppressed.
    pub suppressed: Option<Suppressed>,
}

/// A site's gap series for a focal group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// The site.
    pub site: String,
    /// The focal group, e.g. `english_learner=yes`.
    pub focal: String,
    /// What it is compared with.
    pub reference: Reference,
    /// Period by period.
    pub points: Vec<GapPoint>,
    /// Whether the gap is closing: the later half's mean gap below the earlier half's
    /// (`None` with fewer than 4 shown gaps).
    pub closing: Option<bool>,
}

/// The gap between `focal` and `reference` at each site, from series already suppressed
/// for the reader (so a gap never reveals a hidden value).
pub fn gaps(
    series: &[Series],
    focal: &str,
    reference: Reference,
    direction: Direction,
) -> Vec<Gap> {
    let sites: BTreeSet<&str> = series.iter().map(|s| s.site.as_str()).collect();
    let mut out = Vec::new();
    for site in sites {
        let of_site: Vec<&Series> = series.iter().filter(|s| s.site == site).collect();
        let Some(focal_series) = of_site.iter().find(|s| s.group == focal) else {
            continue;
        };
        let mut points = Vec::new();
        for fp in &focal_series.points {
            let reference_value: Result<Option<f64>, Suppressed> =
                match reference {
                    Reference::All => match point_at(&of_site, ALL, &fp.period) {
                        Some(p) => p.suppressed.map_or(Ok(p.value), Err),
                        None => Ok(None),
                    },
                    Reference::Best => {
                        let others: Vec<&SeriesPoint> = of_site
                            .iter()
                            .filter(|s| {
                                s.group != focal
                                    && s.group != ALL
                                    && dimension(&s.group) == dimension(focal)
                            })
                            .filter_map(|s| s.points.iter().find(|p| p.period == fp.period))
                            .collect();
                        match others.iter().find_map(|p| p.suppressed) {
                            // A hidden group might be the best: the comparison would leak it.
                            Some(why) => Err(why),
                            None => Ok(others.iter().filter_map(|p| p.value).reduce(|a, b| {
                                match direction {
                                    Direction::Up => a.max(b),
                                    Direction::Down => a.min(b),
                                }
                            })),
                        }
                    }
                };
            let point = match (fp.suppressed, reference_value) {
                (Some(why), _) | (None, Err(why)) => GapPoint {
                    period: fp.period.clone(),
                    gap: None,
                    suppressed: Some(why),
                },
                (None, Ok(r)) => GapPoint {
                    period: fp.period.clone(),
                    gap: fp.value.zip(r).map(|(f, r)| match direction {
                        Direction::Up => r - f,
                        Direction::Down => f - r,
                    }),
                    suppressed: None,
                },
            };
            points.push(point);
        }
        let shown: Vec<f64> = points.iter().filter_map(|p| p.gap).collect();
        let closing = (shown.len() >= 4).then(|| {
            let half = shown.len() / 2;
            let early = crate::stats::mean(&shown[..half]).unwrap_or(0.0);
            let late = crate::stats::mean(&shown[shown.len() - half..]).unwrap_or(0.0);
            late < early
        });
        out.push(Gap {
            site: site.to_owned(),
            focal: focal.to_owned(),
            reference,
            points,
            closing,
        });
    }
    out
}

fn point_at<'a>(series: &[&'a Series], group: &str, period: &str) -> Option<&'a SeriesPoint> {
    series
        .iter()
        .find(|s| s.group == group)
        .and_then(|s| s.points.iter().find(|p| p.period == period))
}
