//! Periods as documents write them: `YYYY-MM-DD`, a real calendar date. This is the one
//! parser of them; the calendar itself (month lengths, leap years, day numbers) is the
//! `time` crate's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Why a string is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not ten characters `DDDD-DD-DD`: a sign, a one-digit month or day, a space or
    /// anything before or after the date.
    #[error(
        "write it YYYY-MM-DD: a four-digit year, a two-digit month and day, nothing before or after"
    )]
    Form,
    /// A month outside 01–12.
    #[error("there is no month {0:02} (months are 01 to 12)")]
    Month(u8),
    /// A day the month does not have.
    #[error("{month} {year} has no day {day} (it has {length} days)")]
    Day {
        /// The year.
        year: i32,
        /// The month.
        month: Month,
        /// The day given.
        day: u8,
        /// How many days the month has.
        length: u8,
    },
}

/// A period's first day, `YYYY-MM-DD` (year 0000 to 9999). Ordered by date; its
/// [`Display`](fmt::Display) gives back exactly the text it was parsed from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(Date);

/// 1970-01-01, where day numbers start.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

impl Period {
    /// Parses `YYYY-MM-DD` exactly: ten characters, four-digit year, two-digit month and
    /// day, a date the calendar has. Rejected: `2026-1-5`, ` 2026-01-05`, `2026-01-05x`,
    /// `2026-01-05T09:00`, `+2026-01-05`, `2026-13-01`, `2023-02-29`, `2026-04-31`.
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b.get(r)
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .map(|d| d.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
        };
        let (Some(year), Some(month), Some(day), 10, Some(b'-'), Some(b'-')) = (
            digits(0..4),
            digits(5..7),
            digits(8..10),
            b.len(),
            b.get(4),
            b.get(7),
        ) else {
            return Err(PeriodError::Form);
        };
        // Four digits and two digits: the casts cannot truncate.
        let (year, month, day) = (i32::from(year), month as u8, day as u8);
        let month = Month::try_from(month).map_err(|_| PeriodError::Month(month))?;
        Date::from_calendar_date(year, month, day)
            .map(Period)
            .map_err(|_| PeriodError::Day {
                year,
                month,
                day,
                length: month.length(year),
            })
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn day_number(self) -> i64 {
        i64::from(self.0.to_julian_day() - EPOCH_JULIAN_DAY)
    }

    /// Days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Period) -> i64 {
        later.day_number() - self.day_number()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Period({self})")
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}
