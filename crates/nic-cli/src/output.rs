//! Output for people (aligned tables) and for scripts (`--json`).

use std::io::Write;

use serde_json::Value;

/// Rows under headers as people read them: columns aligned, a rule under the headers, and on
/// a terminal the widest columns wrapped to fit its width (comfy-table measures it; piped
/// output is never wrapped, so scripts and `grep` see whole lines).
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    use comfy_table::{ColumnConstraint, ContentArrangement, Table, TableComponent, presets};
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '-')
        .set_style(TableComponent::MiddleHeaderIntersections, ' ')
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().copied());
    for r in rows {
        table.add_row(r.iter().map(String::as_str));
    }
    // Only the column with the longest text (a title, a statement, a comment) wraps: ids,
    // dates, counts and short words stay whole, which is what makes a table readable.
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .map(|v| v.chars().count())
            .chain(headers.get(i).map(|h| h.chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widest = (0..headers.len()).max_by_key(|&i| width(i));
    for (i, column) in table.column_iter_mut().enumerate() {
        if Some(i) != widest {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    // Each line without the cell padding at its edges.
    table
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

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
        line(render_table(headers, rows).trim_end());
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
    fn tables_align_their_columns_under_a_rule() {
        let text = super::render_table(
            &["site", "cycles"],
            &[
                vec!["lincoln-hs".into(), "3".into()],
                vec!["adams".into(), "12".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("site") && lines[1].starts_with("---"),
            "{text}"
        );
        // The second column starts at the same place on every line.
        let at = lines[0].find("cycles").unwrap();
        assert_eq!(lines[2].find('3'), Some(at), "{text}");
        assert_eq!(lines[3].find("12"), Some(at), "{text}");
    }

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(time(0), "");
        assert_eq!(time(1), "1970-01-01 00:00");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(time(1_796_083_200_000 + 3_660_000), "2026-12-01 01:01");
        assert_eq!(time(-86_400_000), "1969-12-31 00:00");
    }
}
