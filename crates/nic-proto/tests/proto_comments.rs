//! Every declaration in `proto/nic/v1/*.proto` is preceded by a comment line.
//!
//! A deliberately simple line-based check: a `service`, `rpc`, `message`, `enum`, `oneof`,
//! field or enum-value line must come right after a `//` comment line (no blank line in
//! between, which is also what makes protobuf attach it as the element's documentation).

use std::fs;
use std::path::{Path, PathBuf};

fn proto_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto/nic/v1")
}

fn proto_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(proto_dir())
        .expect("proto/nic/v1 exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .collect();
    files.sort();
    files
}

/// Whether a trimmed line declares something that must be documented.
fn needs_comment(line: &str) -> bool {
    const KEYWORDS: [&str; 6] = [
        "service ", "rpc ", "message ", "enum ", "oneof ", "package ",
    ];
    if KEYWORDS.iter().any(|k| line.starts_with(k)) {
        return true;
    }
    // Fields (`[optional|repeated] type name = N;`) and enum values (`NAME = N;`).
    const NOT_FIELDS: [&str; 5] = ["option ", "reserved ", "syntax ", "import ", "extensions "];
    line.ends_with(';')
        && line.contains(" = ")
        && !NOT_FIELDS.iter().any(|k| line.starts_with(k))
        && line
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '.')
}

fn undocumented(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if needs_comment(line) {
            let documented = i > 0 && lines[i - 1].starts_with("//");
            if !documented {
                missing.push((i + 1, (*line).to_owned()));
            }
        }
    }
    missing
}

#[test]
fn the_four_files_exist() {
    let names: Vec<String> = proto_files()
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for expected in [
        "common.proto",
        "directory.proto",
        "documents.proto",
        "sync.proto",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
}

#[test]
fn every_declaration_is_preceded_by_a_comment() {
    let mut report = Vec::new();
    let mut declarations = 0;
    for path in proto_files() {
        let text = fs::read_to_string(&path).expect("readable proto file");
        declarations += text.lines().filter(|l| needs_comment(l.trim())).count();
        for (line, decl) in undocumented(&text) {
            report.push(format!("{}:{line}: {decl}", path.display()));
        }
    }
    assert!(
        declarations > 100,
        "the check found only {declarations} declarations"
    );
    assert!(
        report.is_empty(),
        "undocumented declarations:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_check_catches_a_missing_comment() {
    let text = "// A thing.\nmessage Thing {\n  // Its name.\n  string name = 1;\n\n  int64 size = 2;\n}\n\nenum E {\n  // Zero.\n  E_UNSPECIFIED = 0;\n}\n";
    assert_eq!(
        undocumented(text),
        vec![
            (6, "int64 size = 2;".to_owned()),
            (9, "enum E {".to_owned())
        ]
    );
}
