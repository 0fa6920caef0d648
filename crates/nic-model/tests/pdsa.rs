//! The PDSA cycle on Automerge: it round-trips, two people typing in the same study text both
//! keep their words, and fields a newer version wrote survive this one's writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc, transaction::Transactable};
use autosurgeon::Text;
use nic_model::DocKind;
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose};
use nic_model::schema::{self, SchemaError};

fn cycle() -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "daily-number-talk".into(),
        cycle_number: 1,
        purpose: Purpose::Test,
        planned_start: Some("2026-11-30".into()),
        voices: vec!["students".into(), "teachers".into()],
        ..PdsaCycle::default()
    };
    c.plan.objective = Text::with_value("Will a 5-minute number talk raise exit-ticket scores?");
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many students finish the exit ticket?"),
        prediction: Text::with_value("At least 20 of 28"),
        ..LearningQuestion::default()
    });
    c.act.decision = Some(Decision::Adapt);
    c
}

#[test]
fn a_cycle_round_trips_through_save_and_load() {
    let value = cycle();
    let mut doc = schema::new_document(DocKind::PdsaCycle, &value).unwrap();
    let loaded = automerge::Automerge::load(&doc.save()).unwrap();
    let back: PdsaCycle = schema::read(&loaded, DocKind::PdsaCycle).unwrap();
    assert_eq!(back, value);
    assert_eq!(
        schema::envelope(&loaded),
        (Some("pdsa_cycle".into()), Some(schema::SCHEMA_VERSION))
    );
    // Read as another kind: refused, saying what it is.
    let err = schema::read::<PdsaCycle, _>(&loaded, DocKind::Aim).unwrap_err();
    assert!(matches!(err, SchemaError::WrongKind { .. }), "{err}");
}

#[test]
fn two_people_typing_in_the_same_study_text_both_keep_their_words() {
    let mut value = cycle();
    value.study.learning = Text::with_value("Students finished.");
    let mut lincoln = schema::new_document(DocKind::PdsaCycle, &value).unwrap();
    let mut adams = lincoln.fork().with_actor(ActorId::random());

    let mut a: PdsaCycle = schema::read(&lincoln, DocKind::PdsaCycle).unwrap();
    let end = a.study.learning.as_str().len();
    a.study.learning.splice(end, 0, " Most needed more time.");
    schema::write(&mut lincoln, DocKind::PdsaCycle, &a).unwrap();

    let mut b: PdsaCycle = schema::read(&adams, DocKind::PdsaCycle).unwrap();
    b.study.learning.splice(0, 0, "Week 1: ");
    schema::write(&mut adams, DocKind::PdsaCycle, &b).unwrap();

    lincoln.merge(&mut adams).unwrap();
    adams.merge(&mut lincoln).unwrap();
    let merged: PdsaCycle = schema::read(&lincoln, DocKind::PdsaCycle).unwrap();
    assert_eq!(
        merged.study.learning.as_str(),
        "Week 1: Students finished. Most needed more time."
    );
    let other: PdsaCycle = schema::read(&adams, DocKind::PdsaCycle).unwrap();
    assert_eq!(other, merged);
}

#[test]
fn fields_written_by_a_newer_version_survive_a_write_by_this_one() {
    let mut doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    // A newer client adds a field at the root and inside the plan, and bumps the schema.
    doc.put(ROOT, "schema", schema::SCHEMA_VERSION + 1).unwrap();
    doc.put(ROOT, "future_field", "from v2").unwrap();
    let plan = doc.get(ROOT, "plan").unwrap().unwrap().1;
    doc.put(&plan, "risk_level", "low").unwrap();

    let mut value: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    value.plan.objective.splice(0, 0, "Revised: ");
    schema::write(&mut doc, DocKind::PdsaCycle, &value).unwrap();

    let text =
        |obj: &automerge::ObjId, key: &str| doc.get(obj, key).unwrap().map(|(v, _)| v.to_string());
    assert_eq!(text(&ROOT, "future_field").as_deref(), Some("\"from v2\""));
    assert_eq!(text(&plan, "risk_level").as_deref(), Some("\"low\""));
    assert_eq!(schema::envelope(&doc).1, Some(schema::SCHEMA_VERSION + 1));
}

#[test]
fn a_document_without_the_envelope_is_not_taken_for_a_cycle() {
    let doc = AutoCommit::new();
    let err = schema::read::<PdsaCycle, _>(&doc, DocKind::PdsaCycle).unwrap_err();
    assert!(err.to_string().contains("not a pdsa_cycle"), "{err}");
}

#[test]
fn predictions_are_fixed_once_the_do_phase_has_data() {
    let mut doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    // Before Do: the prediction may change.
    schema::pdsa::edit(&mut doc, |c| {
        c.plan.questions[0].prediction = Text::with_value("At least 22 of 28");
    })
    .unwrap();
    // Do gets data.
    schema::pdsa::edit(&mut doc, |c| {
        c.do_.what_happened = Text::with_value("Ran it Monday to Thursday.");
    })
    .unwrap();
    let heads = doc.get_heads();
    let refused = schema::pdsa::edit(&mut doc, |c| {
        c.plan.questions[0].prediction.splice(0, 0, "(revised) ");
    })
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("prediction of question q1 is fixed"),
        "{refused}"
    );
    // Dropping the question counts as changing its prediction.
    assert!(schema::pdsa::edit(&mut doc, |c| c.plan.questions.clear()).is_err());
    assert_eq!(doc.get_heads(), heads, "a refused edit writes nothing");
    // Everything else stays editable.
    schema::pdsa::edit(&mut doc, |c| {
        c.study.learning = Text::with_value("Most finished.");
    })
    .unwrap();
    let c: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    assert_eq!(c.plan.questions[0].prediction.as_str(), "At least 22 of 28");
}

#[test]
fn validation_reports_every_finding_most_serious_first() {
    use nic_model::schema::findings::Severity;
    let mut c = cycle();
    c.plan.questions.push(LearningQuestion {
        id: "q2".into(),
        question: Text::with_value("Do students explain their thinking?"),
        ..LearningQuestion::default()
    });
    assert!(
        c.validate()
            .iter()
            .any(|f| f.field == "plan.questions[q2].prediction" && f.severity == Severity::Warning)
    );
    // In Study with a question that has no prediction: an error.
    c.study.learning = Text::with_value("Most finished.");
    c.cycle_number = 3;
    c.change_idea_id.clear();
    let found = c.validate();
    let fields: Vec<&str> = found.iter().map(|f| f.field.as_str()).collect();
    for field in [
        "change_idea_id",
        "plan.questions[q2].prediction",
        "previous_cycle_id",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    assert!(found.windows(2).all(|w| w[0].severity >= w[1].severity));
    assert!(
        found
            .iter()
            .any(|f| f.field == "plan.questions[q2].prediction" && f.severity == Severity::Error)
    );
    // A complete cycle has nothing worse than information; the fixture decided without
    // writing what it learned, which validation points out.
    let mut complete = cycle();
    assert!(
        complete
            .validate()
            .iter()
            .any(|f| f.field == "act.decision")
    );
    complete.study.learning = Text::with_value("20 of 28 finished; the prediction held.");
    assert!(
        complete
            .validate()
            .iter()
            .all(|f| f.severity < Severity::Warning)
    );
}

#[test]
fn an_adapt_decision_opens_the_next_cycle_on_the_ramp() {
    let mut c = cycle();
    c.cycle_number = 2;
    c.do_.what_happened = Text::with_value("ran it");
    c.equity_codes = vec!["changes-the-system".into()];
    let next = c.next_from_adapt("cycle-2").unwrap();
    assert_eq!(
        next.equity_codes, c.equity_codes,
        "the ramp keeps its equity logic"
    );
    assert_eq!(next.cycle_number, 3);
    assert_eq!(next.previous_cycle_id.as_deref(), Some("cycle-2"));
    assert_eq!(next.change_idea_id, c.change_idea_id);
    assert_eq!(next.plan.objective.as_str(), c.plan.objective.as_str());
    assert_eq!(
        next.plan.questions[0].question.as_str(),
        c.plan.questions[0].question.as_str()
    );
    assert_eq!(next.plan.questions[0].prediction.as_str(), "");
    assert!(!next.do_.has_data() && next.act.decision.is_none());
    c.act.decision = Some(Decision::Adopt);
    assert!(c.next_from_adapt("cycle-2").is_none());
}

#[test]
fn a_document_from_an_older_version_reads_with_defaults_for_new_fields() {
    // An older client wrote a cycle before `voices`, `equity_pauses`, `equity_codes` and
    // the plan's `data_collection` existed.
    let mut doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    doc.delete(ROOT, "voices").unwrap();
    doc.delete(ROOT, "equity_pauses").unwrap();
    doc.delete(ROOT, "equity_codes").unwrap();
    let plan = doc.get(ROOT, "plan").unwrap().unwrap().1;
    doc.delete(&plan, "data_collection").unwrap();
    let read: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    assert!(read.voices.is_empty() && read.equity_pauses.is_empty());
    assert!(read.equity_codes.is_empty());
    assert_eq!(read.plan.data_collection.as_str(), "");
    assert_eq!(
        read.plan.objective.as_str(),
        cycle().plan.objective.as_str()
    );
    // Writing it back adds the new fields.
    schema::write(&mut doc, DocKind::PdsaCycle, &read).unwrap();
    assert!(doc.get(ROOT, "voices").unwrap().is_some());
}

#[test]
fn a_raw_edit_that_bypasses_the_api_is_found_as_a_hindsight_edit() {
    let mut doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    schema::pdsa::edit(&mut doc, |c| c.do_.as_planned = Some(true)).unwrap();
    let before: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    // A tool edits the prediction text directly with Automerge.
    let plan = doc.get(ROOT, "plan").unwrap().unwrap().1;
    let questions = doc.get(&plan, "questions").unwrap().unwrap().1;
    let q1 = doc.get(&questions, 0).unwrap().unwrap().1;
    let prediction = doc.get(&q1, "prediction").unwrap().unwrap().1;
    doc.splice_text(&prediction, 9, 2, "25").unwrap();
    let after: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    assert_eq!(
        before.hindsight_edits(&after),
        vec![(
            "q1".to_owned(),
            "At least 20 of 28".to_owned(),
            "At least 25 of 28".to_owned()
        )]
    );
    // Before Do has data, changing a prediction is just planning.
    assert!(cycle().hindsight_edits(&after).is_empty());
}

#[test]
fn a_typed_edit_inside_a_transaction_is_one_change_with_its_message() {
    let doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    let mut am = automerge::Automerge::load(&doc.clone().save()).unwrap();
    let before = am.get_heads();
    am.transact_with::<_, _, schema::pdsa::PdsaError, _>(
        |_| automerge::transaction::CommitOptions::default().with_message("Study: results in"),
        |tx| {
            schema::pdsa::edit(tx, |c| {
                c.study.learning = Text::with_value("Most finished.");
                c.do_.as_planned = Some(true);
            })
        },
    )
    .unwrap();
    let new = am.get_changes(&before);
    assert_eq!(new.len(), 1, "one change for the whole edit");
    assert_eq!(new[0].message(), Some("Study: results in"));
    let c: PdsaCycle = schema::read(&am, DocKind::PdsaCycle).unwrap();
    assert_eq!(c.study.learning.as_str(), "Most finished.");
}

#[test]
fn the_next_cycle_read_from_a_document_writes_into_a_new_one() {
    let doc = schema::new_document(DocKind::PdsaCycle, &cycle()).unwrap();
    let read: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    let next = read.next_from_adapt("cycle-1").unwrap();
    // Text read from the first document must not carry its heads into the second.
    let second = schema::new_document(DocKind::PdsaCycle, &next).unwrap();
    let back: PdsaCycle = schema::read(&second, DocKind::PdsaCycle).unwrap();
    assert_eq!(
        back.plan.objective.as_str(),
        cycle().plan.objective.as_str()
    );
    assert_eq!(back.cycle_number, 2);
}
