//! Writes sample charts — a run chart with signals and a PDSA cycle, an XmR chart, a chart
//! with suppressed points, and small multiples across sites — as SVG files into the folder
//! given (default `target/sample-charts`), with an `index.html` that shows them all.
//! `scripts/render-charts` opens them in headless Chromium.

use std::path::PathBuf;

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
            // Weekly from September (four weeks a month, for simplicity), into the new year.
            period: {
                let month = 8 + i / 4; // 0-based from January 2026
                format!(
                    "{}-{:02}-{:02}",
                    2026 + month / 12,
                    month % 12 + 1,
                    1 + (i % 4) * 7
                )
            },
            value: *v,
            n: v.map(|_| 100),
            numerator: None,
            denominator: None,
            suppressed: v.is_none().then_some(Suppressed::SmallCell { min: 10 }),
        })
        .collect();
    Series::new(site, "all", points, Direction::Up, set)
}

fn weekly(base: f64, lift: f64, skip: &[usize]) -> Vec<Option<f64>> {
    (0..24)
        .map(|w| {
            if skip.contains(&w) {
                return None;
            }
            let wobble = [0.0, 2.0, -1.5, 1.0][w % 4];
            Some(base + wobble + if w >= 12 { lift } else { 0.0 })
        })
        .collect()
}

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/sample-charts".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let lincoln = series("lincoln", &weekly(42.0, 12.0, &[]), RuleSet::Ihi);
    let adams = series("adams", &weekly(55.0, 4.0, &[]), RuleSet::Xmr);
    let small = series(
        "jefferson",
        &weekly(30.0, 0.0, &[3, 4, 5, 17]),
        RuleSet::Ihi,
    );
    let cycle = |date: &str, label: &str| Annotation {
        date: date.into(),
        label: label.into(),
    };
    let spec = |title: &str, s| ChartSpec {
        title: title.into(),
        unit: "%".into(),
        series: s,
        target: None,
        annotations: vec![
            cycle("2026-09-08", "C1 number-talks (adapt)"),
            cycle("2026-10-06", "C2 number-talks (adopt)"),
        ],
    };
    let charts = [
        (
            "run-chart.svg",
            chart_svg(&spec("On track — Lincoln (all students)", &lincoln)),
        ),
        (
            "xmr-chart.svg",
            chart_svg(&spec("On track — Adams (XmR)", &adams)),
        ),
        (
            "suppressed.svg",
            chart_svg(&spec("On track — Jefferson, English learners", &small)),
        ),
        (
            "small-multiples.svg",
            small_multiples_svg(
                "On track for Algebra I, all students, by school",
                &[
                    spec("Lincoln", &lincoln),
                    spec("Adams", &adams),
                    spec("Jefferson", &small),
                ],
                2,
            ),
        ),
    ];
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>nic-insight charts</title></head><body>\n",
    );
    for (name, svg) in &charts {
        std::fs::write(dir.join(name), svg)?;
        html.push_str(&format!("<div><img src=\"{name}\" alt=\"{name}\"></div>\n"));
    }
    html.push_str("</body></html>\n");
    std::fs::write(dir.join("index.html"), html)?;
    println!("{}", dir.display());
    Ok(())
}
