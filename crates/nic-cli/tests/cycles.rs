//! `nic cycle` with several questions, observations, equity pauses, voices and a result
//! per question, and `nic measure create`/`edit` with every field of a definition — each
//! checked in the hub's own copy, with the error cases' exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
mod member;

use common::Env;
use member::Member;
use nic_model::schema::measure::{Direction, MeasureDefinition, MeasureType};
use nic_model::schema::pdsa::{DataType, PdsaCycle};
use nic_model::{DocKind, DocumentId};

/// The hub's copy of a document, read as its kind.
async fn on_hub<T: autosurgeon::Hydrate>(env: &Env, id: &str, kind: DocKind) -> T {
    let id: DocumentId = id.parse().unwrap();
    nic_model::schema::read(&env.hub.saved(id).await, kind).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_with_several_questions_observations_pauses_and_voices() {
    let env = Env::start().await;
    env.with_network().await;
    let made = env
        .json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "number-talks",
            "--objective",
            "Do number talks help?",
            "--question",
            "How many finish the exit ticket?",
            "--prediction",
            "20 of 28",
            "--question",
            "Do English learners speak up?",
            "--prediction",
            "half of them",
            "--purpose",
            "develop",
            "--voice",
            "teachers",
            "--population",
            "two 9th-grade sections",
            "--start",
            "2026-12-01",
        ])
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let short = &id[..8];
    let added = env
        .json(&[
            "cycle",
            "question",
            short,
            "What do students say about it?",
            "--prediction",
            "they like it",
            "--data-type",
            "qualitative",
        ])
        .await;
    assert_eq!(added["question"], "q3");

    env.ok(&[
        "cycle",
        "do",
        short,
        "Ran it twice",
        "--adjustments",
        "shortened to 4 minutes",
    ])
    .await;
    // Once Do has data a new question would be predicted with hindsight: refused.
    let late = env
        .fails(
            &["cycle", "question", short, "Another?", "--prediction", "x"],
            8,
        )
        .await;
    assert!(late.contains("hindsight"), "{late}");
    let seen = env
        .json(&[
            "cycle",
            "observe",
            short,
            "Two ELs explained their strategy",
        ])
        .await;
    assert!(seen["observation"].as_str().unwrap().starts_with('o'));
    env.ok(&[
        "cycle",
        "pause",
        short,
        "--phase",
        "do",
        "--prompt",
        "Whose voice is missing?",
        "--reflection",
        "Newcomer students stayed silent; pair them next time",
    ])
    .await;
    // Do again, after the notes: what happened is replaced, the notes stay.
    env.ok(&["cycle", "do", short, "Ran it three times"]).await;
    let voices = env
        .json(&["cycle", "voices", short, "Students", "families"])
        .await;
    assert_eq!(
        voices["voices"],
        serde_json::json!(["teachers", "students", "families"])
    );
    let voices = env
        .json(&["cycle", "voices", short, "families", "--remove"])
        .await;
    assert_eq!(
        voices["voices"],
        serde_json::json!(["teachers", "students"])
    );
    env.ok(&["cycle", "study", short, "22 of 28 finished"])
        .await;
    let second = env
        .json(&[
            "cycle",
            "study",
            short,
            "4 of 9 spoke",
            "--question",
            "q2",
            "--learning",
            "Helps; ELs need sentence frames",
        ])
        .await;
    assert_eq!(second["question"], "q2");
    let missing = env
        .fails(&["cycle", "study", short, "?", "--question", "q9"], 6)
        .await;
    assert!(missing.contains("q1, q2, q3"), "{missing}");

    let c: PdsaCycle = on_hub(&env, &id, DocKind::PdsaCycle).await;
    let questions: Vec<(&str, &str, &str)> = c
        .plan
        .questions
        .iter()
        .map(|q| (q.id.as_str(), q.question.as_str(), q.prediction.as_str()))
        .collect();
    assert_eq!(
        questions,
        [
            ("q1", "How many finish the exit ticket?", "20 of 28"),
            ("q2", "Do English learners speak up?", "half of them"),
            ("q3", "What do students say about it?", "they like it"),
        ]
    );
    assert_eq!(c.plan.questions[2].data_type, DataType::Qualitative);
    assert_eq!(c.plan.population.as_str(), "two 9th-grade sections");
    assert_eq!(c.do_.adjustments.as_str(), "shortened to 4 minutes");
    assert_eq!(c.do_.what_happened.as_str(), "Ran it three times");
    assert_eq!(c.do_.observations.len(), 1);
    assert!(c.do_.observations[0].at_ms > 0);
    let pause = &c.equity_pauses[0];
    assert_eq!((pause.phase.as_str(), pause.by.as_str()), ("do", "admin"));
    assert!(pause.reflection.as_str().contains("Newcomer"));
    assert_eq!(c.voices, ["teachers", "students"]);
    let results: Vec<(&str, &str)> = c
        .study
        .results
        .iter()
        .map(|r| (r.question_id.as_str(), r.result.as_str()))
        .collect();
    assert_eq!(
        results,
        [("q1", "22 of 28 finished"), ("q2", "4 of 9 spoke")]
    );
    assert_eq!(c.study.learning.as_str(), "Helps; ELs need sentence frames");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycle_errors_keep_the_exit_code_contract() {
    let env = Env::start().await;
    env.with_network().await;
    let uneven = env
        .fails(
            &[
                "cycle",
                "create",
                "lincoln",
                "--idea",
                "x",
                "--objective",
                "o",
                "--question",
                "a",
                "--question",
                "b",
                "--prediction",
                "p",
            ],
            8,
        )
        .await;
    assert!(
        uneven.contains("one --prediction per --question"),
        "{uneven}"
    );
    let bad_date = env
        .fails(
            &[
                "cycle",
                "create",
                "lincoln",
                "--idea",
                "x",
                "--objective",
                "o",
                "--question",
                "a",
                "--prediction",
                "p",
                "--start",
                "2026-13-40",
            ],
            8,
        )
        .await;
    assert!(bad_date.contains("planned_start"), "{bad_date}");
    env.fails(&["cycle", "observe", "ffffffff", "seen"], 6)
        .await;
    env.fails(&["cycle", "voices", "abc", "students"], 8).await;
    let id = env
        .json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "x",
            "--objective",
            "o",
            "--question",
            "a",
            "--prediction",
            "p",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An observer of the network reads the cycle but may not add to it.
    let ana = Member::add(&env, "ana", "observer", None).await;
    let refused = ana.fails(&["cycle", "observe", &id, "seen"], 7).await;
    assert!(refused.contains("may read but not change"), "{refused}");
    // A measure edited with a cycle's id is refused as the wrong kind.
    let wrong = env.fails(&["measure", "edit", &id, "--unit", "%"], 8).await;
    assert!(wrong.contains("not a measure_definition"), "{wrong}");
    let measure = env
        .json(&[
            "measure",
            "create",
            "m",
            "--numerator",
            "n",
            "--denominator",
            "d",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ana.fails(&["measure", "edit", &measure, "--frequency", "weekly"], 7)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_measure_with_every_field_created_and_edited() {
    let env = Env::start().await;
    env.with_network().await;
    let made = env
        .json(&[
            "measure",
            "create",
            "Exit tickets complete",
            "--numerator",
            "students finishing",
            "--denominator",
            "students present",
            "--type",
            "process",
            "--source",
            "exit ticket tally",
            "--frequency",
            "weekly",
            "--exclusions",
            "absent students",
            "--collected-by",
            "teacher",
            "--direction",
            "up",
            "--group-dimension",
            "english_learner",
        ])
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let m: MeasureDefinition = on_hub(&env, &id, DocKind::MeasureDefinition).await;
    assert_eq!(m.measure_type, MeasureType::Process);
    assert_eq!(m.definition.data_source.as_str(), "exit ticket tally");
    assert_eq!(m.definition.frequency, "weekly");
    assert_eq!(m.definition.exclusions.as_str(), "absent students");
    assert_eq!(m.definition.collected_by.as_str(), "teacher");
    assert_eq!(m.unit, "%");

    let edited = env
        .json(&[
            "measure",
            "edit",
            &id[..6],
            "--type",
            "balancing",
            "--direction",
            "down",
            "--frequency",
            "daily",
            "--name",
            "Exit tickets left blank",
        ])
        .await;
    assert_eq!(edited["type"], "balancing");
    let m: MeasureDefinition = on_hub(&env, &id, DocKind::MeasureDefinition).await;
    assert_eq!(m.measure_type, MeasureType::Balancing);
    assert_eq!(m.direction, Direction::Down);
    assert_eq!(m.definition.frequency, "daily");
    assert_eq!(m.name.as_str(), "Exit tickets left blank");
    assert_eq!(
        m.definition.data_source.as_str(),
        "exit ticket tally",
        "untouched"
    );

    // A proportion without its denominator is refused, and nothing is written.
    let refused = env
        .fails(&["measure", "edit", &id, "--denominator", ""], 8)
        .await;
    assert!(refused.contains("denominator"), "{refused}");
    let m: MeasureDefinition = on_hub(&env, &id, DocKind::MeasureDefinition).await;
    assert_eq!(m.definition.denominator.as_str(), "students present");
    env.fails(&["measure", "edit", "zzzzzz", "--unit", "%"], 6)
        .await;
    env.fails(
        &[
            "measure",
            "create",
            "x",
            "--numerator",
            "n",
            "--type",
            "sideways",
        ],
        2,
    )
    .await;
}
