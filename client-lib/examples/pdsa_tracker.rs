//! A tiny PDSA tracker: the kind of tool a school team's planning app could be, on
//! `nic-client`. It keeps a replica on disk (`pdsa-tracker-replica/`, or `NIC_REPLICA`), so
//! it works offline: what it records is saved locally first and reaches the hub when it can.
//!
//! ```sh
//! cargo run --release -p nic-hub -- serve &                 # the hub, as the README says
//! cargo run -p nic-client --example pdsa_tracker -- init algebra lincoln
//! cargo run -p nic-client --example pdsa_tracker -- new algebra lincoln number-talks \
//!     "Will a daily number talk raise exit-ticket completion?" "20 of 28 finish"
//! cargo run -p nic-client --example pdsa_tracker -- do CYCLE "Ran it Monday to Thursday"
//! cargo run -p nic-client --example pdsa_tracker -- study CYCLE "24 of 28" "Most finished"
//! cargo run -p nic-client --example pdsa_tracker -- act CYCLE adapt "Shorter, 4 minutes"
//! cargo run -p nic-client --example pdsa_tracker -- list algebra
//! ```

#[path = "common/mod.rs"]
mod common;

use anyhow::{Context, bail};
use nic_client::{Client, ReplicaConfig, Storage};
use nic_model::schema::Text;
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose, QuestionResult};
use nic_model::{DocumentId, NetworkId, SiteId};

const USAGE: &str = "usage: pdsa_tracker init NETWORK SITE
       pdsa_tracker new NETWORK SITE CHANGE_IDEA OBJECTIVE PREDICTION
       pdsa_tracker do CYCLE WHAT_HAPPENED
       pdsa_tracker study CYCLE RESULT LEARNING
       pdsa_tracker act CYCLE adopt|adapt|abandon RATIONALE
       pdsa_tracker show CYCLE
       pdsa_tracker list NETWORK";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let ["init", network, site] = args[..] {
        return init(network, site).await;
    }
    let dir = std::env::var("NIC_REPLICA").unwrap_or_else(|_| "pdsa-tracker-replica".into());
    let client = Client::open(
        ReplicaConfig::new(common::hub(), common::token()?).storage(Storage::Dir(dir.into())),
    )
    .await?;
    let result = run(&client, &args).await;
    // Whatever was recorded is saved locally; give the hub a moment to take it.
    match client.wait_synced(common::WAIT).await {
        Ok(()) => {}
        Err(_) => eprintln!(
            "saved in the replica; the hub has not confirmed yet (it will sync on the next run)"
        ),
    }
    client.close().await?;
    result
}

async fn run(client: &Client, args: &[&str]) -> anyhow::Result<()> {
    match *args {
        ["new", network, site, idea, objective, prediction] => {
            let network = client.network(NetworkId::new(network)?).await?;
            let mut cycle = PdsaCycle {
                change_idea_id: idea.to_owned(),
                cycle_number: 1,
                purpose: Purpose::Test,
                ..PdsaCycle::default()
            };
            cycle.plan.objective = Text::with_value(objective);
            cycle.plan.questions.push(LearningQuestion {
                id: "q1".into(),
                question: Text::with_value(objective),
                prediction: Text::with_value(prediction),
                ..LearningQuestion::default()
            });
            let id = network
                .create_at(SiteId::new(site)?, format!("{idea} — cycle 1"), &cycle)
                .await?;
            println!("{id}");
        }
        ["do", cycle, what] => {
            let what = what.to_owned();
            client
                .change::<PdsaCycle>(doc(cycle)?, "Do: what happened", move |c| {
                    c.do_.as_planned = Some(true);
                    c.do_.what_happened = Text::with_value(&what);
                })
                .await?;
        }
        ["study", cycle, result, learning] => {
            let (result, learning) = (result.to_owned(), learning.to_owned());
            client
                .change::<PdsaCycle>(doc(cycle)?, "Study: results", move |c| {
                    let first = c.plan.questions.first().map(|q| q.id.clone());
                    if let Some(question_id) = first {
                        c.study.results.push(QuestionResult {
                            question_id,
                            result: Text::with_value(&result),
                        });
                    }
                    c.study.learning = Text::with_value(&learning);
                })
                .await?;
        }
        ["act", cycle, decision, rationale] => {
            let decision = match decision {
                "adopt" => Decision::Adopt,
                "adapt" => Decision::Adapt,
                "abandon" => Decision::Abandon,
                other => bail!("unknown decision {other:?}: use adopt, adapt or abandon"),
            };
            let rationale = rationale.to_owned();
            let id = doc(cycle)?;
            client
                .change::<PdsaCycle>(id, "Act: decision", move |c| {
                    c.act.decision = Some(decision);
                    c.act.rationale = Text::with_value(&rationale);
                })
                .await?;
            if decision == Decision::Adapt {
                println!("{}", client.start_next_cycle(id).await?);
            }
        }
        ["show", cycle] => {
            let c = client.get::<PdsaCycle>(doc(cycle)?).await?;
            println!("{} ({})", c.meta.title, c.meta.id);
            println!("  plan:  {}", c.value.plan.objective.as_str());
            for q in &c.value.plan.questions {
                println!("  predicted: {}", q.prediction.as_str());
            }
            println!("  do:    {}", c.value.do_.what_happened.as_str());
            for r in &c.value.study.results {
                println!("  found: {}", r.result.as_str());
            }
            println!("  study: {}", c.value.study.learning.as_str());
            println!(
                "  act:   {:?} {}",
                c.value.act.decision,
                c.value.act.rationale.as_str()
            );
            for finding in c.value.validate() {
                println!("  note:  {}: {}", finding.field, finding.message);
            }
        }
        ["list", network] => {
            let network = client.network(NetworkId::new(network)?).await?;
            // A fresh replica fills up from the hub first; offline it shows what it has.
            let _ = client.wait_up_to_date(common::WAIT).await;
            for c in network.cycles().await? {
                println!(
                    "{}  {}  cycle {}  {:?}",
                    c.meta.id, c.value.change_idea_id, c.value.cycle_number, c.value.act.decision
                );
            }
        }
        _ => bail!("{USAGE}"),
    }
    Ok(())
}

fn doc(s: &str) -> anyhow::Result<DocumentId> {
    s.parse().with_context(|| {
        format!("{s:?} is not a document id (pdsa_tracker list NETWORK shows them)")
    })
}

/// Creates the network and site through the hub's Directory service (a hub admin's token),
/// unless they exist: the one step that needs the hub, not the replica.
async fn init(network: &str, site: &str) -> anyhow::Result<()> {
    use nic_client::{Hub, Refusal};
    let hub = Hub::new(&common::hub(), &common::token()?, None)?;
    let network_id = NetworkId::new(network)?;
    match hub.create_network(&network_id, network, "", 0).await {
        Err(e) if e.refusal() != Some(Refusal::AlreadyExists) => {
            bail!("cannot create network {network}: {e}")
        }
        _ => {}
    }
    match hub
        .create_site(&network_id, &SiteId::new(site)?, site)
        .await
    {
        Err(e) if e.refusal() != Some(Refusal::AlreadyExists) => {
            bail!("cannot create site {site}: {e}")
        }
        _ => {}
    }
    println!("network {network} with site {site} is ready");
    Ok(())
}
