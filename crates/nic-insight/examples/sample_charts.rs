//! Writes sample charts as SVG files into the folder given (default
//! `target/sample-charts`), with an `index.html` that shows them all: a run chart with
//! signals and PDSA cycles, an XmR chart, a chart with suppressed points, a series too short
//! to judge, a long series (130 weeks) with many findings, a P chart whose limits vary with
//! each class's size, a U chart of a rate with varying exposure, an XmR chart with a frozen
//! baseline and a rebase, a run chart with a frozen median, a rebase and the aim's target
//! line, many cycles of three change ideas, and small multiples across sites. `scripts/render-charts` opens them in headless
//! Chromium.

use std::path::PathBuf;

use nic_insight::RuleSet;
use nic_insight::chart::{Annotation, ChartSpec, Target, chart_svg, small_multiples_svg};
use nic_insight::series::{Options, Phasing, Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_model::schema::measure::Direction;

/// The Monday `week` weeks after 2026-09-07, as `YYYY-MM-DD`.
fn week(week: usize) -> String {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut y, mut m, mut d) = (2026_u32, 9_usize, 7 + 7 * u32::try_from(week).unwrap_or(0));
    loop {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let len = DAYS[m - 1] + u32::from(m == 2 && leap);
        if d <= len {
            return format!("{y}-{m:02}-{d:02}");
        }
        d -= len;
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
}

fn series(site: &str, values: &[Option<f64>], set: RuleSet) -> Series {
    let points: Vec<SeriesPoint> = values
        .iter()
        .enumerate()
        .map(|(i, v)| SeriesPoint {
            period: week(i),
            value: *v,
            n: v.map(|_| 100),
            numerator: None,
            denominator: None,
            suppressed: v.is_none().then_some(Suppressed::SmallCell { min: 10 }),
        })
        .collect();
    Series::new(site, "all", points, Direction::Up, set)
}

/// A P chart: the share on track out of classes of 12 to 60 students, with a lift.
fn p_chart() -> Series {
    let points = (0..30)
        .map(|i| {
            let den: f64 = [12.0, 25.0, 60.0, 31.0, 18.0, 44.0][i % 6];
            let rate = if i < 15 { 0.42 } else { 0.55 } + [0.0, 0.03, -0.02, 0.01][i % 4];
            let num = (rate * den).round();
            SeriesPoint {
                period: week(i),
                value: Some(100.0 * num / den),
                n: Some(40),
                numerator: Some(num),
                denominator: Some(den),
                suppressed: None,
            }
        })
        .collect();
    let options = Options {
        direction: Direction::Up,
        rule_set: RuleSet::P,
        scale: 100.0,
        phasing: Phasing::default(),
    };
    Series::analysed("lincoln", "all", points, &options)
}

/// A U chart: office referrals per 100 student-days, with weeks of 3 to 5 school days.
fn u_chart() -> Series {
    let points = (0..26)
        .map(|i| {
            // Exposure in hundreds of student-days: 400 students × 3–5 days.
            let days: f64 = [5.0, 4.0, 5.0, 3.0, 5.0][i % 5];
            let exposure = 400.0 * days / 100.0;
            let rate = if i < 13 { 1.6 } else { 1.1 } + [0.0, 0.2, -0.15, 0.1][i % 4];
            let count = (rate * exposure).round();
            SeriesPoint {
                period: week(i),
                value: Some(count / exposure),
                n: Some(400),
                numerator: Some(count),
                denominator: Some(exposure),
                suppressed: None,
            }
        })
        .collect();
    let options = Options {
        direction: Direction::Down,
        rule_set: RuleSet::U,
        scale: 1.0,
        phasing: Phasing::default(),
    };
    Series::analysed("lincoln", "all", points, &options)
}

/// A run chart whose median is frozen on a 10-week baseline and extended, then rebased at
/// the adoption (week 16), drawn with the aim's target.
fn frozen_baseline() -> Series {
    let points = weekly(42.0, 8.0, &[])
        .into_iter()
        .enumerate()
        .map(|(i, v)| SeriesPoint::shown(week(i), v.unwrap_or(0.0), 100))
        .collect();
    let options = Options {
        direction: Direction::Up,
        rule_set: RuleSet::Ihi,
        scale: 1.0,
        phasing: Phasing {
            baseline_end: Some(week(9)),
            rebases: vec![(week(16), None)],
        },
    };
    Series::analysed("lincoln", "all", points, &options)
}

/// An XmR chart with a frozen baseline of 12 weeks and a rebase at week 20 (an adoption).
fn rebased() -> Series {
    let points = weekly(42.0, 10.0, &[])
        .into_iter()
        .chain(weekly(52.0, 3.0, &[]).into_iter().skip(8))
        .enumerate()
        .map(|(i, v)| SeriesPoint::shown(week(i), v.unwrap_or(0.0), 100))
        .collect();
    let options = Options {
        direction: Direction::Up,
        rule_set: RuleSet::Xmr,
        scale: 1.0,
        phasing: Phasing {
            baseline_end: Some(week(11)),
            rebases: vec![(week(20), None)],
        },
    };
    Series::analysed("adams", "all", points, &options)
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

/// 130 weeks that wander, jump twice, and have a few outliers: many findings.
fn long() -> Vec<Option<f64>> {
    let mut x: u64 = 0x5eed;
    (0..130)
        .map(|w| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            #[allow(clippy::cast_precision_loss)]
            let noise = ((x >> 33) % 1000) as f64 / 1000.0 * 6.0 - 3.0;
            let level = match w {
                0..40 => 41.0,
                40..90 => 47.0,
                _ => 52.0,
            };
            let spike = match w {
                17 => 14.0,
                63 => -15.0,
                111 => 13.0,
                _ => 0.0,
            };
            Some(level + noise + spike)
        })
        .collect()
}

fn cycle(date: &str, label: &str, idea: &str) -> Annotation {
    Annotation {
        date: date.into(),
        label: label.into(),
        change_idea: idea.into(),
    }
}

/// Cycles of three change ideas, every few weeks, some on the same week.
fn many_cycles() -> Vec<Annotation> {
    let mut out = Vec::new();
    for (idea, start, every) in [
        ("Greeter at the door", 1, 3),
        ("Number talks", 2, 4),
        ("Exit tickets", 2, 5),
    ] {
        for c in 0..5 {
            let decision = ["adapt", "adapt", "adopt", "adapt", "adopt"][c];
            out.push(cycle(
                &week(start + every * c),
                &format!("C{} ({decision})", c + 1),
                idea,
            ));
        }
    }
    out
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
    let short = series(
        "monroe",
        &[Some(48.0), Some(52.0), Some(50.0)],
        RuleSet::Xmr,
    );
    let long_ihi = series("madison", &long(), RuleSet::Ihi);
    let long_xmr = series("madison", &long(), RuleSet::Xmr);
    let two = vec![
        cycle(&week(1), "C1 (adapt)", "number-talks"),
        cycle(&week(5), "C2 (adopt)", "number-talks"),
    ];
    let spec = |title: &str, s, annotations: &[Annotation]| ChartSpec {
        title: title.into(),
        unit: "%".into(),
        series: s,
        annotations: annotations.to_vec(),
        target: None,
    };
    let charts = [
        (
            "run-chart.svg",
            chart_svg(&spec("On track — Lincoln (all students)", &lincoln, &two)),
        ),
        (
            "xmr-chart.svg",
            chart_svg(&spec("On track — Adams (XmR)", &adams, &two)),
        ),
        (
            "suppressed.svg",
            chart_svg(&spec(
                "On track — Jefferson, English learners",
                &small,
                &two,
            )),
        ),
        (
            "too-short.svg",
            chart_svg(&spec("On track — Monroe (3 weeks, XmR)", &short, &[])),
        ),
        (
            "long-run-chart.svg",
            chart_svg(&spec(
                "On track for Algebra I — Madison, all students, 130 weeks of a long and \
                 winding improvement journey (run chart, IHI rules)",
                &long_ihi,
                &many_cycles(),
            )),
        ),
        (
            "long-xmr-chart.svg",
            chart_svg(&spec("On track — Madison (XmR, 130 weeks)", &long_xmr, &[])),
        ),
        (
            "p-chart.svg",
            chart_svg(&spec(
                "On track — Lincoln (P chart, classes of 12 to 60)",
                &p_chart(),
                &two,
            )),
        ),
        (
            "rebased-xmr.svg",
            chart_svg(&spec(
                "On track — Adams (XmR, baseline of 12 weeks, rebased at the adoption)",
                &rebased(),
                &[cycle(&week(20), "C3 (adopt)", "number-talks")],
            )),
        ),
        (
            "u-chart.svg",
            chart_svg(&ChartSpec {
                unit: "per 100 student-days".into(),
                ..spec(
                    "Office referrals — Lincoln (U chart, weeks of 3 to 5 school days)",
                    &u_chart(),
                    &[cycle(&week(12), "C1 (adopt)", "restorative circles")],
                )
            }),
        ),
        (
            "baseline-target.svg",
            chart_svg(&ChartSpec {
                target: Some(Target {
                    value: 70.0,
                    by_when: Some("2027-06-15".into()),
                    label: "target 70% by 2027-06-15".into(),
                }),
                ..spec(
                    "On track — Lincoln (median frozen on 10 weeks, rebased at the adoption)",
                    &frozen_baseline(),
                    &two,
                )
            }),
        ),
        (
            "many-cycles.svg",
            chart_svg(&spec(
                "On track — Lincoln, three change ideas",
                &lincoln,
                &many_cycles(),
            )),
        ),
        (
            "small-multiples.svg",
            small_multiples_svg(
                "On track for Algebra I, all students, by school",
                &[
                    spec("Lincoln", &lincoln, &many_cycles()),
                    spec("Adams", &adams, &two),
                    spec("Jefferson", &small, &two),
                    spec("Monroe", &short, &[]),
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
