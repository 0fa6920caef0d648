//! The embedded descriptor set decodes, names the services, and documents every element.

use std::collections::HashMap;

use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(nic_proto::FILE_DESCRIPTOR_SET).expect("descriptor set decodes")
}

#[test]
fn names_the_four_services() {
    let set = descriptor_set();
    let mut services: Vec<String> = set
        .file
        .iter()
        .flat_map(|f| {
            f.service
                .iter()
                .map(move |s| format!("{}.{}", f.package(), s.name()))
        })
        .collect();
    services.sort();
    assert_eq!(
        services,
        [
            nic_proto::service_names::DIRECTORY,
            nic_proto::service_names::DOCUMENTS,
            nic_proto::service_names::INSIGHT,
            nic_proto::service_names::SYNC,
        ]
    );
    for file in &set.file {
        assert_eq!(file.package(), "nic.v1", "{}", file.name());
        assert_eq!(file.syntax(), "proto3", "{}", file.name());
    }
}

#[test]
fn sync_connect_streams_both_ways() {
    let set = descriptor_set();
    let sync = set
        .file
        .iter()
        .flat_map(|f| &f.service)
        .find(|s| s.name() == "Sync")
        .expect("Sync service");
    let connect = sync
        .method
        .iter()
        .find(|m| m.name() == "Connect")
        .expect("Connect rpc");
    assert!(connect.client_streaming());
    assert!(connect.server_streaming());
    assert_eq!(connect.input_type(), ".nic.v1.ClientFrame");
    assert_eq!(connect.output_type(), ".nic.v1.HubFrame");
}

/// Leading comments by source-location path, for one file.
fn comments(file: &prost_types::FileDescriptorProto) -> HashMap<Vec<i32>, String> {
    file.source_code_info
        .as_ref()
        .expect("source info is kept")
        .location
        .iter()
        .map(|l| (l.path.clone(), l.leading_comments().trim().to_owned()))
        .collect()
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

fn check(found: &HashMap<Vec<i32>, String>, path: &[i32], what: String, missing: &mut Vec<String>) {
    if found.get(path).is_none_or(String::is_empty) {
        missing.push(what);
    }
}

fn check_enum(
    found: &HashMap<Vec<i32>, String>,
    path: &[i32],
    e: &EnumDescriptorProto,
    missing: &mut Vec<String>,
) {
    check(found, path, format!("enum {}", e.name()), missing);
    for (i, v) in e.value.iter().enumerate() {
        let p = [path, &[ENUM_VALUE, i as i32]].concat();
        check(found, &p, format!("enum value {}", v.name()), missing);
    }
}

fn check_message(
    found: &HashMap<Vec<i32>, String>,
    path: &[i32],
    m: &DescriptorProto,
    missing: &mut Vec<String>,
) {
    check(found, path, format!("message {}", m.name()), missing);
    for (i, f) in m.field.iter().enumerate() {
        let p = [path, &[MESSAGE_FIELD, i as i32]].concat();
        check(
            found,
            &p,
            format!("field {}.{}", m.name(), f.name()),
            missing,
        );
    }
    for (i, o) in m.oneof_decl.iter().enumerate() {
        // proto3 `optional` fields are synthetic oneofs with no source of their own.
        if o.name().starts_with('_') {
            continue;
        }
        let p = [path, &[MESSAGE_ONEOF, i as i32]].concat();
        check(
            found,
            &p,
            format!("oneof {}.{}", m.name(), o.name()),
            missing,
        );
    }
    for (i, n) in m.nested_type.iter().enumerate() {
        check_message(
            found,
            &[path, &[MESSAGE_NESTED, i as i32]].concat(),
            n,
            missing,
        );
    }
    for (i, e) in m.enum_type.iter().enumerate() {
        check_enum(
            found,
            &[path, &[MESSAGE_ENUM, i as i32]].concat(),
            e,
            missing,
        );
    }
}

#[test]
fn every_element_has_a_leading_comment() {
    let mut missing = Vec::new();
    for file in &descriptor_set().file {
        let found = comments(file);
        for (i, m) in file.message_type.iter().enumerate() {
            check_message(&found, &[FILE_MESSAGE, i as i32], m, &mut missing);
        }
        for (i, e) in file.enum_type.iter().enumerate() {
            check_enum(&found, &[FILE_ENUM, i as i32], e, &mut missing);
        }
        for (i, s) in file.service.iter().enumerate() {
            let path = [FILE_SERVICE, i as i32];
            check(&found, &path, format!("service {}", s.name()), &mut missing);
            for (j, r) in s.method.iter().enumerate() {
                let p = [FILE_SERVICE, i as i32, SERVICE_METHOD, j as i32];
                check(
                    &found,
                    &p,
                    format!("rpc {}.{}", s.name(), r.name()),
                    &mut missing,
                );
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}

#[test]
fn comment_paths_point_at_the_right_elements() {
    // Guards the path arithmetic above: a known field and a known rpc find their own text.
    let set = descriptor_set();
    let sync = set
        .file
        .iter()
        .find(|f| f.name() == "nic/v1/sync.proto")
        .expect("sync.proto");
    let found = comments(sync);
    let hello = sync
        .message_type
        .iter()
        .position(|m| m.name() == "Hello")
        .expect("Hello") as i32;
    let peer_id = [FILE_MESSAGE, hello, MESSAGE_FIELD, 0];
    assert!(found[&peer_id[..]].starts_with("Identifies this replica"));
    let connect = [FILE_SERVICE, 0, SERVICE_METHOD, 0];
    assert!(found[&connect[..]].starts_with("Opens the sync stream"));
}
