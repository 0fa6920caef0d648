//! `Documents.Create` with a client-chosen id is a compare-and-set: two members of
//! different networks racing to create the same id cannot both be acknowledged (one
//! network's site-private content would become readable by the other, and an acknowledged
//! document would leave its network).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{TestHub, put, worksheet};
use nic_model::DocumentId;
use nic_proto::v1;
use nic_sync::automerge::{ROOT, ReadDoc};

const TRIES: usize = 150;

fn request(network: &str, site: &str, id: DocumentId, marker: &str) -> v1::CreateDocumentRequest {
    let mut content = worksheet();
    put(&mut content, marker, 1);
    v1::CreateDocumentRequest {
        kind: v1::DocKind::PdsaCycle as i32,
        network_id: network.into(),
        site_id: site.into(),
        visibility: v1::Visibility::Site as i32,
        title: format!("{network} private"),
        initial: Some(content.save()),
        doc_id: id.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_id_from_two_networks_never_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("north", &["n1"]).await;
    hub.ensure_network("south", &["s1"]).await;
    let north = hub
        .member("nora", v1::Role::SiteMember, "north", "n1")
        .await;
    let south = hub.member("sol", v1::Role::SiteMember, "south", "s1").await;
    let mut a = hub.documents_as(&north).await;
    let mut b = hub.documents_as(&south).await;
    let mut rng = rand::rng();
    let mut both = 0;
    for _ in 0..TRIES {
        let id = DocumentId::random(&mut rng);
        let (ra, rb) = tokio::join!(
            a.create(request("north", "n1", id, "north-secret")),
            b.create(request("south", "s1", id, "south-secret")),
        );
        let winner = match (&ra, &rb) {
            (Ok(_), Ok(_)) => {
                both += 1;
                continue;
            }
            (Ok(_), Err(s)) | (Err(s), Ok(_)) => {
                assert_eq!(s.code(), tonic::Code::AlreadyExists, "{s}");
                if ra.is_ok() { "north" } else { "south" }
            }
            (Err(x), Err(y)) => panic!("neither creation succeeded: {x} / {y}"),
        };
        // What is stored is the winner's, whole: its network and its content.
        let stored = hub.saved(id).await;
        let marker = format!("{winner}-secret");
        assert!(stored.get(ROOT, marker.as_str()).unwrap().is_some());
        let other = if winner == "north" {
            "south-secret"
        } else {
            "north-secret"
        };
        assert!(
            stored.get(ROOT, other).unwrap().is_none(),
            "the loser's content was stored"
        );
        let meta = hub
            .documents()
            .await
            .list(v1::ListDocumentsRequest {
                network_id: winner.into(),
                // One network may win every race: more than a default page of 100.
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .documents;
        assert!(meta.iter().any(|m| m.doc_id == id.to_string()));
    }
    assert_eq!(
        both, 0,
        "{both} of {TRIES} racing creations were both acknowledged"
    );
    hub.stop().await;
}
