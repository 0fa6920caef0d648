//! Dates in documents as day numbers, through [`nic_model::Period`] (the one parser).

use nic_model::Period;

/// Days since 1970-01-01 for a `YYYY-MM-DD` date; `None` if it is not one. What follows
/// the tenth character is ignored: a cycle's start written by another client may carry a
/// time (`2026-09-07T08:30`), and the day is what a chart or a ramp needs.
pub fn day_number(date: &str) -> Option<i64> {
    Period::parse(date.get(..10)?).ok().map(Period::day_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2026-11-24"), Some(20_781));
        assert_eq!(day_number("2024-02-29"), Some(19_782));
        assert_eq!(day_number("2026-09-07T08:30"), Some(20_703));
        assert_eq!(day_number("2023-02-29"), None);
        assert_eq!(day_number("2026-13-01"), None);
        assert_eq!(day_number("2026-1-5"), None);
        assert_eq!(day_number("soon"), None);
    }
}
