//! Which hidden cells the lines determine: exact rational Gaussian elimination over the
//! hidden cells (shown and known cells are constants, so they drop out of the left side).

use std::collections::BTreeMap;

use super::{Block, Line};

/// A fraction in lowest terms with a positive denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Q {
    num: i128,
    den: i128,
}

const ZERO: Q = Q { num: 0, den: 1 };

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

impl Q {
    fn int(v: i128) -> Q {
        Q { num: v, den: 1 }
    }

    fn new(num: i128, den: i128) -> Option<Q> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        let sign = if den < 0 { -1 } else { 1 };
        Some(Q {
            num: sign * (num / g),
            den: sign * (den / g),
        })
    }

    fn mul(self, o: Q) -> Option<Q> {
        Q::new(self.num.checked_mul(o.num)?, self.den.checked_mul(o.den)?)
    }

    fn sub(self, o: Q) -> Option<Q> {
        let num = self
            .num
            .checked_mul(o.den)?
            .checked_sub(o.num.checked_mul(self.den)?)?;
        Q::new(num, self.den.checked_mul(o.den)?)
    }

    fn div(self, o: Q) -> Option<Q> {
        Q::new(self.num.checked_mul(o.den)?, self.den.checked_mul(o.num)?)
    }
}

/// The hidden cells whose unit vector lies in the row space of the lines' equations (so an
/// attacker computes them exactly), in index order. Should the arithmetic overflow, every
/// hidden cell on a line is reported: suppression then hides more, never less.
pub(super) fn determined(block: &Block, hidden: &dyn Fn(usize) -> bool) -> Vec<usize> {
    // Lines that share no hidden cell are separate systems (typically one per site): solving
    // each on its own keeps the elimination small.
    let mut parent: Vec<usize> = (0..block.lines.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_line: BTreeMap<usize, usize> = BTreeMap::new();
    for (l, line) in block.lines.iter().enumerate() {
        for &c in std::iter::once(&line.total).chain(&line.parts) {
            if hidden(c) {
                let other = *first_line.entry(c).or_insert(l);
                let (a, b) = (root(&mut parent, l), root(&mut parent, other));
                parent[a] = b;
            }
        }
    }
    let mut systems: BTreeMap<usize, Vec<&Line>> = BTreeMap::new();
    for (l, line) in block.lines.iter().enumerate() {
        systems.entry(root(&mut parent, l)).or_default().push(line);
    }
    let mut out: Vec<usize> = systems
        .values()
        .flat_map(|lines| solve(lines, hidden))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// [`determined`] for one system of lines.
fn solve(lines: &[&Line], hidden: &dyn Fn(usize) -> bool) -> Vec<usize> {
    // Columns: the hidden cells on some line.
    let mut column: BTreeMap<usize, usize> = BTreeMap::new();
    for line in lines {
        for &c in std::iter::once(&line.total).chain(&line.parts) {
            if hidden(c) {
                let next = column.len();
                column.entry(c).or_insert(next);
            }
        }
    }
    let width = column.len();
    let mut rows: Vec<Vec<Q>> = Vec::new();
    for line in lines {
        let mut row = vec![ZERO; width];
        let mut any = false;
        let mut add = |c: usize, k: i128| {
            if let Some(&j) = column.get(&c) {
                row[j] = Q::int(row[j].num + k);
                any = true;
            }
        };
        add(line.total, -1);
        for &c in &line.parts {
            add(c, 1);
        }
        if any {
            rows.push(row);
        }
    }
    match reduce(&mut rows, width) {
        Some(pivots) => {
            let cell_of: BTreeMap<usize, usize> = column.iter().map(|(&c, &j)| (j, c)).collect();
            pivots
                .iter()
                .filter(|&&(r, _)| rows[r].iter().filter(|q| q.num != 0).count() == 1)
                .filter_map(|(_, j)| cell_of.get(j).copied())
                .collect()
        }
        None => column.into_keys().collect(),
    }
}

/// Reduced row echelon form in place; returns (row, pivot column) pairs, or `None` on
/// overflow.
fn reduce(rows: &mut [Vec<Q>], width: usize) -> Option<Vec<(usize, usize)>> {
    let mut pivots = Vec::new();
    let mut r = 0;
    for j in 0..width {
        let Some(p) = (r..rows.len()).find(|&i| rows[i][j].num != 0) else {
            continue;
        };
        rows.swap(r, p);
        let lead = rows[r][j];
        for q in rows[r].iter_mut() {
            *q = q.div(lead)?;
        }
        let pivot = rows[r].clone();
        for (i, row) in rows.iter_mut().enumerate() {
            if i == r || row[j].num == 0 {
                continue;
            }
            let f = row[j];
            for (q, &p) in row.iter_mut().zip(&pivot) {
                if p.num != 0 {
                    *q = q.sub(f.mul(p)?)?;
                }
            }
        }
        pivots.push((r, j));
        r += 1;
        if r == rows.len() {
            break;
        }
    }
    Some(pivots)
}
