//! `nic rca`: a site team's root-cause analysis of its problem of practice — a fishbone
//! (categories such as instruction, policies, relationships, each with causes and the data
//! that grounds them, causes under causes) and "5 whys" chains.

use clap::Subcommand;
use nic_model::schema::Text;
use nic_model::schema::site_work::{Category, Cause, RootCauseAnalysis, WhyChain};
use nic_model::{DocKind, Visibility};
use serde_json::json;

use super::site_docs::{self, Done, next_id};
use crate::error::CliError;
use crate::output::Out;

/// `nic rca …`
#[derive(Subcommand)]
pub enum RcaCmd {
    /// Start a root-cause analysis of a problem of practice at your site.
    Create {
        /// The problem of practice, e.g. "Our 9th-grade English learners fail Algebra I
        /// at twice the rate of their peers".
        problem: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// A fishbone category to start with (e.g. instruction); repeatable.
        #[arg(long = "category")]
        categories: Vec<String>,
        /// An equity lens code of the network; repeatable.
        #[arg(long = "code")]
        codes: Vec<String>,
        /// Keep it to the site's team and the network's leads (default: the whole network
        /// learns from it).
        #[arg(long)]
        site_only: bool,
    },
    /// Add a cause to a fishbone category (made if new), or under another cause.
    Cause {
        /// The analysis: its id or a unique prefix.
        rca: String,
        /// The cause.
        text: String,
        /// Its category, e.g. instruction (not with --under).
        #[arg(long, required_unless_present = "under", conflicts_with = "under")]
        category: Option<String>,
        /// The id of the cause it is a deeper cause of (e.g. c1).
        #[arg(long)]
        under: Option<String>,
        /// The data that grounds it.
        #[arg(long, default_value = "")]
        evidence: String,
    },
    /// Add the next "why?" answer to a 5-whys chain.
    Why {
        /// The analysis: its id or a unique prefix.
        rca: String,
        /// The answer to "why?".
        text: String,
        /// The chain (e.g. w1; default: the latest, or a new one if there is none).
        #[arg(long, conflicts_with = "new_chain")]
        chain: Option<String>,
        /// Start a new chain with this answer.
        #[arg(long)]
        new_chain: bool,
    },
    /// Show an analysis.
    Show {
        /// The analysis: its id or a unique prefix.
        rca: String,
    },
}

/// Every cause id in the analysis, at any depth (deeper causes included).
pub fn cause_ids(r: &RootCauseAnalysis) -> Vec<String> {
    fn walk(causes: &[Cause], out: &mut Vec<String>) {
        for c in causes {
            out.push(c.id.clone());
            walk(&c.causes, out);
        }
    }
    let mut out = Vec::new();
    for c in &r.categories {
        walk(&c.causes, &mut out);
    }
    out
}

fn find_cause<'a>(causes: &'a mut [Cause], id: &str) -> Option<&'a mut Cause> {
    for c in causes {
        if c.id == id {
            return Some(c);
        }
        if let Some(found) = find_cause(&mut c.causes, id) {
            return Some(found);
        }
    }
    None
}

/// A category's id from its name: lower case, words joined by `-`.
fn slug(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// `nic rca …`
pub async fn rca(out: Out, network: Option<&str>, c: RcaCmd) -> Result<(), CliError> {
    site_docs::run(out, network, |network| async move {
        match c {
            RcaCmd::Create {
                problem,
                site,
                categories,
                codes,
                site_only,
            } => {
                site_docs::not_empty("the problem of practice", &problem)?;
                let mut value = RootCauseAnalysis {
                    problem: Text::with_value(&problem),
                    equity_codes: codes,
                    ..RootCauseAnalysis::default()
                };
                for name in categories {
                    add_category(&mut value, &name)?;
                }
                let visibility = if site_only {
                    Visibility::Site
                } else {
                    Visibility::Network
                };
                let title = format!("Root causes: {}", short(&problem));
                let id = site_docs::create_at(&network, &site, visibility, title, &value).await?;
                Ok(Done {
                    json: json!({"id": id.to_string()}),
                    text: format!("root-cause analysis {id} started at {site}"),
                    wrote: true,
                })
            }
            RcaCmd::Cause {
                rca,
                text,
                category,
                under,
                evidence,
            } => {
                site_docs::not_empty("the cause", &text)?;
                if let Some(name) = &category
                    && slug(name).is_empty()
                {
                    return Err(CliError::invalid("the category has no name"));
                }
                let id = site_docs::named(&network, &rca, DocKind::RootCauseAnalysis).await?;
                let current = network.client().get::<RootCauseAnalysis>(id).await?.value;
                if let Some(parent) = &under
                    && !cause_ids(&current).contains(parent)
                {
                    return Err(CliError::invalid(format!(
                        "this analysis has no cause {parent:?}; its causes: {} (`nic rca show`)",
                        list_or_none(&cause_ids(&current))
                    )));
                }
                let cause_id = next_id(network.client(), "c", cause_ids(&current).iter().map(String::as_str));
                let new_id = cause_id.clone();
                site_docs::change::<RootCauseAnalysis>(
                    network.client(),
                    id,
                    "Root causes: cause added",
                    move |r| {
                        let cause = Cause {
                            id: new_id,
                            text: Text::with_value(&text),
                            evidence: Text::with_value(&evidence),
                            causes: Vec::new(),
                        };
                        match (&under, &category) {
                            (Some(parent), _) => {
                                for cat in &mut r.categories {
                                    if let Some(p) = find_cause(&mut cat.causes, parent) {
                                        p.causes.push(cause);
                                        return;
                                    }
                                }
                            }
                            (None, Some(name)) => {
                                let cat = slug(name);
                                if !r.categories.iter().any(|c| c.id == cat) {
                                    r.categories.push(Category {
                                        id: cat.clone(),
                                        name: name.clone(),
                                        causes: Vec::new(),
                                    });
                                }
                                if let Some(c) = r.categories.iter_mut().find(|c| c.id == cat) {
                                    c.causes.push(cause);
                                }
                            }
                            (None, None) => {}
                        }
                    },
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string(), "cause": cause_id}),
                    text: format!("cause {cause_id} added"),
                    wrote: true,
                })
            }
            RcaCmd::Why {
                rca,
                text,
                chain,
                new_chain,
            } => {
                site_docs::not_empty("the answer", &text)?;
                let id = site_docs::named(&network, &rca, DocKind::RootCauseAnalysis).await?;
                let current = network.client().get::<RootCauseAnalysis>(id).await?.value;
                let chains: Vec<String> = current.why_chains.iter().map(|w| w.id.clone()).collect();
                let target = match (chain, new_chain) {
                    (Some(c), _) if chains.contains(&c) => c,
                    (Some(c), _) => {
                        return Err(CliError::invalid(format!(
                            "this analysis has no chain {c:?}; its chains: {} (or start one with --new-chain)",
                            list_or_none(&chains)
                        )));
                    }
                    (None, false) if !chains.is_empty() => chains.last().cloned().unwrap_or_default(),
                    _ => next_id(network.client(), "w", chains.iter().map(String::as_str)),
                };
                let chain_id = target.clone();
                site_docs::change::<RootCauseAnalysis>(
                    network.client(),
                    id,
                    "Root causes: why added",
                    move |r| {
                        if !r.why_chains.iter().any(|w| w.id == chain_id) {
                            r.why_chains.push(WhyChain {
                                id: chain_id.clone(),
                                whys: Vec::new(),
                            });
                        }
                        if let Some(w) = r.why_chains.iter_mut().find(|w| w.id == chain_id) {
                            w.whys.push(Text::with_value(&text));
                        }
                    },
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string(), "chain": target}),
                    text: format!("why added to chain {target}"),
                    wrote: true,
                })
            }
            RcaCmd::Show { rca } => {
                let id = site_docs::named(&network, &rca, DocKind::RootCauseAnalysis).await?;
                site_docs::show(out, &network, id).await
            }
        }
    })
    .await
}

fn add_category(r: &mut RootCauseAnalysis, name: &str) -> Result<(), CliError> {
    let id = slug(name);
    if id.is_empty() {
        return Err(CliError::invalid("a category has no name"));
    }
    if !r.categories.iter().any(|c| c.id == id) {
        r.categories.push(Category {
            id,
            name: name.to_owned(),
            causes: Vec::new(),
        });
    }
    Ok(())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none yet".into()
    } else {
        items.join(", ")
    }
}

/// The first words of a long text, for a title.
pub fn short(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
