//! Points against a centre line: which side each falls on, the runs they make, and how
//! often they cross. Points on the centre line are not "useful observations": they neither
//! add to a run nor break one.

use serde::Serialize;

/// Which side of the centre line a point falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Above the line.
    Above,
    /// Below the line.
    Below,
}

/// A stretch of consecutive useful observations on one side (indices into the series,
/// first and last; points on the line in between belong to neither and are skipped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The side.
    pub side: Side,
    /// Indices of the useful observations in the run, in order.
    pub points: Vec<usize>,
}

/// Which side of `centre` a value falls on; `None` on it.
pub fn side(value: f64, centre: f64) -> Option<Side> {
    if value > centre {
        Some(Side::Above)
    } else if value < centre {
        Some(Side::Below)
    } else {
        None
    }
}

/// Each point's side of `centre`; `None` for a point on it.
pub fn sides(values: &[f64], centre: f64) -> Vec<Option<Side>> {
    values.iter().map(|&v| side(v, centre)).collect()
}

/// The runs the useful observations make, in order.
pub fn runs(sides: &[Option<Side>]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, side) in sides.iter().enumerate() {
        let Some(side) = *side else { continue };
        match out.last_mut() {
            Some(run) if run.side == side => run.points.push(i),
            _ => out.push(Run {
                side,
                points: vec![i],
            }),
        }
    }
    out
}

/// Useful observations: points not on the centre line.
pub fn useful(sides: &[Option<Side>]) -> usize {
    sides.iter().filter(|s| s.is_some()).count()
}

/// How many times consecutive useful observations change side (runs − 1).
pub fn crossings(runs: &[Run]) -> usize {
    runs.len().saturating_sub(1)
}

/// Maximal stretches of consecutive points that keep rising (or keep falling), equal
/// neighbours counted as one point; each as (first index, last index, rising?, points in
/// it counting equal neighbours once).
pub fn monotone_stretches(values: &[f64]) -> Vec<(usize, usize, bool, usize)> {
    // Collapse equal neighbours, remembering where each distinct value starts and ends.
    let mut distinct: Vec<(f64, usize, usize)> = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        match distinct.last_mut() {
            Some(last) if last.0 == v => last.2 = i,
            _ => distinct.push((v, i, i)),
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start + 1 < distinct.len() {
        let rising = distinct[start + 1].0 > distinct[start].0;
        let mut end = start + 1;
        while end + 1 < distinct.len() && (distinct[end + 1].0 > distinct[end].0) == rising {
            end += 1;
        }
        out.push((distinct[start].1, distinct[end].2, rising, end - start + 1));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_the_line_neither_add_nor_break() {
        // Centre 1: above, above, on, above, above, below.
        let s = sides(&[2.0, 3.0, 1.0, 3.0, 2.0, 0.0], 1.0);
        let r = runs(&s);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].points,
            vec![0, 1, 3, 4],
            "index 2 is on the line: skipped"
        );
        assert_eq!(r[1].side, Side::Below);
        assert_eq!(useful(&s), 5);
        assert_eq!(crossings(&r), 1);
    }

    #[test]
    fn equal_neighbours_count_once_in_a_trend() {
        let st = monotone_stretches(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 4.0]);
        assert_eq!(st[0], (0, 5, true, 5));
        assert_eq!(st[1], (5, 6, false, 2));
    }
}
