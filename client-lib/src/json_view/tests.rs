//! The one-pass reading gives exactly what `AutoSerde` gives, on documents of every shape
//! Automerge allows: nested maps and lists, text, every scalar type, and conflicts left by
//! two actors writing the same key.

use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{ActorId, AutoSerde, Automerge, ObjId, ObjType, ReadDoc, ScalarValue};
use proptest::prelude::*;

use super::document_json;

/// One write, applied at a random path of the growing document.
#[derive(Clone, Debug)]
enum Write {
    Scalar(String, ScalarValue),
    Object(String, ObjType),
    Text(String, String),
    Push(ScalarValue),
}

fn scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        ".{0,8}".prop_map(|s| ScalarValue::Str(s.into())),
        any::<i64>().prop_map(ScalarValue::Int),
        any::<u64>().prop_map(ScalarValue::Uint),
        any::<f64>().prop_map(ScalarValue::F64),
        any::<bool>().prop_map(ScalarValue::Boolean),
        any::<i64>().prop_map(ScalarValue::Timestamp),
        any::<i64>().prop_map(|c| ScalarValue::Counter(c.into())),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(ScalarValue::Bytes),
        Just(ScalarValue::Null),
    ]
}

fn write() -> impl Strategy<Value = Write> {
    let key = "[a-d]";
    prop_oneof![
        (key, scalar()).prop_map(|(k, v)| Write::Scalar(k, v)),
        (key, prop_oneof![Just(ObjType::Map), Just(ObjType::List)])
            .prop_map(|(k, t)| Write::Object(k, t)),
        (key, ".{0,12}").prop_map(|(k, t)| Write::Text(k, t)),
        scalar().prop_map(Write::Push),
    ]
}

/// Applies the writes, each to the object `pick` chooses among those made so far.
fn apply(doc: &mut Automerge, writes: &[(usize, Write)]) {
    let mut tx = doc.transaction();
    let mut maps: Vec<ObjId> = vec![nic_sync::automerge::ROOT];
    let mut lists: Vec<ObjId> = Vec::new();
    for (pick, w) in writes {
        let map = maps[pick % maps.len()].clone();
        match w {
            Write::Scalar(k, v) => {
                tx.put(&map, k.as_str(), v.clone()).unwrap();
            }
            Write::Object(k, t) => {
                let made = tx.put_object(&map, k.as_str(), *t).unwrap();
                match t {
                    ObjType::List => lists.push(made),
                    _ => maps.push(made),
                }
            }
            Write::Text(k, t) => {
                let text = tx.put_object(&map, k.as_str(), ObjType::Text).unwrap();
                tx.splice_text(&text, 0, 0, t).unwrap();
            }
            Write::Push(v) => {
                if let Some(list) = lists.get(pick % lists.len().max(1)) {
                    let at = tx.length(list);
                    tx.insert(list, at, v.clone()).unwrap();
                }
            }
        }
    }
    tx.commit();
}

proptest! {
    #[test]
    fn reads_what_autoserde_reads(
        ours in proptest::collection::vec((any::<usize>(), write()), 0..24),
        theirs in proptest::collection::vec((any::<usize>(), write()), 0..24),
    ) {
        let mut a = Automerge::new().with_actor(ActorId::from(&[1u8][..]));
        let mut b = Automerge::new().with_actor(ActorId::from(&[2u8][..]));
        apply(&mut a, &ours);
        apply(&mut b, &theirs);
        // Concurrent writes of the same keys: conflicts, resolved as Automerge resolves them.
        a.merge(&mut b).unwrap();
        let expected = serde_json::to_value(AutoSerde::from(&a)).unwrap();
        prop_assert_eq!(document_json(&a), expected);
    }
}

#[test]
fn an_empty_document_is_an_empty_map() {
    assert_eq!(document_json(&Automerge::new()), serde_json::json!({}));
}
