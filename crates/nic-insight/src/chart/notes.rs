//! The findings under a chart, in words: every signal the analysis reports and every
//! caveat, never cut short. A finding that recurs word for word (e.g. several 2-of-3
//! windows) is written once with its count and the periods of each occurrence.

use crate::rules::Label;
use crate::series::Series;

use super::{COMMON, colour};

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
