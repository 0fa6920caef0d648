//! Charts people would rather look at: run charts and XmR charts as standalone SVG — the
//! centre line, limits, signals highlighted by what they mean, suppressed points marked as
//! such, PDSA cycles annotated at their dates — and small multiples of one measure across
//! sites on a shared scale.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::dates::day_number;
use crate::rules::{Label, Rule, RuleSet};
use crate::series::Series;

/// A PDSA cycle to mark on a chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Where: `YYYY-MM-DD` (the cycle's start).
    pub date: String,
    /// What: e.g. `C2 adopt`.
    pub label: String,
}

/// What to draw.
#[derive(Clone, Debug)]
pub struct ChartSpec<'a> {
    /// The chart's title.
    pub title: String,
    /// The unit, e.g. `%`.
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
const HEIGHT: f64 = 340.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn colour(label: Label) -> &'static str {
    match label {
        Label::Improvement => IMPROVEMENT,
        Label::Concern => CONCERN,
        Label::Neutral => NEUTRAL,
    }
}

/// Whether a rule marks points (not a whole-series count like too few runs).
fn marks_points(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::TooFewRuns | Rule::TooManyRuns | Rule::FewCrossings
    )
}

/// The y range the chart shows: the values, the centre and the limits, padded.
fn y_range(series: &[&Series]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in series {
        for v in s.points.iter().filter_map(|p| p.value) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if let Some(l) = s.analysis.limits
            && s.analysis.rule_set == RuleSet::Xmr
        {
            lo = lo.min(l.lower);
            hi = hi.max(l.upper);
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-9 {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = (hi - lo) * 0.08;
    (lo - pad, hi + pad)
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Draws one chart into `out` inside the box (x, y, w, h).
#[allow(clippy::too_many_lines)] // one drawing, top to bottom
fn draw(out: &mut String, spec: &ChartSpec<'_>, x0: f64, y0: f64, w: f64, h: f64, y: (f64, f64)) {
    let s = spec.series;
    let notes = note_lines(spec, w);
    let left = x0 + 48.0;
    let right = x0 + w - 16.0;
    let top = y0 + 30.0;
    #[allow(clippy::cast_precision_loss)]
    let bottom = y0 + h - 38.0 - 12.0 * (notes.len().saturating_sub(1)) as f64;
    let n = s.points.len();
    #[allow(clippy::cast_precision_loss)]
    let px = |i: usize| {
        if n <= 1 {
            f64::midpoint(left, right)
        } else {
            left + (right - left) * i as f64 / (n - 1) as f64
        }
    };
    let py = |v: f64| bottom - (v - y.0) / (y.1 - y.0) * (bottom - top);
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" class="title">{}</text>"#,
        left,
        y0 + 18.0,
        escape(&spec.title)
    );
    // Axes and gridlines: five steps.
    for k in 0..=4 {
        let v = y.0 + (y.1 - y.0) * f64::from(k) / 4.0;
        let yy = py(v);
        let _ = writeln!(
            out,
            r#"<line x1="{left:.1}" y1="{yy:.1}" x2="{right:.1}" y2="{yy:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}{}</text>"#,
            left - 6.0,
            yy + 4.0,
            fmt_num(v),
            escape(&spec.unit)
        );
    }
    let _ = writeln!(
        out,
        r#"<line x1="{left:.1}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" class="axis"/>"#
    );
    // Period labels: first, last and a few between.
    // About one label per 85 px: a date is some 60 px wide in the tick font.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let fit = (((right - left) / 85.0) as usize).max(2);
    let step = n.div_ceil(fit).max(1);
    for (i, p) in s.points.iter().enumerate() {
        // The last label ends at its point, so it stays inside the chart; a regular label
        // closer to it than one step is left out.
        let last = i + 1 == n;
        if (i % step == 0 && i + step < n) || last {
            let anchor = if last && n > 1 { "end" } else { "middle" };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="{anchor}">{}</text>"#,
                px(i),
                bottom + 16.0,
                escape(&p.period)
            );
        }
    }
    // PDSA cycles at their dates (between the periods around them).
    let days: Vec<Option<i64>> = s.points.iter().map(|p| day_number(&p.period)).collect();
    // In date order, staggered over five rows; a narrow chart (small multiples) shows only
    // the cycle's number, with the whole label in its tooltip.
    let mut annotations: Vec<&Annotation> = spec.annotations.iter().collect();
    annotations.sort_by(|a, b| a.date.cmp(&b.date));
    let narrow = w < 500.0;
    for (k, a) in annotations.into_iter().enumerate() {
        let Some(d) = day_number(&a.date) else {
            continue;
        };
        let Some(i) = days.iter().rposition(|p| p.is_some_and(|p| p <= d)) else {
            continue;
        };
        let xx = px(i);
        let _ = writeln!(
            out,
            r#"<g class="cycle"><title>PDSA {} ({})</title><line x1="{xx:.1}" y1="{top:.1}" x2="{xx:.1}" y2="{bottom:.1}" class="cycle-line"/><text x="{:.1}" y="{:.1}" class="cycle-label">{}</text></g>"#,
            escape(&a.label),
            escape(&a.date),
            xx + 3.0,
            top + 10.0 + 11.0 * f64::from(u8::try_from(k % 5).unwrap_or(0)),
            escape(if narrow {
                a.label.split_whitespace().next().unwrap_or("")
            } else {
                &a.label
            })
        );
    }
    // Centre line and limits.
    let analysis = &s.analysis;
    if let Some(c) = analysis.centre {
        let name = if analysis.rule_set == RuleSet::Xmr {
            "mean"
        } else {
            "median"
        };
        let yy = py(c);
        let _ = writeln!(
            out,
            r#"<line x1="{left:.1}" y1="{yy:.1}" x2="{right:.1}" y2="{yy:.1}" class="centre"><title>{name} {}</title></line><text x="{:.1}" y="{:.1}" class="line-label">{name} {}</text>"#,
            fmt_num(c),
            right - 2.0,
            yy - 4.0,
            fmt_num(c)
        );
    }
    if analysis.rule_set == RuleSet::Xmr
        && let Some(l) = analysis.limits
    {
        for (v, class, name) in [
            (l.upper, "limit", "upper limit"),
            (l.lower, "limit", "lower limit"),
            (l.upper_two_sigma, "sigma2", "2-sigma"),
            (l.lower_two_sigma, "sigma2", "2-sigma"),
        ] {
            let yy = py(v);
            let _ = writeln!(
                out,
                r#"<line x1="{left:.1}" y1="{yy:.1}" x2="{right:.1}" y2="{yy:.1}" class="{class}"><title>{name} {}</title></line>"#,
                fmt_num(v)
            );
        }
    }
    // The line through the shown points; suppressed points break it.
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in s.points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    px(i),
                    py(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = writeln!(out, r#"<path d="{}" class="series"/>"#, path.trim_end());
    }
    // Signals index the series' points (suppressed ones included).
    let mut point_colour: Vec<Option<&'static str>> = vec![None; n];
    for signal in analysis.signals.iter().filter(|g| marks_points(g.rule)) {
        for &i in &signal.points {
            if i < n {
                // A concern outranks an improvement on the same point: it needs attention.
                if point_colour[i] != Some(CONCERN) {
                    point_colour[i] = Some(colour(signal.label));
                }
            }
        }
    }
    for (i, p) in s.points.iter().enumerate() {
        let xx = px(i);
        match (p.value, p.suppressed) {
            (Some(v), _) => {
                let fill = point_colour[i].unwrap_or(COMMON);
                let r = if point_colour[i].is_some() { 4.5 } else { 3.2 };
                let _ = writeln!(
                    out,
                    r#"<circle cx="{xx:.1}" cy="{:.1}" r="{r}" fill="{fill}" class="point"><title>{}: {}{} (n = {})</title></circle>"#,
                    py(v),
                    escape(&p.period),
                    fmt_num(v),
                    escape(&spec.unit),
                    p.n.map_or("?".to_owned(), |n| n.to_string())
                );
            }
            (None, Some(why)) => {
                let _ = writeln!(
                    out,
                    r#"<g class="suppressed"><title>{}: {}</title><rect x="{:.1}" y="{:.1}" width="8" height="8" class="suppressed-mark"/></g>"#,
                    escape(&p.period),
                    escape(&why.explain()),
                    xx - 4.0,
                    bottom - 12.0
                );
            }
            (None, None) => {}
        }
    }
    if s.points.iter().all(|p| p.value.is_none())
        && let Some(why) = s.points.iter().find_map(|p| p.suppressed)
    {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="title" text-anchor="middle">every point {}</text>"#,
            f64::midpoint(left, right),
            f64::midpoint(top, bottom),
            escape(&why.explain()),
        );
    }
    // What fired, in words under the chart.
    #[allow(clippy::cast_precision_loss)]
    for (k, line) in notes.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="note">{}</text>"#,
            x0 + 12.0,
            y0 + h - 6.0 - 12.0 * (notes.len() - 1 - k) as f64,
            escape(line)
        );
    }
}

/// The findings in words, wrapped to the chart's width (at most 3 lines, the last cut
/// short with an ellipsis when there is more).
fn note_lines(spec: &ChartSpec<'_>, width: f64) -> Vec<String> {
    let s = spec.series;
    // Single points beyond the limits are counted, not listed one by one.
    let mut said: Vec<String> = Vec::new();
    let mut beyond: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for g in &s.analysis.signals {
        let side = if g.detail.contains(" above ") {
            "above"
        } else {
            "below"
        };
        match g.rule {
            Rule::OutsideLimits => *beyond.entry(("the process limits", side)).or_default() += 1,
            Rule::AstronomicalPoint => {
                *beyond.entry(("the 3-sigma limits", side)).or_default() += 1;
            }
            _ => said.push(g.detail.clone()),
        }
    }
    // The same finding more than once (e.g. several 2-of-3 windows) is said once, counted.
    let mut counted: Vec<(String, usize)> = Vec::new();
    for d in said {
        match counted.iter_mut().find(|(text, _)| *text == d) {
            Some((_, n)) => *n += 1,
            None => counted.push((d, 1)),
        }
    }
    let mut said: Vec<String> = counted
        .into_iter()
        .map(|(d, n)| if n > 1 { format!("{d} (×{n})") } else { d })
        .collect();
    for ((what, side), n) in beyond {
        said.push(format!(
            "{n} point{} {side} {what}",
            if n == 1 { "" } else { "s" }
        ));
    }
    let hidden = s.points.iter().filter(|p| p.suppressed.is_some()).count();
    if hidden > 0 {
        said.push(format!("{hidden} point(s) suppressed (small groups)"));
    }
    said.extend(s.analysis.warnings.iter().cloned());
    if s.analysis.signals.is_empty() {
        said.push(s.analysis.verdict.describe());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let max_chars = ((width - 24.0) / 5.6).max(20.0) as usize;
    let mut lines: Vec<String> = vec![String::new()];
    for part in said {
        let Some(current) = lines.last_mut() else {
            break;
        };
        let sep = if current.is_empty() { "" } else { "; " };
        if current.chars().count() + sep.len() + part.chars().count() <= max_chars {
            current.push_str(sep);
            current.push_str(&part);
        } else if current.is_empty() {
            current.push_str(&part);
        } else {
            lines.push(part);
        }
    }
    if lines.len() > 3 {
        lines.truncate(3);
        lines[2].push_str(" …");
    }
    for line in &mut lines {
        if line.chars().count() > max_chars {
            *line = line
                .chars()
                .take(max_chars.saturating_sub(2))
                .collect::<String>()
                + " …";
        }
    }
    lines
}

const STYLE: &str = "text{font-family:'DejaVu Sans',Arial,sans-serif;fill:#202124}\
.title{font-size:14px;font-weight:bold}.tick{font-size:10px;fill:#5f6368}\
.note{font-size:10px;fill:#3c4043}.line-label{font-size:10px;fill:#3c4043;text-anchor:end}\
.grid{stroke:#e8eaed;stroke-width:1}.axis{stroke:#9aa0a6;stroke-width:1}\
.centre{stroke:#202124;stroke-width:1.2;stroke-dasharray:6 4}\
.limit{stroke:#9aa0a6;stroke-width:1.2;stroke-dasharray:3 3}\
.sigma2{stroke:#dadce0;stroke-width:1;stroke-dasharray:2 4}\
.series{fill:none;stroke:#80868b;stroke-width:1.5}\
.cycle-line{stroke:#188038;stroke-width:1;stroke-dasharray:2 2}\
.cycle-label{font-size:10px;fill:#188038}\
.suppressed-mark{fill:none;stroke:#9aa0a6;stroke-width:1.2}";

fn document(width: f64, height: f64, title: &str, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-labelledby="t"><title id="t">{}</title><style>{STYLE}</style><rect width="100%" height="100%" fill="#ffffff"/>
{body}</svg>
"##,
        escape(title)
    )
}

/// One chart: a run chart (IHI, Anhøj) or an XmR chart, as the series' analysis says.
pub fn chart_svg(spec: &ChartSpec<'_>) -> String {
    let mut body = String::new();
    let range = y_range(&[spec.series]);
    draw(&mut body, spec, 0.0, 0.0, WIDTH, HEIGHT, range);
    document(WIDTH, HEIGHT, &spec.title, &body)
}

/// Small multiples: one chart per site for the same measure and group, in a grid of
/// `columns`, on a shared y scale so the sites compare at a glance.
pub fn small_multiples_svg(title: &str, specs: &[ChartSpec<'_>], columns: usize) -> String {
    let columns = columns.max(1);
    let (w, h) = (WIDTH / 2.0, HEIGHT * 0.8);
    let rows = specs.len().div_ceil(columns).max(1);
    let all: Vec<&Series> = specs.iter().map(|s| s.series).collect();
    let range = y_range(&all);
    let mut body = format!(
        r#"<text x="12" y="22" class="title">{}</text>
"#,
        escape(title)
    );
    for (k, spec) in specs.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let (x, y) = ((k % columns) as f64 * w, 30.0 + (k / columns) as f64 * h);
        draw(&mut body, spec, x, y, w, h, range);
    }
    #[allow(clippy::cast_precision_loss)]
    let width = w * columns.min(specs.len().max(1)) as f64;
    #[allow(clippy::cast_precision_loss)]
    let height = 30.0 + h * rows as f64;
    document(width, height, title, &body)
}
