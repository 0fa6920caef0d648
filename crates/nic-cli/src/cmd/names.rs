//! Names people can type for documents: the full id, or any unique prefix of it, looked up
//! in the local replica. Every command that takes a document goes through [`doc`].

use nic_client::{Hub, ListFilter, Network};
use nic_model::{DocumentId, NetworkId};

use crate::error::{CliError, Exit};

/// The shortest prefix people are asked to type, so two letters never match by accident.
pub const MIN_PREFIX: usize = 4;

/// The document `text` names in `network`: its full id, or a unique prefix of one of the
/// network's documents (archived ones included, so an old cycle can still be shown).
pub async fn doc(network: &Network, text: &str) -> Result<DocumentId, CliError> {
    let text = text.trim();
    if let Ok(id) = text.parse::<DocumentId>() {
        return Ok(id);
    }
    let metas = network
        .client()
        .list(ListFilter {
            network: Some(network.id().clone()),
            include_archived: true,
            ..ListFilter::default()
        })
        .await?;
    let ids: Vec<(DocumentId, String)> = metas
        .into_iter()
        .map(|m| (m.id, format!("{} ({})", m.title, m.kind)))
        .collect();
    by_prefix(text, &ids)
}

/// The document `text` names: its full id, or (with a network) a unique prefix of one of
/// the network's documents as the hub lists them for this member.
pub async fn doc_on_hub(
    hub: &Hub,
    network: Option<&NetworkId>,
    text: &str,
) -> Result<DocumentId, CliError> {
    let text = text.trim();
    if let Ok(id) = text.parse::<DocumentId>() {
        return Ok(id);
    }
    let Some(network) = network else {
        return Err(CliError::invalid(format!(
            "{text:?} is not a document id; to name a document by the start of its id, give its network (--network, or `nic use NETWORK`)"
        )));
    };
    let ids: Vec<(DocumentId, String)> = hub
        .list_documents(network, None, None, true)
        .await?
        .into_iter()
        .map(|m| (m.id, format!("{} ({})", m.title, m.kind)))
        .collect();
    by_prefix(text, &ids)
}

/// The one id in `known` that starts with `text` (each id with a label for the error).
pub fn by_prefix(text: &str, known: &[(DocumentId, String)]) -> Result<DocumentId, CliError> {
    if text.chars().count() < MIN_PREFIX {
        return Err(CliError::invalid(format!(
            "{text:?} is too short to name a document: give at least {MIN_PREFIX} characters of its id (`nic docs list` shows them)"
        )));
    }
    let matches: Vec<&(DocumentId, String)> = known
        .iter()
        .filter(|(id, _)| id.to_string().starts_with(text))
        .collect();
    match matches.as_slice() {
        [(id, _)] => Ok(*id),
        [] => Err(CliError::new(
            Exit::NotFound,
            format!(
                "no document of this network has an id starting with {text:?}; `nic docs list` shows them (is the network right, and has the replica synced?)"
            ),
        )),
        many => Err(CliError::invalid(format!(
            "{text:?} starts the ids of {} documents; type more of the id: {}",
            many.len(),
            many.iter()
                .take(5)
                .map(|(id, label)| format!("{id} {label}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<(DocumentId, String)> {
        // Deterministic ids (splitmix64), so a failure reproduces.
        let mut state = 0x5eed_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (0..n)
            .map(|i| {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&next().to_le_bytes());
                bytes[8..].copy_from_slice(&next().to_le_bytes());
                (DocumentId::from_bytes(bytes), format!("doc {i}"))
            })
            .collect()
    }

    #[test]
    fn a_full_id_or_a_unique_prefix_names_its_document_and_nothing_else_does() {
        let known = ids(50);
        for (id, _) in &known {
            let full = id.to_string();
            // The shortest unique prefix, and every longer one, name it.
            let unique = (MIN_PREFIX..=full.len())
                .find(|&k| {
                    known
                        .iter()
                        .filter(|(o, _)| o.to_string().starts_with(&full[..k]))
                        .count()
                        == 1
                })
                .unwrap();
            for k in unique..=full.len() {
                assert_eq!(by_prefix(&full[..k], &known).unwrap(), *id);
            }
            // A shorter, shared prefix is refused rather than guessed.
            if unique > MIN_PREFIX {
                let err = by_prefix(&full[..unique - 1], &known).unwrap_err();
                assert_eq!(err.exit, Exit::Invalid, "{err}");
            }
        }
        assert_eq!(by_prefix("zzzz", &known).unwrap_err().exit, Exit::NotFound);
        assert_eq!(by_prefix("ab", &known).unwrap_err().exit, Exit::Invalid);
    }
}
