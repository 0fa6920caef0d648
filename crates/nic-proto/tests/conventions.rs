//! The conventions `proto/nic/v1/*.proto` follow, checked on the descriptors protox builds
//! from the files (the same compiler as `build.rs`), so that every protobuf compiler
//! accepts them and every language's stubs read alike:
//!
//! 1. every rpc has a request and a response message of its own, named `<Rpc>Request` and
//!    `<Rpc>Response` (the exceptions are in [`EXCEPTIONS`], each with its reason);
//! 2. no rpc shares its name with a message or an enum of the package (`protoc` resolves
//!    `returns (X)` inside a service to the rpc `X` and refuses the file; protox accepts it);
//! 3. every message, field, oneof, enum, enum value, service and rpc has a leading comment;
//! 4. every enum's zero value is `<ENUM_NAME>_UNSPECIFIED`.
//!
//! The lint runs on the real files and on planted violations, which it must find.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use prost_types::{
    DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    ServiceDescriptorProto,
};

/// Rpcs whose messages are not `<Rpc>Request`/`<Rpc>Response`: (service, rpc, request,
/// response, why). They must still be their rpc's own; renaming them would change every
/// client's generated names (not the wire) and buy nothing.
const EXCEPTIONS: [(&str, &str, &str, &str, &str); 6] = [
    (
        "Sync",
        "Connect",
        "ClientFrame",
        "HubFrame",
        "a bidirectional stream of frames of many kinds, not one request and one response",
    ),
    (
        "Documents",
        "Create",
        "CreateDocumentRequest",
        "CreateDocumentResponse",
        "named <Verb><Resource> (as Google's API guide does) before this lint",
    ),
    (
        "Documents",
        "List",
        "ListDocumentsRequest",
        "ListDocumentsResponse",
        "named <Verb><Resource> before this lint",
    ),
    (
        "Documents",
        "Get",
        "GetDocumentRequest",
        "GetDocumentResponse",
        "named <Verb><Resource> before this lint",
    ),
    (
        "Documents",
        "History",
        "GetHistoryRequest",
        "GetHistoryResponse",
        "named <Verb><Resource> before this lint",
    ),
    (
        "Documents",
        "Archive",
        "ArchiveDocumentRequest",
        "ArchiveDocumentResponse",
        "named <Verb><Resource> before this lint",
    ),
];

fn proto_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto")
}

/// Compiles every `.proto` file under `root/nic/v1` with protox, comments kept.
fn compile(root: &Path) -> FileDescriptorSet {
    let mut files: Vec<String> = fs::read_dir(root.join("nic/v1"))
        .expect("nic/v1 exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".proto"))
        .map(|n| format!("nic/v1/{n}"))
        .collect();
    files.sort();
    protox::compile(files, [root]).expect("the protos compile with protox")
}

/// Every convention broken in `set`, one line each; empty when all hold.
fn lint(set: &FileDescriptorSet) -> Vec<String> {
    let mut found = Vec::new();
    // Top-level type names per package: what a service-scoped name would clash with.
    let mut types: HashMap<&str, HashSet<&str>> = HashMap::new();
    for f in &set.file {
        let names = types.entry(f.package()).or_default();
        names.extend(f.message_type.iter().map(|m| m.name()));
        names.extend(f.enum_type.iter().map(|e| e.name()));
    }
    // Which rpcs each message serves as request or response.
    let mut served: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &set.file {
        for s in &f.service {
            lint_service(f, s, &types[f.package()], &mut served, &mut found);
        }
        lint_comments(f, &mut found);
        for e in &f.enum_type {
            lint_enum_zero(e, &mut found);
        }
        for m in &f.message_type {
            lint_nested_enums(m, &mut found);
        }
    }
    for (message, rpcs) in served {
        if rpcs.len() > 1 {
            found.push(format!(
                "{message} serves several rpcs ({}): each needs its own",
                rpcs.join(", ")
            ));
        }
    }
    found
}

fn lint_service(
    file: &FileDescriptorProto,
    s: &ServiceDescriptorProto,
    types: &HashSet<&str>,
    served: &mut BTreeMap<String, Vec<String>>,
    found: &mut Vec<String>,
) {
    for r in &s.method {
        let rpc = format!("{}.{}", s.name(), r.name());
        if types.contains(r.name()) {
            found.push(format!(
                "rpc {rpc} shares its name with a type of package {} (protoc refuses it)",
                file.package()
            ));
        }
        let short = |t: &str| t.rsplit('.').next().unwrap_or(t).to_owned();
        let (input, output) = (short(r.input_type()), short(r.output_type()));
        let expected = EXCEPTIONS
            .iter()
            .find(|e| e.0 == s.name() && e.1 == r.name())
            .map(|e| (e.2.to_owned(), e.3.to_owned()))
            .unwrap_or_else(|| {
                (
                    format!("{}Request", r.name()),
                    format!("{}Response", r.name()),
                )
            });
        if (input.as_str(), output.as_str()) != (expected.0.as_str(), expected.1.as_str()) {
            found.push(format!(
                "rpc {rpc} takes {input} and returns {output}; expected {} and {}",
                expected.0, expected.1
            ));
        }
        served.entry(input).or_default().push(rpc.clone());
        served.entry(output).or_default().push(rpc);
    }
}

fn lint_enum_zero(e: &EnumDescriptorProto, found: &mut Vec<String>) {
    let expected = format!("{}_UNSPECIFIED", screaming(e.name()));
    let zero = e.value.iter().find(|v| v.number() == 0).map(|v| v.name());
    if zero != Some(expected.as_str()) {
        found.push(format!(
            "enum {}: its zero value is {}, expected {expected}",
            e.name(),
            zero.unwrap_or("missing")
        ));
    }
}

fn lint_nested_enums(m: &DescriptorProto, found: &mut Vec<String>) {
    for e in &m.enum_type {
        lint_enum_zero(e, found);
    }
    for n in &m.nested_type {
        lint_nested_enums(n, found);
    }
}

/// `GapReference` → `GAP_REFERENCE`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

// Field numbers of descriptor.proto, used in source-location paths.
const FILE_MESSAGE: i32 = 4;
const FILE_ENUM: i32 = 5;
const FILE_SERVICE: i32 = 6;
const MESSAGE_FIELD: i32 = 2;
const MESSAGE_NESTED: i32 = 3;
const MESSAGE_ENUM: i32 = 4;
const MESSAGE_ONEOF: i32 = 8;
const ENUM_VALUE: i32 = 2;
const SERVICE_METHOD: i32 = 2;

/// Leading comments of one file by source-location path.
struct Comments(HashMap<Vec<i32>, String>);

impl Comments {
    fn of(file: &FileDescriptorProto) -> Comments {
        let locations = file.source_code_info.as_ref().map(|i| &i.location);
        Comments(
            locations
                .into_iter()
                .flatten()
                .map(|l| (l.path.clone(), l.leading_comments().trim().to_owned()))
                .collect(),
        )
    }

    fn require(&self, path: &[i32], what: String, found: &mut Vec<String>) {
        if self.0.get(path).is_none_or(String::is_empty) {
            found.push(format!("{what} has no leading comment"));
        }
    }

    fn require_enum(&self, path: &[i32], e: &EnumDescriptorProto, found: &mut Vec<String>) {
        self.require(path, format!("enum {}", e.name()), found);
        for (i, v) in e.value.iter().enumerate() {
            let p = [path, &[ENUM_VALUE, i as i32]].concat();
            self.require(&p, format!("enum value {}", v.name()), found);
        }
    }

    fn require_message(&self, path: &[i32], m: &DescriptorProto, found: &mut Vec<String>) {
        self.require(path, format!("message {}", m.name()), found);
        for (i, f) in m.field.iter().enumerate() {
            let p = [path, &[MESSAGE_FIELD, i as i32]].concat();
            self.require(&p, format!("field {}.{}", m.name(), f.name()), found);
        }
        for (i, o) in m.oneof_decl.iter().enumerate() {
            // proto3 `optional` fields are synthetic oneofs with no source of their own.
            if !o.name().starts_with('_') {
                let p = [path, &[MESSAGE_ONEOF, i as i32]].concat();
                self.require(&p, format!("oneof {}.{}", m.name(), o.name()), found);
            }
        }
        for (i, n) in m.nested_type.iter().enumerate() {
            self.require_message(&[path, &[MESSAGE_NESTED, i as i32]].concat(), n, found);
        }
        for (i, e) in m.enum_type.iter().enumerate() {
            self.require_enum(&[path, &[MESSAGE_ENUM, i as i32]].concat(), e, found);
        }
    }
}

fn lint_comments(file: &FileDescriptorProto, found: &mut Vec<String>) {
    let comments = Comments::of(file);
    for (i, m) in file.message_type.iter().enumerate() {
        comments.require_message(&[FILE_MESSAGE, i as i32], m, found);
    }
    for (i, e) in file.enum_type.iter().enumerate() {
        comments.require_enum(&[FILE_ENUM, i as i32], e, found);
    }
    for (i, s) in file.service.iter().enumerate() {
        let path = [FILE_SERVICE, i as i32];
        comments.require(&path, format!("service {}", s.name()), found);
        for (j, r) in s.method.iter().enumerate() {
            let p = [FILE_SERVICE, i as i32, SERVICE_METHOD, j as i32];
            comments.require(&p, format!("rpc {}.{}", s.name(), r.name()), found);
        }
    }
}

#[test]
fn the_protos_follow_the_conventions() {
    let set = compile(&proto_root());
    let rpcs: usize = set
        .file
        .iter()
        .flat_map(|f| &f.service)
        .map(|s| s.method.len())
        .sum();
    assert!(rpcs > 20, "the lint saw only {rpcs} rpcs");
    let found = lint(&set);
    assert!(
        found.is_empty(),
        "proto conventions broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_exception_is_still_needed() {
    // An exception whose rpc is gone, or now follows the rule, is stale: remove it.
    let set = compile(&proto_root());
    for (service, rpc, request, response, _why) in EXCEPTIONS {
        let method = set
            .file
            .iter()
            .flat_map(|f| &f.service)
            .filter(|s| s.name() == service)
            .flat_map(|s| &s.method)
            .find(|m| m.name() == rpc);
        assert!(method.is_some(), "no rpc {service}.{rpc}");
        assert!(
            (request, response) != (&*format!("{rpc}Request"), &*format!("{rpc}Response")),
            "{service}.{rpc} follows the rule: drop its exception"
        );
    }
}

/// Compiles `insight.proto`'s text (and the real other files) from a temporary copy.
fn compile_with_insight(text: &str) -> FileDescriptorSet {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let v1 = dir.path().join("nic/v1");
    fs::create_dir_all(&v1).expect("nic/v1 created");
    for entry in fs::read_dir(proto_root().join("nic/v1")).expect("proto/nic/v1") {
        let path = entry.expect("readable entry").path();
        let name = path.file_name().expect("a name").to_owned();
        fs::copy(&path, v1.join(name)).expect("copied");
    }
    fs::write(v1.join("insight.proto"), text).expect("written");
    compile(dir.path())
}

#[test]
fn the_lint_refuses_the_old_insight_names() {
    // insight.proto as it was: rpcs named like the messages they returned.
    let text = fs::read_to_string(proto_root().join("nic/v1/insight.proto")).expect("readable");
    let old = text
        .replace("NetworkOverviewResponse", "NetworkOverview")
        .replace("DistrictOverviewResponse", "DistrictOverview")
        .replace("CompareCyclesResponse", "CycleComparison");
    let found = lint(&compile_with_insight(&old));
    for expected in [
        "rpc Insight.NetworkOverview shares its name with a type of package nic.v1",
        "rpc Insight.DistrictOverview shares its name with a type of package nic.v1",
        "rpc Insight.CompareCycles takes CompareCyclesRequest and returns CycleComparison; \
         expected CompareCyclesRequest and CompareCyclesResponse",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn the_lint_finds_planted_violations() {
    let text = fs::read_to_string(proto_root().join("nic/v1/insight.proto")).expect("readable");
    let planted = format!(
        "{text}\n\
         // Planted.\n\
         service Planted {{\n\
         \x20 // Shares a response with Other and has no Request/Response names.\n\
         \x20 rpc Shared(ChartRequest) returns (Shared);\n\
         \x20 // Shares a response.\n\
         \x20 rpc Other(OtherRequest) returns (Shared);\n\
         }}\n\
         // A response for two.\n\
         message Shared {{\n\
         \x20 string undocumented = 1;\n\
         }}\n\
         // A request.\n\
         message OtherRequest {{}}\n\
         // A zero that says nothing.\n\
         enum Colour {{\n\
         \x20 // Nothing.\n\
         \x20 NONE = 0;\n\
         }}\n"
    );
    let found = lint(&compile_with_insight(&planted));
    for expected in [
        "rpc Planted.Shared shares its name with a type of package nic.v1",
        "rpc Planted.Shared takes ChartRequest and returns Shared; expected SharedRequest and \
         SharedResponse",
        "rpc Planted.Other takes OtherRequest and returns Shared; expected OtherRequest and \
         OtherResponse",
        "Shared serves several rpcs (Planted.Shared, Planted.Other): each needs its own",
        "ChartRequest serves several rpcs (Insight.Chart, Planted.Shared): each needs its own",
        "field Shared.undocumented has no leading comment",
        "enum Colour: its zero value is NONE, expected COLOUR_UNSPECIFIED",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), 7, "{found:#?}");
}

#[test]
fn comment_paths_point_at_the_right_elements() {
    // Guards the path arithmetic above: a known field and a known rpc find their own text.
    let set = compile(&proto_root());
    let sync = set
        .file
        .iter()
        .find(|f| f.name() == "nic/v1/sync.proto")
        .expect("sync.proto");
    let comments = Comments::of(sync);
    let hello = sync
        .message_type
        .iter()
        .position(|m| m.name() == "Hello")
        .expect("Hello") as i32;
    let peer_id = [FILE_MESSAGE, hello, MESSAGE_FIELD, 0];
    assert!(comments.0[&peer_id[..]].starts_with("Identifies this replica"));
    let connect = [FILE_SERVICE, 0, SERVICE_METHOD, 0];
    assert!(comments.0[&connect[..]].starts_with("Opens the sync stream"));
}
