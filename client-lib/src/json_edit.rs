//! Changing a document from plain JSON, written by its kind's published shape: what a tool
//! in another language (the Python package) or a script hands over.
//!
//! A patch is a map of field names to values, merged into the document's content: a field
//! named is set, a field left out is left alone (so concurrent edits elsewhere merge), a
//! nested map is merged field by field, `null` clears an optional field, and a list given is
//! written whole. Values are written as the shape says (`docs/schema/`): a string becomes
//! collaborative text where the field is text (changed by the smallest splice, so a
//! concurrent edit of the same text merges) and a string scalar where it is a string or one
//! of a fixed set; numbers become unsigned or signed integers or floats as the field is.
//!
//! The whole patch is one Automerge change, or nothing: a field the kind does not have, a
//! value of the wrong shape, content the hub would not accept, or an edit the kind's rules
//! refuse (a PDSA cycle's predictions once the Do phase has data) writes nothing and says
//! which field and why.

use nic_model::schema::describe::{Object, Shape};
use nic_model::schema::{self, check, pdsa::PdsaCycle};
use nic_model::{DocKind, DocumentId};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, ObjId, ObjType, ROOT, ScalarValue, Value as AmValue};
use serde_json::{Map, Value};

use crate::typed::{Typed, commit_options, new_meta};
use crate::{Client, ClientError};

impl Client {
    /// Merges `patch` (a JSON map of field names to values) into the document's content as
    /// one Automerge change carrying `message`, saved locally before this returns; see the
    /// module documentation for how values are written. A patch that does not fit the
    /// document's kind, or that the kind's rules refuse, writes nothing and returns
    /// [`ClientError::EditRefused`] naming the field.
    pub async fn update_json(
        &self,
        doc: DocumentId,
        patch: Value,
        message: impl Into<String>,
    ) -> Result<(), ClientError> {
        let kind = self.meta(doc).await?.kind;
        let message = message.into();
        self.edit(doc, move |am: &mut Automerge| {
            patch_in(am, doc, kind, &patch, &message)
        })
        .await?
    }
}

impl Client {
    /// Creates a document of `kind` holding the kind's defaults with `patch` merged in (as
    /// [`Client::update_json`] merges it), under a fresh id; saved locally before this
    /// returns and sent to the hub now or when it is next reachable. A patch that does not
    /// fit the kind creates nothing.
    pub async fn create_json(
        &self,
        new: crate::NewDocument,
        kind: DocKind,
        patch: Value,
    ) -> Result<DocumentId, ClientError> {
        let id = DocumentId::random(&mut rand::rng());
        let mut am = Automerge::new();
        am.set_actor(self.actor().clone());
        am.transact_with::<_, _, schema::SchemaError, _>(
            |_| commit_options(format!("Create {}", kind.as_str())),
            |tx| write_defaults(tx, kind),
        )
        .map_err(|f| ClientError::Schema {
            doc: id,
            source: Box::new(f.error),
        })?;
        if patch.as_object().is_none_or(|m| !m.is_empty()) {
            patch_in(&mut am, id, kind, &patch, "Fill in")?;
        }
        let meta = new_meta(id, kind, new);
        self.create_raw(meta, am).await?;
        Ok(id)
    }
}

/// A new document's content: the kind's typed default, as the typed API writes it.
fn write_defaults(
    tx: &mut nic_sync::automerge::transaction::Transaction<'_>,
    kind: DocKind,
) -> Result<(), schema::SchemaError> {
    use nic_model::schema::{aim, driver, measure, network, site_work};
    macro_rules! default_of {
        ($ty:ty) => {
            schema::write(tx, kind, &<$ty>::default())
        };
    }
    match kind {
        DocKind::NetworkProfile => default_of!(network::NetworkProfile),
        DocKind::Aim => default_of!(aim::Aim),
        DocKind::DriverDiagram => default_of!(driver::DriverDiagram),
        DocKind::ChangeIdea => default_of!(driver::ChangeIdea),
        DocKind::PdsaCycle => default_of!(PdsaCycle),
        DocKind::MeasureDefinition => default_of!(measure::MeasureDefinition),
        DocKind::MeasureData => default_of!(measure::MeasureData),
        DocKind::EmpathyInterview => default_of!(site_work::EmpathyInterview),
        DocKind::RootCauseAnalysis => default_of!(site_work::RootCauseAnalysis),
        DocKind::EquityAudit => default_of!(site_work::EquityAudit),
        DocKind::ImprovementPlan => default_of!(site_work::ImprovementPlan),
        DocKind::CoachingLog => default_of!(network::CoachingLog),
    }
}

/// The patch, in one transaction: written, checked as the hub checks content, then held to
/// the kind's edit rules; any failure rolls it back.
pub(crate) fn patch_in(
    am: &mut Automerge,
    doc: DocumentId,
    kind: DocKind,
    patch: &Value,
    message: &str,
) -> Result<(), ClientError> {
    let refused = |reason: String| ClientError::EditRefused { doc, reason };
    let Value::Object(fields) = patch else {
        return Err(refused(format!(
            "a change is a map of field names to values, not {}",
            json_type(patch)
        )));
    };
    let schema_error = |source| ClientError::Schema {
        doc,
        source: Box::new(source),
    };
    let before = match kind {
        DocKind::PdsaCycle => Some(schema::read::<PdsaCycle, _>(am, kind).map_err(schema_error)?),
        _ => None,
    };
    am.transact_with::<_, _, ClientError, _>(
        |_| commit_options(message),
        |tx| {
            let shape = schema::shape_of(kind);
            merge_map(tx, &ROOT, &shape, fields, "").map_err(refused)?;
            check::accepted(tx, kind).map_err(|e| refused(e.to_string()))?;
            if let Some(before) = &before {
                let after: PdsaCycle = schema::read(tx, kind).map_err(schema_error)?;
                <PdsaCycle as Typed>::check_edit(before, &after).map_err(refused)?;
            }
            Ok(())
        },
    )
    .map(|_| ())
    .map_err(|f| f.error)
}

/// Where a value goes: a key of a map (set) or a position in a list (inserted).
#[derive(Clone, Copy)]
enum Slot<'a> {
    Key(&'a ObjId, &'a str),
    At(&'a ObjId, usize),
}

type Written = Result<(), String>;

fn merge_map(
    tx: &mut impl Transactable,
    obj: &ObjId,
    shape: &Object,
    fields: &Map<String, Value>,
    path: &str,
) -> Written {
    for (key, value) in fields {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if path.is_empty() && (key == "kind" || key == "schema") {
            return Err(format!(
                "{key}: a document's kind and schema version are not changed by an edit"
            ));
        }
        let Some(field) = shape.fields.iter().find(|f| f.name == key) else {
            let names: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
            return Err(format!(
                "{here}: a {} has no field {key:?}; its fields are {}",
                shape.name,
                names.join(", ")
            ));
        };
        write(tx, Slot::Key(obj, key), &(field.shape)(), value, &here)?;
    }
    Ok(())
}

fn write<T: Transactable>(
    tx: &mut T,
    slot: Slot<'_>,
    shape: &Shape,
    value: &Value,
    path: &str,
) -> Written {
    let wrong = || {
        format!(
            "{path} {}; got {}",
            check::expectation(shape),
            json_type(value)
        )
    };
    let scalar =
        |tx: &mut T, v: ScalarValue| put_scalar(tx, &slot, v).map_err(|e| format!("{path}: {e}"));
    match (shape, value) {
        (Shape::Optional(_), Value::Null) => match slot {
            Slot::Key(obj, key) => {
                if tx.get(obj, key).map_err(|e| e.to_string())?.is_some() {
                    tx.delete(obj, key).map_err(|e| format!("{path}: {e}"))?;
                }
                Ok(())
            }
            Slot::At(..) => scalar(tx, ScalarValue::Null),
        },
        (Shape::Optional(inner), _) => write(tx, slot, inner, value, path),
        (Shape::Text, Value::String(s)) => {
            let existing = match slot {
                Slot::Key(obj, key) => match tx.get(obj, key).map_err(|e| e.to_string())? {
                    Some((AmValue::Object(ObjType::Text), id)) => Some(id),
                    _ => None,
                },
                Slot::At(..) => None,
            };
            let text = match existing {
                Some(id) => id,
                None => put_object(tx, &slot, ObjType::Text).map_err(|e| format!("{path}: {e}"))?,
            };
            tx.update_text(&text, s).map_err(|e| format!("{path}: {e}"))
        }
        (Shape::Str, Value::String(s)) => scalar(tx, ScalarValue::Str(s.as_str().into())),
        (Shape::Enum(choice), Value::String(s)) if choice.variants.iter().any(|v| v.name == s) => {
            scalar(tx, ScalarValue::Str(s.as_str().into()))
        }
        (Shape::Uint { max }, Value::Number(n)) => match n.as_u64() {
            Some(u) if u <= *max => scalar(tx, ScalarValue::Uint(u)),
            _ => Err(wrong()),
        },
        (Shape::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) => scalar(tx, ScalarValue::Int(i)),
            None => Err(wrong()),
        },
        (Shape::F64, Value::Number(n)) => match n.as_f64() {
            Some(x) => scalar(tx, ScalarValue::F64(x)),
            None => Err(wrong()),
        },
        (Shape::Bool, Value::Bool(b)) => scalar(tx, ScalarValue::Boolean(*b)),
        (Shape::Object(object), Value::Object(fields)) => {
            let existing = match slot {
                Slot::Key(obj, key) => match tx.get(obj, key).map_err(|e| e.to_string())? {
                    Some((AmValue::Object(ObjType::Map), id)) => Some(id),
                    _ => None,
                },
                Slot::At(..) => None,
            };
            let map = match existing {
                Some(id) => id,
                None => put_object(tx, &slot, ObjType::Map).map_err(|e| format!("{path}: {e}"))?,
            };
            merge_map(tx, &map, object, fields, path)
        }
        (Shape::List(inner), Value::Array(items)) => {
            let list = put_object(tx, &slot, ObjType::List).map_err(|e| format!("{path}: {e}"))?;
            for (i, item) in items.iter().enumerate() {
                write(tx, Slot::At(&list, i), inner, item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Err(wrong()),
    }
}

fn put_scalar(
    tx: &mut impl Transactable,
    slot: &Slot<'_>,
    value: ScalarValue,
) -> Result<(), nic_sync::automerge::AutomergeError> {
    match slot {
        Slot::Key(obj, key) => tx.put(*obj, *key, value),
        Slot::At(obj, i) => tx.insert(*obj, *i, value),
    }
}

fn put_object(
    tx: &mut impl Transactable,
    slot: &Slot<'_>,
    kind: ObjType,
) -> Result<ObjId, nic_sync::automerge::AutomergeError> {
    match slot {
        Slot::Key(obj, key) => tx.put_object(*obj, *key, kind),
        Slot::At(obj, i) => tx.insert_object(*obj, *i, kind),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use nic_model::schema::pdsa::Purpose;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn cycle() -> (Automerge, DocumentId) {
        let value = PdsaCycle {
            change_idea_id: "number-talks".into(),
            cycle_number: 1,
            ..PdsaCycle::default()
        };
        let mut am = Automerge::new();
        am.transact::<_, _, schema::SchemaError>(|tx| {
            schema::write(tx, DocKind::PdsaCycle, &value)
        })
        .expect("a new cycle");
        (am, DocumentId::from_bytes([3; 16]))
    }

    fn read(am: &Automerge) -> PdsaCycle {
        schema::read(am, DocKind::PdsaCycle).expect("reads as a cycle")
    }

    fn patch(am: &mut Automerge, doc: DocumentId, p: Value) -> Result<(), ClientError> {
        patch_in(am, doc, DocKind::PdsaCycle, &p, "test")
    }

    #[test]
    fn fields_are_written_by_their_shape_and_the_rest_is_left_alone() {
        let (mut am, doc) = cycle();
        patch(
            &mut am,
            doc,
            json!({
                "cycle_number": 2,
                "purpose": "develop",
                "planned_start": "2026-01-12",
                "plan": {
                    "objective": "Will a daily number talk help?",
                    "questions": [{"id": "q1", "question": "Do more students share?", "prediction": "Yes, half"}]
                }
            }),
        )
        .expect("accepted");
        let c = read(&am);
        assert_eq!(c.cycle_number, 2);
        assert_eq!(c.purpose, Purpose::Develop);
        assert_eq!(c.planned_start.as_deref(), Some("2026-01-12"));
        assert_eq!(c.plan.objective.as_str(), "Will a daily number talk help?");
        assert_eq!(c.plan.questions[0].prediction.as_str(), "Yes, half");
        assert_eq!(
            c.change_idea_id, "number-talks",
            "a field not named is kept"
        );
        assert_eq!(am.get_changes(&[]).len(), 2, "the patch is one change");

        // Text is changed by a splice, so a concurrent edit of the same text merges.
        let mut other = am.fork();
        patch(
            &mut other,
            doc,
            json!({"plan": {"objective": "Will a daily number talk help most?"}}),
        )
        .expect("accepted");
        patch(
            &mut am,
            doc,
            json!({"plan": {"objective": "Will a short daily number talk help?"}}),
        )
        .expect("accepted");
        am.merge(&mut other).expect("merges");
        assert_eq!(
            read(&am).plan.objective.as_str(),
            "Will a short daily number talk help most?"
        );

        // null clears an optional field.
        patch(&mut am, doc, json!({"planned_start": null})).expect("accepted");
        assert_eq!(read(&am).planned_start, None);
    }

    #[test]
    fn a_patch_that_does_not_fit_names_the_field_and_writes_nothing() {
        let (mut am, doc) = cycle();
        let heads = am.get_heads();
        for (p, names) in [
            (json!({"cycle_nmber": 2}), "cycle_nmber"),
            (json!({"cycle_number": "two"}), "cycle_number"),
            (json!({"cycle_number": -1}), "cycle_number"),
            (json!({"purpose": "celebrate"}), "purpose"),
            (json!({"plan": {"objective": 7}}), "plan.objective"),
            (
                json!({"plan": {"questions": [{"id": 1}]}}),
                "plan.questions[0].id",
            ),
            (json!({"kind": "aim"}), "kind"),
            (json!(["not", "a", "map"]), "map of field names"),
        ] {
            let err = patch(&mut am, doc, p.clone()).expect_err("refused");
            assert!(
                matches!(&err, ClientError::EditRefused { reason, .. } if reason.contains(names)),
                "{p}: {err}"
            );
            assert_eq!(am.get_heads(), heads, "{p} wrote something");
        }
    }

    #[test]
    fn predictions_stay_fixed_once_the_do_phase_has_data() {
        let (mut am, doc) = cycle();
        patch(
            &mut am,
            doc,
            json!({"plan": {"questions": [{"id": "q1", "question": "Share?", "prediction": "Half"}]}}),
        )
        .expect("accepted");
        patch(
            &mut am,
            doc,
            json!({"do": {"what_happened": "Ran it Monday"}}),
        )
        .expect("accepted");
        let heads = am.get_heads();
        let err = patch(
            &mut am,
            doc,
            json!({"plan": {"questions": [{"id": "q1", "question": "Share?", "prediction": "All"}]}}),
        )
        .expect_err("refused");
        assert!(matches!(err, ClientError::EditRefused { .. }), "{err}");
        assert_eq!(am.get_heads(), heads);
    }

    #[test]
    fn every_kinds_defaults_are_content_the_hub_accepts() {
        for kind in &DocKind::ALL {
            let mut am = Automerge::new();
            am.transact::<_, _, schema::SchemaError>(|tx| write_defaults(tx, *kind))
                .expect("written");
            check::check(&am, *kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }

    /// Values of every JSON type, nested a little.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (0u64..5).prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(|x| json!(x)),
            "[a-z ]{0,12}".prop_map(Value::String),
            prop::sample::select(vec!["develop", "test", "q1", "2026-01-12", "number"])
                .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map(field_name(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Real field names mostly, so patches reach deep; a few that are not.
    fn field_name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "cycle_number",
            "purpose",
            "planned_start",
            "plan",
            "objective",
            "questions",
            "id",
            "question",
            "prediction",
            "data_type",
            "do",
            "as_planned",
            "what_happened",
            "observations",
            "study",
            "act",
            "decision",
            "voices",
            "equity_pauses",
            "nope",
        ])
        .prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever a tool sends, the document afterwards is one the hub accepts and reads
        /// as a cycle: a patch is written whole, or not at all.
        #[test]
        fn no_patch_leaves_a_document_the_hub_would_refuse(
            patches in prop::collection::vec(
                prop::collection::btree_map(field_name(), any_json(), 1..4),
                1..6,
            )
        ) {
            let (mut am, doc) = cycle();
            for p in patches {
                let heads = am.get_heads();
                let p = Value::Object(p.into_iter().collect());
                match patch(&mut am, doc, p.clone()) {
                    Ok(()) => {}
                    Err(ClientError::EditRefused { .. }) => {
                        prop_assert_eq!(am.get_heads(), heads, "a refused patch wrote: {}", p);
                    }
                    Err(e) => prop_assert!(false, "{p}: not a refusal: {e}"),
                }
                prop_assert!(check::accepted(&am, DocKind::PdsaCycle).is_ok(), "after {}", p);
                prop_assert!(schema::read::<PdsaCycle, _>(&am, DocKind::PdsaCycle).is_ok());
            }
        }
    }
}
