//! The embedded descriptor set decodes and names the services. (That every element is
//! documented is one of the conventions `conventions.rs` checks.)

use prost::Message;
use prost_types::FileDescriptorSet;

fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(nic_proto::FILE_DESCRIPTOR_SET).expect("descriptor set decodes")
}

#[test]
fn names_the_five_services() {
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
            nic_proto::service_names::ADMIN,
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
