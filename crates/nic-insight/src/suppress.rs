//! Small-cell suppression for what leaves a site: a group value based on fewer than the
//! network's minimum of students is suppressed, and where a total is shown, enough further
//! cells are suppressed that no hidden one can be recovered by subtraction (complementary
//! suppression). Suppressed values say so, with the reason — never zero, never blank.

use std::collections::BTreeSet;

use serde::Serialize;

/// The smallest group shown outside its site (5–30; 10 by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MinCell(u32);

impl Default for MinCell {
    fn default() -> Self {
        MinCell(10)
    }
}

impl MinCell {
    /// The network's threshold; refused outside 5–30 (common state values are 10, 20, 30).
    pub fn new(n: u32) -> Result<MinCell, String> {
        if (5..=30).contains(&n) {
            Ok(MinCell(n))
        } else {
            Err(format!(
                "a minimum cell size of {n} is outside 5–30; common values are 10, 20 and 30"
            ))
        }
    }

    /// The threshold.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Why a value is not shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Suppressed {
    /// Fewer students than the minimum behind it.
    SmallCell {
        /// The minimum.
        min: u32,
    },
    /// Hidden so that a small cell beside it cannot be recovered from a shown total.
    Complementary,
}

impl Suppressed {
    /// A sentence for tables and charts.
    pub fn explain(self) -> String {
        match self {
            Suppressed::SmallCell { min } => {
                format!("suppressed: fewer than {min} students")
            }
            Suppressed::Complementary => {
                "suppressed: would reveal a small group by subtraction".to_owned()
            }
        }
    }
}

/// One cell's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Nothing reported here.
    Missing,
    /// Shown.
    Shown,
    /// Hidden, and why.
    Hidden(Suppressed),
}

/// A table of counts whose rows add up to row totals and columns to column totals (e.g.
/// sites × the values of one group dimension, for one period): `n[row][col]` students
/// behind each cell, `None` where nothing was reported.
#[derive(Clone, Debug)]
pub struct Table {
    /// Students behind each cell.
    pub n: Vec<Vec<Option<u32>>>,
    /// Whether each row's total is shown (a site's "all students" value); a hidden total
    /// cannot be subtracted from.
    pub row_totals_shown: Vec<bool>,
    /// Whether column totals are shown (e.g. network-wide values per group).
    pub column_totals_shown: bool,
    /// Rows the reader sees raw (their own site): never suppressed, and known to them, so
    /// they count as shown when deciding what else must be hidden.
    pub known_rows: BTreeSet<usize>,
}

/// Decides every cell's fate: small cells first, then complementary cells until no shown
/// total has exactly one hidden cell beside shown ones (each round hides the smallest
/// shown cell next to a lone hidden one, so the least information is withheld).
pub fn suppress(table: &Table, min: MinCell) -> Vec<Vec<Fate>> {
    let mut fate: Vec<Vec<Fate>> = table
        .n
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .map(|cell| match cell {
                    None => Fate::Missing,
                    Some(_) if table.known_rows.contains(&r) => Fate::Shown,
                    Some(n) if *n < min.0 => Fate::Hidden(Suppressed::SmallCell { min: min.0 }),
                    Some(_) => Fate::Shown,
                })
                .collect()
        })
        .collect();
    let rows = table.n.len();
    let cols = table.n.iter().map(Vec::len).max().unwrap_or(0);
    loop {
        let mut changed = false;
        for r in 0..rows {
            if table.row_totals_shown.get(r).copied().unwrap_or(false) {
                let line: Vec<(usize, usize)> = (0..fate[r].len()).map(|c| (r, c)).collect();
                changed |= complement(table, &mut fate, &line);
            }
        }
        if table.column_totals_shown {
            for c in 0..cols {
                let line: Vec<(usize, usize)> = (0..rows)
                    .filter(|&r| c < fate[r].len())
                    .map(|r| (r, c))
                    .collect();
                changed |= complement(table, &mut fate, &line);
            }
        }
        if !changed {
            return fate;
        }
    }
}

/// In one line adding up to a shown total: if exactly one cell is hidden and others are
/// shown, hides the smallest shown one that the reader does not already know.
fn complement(table: &Table, fate: &mut [Vec<Fate>], line: &[(usize, usize)]) -> bool {
    let hidden = line
        .iter()
        .filter(|&&(r, c)| matches!(fate[r][c], Fate::Hidden(_)))
        .count();
    if hidden != 1 {
        return false;
    }
    let candidate = line
        .iter()
        .filter(|&&(r, c)| fate[r][c] == Fate::Shown && !table.known_rows.contains(&r))
        .min_by_key(|&&(r, c)| (table.n[r][c].unwrap_or(0), r, c));
    match candidate {
        Some(&(r, c)) => {
            fate[r][c] = Fate::Hidden(Suppressed::Complementary);
            true
        }
        // Every other cell is known to the reader or missing: the caller hides this line's
        // total instead (see `total_safe`).
        None => false,
    }
}

/// Whether a line's total may be shown given its cells' fates: not when exactly one cell
/// is hidden and every other reported cell is shown (or known to the reader) — the hidden
/// one would be the total minus the rest. After [`suppress`] this can happen only in a
/// column whose other cells are all the reader's own; that column's total must then be
/// hidden for this reader.
pub fn total_safe(fates: &[Fate]) -> bool {
    let hidden = fates
        .iter()
        .filter(|f| matches!(f, Fate::Hidden(_)))
        .count();
    let shown = fates.iter().filter(|f| **f == Fate::Shown).count();
    !(hidden == 1 && shown >= 1)
}
