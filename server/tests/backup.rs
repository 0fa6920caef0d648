//! `nic-hub backup` and `nic-hub restore`, end to end with the real binary: a hub on sled
//! under a steady write load from three clients is backed up mid-way and keeps being written
//! to; the backup restores into a fresh folder, where a new hub serves every change
//! acknowledged before the backup started, the directory (an old token connects and reads)
//! and the audit log; a cut or bit-flipped copy of the file is refused.
//!
//! Deterministic: port 0, no sleeps (every wait is for an acknowledgement, a document or a
//! process), and the seeded choices — the values written, how many acknowledgements each
//! writer waits for before the backup, where the file is cut and which bit flips — print
//! their seed; `NIC_BACKUP_SEED` replays one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nic_client::{Client, Target};
use nic_hub::testing::ChildHub;
use nic_model::{DocumentId, PeerId};
use nic_proto::auth::{AuthedChannel, Bearer};
use nic_proto::v1::{self, directory_client::DirectoryClient, documents_client::DocumentsClient};
use nic_sync::Notification;
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ChangeHash, ObjType, ROOT, ReadDoc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{broadcast, watch};
use tonic::transport::Channel;

const BIN: &str = env!("CARGO_BIN_EXE_nic-hub");
/// Clients writing at once.
const WRITERS: usize = 3;
/// Most edits one writer makes: the load is bounded in count (it is stopped long before)…
const MAX_EDITS: usize = 50_000;
/// …and in time: every wait fails the test after this.
const WAIT: Duration = Duration::from_secs(60);
/// Acknowledgements each writer must still get after the backup: writing went on.
const ACKS_AFTER: u64 = 10;
/// Edits a writer makes before it waits for the hub to have them all: a steady load that a
/// debug build of the hub on two cores keeps up with, rather than a flood.
const BURST: usize = 10;

/// A `nic-hub` child serving `dir` on a free port (blocks until it listens).
async fn start(dir: &Path) -> ChildHub {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || ChildHub::serve(Path::new(BIN), &dir))
        .await
        .unwrap()
        .unwrap()
}

/// Runs `nic-hub` with `args` to the end.
async fn nic_hub(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    tokio::task::spawn_blocking(move || Command::new(BIN).args(args).output())
        .await
        .unwrap()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn authed(url: &str, token: &str) -> AuthedChannel {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    Bearer::new(token).unwrap().on(channel)
}

fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(nic_hub::auth::ADMIN_TOKEN_FILE))
        .unwrap()
        .trim()
        .to_owned()
}

/// A PDSA cycle with a notes text (the hub takes only content that reads as its kind).
fn worksheet() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "kind", "pdsa_cycle")?;
        tx.put(ROOT, "title", "Warm-up problems")?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        Ok(())
    })
    .unwrap();
    doc
}

fn has_notes(am: &Automerge) -> bool {
    am.get(ROOT, "notes").ok().flatten().is_some()
}

/// The integer keys `w…` of a document at `heads` (every key, without heads).
fn written(am: &Automerge, heads: Option<&[ChangeHash]>) -> BTreeMap<String, i64> {
    let keys: Vec<String> = match heads {
        Some(h) => am.keys_at(ROOT, h).collect(),
        None => am.keys(ROOT).collect(),
    };
    keys.into_iter()
        .filter(|k| k.starts_with('w'))
        .filter_map(|k| {
            let value = match heads {
                Some(h) => am.get_at(ROOT, k.as_str(), h),
                None => am.get(ROOT, k.as_str()),
            };
            let n = value.ok().flatten().and_then(|(v, _)| v.as_i64())?;
            Some((k, n))
        })
        .collect()
}

/// Every audit entry the hub admin reads, oldest first.
async fn audit_log(url: &str, token: &str) -> Vec<v1::AuditEntry> {
    let mut directory = DirectoryClient::new(authed(url, token).await);
    let mut entries = Vec::new();
    let mut after_seq = 0;
    loop {
        let page = directory
            .list_audit_log(v1::ListAuditLogRequest {
                network_id: String::new(),
                after_seq,
                page_size: 1000,
            })
            .await
            .unwrap()
            .into_inner();
        entries.extend(page.entries);
        if page.next_after_seq == 0 {
            return entries;
        }
        after_seq = page.next_after_seq;
    }
}

/// A client writing `w{n}-{i}` keys to its own document in bursts, and what the hub has
/// acknowledged of it.
struct Writer {
    n: usize,
    client: Client,
    doc: DocumentId,
    /// Acknowledgements so far, and the heads of the latest.
    acked: watch::Receiver<(u64, Vec<ChangeHash>)>,
    task: Option<tokio::task::JoinHandle<usize>>,
}

impl Writer {
    /// Connects and loads the document; writes nothing yet.
    async fn connect(n: usize, url: &str, token: &str, doc: DocumentId) -> Writer {
        let peer = PeerId::new(format!("writer-{n}")).unwrap();
        let client = Client::connect(url, peer, token).await.unwrap();
        client.subscribe(Target::Docs(vec![doc])).await.unwrap();
        client.wait_for(doc, WAIT, has_notes).await.unwrap();
        let (tx, acked) = watch::channel((0, Vec::new()));
        let mut events = client.events();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(Notification::Acked { doc: d, heads, .. }) if d == doc => {
                        tx.send_modify(|(count, latest)| {
                            *count += 1;
                            *latest = heads;
                        });
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Writer {
            n,
            client,
            doc,
            acked,
            task: None,
        }
    }

    /// Starts writing seeded values until `stop` (or `MAX_EDITS`); the task counts edits.
    fn write(&mut self, rng: &mut ChaCha8Rng, stop: Arc<AtomicBool>) {
        let values: Vec<i64> = (0..MAX_EDITS)
            .map(|_| rng.random_range(0..1_000_000))
            .collect();
        let (editor, doc, n) = (self.client.clone(), self.doc, self.n);
        self.task = Some(tokio::spawn(async move {
            for (i, value) in values.into_iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    return i;
                }
                let key = format!("w{n}-{i}");
                let edit = editor.edit(doc, move |am| {
                    am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key.as_str(), value))
                        .is_ok()
                });
                if !matches!(edit.await, Ok(true)) {
                    return i;
                }
                if (i + 1) % BURST == 0 && editor.wait_saved(doc, WAIT).await.is_err() {
                    return i + 1;
                }
            }
            MAX_EDITS
        }));
    }

    /// Waits until the hub has acknowledged at least `count` times.
    async fn acks(&mut self, count: u64) {
        tokio::time::timeout(WAIT, self.acked.wait_for(|(n, _)| *n >= count))
            .await
            .expect("acknowledgements in time")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_everything_acknowledged_before_it() {
    let seed: u64 = std::env::var("NIC_BACKUP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    println!("backup test: seed {seed} (replay with NIC_BACKUP_SEED={seed})");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("live");
    let hub = start(&live).await;
    let url = hub.url();
    let admin = admin_token(&live);

    // The directory: a network, a site, a teacher with a token of their own.
    let mut directory = DirectoryClient::new(authed(&url, &admin).await);
    directory
        .create_network(v1::CreateNetworkRequest {
            network_id: "algebra".into(),
            name: "Algebra I".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    directory
        .create_site(v1::CreateSiteRequest {
            network_id: "algebra".into(),
            site_id: "lincoln".into(),
            name: "Lincoln High".into(),
        })
        .await
        .unwrap();
    directory
        .add_member(v1::AddMemberRequest {
            member: Some(v1::Member {
                member_id: "teacher".into(),
                display_name: "A teacher".into(),
                role: v1::Role::SiteMember as i32,
                network_ids: vec!["algebra".into()],
                site_id: "lincoln".into(),
            }),
        })
        .await
        .unwrap();
    let issued = directory
        .issue_token(v1::IssueTokenRequest {
            member_id: "teacher".into(),
            label: "laptop".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let teacher = issued.secret.clone();
    let teacher_token_id = issued.token.unwrap().token_id;

    // One document per writer, at the teacher's site.
    let mut documents = DocumentsClient::new(authed(&url, &admin).await);
    let mut docs = Vec::new();
    for n in 0..WRITERS {
        let reply = documents
            .create(v1::CreateDocumentRequest {
                kind: v1::DocKind::PdsaCycle as i32,
                network_id: "algebra".into(),
                site_id: "lincoln".into(),
                visibility: v1::Visibility::Network as i32,
                title: format!("cycle {n}"),
                initial: Some(worksheet().save()),
                doc_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        docs.push(reply.meta.unwrap().doc_id.parse::<DocumentId>().unwrap());
    }

    // The load: the teacher writes two documents, the hub admin the third.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, doc) in docs.iter().enumerate() {
        let token = if n == WRITERS - 1 { &admin } else { &teacher };
        writers.push(Writer::connect(n, &url, token, *doc).await);
    }
    for writer in &mut writers {
        writer.write(&mut rng, stop.clone());
    }
    for writer in &mut writers {
        let before = rng.random_range(20..=60);
        writer.acks(before).await;
    }

    // What was acknowledged before the backup starts must come back; so must the directory
    // and the audit log as they are now.
    let mut acknowledged = Vec::new();
    for writer in &writers {
        let (count, heads) = writer.acked.borrow().clone();
        let keys = writer
            .client
            .read(writer.doc, move |am| written(am, Some(heads.as_slice())))
            .await
            .unwrap()
            .unwrap();
        assert!(!keys.is_empty(), "{count} acknowledgements, no keys");
        acknowledged.push((writer.doc, keys, count));
    }
    let audit_before = audit_log(&url, &admin).await;

    let file = tmp.path().join("hub.nicbak");
    let token_file = live.join(nic_hub::auth::ADMIN_TOKEN_FILE);
    let backup = nic_hub(&[
        &"backup",
        &"--hub",
        &url,
        &"--token-file",
        &token_file,
        &"-o",
        &file,
    ])
    .await;
    assert!(backup.status.success(), "backup failed: {}", text(&backup));
    println!("{}", text(&backup).trim());

    // Writing went on during the backup, and goes on after it.
    for (writer, (_, _, count)) in writers.iter_mut().zip(&acknowledged) {
        writer.acks(count + ACKS_AFTER).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut edits = 0;
    for writer in writers {
        edits += writer.task.expect("writing").await.unwrap();
        writer.client.close().await.unwrap();
    }
    let backups: Vec<_> = audit_log(&url, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "backup")
        .collect();
    assert_eq!(backups.len(), 1, "the live hub's log records the backup");
    let (status, _) = tokio::task::spawn_blocking(move || hub.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the hub stopped badly: {status}");

    // Damaged copies are refused, and make nothing.
    let bytes = std::fs::read(&file).unwrap();
    let cut_at = rng.random_range(bytes.len() / 10..bytes.len());
    let mut flipped = bytes.clone();
    let (at, bit) = (rng.random_range(20..bytes.len()), rng.random_range(0..8));
    flipped[at] ^= 1 << bit;
    println!(
        "the backup has {} bytes; cut at {cut_at}, bit {bit} of byte {at} flipped",
        bytes.len()
    );
    for (name, damaged) in [("cut", &bytes[..cut_at]), ("flipped", &flipped[..])] {
        let copy = tmp.path().join(format!("{name}.nicbak"));
        std::fs::write(&copy, damaged).unwrap();
        let target = tmp.path().join(name);
        let refused = nic_hub(&[&"restore", &"--from", &copy, &"--data-dir", &target]).await;
        assert!(!refused.status.success(), "{name}: restored a damaged file");
        assert!(
            text(&refused).contains("damaged"),
            "{name}: {}",
            text(&refused)
        );
        assert!(
            !target.exists(),
            "{name}: a refused restore made its folder"
        );
    }

    // The real restore, once; a second one into the same folder is refused.
    let restored = tmp.path().join("restored");
    let restore = nic_hub(&[&"restore", &"--from", &file, &"--data-dir", &restored]).await;
    assert!(
        restore.status.success(),
        "restore failed: {}",
        text(&restore)
    );
    let again = nic_hub(&[&"restore", &"--from", &file, &"--data-dir", &restored]).await;
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));
    assert_eq!(
        admin_token(&restored),
        admin,
        "the admin's token file came back"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let token_file = restored.join(nic_hub::auth::ADMIN_TOKEN_FILE);
        let mode = std::fs::metadata(token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let hub = start(&restored).await;
    let url = hub.url();
    // Every acknowledged change is in the hub's saved copies.
    let mut documents = DocumentsClient::new(authed(&url, &admin).await);
    for (doc, keys, _) in &acknowledged {
        let saved = documents
            .get(v1::GetDocumentRequest {
                doc_id: doc.to_string(),
            })
            .await
            .unwrap()
            .into_inner();
        let saved = written(&Automerge::load(&saved.document).unwrap(), None);
        let missing: Vec<_> = keys
            .iter()
            .filter(|(k, v)| saved.get(*k) != Some(v))
            .collect();
        assert!(
            missing.is_empty(),
            "acknowledged before the backup but not restored: {missing:?} (seed {seed})"
        );
    }
    // The teacher's old token connects, reads every document and writes again.
    let reader = Client::connect(&url, PeerId::new("teacher-after").unwrap(), &teacher)
        .await
        .unwrap();
    reader.subscribe(Target::Docs(docs.clone())).await.unwrap();
    for (doc, keys, _) in acknowledged.clone() {
        reader
            .wait_for(doc, WAIT, move |am| {
                let now = written(am, None);
                keys.iter().all(|(k, v)| now.get(k) == Some(v))
            })
            .await
            .unwrap();
    }
    let edited = reader
        .edit(docs[0], |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "w-after", 1_i64))
                .is_ok()
        })
        .await
        .unwrap();
    assert!(edited);
    reader.wait_saved(docs[0], WAIT).await.unwrap();
    reader.close().await.unwrap();
    let mut as_teacher = DirectoryClient::new(authed(&url, &teacher).await);
    let me = as_teacher
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.member.unwrap().member_id, "teacher");
    assert_eq!(me.token.unwrap().token_id, teacher_token_id);

    // The directory and the audit log came back, and new entries follow the old ones.
    let mut directory = DirectoryClient::new(authed(&url, &admin).await);
    let members = directory
        .list_members(v1::ListMembersRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .members;
    assert!(
        members
            .iter()
            .any(|m| m.member_id == "teacher" && m.site_id == "lincoln"),
        "{members:?}"
    );
    directory
        .issue_token(v1::IssueTokenRequest {
            member_id: "teacher".into(),
            label: "after the restore".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let audit_after = audit_log(&url, &admin).await;
    assert_eq!(
        audit_after[..audit_before.len()],
        audit_before[..],
        "the audit log as it was before the backup"
    );
    let newest = audit_after.last().unwrap();
    assert_eq!(
        (newest.action.as_str(), newest.detail.as_str()),
        ("issue_token", "for teacher"),
        "{newest:?}"
    );
    assert!(newest.seq > audit_before.last().unwrap().seq);
    let (status, _) = tokio::task::spawn_blocking(move || hub.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    println!(
        "{edits} edits by {WRITERS} writers; {} acknowledged before the backup came back",
        acknowledged.iter().map(|(_, k, _)| k.len()).sum::<usize>()
    );
}
