//! Periods: every real date of a few years parses and prints back, nothing else parses, and
//! day numbers agree with the hand-written algorithm they replace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_model::{Period, PeriodError};
use proptest::prelude::*;

/// The calendar `nic-insight` computed by hand before `Period` (Howard Hinnant's days
/// from civil), kept here as the reference the library must agree with.
fn old_day_number(date: &str) -> Option<i64> {
    let mut parts = date.get(..10)?.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let days_in_month = match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[test]
fn every_day_of_leap_and_common_years_parses_and_prints_back() {
    for (year, days) in [
        (1900, 365), // divisible by 100: not leap
        (2000, 366), // divisible by 400: leap
        (2023, 365),
        (2024, 366),
        (2026, 365),
        (0, 366),
        (9999, 365),
    ] {
        let mut seen = Vec::new();
        for month in 1..=12 {
            for day in 1..=31 {
                let text = format!("{year:04}-{month:02}-{day:02}");
                if let Ok(p) = Period::parse(&text) {
                    assert_eq!(p.to_string(), text);
                    assert_eq!(text.parse::<Period>(), Ok(p));
                    seen.push(p);
                }
            }
        }
        assert_eq!(seen.len(), days, "{year}");
        // Consecutive days: one day apart, in order.
        for w in seen.windows(2) {
            assert!(w[0] < w[1]);
            assert_eq!(w[0].days_until(w[1]), 1, "{:?} {:?}", w[0], w[1]);
        }
    }
}

#[test]
fn anything_but_a_real_ten_character_date_is_rejected() {
    for bad in [
        "2026-1-5",
        "2026-01-5",
        " 2026-01-05",
        "2026-01-05 ",
        "2026-01-05x",
        "2026-01-05T09:00",
        "+2026-01-05",
        "+026-01-05",
        "-026-01-05",
        "2026-01-+5",
        "2026-+1-05",
        "2026/01/05",
        "20260105",
        "2026-01-0５",
        "",
        "soon",
    ] {
        assert_eq!(Period::parse(bad), Err(PeriodError::Form), "{bad:?}");
    }
    assert_eq!(Period::parse("2026-13-01"), Err(PeriodError::Month(13)));
    assert_eq!(Period::parse("2026-00-01"), Err(PeriodError::Month(0)));
    for (bad, day, length) in [
        ("2023-02-29", 29, 28),
        ("1900-02-29", 29, 28),
        ("2026-04-31", 31, 30),
        ("2026-01-32", 32, 31),
        ("2026-01-00", 0, 31),
    ] {
        let Err(PeriodError::Day {
            day: d, length: l, ..
        }) = Period::parse(bad)
        else {
            panic!("{bad:?} was not rejected for its day");
        };
        assert_eq!((d, l), (day, length), "{bad:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let say = |s: &str| Period::parse(s).unwrap_err().to_string();
    assert_eq!(
        say("2023-02-29"),
        "February 2023 has no day 29 (it has 28 days)"
    );
    assert_eq!(
        say("2026-13-01"),
        "there is no month 13 (months are 01 to 12)"
    );
    assert!(say("2026-1-5").contains("YYYY-MM-DD"));
}

#[test]
fn day_numbers_start_at_1970() {
    let day = |s: &str| Period::parse(s).unwrap().day_number();
    assert_eq!(day("1970-01-01"), 0);
    assert_eq!(day("1969-12-31"), -1);
    assert_eq!(day("2026-11-24"), 20_781);
    assert_eq!(day("2024-02-29"), 19_782);
}

#[test]
fn periods_travel_as_their_text() {
    let p = Period::parse("2026-09-07").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-09-07\"");
    assert_eq!(serde_json::from_str::<Period>("\"2026-09-07\"").unwrap(), p);
    assert!(serde_json::from_str::<Period>("\"2026-02-30\"").is_err());
}

proptest! {
    /// Over every year the format can write, and month and day numbers past the ends:
    /// valid exactly when the old algorithm said so, with the same day number.
    #[test]
    fn day_numbers_agree_with_the_old_algorithm(y in 0u32..=9999, m in 0u32..=13, d in 0u32..=32) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        let new = Period::parse(&text).ok().map(Period::day_number);
        prop_assert_eq!(new, old_day_number(&text), "{}", text);
    }

    /// Two periods order as their day numbers and as their text (so sorting the strings
    /// documents store sorts by date).
    #[test]
    fn order_is_by_date(a in (0u32..=9999, 1u32..=12, 1u32..=28), b in (0u32..=9999, 1u32..=12, 1u32..=28)) {
        let text = |(y, m, d): (u32, u32, u32)| format!("{y:04}-{m:02}-{d:02}");
        let (ta, tb) = (text(a), text(b));
        let (pa, pb) = (Period::parse(&ta).unwrap(), Period::parse(&tb).unwrap());
        prop_assert_eq!(pa.cmp(&pb), ta.cmp(&tb));
        prop_assert_eq!(pa.cmp(&pb), pa.day_number().cmp(&pb.day_number()));
        prop_assert_eq!(pa.days_until(pb), pb.day_number() - pa.day_number());
    }

    /// Arbitrary text: whatever parses prints back exactly as it was written.
    #[test]
    fn whatever_parses_prints_back(s in "\\PC{0,12}|[0-9+ -]{8,11}") {
        if let Ok(p) = Period::parse(&s) {
            prop_assert_eq!(p.to_string(), s);
        }
    }
}
