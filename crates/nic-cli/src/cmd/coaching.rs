//! A site's coaching log from the terminal: visits with their focus, the commitments made
//! and what followed. Feedback threads live in the same log (`cmd/feedback.rs`).

use clap::Subcommand;
use nic_client::{Document, NewDocument};
use nic_model::schema::Text;
use nic_model::schema::network::{CoachingLog, Visit};
use nic_model::{DocumentId, SiteId, Visibility};
use serde_json::json;

use super::edit::{self, Open};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// `nic coaching …`
#[derive(Subcommand)]
pub enum CoachingCmd {
    /// Record a coaching visit to a site.
    Visit {
        /// The site.
        site: String,
        /// When, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The visit's focus.
        #[arg(long)]
        focus: String,
        /// What the team committed to.
        #[arg(long, default_value = "")]
        commitments: String,
        /// What followed (often added later with `nic coaching edit`).
        #[arg(long, default_value = "")]
        follow_up: String,
    },
    /// Change a visit: its commitments, the follow-up, its focus or date.
    Edit {
        /// The visit, by its id or a unique start of it (`nic coaching show` lists them).
        visit: String,
        /// When, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// The focus.
        #[arg(long)]
        focus: Option<String>,
        /// What the team committed to.
        #[arg(long)]
        commitments: Option<String>,
        /// What followed.
        #[arg(long)]
        follow_up: Option<String>,
    },
    /// Show the coaching logs you may read (one site's with --site): visits and threads.
    Show {
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
    },
}

/// The network's coaching logs held here, oldest first.
pub async fn logs(o: &Open) -> Result<Vec<Document<CoachingLog>>, CliError> {
    let mut all = o.network.list::<CoachingLog>().await?;
    all.sort_by_key(|d| (d.meta.created_at_ms, d.meta.id.to_string()));
    Ok(all)
}

/// The coaching log of `site` (`None`: the network-level one), created (empty) if there
/// is none yet. A site's log is visible to its team and the network's leads only.
pub async fn log_of(o: &Open, site: Option<&SiteId>) -> Result<DocumentId, CliError> {
    if let Some(have) = logs(o)
        .await?
        .into_iter()
        .find(|d| d.meta.site.as_ref() == site)
    {
        return Ok(have.meta.id);
    }
    let network = o.network.id().clone();
    let new = match site {
        Some(s) => NewDocument {
            visibility: Visibility::Site,
            ..NewDocument::site(network, s.clone(), format!("Coaching log — {s}"))
        },
        None => NewDocument::network(network, "Coaching log — network"),
    };
    Ok(o.client.create(new, &CoachingLog::default()).await?)
}

fn check_date(date: &str) -> Result<(), CliError> {
    nic_model::Period::parse(date)
        .map(|_| ())
        .map_err(|e| CliError::invalid(format!("a visit's date is YYYY-MM-DD: {e}")))
}

/// `nic coaching …`
pub async fn coaching(out: Out, network: Option<&str>, c: CoachingCmd) -> Result<(), CliError> {
    let o = edit::open(network, true).await?;
    let result = run(&o, out, c).await;
    let (said, synced) = o.finish(result).await?;
    if let Some((value, text)) = said {
        out.value(value, &text);
    }
    synced
}

async fn run(
    o: &Open,
    out: Out,
    c: CoachingCmd,
) -> Result<Option<(serde_json::Value, String)>, CliError> {
    match c {
        CoachingCmd::Visit {
            site,
            date,
            focus,
            commitments,
            follow_up,
        } => {
            check_date(&date)?;
            let site = SiteId::new(site)?;
            let log = log_of(o, Some(&site)).await?;
            let id = edit::fresh_id("v");
            let visit = Visit {
                id: id.clone(),
                date,
                focus: Text::with_value(&focus),
                commitments: Text::with_value(&commitments),
                follow_up: Text::with_value(&follow_up),
            };
            o.client
                .change::<CoachingLog>(log, "Coaching visit", move |l| l.visits.push(visit))
                .await?;
            Ok(Some((
                json!({"visit": id, "site": site.to_string(), "log": log.to_string()}),
                format!("visit {id} recorded at {site}"),
            )))
        }
        CoachingCmd::Edit {
            visit,
            date,
            focus,
            commitments,
            follow_up,
        } => {
            if let Some(d) = &date {
                check_date(d)?;
            }
            let logs = logs(o).await?;
            let found: Vec<(DocumentId, String)> = logs
                .iter()
                .flat_map(|l| {
                    l.value
                        .visits
                        .iter()
                        .filter(|v| v.id.starts_with(visit.trim()))
                        .map(|v| (l.meta.id, v.id.clone()))
                })
                .collect();
            let (log, id) = match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(CliError::new(
                        Exit::NotFound,
                        format!(
                            "no visit {visit:?} in the coaching logs you may read; `nic coaching show` lists them"
                        ),
                    ));
                }
                many => {
                    return Err(CliError::invalid(format!(
                        "{visit:?} starts {} visits' ids; type more of it",
                        many.len()
                    )));
                }
            };
            let target = id.clone();
            o.client
                .change::<CoachingLog>(log, "Coaching visit edited", move |l| {
                    if let Some(v) = l.visits.iter_mut().find(|v| v.id == target) {
                        if let Some(d) = date {
                            v.date = d;
                        }
                        for (given, field) in [
                            (focus, &mut v.focus),
                            (commitments, &mut v.commitments),
                            (follow_up, &mut v.follow_up),
                        ] {
                            if let Some(t) = given {
                                *field = Text::with_value(&t);
                            }
                        }
                    }
                })
                .await?;
            Ok(Some((json!({"visit": id}), format!("visit {id} updated"))))
        }
        CoachingCmd::Show { site } => {
            let mut visits = Vec::new();
            let mut threads = Vec::new();
            for l in logs(o).await? {
                let at = l
                    .meta
                    .site
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if site.as_ref().is_some_and(|s| *s != at) {
                    continue;
                }
                for v in &l.value.visits {
                    visits.push(vec![
                        v.id.clone(),
                        at.clone(),
                        v.date.clone(),
                        v.focus.as_str().to_owned(),
                        v.commitments.as_str().to_owned(),
                        v.follow_up.as_str().to_owned(),
                    ]);
                }
                for t in &l.value.threads {
                    threads.push(vec![
                        t.id.clone(),
                        at.clone(),
                        t.doc_id.clone(),
                        t.anchor.clone(),
                        if t.resolved { "resolved" } else { "open" }.to_owned(),
                        t.comments.len().to_string(),
                    ]);
                }
            }
            visits.sort_by(|a, b| (&a[2], &a[1]).cmp(&(&b[2], &b[1])));
            let vh = ["visit", "site", "date", "focus", "commitments", "follow_up"];
            let th = ["thread", "site", "doc", "anchor", "state", "comments"];
            if out.json {
                let rows = |h: &[&str], rows: &[Vec<String>]| -> Vec<serde_json::Value> {
                    rows.iter()
                        .map(|r| {
                            serde_json::Value::Object(
                                h.iter()
                                    .zip(r)
                                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                                    .collect(),
                            )
                        })
                        .collect()
                };
                return Ok(Some((
                    json!({"visits": rows(&vh, &visits), "threads": rows(&th, &threads)}),
                    String::new(),
                )));
            }
            out.table(&vh, &visits);
            if !threads.is_empty() {
                crate::output::line("");
                out.table(&th, &threads);
            }
            Ok(None)
        }
    }
}
