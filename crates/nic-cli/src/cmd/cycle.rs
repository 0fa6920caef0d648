//! PDSA cycles from the terminal: create one, record Do, Study and Act.

use clap::{Subcommand, ValueEnum};
use nic_model::schema::Text;
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose, QuestionResult};
use nic_model::{DocumentId, SiteId};
use serde_json::json;

use crate::error::CliError;
use crate::output::Out;
use crate::session::{Session, settle_writes};

/// An Act decision.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DecisionArg {
    /// Keep the change as tested.
    Adopt,
    /// Change it and test again (starts the next cycle).
    Adapt,
    /// Stop testing it.
    Abandon,
}

/// `nic cycle …`
#[derive(Subcommand)]
pub enum CycleCmd {
    /// Plan a new cycle at a site: what it tests, the question and your prediction.
    Create {
        /// The site.
        site: String,
        /// The change idea it tests (as your network names it, e.g. number-talks).
        #[arg(long)]
        idea: String,
        /// What this cycle sets out to learn.
        #[arg(long)]
        objective: String,
        /// The question the data will answer.
        #[arg(long)]
        question: String,
        /// Your prediction, written before the Do phase (fixed once Do has data).
        #[arg(long)]
        prediction: String,
        /// Its number on the ramp.
        #[arg(long, default_value_t = 1)]
        number: u32,
        /// Planned start, YYYY-MM-DD.
        #[arg(long)]
        start: Option<String>,
        /// Planned end, YYYY-MM-DD.
        #[arg(long)]
        end: Option<String>,
    },
    /// Record the Do phase: what happened.
    Do {
        /// The cycle's document id.
        cycle: String,
        /// What happened when you ran it.
        what: String,
        /// Say so if it did not go as planned.
        #[arg(long)]
        not_as_planned: bool,
    },
    /// Record the Study phase: what the data showed, what you learned.
    Study {
        /// The cycle's document id.
        cycle: String,
        /// What the data showed for the question.
        result: String,
        /// What you learned.
        #[arg(long, default_value = "")]
        learning: String,
    },
    /// Record the Act decision; "adapt" starts the next cycle and prints its id.
    Act {
        /// The cycle's document id.
        cycle: String,
        /// The decision.
        #[arg(value_enum)]
        decision: DecisionArg,
        /// Why.
        #[arg(long, default_value = "")]
        rationale: String,
    },
}

/// `nic cycle …`
pub async fn cycle(out: Out, network: Option<&str>, c: CycleCmd) -> Result<(), CliError> {
    let session = Session::load()?;
    let client = session.replica().await?;
    let network = session.config.network(network)?;
    // The network's documents sync into the replica; the cycle edited must be there.
    let handle = client.network(network).await?;
    let result: Result<serde_json::Value, CliError> = async {
        match c {
            CycleCmd::Create {
                site,
                idea,
                objective,
                question,
                prediction,
                number,
                start,
                end,
            } => {
                let mut cycle = PdsaCycle {
                    change_idea_id: idea.clone(),
                    cycle_number: number,
                    purpose: Purpose::Test,
                    planned_start: start,
                    planned_end: end,
                    ..PdsaCycle::default()
                };
                cycle.plan.objective = Text::with_value(&objective);
                cycle.plan.questions.push(LearningQuestion {
                    id: "q1".into(),
                    question: Text::with_value(&question),
                    prediction: Text::with_value(&prediction),
                    ..LearningQuestion::default()
                });
                let id = handle
                    .create_at(
                        SiteId::new(site)?,
                        format!("{idea} — cycle {number}"),
                        &cycle,
                    )
                    .await?;
                Ok(json!({"id": id.to_string()}))
            }
            CycleCmd::Do {
                cycle,
                what,
                not_as_planned,
            } => {
                let id = super::names::doc(&handle, &cycle).await?;
                wait_for(&client, id).await;
                client
                    .change::<PdsaCycle>(id, "Do: what happened", move |c| {
                        c.do_.as_planned = Some(!not_as_planned);
                        c.do_.what_happened = Text::with_value(&what);
                    })
                    .await?;
                Ok(json!({"id": id.to_string(), "phase": "do"}))
            }
            CycleCmd::Study {
                cycle,
                result,
                learning,
            } => {
                let id = super::names::doc(&handle, &cycle).await?;
                wait_for(&client, id).await;
                client
                    .change::<PdsaCycle>(id, "Study: results", move |c| {
                        if let Some(q) = c.plan.questions.first().map(|q| q.id.clone()) {
                            c.study.results.retain(|r| r.question_id != q);
                            c.study.results.push(QuestionResult {
                                question_id: q,
                                result: Text::with_value(&result),
                            });
                        }
                        if !learning.is_empty() {
                            c.study.learning = Text::with_value(&learning);
                        }
                    })
                    .await?;
                Ok(json!({"id": id.to_string(), "phase": "study"}))
            }
            CycleCmd::Act {
                cycle,
                decision,
                rationale,
            } => {
                let id = super::names::doc(&handle, &cycle).await?;
                wait_for(&client, id).await;
                let decision = match decision {
                    DecisionArg::Adopt => Decision::Adopt,
                    DecisionArg::Adapt => Decision::Adapt,
                    DecisionArg::Abandon => Decision::Abandon,
                };
                client
                    .change::<PdsaCycle>(id, "Act: decision", move |c| {
                        c.act.decision = Some(decision);
                        c.act.rationale = Text::with_value(&rationale);
                    })
                    .await?;
                let next = if decision == Decision::Adapt {
                    Some(client.start_next_cycle(id).await?.to_string())
                } else {
                    None
                };
                Ok(json!({"id": id.to_string(), "phase": "act", "next_cycle": next}))
            }
        }
    }
    .await;
    let synced = match &result {
        Ok(_) => settle_writes(&client).await,
        Err(_) => Ok(()),
    };
    client.close().await?;
    let value: serde_json::Value = result?;
    let text = match (
        value.get("next_cycle").and_then(|v| v.as_str()),
        value.get("phase"),
    ) {
        (Some(next), _) => format!("recorded; next cycle {next}"),
        (None, Some(phase)) => format!("recorded the {} phase", phase.as_str().unwrap_or("")),
        (None, None) => format!("cycle {} created", value["id"].as_str().unwrap_or("")),
    };
    out.value(value, &text);
    synced
}

/// Waits (briefly) for a cycle to reach a fresh replica from the hub.
async fn wait_for(client: &nic_client::Client, id: DocumentId) {
    let _ = client
        .wait_for(id, crate::session::WAIT, |am| {
            nic_client::automerge::ReadDoc::get(am, nic_client::automerge::ROOT, "kind")
                .ok()
                .flatten()
                .is_some()
        })
        .await;
}
