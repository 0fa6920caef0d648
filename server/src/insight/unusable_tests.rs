//! Insight lists the documents it could not use (`UnusableDocument`) instead of leaving
//! them out silently — only those the caller may read. The documents go straight into a
//! store, as a hub that accepted them before it checked content would hold them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use nic_model::schema::{self, pdsa::PdsaCycle};
use nic_model::{
    DocKind, DocMeta, DocumentId, Grant, Grants, Member, MemberId, NetworkId, SiteId, TokenId,
    Visibility,
};
use nic_proto::v1;
use nic_store::{DirOp, Directory, MemStore, Store};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{self, ROOT};

use super::Ctx;
use crate::auth::Caller;
use crate::loads::DocLoads;

fn network() -> NetworkId {
    NetworkId::new("algebra").unwrap()
}

fn put(store: &MemStore, n: u8, site: &str, vis: Visibility, bytes: Vec<u8>) -> DocumentId {
    put_kind(store, n, DocKind::PdsaCycle, Some(site), vis, bytes)
}

fn put_kind(
    store: &MemStore,
    n: u8,
    kind: DocKind,
    site: Option<&str>,
    vis: Visibility,
    bytes: Vec<u8>,
) -> DocumentId {
    let meta = DocMeta {
        id: DocumentId::from_bytes([n; 16]),
        kind,
        network: network(),
        site: site.map(|s| SiteId::new(s).unwrap()),
        visibility: vis,
        title: format!("cycle {n}"),
        created_at_ms: 0,
        archived: false,
    };
    store.put_meta(&meta).unwrap();
    store.append(&meta.id, &bytes).unwrap();
    meta.id
}

/// A cycle that reads as one.
fn good() -> Vec<u8> {
    let value = PdsaCycle {
        change_idea_id: "talks".into(),
        cycle_number: 1,
        ..PdsaCycle::default()
    };
    schema::new_document(DocKind::PdsaCycle, &value)
        .unwrap()
        .save()
}

/// A "cycle" a tool wrote against another shape: its cycle number is a string.
fn malformed() -> Vec<u8> {
    let mut am = automerge::Automerge::load(&good()).unwrap();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "cycle_number", "one").map(|_| ())
    })
    .unwrap();
    am.save()
}

/// A request context for sam, a site member at lincoln of network algebra.
fn sam(store: Arc<MemStore>) -> Ctx {
    let algebra = nic_model::Network {
        id: network(),
        name: "Algebra".into(),
        description: String::new(),
        min_cell_size: 10,
        created_at_ms: 0,
        public_dashboard: false,
    };
    store
        .write_directory(&[DirOp::PutNetwork(algebra)], None)
        .unwrap();
    Ctx {
        store: store.clone(),
        directory: store,
        loads: Arc::new(DocLoads::new(nic_sync::inspect::Limits::DEFAULT, 1 << 26)),
        caller: Caller {
            member: Member {
                id: MemberId::new("sam").unwrap(),
                name: "Sam".into(),
                grants: Grants(vec![Grant::SiteMember {
                    network: network(),
                    site: SiteId::new("lincoln").unwrap(),
                }]),
                created_at_ms: 0,
            },
            token: TokenId::new("t1").unwrap(),
        },
        unusable: super::load::Unusable::default(),
    }
}

#[test]
fn a_malformed_cycle_the_caller_may_read_is_listed_with_the_reason_and_no_other() {
    let store = Arc::new(MemStore::new());
    let fine = put(&store, 1, "lincoln", Visibility::Network, good());
    let broken = put(&store, 2, "lincoln", Visibility::Network, malformed());
    // Adams's private broken cycle: not sam's to read, so not even its id shows.
    let hidden = put(&store, 3, "adams", Visibility::Site, malformed());
    let ctx = sam(store);

    let check = |listed: &[v1::UnusableDocument]| {
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].doc_id, broken.to_string());
        assert_eq!(listed[0].kind, v1::DocKind::PdsaCycle as i32);
        // The schema's own words follow (the field and the rule, as it names them).
        assert!(
            listed[0]
                .reason
                .starts_with("it does not read as a pdsa_cycle: "),
            "{}",
            listed[0].reason
        );
        assert!(listed.iter().all(|u| u.doc_id != hidden.to_string()));
        assert!(listed.iter().all(|u| u.doc_id != fine.to_string()));
    };
    let overview = ctx.overview(&network()).unwrap();
    assert_eq!(overview.cycles, 1, "only the good cycle counts");
    check(&overview.unusable_documents);
    check(&ctx.district().unwrap().unusable_documents);
    let export = ctx
        .export(&v1::ExportRequest {
            table: Some(v1::export_request::Table::Cycles(
                v1::CompareCyclesRequest {
                    network_id: "algebra".into(),
                    change_idea: "talks".into(),
                },
            )),
            ..Default::default()
        })
        .unwrap();
    check(&export.unusable_documents);
}

#[test]
fn nothing_is_listed_when_every_document_reads() {
    let store = Arc::new(MemStore::new());
    put(&store, 1, "lincoln", Visibility::Network, good());
    let ctx = sam(store);
    assert!(
        ctx.overview(&network())
            .unwrap()
            .unusable_documents
            .is_empty()
    );
}

/// Every site's measure data feeds a series (others see it suppressed), so the hub reads
/// documents the caller may not: those never show among the unusable ones either.
#[test]
fn a_series_lists_broken_measure_data_of_the_callers_site_only() {
    use nic_model::schema::measure::{MeasureData, MeasureDefinition};
    let store = Arc::new(MemStore::new());
    let def = MeasureDefinition::default();
    let measure = put_kind(
        &store,
        10,
        DocKind::MeasureDefinition,
        None,
        Visibility::Network,
        schema::new_document(DocKind::MeasureDefinition, &def)
            .unwrap()
            .save(),
    );
    let broken_data = |n: u8, site: &str| {
        let data = MeasureData {
            measure_id: measure.to_string(),
            ..MeasureData::default()
        };
        let mut am = automerge::Automerge::load(
            &schema::new_document(DocKind::MeasureData, &data)
                .unwrap()
                .save(),
        )
        .unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "measure_id", 7).map(|_| ())
        })
        .unwrap();
        put_kind(
            &store,
            n,
            DocKind::MeasureData,
            Some(site),
            Visibility::Site,
            am.save(),
        )
    };
    let ours = broken_data(11, "lincoln");
    let theirs = broken_data(12, "adams");
    let ctx = sam(store);
    ctx.measure(
        &measure.to_string(),
        nic_insight::RuleSet::Ihi,
        "",
        nic_insight::series::Reference::All,
    )
    .unwrap();
    let listed: Vec<String> = ctx.unusable(None).into_iter().map(|u| u.doc_id).collect();
    assert_eq!(listed, vec![ours.to_string()], "not {theirs}");
}
