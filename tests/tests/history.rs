//! A document's history through the client library: who changed what and when. Every
//! change of the document comes back once, in a causal order, with its message, time and
//! the member behind its actor; offline, a replica still names its own changes (from the
//! hub's last welcome) and leaves the others' unnamed rather than guessing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use nic_client::{Client, ClientError, ReplicaConfig, Storage};
use nic_e2e::TestHub;
use nic_model::schema::Text;
use nic_model::schema::pdsa::{Decision, PdsaCycle};
use nic_model::{DocumentId, NetworkId, SiteId};
use nic_proto::v1;

const WAIT: Duration = Duration::from_secs(20);

fn on_disk(url: &str, token: &str, dir: &Path) -> ReplicaConfig {
    ReplicaConfig::new(url, token).storage(Storage::Dir(dir.to_owned()))
}

/// Each change's hash comes after the hashes it depends on, and every change of the
/// document is listed exactly once.
async fn assert_complete_and_causal(client: &Client, doc: DocumentId, hashes: &[String]) {
    let (all, deps) = client
        .read(doc, |am| {
            let changes = am.get_changes(&[]);
            let all: HashSet<String> = changes.iter().map(|c| c.hash().to_string()).collect();
            let deps: Vec<(String, Vec<String>)> = changes
                .iter()
                .map(|c| {
                    (
                        c.hash().to_string(),
                        c.deps().iter().map(ToString::to_string).collect(),
                    )
                })
                .collect();
            (all, deps)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hashes.len(), all.len(), "each change once");
    assert_eq!(hashes.iter().cloned().collect::<HashSet<_>>(), all);
    for (hash, needs) in deps {
        let at = hashes.iter().position(|h| *h == hash).unwrap();
        for dep in needs {
            let before = hashes.iter().position(|h| *h == dep).unwrap();
            assert!(before < at, "{dep} is listed after {hash}, which needs it");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_names_who_changed_what_and_when_and_never_guesses_offline() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(&dir.path().join("hub")).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    let sam_token = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let lena_token = hub
        .member("lena", v1::Role::NetworkLead, "algebra", "")
        .await;
    let network = NetworkId::new("algebra").unwrap();

    let sam = Client::open(on_disk(&hub.url, &sam_token, &dir.path().join("sam")))
        .await
        .unwrap();
    let cycle = PdsaCycle {
        change_idea_id: "number-talks".into(),
        cycle_number: 1,
        ..PdsaCycle::default()
    };
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let doc = sam
        .network(network.clone())
        .await
        .unwrap()
        .create_at(SiteId::new("lincoln").unwrap(), "Number talks", &cycle)
        .await
        .unwrap();
    sam.change::<PdsaCycle>(doc, "Study: results", |c| {
        c.study.learning = Text::with_value("Most finished.");
    })
    .await
    .unwrap();
    sam.wait_synced(WAIT).await.unwrap();

    let lena = Client::open(on_disk(&hub.url, &lena_token, &dir.path().join("lena")))
        .await
        .unwrap();
    lena.network(network.clone()).await.unwrap();
    lena.wait_for(doc, WAIT, |am| {
        nic_model::schema::read::<PdsaCycle, _>(am, nic_model::DocKind::PdsaCycle).is_ok()
    })
    .await
    .unwrap();
    lena.change::<PdsaCycle>(doc, "Act: decision", |c| {
        c.act.decision = Some(Decision::Adopt);
    })
    .await
    .unwrap();
    lena.wait_synced(WAIT).await.unwrap();
    sam.wait_for(doc, WAIT, |am| {
        nic_model::schema::read::<PdsaCycle, _>(am, nic_model::DocKind::PdsaCycle)
            .is_ok_and(|c| c.act.decision.is_some())
    })
    .await
    .unwrap();

    // Both replicas tell the same story: what, who, and a time from the authors' devices.
    for reader in [&sam, &lena] {
        let history = reader.history(doc).await.unwrap();
        let told: Vec<(Option<&str>, Option<&str>)> = history
            .iter()
            .map(|c| (c.message.as_deref(), c.author.as_ref().map(|m| m.as_str())))
            .collect();
        assert_eq!(
            told,
            [
                (Some("Create pdsa_cycle"), Some("sam")),
                (Some("Study: results"), Some("sam")),
                (Some("Act: decision"), Some("lena")),
            ]
        );
        assert!(history.iter().all(|c| c.time_ms >= started), "{history:?}");
        let hashes: Vec<String> = history.iter().map(|c| c.hash.to_string()).collect();
        assert_complete_and_causal(reader, doc, &hashes).await;
    }
    assert_eq!(&sam.history(doc).await.unwrap()[0].actor, sam.actor());

    // A document this replica does not hold is named as unknown, not shown empty.
    let elsewhere = DocumentId::from_bytes([7; 16]);
    assert!(matches!(
        sam.history(elsewhere).await,
        Err(ClientError::UnknownDocument(d)) if d == elsewhere
    ));

    // Offline (the hub's address refuses), sam's replica names his own changes from the
    // hub's last welcome, and lena's as unknown: no author is made up.
    sam.close().await.unwrap();
    lena.close().await.unwrap();
    let offline = Client::open(on_disk(
        "http://127.0.0.1:9",
        &sam_token,
        &dir.path().join("sam"),
    ))
    .await
    .unwrap();
    let told: Vec<Option<String>> = offline
        .history(doc)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.author.map(|m| m.as_str().to_owned()))
        .collect();
    assert_eq!(told, [Some("sam".into()), Some("sam".into()), None]);
}
