//! Geometry every part of a chart shares: how wide a text is, boxes, wrapping, and the
//! record of what was drawn where (so tests can check that nothing overlaps).

/// A box on the drawing, in SVG pixels (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Whether the two boxes share any area (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    /// The box moved by (dx, dy).
    pub(crate) fn moved(self, dx: f64, dy: f64) -> Rect {
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }

    /// The right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// The bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

/// What a box on the chart holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxKind {
    /// A chart's (or a grid's) title line.
    Title,
    /// A value on the y axis.
    YTick,
    /// An axis title (the unit beside the y axis, the period under the x axis).
    AxisTitle,
    /// A period on the x axis.
    PeriodLabel,
    /// The name and value of a centre, limit or 2-sigma line, in the right-hand margin.
    LineLabel,
    /// A PDSA cycle's label, in the lane above the plot.
    CycleLabel,
    /// A legend entry (its swatch and words).
    Legend,
    /// A line of the findings under the plot.
    Finding,
    /// A data point (its circle).
    Point,
    /// The message drawn inside an empty plot.
    Message,
}

/// One thing drawn, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// What it is.
    pub kind: BoxKind,
    /// Where it is.
    pub rect: Rect,
    /// Its words (empty for a point).
    pub text: String,
}

/// The font's ascent and descent as fractions of its size (DejaVu Sans: 0.928 and 0.236).
const ASCENT: f64 = 0.93;
const DESCENT: f64 = 0.24;

/// The height one line of text takes at `size` px, with a little air.
pub(crate) fn line_height(size: f64) -> f64 {
    (ASCENT + DESCENT) * size + 1.5
}

/// An estimate of how wide `text` is at `size` px in DejaVu Sans, on the generous side so
/// that boxes built from it never undercount (digits are 0.64 em, capitals and m/w wider).
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            ' ' | 'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.34,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' => 0.45,
            'm' | 'w' | 'M' | 'W' | '%' | '@' | '—' | '…' => 1.0,
            c if c.is_ascii_digit() => 0.64,
            c if c.is_uppercase() => 0.78,
            c if c.is_ascii() => 0.62,
            // Anything else (accents, symbols) as a wide letter.
            _ => 0.8,
        })
        .sum();
    em * size
}

/// The box of a text whose baseline starts at (x, baseline), anchored `anchor`.
pub(crate) fn text_box(text: &str, size: f64, x: f64, baseline: f64, anchor: Anchor) -> Rect {
    let w = text_width(text, size);
    let left = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End => x - w,
    };
    Rect {
        x: left,
        y: baseline - ASCENT * size,
        w,
        h: (ASCENT + DESCENT) * size,
    }
}

/// Where a text sits relative to its x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    pub(crate) fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// `text` broken into lines no wider than `max` px at `size` px: at spaces, and inside a
/// word only when the word alone is wider than a line. Nothing is dropped: the lines joined
/// (with the spaces they were broken at) give the text back.
pub(crate) fn wrap(text: &str, size: f64, max: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, size) <= max || current.is_empty() && word.is_empty() {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // A word wider than a whole line is cut where the line ends.
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if text_width(&next, size) > max && !current.is_empty() {
                lines.push(std::mem::replace(&mut current, c.to_string()));
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// XML text escaped.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_character() {
        let text = "too few runs: 6 (expected 7 to 15) across 2026-01-01 to 2027-04-01 \
                    averyveryverylongwordwithoutanyspacesatallthatgoesonandon end";
        for max in [40.0, 80.0, 200.0, 1000.0] {
            let lines = wrap(text, 10.0, max);
            let joined: String = lines.concat();
            assert_eq!(joined.replace(' ', ""), text.replace(' ', ""), "{max}");
            for l in &lines {
                assert!(
                    text_width(l, 10.0) <= max || l.chars().count() == 1,
                    "{l} wider than {max}"
                );
            }
        }
    }
}
