//! The directory, one behaviour for every store: every check runs against `MemStore`,
//! `SledStore` (which survives a reopen) and `PgStore` (shared by several hubs).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use nic_model::{
    AuditEntry, Grant, Grants, Member, MemberId, Network, NetworkId, Site, SiteId, TokenId,
    TokenRecord,
};
use nic_store::pg_cluster::PgCluster;
use nic_store::{Binding, DirOp, Directory, Durability, MemStore, PgStore, SledStore, Store};

fn network(id: &str) -> Network {
    Network {
        id: NetworkId::new(id).unwrap(),
        name: format!("The {id} network"),
        description: String::new(),
        min_cell_size: 10,
        created_at_ms: 1,
        public_dashboard: false,
    }
}

fn site(network: &str, id: &str) -> Site {
    Site {
        network: NetworkId::new(network).unwrap(),
        id: SiteId::new(id).unwrap(),
        name: id.to_uppercase(),
        created_at_ms: 2,
    }
}

fn member(id: &str, grants: Vec<Grant>) -> Member {
    Member {
        id: MemberId::new(id).unwrap(),
        name: id.into(),
        grants: Grants(grants),
        created_at_ms: 3,
    }
}

fn token(id: &str, member: &str) -> TokenRecord {
    TokenRecord {
        id: TokenId::new(id).unwrap(),
        member: MemberId::new(member).unwrap(),
        label: "laptop".into(),
        created_at_ms: 4,
        expires_at_ms: None,
        revoked_at_ms: None,
    }
}

fn audit(action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at_ms: 5,
        by: MemberId::new("admin").unwrap(),
        action: action.into(),
        target: target.into(),
        network: Some(NetworkId::new("algebra").unwrap()),
        detail: String::new(),
    }
}

/// Fills a directory through writes with audit entries; returns the audit sequence numbers.
fn fill(d: &dyn Directory) -> Vec<u64> {
    let lead = Grant::NetworkLead {
        network: NetworkId::new("algebra").unwrap(),
    };
    let mut seqs = Vec::new();
    let writes: Vec<(Vec<DirOp>, AuditEntry)> = vec![
        (
            vec![
                DirOp::PutNetwork(network("literacy")),
                DirOp::PutNetwork(network("algebra")),
            ],
            audit("create_network", "algebra"),
        ),
        (
            vec![
                DirOp::PutSite(site("algebra", "lincoln")),
                DirOp::PutSite(site("algebra", "adams")),
                DirOp::PutSite(site("literacy", "lincoln")),
            ],
            audit("create_site", "lincoln"),
        ),
        (
            vec![
                DirOp::PutMember(member("bea", vec![lead.clone()])),
                DirOp::PutMember(member("ana", vec![])),
                DirOp::PutToken {
                    hash: [1; 32],
                    record: token("tok-b", "bea"),
                },
                DirOp::PutToken {
                    hash: [2; 32],
                    record: token("tok-a", "ana"),
                },
            ],
            audit("add_member", "bea"),
        ),
    ];
    for (ops, entry) in writes {
        seqs.push(d.write_directory(&ops, Some(&entry)).unwrap().unwrap());
    }
    seqs
}

fn check_filled(d: &dyn Directory, seqs: &[u64]) {
    let ids: Vec<String> = d
        .networks()
        .unwrap()
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    assert_eq!(ids, ["algebra", "literacy"]);
    assert_eq!(
        d.network(&NetworkId::new("algebra").unwrap()).unwrap(),
        Some(network("algebra"))
    );
    assert_eq!(d.network(&NetworkId::new("nope").unwrap()).unwrap(), None);
    let sites = d.sites(&NetworkId::new("algebra").unwrap()).unwrap();
    assert_eq!(
        sites,
        vec![site("algebra", "adams"), site("algebra", "lincoln")]
    );
    let members: Vec<String> = d
        .members()
        .unwrap()
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(members, ["ana", "bea"]);
    assert_eq!(
        d.member(&MemberId::new("bea").unwrap())
            .unwrap()
            .unwrap()
            .grants
            .0
            .len(),
        1
    );
    assert_eq!(
        d.token_by_hash(&[1; 32]).unwrap(),
        Some(token("tok-b", "bea"))
    );
    assert_eq!(d.token_by_hash(&[9; 32]).unwrap(), None);
    assert_eq!(
        d.token(&TokenId::new("tok-a").unwrap()).unwrap(),
        Some(([2; 32], token("tok-a", "ana")))
    );
    let tokens: Vec<String> = d
        .tokens()
        .unwrap()
        .iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(tokens, ["tok-a", "tok-b"]);
    // The log keeps every entry, in order, with increasing sequence numbers.
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let log = d.audit_log(0, 100).unwrap();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(log[2].action, "add_member");
    assert_eq!(d.audit_log(seqs[0], 1).unwrap()[0].seq, seqs[1]);
    assert!(d.audit_log(seqs[2], 10).unwrap().is_empty());
}

fn check_changes(d: &dyn Directory) {
    // Revoking replaces the record under the same hash.
    let (hash, mut record) = d.token(&TokenId::new("tok-b").unwrap()).unwrap().unwrap();
    record.revoked_at_ms = Some(9);
    d.write_directory(&[DirOp::PutToken { hash, record }], None)
        .unwrap();
    assert_eq!(
        d.token_by_hash(&[1; 32]).unwrap().unwrap().revoked_at_ms,
        Some(9)
    );
    d.write_directory(&[DirOp::RemoveMember(MemberId::new("ana").unwrap())], None)
        .unwrap();
    assert_eq!(d.member(&MemberId::new("ana").unwrap()).unwrap(), None);
}

fn check_actors(d: &dyn Directory) {
    let ana = MemberId::new("ana").unwrap();
    let bea = MemberId::new("bea").unwrap();
    assert_eq!(d.actor_member(b"actor-1").unwrap(), None);
    assert_eq!(d.bind_actor(b"actor-1", &ana).unwrap(), Binding::Bound);
    assert_eq!(d.bind_actor(b"actor-1", &ana).unwrap(), Binding::Same);
    assert_eq!(
        d.bind_actor(b"actor-1", &bea).unwrap(),
        Binding::Other(ana.clone())
    );
    assert_eq!(d.actor_member(b"actor-1").unwrap(), Some(ana));
}

#[test]
fn mem_directory() {
    let store = MemStore::new();
    let seqs = fill(&store);
    check_filled(&store, &seqs);
    check_actors(&store);
    check_changes(&store);
}

#[test]
fn sled_directory_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let seqs = {
        let store = SledStore::open(&path).unwrap();
        let seqs = fill(&store);
        check_filled(&store, &seqs);
        check_actors(&store);
        store.flush(Durability::Process).unwrap();
        seqs
    };
    let store = SledStore::open(&path).unwrap();
    check_filled(&store, &seqs);
    assert_eq!(
        store.actor_member(b"actor-1").unwrap(),
        Some(MemberId::new("ana").unwrap())
    );
    check_changes(&store);
    // Later entries continue the log after a reopen.
    let next = store
        .write_directory(&[], Some(&audit("noop", "x")))
        .unwrap()
        .unwrap();
    assert!(next > seqs[2]);
}

/// Two hubs on one database: what one writes, the other reads at once; an actor bound by
/// one is bound for both; the audit log continues across them.
#[test]
fn pg_directory_is_shared_by_every_hub_on_the_database() {
    let cluster = PgCluster::shared().expect("a throwaway PostgreSQL server");
    let url = cluster.new_database().unwrap();
    let one = PgStore::open(&url).unwrap();
    let two = PgStore::open(&url).unwrap();
    let seqs = fill(&one);
    check_filled(&one, &seqs);
    check_filled(&two, &seqs);
    check_actors(&two);
    assert_eq!(
        one.actor_member(b"actor-1").unwrap(),
        Some(MemberId::new("ana").unwrap())
    );
    assert_eq!(
        one.bind_actor(b"actor-1", &MemberId::new("bea").unwrap())
            .unwrap(),
        Binding::Other(MemberId::new("ana").unwrap())
    );
    check_changes(&one);
    let next = two
        .write_directory(&[], Some(&audit("noop", "x")))
        .unwrap()
        .unwrap();
    assert!(next > seqs[2]);
}

/// Many hubs binding the same actor ids at once: each id ends up with exactly one member,
/// and exactly one of the racers heard `Bound` for it.
#[test]
fn pg_actor_bindings_stay_unique_across_racing_hubs() {
    let cluster = PgCluster::shared().expect("a throwaway PostgreSQL server");
    let url = cluster.new_database().unwrap();
    let hubs: Vec<PgStore> = (0..4).map(|_| PgStore::open(&url).unwrap()).collect();
    let results: Vec<Vec<Binding>> = std::thread::scope(|s| {
        let handles: Vec<_> = hubs
            .iter()
            .enumerate()
            .map(|(i, hub)| {
                s.spawn(move || {
                    let me = MemberId::new(format!("m{i}")).unwrap();
                    (0..50u8)
                        .map(|a| hub.bind_actor(&[a; 16], &me).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for a in 0..50usize {
        let heard: Vec<&Binding> = results.iter().map(|r| &r[a]).collect();
        let winners: Vec<usize> = (0..heard.len())
            .filter(|&i| *heard[i] == Binding::Bound)
            .collect();
        assert_eq!(winners.len(), 1, "actor {a}: {heard:?}");
        let owner = hubs[0].actor_member(&[a as u8; 16]).unwrap().unwrap();
        assert_eq!(owner.as_str(), format!("m{}", winners[0]));
        for (i, binding) in heard.iter().enumerate() {
            if i != winners[0] {
                assert_eq!(**binding, Binding::Other(owner.clone()));
            }
        }
    }
}
