//! Owner-only folders: a store holds student data and token hashes, so its folder is made
//! `0700` before sled writes anything into it, and the files sled made are tightened to
//! `0600` (sled creates them with the process umask, usually `0644`; inside a `0700` folder
//! they are out of others' reach even so).

use std::io;
use std::path::Path;

/// What [`make_private_dir`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateDir {
    /// The folder was created, owner-only.
    Created,
    /// The folder existed and was owner-only already.
    AlreadyPrivate,
    /// The folder existed with access for others (the mode it had), now removed.
    Tightened(u32),
}

/// Creates `path` (and missing parents) readable by its owner only, or removes group and
/// other access from an existing folder.
pub fn make_private_dir(path: &Path) -> io::Result<PrivateDir> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        match std::fs::metadata(path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 == 0 {
                    return Ok(PrivateDir::AlreadyPrivate);
                }
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
                Ok(PrivateDir::Tightened(mode))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(path)?;
                Ok(PrivateDir::Created)
            }
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let existed = path.exists();
        std::fs::create_dir_all(path)?;
        Ok(if existed {
            PrivateDir::AlreadyPrivate
        } else {
            PrivateDir::Created
        })
    }
}

/// Sets every file under `path` to `0600` and every folder to `0700` (no-op elsewhere than
/// Unix). Symbolic links are left alone.
pub fn tighten_tree(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let mode = if kind.is_dir() {
                tighten_tree(&entry.path())?;
                0o700
            } else if kind.is_file() {
                0o600
            } else {
                continue;
            };
            let current = entry.metadata()?.permissions().mode() & 0o777;
            if current & 0o077 != 0 {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default()
    }

    /// Every folder and file under `root`, root included, with its mode.
    fn modes(root: &Path) -> Vec<(std::path::PathBuf, u32)> {
        let mut out = vec![(root.to_owned(), mode(root))];
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(modes(&path));
            } else {
                out.push((path.clone(), mode(&path)));
            }
        }
        out
    }

    #[test]
    fn a_store_folder_and_its_files_are_owner_only_new_or_existing() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let fresh = tmp.path().join("a").join("store");
        let store = crate::SledStore::open(&fresh).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.folder(), PrivateDir::Created);
        drop(store);
        let open: Vec<_> = modes(&fresh)
            .into_iter()
            .filter(|(_, m)| m & 0o077 != 0)
            .collect();
        assert!(open.is_empty(), "readable by others: {open:?}");
        assert_eq!(mode(&fresh), 0o700);

        // A folder made earlier with the usual 0755, files 0644: tightened, and said so.
        let old = tmp.path().join("old");
        std::fs::create_dir(&old).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(old.join("admin-token"), "x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(
            old.join("admin-token"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let store = crate::SledStore::open(&old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.folder(), PrivateDir::Tightened(0o755));
        let open: Vec<_> = modes(&old)
            .into_iter()
            .filter(|(_, m)| m & 0o077 != 0)
            .collect();
        assert!(open.is_empty(), "readable by others: {open:?}");
        drop(store);
        assert_eq!(
            crate::SledStore::open(&old)
                .map(|s| s.folder())
                .unwrap_or_else(|e| panic!("{e}")),
            PrivateDir::AlreadyPrivate
        );
    }
}
