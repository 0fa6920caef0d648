//! `nic import measures`: measure data from a spreadsheet, checked row by row; nothing is
//! imported while any row is bad, unless told to skip bad rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use nic_client::{Client, NewDocument};
use nic_model::schema::measure::{MeasureData, MeasureDefinition, Point, Scoring};
use nic_model::{DocKind, DocumentId, NetworkId, Period, SiteId, Visibility};
use serde_json::json;

use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::session::{Session, settle_reads, settle_writes};

const LAYOUT: &str = "\
The file is CSV with a header row; columns may come in any order:
  period       the period's first day, YYYY-MM-DD                      (required)
  site         the site's id in the network, e.g. lincoln-hs          (required)
  group        all, or dimension=value, e.g. english_learner=yes      (required)
  numerator    what was counted (proportion, ratio, count measures)
  denominator  what it was counted out of (proportion, ratio)
  value        the measured value (continuous measures)
  n            students behind the point, a whole number              (required)
  note         free text                                              (optional)
A row for a period, site and group already imported replaces it.";

/// `nic import …`
#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import measure data points from a CSV file.
    #[command(after_help = LAYOUT)]
    Measures {
        /// The CSV file.
        file: PathBuf,
        /// The measure: its document id, or its name.
        #[arg(long)]
        measure: String,
        /// Import the good rows even if some are bad (the bad ones are still reported).
        #[arg(long)]
        skip_bad_rows: bool,
    },
}

/// A checked row.
struct Row {
    site: String,
    point: Point,
}

/// Checks every row; returns the good ones and a report of the bad ones (line numbers
/// count the header as line 1).
fn check(
    path: &Path,
    bytes: &[u8],
    def: &MeasureDefinition,
    sites: &BTreeSet<String>,
) -> Result<(Vec<Row>, Vec<String>), CliError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| CliError::invalid(format!("{}: no header row ({e})", path.display())))?
        .iter()
        .map(str::to_lowercase)
        .collect();
    const KNOWN: [&str; 8] = [
        "period",
        "site",
        "group",
        "numerator",
        "denominator",
        "value",
        "n",
        "note",
    ];
    let unknown: Vec<&String> = headers
        .iter()
        .filter(|h| !KNOWN.contains(&h.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(CliError::invalid(format!(
            "{}: unknown column(s) {unknown:?}; the columns are {}",
            path.display(),
            KNOWN.join(", ")
        )));
    }
    for required in ["period", "site", "group", "n"] {
        if !headers.iter().any(|h| h == required) {
            return Err(CliError::invalid(format!(
                "{}: the header has no {required} column (see `nic import measures --help`)",
                path.display()
            )));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))?;
    let total = records.len();
    let progress = bar(total, "checking", "rows");
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (k, record) in records.iter().enumerate() {
        let line = k + 2;
        progress.inc(1);
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_owned()
        };
        let mut problems = Vec::new();
        let period = get("period");
        if let Err(e) = Period::parse(&period) {
            problems.push(format!("period {period:?} is not a date: {e}"));
        }
        let site = get("site");
        if !sites.contains(&site) {
            problems.push(format!("site {site:?} is not a site of the network"));
        }
        let group = get("group");
        if group != "all" {
            match group.split_once('=') {
                Some((dim, value)) if !dim.is_empty() && !value.is_empty() => {
                    if !def.group_dimensions.iter().any(|d| d == dim) {
                        problems.push(format!(
                            "group dimension {dim:?} is not one the measure breaks down by ({})",
                            def.group_dimensions.join(", ")
                        ));
                    }
                }
                _ => problems.push(format!(
                    "group {group:?} is neither all nor dimension=value"
                )),
            }
        }
        let number = |name: &str, problems: &mut Vec<String>| -> Option<f64> {
            let text = get(name);
            if text.is_empty() {
                return None;
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    problems.push(format!("{name} {text:?} is not a number"));
                    None
                }
            }
        };
        let numerator = number("numerator", &mut problems);
        let denominator = number("denominator", &mut problems);
        let value = number("value", &mut problems);
        match def.scoring {
            Scoring::Proportion | Scoring::Ratio => match (numerator, denominator) {
                (Some(num), Some(den)) => {
                    if den <= 0.0 {
                        problems.push("denominator must be above 0".into());
                    } else if def.scoring == Scoring::Proportion && (num < 0.0 || num > den) {
                        problems.push(format!(
                            "numerator {num} is outside 0..denominator ({den}) for a proportion"
                        ));
                    }
                }
                _ => problems.push("numerator and denominator are both required".into()),
            },
            Scoring::Count if numerator.is_none() => {
                problems.push("numerator (the count) is required".into());
            }
            Scoring::Continuous if value.is_none() => problems.push("value is required".into()),
            _ => {}
        }
        let n_text = get("n");
        let n = n_text.parse::<u32>().ok();
        if n.is_none() {
            problems.push(format!("n {n_text:?} is not a whole number of students"));
        }
        let key = (period.clone(), site.clone(), group.clone());
        if let Some(first) = seen.get(&key) {
            problems.push(format!("the same period, site and group as line {first}"));
        } else {
            seen.insert(key, line);
        }
        if problems.is_empty() {
            good.push(Row {
                site,
                point: Point {
                    id: format!("{period}/{group}"),
                    period,
                    group,
                    numerator,
                    denominator,
                    value,
                    n: n.unwrap_or(0),
                    note: nic_model::schema::Text::with_value(get("note")),
                },
            });
        } else {
            bad.push(format!("line {line}: {}", problems.join("; ")));
        }
    }
    progress.finish();
    Ok((good, bad))
}

/// A progress bar on standard error with the rate and the time left, for `total` items of
/// work — shown only for 1,000 or more and only on a terminal (indicatif draws nothing
/// otherwise), so pipes and logs stay clean.
fn bar(total: usize, doing: &str, unit: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if total < 1000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let template =
        format!("{doing} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("#>."));
    }
    bar
}

/// `nic import …`
pub async fn import(out: Out, network: Option<&str>, c: ImportCmd) -> Result<(), CliError> {
    let ImportCmd::Measures {
        file,
        measure,
        skip_bad_rows,
    } = c;
    let mut session = Session::load()?;
    let network = session.config.network(network)?;
    let measure: DocumentId =
        super::insight::resolve_measure(&mut session, Some(network.as_str()), &measure).await?;
    let sites: BTreeSet<String> = session
        .hub()?
        .sites(&network)
        .await?
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let bytes = std::fs::read(&file)
        .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", file.display())))?;
    let client = session.replica().await?;
    let result = import_into(
        &client,
        &network,
        measure,
        &file,
        &bytes,
        &sites,
        skip_bad_rows,
    )
    .await;
    let synced = match &result {
        Ok(_) => settle_writes(&client).await,
        Err(_) => Ok(()),
    };
    client.close().await?;
    let (imported, bad, docs) = result?;
    for b in &bad {
        eprintln!("skipped {b}");
    }
    out.value(
        json!({"imported": imported, "skipped": bad.len(), "documents": docs}),
        &format!(
            "imported {imported} points into {} site documents{}",
            docs.len(),
            if bad.is_empty() {
                String::new()
            } else {
                format!("; skipped {} bad rows", bad.len())
            }
        ),
    );
    synced
}

/// Checks `bytes` (a CSV named `file`) and imports its rows into each site's data document
/// for `measure`; returns how many points, the bad rows skipped, and the documents written.
pub(crate) async fn import_into(
    client: &Client,
    network: &NetworkId,
    measure: DocumentId,
    file: &Path,
    bytes: &[u8],
    sites: &BTreeSet<String>,
    skip_bad_rows: bool,
) -> Result<(usize, Vec<String>, Vec<String>), CliError> {
    let handle = client.network(network.clone()).await?;
    settle_reads(client).await;
    let def = client.get::<MeasureDefinition>(measure).await.map_err(|e| match e {
        nic_client::ClientError::UnknownDocument(_) => CliError::new(
            Exit::NotFound,
            format!("measure {measure} is not in network {network}; `nic docs list --kind measure_definition` lists them"),
        ),
        other => other.into(),
    })?;
    if def.meta.kind != DocKind::MeasureDefinition {
        return Err(CliError::invalid(format!(
            "{measure} is not a measure definition"
        )));
    }
    let (rows, bad) = check(file, bytes, &def.value, sites)?;
    if !bad.is_empty() && !skip_bad_rows {
        return Err(CliError::invalid(format!(
            "{} of {} rows are bad; nothing was imported (fix them, or pass --skip-bad-rows):\n{}",
            bad.len(),
            bad.len() + rows.len(),
            bad.join("\n")
        )));
    }
    let mut by_site: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for r in rows {
        by_site.entry(r.site).or_default().push(r.point);
    }
    // Each site's existing data document for this measure, if any.
    let existing = handle.list::<MeasureData>().await?;
    let mut imported = 0;
    let mut docs = Vec::new();
    for (site, points) in by_site {
        imported += points.len();
        let found = existing.iter().find(|d| {
            d.value.measure_id == measure.to_string()
                && d.meta.site.as_ref().is_some_and(|s| s.as_str() == site)
        });
        let doc = match found {
            Some(d) => {
                let n = points.len();
                client
                    .change::<MeasureData>(d.meta.id, format!("Import {n} points"), move |data| {
                        for p in points {
                            data.points.retain(|q| q.id != p.id);
                            data.points.push(p);
                        }
                        data.points
                            .sort_by(|a, b| (&a.period, &a.group).cmp(&(&b.period, &b.group)));
                    })
                    .await?;
                d.meta.id
            }
            None => {
                let mut points = points;
                points.sort_by(|a, b| (&a.period, &a.group).cmp(&(&b.period, &b.group)));
                client
                    .create(
                        NewDocument {
                            network: network.clone(),
                            site: Some(SiteId::new(site.clone())?),
                            // Raw counts stay with the site; the network sees suppressed
                            // aggregates through Insight.
                            visibility: Visibility::Site,
                            title: format!("{} — {site}", def.value.name.as_str()),
                        },
                        &MeasureData {
                            measure_id: measure.to_string(),
                            points,
                        },
                    )
                    .await?
            }
        };
        docs.push(doc.to_string());
    }
    Ok((imported, bad, docs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use super::*;

    /// The problems `check` reports for one row with `period`.
    fn period_problems(period: &str) -> Vec<String> {
        let def = MeasureDefinition {
            scoring: Scoring::Continuous,
            ..MeasureDefinition::default()
        };
        let sites = BTreeSet::from(["lincoln".to_owned()]);
        let csv = format!("period,site,group,value,n\n\"{period}\",lincoln,all,4,30\n");
        let (_, bad) = check(Path::new("data.csv"), csv.as_bytes(), &def, &sites).unwrap();
        bad
    }

    #[test]
    fn a_bad_period_is_reported_with_what_is_wrong() {
        assert!(period_problems("2026-02-02").is_empty());
        // The reader trims cells, so spaces around a date are not the date's fault.
        assert!(period_problems(" 2026-02-02 ").is_empty());
        for (period, says) in [
            ("2026-02-30", "February 2026 has no day 30 (it has 28 days)"),
            ("2023-02-29", "February 2023 has no day 29 (it has 28 days)"),
            ("2026-13-01", "there is no month 13"),
            ("2026-1-5", "write it YYYY-MM-DD"),
            ("2026-01-05x", "write it YYYY-MM-DD"),
            // A sign is a number's, not a date's.
            ("2026-01-+5", "write it YYYY-MM-DD"),
            ("2026-+1-05", "write it YYYY-MM-DD"),
        ] {
            let bad = period_problems(period);
            let expected = format!("line 2: period {period:?} is not a date: {says}");
            assert!(
                bad.len() == 1 && bad[0].starts_with(&expected),
                "{period}: {bad:?}"
            );
        }
    }
}
