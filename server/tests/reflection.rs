//! Server reflection answers in both versions on the real `nic-hub` binary: v1 (grpcurl)
//! and v1alpha (Python's grpcio-reflection and older tools, which got UNIMPLEMENTED before).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use nic_hub::testing::ChildHub;
use prost::Message;
use tonic::transport::Channel;
use tonic_reflection::pb::{v1, v1alpha};

/// Every service a client of the hub may want to find by reflection.
const SERVICES: [&str; 8] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "nic.v1.Admin",
    "nic.v1.Directory",
    "nic.v1.Documents",
    "nic.v1.Insight",
    "nic.v1.Sync",
];

async fn channel(hub: &ChildHub) -> Channel {
    Channel::from_shared(hub.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// One v1alpha request, one response.
async fn ask_v1alpha(
    channel: Channel,
    request: v1alpha::server_reflection_request::MessageRequest,
) -> v1alpha::server_reflection_response::MessageResponse {
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("the v1alpha reflection service answers")
        .into_inner();
    let reply = replies.message().await.unwrap().expect("one response");
    reply.message_response.expect("a response body")
}

#[tokio::test]
async fn v1alpha_lists_every_service_and_describes_them() {
    let dir = tempfile::tempdir().unwrap();
    let hub = ChildHub::serve(Path::new(env!("CARGO_BIN_EXE_nic-hub")), dir.path()).unwrap();
    let channel = channel(&hub).await;

    use v1alpha::server_reflection_request::MessageRequest as Ask;
    use v1alpha::server_reflection_response::MessageResponse as Got;
    let Got::ListServicesResponse(list) =
        ask_v1alpha(channel.clone(), Ask::ListServices(String::new())).await
    else {
        panic!("not a service list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, SERVICES);

    // What grpcio-reflection does next: fetch the file that declares a service.
    let Got::FileDescriptorResponse(files) =
        ask_v1alpha(channel, Ask::FileContainingSymbol("nic.v1.Insight".into())).await
    else {
        panic!("not a file descriptor");
    };
    let insight = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(&bytes[..]).unwrap())
        .find(|f| f.name() == "nic/v1/insight.proto")
        .expect("insight.proto is among the files");
    let rpcs: Vec<&str> = insight.service[0].method.iter().map(|m| m.name()).collect();
    assert!(rpcs.contains(&"NetworkOverview"), "{rpcs:?}");
    hub.stop().unwrap();
}

#[tokio::test]
async fn v1_still_lists_every_service() {
    let dir = tempfile::tempdir().unwrap();
    let hub = ChildHub::serve(Path::new(env!("CARGO_BIN_EXE_nic-hub")), dir.path()).unwrap();
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel(&hub).await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().expect("one response");
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        reply.message_response
    else {
        panic!("not a service list: {reply:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, SERVICES);
    hub.stop().unwrap();
}
