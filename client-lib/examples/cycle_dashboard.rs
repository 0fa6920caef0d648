//! A read-only dashboard job: syncs a network into an in-memory replica, prints where every
//! change idea's cycles stand at each site, and exits. What a district's nightly report or
//! a coach's morning check could run.
//!
//! ```sh
//! cargo run -p nic-client --example cycle_dashboard -- algebra
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use anyhow::bail;
use nic_client::{Client, Document, ReplicaConfig};
use nic_model::NetworkId;
use nic_model::schema::pdsa::PdsaCycle;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [network] = &args[..] else {
        bail!("usage: cycle_dashboard NETWORK");
    };
    let client = Client::open(ReplicaConfig::new(common::hub(), common::token()?)).await?;
    let network = client.network(NetworkId::new(network.as_str())?).await?;
    if let Err(e) = client.wait_up_to_date(common::WAIT).await {
        bail!(
            "could not sync network {} from {}: {e}",
            network.id(),
            common::hub()
        );
    }
    let mut by_idea: BTreeMap<String, Vec<Document<PdsaCycle>>> = BTreeMap::new();
    for cycle in network.cycles().await? {
        by_idea
            .entry(cycle.value.change_idea_id.clone())
            .or_default()
            .push(cycle);
    }
    println!(
        "network {}: {} change ideas under test",
        network.id(),
        by_idea.len()
    );
    for (idea, mut cycles) in by_idea {
        cycles.sort_by(|a, b| {
            (&a.meta.site, a.value.cycle_number).cmp(&(&b.meta.site, b.value.cycle_number))
        });
        println!("\n{idea}");
        println!(
            "  {:<16} {:>5}  {:<7} {:<9} prediction → result",
            "site", "cycle", "phase", "decision"
        );
        for c in cycles {
            let v = &c.value;
            let site = c.meta.site.as_ref().map_or("(network)", |s| s.as_str());
            let decision = v
                .act
                .decision
                .map_or("-".to_owned(), |d| format!("{d:?}").to_lowercase());
            let prediction = v
                .plan
                .questions
                .first()
                .map_or("", |q| q.prediction.as_str());
            let result = v.study.results.first().map_or("", |r| r.result.as_str());
            println!(
                "  {site:<16} {:>5}  {:<7} {decision:<9} {prediction} → {result}",
                v.cycle_number,
                phase(v)
            );
        }
    }
    client.close().await?;
    Ok(())
}

/// The phase a cycle is in, from what has been recorded.
fn phase(c: &PdsaCycle) -> &'static str {
    if c.act.decision.is_some() {
        "done"
    } else if !c.study.learning.as_str().is_empty() || !c.study.results.is_empty() {
        "act"
    } else if c.do_.has_data() {
        "study"
    } else if c.plan.questions.is_empty()
        || c.plan
            .questions
            .iter()
            .any(|q| q.prediction.as_str().is_empty())
    {
        // A test needs its predictions written before it runs.
        "plan"
    } else {
        "do"
    }
}
