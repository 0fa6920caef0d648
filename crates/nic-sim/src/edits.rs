//! Random edits like people make on a PDSA worksheet: map puts, list pushes, text splices.

use automerge::transaction::Transactable;
use automerge::{Automerge, AutomergeError, ObjType, ROOT, ReadDoc};
use rand::Rng;

/// Builds the initial document every peer edits: a PDSA cycle (the hub accepts only content
/// that reads as its kind) with a title map key, a list and a text beside its fields —
/// keys the schema does not name, which it must keep allowing.
pub(crate) fn initial_doc() -> Result<Automerge, AutomergeError> {
    let mut doc = Automerge::new();
    doc.set_actor(automerge::ActorId::from(b"sim-setup".as_slice()));
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "kind", "pdsa_cycle")?;
        tx.put(ROOT, "title", "PDSA 1")?;
        tx.put_object(ROOT, "numbers", ObjType::List)?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        Ok(())
    })
    .map_err(|f| f.error)?;
    Ok(doc)
}

/// Makes one random edit. Returns false when the document lacks its structure yet (the
/// client has not received it) and nothing was done.
pub(crate) fn random_edit(doc: &mut Automerge, rng: &mut impl Rng) -> bool {
    let (Ok(Some((_, numbers))), Ok(Some((_, notes)))) =
        (doc.get(ROOT, "numbers"), doc.get(ROOT, "notes"))
    else {
        return false;
    };
    let choice = rng.random_range(0..10);
    let result = doc.transact::<_, _, AutomergeError>(|tx| {
        if choice < 7 {
            let len = tx.length(&notes);
            let pos = rng.random_range(0..=len);
            let del = if len > pos && rng.random_bool(0.3) {
                rng.random_range(1..=(len - pos).min(3))
            } else {
                0
            };
            let words = ["we", "predict", "students", "will", "pass", "more", "often"];
            let word = words[rng.random_range(0..words.len())];
            tx.splice_text(&notes, pos, del as isize, &format!("{word} "))?;
        } else if choice < 9 {
            let key = format!("k{}", rng.random_range(0..5));
            tx.put(ROOT, key, rng.random_range(0..1000i64))?;
        } else {
            let len = tx.length(&numbers);
            tx.insert(&numbers, len, rng.random_range(0..100i64))?;
        }
        Ok(())
    });
    result.is_ok()
}

/// An impostor's edit: a key no honest client writes, with a value unique to the run, so
/// the change can never coincide with one its real actor makes (same actor, same deps and
/// the same random edit would hash alike).
pub(crate) fn forged_edit(doc: &mut Automerge, stamp: u64) -> bool {
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "forged", stamp.to_string())?;
        Ok(())
    })
    .is_ok()
}
