//! The legend: what each colour, line and mark on the chart means, with only the entries
//! that the chart actually draws.

use std::fmt::Write;

use super::layout::{BoxKind, Placed, Rect, escape, line_height, text_width, wrap};
use super::marks::Idea;
use super::{COMMON, CONCERN, IMPROVEMENT, NEUTRAL, RefLine};

/// How an entry shows what it names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A data point in this colour.
    Dot(&'static str),
    /// A line drawn with this CSS class.
    Line(&'static str),
    /// A PDSA mark: colour and dash pattern.
    Cycle(&'static str, &'static str),
    /// The hollow square of a suppressed period.
    Suppressed,
}

/// One entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub swatch: Swatch,
    pub text: String,
}

/// The entries for a chart: the signal colours its points have, common cause if any point
/// is grey, each kind of line drawn, suppressed periods if any, and each change idea.
pub(crate) fn entries(
    point_colour: &[Option<&'static str>],
    any_common: bool,
    lines: &[RefLine],
    any_suppressed: bool,
    ideas: &[Idea],
) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (c, name) in [
        (IMPROVEMENT, "improvement"),
        (CONCERN, "concern"),
        (NEUTRAL, "neutral signal"),
    ] {
        if point_colour.contains(&Some(c)) {
            out.push(Entry {
                swatch: Swatch::Dot(c),
                text: name.into(),
            });
        }
    }
    if any_common {
        out.push(Entry {
            swatch: Swatch::Dot(COMMON),
            text: "common cause".into(),
        });
    }
    for l in lines {
        if l.values.iter().any(Option::is_some) && !out.iter().any(|e| e.text == l.legend) {
            out.push(Entry {
                swatch: Swatch::Line(l.class),
                text: l.legend.clone(),
            });
        }
    }
    if any_suppressed {
        out.push(Entry {
            swatch: Swatch::Suppressed,
            text: "suppressed (small group)".into(),
        });
    }
    for idea in ideas {
        let text = if idea.name.is_empty() {
            "PDSA cycle".to_owned()
        } else if idea.short == idea.name {
            format!("PDSA cycles: {}", idea.name)
        } else {
            format!("PDSA cycles: {} ({})", idea.short, idea.name)
        };
        out.push(Entry {
            swatch: Swatch::Cycle(idea.colour, idea.dash),
            text,
        });
    }
    out
}

const SIZE: f64 = 10.0;
const SWATCH: f64 = 18.0;
const GAP: f64 = 14.0;

/// Draws `entries` flowing left to right from (x0, y0) within `max_w`, wrapping to new rows;
/// returns the height used.
pub(crate) fn draw(
    out: &mut String,
    boxes: &mut Vec<Placed>,
    entries: &[Entry],
    x0: f64,
    y0: f64,
    max_w: f64,
) -> f64 {
    if entries.is_empty() {
        return 0.0;
    }
    let lh = line_height(SIZE);
    let (mut x, mut row_top, mut row_h) = (x0, y0, lh);
    for e in entries {
        let lines = wrap(&e.text, SIZE, max_w - SWATCH - 4.0);
        let text_w = lines
            .iter()
            .map(|l| text_width(l, SIZE))
            .fold(0.0, f64::max);
        let w = SWATCH + 4.0 + text_w;
        #[allow(clippy::cast_precision_loss)]
        let h = lh * lines.len() as f64;
        if x > x0 && x + w > x0 + max_w {
            x = x0;
            row_top += row_h + 2.0;
            row_h = lh;
        }
        row_h = row_h.max(h);
        let mid = row_top + lh / 2.0;
        let _ = write!(out, r#"<g class="legend-entry">"#);
        match &e.swatch {
            Swatch::Dot(c) => {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" rx="4" fill="{c}"/>"#,
                    x + SWATCH / 2.0 - 4.0,
                    mid - 4.0
                );
            }
            Swatch::Line(class) => {
                let _ = write!(
                    out,
                    r#"<line x1="{x:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" class="{class}"/>"#,
                    x + SWATCH
                );
            }
            Swatch::Cycle(colour, dash) => {
                let _ = write!(
                    out,
                    r#"<line x1="{x:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
                    x + SWATCH
                );
            }
            Swatch::Suppressed => {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" class="suppressed-mark"/>"#,
                    x + SWATCH / 2.0 - 4.0,
                    mid - 4.0
                );
            }
        }
        for (k, line) in lines.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let baseline = row_top + lh * k as f64 + 0.93 * SIZE;
            let tx = x + SWATCH + 4.0;
            let _ = write!(
                out,
                r#"<text x="{tx:.1}" y="{baseline:.1}" class="legend">{}</text>"#,
                escape(line)
            );
        }
        let _ = writeln!(out, "</g>");
        boxes.push(Placed {
            kind: BoxKind::Legend,
            rect: Rect {
                x,
                y: row_top,
                w,
                h,
            },
            text: e.text.clone(),
        });
        x += w + GAP;
    }
    row_top + row_h - y0
}
