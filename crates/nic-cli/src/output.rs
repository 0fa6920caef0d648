//! Output for people (aligned tables) and for scripts (`--json`).

use std::io::Write;

use serde_json::Value;

/// Prints a line to standard output. A reader that went away (`nic … | head`) ends the
/// program quietly, as command-line tools do.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}

/// How to print.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    /// JSON for scripts.
    pub json: bool,
    /// Only the id of what was created or changed, for shell variables.
    pub id_only: bool,
}

impl Out {
    /// Prints rows under headers as an aligned table, or as a JSON array of objects keyed
    /// by the headers.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        if self.json {
            let items: Vec<Value> = rows
                .iter()
                .map(|r| {
                    Value::Object(
                        headers
                            .iter()
                            .zip(r)
                            .map(|(h, v)| ((*h).to_owned(), Value::String(v.clone())))
                            .collect(),
                    )
                })
                .collect();
            line(&Value::Array(items).to_string());
            return;
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (w, v) in widths.iter_mut().zip(r) {
                *w = (*w).max(v.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            line(padded.join("  ").trim_end());
        };
        line(headers.to_vec());
        line(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect(),
        );
        for r in rows {
            line(r.iter().map(String::as_str).collect());
        }
    }

    /// Prints one value: JSON as is, or `text` for people; with `--print-id`, only the id
    /// of the document (or feedback thread) the command created or changed.
    pub fn value(&self, json: Value, text: &str) {
        if self.id_only
            && let Some(id) = json
                .get("id")
                .or_else(|| json.get("thread"))
                .and_then(Value::as_str)
        {
            line(id);
            return;
        }
        if self.json {
            line(&json.to_string());
        } else {
            line(text);
        }
    }
}

/// A time in milliseconds since the Unix epoch as `YYYY-MM-DD HH:MM` (UTC); empty for 0.
pub fn time(ms: i64) -> String {
    if ms == 0 {
        return String::new();
    }
    let secs = ms.div_euclid(1000);
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (H. Hinnant's algorithm), so no date crate is needed.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        day_secs / 3600,
        (day_secs % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::time;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(time(0), "");
        assert_eq!(time(1), "1970-01-01 00:00");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(time(1_796_083_200_000 + 3_660_000), "2026-12-01 01:01");
        assert_eq!(time(-86_400_000), "1969-12-31 00:00");
    }
}
