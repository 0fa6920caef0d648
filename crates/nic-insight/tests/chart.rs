//! The SVG charts are well-formed and show what the analysis found: points, the centre
//! line, limits on an XmR chart, signals in their colours, suppressed points marked as
//! suppressed, and PDSA cycles at their dates; small multiples share one scale.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::RuleSet;
use nic_insight::chart::{Annotation, ChartSpec, chart_svg, small_multiples_svg};
use nic_insight::series::{Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_model::schema::measure::Direction;

fn series(site: &str, values: &[Option<f64>], set: RuleSet) -> Series {
    let points: Vec<SeriesPoint> = values
        .iter()
        .enumerate()
        .map(|(i, v)| SeriesPoint {
            period: format!("{}-{:02}-01", 2026 + i / 12, 1 + i % 12),
            value: *v,
            n: v.map(|_| 40),
            numerator: None,
            denominator: None,
            suppressed: v.is_none().then_some(Suppressed::SmallCell { min: 10 }),
        })
        .collect();
    Series::new(site, "all", points, Direction::Up, set)
}

fn count(doc: &roxmltree::Document<'_>, tag: &str, class: Option<&str>) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && class.is_none_or(|c| n.attribute("class") == Some(c)))
        .count()
}

#[test]
fn a_run_chart_shows_points_signals_suppressed_points_and_cycles() {
    // Thirteen points: six low then six high (two shifts about the median), one suppressed.
    let values: Vec<Option<f64>> = [
        40.0, 42.0, 41.0, 43.0, 40.0, 42.0, 55.0, 57.0, 56.0, 58.0, 57.0, 59.0,
    ]
    .iter()
    .map(|v| Some(*v))
    .chain([None])
    .collect();
    let s = series("lincoln", &values, RuleSet::Ihi);
    let svg = chart_svg(&ChartSpec {
        title: "On track for Algebra I — Lincoln <all students>".into(),
        unit: "%".into(),
        series: &s,
        target: None,
        annotations: vec![Annotation {
            date: "2026-06-15".into(),
            label: "C1 adapt".into(),
        }],
    });
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(count(&doc, "circle", Some("point")), 12);
    assert_eq!(count(&doc, "g", Some("suppressed")), 1);
    assert_eq!(count(&doc, "line", Some("centre")), 1);
    assert_eq!(
        count(&doc, "line", Some("limit")),
        0,
        "a run chart has no limits"
    );
    assert!(svg.contains("&lt;all students&gt;"), "text is escaped");
    assert!(svg.contains("suppressed: fewer than 10 students"));
    assert!(svg.contains("C1 adapt"));
    // The shift above the median is an improvement (blue); below, a concern (orange).
    let fills: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("point"))
        .filter_map(|n| n.attribute("fill"))
        .collect();
    assert!(
        fills.contains(&"#1f6fb4") && fills.contains(&"#e07b00"),
        "{fills:?}"
    );
}

#[test]
fn an_xmr_chart_draws_its_limits() {
    let values: Vec<Option<f64>> = [
        10.0, 12.0, 11.0, 13.0, 12.0, 14.0, 13.0, 15.0, 14.0, 30.0, 13.0, 12.0,
    ]
    .iter()
    .map(|v| Some(*v))
    .collect();
    let s = series("adams", &values, RuleSet::Xmr);
    let svg = chart_svg(&ChartSpec {
        title: "XmR".into(),
        unit: String::new(),
        series: &s,
        target: None,
        annotations: Vec::new(),
    });
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(count(&doc, "line", Some("limit")), 2);
    assert_eq!(count(&doc, "line", Some("sigma2")), 2);
    assert!(svg.contains("mean 14.1"));
}

#[test]
fn small_multiples_share_a_scale() {
    let a = series("adams", &[Some(10.0), Some(20.0), Some(15.0)], RuleSet::Ihi);
    let b = series(
        "lincoln",
        &[Some(60.0), Some(70.0), Some(65.0)],
        RuleSet::Ihi,
    );
    let specs = [
        ChartSpec {
            title: "Adams".into(),
            unit: "%".into(),
            series: &a,
            target: None,
            annotations: vec![],
        },
        ChartSpec {
            title: "Lincoln".into(),
            unit: "%".into(),
            series: &b,
            target: None,
            annotations: vec![],
        },
    ];
    let svg = small_multiples_svg("On track, by school", &specs, 2);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(count(&doc, "circle", Some("point")), 6);
    // One scale: both charts label the same ticks.
    let ticks: Vec<&str> = doc
        .descendants()
        .filter(|n| {
            n.attribute("class") == Some("tick") && n.text().is_some_and(|t| t.ends_with('%'))
        })
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(ticks.len(), 10);
    assert_eq!(ticks[..5], ticks[5..]);
}
