//! The inspector against real Automerge bytes, crafted bombs and arbitrary bytes.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use proptest::prelude::*;

use super::*;

/// One commit of a generated document.
#[derive(Clone, Debug)]
enum Edit {
    Put(String),
    Insert(usize),
    Splice(String),
    Long(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        "[a-z]{0,12}".prop_map(Edit::Put),
        (1usize..120).prop_map(Edit::Insert),
        "[a-zé ]{1,60}".prop_map(Edit::Splice),
        // Long enough that saving deflates the value column.
        (300usize..4000).prop_map(Edit::Long),
    ]
}

fn build(edits: &[Edit]) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let list = tx.put_object(ROOT, "list", ObjType::List).ok();
    let text = tx.put_object(ROOT, "text", ObjType::Text).ok();
    tx.commit();
    let (Some(list), Some(text)) = (list, text) else {
        return doc;
    };
    for (i, e) in edits.iter().enumerate() {
        let mut tx = doc.transaction();
        let done = match e {
            Edit::Put(s) => tx.put(ROOT, format!("k{}", i % 5), s.as_str()),
            Edit::Insert(n) => (0..*n).try_for_each(|j| tx.insert(&list, 0, j as i64)),
            Edit::Splice(s) => tx.splice_text(&text, 0, 0, s),
            Edit::Long(n) => tx.put(ROOT, "long", "x".repeat(*n)),
        };
        assert!(done.is_ok());
        tx.commit();
    }
    doc
}

fn total_ops(doc: &Automerge) -> u64 {
    doc.get_changes(&[]).iter().map(|c| c.len() as u64).sum()
}

fn measured(bytes: &[u8]) -> Measure {
    match inspect(bytes, &Limits::NONE) {
        Ok(m) => m,
        Err(e) => panic!("real Automerge bytes refused: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn real_documents_and_changes_measure_what_they_hold(edits in prop::collection::vec(edit(), 1..12)) {
        let doc = build(&edits);
        let ops = total_ops(&doc);
        let changes = doc.get_changes(&[]);
        let n = changes.len() as u64;
        let plain = doc.save_nocompress();
        let m = measured(&plain);
        prop_assert_eq!(m, Measure { bytes: plain.len() as u64, ops, changes: n });
        // Compressed columns count inflated: the same up to the header's length field.
        let saved = doc.save();
        let c = measured(&saved);
        prop_assert_eq!((c.ops, c.changes), (ops, n));
        prop_assert!(c.bytes.abs_diff(plain.len() as u64) <= 4, "{} vs {}", c.bytes, plain.len());
        // Changes, one by one, compressed or not, and all concatenated.
        let mut joined = Vec::new();
        for change in &changes {
            let raw = change.raw_bytes();
            prop_assert_eq!(measured(raw), Measure { bytes: raw.len() as u64, ops: change.len() as u64, changes: 1 });
            let mut owned = change.clone();
            let packed = owned.bytes().to_vec();
            let p = measured(&packed);
            prop_assert_eq!((p.ops, p.changes), (change.len() as u64, 1));
            prop_assert!(p.bytes.abs_diff(raw.len() as u64) <= 4);
            joined.extend_from_slice(&packed);
        }
        let all = measured(&joined);
        prop_assert_eq!((all.ops, all.changes), (ops, n));
        // Exactly at the limits passes; one below any of them is refused, naming it.
        prop_assert_eq!(inspect(&saved, &Limits { max_bytes: c.bytes, max_ops: ops, max_changes: n }), Ok(c));
        for (limit, limits) in [
            (Limit::Bytes, Limits { max_bytes: c.bytes - 1, ..Limits::NONE }),
            (Limit::Ops, Limits { max_ops: ops - 1, ..Limits::NONE }),
            (Limit::Changes, Limits { max_changes: n - 1, ..Limits::NONE }),
        ] {
            let refused = inspect(&saved, &limits);
            prop_assert!(matches!(refused, Err(InspectError::TooLarge { limit: l, .. }) if l == limit), "{:?}", refused);
        }
        // Growth: what a document holds plus its next change.
        let (last, rest) = changes.split_last().unwrap_or_else(|| unreachable!());
        let base = measured(&rest.iter().flat_map(|c| c.raw_bytes().to_vec()).collect::<Vec<u8>>());
        let grown = inspect_more(base, last.raw_bytes(), &Limits::NONE);
        prop_assert_eq!(grown.map(|g| (g.ops, g.changes)), Ok((ops, n)));
        let tight = Limits { max_ops: ops - 1, ..Limits::NONE };
        prop_assert!(inspect_more(base, last.raw_bytes(), &tight).is_err() || last.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), magic in any::<bool>()) {
        let mut input = if magic { MAGIC.to_vec() } else { Vec::new() };
        input.extend(bytes);
        let _ = inspect(&input, &Limits::DEFAULT);
    }

    #[test]
    fn damaged_real_bytes_never_panic(
        edits in prop::collection::vec(edit(), 1..6),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let doc = build(&edits);
        for mut bytes in [doc.save(), doc.save_nocompress(), doc.save_after(&[])] {
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let _ = inspect(&bytes, &Limits::DEFAULT);
            bytes.truncate(cut.index(bytes.len()));
            let _ = inspect(&bytes, &Limits::DEFAULT);
        }
    }
}

fn uleb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn sleb(mut v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend([0; 4]);
    out.push(kind);
    out.extend(uleb(body.len() as u64));
    out.extend(body);
    out
}

/// A change chunk body with the given op columns (spec, data).
fn change_body(cols: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![0]; // no deps
    body.extend(uleb(16));
    body.extend([7; 16]); // actor
    body.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    body.extend(uleb(cols.len() as u64));
    for (spec, data) in cols {
        body.extend(uleb(u64::from(*spec)));
        body.extend(uleb(data.len() as u64));
    }
    for (_, data) in cols {
        body.extend(data);
    }
    body
}

const ACTION: u32 = (34 << 4) | 2; // an integer column
const PRED_GROUP: u32 = 7 << 4; // a group column

#[test]
fn an_rle_run_of_fifty_million_ops_is_refused_from_a_few_bytes() {
    let mut run = sleb(50_000_000);
    run.extend(uleb(1));
    let bomb = chunk(1, &change_body(&[(ACTION, run)]));
    assert!(bomb.len() < 64, "{} bytes", bomb.len());
    assert_eq!(
        inspect(&bomb, &Limits::DEFAULT),
        Err(InspectError::TooLarge {
            limit: Limit::Ops,
            value: 50_000_000,
            max: 250_000
        })
    );
    // A null run and a boolean run are rows too.
    let mut nulls = vec![0];
    nulls.extend(uleb(50_000_000));
    let falses = uleb(50_000_000);
    for cols in [vec![(ACTION, nulls)], vec![((9 << 4) | 4, falses)]] {
        let refused = inspect(&chunk(1, &change_body(&cols)), &Limits::DEFAULT);
        assert!(
            matches!(
                refused,
                Err(InspectError::TooLarge {
                    limit: Limit::Ops,
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}

#[test]
fn a_group_claiming_a_trillion_nested_rows_is_refused() {
    let mut group = sleb(1);
    group.extend(uleb(1 << 40));
    let refused = inspect(
        &chunk(1, &change_body(&[(PRED_GROUP, group)])),
        &Limits::DEFAULT,
    );
    assert_eq!(
        refused,
        Err(InspectError::TooLarge {
            limit: Limit::Ops,
            value: 1 << 40,
            max: 250_000
        })
    );
}

#[test]
fn a_compressed_fifty_megabyte_string_is_refused_without_inflating_it_all() {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    assert!(tx.put(ROOT, "s", "a".repeat(50 << 20)).is_ok());
    tx.commit();
    let max = Limits::DEFAULT.max_bytes;
    let saved = doc.save();
    let mut change = doc.get_changes(&[])[0].clone();
    let packed = change.bytes().to_vec();
    for bomb in [saved, packed] {
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        match inspect(&bomb, &Limits::DEFAULT) {
            // Stopped within one read of the limit, not after 50 MB.
            Err(InspectError::TooLarge {
                limit: Limit::Bytes,
                value,
                max: m,
            }) => {
                assert_eq!(m, max);
                assert!(value > max && value < max + (1 << 20), "{value}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}

#[test]
fn claimed_sizes_are_not_allocated() {
    // Counts and lengths of 2⁶⁰ and more in a few bytes: each must fail on the bytes that
    // are actually there, not reserve room for what they claim.
    let huge = uleb(1 << 60);
    let mut actors = huge.clone();
    actors.extend([1, 2, 3]);
    let mut columns = vec![0, 0, 0];
    columns.extend(&huge);
    let mut long_column = vec![0, 0, 0, 1, 2];
    long_column.extend(&huge);
    for body in [actors, columns, long_column] {
        let refused = inspect(&chunk(0, &body), &Limits::NONE);
        assert!(
            matches!(refused, Err(InspectError::Malformed(_))),
            "{refused:?}"
        );
    }
    let mut long_chunk = MAGIC.to_vec();
    long_chunk.extend([0, 0, 0, 0, 1]);
    long_chunk.extend(&huge);
    assert!(matches!(
        inspect(&long_chunk, &Limits::NONE),
        Err(InspectError::Malformed(_))
    ));
}

#[test]
fn errors_say_which_limit_the_value_and_the_limit() {
    let e = InspectError::TooLarge {
        limit: Limit::Ops,
        value: 50_000_000,
        max: 1_000_000,
    };
    assert_eq!(
        e.to_string(),
        "at least 50000000 operations, more than the limit of 1000000"
    );
}
