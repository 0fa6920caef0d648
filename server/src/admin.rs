//! `nic.v1.Admin`: work on the hub as a whole, for its operator — its backup.
//!
//! A backup is taken by the running hub because it must be: sled locks its folder, so no
//! other process can read a running hub's data. The store writes a consistent snapshot
//! (`nic_store::Store::backup`: every write waits while it copies) into an unnamed temporary
//! file in the data folder — on the same disk, owner-only, gone when closed even if the hub
//! dies — and the stream then sends that file in pieces, as slowly as the client reads,
//! without holding writes up any longer.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nic_model::AuditEntry;
use nic_proto::v1::{self, admin_server};
use nic_store::Durability;
use nic_store::backup::{BackupError, BackupFile, BackupSummary};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::HubStore;
use crate::auth::{self, ADMIN_TOKEN_FILE, Caller};
use crate::status::{ApiError, blocking};

/// The most file bytes in one `BackupResponse` (as `admin.proto` promises): well under
/// every client's default 4 MiB message limit.
const PIECE: usize = 1024 * 1024;

/// Pieces read ahead of a slow client.
const AHEAD: usize = 4;

/// The Admin service.
pub struct AdminService {
    pub(crate) store: Arc<dyn HubStore>,
    /// Where the temporary file goes, and the `admin-token` file the backup carries.
    pub(crate) data_dir: PathBuf,
    pub(crate) durability: Durability,
    /// One backup at a time: each takes a copy's worth of disk until its client has it all.
    pub(crate) one_at_a_time: Arc<Semaphore>,
}

impl AdminService {
    /// The service over `store`, whose data folder is `data_dir`.
    pub(crate) fn new(store: Arc<dyn HubStore>, data_dir: PathBuf, durability: Durability) -> Self {
        Self {
            store,
            data_dir,
            durability,
            one_at_a_time: Arc::new(Semaphore::new(1)),
        }
    }
}

/// Takes the snapshot into a temporary file, rewound, then records the backup in the audit
/// log: after the snapshot, so that a store that cannot make one records nothing, and the
/// entry says what was copied.
fn snapshot(
    store: &dyn HubStore,
    data_dir: &Path,
    durability: Durability,
    caller: &Caller,
) -> Result<File, ApiError> {
    let token = match std::fs::read(data_dir.join(ADMIN_TOKEN_FILE)) {
        Ok(token) => Some(token),
        // The operator may have moved it away; the backup then carries none.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(io_error("cannot read the data folder's admin-token file")(
                e,
            ));
        }
    };
    let files: Vec<BackupFile<'_>> = token
        .as_deref()
        .map(|contents| BackupFile {
            name: ADMIN_TOKEN_FILE,
            contents,
        })
        .into_iter()
        .collect();
    let mut file = tempfile::tempfile_in(data_dir).map_err(io_error(format!(
        "cannot make the backup's temporary file in {}",
        data_dir.display()
    )))?;
    let summary = store.backup(&mut file, &files)?;
    file.seek(SeekFrom::Start(0))
        .map_err(io_error("cannot read the backup's temporary file back"))?;
    let entry = AuditEntry {
        seq: 0,
        at_ms: auth::now_ms(),
        by: caller.member.id.clone(),
        action: "backup".into(),
        target: "hub".into(),
        network: None,
        detail: describe(&summary),
    };
    store.write_directory(&[], Some(&entry))?;
    store.flush(durability)?;
    Ok(file)
}

/// The audit entry's detail: what the backup holds.
fn describe(summary: &BackupSummary) -> String {
    let files = if summary.files.is_empty() {
        "none".to_owned()
    } else {
        summary.files.join(", ")
    };
    format!(
        "{} bytes: {} trees, {} entries; files: {files}",
        summary.bytes, summary.trees, summary.entries
    )
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ApiError {
    let what = what.into();
    move |source| ApiError::Backup(BackupError::Io { what, source })
}

/// Sends `file` in pieces until it ends or the client goes away; on a blocking thread, as
/// the reads are. The permit is held until then.
fn send_file(
    mut file: File,
    tx: &mpsc::Sender<Result<v1::BackupResponse, Status>>,
    _permit: OwnedSemaphorePermit,
) {
    loop {
        let mut data = Vec::with_capacity(PIECE);
        let read = (&mut file).take(PIECE as u64).read_to_end(&mut data);
        let message = match read {
            Ok(0) => return,
            Ok(_) => Ok(v1::BackupResponse { data }),
            Err(e) => Err(Status::from(io_error(
                "cannot read the backup's temporary file",
            )(e))),
        };
        let failed = message.is_err();
        // Fails only when the client has gone: the file is dropped (and deleted) then.
        if tx.blocking_send(message).is_err() || failed {
            return;
        }
    }
}

#[tonic::async_trait]
impl admin_server::Admin for AdminService {
    type BackupStream = ReceiverStream<Result<v1::BackupResponse, Status>>;

    async fn backup(
        &self,
        request: Request<v1::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let caller = auth::caller(&request)?;
        if !caller.member.grants.is_hub_admin() {
            return Err(ApiError::PermissionDenied(
                "only a hub admin may take a backup of the hub (it holds every network's data)"
                    .into(),
            )
            .into());
        }
        let permit = self
            .one_at_a_time
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                ApiError::ResourceExhausted(
                    "another backup is being taken; try again when it is done".into(),
                )
            })?;
        let (store, data_dir, durability) =
            (self.store.clone(), self.data_dir.clone(), self.durability);
        let file =
            blocking(move || snapshot(store.as_ref(), &data_dir, durability, &caller)).await?;
        let (tx, rx) = mpsc::channel(AHEAD);
        tokio::task::spawn_blocking(move || send_file(file, &tx, permit));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
