//! Every CSV table read back with the `csv` crate gives exactly what was written, whatever
//! people typed into site ids, groups, periods, questions, predictions and results:
//! commas, quotes, `\r`, `\n`, leading and trailing spaces — except that text a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) comes back with a
//! leading `'`, and only such text.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::RuleSet;
use nic_insight::cycles::{Comparison, CycleSummary, DecisionCounts, Prediction, SiteRamp};
use nic_insight::export::{
    comparison_csv, gaps_csv, rows_csv, series_csv, signals_csv, spreadsheet_safe,
};
use nic_insight::series::{Gap, GapPoint, Reference, Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_model::schema::measure::Direction;
use proptest::prelude::*;

/// What a spreadsheet user may type: anything printable, or text dense in what CSV must
/// quote (and spaces at either end, which a careless writer or reader trims).
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,12}", "[ ,\"\r\na-z#'=é\t]{0,12}"]
}

/// What a field is written as.
fn safe(s: &str) -> String {
    spreadsheet_safe(s).into_owned()
}

/// The table read back: header, then rows, every field as written.
fn read(csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn point() -> impl Strategy<Value = SeriesPoint> {
    (
        text(),
        proptest::option::of(-1e9f64..1e9),
        proptest::option::of(any::<u32>()),
        any::<bool>(),
    )
        .prop_map(|(period, value, n, hidden)| SeriesPoint {
            period,
            value: value.filter(|_| !hidden),
            n: n.filter(|_| !hidden),
            numerator: None,
            denominator: None,
            suppressed: hidden.then_some(Suppressed::SmallCell { min: 10 }),
        })
}

fn opt(s: &Option<impl ToString>) -> String {
    s.as_ref().map(ToString::to_string).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_rows_round_trip(rows in proptest::collection::vec([text(), text(), text()], 0..8),
                           single in proptest::collection::vec(text(), 0..4)) {
        let (header, back) = read(&rows_csv(["a", "b", "c"], rows.clone()));
        prop_assert_eq!(header, ["a", "b", "c"]);
        prop_assert_eq!(back, rows.iter().map(|r| r.iter().map(|f| safe(f)).collect()).collect::<Vec<Vec<_>>>());
        // One column: an empty field must still be a row.
        let (_, back) = read(&rows_csv(["only"], single.iter().map(|s| [s.clone()])));
        prop_assert_eq!(back, single.iter().map(|s| vec![safe(s)]).collect::<Vec<_>>());
    }

    #[test]
    fn series_round_trip(site in text(), group in text(),
                         points in proptest::collection::vec(point(), 0..6)) {
        let s = Series::new(site.clone(), group.clone(), points.clone(), Direction::Up, RuleSet::Ihi);
        let (header, rows) = read(&series_csv(&[s], None));
        prop_assert_eq!(&header[..6], ["site", "group", "period", "value", "n", "suppressed"]);
        prop_assert_eq!(header, nic_insight::export::SERIES_COLUMNS);
        prop_assert_eq!(rows.len(), points.len());
        for (row, p) in rows.iter().zip(&points) {
            prop_assert_eq!(&row[..3], [safe(&site), safe(&group), safe(&p.period)]);
            prop_assert_eq!(row[3].parse::<f64>().ok(), p.value);
            prop_assert_eq!(&row[4], &opt(&p.n));
            prop_assert_eq!(&row[5], &p.suppressed.map(|w| w.explain()).unwrap_or_default());
        }
    }

    #[test]
    fn signals_round_trip(site in text(), group in text(), periods in [text(), text()]) {
        // A shift: eight points below the median, then eight above.
        let points = (0..16)
            .map(|k| SeriesPoint {
                period: periods[k / 8].clone(),
                value: Some(if k < 8 { 1.0 } else { 9.0 }),
                n: Some(30),
                numerator: None,
                denominator: None,
                suppressed: None,
            })
            .collect();
        let s = Series::new(site.clone(), group.clone(), points, Direction::Up, RuleSet::Ihi);
        let (header, rows) = read(&signals_csv(std::slice::from_ref(&s)));
        prop_assert_eq!(header, ["site", "group", "rule", "label", "from", "to", "detail"]);
        prop_assert!(!rows.is_empty());
        prop_assert_eq!(rows.len(), s.analysis.signals.len());
        for (row, g) in rows.iter().zip(&s.analysis.signals) {
            prop_assert_eq!(&row[..2], [safe(&site), safe(&group)]);
            let written: Vec<String> = periods.iter().map(|p| safe(p)).collect();
            prop_assert!(written.contains(&row[4]) && written.contains(&row[5]));
            prop_assert_eq!(&row[6], &g.detail);
        }
    }

    #[test]
    fn comparison_round_trips(idea in text(), site in text(), doc in text(), start in proptest::option::of(text()),
                              asked in proptest::collection::vec([text(), text(), text()], 0..4)) {
        let c = Comparison {
            change_idea: idea.clone(),
            sites: vec![SiteRamp {
                site: site.clone(),
                cycles: vec![CycleSummary {
                    doc: doc.clone(),
                    number: 3,
                    planned_start: start.clone(),
                    planned_end: None,
                    predictions: asked
                        .iter()
                        .map(|[q, p, r]| Prediction { question: q.clone(), prediction: p.clone(), result: r.clone() })
                        .collect(),
                    learning: String::new(),
                    decision: Some("adopt"),
                }],
                decisions: DecisionCounts::default(),
                status: "adopted",
                days_to_adoption: Some(14),
            }],
            decisions: DecisionCounts::default(),
        };
        let (header, rows) = read(&comparison_csv(&c));
        prop_assert_eq!(header, [
            "change_idea", "site", "cycle", "number", "planned_start", "question", "prediction",
            "result", "decision", "site_status", "days_to_adoption",
        ]);
        // A cycle without questions is still a row.
        let expected: Vec<[String; 3]> = if asked.is_empty() { vec![Default::default()] } else { asked };
        prop_assert_eq!(rows.len(), expected.len());
        for (row, qpr) in rows.iter().zip(&expected) {
            let start = start.clone().unwrap_or_default();
            prop_assert_eq!(&row[..5], [safe(&idea), safe(&site), safe(&doc), "3".into(), safe(&start)]);
            prop_assert_eq!(&row[5..8], &qpr.iter().map(|f| safe(f)).collect::<Vec<_>>()[..]);
            prop_assert_eq!(&row[8..], ["adopt", "adopted", "14"]);
        }
    }

    #[test]
    fn gaps_round_trip(site in text(), focal in text(),
                       points in proptest::collection::vec((text(), proptest::option::of(-100f64..100.0)), 0..6)) {
        let g = Gap {
            site: site.clone(),
            focal: focal.clone(),
            reference: Reference::Best,
            points: points
                .iter()
                .map(|(period, gap)| GapPoint {
                    period: period.clone(),
                    gap: *gap,
                    suppressed: gap.is_none().then_some(Suppressed::Complementary),
                })
                .collect(),
            closing: None,
        };
        let (header, rows) = read(&gaps_csv(&[g]));
        prop_assert_eq!(header, ["site", "focal", "reference", "period", "gap", "suppressed"]);
        prop_assert_eq!(rows.len(), points.len());
        for (row, (period, gap)) in rows.iter().zip(&points) {
            prop_assert_eq!(&row[..4], [safe(&site), safe(&focal), "best".into(), safe(period)]);
            prop_assert_eq!(row[4].parse::<f64>().ok(), *gap);
            prop_assert_eq!(row[5].is_empty(), gap.is_some());
        }
    }
}

/// The cases a hand-made writer gets wrong, spelled out.
#[test]
fn awkward_fields_come_back_whole() {
    let awkward = [
        "a, b",
        "say \"hi\"",
        "line\nbreak",
        "carriage\rreturn",
        "\r\n",
        "  padded  ",
        "",
        "#not a comment",
    ];
    let text = rows_csv(
        ["x", "y"],
        awkward.map(|a| [a.to_owned(), "end".to_owned()]),
    );
    let (_, rows) = read(&text);
    let back: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut expected = awkward.to_vec();
    expected[4] = "'\r\n";
    assert_eq!(back, expected);
    assert!(rows.iter().all(|r| r[1] == "end"), "{text}");
}

/// Formulas are disarmed; numbers, negative ones included, are not.
#[test]
fn a_spreadsheet_runs_no_formula_from_an_export() {
    for (field, written) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-3.5", "-3.5"),
        ("+2", "+2"),
        ("lincoln-hs", "lincoln-hs"),
        ("'=already", "'=already"),
    ] {
        let (_, rows) = read(&rows_csv(["x"], [[field.to_owned()]]));
        assert_eq!(rows[0][0], written, "{field:?}");
    }
}
