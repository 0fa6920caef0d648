//! Typed documents across implementations. `tests/js/fixtures/pdsa_from_rust.automerge` is a
//! PDSA cycle written by this crate; `tests/js/typed.test.mjs` loads it with
//! `@automerge/automerge` and checks its fields, and writes `pdsa_from_js.automerge`, which
//! this test reads back as a typed cycle. Regenerate the Rust fixture with
//! `NIC_WRITE_FIXTURES=1 cargo test -p nic-model --test js_fixtures` (and the JS one with
//! `NIC_WRITE_FIXTURES=1 npm test` in `tests/js`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;

use autosurgeon::Text;
use nic_model::DocKind;
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose};
use nic_model::schema::{self};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/js/fixtures")
}

/// The cycle both fixtures hold.
fn expected() -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "daily-number-talk".into(),
        cycle_number: 2,
        previous_cycle_id: Some("cycle-1".into()),
        purpose: Purpose::Test,
        planned_start: Some("2026-11-30".into()),
        voices: vec!["students".into(), "teachers".into()],
        ..PdsaCycle::default()
    };
    c.plan.objective = Text::with_value("Will a number talk raise exit-ticket completion?");
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many finish the exit ticket?"),
        prediction: Text::with_value("At least 20 of 28"),
        ..LearningQuestion::default()
    });
    c.study.learning = Text::with_value("22 of 28 finished.");
    c.act.decision = Some(Decision::Adapt);
    c
}

#[test]
fn the_rust_fixture_holds_the_expected_cycle() {
    let path = fixtures().join("pdsa_from_rust.automerge");
    if std::env::var_os("NIC_WRITE_FIXTURES").is_some() {
        let mut doc = schema::new_document(DocKind::PdsaCycle, &expected()).unwrap();
        std::fs::write(&path, doc.save()).unwrap();
    }
    let doc = automerge::Automerge::load(&std::fs::read(&path).unwrap()).unwrap();
    let read: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    assert_eq!(read, expected());
}

#[test]
fn a_cycle_written_in_javascript_reads_as_a_typed_cycle() {
    let bytes = std::fs::read(fixtures().join("pdsa_from_js.automerge")).unwrap();
    let doc = automerge::Automerge::load(&bytes).unwrap();
    let read: PdsaCycle = schema::read(&doc, DocKind::PdsaCycle).unwrap();
    assert_eq!(read, expected());
    assert_eq!(schema::envelope(&doc).1, Some(schema::SCHEMA_VERSION));
}
