//! `nic audit`: a site's equity audit — the area looked at (access, discipline, course
//! enrolment…), what was found for each student group, and the sources consulted.

use clap::Subcommand;
use nic_model::schema::Text;
use nic_model::schema::site_work::{EquityAudit, GroupFinding};
use nic_model::{DocKind, Visibility};
use serde_json::json;

use super::interview::append;
use super::site_docs::{self, Done, next_id};
use crate::error::CliError;
use crate::output::Out;

/// `nic audit …`
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Start an equity audit of one area at your site.
    Create {
        /// The area audited, e.g. "course enrolment" or "discipline".
        area: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// The sources consulted.
        #[arg(long, default_value = "")]
        sources: String,
        /// Keep it to the site's team and the network's leads (default: the whole network
        /// learns from it).
        #[arg(long)]
        site_only: bool,
    },
    /// Add what was found for a student group, and/or more sources.
    Add {
        /// The audit: its id or a unique prefix.
        audit: String,
        /// The student group: `all`, or dimension=value, e.g. english_learner=yes.
        #[arg(long, requires = "finding")]
        group: Option<String>,
        /// What was found for it.
        #[arg(long, requires = "group")]
        finding: Option<String>,
        /// A source consulted (added after those there).
        #[arg(long, required_unless_present = "finding")]
        source: Option<String>,
    },
    /// Show an audit.
    Show {
        /// The audit: its id or a unique prefix.
        audit: String,
    },
}

/// `all`, or `dimension=value` with both parts named, as measure groups are written.
fn check_group(group: &str) -> Result<(), CliError> {
    let ok = group == "all"
        || group
            .split_once('=')
            .is_some_and(|(d, v)| !d.trim().is_empty() && !v.trim().is_empty());
    if ok {
        Ok(())
    } else {
        Err(CliError::invalid(format!(
            "{group:?} is not a student group: write `all` or dimension=value, e.g. english_learner=yes"
        )))
    }
}

/// `nic audit …`
pub async fn audit(out: Out, network: Option<&str>, c: AuditCmd) -> Result<(), CliError> {
    site_docs::run(out, network, |network| async move {
        match c {
            AuditCmd::Create {
                area,
                site,
                sources,
                site_only,
            } => {
                site_docs::not_empty("the area audited", &area)?;
                let value = EquityAudit {
                    area: area.clone(),
                    findings: Vec::new(),
                    sources: Text::with_value(&sources),
                };
                let visibility = if site_only {
                    Visibility::Site
                } else {
                    Visibility::Network
                };
                let id = site_docs::create_at(
                    &network,
                    &site,
                    visibility,
                    format!("Equity audit: {area}"),
                    &value,
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string()}),
                    text: format!("equity audit {id} started at {site}"),
                    wrote: true,
                })
            }
            AuditCmd::Add {
                audit,
                group,
                finding,
                source,
            } => {
                if let (Some(g), Some(f)) = (&group, &finding) {
                    check_group(g)?;
                    site_docs::not_empty("the finding", f)?;
                }
                let id = site_docs::named(&network, &audit, DocKind::EquityAudit).await?;
                let current = network.client().get::<EquityAudit>(id).await?.value;
                let finding_id = next_id(
                    network.client(),
                    "f",
                    current.findings.iter().map(|f| f.id.as_str()),
                );
                let new_id = finding_id.clone();
                let added = group.is_some();
                site_docs::change::<EquityAudit>(
                    network.client(),
                    id,
                    "Equity audit: added",
                    move |a| {
                        if let (Some(group), Some(finding)) = (group, finding) {
                            a.findings.push(GroupFinding {
                                id: new_id,
                                group,
                                finding: Text::with_value(&finding),
                            });
                        }
                        if let Some(s) = source {
                            append(&mut a.sources, &s);
                        }
                    },
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string(), "finding": added.then_some(&finding_id)}),
                    text: if added {
                        format!("finding {finding_id} added")
                    } else {
                        "source added".into()
                    },
                    wrote: true,
                })
            }
            AuditCmd::Show { audit } => {
                let id = site_docs::named(&network, &audit, DocKind::EquityAudit).await?;
                site_docs::show(out, &network, id).await
            }
        }
    })
    .await
}
