//! Suppression: a group of fewer than the minimum is never shown outside its site, and no
//! shown total lets anyone recover a hidden cell by subtraction.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use nic_insight::suppress::{Fate, MinCell, Suppressed, Table, suppress, total_safe};
use proptest::prelude::*;

fn table(n: Vec<Vec<Option<u32>>>, columns: bool, known: &[usize]) -> Table {
    let rows = n.len();
    Table {
        n,
        row_totals_shown: vec![true; rows],
        column_totals_shown: columns,
        known_rows: known.iter().copied().collect(),
    }
}

#[test]
fn nine_is_hidden_ten_is_shown() {
    let t = table(vec![vec![Some(9), Some(10), None]], false, &[]);
    let f = suppress(&t, MinCell::default());
    assert_eq!(f[0][0], Fate::Hidden(Suppressed::SmallCell { min: 10 }));
    assert_eq!(f[0][2], Fate::Missing);
    // 9 hidden beside a shown 10 under a shown total: the 10 goes too.
    assert_eq!(f[0][1], Fate::Hidden(Suppressed::Complementary));
    assert!(
        Suppressed::SmallCell { min: 10 }
            .explain()
            .contains("fewer than 10")
    );
}

#[test]
fn the_complement_is_the_smallest_shown_cell() {
    // english_learner = yes 9, no 40; race_ethnicity-like wider breakdown: 9, 12, 30.
    let t = table(vec![vec![Some(9), Some(12), Some(30)]], false, &[]);
    let f = suppress(&t, MinCell::default());
    assert_eq!(f[0][1], Fate::Hidden(Suppressed::Complementary));
    assert_eq!(f[0][2], Fate::Shown);
    assert!(total_safe(&f[0]));
}

#[test]
fn sites_by_groups_with_network_totals_leave_nothing_to_subtract() {
    // Rows: lincoln, adams, jefferson; columns: EL yes, EL no.
    let t = table(
        vec![
            vec![Some(25), Some(60)],
            vec![Some(8), Some(70)],
            vec![Some(30), Some(55)],
        ],
        true,
        &[],
    );
    let f = suppress(&t, MinCell::default());
    assert_eq!(f[1][0], Fate::Hidden(Suppressed::SmallCell { min: 10 }));
    for (r, row) in f.iter().enumerate() {
        assert!(total_safe(row), "row {r}: {row:?}");
    }
    for c in 0..2 {
        let column: Vec<Fate> = f.iter().map(|row| row[c]).collect();
        assert!(total_safe(&column), "column {c}: {column:?}");
    }
}

#[test]
fn a_readers_own_site_is_raw_but_counts_as_known() {
    // Reader at lincoln (row 0) sees its own 9 raw. adams' 8 is hidden; the network total
    // for the column would give it away through jefferson, so jefferson's goes too.
    let t = table(
        vec![
            vec![Some(9), Some(60)],
            vec![Some(8), Some(70)],
            vec![Some(30), Some(55)],
        ],
        true,
        &[0],
    );
    let f = suppress(&t, MinCell::default());
    assert_eq!(f[0][0], Fate::Shown, "the reader's own site");
    assert_eq!(f[1][0], Fate::Hidden(Suppressed::SmallCell { min: 10 }));
    assert_eq!(f[2][0], Fate::Hidden(Suppressed::Complementary));
    // With only the reader's own site beside it, the column total itself is unsafe.
    let two = table(
        vec![vec![Some(9), Some(60)], vec![Some(8), Some(70)]],
        true,
        &[0],
    );
    let f = suppress(&two, MinCell::default());
    let column: Vec<Fate> = (0..2).map(|r| f[r][0]).collect();
    assert!(!total_safe(&column), "{column:?}");
}

#[test]
fn thresholds_outside_5_to_30_are_refused() {
    assert!(MinCell::new(4).is_err());
    assert!(MinCell::new(31).is_err());
    assert_eq!(MinCell::new(20).unwrap().get(), 20);
}

proptest! {
    /// Any table: every small cell outside the reader's rows is hidden, and every shown
    /// total is safe, except a column whose other cells are all the reader's own (which
    /// the caller must then hide).
    #[test]
    fn no_small_cell_is_visible_or_recoverable(
        cells in prop::collection::vec(prop::collection::vec(prop::option::of(0u32..40), 2..5), 1..6),
        columns in any::<bool>(),
        known in prop::option::of(0usize..6),
        totals in prop::collection::vec(any::<bool>(), 6),
    ) {
        let rows = cells.len();
        let t = Table {
            n: cells.clone(),
            row_totals_shown: totals[..rows].to_vec(),
            column_totals_shown: columns,
            known_rows: known.filter(|k| *k < rows).into_iter().collect::<BTreeSet<_>>(),
        };
        let f = suppress(&t, MinCell::default());
        for r in 0..rows {
            for c in 0..cells[r].len() {
                if let Some(n) = cells[r][c]
                    && n < 10
                    && !t.known_rows.contains(&r)
                {
                    prop_assert!(matches!(f[r][c], Fate::Hidden(_)));
                }
            }
            if t.row_totals_shown[r] {
                prop_assert!(total_safe(&f[r]), "row {} {:?}", r, f[r]);
            }
        }
        if columns {
            let width = cells.iter().map(Vec::len).max().unwrap_or(0);
            for c in 0..width {
                let line: Vec<(usize, Fate)> =
                    (0..rows).filter(|&r| c < f[r].len()).map(|r| (r, f[r][c])).collect();
                let fates: Vec<Fate> = line.iter().map(|(_, f)| *f).collect();
                if !total_safe(&fates) {
                    prop_assert!(line
                        .iter()
                        .all(|(r, f)| *f != Fate::Shown || t.known_rows.contains(r)));
                }
            }
        }
    }
}
