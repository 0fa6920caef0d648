//! Charts people would rather look at: run charts and XmR charts as standalone SVG — the
//! centre line, limits, signals highlighted by what they mean, suppressed points marked as
//! such, PDSA cycles annotated at their dates by change idea — and small multiples of one
//! measure across sites on a shared scale.
//!
//! A coach reads them at a glance: y ticks at round values with the unit beside the axis,
//! line labels in a right-hand margin, cycle labels in a lane above the plot, a legend of
//! what is drawn, and every finding listed in full under the plot (the chart grows to fit
//! them). No text covers another or a data point; [`chart_layout`] returns the boxes drawn
//! so that tests can check it.
//!
//! - `axis` — nice-number ticks, the period axis' name;
//! - `marks` — PDSA cycle marks and their label lane;
//! - `notes` — the findings in words;
//! - `legend` — the legend;
//! - `panel` — one chart, top to bottom;
//! - `layout` — text widths, boxes, wrapping.

mod axis;
mod layout;
mod legend;
mod marks;
mod notes;
mod panel;

use std::fmt::Write;

pub use axis::{Ticks, nice_ticks};
pub use layout::{BoxKind, Placed, Rect};

use crate::rules::{Label, Lines, RuleSet};
use crate::series::Series;
use layout::{Anchor, escape, line_height, text_box, wrap};
use panel::{Options, Panel};

/// A PDSA cycle to mark on a chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Where: `YYYY-MM-DD` (the cycle's start).
    pub date: String,
    /// What: the cycle and, if any, its decision, e.g. `C2 (adopt)`. Its first word is
    /// the cycle's tag on the chart.
    pub label: String,
    /// The change idea the cycle tests (its title or id): each idea's marks get their own
    /// colour and dash, a legend entry, and its short name on every label.
    pub change_idea: String,
}

/// What to draw.
#[derive(Clone, Debug)]
pub struct ChartSpec<'a> {
    /// The chart's title.
    pub title: String,
    /// The unit, e.g. `%`: written beside the y axis (and on each tick when a symbol).
    pub unit: String,
    /// The series (its analysis decides the centre line, limits and signals).
    pub series: &'a Series,
    /// PDSA cycles to mark.
    pub annotations: Vec<Annotation>,
    /// The aim's target, drawn as a line when given.
    pub target: Option<Target>,
}

/// The aim's "how much by when" for a measure: a horizontal line at `value`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Target {
    /// The target, in the measure's unit (as the series' values are).
    pub value: f64,
    /// By when, `YYYY-MM-DD`, when the aim says.
    pub by_when: Option<String>,
    /// What the line is called on the chart, e.g. `target 70% by 2027-06-01`.
    pub label: String,
}

/// Colours: improvement blue and concern orange (as NHS "Making Data Count" draws them),
/// neutral purple, ordinary points grey.
const IMPROVEMENT: &str = "#1f6fb4";
const CONCERN: &str = "#e07b00";
const NEUTRAL: &str = "#7b4fa0";
const COMMON: &str = "#5f6368";

const WIDTH: f64 = 760.0;
const PANEL_WIDTH: f64 = 380.0;

fn colour(label: Label) -> &'static str {
    match label {
        Label::Improvement => IMPROVEMENT,
        Label::Concern => CONCERN,
        Label::Neutral => NEUTRAL,
    }
}

/// A horizontal reference line: the centre, a limit or a 2-sigma line, with its value at
/// each point of the series (`None` where it is not drawn), so that limits that vary by
/// point or restart at a new phase draw as steps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RefLine {
    /// Its name in the tooltip, e.g. `upper process limit`.
    pub name: String,
    /// Its name beside its value in the margin, e.g. `upper`.
    pub short: &'static str,
    /// Its entry in the legend (lines of one kind share one).
    pub legend: String,
    /// The CSS class it is drawn with.
    pub class: &'static str,
    /// Its value at each point.
    pub values: Vec<Option<f64>>,
}

/// How to read one kind of line off the analysis' per-point lines, and what to call it:
/// (value at a point, margin name, tooltip name, CSS class, legend entry).
type LineKind = (
    fn(&Lines) -> Option<f64>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The reference lines of a series' analysis: its centre and, on control charts, its
/// limits and 2-sigma lines, each with its value at every point (they step at a rebase and
/// vary by point on P and U charts).
pub(crate) fn spec_lines(spec: &ChartSpec<'_>) -> Vec<RefLine> {
    let mut lines = ref_lines(spec.series);
    if let Some(t) = spec.target.as_ref().filter(|t| t.value.is_finite()) {
        lines.push(RefLine {
            name: t.label.clone(),
            short: "target",
            legend: t.label.clone(),
            class: "target",
            values: vec![Some(t.value); spec.series.points.len()],
        });
    }
    lines
}

/// The reference lines of a series' analysis (see [`spec_lines`] for a chart's, which adds
/// the target).
pub(crate) fn ref_lines(s: &Series) -> Vec<RefLine> {
    let a = &s.analysis;
    let pick = |f: fn(&Lines) -> Option<f64>| -> Vec<Option<f64>> {
        a.lines.iter().map(|l| l.as_ref().and_then(f)).collect()
    };
    let centre_name = a.rule_set.centre_name();
    let centre_short = if a.rule_set.is_run_chart() || a.rule_set == RuleSet::Xmr {
        centre_name
    } else {
        "centre"
    };
    let kinds: [LineKind; 5] = [
        (
            |l| Some(l.centre),
            centre_short,
            centre_name,
            "centre",
            centre_name,
        ),
        (
            |l| l.upper,
            "upper",
            "upper process limit",
            "limit",
            "process limits",
        ),
        (
            |l| l.lower,
            "lower",
            "lower process limit",
            "limit",
            "process limits",
        ),
        (
            |l| l.upper_two_sigma,
            "+2σ",
            "upper 2-sigma line",
            "sigma2",
            "2-sigma lines",
        ),
        (
            |l| l.lower_two_sigma,
            "−2σ",
            "lower 2-sigma line",
            "sigma2",
            "2-sigma lines",
        ),
    ];
    kinds
        .into_iter()
        .map(|(f, short, name, class, legend)| RefLine {
            name: name.to_owned(),
            short,
            legend: legend.to_owned(),
            class,
            values: pick(f),
        })
        .filter(|l| l.values.iter().any(Option::is_some))
        .collect()
}

/// The y axis for `specs`: round ticks covering every value, centre, limit and target line.
fn y_ticks(specs: &[&ChartSpec<'_>]) -> Ticks {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for spec in specs {
        let s = spec.series;
        let lines = spec_lines(spec);
        let values = s.points.iter().filter_map(|p| p.value).chain(
            lines
                .iter()
                .flat_map(|l| l.values.iter().flatten().copied()),
        );
        for v in values.filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    nice_ticks(lo, hi)
}

const STYLE: &str = "text{font-family:'DejaVu Sans',Arial,sans-serif;fill:#202124}\
.title{font-size:14px;font-weight:bold}.tick{font-size:10px;fill:#5f6368}\
.axis-title{font-size:10px;fill:#3c4043;font-style:italic}\
.note,.legend,.message{font-size:10px;fill:#3c4043}.line-label{font-size:10px;fill:#3c4043}\
.grid{stroke:#eceff1;stroke-width:1}.axis{stroke:#9aa0a6;stroke-width:1}\
.centre{fill:none;stroke:#202124;stroke-width:1.2;stroke-dasharray:6 4}\
.limit{fill:none;stroke:#9aa0a6;stroke-width:1.2;stroke-dasharray:3 3}\
.sigma2{fill:none;stroke:#c4c7cc;stroke-width:1;stroke-dasharray:2 4}\
.series{fill:none;stroke:#80868b;stroke-width:1.5}\
.target{fill:none;stroke:#00796b;stroke-width:1.6}\
.cycle-line{stroke-width:1.3}.cycle-label{font-size:10px}\
.suppressed-mark{fill:none;stroke:#5f6368;stroke-width:1.2}";

fn document(width: f64, height: f64, title: &str, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-labelledby="t"><title id="t">{}</title><style>{STYLE}</style><rect width="100%" height="100%" fill="#ffffff"/>
{body}</svg>
"##,
        escape(title)
    )
}

fn single(spec: &ChartSpec<'_>) -> Panel {
    let ticks = y_ticks(&[spec]);
    panel::draw(
        spec,
        &ticks,
        Options {
            width: WIDTH,
            plot_height: 220.0,
            title_size: 14.0,
            min_title_lines: 0,
            min_lane_rows: 0,
        },
    )
}

/// One chart: a run chart (IHI, Anhøj) or an XmR chart, as the series' analysis says. It
/// is 760 px wide and as tall as its findings need.
pub fn chart_svg(spec: &ChartSpec<'_>) -> String {
    let p = single(spec);
    document(WIDTH, p.height, &spec.title, &p.svg)
}

/// Everything [`chart_svg`] draws, as boxes: what a layout test checks for overlaps.
pub fn chart_layout(spec: &ChartSpec<'_>) -> Vec<Placed> {
    single(spec).boxes
}

/// The grid of small multiples: its SVG body, boxes, width and height.
fn grid(title: &str, specs: &[ChartSpec<'_>], columns: usize) -> (String, Vec<Placed>, f64, f64) {
    let columns = columns.max(1);
    #[allow(clippy::cast_precision_loss)]
    let width = PANEL_WIDTH * columns.min(specs.len().max(1)) as f64;
    let all: Vec<&ChartSpec<'_>> = specs.iter().collect();
    let ticks = y_ticks(&all);
    let options = |min_title_lines, min_lane_rows| Options {
        width: PANEL_WIDTH,
        plot_height: 160.0,
        title_size: 12.0,
        min_title_lines,
        min_lane_rows,
    };
    let mut body = String::new();
    let mut boxes = Vec::new();
    let tsize = 14.0;
    let mut y = 6.0;
    for line in wrap(title, tsize, width - 16.0) {
        let baseline = y + 0.93 * tsize;
        let _ = writeln!(
            body,
            r#"<text x="8" y="{baseline:.1}" class="title">{}</text>"#,
            escape(&line)
        );
        boxes.push(Placed {
            kind: BoxKind::Title,
            rect: text_box(&line, tsize, 8.0, baseline, Anchor::Start),
            text: line,
        });
        y += line_height(tsize);
    }
    y += 6.0;
    for row in specs.chunks(columns) {
        // Drawn once to learn what each panel needs, then again with the row's largest
        // title and cycle lane, so that the plots of a row are level.
        let first: Vec<Panel> = row
            .iter()
            .map(|s| panel::draw(s, &ticks, options(0, 0)))
            .collect();
        let titles = first.iter().map(|p| p.title_lines).max().unwrap_or(0);
        let lanes = first.iter().map(|p| p.lane_rows).max().unwrap_or(0);
        let panels: Vec<Panel> = row
            .iter()
            .map(|s| panel::draw(s, &ticks, options(titles, lanes)))
            .collect();
        let height = panels.iter().map(|p| p.height).fold(0.0, f64::max);
        for (k, p) in panels.into_iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let x = PANEL_WIDTH * k as f64;
            let _ = writeln!(
                body,
                r#"<g class="panel" transform="translate({x:.1} {y:.1})">{}</g>"#,
                p.svg
            );
            boxes.extend(p.boxes.into_iter().map(|b| Placed {
                rect: b.rect.moved(x, y),
                ..b
            }));
        }
        y += height;
    }
    (body, boxes, width, y)
}

/// Small multiples: one chart per site for the same measure and group, in a grid of
/// `columns`, on a shared y scale so the sites compare at a glance. Panels of one row share
/// the tallest panel's height.
pub fn small_multiples_svg(title: &str, specs: &[ChartSpec<'_>], columns: usize) -> String {
    let (body, _, width, height) = grid(title, specs, columns);
    document(width, height, title, &body)
}

/// Everything [`small_multiples_svg`] draws, as boxes in the whole drawing's coordinates.
pub fn small_multiples_layout(title: &str, specs: &[ChartSpec<'_>], columns: usize) -> Vec<Placed> {
    grid(title, specs, columns).1
}
