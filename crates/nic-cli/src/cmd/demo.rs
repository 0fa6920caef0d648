//! `nic demo`: a sample NIC from the data shipped in `demo/` (compiled in), so a newcomer
//! sees comparison and charts at once.

use std::collections::BTreeSet;
use std::path::Path;

use nic_client::Client;
use nic_client::Refusal;
use nic_model::schema::Text;
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::{ChangeIdea, DriverDiagram, Level, Link, Node};
use nic_model::schema::measure::{Direction, MeasureDefinition, OperationalDefinition, Scoring};
use nic_model::schema::network::NetworkProfile;
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose, QuestionResult};
use nic_model::{NetworkId, SiteId};
use serde::Deserialize;
use serde_json::json;

use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::session::{Session, settle_writes};

const NETWORK_JSON: &str = include_str!("../../demo/network.json");
const MEASURE_CSV: &[u8] = include_bytes!("../../demo/on-track.csv");

#[derive(Deserialize)]
struct Demo {
    network: NetworkSpec,
    sites: Vec<SiteSpec>,
    profile: ProfileSpec,
    aim: AimSpec,
    drivers: DriverSpec,
    change_ideas: Vec<IdeaSpec>,
    cycles: Vec<CycleSpec>,
    measure: MeasureSpec,
}

#[derive(Deserialize)]
struct NetworkSpec {
    id: String,
    name: String,
    description: String,
    min_cell_size: u32,
}

#[derive(Deserialize)]
struct SiteSpec {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct ProfileSpec {
    description: String,
    equity_focus_groups: Vec<String>,
    equity_focus: String,
}

#[derive(Deserialize)]
struct AimSpec {
    statement: String,
    baseline: f64,
    target: f64,
    unit: String,
    by_when: String,
    for_whom: Vec<String>,
}

#[derive(Deserialize)]
struct NodeSpec {
    id: String,
    level: String,
    text: String,
}

#[derive(Deserialize)]
struct DriverSpec {
    nodes: Vec<NodeSpec>,
    links: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct IdeaSpec {
    id: String,
    title: String,
    description: String,
    drivers: Vec<String>,
}

#[derive(Deserialize)]
struct CycleSpec {
    site: String,
    idea: String,
    number: u32,
    start: String,
    end: String,
    objective: String,
    question: String,
    prediction: String,
    what: String,
    result: String,
    learning: String,
    decision: String,
    rationale: String,
}

#[derive(Deserialize)]
struct MeasureSpec {
    name: String,
    numerator: String,
    denominator: String,
    data_source: String,
    frequency: String,
    group_dimensions: Vec<String>,
}

fn cycle(c: &CycleSpec) -> PdsaCycle {
    let mut cycle = PdsaCycle {
        change_idea_id: c.idea.clone(),
        cycle_number: c.number,
        purpose: Purpose::Test,
        planned_start: Some(c.start.clone()),
        planned_end: Some(c.end.clone()),
        voices: vec!["teachers".into(), "students".into()],
        ..PdsaCycle::default()
    };
    cycle.plan.objective = Text::with_value(&c.objective);
    cycle.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value(&c.question),
        prediction: Text::with_value(&c.prediction),
        ..LearningQuestion::default()
    });
    if !c.what.is_empty() {
        cycle.do_.as_planned = Some(true);
        cycle.do_.what_happened = Text::with_value(&c.what);
    }
    if !c.result.is_empty() {
        cycle.study.results.push(QuestionResult {
            question_id: "q1".into(),
            result: Text::with_value(&c.result),
        });
        cycle.study.learning = Text::with_value(&c.learning);
    }
    cycle.act.decision = match c.decision.as_str() {
        "adopt" => Some(Decision::Adopt),
        "adapt" => Some(Decision::Adapt),
        "abandon" => Some(Decision::Abandon),
        _ => None,
    };
    cycle.act.rationale = Text::with_value(&c.rationale);
    cycle
}

/// `nic demo`
pub async fn demo(out: Out) -> Result<(), CliError> {
    let demo: Demo = serde_json::from_str(NETWORK_JSON)
        .map_err(|e| CliError::new(Exit::Failure, format!("the demo data is damaged: {e}")))?;
    let mut session = Session::load()?;
    let hub = session.hub()?;
    let network = NetworkId::new(demo.network.id.clone())?;
    let made = hub
        .create_network(
            &network,
            &demo.network.name,
            &demo.network.description,
            demo.network.min_cell_size,
        )
        .await;
    match made {
        Ok(_) => {}
        Err(e) if e.refusal() == Some(Refusal::AlreadyExists) => {
            session.config.network = Some(network.to_string());
            session.config.save()?;
            out.value(
                json!({"network": network.to_string(), "created": false}),
                &format!("the demo network {network} exists already; it is now your default"),
            );
            return Ok(());
        }
        Err(e) if e.refusal() == Some(Refusal::PermissionDenied) => {
            return Err(CliError::new(
                Exit::PermissionDenied,
                "the demo creates a network, which takes a hub admin's token: sign in with the token in the hub's nic-data/admin-token",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    for site in &demo.sites {
        hub.create_site(&network, &SiteId::new(site.id.clone())?, &site.name)
            .await?;
    }
    let client = session.replica().await?;
    let result = fill(&client, &network, &demo).await;
    let synced = match &result {
        Ok(_) => settle_writes(&client).await,
        Err(_) => Ok(()),
    };
    client.close().await?;
    let measure = result?;
    session.config.network = Some(network.to_string());
    session.config.save()?;
    out.value(
        json!({"network": network.to_string(), "created": true, "measure": measure, "cycles": demo.cycles.len()}),
        &format!(
            "created the demo network {network}: {} schools, {} change ideas, {} PDSA cycles, and the measure {measure} over a school year.\nIt is now your default network. Try:\n  nic compare number-talks\n  nic chart {measure} -o on-track.svg",
            demo.sites.len(),
            demo.change_ideas.len(),
            demo.cycles.len()
        ),
    );
    synced
}

/// Writes the demo's documents; returns the measure definition's id.
async fn fill(client: &Client, network: &NetworkId, demo: &Demo) -> Result<String, CliError> {
    let n = client.network(network.clone()).await?;
    n.create(
        &demo.network.name,
        &NetworkProfile {
            name: Text::with_value(&demo.network.name),
            description: Text::with_value(&demo.profile.description),
            sites: demo.sites.iter().map(|s| s.id.clone()).collect(),
            equity_focus_groups: demo.profile.equity_focus_groups.clone(),
            equity_focus: Text::with_value(&demo.profile.equity_focus),
            ..NetworkProfile::default()
        },
    )
    .await?;
    let level = |l: &str| match l {
        "aim" => Level::Aim,
        "secondary" => Level::Secondary,
        "change" => Level::Change,
        _ => Level::Primary,
    };
    n.create(
        "Driver diagram",
        &DriverDiagram {
            nodes: demo
                .drivers
                .nodes
                .iter()
                .map(|d| Node {
                    id: d.id.clone(),
                    level: level(&d.level),
                    text: Text::with_value(&d.text),
                    ..Node::default()
                })
                .collect(),
            links: demo
                .drivers
                .links
                .iter()
                .map(|(from, to)| Link {
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
        },
    )
    .await?;
    for idea in &demo.change_ideas {
        n.create(
            &idea.title,
            &ChangeIdea {
                title: Text::with_value(&idea.title),
                description: Text::with_value(&idea.description),
                drivers: idea.drivers.clone(),
                tags: vec![idea.id.clone()],
                ..ChangeIdea::default()
            },
        )
        .await?;
    }
    for c in &demo.cycles {
        n.create_at(
            SiteId::new(c.site.clone())?,
            format!("{} — cycle {}", c.idea, c.number),
            &cycle(c),
        )
        .await?;
    }
    let measure = n
        .create(
            &demo.measure.name,
            &MeasureDefinition {
                name: Text::with_value(&demo.measure.name),
                scoring: Scoring::Proportion,
                unit: "%".into(),
                direction: Direction::Up,
                definition: OperationalDefinition {
                    numerator: Text::with_value(&demo.measure.numerator),
                    denominator: Text::with_value(&demo.measure.denominator),
                    data_source: Text::with_value(&demo.measure.data_source),
                    frequency: demo.measure.frequency.clone(),
                    ..OperationalDefinition::default()
                },
                group_dimensions: demo.measure.group_dimensions.clone(),
                ..MeasureDefinition::default()
            },
        )
        .await?;
    // The aim names the measure as its outcome: its charts draw the target line.
    n.create(
        "Network aim",
        &Aim {
            statement: Text::with_value(&demo.aim.statement),
            baseline: Some(demo.aim.baseline),
            target: Some(demo.aim.target),
            unit: demo.aim.unit.clone(),
            by_when: Some(demo.aim.by_when.clone()),
            for_whom: demo.aim.for_whom.clone(),
            outcome_measure_id: Some(measure.to_string()),
            ..Aim::default()
        },
    )
    .await?;
    let sites: BTreeSet<String> = demo.sites.iter().map(|s| s.id.clone()).collect();
    super::import::import_into(
        client,
        network,
        measure,
        Path::new("demo/on-track.csv"),
        MEASURE_CSV,
        &sites,
        false,
    )
    .await?;
    Ok(measure.to_string())
}
