//! Charts a coach reads at a glance, checked on random series (seeded; a failure prints
//! the seed): every finding the analysis reports is written in full under the plot (never
//! cut with "…"); the y axis has round ticks (steps of 1, 2, 2.5 or 5 × 10^k, 3 to 8 of
//! them) covering every value, centre and limit; and no text drawn — title, ticks, axis
//! titles, line labels, cycle labels, legend, findings — covers another or a data point,
//! with long titles and many cycles of several change ideas.
//!
//! `NIC_CHART_SEEDS` sets how many seeds each property runs (default 150).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::RuleSet;
use nic_insight::chart::{
    Annotation, BoxKind, ChartSpec, Placed, Target, chart_layout, chart_svg, nice_ticks,
    small_multiples_layout, small_multiples_svg,
};
use nic_insight::series::{Options, Phasing, Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_model::schema::measure::Direction;

/// SplitMix64: small, seedable, good enough to vary the cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        u
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn seeds() -> u64 {
    std::env::var("NIC_CHART_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150)
}

fn month(i: usize) -> String {
    format!("{}-{:02}-01", 2010 + i / 12, i % 12 + 1)
}

/// A series of 1 to 200 monthly points with shifts, trends, spikes, flat stretches and
/// suppressed periods, under a random rule set and direction.
fn random_series(rng: &mut Rng, site: &str) -> Series {
    let n = 1 + rng.below(200);
    let scale = *rng.pick(&[1.0, 10.0, 100.0, 0.01, 5000.0]);
    let mut level = rng.unit() * 60.0 + 20.0;
    let mut values = Vec::new();
    let mut trend = 0.0;
    for _ in 0..n {
        match rng.below(20) {
            0 => level += (rng.unit() - 0.5) * 30.0,
            1 => trend = (rng.unit() - 0.5) * 4.0,
            2 => trend = 0.0,
            _ => {}
        }
        level += trend;
        let spike = if rng.below(25) == 0 {
            (rng.unit() - 0.5) * 80.0
        } else {
            0.0
        };
        let noise = if rng.below(6) == 0 {
            0.0
        } else {
            (rng.unit() - 0.5) * 6.0
        };
        values.push((level + noise + spike) * scale / 100.0);
    }
    let set = *rng.pick(&[
        RuleSet::Ihi,
        RuleSet::Anhoj,
        RuleSet::Xmr,
        RuleSet::P,
        RuleSet::PPrime,
        RuleSet::U,
    ]);
    let hide = rng.below(4) == 0;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let hidden = hide && rng.below(12) == 0;
            // P and U charts: a proportion (in %) or a rate from counts of varying size.
            let den = (20 + rng.below(400)) as f64;
            let num = if set == RuleSet::U {
                (v.abs() / 10.0 * den / 100.0).round()
            } else {
                ((v / 100.0).clamp(0.0, 1.0) * den).round()
            };
            let (value, counts) = match set {
                RuleSet::P | RuleSet::PPrime => (100.0 * num / den, Some((num, den))),
                RuleSet::U => (num / den, Some((num, den))),
                _ => (v, None),
            };
            SeriesPoint {
                period: month(i),
                value: (!hidden).then_some(value),
                n: (!hidden).then_some(40),
                numerator: counts.filter(|_| !hidden).map(|c| c.0),
                denominator: counts.filter(|_| !hidden).map(|c| c.1),
                suppressed: hidden.then_some(Suppressed::SmallCell { min: 10 }),
            }
        })
        .collect();
    // Sometimes a frozen baseline and a rebase or two.
    let mut phasing = Phasing::default();
    if rng.below(3) == 0 && n > 4 {
        phasing.baseline_end = Some(month(rng.below(n)));
        for _ in 0..rng.below(3) {
            let from = rng.below(n);
            let base = (rng.below(2) == 0).then(|| month((from + rng.below(12)).min(n - 1)));
            phasing.rebases.push((month(from), base));
        }
        phasing.rebases.sort();
    }
    let options = Options {
        direction: *rng.pick(&[Direction::Up, Direction::Down]),
        rule_set: set,
        scale: if matches!(set, RuleSet::P | RuleSet::PPrime) {
            100.0
        } else {
            1.0
        },
        phasing,
    };
    Series::analysed(site, "all", points, &options)
}

const IDEAS: [&str; 5] = [
    "Greeter at the door",
    "Number talks",
    "Exit tickets",
    "number-talks-for-english-learners-in-grade-nine",
    "Greeter at lunch",
];

fn random_annotations(rng: &mut Rng, n: usize) -> Vec<Annotation> {
    let ideas = 1 + rng.below(4);
    let count = *rng.pick(&[0, 1, 3, 8, 15, 30]);
    (0..count)
        .map(|k| Annotation {
            date: format!("{}-{:02}", &month(rng.below(n + 2))[..7], 1 + rng.below(28)),
            label: format!("C{} ({})", k + 1, rng.pick(&["adapt", "adopt", "abandon"])),
            change_idea: IDEAS[rng.below(ideas)].to_owned(),
        })
        .collect()
}

fn random_title(rng: &mut Rng) -> String {
    let words = [
        "On track",
        "for",
        "Algebra I",
        "—",
        "Lincoln",
        "High",
        "School",
        "(all students)",
        "English learners",
        "attendance",
        "&",
        "<grade 9>",
        "Supercalifragilisticexpialidocious",
    ];
    let count = *rng.pick(&[1, 3, 8, 25]);
    (0..count)
        .map(|_| *rng.pick(&words))
        .collect::<Vec<_>>()
        .join(" ")
}

fn spec<'a>(rng: &mut Rng, s: &'a Series) -> ChartSpec<'a> {
    ChartSpec {
        title: random_title(rng),
        unit: (*rng.pick(&["%", "students", "", "days absent"])).to_owned(),
        series: s,
        annotations: random_annotations(rng, s.points.len()),
        target: random_target(rng, s),
    }
}

/// Sometimes an aim's target: near the data, far above it, or on a point's value.
fn random_target(rng: &mut Rng, s: &Series) -> Option<Target> {
    let values: Vec<f64> = s.points.iter().filter_map(|p| p.value).collect();
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let value = match rng.below(4) {
        0 => return None,
        1 => *values.first()?,
        2 => top * 1.5 + 1.0,
        _ => top,
    };
    Some(Target {
        value,
        by_when: Some("2027-06-15".into()),
        label: format!("target {value:.1} by 2027-06-15"),
    })
}

/// The findings written under each plot: each finding's lines joined.
fn findings(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("finding"))
        .map(|g| {
            g.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Everything the analysis reports in words (each signal's detail, each warning, the
/// verdict when nothing fired) is in `found`, a repeated signal with its count.
fn check_findings(s: &Series, found: &[String]) -> Result<(), String> {
    let found: Vec<String> = found.iter().map(|f| squeeze(f)).collect();
    let a = &s.analysis;
    let reported = a.findings();
    for text in &reported {
        let times = a.signals.iter().filter(|h| h.detail == *text).count();
        let words = squeeze(text);
        let counted = format!("×{times}");
        if !found
            .iter()
            .any(|f| f.contains(&words) && (times <= 1 || f.contains(&counted)))
        {
            return Err(format!("{text:?} (×{times}) not written: {found:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_finding_is_written_in_full_never_cut() {
    for seed in 0..seeds() {
        let mut rng = Rng(seed);
        let s = random_series(&mut rng, "lincoln");
        let spec = spec(&mut rng, &s);
        let svg = chart_svg(&spec);
        assert!(!svg.contains('…'), "seed {seed}: an ellipsis is written");
        if let Err(e) = check_findings(&s, &findings(&svg)) {
            panic!("seed {seed} ({} points): {e}", s.points.len());
        }
        // The same in small multiples: each panel lists its own findings.
        let others: Vec<Series> = (0..1 + rng.below(3))
            .map(|k| random_series(&mut rng, &format!("site{k}")))
            .collect();
        let mut specs = vec![spec];
        for o in &others {
            specs.push(ChartSpec {
                title: o.site.clone(),
                unit: "%".into(),
                series: o,
                annotations: random_annotations(&mut rng, o.points.len()),
                target: random_target(&mut rng, o),
            });
        }
        let svg = small_multiples_svg("by school", &specs, 2);
        assert!(!svg.contains('…'), "seed {seed}: an ellipsis is written");
        let found = findings(&svg);
        for sp in &specs {
            if let Err(e) = check_findings(sp.series, &found) {
                panic!("seed {seed}, small multiples, {}: {e}", sp.series.site);
            }
        }
    }
}

/// Whether `step` is 1, 2, 2.5 or 5 × 10^k.
fn is_nice(step: f64) -> bool {
    let k = step.log10().floor();
    let m = step / 10f64.powf(k);
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .any(|n| (m - n).abs() < 1e-9 * n)
}

#[test]
fn ticks_fall_on_round_values() {
    // The example: 40.9% to 57.6% reads 40, 45, ... 60, not 40.9, 45.1, ...
    for (lo, hi, want, step) in [
        (40.9, 57.6, vec![40.0, 45.0, 50.0, 55.0, 60.0], 5.0),
        (40.0, 60.0, vec![40.0, 45.0, 50.0, 55.0, 60.0], 5.0),
        (0.0, 1.0, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0], 0.2),
        (0.0, 100.0, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0], 20.0),
        (-3.0, 7.0, vec![-5.0, -2.5, 0.0, 2.5, 5.0, 7.5], 2.5),
        (12.0, 19.0, vec![12.0, 14.0, 16.0, 18.0, 20.0], 2.0),
    ] {
        let t = nice_ticks(lo, hi);
        assert_eq!(t.step, step, "{lo}..{hi}: {:?}", t.values);
        assert_eq!(t.values.len(), want.len(), "{lo}..{hi}: {:?}", t.values);
        for (got, want) in t.values.iter().zip(&want) {
            assert!((got - want).abs() < 1e-9, "{lo}..{hi}: {:?}", t.values);
        }
    }
}

#[test]
fn ticks_are_round_and_cover_the_range() {
    let mut rng = Rng(0x71c5);
    for case in 0..5000 {
        let magnitude = 10f64.powi(i32::try_from(rng.below(12)).unwrap() - 5);
        let lo = (rng.unit() - 0.5) * 200.0 * magnitude;
        let span = match rng.below(4) {
            0 => 0.0,
            1 => rng.unit() * magnitude * 1e-3,
            _ => rng.unit() * 300.0 * magnitude,
        };
        let hi = lo + span;
        let t = nice_ticks(lo, hi);
        let n = t.values.len();
        let ctx = format!("case {case}: {lo}..{hi} → {:?} step {}", t.values, t.step);
        assert!((3..=8).contains(&n), "{ctx}: {n} ticks");
        assert!(is_nice(t.step), "{ctx}: step not nice");
        for v in &t.values {
            let k = v / t.step;
            assert!((k - k.round()).abs() < 1e-6, "{ctx}: {v} not a multiple");
        }
        for w in t.values.windows(2) {
            assert!(((w[1] - w[0]) / t.step - 1.0).abs() < 1e-6, "{ctx}: uneven");
        }
        // Within a hair (a billionth of a step) of a tick counts as on it.
        let hair = 1e-9 * t.step;
        assert!(
            t.lo() <= lo + hair && t.hi() >= hi - hair,
            "{ctx}: range not covered"
        );
        // And the axis goes no further than the ticks around the range (a one-valued range
        // is widened first).
        if hi - lo >= 1e-9 * lo.abs().max(1.0) {
            assert!(
                t.lo() > lo - t.step && t.hi() < hi + t.step,
                "{ctx}: a tick beyond the range"
            );
        }
    }
}

/// The values the y axis must cover: data, centre and limits at every point.
fn must_cover(s: &Series) -> Vec<f64> {
    let mut v: Vec<f64> = s.points.iter().filter_map(|p| p.value).collect();
    for l in s.analysis.lines.iter().flatten() {
        v.push(l.centre);
        v.extend(
            [l.lower, l.upper, l.lower_two_sigma, l.upper_two_sigma]
                .into_iter()
                .flatten(),
        );
    }
    v
}

fn tick_values(boxes: &[Placed]) -> Vec<f64> {
    boxes
        .iter()
        .filter(|b| b.kind == BoxKind::YTick)
        .map(|b| {
            b.text
                .trim_end_matches('%')
                .parse::<f64>()
                .expect("a number")
        })
        .collect()
}

/// No text covers another or a point, and everything lies on the drawing.
fn check_boxes(boxes: &[Placed], width: f64, height: f64) -> Result<(), String> {
    let texts: Vec<&Placed> = boxes.iter().filter(|b| b.kind != BoxKind::Point).collect();
    for (i, a) in texts.iter().enumerate() {
        let r = a.rect;
        if r.x < -0.5 || r.y < -0.5 || r.right() > width + 0.5 || r.bottom() > height + 0.5 {
            return Err(format!("{a:?} is off the {width}×{height} drawing"));
        }
        for b in &texts[i + 1..] {
            if a.rect.overlaps(&b.rect) {
                return Err(format!("{a:?} overlaps {b:?}"));
            }
        }
        for p in boxes.iter().filter(|b| b.kind == BoxKind::Point) {
            if a.rect.overlaps(&p.rect) {
                return Err(format!("{a:?} covers the point {:?}", p.rect));
            }
        }
    }
    Ok(())
}

fn svg_size(svg: &str) -> (f64, f64) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let root = doc.root_element();
    let num = |a| root.attribute(a).unwrap().parse::<f64>().unwrap();
    (num("width"), num("height"))
}

#[test]
fn no_text_covers_another_or_a_point_and_the_axis_covers_every_value() {
    for seed in 0..seeds() {
        let mut rng = Rng(seed ^ 0xc4a7);
        let s = random_series(&mut rng, "lincoln");
        let spec = spec(&mut rng, &s);
        let boxes = chart_layout(&spec);
        let (w, h) = svg_size(&chart_svg(&spec));
        if let Err(e) = check_boxes(&boxes, w, h) {
            panic!(
                "seed {seed} ({} points, {:?}): {e}",
                s.points.len(),
                spec.title
            );
        }
        let ticks = tick_values(&boxes);
        let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
        assert!((3..=8).contains(&ticks.len()), "seed {seed}: {ticks:?}");
        // Tick labels are rounded to the step's decimals: allow that much.
        let slack = (ticks[1] - ticks[0]) * 1e-6;
        for v in must_cover(&s) {
            assert!(
                v >= lo - slack && v <= hi + slack,
                "seed {seed}: {v} outside the axis {ticks:?}"
            );
        }
        // Small multiples with the same properties, panels side by side.
        let others: Vec<Series> = (0..1 + rng.below(4))
            .map(|k| random_series(&mut rng, &format!("site{k}")))
            .collect();
        let mut specs = vec![spec];
        for o in &others {
            specs.push(ChartSpec {
                title: random_title(&mut rng),
                unit: "%".into(),
                series: o,
                annotations: random_annotations(&mut rng, o.points.len()),
                target: random_target(&mut rng, o),
            });
        }
        let title = random_title(&mut rng);
        let boxes = small_multiples_layout(&title, &specs, 2);
        let (w, h) = svg_size(&small_multiples_svg(&title, &specs, 2));
        if let Err(e) = check_boxes(&boxes, w, h) {
            panic!("seed {seed}, small multiples: {e}");
        }
    }
}
