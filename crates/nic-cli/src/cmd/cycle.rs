//! PDSA cycles from the terminal: plan one (several questions, each with its prediction),
//! record Do (what happened, observations as they are made), Study (a result per question)
//! and Act, and along the way equity pauses and the voices heard.

use clap::{Args, Subcommand, ValueEnum};
use nic_model::SiteId;
use nic_model::schema::Text;
use nic_model::schema::pdsa::{
    DataType, Decision, EquityPause, LearningQuestion, Observation, PdsaCycle, Purpose,
    QuestionResult,
};
use serde_json::json;

use super::edit::{self, Open};
use crate::error::{CliError, Exit};
use crate::output::Out;

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

/// Why a cycle is run (its stage on the ramp).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PurposeArg {
    /// Learn more before choosing a change.
    CollectInformation,
    /// Shape a change on a small scale.
    Develop,
    /// Test whether the change is an improvement.
    Test,
    /// Make the change part of daily work.
    Implement,
}

/// What kind of data answers a question.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DataTypeArg {
    /// Numbers.
    Quantitative,
    /// Observations, interviews, work samples.
    Qualitative,
    /// Both.
    Both,
}

/// A PDSA phase.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PhaseArg {
    /// Plan.
    Plan,
    /// Do.
    Do,
    /// Study.
    Study,
    /// Act.
    Act,
}

/// The plan's who, what, when, where, with whom, and how data is collected.
#[derive(Args, Default)]
pub struct PlanArgs {
    /// Who carries it out.
    #[arg(long)]
    who: Option<String>,
    /// What is done.
    #[arg(long)]
    what: Option<String>,
    /// When.
    #[arg(long)]
    when: Option<String>,
    /// Where.
    #[arg(long = "where")]
    where_: Option<String>,
    /// Who the change is tried with: roles and groups, never names.
    #[arg(long)]
    population: Option<String>,
    /// Which measures, who collects them, how.
    #[arg(long)]
    data_collection: Option<String>,
}

/// `nic cycle …`
#[derive(Subcommand)]
pub enum CycleCmd {
    /// Plan a new cycle at a site: what it tests, its questions and your predictions.
    Create {
        /// The site.
        site: String,
        /// The change idea it tests (as your network names it, e.g. number-talks).
        #[arg(long)]
        idea: String,
        /// What this cycle sets out to learn.
        #[arg(long)]
        objective: String,
        /// A question the data will answer; repeat for several (q1, q2, … in order).
        #[arg(long, required = true)]
        question: Vec<String>,
        /// Your prediction for each question, in the same order (fixed once Do has data).
        #[arg(long, required = true)]
        prediction: Vec<String>,
        /// Its number on the ramp.
        #[arg(long, default_value_t = 1)]
        number: u32,
        /// Why it is run.
        #[arg(long, value_enum, default_value = "test")]
        purpose: PurposeArg,
        /// Planned start, YYYY-MM-DD.
        #[arg(long)]
        start: Option<String>,
        /// Planned end, YYYY-MM-DD.
        #[arg(long)]
        end: Option<String>,
        /// A stakeholder group taking part (students, families, teachers…), repeatable.
        #[arg(long)]
        voice: Vec<String>,
        /// An equity lens code the network defines (`nic equity list`), repeatable.
        #[arg(long)]
        code: Vec<String>,
        #[command(flatten)]
        plan: Box<PlanArgs>,
    },
    /// Add a question and its prediction to a cycle's plan (before the Do phase has data:
    /// a prediction written after is hindsight).
    Question {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// The question.
        question: String,
        /// Your prediction.
        #[arg(long)]
        prediction: String,
        /// What kind of data will answer it.
        #[arg(long, value_enum, default_value = "quantitative")]
        data_type: DataTypeArg,
    },
    /// Record the Do phase: what happened.
    Do {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// What happened when you ran it.
        what: String,
        /// Say so if it did not go as planned.
        #[arg(long)]
        not_as_planned: bool,
        /// Changes made on purpose, and ones that just happened.
        #[arg(long)]
        adjustments: Option<String>,
    },
    /// Note an observation during the Do phase (time-stamped now).
    Observe {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// What was seen.
        text: String,
    },
    /// Take an equity pause: the prompt, and the team's reflection.
    Pause {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// The phase it is taken in.
        #[arg(long, value_enum)]
        phase: PhaseArg,
        /// The prompt, e.g. "Whose voice is missing?".
        #[arg(long)]
        prompt: String,
        /// The team's reflection: who was noticed, who was left out, what changes.
        #[arg(long, default_value = "")]
        reflection: String,
    },
    /// Record the stakeholder groups heard (students, families, teachers, community…).
    Voices {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// The groups.
        #[arg(required = true)]
        groups: Vec<String>,
        /// Remove these groups instead.
        #[arg(long)]
        remove: bool,
    },
    /// Record the Study phase: what the data showed for a question, what you learned.
    Study {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// What the data showed for the question.
        result: String,
        /// The question answered (q1, q2, …; default: the first).
        #[arg(long)]
        question: Option<String>,
        /// What you learned.
        #[arg(long, default_value = "")]
        learning: String,
    },
    /// Record the Act decision; "adapt" starts the next cycle and prints its id.
    Act {
        /// The cycle (id or unique prefix).
        cycle: String,
        /// The decision.
        #[arg(value_enum)]
        decision: DecisionArg,
        /// Why.
        #[arg(long, default_value = "")]
        rationale: String,
    },
}

fn text(t: &Option<String>, into: &mut Text) {
    if let Some(t) = t {
        *into = Text::with_value(t);
    }
}

/// `nic cycle …`
pub async fn cycle(out: Out, network: Option<&str>, c: CycleCmd) -> Result<(), CliError> {
    let mut o = edit::open(network, false).await?;
    let result = run(&mut o, c).await;
    let ((value, said), synced) = o.finish(result).await?;
    out.value(value, &said);
    synced
}

async fn run(o: &mut Open, c: CycleCmd) -> Result<(serde_json::Value, String), CliError> {
    match c {
        CycleCmd::Create {
            site,
            idea,
            objective,
            question,
            prediction,
            number,
            purpose,
            start,
            end,
            voice,
            code,
            plan,
        } => {
            if question.len() != prediction.len() {
                return Err(CliError::invalid(format!(
                    "{} questions and {} predictions: give one --prediction per --question, in the same order",
                    question.len(),
                    prediction.len()
                )));
            }
            super::equity::check(&o.network, &code).await?;
            let mut cycle = PdsaCycle {
                change_idea_id: idea.clone(),
                cycle_number: number,
                purpose: match purpose {
                    PurposeArg::CollectInformation => Purpose::CollectInformation,
                    PurposeArg::Develop => Purpose::Develop,
                    PurposeArg::Test => Purpose::Test,
                    PurposeArg::Implement => Purpose::Implement,
                },
                planned_start: start,
                planned_end: end,
                voices: voice,
                equity_codes: code,
                ..PdsaCycle::default()
            };
            cycle.plan.objective = Text::with_value(&objective);
            for (i, (q, p)) in question.iter().zip(&prediction).enumerate() {
                cycle.plan.questions.push(LearningQuestion {
                    id: format!("q{}", i + 1),
                    question: Text::with_value(q),
                    prediction: Text::with_value(p),
                    ..LearningQuestion::default()
                });
            }
            let p = &mut cycle.plan;
            text(&plan.who, &mut p.who);
            text(&plan.what, &mut p.what);
            text(&plan.when, &mut p.when);
            text(&plan.where_, &mut p.where_);
            text(&plan.population, &mut p.population);
            text(&plan.data_collection, &mut p.data_collection);
            refuse_errors(&cycle)?;
            let id = o
                .network
                .create_at(
                    SiteId::new(site)?,
                    format!("{idea} — cycle {number}"),
                    &cycle,
                )
                .await?;
            Ok((json!({"id": id.to_string()}), format!("cycle {id} created")))
        }
        CycleCmd::Question {
            cycle,
            question,
            prediction,
            data_type,
        } => {
            let id = o.doc(&cycle).await?;
            let now = o.client.get::<PdsaCycle>(id).await?.value;
            if now.do_.has_data() {
                return Err(CliError::invalid(
                    "the Do phase already has data: a prediction written now would be hindsight; plan the question in the next cycle, or record what you noticed with `nic cycle observe`",
                ));
            }
            let n = now
                .plan
                .questions
                .iter()
                .filter_map(|q| q.id.strip_prefix('q')?.parse::<u32>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            let qid = format!("q{n}");
            let entry = LearningQuestion {
                id: qid.clone(),
                question: Text::with_value(&question),
                prediction: Text::with_value(&prediction),
                data_type: match data_type {
                    DataTypeArg::Quantitative => DataType::Quantitative,
                    DataTypeArg::Qualitative => DataType::Qualitative,
                    DataTypeArg::Both => DataType::Both,
                },
            };
            o.client
                .change::<PdsaCycle>(id, "Plan: question added", move |c| {
                    c.plan.questions.push(entry);
                })
                .await?;
            Ok((
                json!({"id": id.to_string(), "question": qid}),
                format!("question {qid} added"),
            ))
        }
        CycleCmd::Do {
            cycle,
            what,
            not_as_planned,
            adjustments,
        } => {
            let id = o.doc(&cycle).await?;
            o.client
                .change::<PdsaCycle>(id, "Do: what happened", move |c| {
                    c.do_.as_planned = Some(!not_as_planned);
                    c.do_.what_happened = Text::with_value(&what);
                    text(&adjustments, &mut c.do_.adjustments);
                })
                .await?;
            Ok(phase(id, "do"))
        }
        CycleCmd::Observe { cycle, text } => {
            let id = o.doc(&cycle).await?;
            let oid = edit::fresh_id("o");
            let entry = Observation {
                id: oid.clone(),
                at_ms: edit::now_ms(),
                text: Text::with_value(&text),
            };
            o.client
                .change::<PdsaCycle>(id, "Do: observation", move |c| {
                    c.do_.observations.push(entry);
                })
                .await?;
            Ok((
                json!({"id": id.to_string(), "observation": oid}),
                format!("observation {oid} noted"),
            ))
        }
        CycleCmd::Pause {
            cycle,
            phase,
            prompt,
            reflection,
        } => {
            let id = o.doc(&cycle).await?;
            let by = edit::me(&mut o.session).await?.member;
            let pid = edit::fresh_id("e");
            let entry = EquityPause {
                id: pid.clone(),
                phase: format!("{phase:?}").to_lowercase(),
                prompt: Text::with_value(&prompt),
                by,
                reflection: Text::with_value(&reflection),
            };
            o.client
                .change::<PdsaCycle>(id, "Equity pause", move |c| {
                    c.equity_pauses.push(entry);
                })
                .await?;
            Ok((
                json!({"id": id.to_string(), "pause": pid}),
                format!("equity pause {pid} recorded"),
            ))
        }
        CycleCmd::Voices {
            cycle,
            groups,
            remove,
        } => {
            let id = o.doc(&cycle).await?;
            let groups: Vec<String> = groups.iter().map(|g| g.trim().to_lowercase()).collect();
            if groups.iter().any(String::is_empty) {
                return Err(CliError::invalid(
                    "a voice is a group's name, e.g. students",
                ));
            }
            o.client
                .change::<PdsaCycle>(id, "Voices", move |c| {
                    if remove {
                        c.voices.retain(|v| !groups.contains(v));
                    } else {
                        for g in groups {
                            if !c.voices.contains(&g) {
                                c.voices.push(g);
                            }
                        }
                    }
                })
                .await?;
            let voices = o.client.get::<PdsaCycle>(id).await?.value.voices;
            Ok((
                json!({"id": id.to_string(), "voices": voices}),
                format!("voices: {}", voices.join(", ")),
            ))
        }
        CycleCmd::Study {
            cycle,
            result,
            question,
            learning,
        } => {
            let id = o.doc(&cycle).await?;
            let now = o.client.get::<PdsaCycle>(id).await?.value;
            let q = match &question {
                Some(q) => now.plan.questions.iter().find(|x| &x.id == q),
                None => now.plan.questions.first(),
            }
            .map(|q| q.id.clone())
            .ok_or_else(|| {
                let have: Vec<&str> = now.plan.questions.iter().map(|q| q.id.as_str()).collect();
                CliError::new(
                    Exit::NotFound,
                    format!(
                        "the cycle has no question {}; its questions: {} (add one with `nic cycle question`)",
                        question.as_deref().unwrap_or("at all"),
                        if have.is_empty() { "none".into() } else { have.join(", ") }
                    ),
                )
            })?;
            let answered = q.clone();
            o.client
                .change::<PdsaCycle>(id, "Study: results", move |c| {
                    c.study.results.retain(|r| r.question_id != q);
                    c.study.results.push(QuestionResult {
                        question_id: q,
                        result: Text::with_value(&result),
                    });
                    if !learning.is_empty() {
                        c.study.learning = Text::with_value(&learning);
                    }
                })
                .await?;
            let (value, said) = phase(id, "study");
            let mut value = value;
            value["question"] = json!(answered);
            Ok((value, said))
        }
        CycleCmd::Act {
            cycle,
            decision,
            rationale,
        } => {
            let id = o.doc(&cycle).await?;
            let decision = match decision {
                DecisionArg::Adopt => Decision::Adopt,
                DecisionArg::Adapt => Decision::Adapt,
                DecisionArg::Abandon => Decision::Abandon,
            };
            o.client
                .change::<PdsaCycle>(id, "Act: decision", move |c| {
                    c.act.decision = Some(decision);
                    c.act.rationale = Text::with_value(&rationale);
                })
                .await?;
            if decision == Decision::Adapt {
                let next = o.client.start_next_cycle(id).await?.to_string();
                Ok((
                    json!({"id": id.to_string(), "phase": "act", "next_cycle": next}),
                    format!("recorded; next cycle {next}"),
                ))
            } else {
                Ok((
                    json!({"id": id.to_string(), "phase": "act", "next_cycle": null}),
                    "recorded the act phase".into(),
                ))
            }
        }
    }
}

fn phase(id: nic_model::DocumentId, name: &str) -> (serde_json::Value, String) {
    (
        json!({"id": id.to_string(), "phase": name}),
        format!("recorded the {name} phase"),
    )
}

/// Refuses a new cycle the schema's checks call an error (a bad date, no change idea).
fn refuse_errors(cycle: &PdsaCycle) -> Result<(), CliError> {
    match cycle
        .validate()
        .into_iter()
        .find(|f| f.severity == nic_model::schema::findings::Severity::Error)
    {
        Some(f) => Err(CliError::invalid(format!("{}: {}", f.field, f.message))),
        None => Ok(()),
    }
}
