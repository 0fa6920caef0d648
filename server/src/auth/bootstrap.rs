//! The first start: a hub with no hub admin makes one, issues their token and writes it to a
//! file in the data folder that only the hub's user may read, so `nic-hub serve` works alone
//! and the admin can go on from there.

use std::io::Write;
use std::path::{Path, PathBuf};

use nic_model::{AuditEntry, Grant, Grants, Member, MemberId, TokenRecord};
use nic_store::{DirOp, Directory, Durability, Store, StoreError};

use super::token;

/// The file in the data folder that holds the hub admin's first token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Why the first start could not make the hub admin.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The directory could not be read or written.
    #[error("cannot set up the hub admin in the directory: {0}")]
    Store(#[from] StoreError),
    /// The token file could not be written.
    #[error("cannot write the hub admin's token to {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes the hub admin if the directory has none: member `admin`, a token without expiry,
/// written to `<data_dir>/admin-token` (mode 0600). Returns the file's path when it wrote
/// one. The token itself is never logged.
pub fn bootstrap_admin<S: Store + Directory + ?Sized>(
    store: &S,
    data_dir: &Path,
    now_ms: i64,
) -> Result<Option<PathBuf>, BootstrapError> {
    if store.members()?.iter().any(|m| m.grants.is_hub_admin()) {
        return Ok(None);
    }
    let id = MemberId::new("admin").unwrap_or_else(|_| unreachable!("a valid literal id"));
    let (secret, hash, token_id) = token::issue(&mut rand::rng());
    let member = Member {
        id: id.clone(),
        name: "Hub admin".into(),
        grants: Grants(vec![Grant::HubAdmin]),
        created_at_ms: now_ms,
    };
    let record = TokenRecord {
        id: token_id.clone(),
        member: id.clone(),
        label: "first start".into(),
        created_at_ms: now_ms,
        expires_at_ms: None,
        revoked_at_ms: None,
    };
    let audit = AuditEntry {
        seq: 0,
        at_ms: now_ms,
        by: id.clone(),
        action: "bootstrap_admin".into(),
        target: id.to_string(),
        network: None,
        detail: format!("token {token_id} written to the data folder's {ADMIN_TOKEN_FILE}"),
    };
    // The file first: a token that was stored but never shown would lock the admin out.
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    write_private(&path, secret.expose()).map_err(|source| BootstrapError::File {
        path: path.clone(),
        source,
    })?;
    store.write_directory(
        &[DirOp::PutMember(member), DirOp::PutToken { hash, record }],
        Some(&audit),
    )?;
    store.flush(Durability::PowerSafe)?;
    Ok(Some(path))
}

/// Writes `secret` and a newline to `path`, readable and writable by the owner only.
fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // An existing file keeps its old mode through `open`; set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nic_store::MemStore;

    #[test]
    fn first_start_makes_one_admin_with_a_private_token_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let store = MemStore::new();
        let path = bootstrap_admin(&store, dir.path(), 5)
            .unwrap_or_default()
            .unwrap_or_default();
        let secret = std::fs::read_to_string(&path).unwrap_or_default();
        let record = store
            .token_by_hash(&token::hash(secret.trim()))
            .unwrap_or_default();
        assert_eq!(record.map(|r| r.member.to_string()), Some("admin".into()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.unwrap_or_default(), 0o600);
        }
        // A second start leaves the admin and the file alone.
        assert_eq!(
            bootstrap_admin(&store, dir.path(), 6).unwrap_or_default(),
            None
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), secret);
        assert_eq!(store.audit_log(0, 10).unwrap_or_default().len(), 1);
    }
}
