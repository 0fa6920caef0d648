//! How many runs about the median chance gives: the table IHI-trained coaches read, and what
//! is used beyond it.
//!
//! Perla, Provost & Murray, "The run chart: a simple analytical tool for learning from
//! variation in healthcare processes", BMJ Quality & Safety 2011;20:46–51, Table 1 lists,
//! for 10 to 60 useful observations (points not on the median), a lower and an upper limit:
//! *fewer* runs than the lower limit are too few, *more* runs than the upper limit too many.
//! A run count equal to either limit is not a signal. The table is derived from the
//! Swed–Eisenhart runs distribution but is not equal to its 2.5%-per-tail critical values
//! at every row, so the rows are written out here as published, not computed.
//!
//! Beyond 60 useful observations the limits come from the Swed–Eisenhart distribution
//! itself, with the useful observations split evenly above and below the median (⌊n/2⌋ and
//! ⌈n/2⌉) and 2.5% in each tail, read with the same "fewer than / more than" rule. Below 10
//! there is no row: the runs rule is not applied.

use crate::stats;

/// Where a pair of runs limits comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunsSource {
    /// Perla, Provost & Murray 2011, Table 1 (10–60 useful observations).
    PerlaTable,
    /// Beyond the table: the Swed–Eisenhart distribution, 2.5% per tail.
    SwedEisenhart,
}

impl RunsSource {
    /// The source, for people.
    pub fn cite(self) -> &'static str {
        match self {
            RunsSource::PerlaTable => "Perla, Provost & Murray 2011, Table 1",
            RunsSource::SwedEisenhart => {
                "Swed–Eisenhart, 2.5% per tail: beyond the 60 rows of Perla, Provost & Murray's table"
            }
        }
    }
}

/// The runs expected by chance for some number of useful observations: fewer than
/// `lower` is too few, more than `upper` too many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunsExpected {
    /// Fewer runs than this are too few.
    pub lower: u64,
    /// More runs than this are too many.
    pub upper: u64,
    /// The table row or the distribution.
    pub source: RunsSource,
}

/// Perla, Provost & Murray 2011, Table 1: (useful observations, lower limit, upper limit).
pub const PERLA_TABLE_1: [(u64, u64, u64); 51] = [
    (10, 3, 9),
    (11, 3, 10),
    (12, 3, 11),
    (13, 4, 11),
    (14, 4, 12),
    (15, 5, 12),
    (16, 5, 13),
    (17, 5, 13),
    (18, 6, 14),
    (19, 6, 15),
    (20, 6, 16),
    (21, 7, 16),
    (22, 7, 17),
    (23, 7, 17),
    (24, 8, 18),
    (25, 8, 18),
    (26, 9, 19),
    (27, 10, 19),
    (28, 10, 20),
    (29, 10, 20),
    (30, 11, 21),
    (31, 11, 22),
    (32, 11, 22),
    (33, 11, 23),
    (34, 12, 23),
    (35, 13, 24),
    (36, 13, 24),
    (37, 13, 25),
    (38, 14, 26),
    (39, 14, 26),
    (40, 15, 27),
    (41, 16, 27),
    (42, 16, 28),
    (43, 17, 28),
    (44, 17, 29),
    (45, 17, 30),
    (46, 17, 31),
    (47, 18, 31),
    (48, 18, 32),
    (49, 19, 32),
    (50, 19, 33),
    (51, 20, 33),
    (52, 21, 33),
    (53, 21, 34),
    (54, 22, 34),
    (55, 22, 35),
    (56, 23, 35),
    (57, 23, 36),
    (58, 24, 36),
    (59, 24, 37),
    (60, 25, 37),
];

/// The runs chance gives for `useful` observations; `None` below 10, where the rule does
/// not apply.
pub fn expected_runs(useful: u64) -> Option<RunsExpected> {
    if useful < PERLA_TABLE_1[0].0 {
        return None;
    }
    if let Some(&(_, lower, upper)) = PERLA_TABLE_1.iter().find(|(n, _, _)| *n == useful) {
        return Some(RunsExpected {
            lower,
            upper,
            source: RunsSource::PerlaTable,
        });
    }
    // Critical values at 5% two-tailed: too few when runs ≤ c_low, too many when runs ≥
    // c_high; the table's form says the same as "fewer than c_low + 1, more than c_high − 1".
    let (c_low, c_high) = stats::runs_critical_values(useful / 2, useful - useful / 2, 0.05);
    Some(RunsExpected {
        lower: c_low + 1,
        upper: c_high - 1,
        source: RunsSource::SwedEisenhart,
    })
}
