//! The published schema (`docs/schema/*.schema.json` and `docs/SCHEMA.md`) is generated
//! from the types: this test fails when a checked-in file differs from what the types say.
//! Regenerate with `NIC_WRITE_SCHEMA=1 cargo test -p nic-model --test published_schema`.

use std::path::PathBuf;

use nic_model::DocKind;
use nic_model::schema::{json_schema, reference};

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn expected() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = DocKind::ALL
        .iter()
        .map(|k| {
            (
                docs()
                    .join("schema")
                    .join(format!("{}.schema.json", k.as_str())),
                json_schema::render(*k),
            )
        })
        .collect();
    files.push((docs().join("SCHEMA.md"), reference::render()));
    files
}

#[test]
fn the_published_schema_matches_the_types() {
    let write = std::env::var_os("NIC_WRITE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for (path, want) in expected() {
        if write {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create docs/schema");
            std::fs::write(&path, &want).expect("write the schema");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing: {stale:?}; regenerate with `NIC_WRITE_SCHEMA=1 cargo test -p nic-model --test published_schema` and commit the result"
    );
}

#[test]
fn no_other_file_sits_in_the_schema_folder() {
    // A kind renamed or removed must not leave its old schema published.
    let want: Vec<String> = DocKind::ALL
        .iter()
        .map(|k| format!("{}.schema.json", k.as_str()))
        .collect();
    let Ok(dir) = std::fs::read_dir(docs().join("schema")) else {
        panic!("docs/schema is missing: regenerate it");
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            want.contains(&name),
            "docs/schema/{name} is no kind's schema"
        );
    }
}
