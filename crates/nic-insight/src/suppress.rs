//! Small-cell suppression for what leaves a site. A value based on fewer than the network's
//! minimum of students is hidden; then further cells are hidden until an attacker holding
//! every shown value, the cells they already know and every total the cells add up to can
//! learn nothing exact about a hidden cell (complementary suppression, checked by audit).
//! Suppressed values say so, with the reason — never zero, never blank.
//!
//! The guarantee, for any [`Block`] after [`suppress`] (see [`audit`]):
//! - every line whose total is shown has no hidden part, or at least two hidden parts with
//!   n > 0 whose n add up to at least the minimum (a hidden part with n = 0 protects
//!   nothing, and two hidden parts of 3 and 4 would give away a group of 7);
//! - no hidden cell is determined by the lines taken together: its unit vector is not in the
//!   row space of the lines' equations over the hidden cells (shown and known cells being
//!   constants). Numerators, n and value × n all add up along the same lines, so this holds
//!   for each of them.
//!
//! Where hiding parts cannot help (every other part is already known to the reader), the
//! line's total is hidden instead.

mod linear;

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
    /// Shown (or known to the reader already).
    Shown,
    /// Hidden, and why.
    Hidden(Suppressed),
}

/// A line of cells that add up: the total cell is the sum of the part cells (a site's
/// "all" over one group dimension, a network total over the sites).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The total's cell.
    pub total: usize,
    /// The parts' cells.
    pub parts: Vec<usize>,
}

/// Cells and every line an attacker may assume they add up along (e.g. one period of a
/// measure: each site's groups under its "all", per group dimension).
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Students behind each cell.
    pub n: Vec<u32>,
    /// Cells the reader knows already (their own site's): never suppressed, and constants
    /// to an attacker, like shown cells.
    pub known: Vec<bool>,
    /// Cells never shown whatever their size (a total nobody reported, which the lines
    /// still tie together); they are unknowns to an attacker.
    pub unreported: Vec<bool>,
    /// The lines.
    pub lines: Vec<Line>,
}

impl Block {
    /// Adds a cell; returns its index.
    pub fn cell(&mut self, n: u32, known: bool, unreported: bool) -> usize {
        self.n.push(n);
        self.known.push(known);
        self.unreported.push(unreported);
        self.n.len() - 1
    }

    fn known(&self, c: usize) -> bool {
        self.known.get(c).copied().unwrap_or(false)
    }

    fn unreported(&self, c: usize) -> bool {
        self.unreported.get(c).copied().unwrap_or(false)
    }
}

/// What [`audit`] found wrong with a block's fates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Breach {
    /// A shown total whose hidden parts are fewer than two with n > 0, or add up to fewer
    /// students than the minimum: subtracting the shown parts gives them away.
    Line(usize),
    /// Hidden cells an attacker can compute exactly from the lines (cell indices).
    Determined(Vec<usize>),
}

/// Decides every cell's fate: small cells first, then complementary cells until [`audit`]
/// finds nothing (each round hides the smallest shown part with n > 0 of a breached line,
/// so the least is withheld; a line's total only when no part is left to hide).
pub fn suppress(block: &Block, min: MinCell) -> Vec<Fate> {
    let mut fate: Vec<Fate> = (0..block.n.len())
        .map(|c| {
            if block.known(c) {
                Fate::Shown
            } else if block.unreported(c) {
                Fate::Hidden(Suppressed::Complementary)
            } else if block.n[c] < min.0 {
                Fate::Hidden(Suppressed::SmallCell { min: min.0 })
            } else {
                Fate::Shown
            }
        })
        .collect();
    let before = known_before(block);
    while let Some(breach) = audit_with(block, &fate, min, &before) {
        let lines: Vec<&Line> = match &breach {
            Breach::Line(l) => block.lines.get(*l).into_iter().collect(),
            Breach::Determined(cells) => block
                .lines
                .iter()
                .filter(|l| cells.iter().any(|c| l.total == *c || l.parts.contains(c)))
                .collect(),
        };
        let pick = candidate(block, &fate, &lines)
            // Nothing left to hide on those lines: anything else still shown that a line
            // ties to a hidden cell.
            .or_else(|| candidate(block, &fate, &block.lines.iter().collect::<Vec<_>>()));
        match pick {
            Some(c) => fate[c] = Fate::Hidden(Suppressed::Complementary),
            // Everything left is the reader's own: they know it, and so what it implies.
            None => break,
        }
    }
    fate
}

/// What the reader knows before being shown anything: the cells they know and whatever
/// those alone determine (e.g. a network total over their own site only). No secret.
fn known_before(block: &Block) -> Vec<bool> {
    let mut before: Vec<bool> = (0..block.n.len()).map(|c| block.known(c)).collect();
    if before.iter().any(|k| *k) {
        for c in linear::determined(block, &|c| !block.known(c)) {
            before[c] = true;
        }
    }
    before
}

/// The cell to hide next among `lines`: the smallest shown part with n > 0 the reader does
/// not know, else the smallest such total.
fn candidate(block: &Block, fate: &[Fate], lines: &[&Line]) -> Option<usize> {
    let hideable = |c: &usize| fate[*c] == Fate::Shown && !block.known(*c);
    let parts = lines
        .iter()
        .flat_map(|l| l.parts.iter())
        .filter(|c| hideable(c) && block.n[**c] > 0)
        .min_by_key(|c| (block.n[**c], **c));
    let totals = || {
        lines
            .iter()
            .map(|l| &l.total)
            .filter(|c| hideable(c))
            .min_by_key(|c| (block.n[**c], **c))
    };
    parts.or_else(totals).copied()
}

/// Whether an attacker can learn something exact about a hidden cell from the shown and
/// known cells and the block's lines; `None` when the block keeps the guarantee. (Cells
/// the reader's own cells determine on their own are theirs already, not secrets.)
pub fn audit(block: &Block, fate: &[Fate], min: MinCell) -> Option<Breach> {
    audit_with(block, fate, min, &known_before(block))
}

fn audit_with(block: &Block, fate: &[Fate], min: MinCell, before: &[bool]) -> Option<Breach> {
    let secret = |c: usize| {
        matches!(fate.get(c), Some(Fate::Hidden(_))) && !before.get(c).copied().unwrap_or(false)
    };
    for (i, line) in block.lines.iter().enumerate() {
        if secret(line.total) {
            continue;
        }
        let parts: Vec<usize> = line.parts.iter().copied().filter(|&c| secret(c)).collect();
        if parts.is_empty() {
            continue;
        }
        let nonzero = parts.iter().filter(|&&c| block.n[c] > 0).count();
        let students: u64 = parts.iter().map(|&c| u64::from(block.n[c])).sum();
        if nonzero < 2 || students < u64::from(min.0) {
            return Some(Breach::Line(i));
        }
    }
    let determined = linear::determined(block, &secret);
    (!determined.is_empty()).then_some(Breach::Determined(determined))
}
