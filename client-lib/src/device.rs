//! The device record kept beside a replica's documents: its peer id, the actor id its
//! edits carry, what it subscribed to, and the documents it created that the hub has not
//! yet accepted. Small and rarely written, so it is a JSON file replaced atomically.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use nic_model::{DocumentId, Grants, MemberId, NetworkId, PeerId};
use nic_sync::Target;
use nic_sync::automerge::ActorId;
use serde::{Deserialize, Serialize};

use crate::ClientError;

/// What a subscription covers, as the device file spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SavedTarget {
    Network(NetworkId),
    Docs(Vec<DocumentId>),
}

impl From<&Target> for SavedTarget {
    fn from(t: &Target) -> Self {
        match t {
            Target::Network(n) => SavedTarget::Network(n.clone()),
            Target::Docs(d) => SavedTarget::Docs(d.clone()),
        }
    }
}

impl From<SavedTarget> for Target {
    fn from(t: SavedTarget) -> Self {
        match t {
            SavedTarget::Network(n) => Target::Network(n),
            SavedTarget::Docs(d) => Target::Docs(d),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Record {
    peer_id: PeerId,
    /// Hex, as Automerge prints actor ids.
    actor_id: String,
    #[serde(default)]
    subscriptions: Vec<SavedTarget>,
    #[serde(default)]
    unsent: Vec<DocumentId>,
    #[serde(default)]
    dirty: BTreeSet<DocumentId>,
    #[serde(default)]
    member: Option<MemberId>,
    #[serde(default)]
    grants: Option<Grants>,
}

/// The device record in memory; [`Device::save`] writes it back when it lives in a file.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    path: Option<PathBuf>,
    pub(crate) peer: PeerId,
    pub(crate) actor: ActorId,
    pub(crate) subscriptions: Vec<Target>,
    /// Documents created here that the hub has not accepted yet, oldest first.
    pub(crate) unsent: Vec<DocumentId>,
    /// Documents with changes made here that the hub may not hold yet; kept so they are
    /// counted after a restart without loading every document.
    pub(crate) dirty: BTreeSet<DocumentId>,
    /// The member the hub last welcomed this replica as, and their roles then: edits they
    /// may not make are refused here, offline too, rather than piling up unsendable.
    pub(crate) member: Option<(MemberId, Grants)>,
}

/// The record's file name inside a replica folder.
const FILE: &str = "replica.json";

impl Device {
    /// A fresh identity, kept nowhere.
    pub(crate) fn ephemeral(peer: Option<PeerId>) -> Device {
        Device {
            path: None,
            peer: peer.unwrap_or_else(random_peer),
            actor: ActorId::random(),
            subscriptions: Vec::new(),
            unsent: Vec::new(),
            dirty: BTreeSet::new(),
            member: None,
        }
    }

    /// The record in `dir`, created (with a fresh identity) if there is none. A `peer`
    /// given here replaces the stored one.
    pub(crate) fn load_or_create(dir: &Path, peer: Option<PeerId>) -> Result<Device, ClientError> {
        let path = dir.join(FILE);
        let bad = |reason: String| ClientError::BadReplica {
            path: path.clone(),
            reason,
        };
        let mut device = match std::fs::read(&path) {
            Ok(bytes) => {
                let record: Record = serde_json::from_slice(&bytes)
                    .map_err(|e| bad(format!("not a replica record ({e})")))?;
                let actor = hex_actor(&record.actor_id)
                    .ok_or_else(|| bad(format!("actor id {:?} is not hex", record.actor_id)))?;
                Device {
                    path: Some(path.clone()),
                    peer: record.peer_id,
                    actor,
                    subscriptions: record.subscriptions.into_iter().map(Target::from).collect(),
                    unsent: record.unsent,
                    dirty: record.dirty,
                    member: record.member.zip(record.grants),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Device {
                path: Some(path.clone()),
                ..Device::ephemeral(None)
            },
            Err(e) => return Err(bad(e.to_string())),
        };
        if let Some(peer) = peer {
            device.peer = peer;
        }
        device.save()?;
        Ok(device)
    }

    /// Writes the record (if it lives in a file): a new file, synced, then renamed over the
    /// old, so a crash leaves one or the other whole.
    pub(crate) fn save(&self) -> Result<(), ClientError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let record = Record {
            peer_id: self.peer.clone(),
            actor_id: self.actor.to_hex_string(),
            subscriptions: self.subscriptions.iter().map(SavedTarget::from).collect(),
            unsent: self.unsent.clone(),
            dirty: self.dirty.clone(),
            member: self.member.as_ref().map(|(m, _)| m.clone()),
            grants: self.member.as_ref().map(|(_, g)| g.clone()),
        };
        let bytes = serde_json::to_vec_pretty(&record).map_err(|e| ClientError::BadReplica {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let io = |e: std::io::Error| ClientError::BadReplica {
            path: path.clone(),
            reason: format!("cannot write it: {e}"),
        };
        let tmp = path.with_extension("json.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            // The rename itself must survive a power cut; a failure here only weakens that.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

fn hex_actor(s: &str) -> Option<ActorId> {
    hex_bytes(s).filter(|b| !b.is_empty()).map(ActorId::from)
}

/// Bytes from lowercase or uppercase hex; `None` if it is not hex.
pub(crate) fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `replica-` and 12 random hex digits: unique enough per hub, readable in logs.
fn random_peer() -> PeerId {
    let actor = ActorId::random().to_hex_string();
    let suffix = actor.get(..12).unwrap_or("000000000000");
    PeerId::new(format!("replica-{suffix}"))
        .unwrap_or_else(|_| unreachable!("hex digits make a valid peer id"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_record_survives_a_reopen_and_a_given_peer_id_replaces_the_stored_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Device::load_or_create(dir.path(), None).unwrap();
        first
            .subscriptions
            .push(Target::Network(NetworkId::new("algebra").unwrap()));
        first.save().unwrap();
        let again = Device::load_or_create(dir.path(), None).unwrap();
        assert_eq!(again.peer, first.peer);
        assert_eq!(again.actor, first.actor);
        assert_eq!(again.subscriptions, first.subscriptions);
        let renamed =
            Device::load_or_create(dir.path(), Some(PeerId::new("lincoln-laptop").unwrap()))
                .unwrap();
        assert_eq!(renamed.peer.as_str(), "lincoln-laptop");
        assert_eq!(
            renamed.actor, first.actor,
            "the actor id is the device's, kept"
        );
    }

    #[test]
    fn a_damaged_record_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{ not json").unwrap();
        let err = Device::load_or_create(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("replica.json"), "{err}");
    }
}
