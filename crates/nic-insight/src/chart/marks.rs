//! PDSA cycle marks: each change idea in its own colour and dash, each mark labelled with
//! the idea's short name and the cycle ("Greeter C2"), the labels packed into rows of a
//! lane above the plot so that none covers another. When full labels need more than
//! [`MAX_ROWS`] rows, they fall back to the cycle alone ("C2"), the idea named by the
//! colour in the legend and in full in each mark's tooltip.

use super::Annotation;
use super::layout::{Anchor, Rect, text_box};

/// Colours and dashes for change ideas, in the order they first appear; none is a signal
/// colour (blue, orange, purple) or the grey of common-cause points.
const STYLES: [(&str, &str); 6] = [
    ("#188038", "4 3"),
    ("#c2185b", "1 3"),
    ("#00838f", "8 3 2 3"),
    ("#827717", "2 2"),
    ("#5d4037", "6 2"),
    ("#3949ab", "3 3 1 3"),
];

/// The most rows of full labels before falling back to short ones.
pub(crate) const MAX_ROWS: usize = 3;
/// The label font size.
pub(crate) const SIZE: f64 = 10.0;
/// The height of one row of the lane.
pub(crate) const ROW: f64 = 13.0;

/// One change idea on the chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Idea {
    pub name: String,
    pub short: String,
    pub colour: &'static str,
    pub dash: &'static str,
}

/// One mark: where, which idea, and its label.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mark {
    pub x: f64,
    pub idea: usize,
    pub tooltip: String,
    pub text: String,
    /// The label's row in the lane (0 nearest the title) and its box.
    pub row: usize,
    pub rect: Rect,
    pub anchor: Anchor,
}

/// The change ideas of `annotations` in order of first date, with short names that tell
/// them apart: the first word (or two, or the whole name if needed).
pub(crate) fn ideas(annotations: &[&Annotation]) -> Vec<Idea> {
    let mut names: Vec<String> = Vec::new();
    for a in annotations {
        let name = a.change_idea.trim().to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let short = |name: &str, words: usize| -> String {
        if name.is_empty() {
            return "PDSA".into();
        }
        let s: Vec<&str> = name.split_whitespace().take(words).collect();
        let s = s.join(" ");
        // Identifiers like "greeter-at-door" shorten at their first hyphen too.
        if words == 1 && s.chars().count() > 14 {
            s.split(['-', '_']).next().unwrap_or(&s).to_owned()
        } else {
            s
        }
    };
    let mut shorts: Vec<String> = names.iter().map(|n| short(n, 1)).collect();
    for words in [2, usize::MAX] {
        let clash = |i: usize, shorts: &[String]| {
            shorts
                .iter()
                .enumerate()
                .any(|(j, s)| j != i && *s == shorts[i])
        };
        let clashing: Vec<usize> = (0..names.len()).filter(|&i| clash(i, &shorts)).collect();
        for i in clashing {
            shorts[i] = short(&names[i], words);
        }
    }
    names
        .into_iter()
        .zip(shorts)
        .enumerate()
        .map(|(i, (name, short))| {
            let (colour, dash) = STYLES[i % STYLES.len()];
            Idea {
                name,
                short,
                colour,
                dash,
            }
        })
        .collect()
}

/// The cycle part of a label: its first word ("C2" of "C2 (adopt)").
fn cycle_tag(label: &str) -> &str {
    label.split_whitespace().next().unwrap_or("")
}

/// Packs the labels of marks at `xs` into rows between `x_min` and `x_max`: each label
/// starts just right of its mark, or ends just left of it where it would run past `x_max`.
/// Returns the rows used, or `None` if more than `max_rows` would be needed.
fn pack(marks: &mut [Mark], x_min: f64, x_max: f64, max_rows: usize) -> Option<usize> {
    let mut rows: Vec<Vec<Rect>> = Vec::new();
    for m in marks.iter_mut() {
        let mut rect = text_box(&m.text, SIZE, m.x + 3.0, 0.0, Anchor::Start);
        m.anchor = Anchor::Start;
        if rect.right() > x_max {
            rect = text_box(&m.text, SIZE, m.x - 3.0, 0.0, Anchor::End);
            m.anchor = Anchor::End;
        }
        if rect.x < x_min {
            rect.x = x_min;
        }
        let free = |row: &Vec<Rect>| {
            row.iter()
                .all(|r| rect.right() + 4.0 <= r.x || r.right() + 4.0 <= rect.x)
        };
        let row = match rows.iter().position(free) {
            Some(k) => k,
            None => {
                rows.push(Vec::new());
                rows.len() - 1
            }
        };
        if row >= max_rows {
            return None;
        }
        rows[row].push(rect);
        m.row = row;
        m.rect = rect;
    }
    Some(rows.len())
}

/// Marks for `annotations` (already placed at `xs`), their labels packed into the lane.
/// Returns the marks (label boxes relative to a lane whose first row's baseline is y = 0)
/// and the rows used.
pub(crate) fn place(
    annotations: &[(&Annotation, f64)],
    ideas: &[Idea],
    x_min: f64,
    x_max: f64,
) -> (Vec<Mark>, usize) {
    let mut marks: Vec<Mark> = annotations
        .iter()
        .map(|(a, x)| {
            let idea = ideas
                .iter()
                .position(|i| i.name == a.change_idea.trim())
                .unwrap_or(0);
            let short = ideas.get(idea).map_or("PDSA", |i| i.short.as_str());
            let tag = cycle_tag(&a.label);
            Mark {
                x: *x,
                idea,
                tooltip: format!(
                    "PDSA {}{}{} ({})",
                    a.change_idea.trim(),
                    if a.change_idea.trim().is_empty() {
                        ""
                    } else {
                        ": "
                    },
                    a.label,
                    a.date
                ),
                text: if tag.is_empty() {
                    short.to_owned()
                } else {
                    format!("{short} {tag}")
                },
                row: 0,
                rect: Rect {
                    x: 0.0,
                    y: 0.0,
                    w: 0.0,
                    h: 0.0,
                },
                anchor: Anchor::Start,
            }
        })
        .collect();
    marks.sort_by(|a, b| a.x.total_cmp(&b.x));
    if let Some(rows) = pack(&mut marks, x_min, x_max, MAX_ROWS) {
        return (marks, rows);
    }
    // Too many to name in full: the cycle alone, the idea told by colour.
    for (m, (a, _)) in marks.iter_mut().zip(sorted(annotations)) {
        let tag = cycle_tag(&a.label);
        if !tag.is_empty() {
            m.text = tag.to_owned();
        }
    }
    let rows = pack(&mut marks, x_min, x_max, usize::MAX).unwrap_or(0);
    (marks, rows)
}

/// `annotations` in the order `place` sorts its marks.
fn sorted<'a>(annotations: &[(&'a Annotation, f64)]) -> Vec<(&'a Annotation, f64)> {
    let mut v = annotations.to_vec();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}
