//! `nic plan`: the school improvement plan — from the problem of practice and its data, to
//! the root-cause analysis, to the site's aims and the drivers it works on, to the PDSA
//! cycles it commits to — and, in `show`, what was planned beside what happened.

use clap::Subcommand;
use nic_client::{Document, Network};
use nic_model::schema::Text;
use nic_model::schema::aim::Aim;
use nic_model::schema::pdsa::PdsaCycle;
use nic_model::schema::site_work::{ImprovementPlan, RootCauseAnalysis};
use nic_model::{DocKind, DocumentId, Visibility};
use serde_json::{Value, json};

use super::site_docs::{self, Done};
use crate::error::CliError;
use crate::output::Out;

/// What a plan links to, each a document named by id or unique prefix (drivers are the
/// driver diagram's node ids).
#[derive(clap::Args)]
pub struct Links {
    /// The root-cause analysis it rests on.
    #[arg(long)]
    rca: Option<String>,
    /// A site aim, aligned to the network's; repeatable.
    #[arg(long = "aim")]
    aims: Vec<String>,
    /// A driver diagram node it works on (its id); repeatable.
    #[arg(long = "driver")]
    drivers: Vec<String>,
    /// A PDSA cycle it commits to; repeatable.
    #[arg(long = "cycle")]
    cycles: Vec<String>,
}

/// `nic plan …`
#[derive(Subcommand)]
pub enum PlanCmd {
    /// Write your site's improvement plan, starting from the problem of practice.
    Create {
        /// The problem of practice.
        problem: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// The data that frames the problem.
        #[arg(long, default_value = "")]
        data: String,
        #[command(flatten)]
        links: Links,
    },
    /// Link the plan to its root-cause analysis, aims, drivers and cycles (added to those
    /// there; --rca replaces).
    Link {
        /// The plan: its id or a unique prefix.
        plan: String,
        #[command(flatten)]
        links: Links,
    },
    /// Show the plan: problem → root causes → aims → cycles, what was planned beside what
    /// happened, and cycles the site ran outside the plan.
    Show {
        /// The plan: its id or a unique prefix.
        plan: String,
    },
}

/// The links as document ids, each checked to be of its kind.
struct Resolved {
    rca: Option<String>,
    aims: Vec<String>,
    drivers: Vec<String>,
    cycles: Vec<String>,
}

async fn resolve(network: &Network, links: Links) -> Result<Resolved, CliError> {
    let rca = match &links.rca {
        Some(t) => Some(
            site_docs::named(network, t, DocKind::RootCauseAnalysis)
                .await?
                .to_string(),
        ),
        None => None,
    };
    let mut aims = Vec::new();
    for a in &links.aims {
        aims.push(
            site_docs::named(network, a, DocKind::Aim)
                .await?
                .to_string(),
        );
    }
    let mut cycles = Vec::new();
    for c in &links.cycles {
        cycles.push(
            site_docs::named(network, c, DocKind::PdsaCycle)
                .await?
                .to_string(),
        );
    }
    for d in &links.drivers {
        site_docs::not_empty("a driver id", d)?;
    }
    Ok(Resolved {
        rca,
        aims,
        drivers: links.drivers,
        cycles,
    })
}

fn add_all(list: &mut Vec<String>, more: Vec<String>) {
    for m in more {
        if !list.contains(&m) {
            list.push(m);
        }
    }
}

/// `nic plan …`
pub async fn plan(out: Out, network: Option<&str>, c: PlanCmd) -> Result<(), CliError> {
    site_docs::run(out, network, |network| async move {
        match c {
            PlanCmd::Create {
                problem,
                site,
                data,
                links,
            } => {
                site_docs::not_empty("the problem of practice", &problem)?;
                let links = resolve(&network, links).await?;
                let mut value = ImprovementPlan {
                    problem: Text::with_value(&problem),
                    data_summary: Text::with_value(&data),
                    root_cause_analysis_id: links.rca,
                    ..ImprovementPlan::default()
                };
                add_all(&mut value.aim_ids, links.aims);
                add_all(&mut value.driver_ids, links.drivers);
                add_all(&mut value.cycle_ids, links.cycles);
                let title = format!("Improvement plan: {}", super::rca::short(&problem));
                let id = site_docs::create_at(&network, &site, Visibility::Network, title, &value)
                    .await?;
                Ok(Done {
                    json: json!({"id": id.to_string()}),
                    text: format!("improvement plan {id} written for {site}"),
                    wrote: true,
                })
            }
            PlanCmd::Link { plan, links } => {
                let id = site_docs::named(&network, &plan, DocKind::ImprovementPlan).await?;
                let links = resolve(&network, links).await?;
                if links.rca.is_none()
                    && links.aims.is_empty()
                    && links.drivers.is_empty()
                    && links.cycles.is_empty()
                {
                    return Err(CliError::invalid(
                        "nothing to link: give --rca, --aim, --driver or --cycle",
                    ));
                }
                site_docs::change::<ImprovementPlan>(
                    network.client(),
                    id,
                    "Improvement plan: linked",
                    move |p| {
                        if links.rca.is_some() {
                            p.root_cause_analysis_id = links.rca;
                        }
                        add_all(&mut p.aim_ids, links.aims);
                        add_all(&mut p.driver_ids, links.drivers);
                        add_all(&mut p.cycle_ids, links.cycles);
                    },
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string()}),
                    text: format!("improvement plan {id} linked"),
                    wrote: true,
                })
            }
            PlanCmd::Show { plan } => {
                let id = site_docs::named(&network, &plan, DocKind::ImprovementPlan).await?;
                show(&network, id).await
            }
        }
    })
    .await
}

/// Where a cycle stands, in words.
fn cycle_state(c: &PdsaCycle) -> String {
    match c.act.decision {
        Some(d) => format!("done: {}", format!("{d:?}").to_lowercase()),
        None if !c.study.learning.as_str().trim().is_empty() || !c.study.results.is_empty() => {
            "studied, no decision yet".into()
        }
        None if c.do_.has_data() => "under way".into(),
        None => "not started".into(),
    }
}

fn cycle_json(id: &str, c: Option<&Document<PdsaCycle>>) -> Value {
    match c {
        Some(c) => json!({
            "id": id, "title": c.meta.title, "site": c.meta.site.as_ref().map(ToString::to_string),
            "change_idea": c.value.change_idea_id, "cycle_number": c.value.cycle_number,
            "planned_start": c.value.planned_start, "planned_end": c.value.planned_end,
            "state": cycle_state(&c.value),
            "decision": c.value.act.decision.map(|d| format!("{d:?}").to_lowercase()),
            "what_happened": c.value.do_.what_happened.as_str(),
            "learning": c.value.study.learning.as_str(),
        }),
        None => json!({"id": id, "state": "not in this replica"}),
    }
}

fn cycle_line(id: &str, c: Option<&Document<PdsaCycle>>) -> String {
    match c {
        Some(c) => {
            let mut line = format!(
                "  {} [{}]: planned {} to {}; {}",
                c.meta.title,
                id.chars().take(8).collect::<String>(),
                c.value.planned_start.as_deref().unwrap_or("?"),
                c.value.planned_end.as_deref().unwrap_or("?"),
                cycle_state(&c.value)
            );
            let learning = c.value.study.learning.as_str().trim();
            if !learning.is_empty() {
                line.push_str(&format!("\n    learned: {learning}"));
            }
            line
        }
        None => format!("  {id}: not in this replica (archived, or not synced yet)"),
    }
}

/// The plan beside what happened: each linked document read from the replica.
async fn show(network: &Network, id: DocumentId) -> Result<Done, CliError> {
    let client = network.client();
    let plan = client.get::<ImprovementPlan>(id).await?;
    let p = &plan.value;
    let mut text = format!(
        "{} — improvement plan ({}{})\n",
        plan.meta.title,
        plan.meta.network,
        plan.meta
            .site
            .as_ref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    );
    text.push_str(&format!("problem of practice: {}\n", p.problem.as_str()));
    if !p.data_summary.as_str().trim().is_empty() {
        text.push_str(&format!("data: {}\n", p.data_summary.as_str()));
    }
    let rca = match p
        .root_cause_analysis_id
        .as_deref()
        .map(str::parse::<DocumentId>)
    {
        Some(Ok(r)) => client.get::<RootCauseAnalysis>(r).await.ok(),
        _ => None,
    };
    match (&p.root_cause_analysis_id, &rca) {
        (Some(_), Some(r)) => {
            let causes = super::rca::cause_ids(&r.value).len();
            text.push_str(&format!(
                "root causes: {} ({} fishbone categories, {causes} causes, {} why chains)\n",
                r.meta.title,
                r.value.categories.len(),
                r.value.why_chains.len()
            ));
        }
        (Some(r), None) => text.push_str(&format!("root causes: {r} (not in this replica)\n")),
        (None, _) => text.push_str("root causes: not linked yet (`nic plan link --rca`)\n"),
    }
    let mut aims_json = Vec::new();
    for a in &p.aim_ids {
        let aim = match a.parse::<DocumentId>() {
            Ok(aid) => client.get::<Aim>(aid).await.ok(),
            Err(_) => None,
        };
        let statement = aim
            .as_ref()
            .map_or("(not in this replica)".to_owned(), |a| {
                a.value.statement.as_str().to_owned()
            });
        text.push_str(&format!("aim: {statement}\n"));
        aims_json.push(json!({"id": a, "statement": statement}));
    }
    if !p.driver_ids.is_empty() {
        text.push_str(&format!("drivers: {}\n", p.driver_ids.join(", ")));
    }
    // Every cycle of the network, so the plan's can be found and the site's others listed.
    let cycles = network.cycles().await?;
    let find = |cid: &str| cycles.iter().find(|c| c.meta.id.to_string() == cid);
    text.push_str(&format!("planned cycles ({}):\n", p.cycle_ids.len()));
    let mut planned = Vec::new();
    for cid in &p.cycle_ids {
        text.push_str(&cycle_line(cid, find(cid)));
        text.push('\n');
        planned.push(cycle_json(cid, find(cid)));
    }
    let unplanned: Vec<&Document<PdsaCycle>> = cycles
        .iter()
        .filter(|c| c.meta.site == plan.meta.site)
        .filter(|c| !p.cycle_ids.contains(&c.meta.id.to_string()))
        .collect();
    if !unplanned.is_empty() {
        text.push_str("cycles run at the site outside the plan:\n");
        for c in &unplanned {
            let cid = c.meta.id.to_string();
            text.push_str(&cycle_line(&cid, Some(c)));
            text.push('\n');
        }
    }
    let done = planned
        .iter()
        .filter(|c| c["state"].as_str().is_some_and(|s| s.starts_with("done")))
        .count();
    text.push_str(&format!(
        "{done} of {} planned cycles done",
        p.cycle_ids.len()
    ));
    for f in p.validate() {
        text.push_str(&format!("\nnote: {}: {}", f.field, f.message));
    }
    Ok(Done {
        json: json!({
            "id": id.to_string(), "site": plan.meta.site.as_ref().map(ToString::to_string),
            "problem": p.problem.as_str(), "data_summary": p.data_summary.as_str(),
            "root_cause_analysis_id": p.root_cause_analysis_id,
            "aims": aims_json, "driver_ids": p.driver_ids,
            "planned": planned, "done": done,
            "unplanned": unplanned.iter().map(|c| cycle_json(&c.meta.id.to_string(), Some(c))).collect::<Vec<_>>(),
        }),
        text,
        wrote: false,
    })
}
