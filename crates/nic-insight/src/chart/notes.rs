//! The findings under a chart, in words: every signal the analysis reports and every
//! caveat, never cut short. A finding that recurs word for word (e.g. several 2-of-3
//! windows) is written once with its count and the periods of each occurrence.

use std::fmt::Write;

use crate::rules::Label;
use crate::series::Series;

use super::layout::{Anchor, BoxKind, Placed, escape, line_height, text_box, wrap};
use super::{COMMON, colour};

const SIZE: f64 = 10.0;

/// One finding: its words and the colour of its bullet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Finding {
    pub text: String,
    pub colour: &'static str,
}

/// The periods a signal covers, as words: one period, or the first to the last.
fn periods(periods: &[String]) -> Option<String> {
    let (first, last) = (periods.first()?, periods.last()?);
    Some(if first == last {
        first.clone()
    } else {
        format!("{first} to {last}")
    })
}

/// Everything the chart says in words, in the analysis' order: signals, then caveats.
pub(crate) fn findings(series: &Series) -> Vec<Finding> {
    let a = &series.analysis;
    // Grouped by their words, in order of first appearance.
    let mut groups: Vec<(String, Label, Vec<Option<String>>)> = Vec::new();
    for g in &a.signals {
        let when = if g.rule.is_whole_series() {
            None
        } else {
            periods(&g.periods)
        };
        match groups
            .iter_mut()
            .find(|(d, l, _)| *d == g.detail && *l == g.label)
        {
            Some((_, _, whens)) => whens.push(when),
            None => groups.push((g.detail.clone(), g.label, vec![when])),
        }
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|(detail, label, whens)| {
            let listed: Vec<String> = whens.iter().flatten().cloned().collect();
            let text = match (whens.len(), listed.is_empty()) {
                (1, true) => detail,
                (1, false) => format!("{detail} ({})", listed.join(", ")),
                (n, true) => format!("{detail} (×{n})"),
                (n, false) => format!("{detail} (×{n}: {})", listed.join("; ")),
            };
            Finding {
                text,
                colour: colour(label),
            }
        })
        .collect();
    for w in &a.warnings {
        out.push(Finding {
            text: format!("caveat: {w}"),
            colour: COMMON,
        });
    }
    out.extend(phase_notes(series).into_iter().map(|text| Finding {
        text,
        colour: COMMON,
    }));
    if a.signals.is_empty() {
        // What the rules can say: common cause, too few points, no variation.
        out.insert(
            0,
            Finding {
                text: a.verdict.describe(),
                colour: COMMON,
            },
        );
    }
    out
}

/// Where the lines come from, when not from every point: a frozen baseline, a rebase.
fn phase_notes(series: &Series) -> Vec<String> {
    let a = &series.analysis;
    let period = |i: usize| series.points.get(i).map_or("?", |p| p.period.as_str());
    let several = a.phases.len() > 1;
    let mut out = Vec::new();
    for (k, p) in a.phases.iter().enumerate() {
        if !several && p.baseline_last >= p.last {
            continue;
        }
        let what = if k == 0 {
            "baseline".to_owned()
        } else {
            format!("rebased at {}", period(p.first))
        };
        let extended = if p.baseline_last < p.last {
            format!(", extended to {}", period(p.last))
        } else {
            String::new()
        };
        out.push(format!(
            "{what}: {} {} from {} point(s), {} to {}{extended}",
            a.rule_set.centre_name(),
            crate::rules::num(p.centre),
            p.baseline_points,
            period(p.first),
            period(p.baseline_last),
        ));
    }
    out
}

/// Draws `findings` from `y` down, each wrapped to the panel's width `w` behind a bullet of
/// its colour; returns the y below the last.
pub(crate) fn draw(
    out: &mut String,
    boxes: &mut Vec<Placed>,
    findings: &[Finding],
    mut y: f64,
    w: f64,
) -> f64 {
    let lh = line_height(SIZE);
    for f in findings {
        let lines = wrap(&f.text, SIZE, w - 20.0 - 8.0);
        let _ = write!(
            out,
            r#"<g class="finding"><rect x="9" y="{:.1}" width="6" height="6" rx="3" fill="{}"/><text class="note">"#,
            y + lh / 2.0 - 3.0,
            f.colour
        );
        for line in &lines {
            let baseline = y + 0.93 * SIZE;
            let _ = write!(
                out,
                r#"<tspan x="20" y="{baseline:.1}">{}</tspan>"#,
                escape(line)
            );
            boxes.push(Placed {
                kind: BoxKind::Finding,
                rect: text_box(line, SIZE, 20.0, baseline, Anchor::Start),
                text: line.clone(),
            });
            y += lh;
        }
        let _ = writeln!(out, "</text></g>");
        y += 2.0;
    }
    y
}
