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

    /// Prints one value: JSON as is, or `text` for people.
    pub fn value(&self, json: Value, text: &str) {
        if self.json {
            line(&json.to_string());
        } else {
            line(text);
        }
    }
}
