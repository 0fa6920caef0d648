//! Two replicas make random concurrent edits to one PDSA cycle through the typed API; after
//! they exchange changes both hydrate to the same typed value, and a save → load → hydrate
//! round trip gives it back unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::{ActorId, AutoCommit};
use autosurgeon::Text;
use nic_model::DocKind;
use nic_model::schema::{
    self,
    pdsa::{Decision, EquityPause, LearningQuestion, Observation, PdsaCycle},
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Edit {
    /// Type `text` at a position (as a fraction of the length) in a prose field.
    Type {
        field: u8,
        at: u8,
        text: String,
    },
    /// Delete up to `len` characters at a position.
    Delete {
        field: u8,
        at: u8,
        len: u8,
    },
    AddQuestion(String),
    AddObservation(String),
    Decide(u8),
    AddPause(String),
    AddVoice(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..4u8, any::<u8>(), "[a-z ]{1,8}").prop_map(|(field, at, text)| Edit::Type {
            field,
            at,
            text
        }),
        (0..4u8, any::<u8>(), 1..5u8).prop_map(|(field, at, len)| Edit::Delete { field, at, len }),
        "[a-z]{1,6}".prop_map(Edit::AddQuestion),
        "[a-z ]{1,10}".prop_map(Edit::AddObservation),
        (0..3u8).prop_map(Edit::Decide),
        "[a-z ]{1,10}".prop_map(Edit::AddPause),
        prop_oneof![Just("students".to_owned()), Just("families".to_owned())]
            .prop_map(Edit::AddVoice),
    ]
}

fn prose(c: &mut PdsaCycle, field: u8) -> &mut Text {
    match field {
        0 => &mut c.plan.objective,
        1 => &mut c.do_.what_happened,
        2 => &mut c.study.learning,
        _ => &mut c.act.rationale,
    }
}

fn apply(doc: &mut AutoCommit, e: &Edit, n: usize) {
    let mut c: PdsaCycle = schema::read(doc, DocKind::PdsaCycle).unwrap();
    match e {
        Edit::Type { field, at, text } => {
            let t = prose(&mut c, *field);
            let len = t.as_str().chars().count();
            let pos = usize::from(*at) * len / 256;
            let byte = t
                .as_str()
                .char_indices()
                .nth(pos)
                .map_or(t.as_str().len(), |(i, _)| i);
            t.splice(byte, 0, text);
        }
        Edit::Delete { field, at, len } => {
            let t = prose(&mut c, *field);
            let chars = t.as_str().chars().count();
            if chars > 0 {
                let pos = usize::from(*at) * chars / 256;
                let del = usize::from(*len).min(chars - pos);
                let byte = t
                    .as_str()
                    .char_indices()
                    .nth(pos)
                    .map_or(t.as_str().len(), |(i, _)| i);
                t.splice(byte, isize::try_from(del).unwrap(), "");
            }
        }
        Edit::AddQuestion(q) => c.plan.questions.push(LearningQuestion {
            id: format!("{q}-{n}"),
            question: Text::with_value(q),
            ..LearningQuestion::default()
        }),
        Edit::AddObservation(o) => c.do_.observations.push(Observation {
            id: format!("o-{n}"),
            at_ms: i64::try_from(n).unwrap(),
            text: Text::with_value(o),
        }),
        Edit::Decide(d) => {
            c.act.decision =
                Some([Decision::Adopt, Decision::Adapt, Decision::Abandon][usize::from(*d)]);
        }
        Edit::AddPause(p) => c.equity_pauses.push(EquityPause {
            id: format!("p-{n}"),
            phase: "plan".into(),
            prompt: Text::with_value(p),
            ..EquityPause::default()
        }),
        Edit::AddVoice(v) => {
            if !c.voices.contains(v) {
                c.voices.push(v.clone());
            }
        }
    }
    schema::write(doc, DocKind::PdsaCycle, &c).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn concurrent_typed_edits_converge(
        a_edits in proptest::collection::vec(edit(), 0..12),
        b_edits in proptest::collection::vec(edit(), 0..12),
    ) {
        let start = PdsaCycle {
            change_idea_id: "idea".into(),
            cycle_number: 1,
            ..PdsaCycle::default()
        };
        let mut a = schema::new_document(DocKind::PdsaCycle, &start).unwrap();
        let mut b = a.fork().with_actor(ActorId::random());
        for (n, e) in a_edits.iter().enumerate() {
            apply(&mut a, e, n);
        }
        for (n, e) in b_edits.iter().enumerate() {
            apply(&mut b, e, 1000 + n);
        }
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let va: PdsaCycle = schema::read(&a, DocKind::PdsaCycle).unwrap();
        let vb: PdsaCycle = schema::read(&b, DocKind::PdsaCycle).unwrap();
        prop_assert_eq!(&va, &vb);
        // Every question, observation and pause either side added is there.
        let added = |edits: &[Edit]| edits.iter().filter(|e| matches!(e, Edit::AddQuestion(_))).count();
        prop_assert_eq!(va.plan.questions.len(), added(&a_edits) + added(&b_edits));
        // And the merged value survives save → load → hydrate unchanged.
        let loaded = automerge::Automerge::load(&a.save()).unwrap();
        let back: PdsaCycle = schema::read(&loaded, DocKind::PdsaCycle).unwrap();
        prop_assert_eq!(back, va);
    }
}
