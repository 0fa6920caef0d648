//! The content check against the typed read, as a sceptic would test it: documents
//! generated from each kind's published shape must read as the kind, and after any
//! mutation of a typed position the shape walk (which names the field) and the typed read
//! (what the product does) must agree on whether the document still reads.
//! Seeds are printed on failure; replay one with `NIC_SCHEMA_SEED=<n>`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, Prop, ROOT, ScalarValue, Value};
use nic_model::DocKind;
use nic_model::schema::check::{self, MAX_DEPTH};
use nic_model::schema::describe::{Object, Shape};
use nic_model::schema::{self, hydrates};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Writes a random value of `shape` at `prop` of `obj`; returns the typed positions made.
fn fill(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    shape: &Shape,
    rng: &mut ChaCha8Rng,
    depth: usize,
    spots: &mut Vec<(ObjId, Prop, Shape)>,
) {
    spots.push((obj.clone(), prop.clone(), shape.clone()));
    let put = |doc: &mut AutoCommit, v: ScalarValue| match &prop {
        Prop::Map(k) => doc.put(obj, k.as_str(), v).map(|_| ()),
        Prop::Seq(i) => doc.insert(obj, *i, v),
    };
    let put_obj = |doc: &mut AutoCommit, t: ObjType| match &prop {
        Prop::Map(k) => doc.put_object(obj, k.as_str(), t),
        Prop::Seq(i) => doc.insert_object(obj, *i, t),
    };
    match shape {
        Shape::Text => {
            let t = put_obj(doc, ObjType::Text).unwrap();
            doc.splice_text(&t, 0, 0, ["", "a note", "¿qué? ✓"][rng.random_range(0..3)])
                .unwrap();
        }
        Shape::Str => put(
            doc,
            ScalarValue::Str(format!("s{}", rng.random_range(0..9)).into()),
        )
        .unwrap(),
        Shape::Uint { max } => put(
            doc,
            ScalarValue::Uint(rng.random_range(0..=*max.min(&1000))),
        )
        .unwrap(),
        Shape::Int => put(
            doc,
            ScalarValue::Int(rng.random_range(-5..1_700_000_000_000)),
        )
        .unwrap(),
        Shape::F64 => put(doc, ScalarValue::F64(rng.random_range(-1.0..100.0))).unwrap(),
        Shape::Bool => put(doc, ScalarValue::Boolean(rng.random_bool(0.5))).unwrap(),
        Shape::Optional(inner) => {
            spots.pop();
            if rng.random_bool(0.3) {
                spots.push((obj.clone(), prop.clone(), shape.clone()));
                put(doc, ScalarValue::Null).unwrap();
            } else {
                fill(doc, obj, prop.clone(), inner, rng, depth, spots);
                if let Some(last) = spots.iter_mut().rev().find(|s| s.0 == *obj && s.1 == prop) {
                    last.2 = shape.clone();
                }
            }
        }
        Shape::List(inner) => {
            let list = put_obj(doc, ObjType::List).unwrap();
            let n = if depth > 3 { 0 } else { rng.random_range(0..3) };
            for i in 0..n {
                fill(doc, &list, Prop::Seq(i), inner, rng, depth + 1, spots);
            }
        }
        Shape::Object(o) => {
            let map = put_obj(doc, ObjType::Map).unwrap();
            fields(doc, &map, o, rng, depth + 1, spots);
        }
        Shape::Enum(c) => {
            let v = c.variants[rng.random_range(0..c.variants.len())].name;
            put(doc, ScalarValue::Str(v.into())).unwrap();
        }
    }
}

fn fields(
    doc: &mut AutoCommit,
    obj: &ObjId,
    o: &Object,
    rng: &mut ChaCha8Rng,
    depth: usize,
    spots: &mut Vec<(ObjId, Prop, Shape)>,
) {
    for f in &o.fields {
        if !f.required() && rng.random_bool(0.2) {
            continue;
        }
        fill(
            doc,
            obj,
            Prop::Map(f.name.into()),
            &(f.shape)(),
            rng,
            depth,
            spots,
        );
    }
}

/// A random document of `kind` made from its shape alone; and its typed positions.
fn generated(kind: DocKind, rng: &mut ChaCha8Rng) -> (AutoCommit, Vec<(ObjId, Prop, Shape)>) {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", kind.as_str()).unwrap();
    doc.put(ROOT, "schema", ScalarValue::Uint(1)).unwrap();
    // Keys no version names are allowed.
    doc.put(ROOT, "x_from_a_newer_version", 7_i64).unwrap();
    let mut spots = Vec::new();
    fields(&mut doc, &ROOT, &schema::shape_of(kind), rng, 0, &mut spots);
    (doc, spots)
}

/// Overwrites a typed position with a value of a random Automerge type, or deletes it.
fn mutate(doc: &mut AutoCommit, (obj, prop, _): &(ObjId, Prop, Shape), rng: &mut ChaCha8Rng) {
    let scalar = match rng.random_range(0..12) {
        0 => Some(ScalarValue::Str("adapt".into())),
        1 => Some(ScalarValue::Str("nonsense".into())),
        2 => Some(ScalarValue::Int(rng.random_range(-3..3))),
        3 => Some(ScalarValue::Uint(rng.random_range(0..u64::MAX))),
        4 => Some(ScalarValue::F64(2.5)),
        5 => Some(ScalarValue::Boolean(true)),
        6 => Some(ScalarValue::Null),
        7 => Some(ScalarValue::Counter(3.into())),
        8 => Some(ScalarValue::Timestamp(5)),
        _ => None,
    };
    // Best effort: an earlier mutation may have removed this position (or its parent).
    match (scalar, prop) {
        (Some(v), Prop::Map(k)) => {
            let _ = doc.put(obj, k.as_str(), v);
        }
        (Some(v), Prop::Seq(i)) => {
            let _ = doc.put(obj, *i, v);
        }
        (None, p) => {
            let t = [ObjType::Map, ObjType::List, ObjType::Text][rng.random_range(0..3)];
            if rng.random_bool(0.3) {
                let _ = doc.delete(obj, p.clone());
            } else {
                match p {
                    Prop::Map(k) => {
                        let _ = doc.put_object(obj, k.as_str(), t);
                    }
                    Prop::Seq(i) => {
                        let _ = doc.put_object(obj, *i, t);
                    }
                }
            }
        }
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("NIC_SCHEMA_SEED") {
        Ok(s) => vec![s.parse().expect("a seed")],
        Err(_) => (0..300).collect(),
    }
}

#[test]
fn documents_made_from_the_shape_read_as_their_kind() {
    for seed in seeds() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for kind in DocKind::ALL {
            let (doc, _) = generated(kind, &mut rng);
            assert_eq!(check::check(&doc, kind), Ok(()), "seed {seed}, {kind}");
            assert!(
                check::walk(&doc, DocKind::ALL[(kind as usize + 1) % 12]).is_err(),
                "seed {seed}: another kind must not pass"
            );
        }
    }
}

#[test]
fn after_any_mutation_the_walk_and_the_typed_read_agree() {
    let mut refused = 0;
    let mut kept = 0;
    for seed in seeds() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for kind in DocKind::ALL {
            let (mut doc, spots) = generated(kind, &mut rng);
            if spots.is_empty() {
                continue;
            }
            for _ in 0..rng.random_range(1..3) {
                let spot = &spots[rng.random_range(0..spots.len())];
                mutate(&mut doc, spot, &mut rng);
            }
            // Reload: what the hub checks is a document as a peer's changes make it.
            let doc = automerge::Automerge::load(&doc.save()).unwrap();
            let walked = check::walk(&doc, kind);
            let read = hydrates(&doc, kind);
            assert_eq!(
                walked.is_ok(),
                read.is_ok(),
                "seed {seed}, {kind}: the walk says {walked:?}, the typed read says {read:?}"
            );
            if walked.is_ok() {
                kept += 1
            } else {
                refused += 1
            }
        }
    }
    // The mutations must exercise both verdicts, or the agreement proves little.
    assert!(
        refused > 100 && kept > 100,
        "refused {refused}, kept {kept}"
    );
}

#[test]
fn the_refusal_names_the_field_and_the_rule() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "pdsa_cycle").unwrap();
    let plan = doc.put_object(ROOT, "plan", ObjType::Map).unwrap();
    let qs = doc.put_object(&plan, "questions", ObjType::List).unwrap();
    let q = doc.insert_object(&qs, 0, ObjType::Map).unwrap();
    doc.put(&q, "id", "q1").unwrap();
    doc.put(&q, "prediction", "a string scalar, not text")
        .unwrap();
    let e = check::check(&doc, DocKind::PdsaCycle).unwrap_err();
    assert_eq!(e.path, "plan.questions[0].prediction");
    assert!(
        e.rule.contains("collaborative text") && e.rule.contains("found the string scalar"),
        "{e}"
    );
    // A whole number where a float belongs: JavaScript's plain `12`.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "aim").unwrap();
    doc.put(ROOT, "baseline", 12_i64).unwrap();
    let e = check::check(&doc, DocKind::Aim).unwrap_err();
    assert_eq!(e.path, "baseline");
    assert!(e.rule.contains("Float64"), "{e}");
    // An unknown decision.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "pdsa_cycle").unwrap();
    let act = doc.put_object(ROOT, "act", ObjType::Map).unwrap();
    doc.put(&act, "decision", "postpone").unwrap();
    let e = check::check(&doc, DocKind::PdsaCycle).unwrap_err();
    assert_eq!(e.path, "act.decision");
    assert!(e.rule.contains("\"adopt\", \"adapt\", \"abandon\""), "{e}");
    // The wrong kind, and none.
    assert_eq!(check::check(&doc, DocKind::Aim).unwrap_err().path, "kind");
    assert_eq!(
        check::check(&AutoCommit::new(), DocKind::Aim)
            .unwrap_err()
            .path,
        "kind"
    );
}

#[test]
fn nesting_beyond_the_bound_is_refused_before_the_typed_read_recurses() {
    // Sub-causes nested far deeper than any worksheet: the typed read would recurse once per
    // level; the walk stops at the bound.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "root_cause_analysis").unwrap();
    let cats = doc.put_object(ROOT, "categories", ObjType::List).unwrap();
    let cat = doc.insert_object(&cats, 0, ObjType::Map).unwrap();
    doc.put(&cat, "id", "c").unwrap();
    let mut list = doc.put_object(&cat, "causes", ObjType::List).unwrap();
    for i in 0..(MAX_DEPTH * 2) {
        let cause = doc.insert_object(&list, 0, ObjType::Map).unwrap();
        doc.put(&cause, "id", format!("k{i}")).unwrap();
        list = doc.put_object(&cause, "causes", ObjType::List).unwrap();
    }
    let e = check::check(&doc, DocKind::RootCauseAnalysis).unwrap_err();
    assert!(e.rule.contains("deeper"), "{e}");
}

#[test]
fn an_empty_document_is_empty_and_a_written_one_is_not() {
    let mut doc = AutoCommit::new();
    assert!(check::is_empty(&doc));
    doc.put(ROOT, "anything", 1_i64).unwrap();
    assert!(!check::is_empty(&doc));
    let _ = Value::Scalar(std::borrow::Cow::Owned(ScalarValue::Null));
}
