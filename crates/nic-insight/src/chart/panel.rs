//! One chart panel, laid out top to bottom: the title, the lane of PDSA cycle labels, the
//! plot (y ticks and the unit on the left, line labels in a right-hand margin), the period
//! axis, the legend and every finding. Each text is placed so that it covers no other text
//! and no data point, and its box is recorded.

use std::fmt::Write;

use super::axis::{Ticks, period_axis_title, period_labels};
use super::layout::{
    Anchor, BoxKind, Placed, Rect, escape, line_height, text_box, text_width, wrap,
};
use super::legend;
use super::marks;
use super::notes::{self, findings};
use super::{Annotation, COMMON, CONCERN, ChartSpec, RefLine, colour, spec_lines};
use crate::dates::day_number;

/// What a panel looks like beyond its spec.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub width: f64,
    pub plot_height: f64,
    pub title_size: f64,
    /// Rows kept for the title and the cycle lane even if this panel needs fewer, so that
    /// panels side by side have their plots level.
    pub min_title_lines: usize,
    pub min_lane_rows: usize,
}

/// A drawn panel: its SVG (origin at its top left), the boxes of what it drew, its height,
/// and the rows its title and lane needed.
pub(crate) struct Panel {
    pub svg: String,
    pub boxes: Vec<Placed>,
    pub height: f64,
    pub title_lines: usize,
    pub lane_rows: usize,
}

const SIZE: f64 = 10.0;
/// Space between a plot's edge and its first and last points, so that no point touches an
/// axis or its labels.
const INSET: f64 = 8.0;

fn text(out: &mut String, class: &str, x: f64, y: f64, anchor: Anchor, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" class="{class}" text-anchor="{}">{}</text>"#,
        anchor.svg(),
        escape(s)
    );
}

/// The unit beside every tick as well as in the axis title, when it is a symbol.
fn unit_on_ticks(unit: &str) -> bool {
    matches!(unit.trim(), "%" | "‰")
}

/// Where each line label goes: near its line's height, pushed apart so none overlaps the
/// next, and kept between `lo` and `hi` (the baselines' range).
fn spread(wanted: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by(|&a, &b| wanted[a].total_cmp(&wanted[b]));
    let mut ys: Vec<f64> = order.iter().map(|&i| wanted[i].clamp(lo, hi)).collect();
    for k in 1..ys.len() {
        ys[k] = ys[k].max(ys[k - 1] + gap);
    }
    // Pushed past the bottom: pull back up from there, moving only the labels in the way
    // (a label far above keeps its place).
    if let Some(last) = ys.last_mut()
        && *last > hi
    {
        *last = hi;
        for k in (0..ys.len().saturating_sub(1)).rev() {
            ys[k] = ys[k].min(ys[k + 1] - gap);
        }
    }
    let mut out = vec![0.0; wanted.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = ys[k];
    }
    out
}

/// Draws one chart panel on the y axis `ticks`.
#[allow(clippy::too_many_lines)] // one drawing, top to bottom
pub(crate) fn draw(spec: &ChartSpec<'_>, ticks: &Ticks, opt: Options) -> Panel {
    let s = spec.series;
    let w = opt.width;
    let mut out = String::new();
    let mut boxes: Vec<Placed> = Vec::new();
    let place = |boxes: &mut Vec<Placed>, kind, rect, t: &str| {
        boxes.push(Placed {
            kind,
            rect,
            text: t.to_owned(),
        });
    };

    // The title, wrapped.
    let tsize = opt.title_size;
    let title_lines = wrap(&spec.title, tsize, w - 16.0);
    let tlh = line_height(tsize);
    for (k, line) in title_lines.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let baseline = 6.0 + tlh * k as f64 + 0.93 * tsize;
        let _ = writeln!(
            out,
            r#"<text x="8" y="{baseline:.1}" class="title" style="font-size:{tsize}px">{}</text>"#,
            escape(line)
        );
        place(
            &mut boxes,
            BoxKind::Title,
            text_box(line, tsize, 8.0, baseline, Anchor::Start),
            line,
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let lane_top = 6.0 + tlh * title_lines.len().max(opt.min_title_lines) as f64 + 4.0;

    // Left: the unit (rotated) and the tick labels; right: the line labels.
    let unit = spec.unit.trim();
    let tick_text = |v: f64| {
        let t = ticks.label(v);
        if unit_on_ticks(unit) {
            format!("{t}{unit}")
        } else {
            t
        }
    };
    let tick_w = ticks
        .values
        .iter()
        .map(|&v| text_width(&tick_text(v), SIZE))
        .fold(0.0, f64::max);
    let axis_title_w = if unit.is_empty() { 0.0 } else { 16.0 };
    let left = 8.0 + axis_title_w + tick_w + 8.0;
    let lines: Vec<RefLine> = spec_lines(spec);
    let line_label = |l: &RefLine| {
        let last = l.values.iter().rev().find_map(|v| *v);
        // "%" follows the value as on the ticks ("target 70%"); a worded unit is on the axis.
        let unit = if unit_on_ticks(unit) { unit } else { "" };
        last.map(|v| format!("{} {}{unit}", l.short, ticks.value_label(v)))
    };
    let margin = lines
        .iter()
        .filter_map(line_label)
        .map(|t| text_width(&t, SIZE))
        .fold(0.0, f64::max);
    let right = w - 8.0 - if margin > 0.0 { margin + 8.0 } else { 0.0 };

    // The points' x: periods evenly spaced.
    let n = s.points.len();
    let (x_first, x_last) = (left + INSET, right - INSET);
    #[allow(clippy::cast_precision_loss)]
    let px = |i: usize| {
        if n <= 1 {
            f64::midpoint(x_first, x_last)
        } else {
            x_first + (x_last - x_first) * i as f64 / (n - 1) as f64
        }
    };

    // The cycles: at their dates, between the periods around them.
    let days: Vec<Option<i64>> = s.points.iter().map(|p| day_number(&p.period)).collect();
    let at = |a: &Annotation| -> Option<f64> {
        let d = day_number(&a.date)?;
        let i = days.iter().rposition(|p| p.is_some_and(|p| p <= d))?;
        let (Some(di), Some(Some(dn))) = (days[i], days.get(i + 1)) else {
            return Some(px(i));
        };
        #[allow(clippy::cast_precision_loss)]
        let f = (d - di) as f64 / (dn - di).max(1) as f64;
        Some(px(i) + (px(i + 1) - px(i)) * f.clamp(0.0, 1.0))
    };
    let mut dated: Vec<(&Annotation, f64)> = spec
        .annotations
        .iter()
        .filter_map(|a| at(a).map(|x| (a, x)))
        .collect();
    dated.sort_by(|a, b| a.0.date.cmp(&b.0.date));
    let ideas = marks::ideas(&dated.iter().map(|(a, _)| *a).collect::<Vec<_>>());
    let (marks, used_rows) = marks::place(&dated, &ideas, 4.0, w - 4.0);
    let lane_rows = used_rows.max(opt.min_lane_rows);
    #[allow(clippy::cast_precision_loss)]
    let top = lane_top + marks::ROW * lane_rows as f64 + if lane_rows > 0 { 10.0 } else { 6.0 };
    let bottom = top + opt.plot_height;
    let (lo, hi) = (ticks.lo(), ticks.hi());
    let py = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);

    // Gridlines and ticks.
    for &v in &ticks.values {
        let yy = py(v);
        let _ = writeln!(
            out,
            r#"<line x1="{left:.1}" y1="{yy:.1}" x2="{right:.1}" y2="{yy:.1}" class="grid"/>"#
        );
        let t = tick_text(v);
        text(&mut out, "tick", left - 6.0, yy + 3.5, Anchor::End, &t);
        place(
            &mut boxes,
            BoxKind::YTick,
            text_box(&t, SIZE, left - 6.0, yy + 3.5, Anchor::End),
            &t,
        );
    }
    if !unit.is_empty() {
        // Rotated a quarter turn: the text runs upwards, centred on the plot.
        let (cx, cy) = (8.0 + 0.93 * SIZE, f64::midpoint(top, bottom));
        let _ = writeln!(
            out,
            r#"<text x="{cx:.1}" y="{cy:.1}" class="axis-title" text-anchor="middle" transform="rotate(-90 {cx:.1} {cy:.1})">{}</text>"#,
            escape(unit)
        );
        let len = text_width(unit, SIZE);
        place(
            &mut boxes,
            BoxKind::AxisTitle,
            Rect {
                x: cx - 0.93 * SIZE,
                y: cy - len / 2.0,
                w: 1.17 * SIZE,
                h: len,
            },
            unit,
        );
    }
    let _ = writeln!(
        out,
        r#"<line x1="{left:.1}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" class="axis"/><line x1="{left:.1}" y1="{top:.1}" x2="{left:.1}" y2="{bottom:.1}" class="axis"/>"#
    );

    // Cycle marks: the line through the plot, the label in the lane.
    for m in &marks {
        let idea = &ideas[m.idea.min(ideas.len().saturating_sub(1))];
        #[allow(clippy::cast_precision_loss)]
        let baseline = lane_top + marks::ROW * m.row as f64 + 0.93 * marks::SIZE;
        let rect = m.rect.moved(0.0, baseline);
        let tx = match m.anchor {
            Anchor::End => rect.right(),
            _ => rect.x,
        };
        let _ = writeln!(
            out,
            r#"<g class="cycle"><title>{}</title><line x1="{x:.1}" y1="{y1:.1}" x2="{x:.1}" y2="{bottom:.1}" class="cycle-line" stroke="{c}" stroke-dasharray="{d}"/><text x="{tx:.1}" y="{baseline:.1}" class="cycle-label" style="fill:{c}" text-anchor="{a}">{}</text></g>"#,
            escape(&m.tooltip),
            escape(&m.text),
            x = m.x,
            y1 = baseline + 3.0,
            c = idea.colour,
            d = idea.dash,
            a = m.anchor.svg(),
        );
        place(&mut boxes, BoxKind::CycleLabel, rect, &m.text);
    }

    // Centre, limits and 2-sigma lines, stepping where their value changes, labelled in
    // the right-hand margin.
    let mut wanted = Vec::new();
    let mut labels = Vec::new();
    for l in &lines {
        let mut path = String::new();
        let mut prev: Option<f64> = None;
        for (i, v) in l.values.iter().enumerate() {
            let xa = if i == 0 {
                left
            } else {
                f64::midpoint(px(i - 1), px(i))
            };
            let xb = if i + 1 == n {
                right
            } else {
                f64::midpoint(px(i), px(i + 1))
            };
            // A suppressed period has no line of its own: the line runs on across it.
            if let Some(v) = v {
                let cmd = if prev.is_some() { "L" } else { "M" };
                let _ = write!(path, "{cmd}{xa:.1},{:.1} L{xb:.1},{:.1} ", py(*v), py(*v));
                prev = Some(*v);
            }
        }
        if !path.is_empty() {
            let _ = writeln!(
                out,
                r#"<path d="{}" class="{}"><title>{}</title></path>"#,
                path.trim_end(),
                l.class,
                escape(&l.name)
            );
        }
        if let (Some(t), Some(v)) = (line_label(l), l.values.iter().rev().find_map(|v| *v)) {
            wanted.push(py(v) + 3.5);
            labels.push(t);
        }
    }
    let ys = spread(
        &wanted,
        line_height(SIZE),
        top + 0.93 * SIZE - 4.0,
        bottom + 4.0,
    );
    for (t, y) in labels.iter().zip(ys) {
        text(&mut out, "line-label", right + 8.0, y, Anchor::Start, t);
        place(
            &mut boxes,
            BoxKind::LineLabel,
            text_box(t, SIZE, right + 8.0, y, Anchor::Start),
            t,
        );
    }

    // The series; suppressed periods break the line and are marked on the axis.
    let mut path = String::new();
    let mut pen = false;
    for (i, p) in s.points.iter().enumerate() {
        if let Some(v) = p.value {
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if pen { "L" } else { "M" },
                px(i),
                py(v)
            );
        }
        pen = p.value.is_some();
    }
    if !path.is_empty() {
        let _ = writeln!(out, r#"<path d="{}" class="series"/>"#, path.trim_end());
    }
    // Signals index the series' points (suppressed ones included).
    let mut point_colour: Vec<Option<&'static str>> = vec![None; n];
    for g in s
        .analysis
        .signals
        .iter()
        .filter(|g| !g.rule.is_whole_series())
    {
        for &i in &g.points {
            if i < n {
                // A concern outranks an improvement on the same point: it needs attention.
                if point_colour[i] != Some(CONCERN) {
                    point_colour[i] = Some(colour(g.label));
                }
            }
        }
    }
    let unit_words = if unit_on_ticks(unit) {
        unit.to_owned()
    } else if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let mut any_common = false;
    let mut any_suppressed = false;
    for (i, p) in s.points.iter().enumerate() {
        let xx = px(i);
        match (p.value, p.suppressed) {
            (Some(v), _) => {
                let fill = point_colour[i].unwrap_or(COMMON);
                any_common |= point_colour[i].is_none();
                let r = if point_colour[i].is_some() { 4.5 } else { 3.2 };
                let yy = py(v);
                let _ = writeln!(
                    out,
                    r#"<circle cx="{xx:.1}" cy="{yy:.1}" r="{r}" fill="{fill}" class="point"><title>{}: {}{unit_words} (n = {})</title></circle>"#,
                    escape(&p.period),
                    ticks.value_label(v),
                    p.n.map_or("?".to_owned(), |n| n.to_string())
                );
                place(
                    &mut boxes,
                    BoxKind::Point,
                    Rect {
                        x: xx - r,
                        y: yy - r,
                        w: 2.0 * r,
                        h: 2.0 * r,
                    },
                    "",
                );
            }
            (None, Some(why)) => {
                any_suppressed = true;
                let _ = writeln!(
                    out,
                    r#"<g class="suppressed"><title>{}: {}</title><rect x="{:.1}" y="{:.1}" width="8" height="8" class="suppressed-mark"/></g>"#,
                    escape(&p.period),
                    escape(&why.explain()),
                    xx - 4.0,
                    bottom + 2.0
                );
            }
            (None, None) => {}
        }
    }
    if s.points.iter().all(|p| p.value.is_none()) {
        let msg = match s.points.iter().find_map(|p| p.suppressed) {
            Some(why) => format!("every point {}", why.explain()),
            None => "no data".to_owned(),
        };
        let (cx, cy) = (f64::midpoint(left, right), f64::midpoint(top, bottom));
        for (k, line) in wrap(&msg, SIZE, right - left - 8.0).iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let y = cy + line_height(SIZE) * k as f64;
            text(&mut out, "message", cx, y, Anchor::Middle, line);
            place(
                &mut boxes,
                BoxKind::Message,
                text_box(line, SIZE, cx, y, Anchor::Middle),
                line,
            );
        }
    }

    // Periods under the axis: as many as fit without touching, the first and last always.
    let label_y = bottom + 22.0;
    let periods: Vec<&str> = s.points.iter().map(|p| p.period.as_str()).collect();
    let xs: Vec<f64> = (0..n).map(px).collect();
    for (i, b, anchor) in period_labels(&periods, &xs, label_y, SIZE) {
        let x = match anchor {
            Anchor::Start => b.x,
            Anchor::Middle => b.x + b.w / 2.0,
            Anchor::End => b.right(),
        };
        text(&mut out, "tick", x, label_y, anchor, periods[i]);
        place(&mut boxes, BoxKind::PeriodLabel, b, periods[i]);
    }
    let axis_title = period_axis_title(&periods);
    let title_y = label_y + line_height(SIZE) + 2.0;
    let cx = f64::midpoint(left, right);
    text(
        &mut out,
        "axis-title",
        cx,
        title_y,
        Anchor::Middle,
        axis_title,
    );
    place(
        &mut boxes,
        BoxKind::AxisTitle,
        text_box(axis_title, SIZE, cx, title_y, Anchor::Middle),
        axis_title,
    );

    // The legend: what is on this chart, and nothing else.
    let entries = legend::entries(&point_colour, any_common, &lines, any_suppressed, &ideas);
    let legend_top = title_y + 0.24 * SIZE + 8.0;
    let legend_h = legend::draw(&mut out, &mut boxes, &entries, 8.0, legend_top, w - 16.0);

    // Every finding, wrapped, never cut.
    let y = notes::draw(
        &mut out,
        &mut boxes,
        &findings(s),
        legend_top + legend_h + 8.0,
        w,
    );
    Panel {
        svg: out,
        boxes,
        height: y + 8.0,
        title_lines: title_lines.len(),
        lane_rows: used_rows,
    }
}
