//! TLS end to end with generated certificates: a client that trusts the hub's CA talks to
//! it (and syncs through the client library), one that does not — or speaks plain text — is
//! refused; with mutual TLS, a client needs a certificate from the clients' CA.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::{Client, Target, Tls};
use nic_e2e::TestHub;
use nic_e2e::certs::{Ca, hub_files};
use nic_model::PeerId;
use nic_proto::auth::Bearer;
use nic_proto::v1::{self, directory_client::DirectoryClient};
use nic_sync::automerge::{ROOT, ReadDoc};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn https(hub: &TestHub) -> String {
    hub.url.replace("http://", "https://")
}

/// WhoAmI over TLS trusting `ca`, with an optional client identity.
async fn who_am_i(
    hub: &TestHub,
    ca: &Ca,
    identity: Option<&(String, String)>,
) -> Result<String, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Channel::from_shared(https(hub))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let reply = DirectoryClient::new(Bearer::new(&hub.token).unwrap().on(channel))
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .map_err(|e| e.to_string())?;
    Ok(reply.into_inner().member.unwrap().member_id)
}

/// A channel to the hub over TLS, as the hub admin.
async fn authed(hub: &TestHub, ca: &Ca) -> nic_proto::auth::AuthedChannel {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(https(hub))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    Bearer::new(&hub.token).unwrap().on(channel)
}

/// Creates network `tls-net` and a worksheet in it, over TLS.
async fn create_worksheet(hub: &TestHub, ca: &Ca) -> nic_model::DocumentId {
    DirectoryClient::new(authed(hub, ca).await)
        .create_network(v1::CreateNetworkRequest {
            network_id: "tls-net".into(),
            name: "TLS".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let reply = nic_proto::v1::documents_client::DocumentsClient::new(authed(hub, ca).await)
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "tls-net".into(),
            visibility: v1::Visibility::Network as i32,
            title: "over TLS".into(),
            initial: Some(nic_e2e::worksheet().save()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    reply.meta.unwrap().doc_id.parse().unwrap()
}

#[tokio::test]
async fn tls_serves_those_who_trust_the_hub_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("hub CA");
    let files = hub_files(dir.path(), &server_ca, None);
    let data = dir.path().join("data");
    let hub = TestHub::start_with(&data, |c| c.tls = Some(files)).await;

    assert_eq!(who_am_i(&hub, &server_ca, None).await.unwrap(), "admin");
    // A client trusting another CA does not get through.
    let stranger = Ca::new("someone else's CA");
    assert!(who_am_i(&hub, &stranger, None).await.is_err());
    // Nor does a client speaking plain text.
    let plain = Channel::from_shared(hub.url.clone())
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let refused = DirectoryClient::new(Bearer::new(&hub.token).unwrap().on(channel))
            .who_am_i(v1::WhoAmIRequest {})
            .await;
        assert!(refused.is_err());
    }

    // The client library syncs over TLS.
    let doc = create_worksheet(&hub, &server_ca).await;
    let tls = Tls {
        ca_pem: Some(server_ca.pem.clone().into_bytes()),
        domain: Some("localhost".into()),
        ..Tls::default()
    };
    let client = Client::connect_with(
        &https(&hub),
        PeerId::new("tls-laptop").unwrap(),
        &hub.token,
        Some(&tls),
    )
    .await
    .unwrap();
    client.subscribe(Target::Docs(vec![doc])).await.unwrap();
    client
        .wait_for(doc, Duration::from_secs(20), |am| {
            am.get(ROOT, "notes").ok().flatten().is_some()
        })
        .await
        .unwrap();
    drop(client);
    hub.stop().await;
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_from_the_clients_ca() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("hub CA");
    let clients_ca = Ca::new("clients CA");
    let files = hub_files(dir.path(), &server_ca, Some(&clients_ca));
    let data = dir.path().join("data");
    let hub = TestHub::start_with(&data, |c| c.tls = Some(files)).await;

    let laptop = clients_ca.leaf(&["lincoln-laptop"]);
    assert_eq!(
        who_am_i(&hub, &server_ca, Some(&laptop)).await.unwrap(),
        "admin"
    );
    assert!(
        who_am_i(&hub, &server_ca, None).await.is_err(),
        "no client certificate"
    );
    let forged = Ca::new("another CA").leaf(&["lincoln-laptop"]);
    assert!(
        who_am_i(&hub, &server_ca, Some(&forged)).await.is_err(),
        "a client certificate from another CA"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_tls_handshakes_are_closed_and_do_not_keep_clients_out() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("hub CA");
    let files = hub_files(dir.path(), &server_ca, None);
    let data = dir.path().join("data");
    let hub = TestHub::start_with(&data, |c| {
        c.tls = Some(files);
        c.max_connections = 4;
        c.handshake_timeout = Duration::from_millis(300);
    })
    .await;
    let addr = hub.url.trim_start_matches("http://").to_owned();
    // Twice the cap of connections that never start their TLS handshake.
    let mut stalled = Vec::new();
    for _ in 0..8 {
        stalled.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    assert_eq!(who_am_i(&hub, &server_ca, None).await.unwrap(), "admin");
    // Each is closed: to make room, or at the handshake deadline.
    for mut s in stalled {
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(Duration::from_secs(15), async {
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a stalled TLS connection stayed open");
    }
    hub.stop().await;
}

#[tokio::test]
async fn the_websocket_endpoint_is_served_over_the_same_tls_port() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("hub CA");
    let files = hub_files(dir.path(), &server_ca, None);
    let hub = TestHub::start_with(&dir.path().join("data"), |c| c.tls = Some(files)).await;
    let ticket = DirectoryClient::new(authed(&hub, &server_ca).await)
        .issue_socket_ticket(v1::IssueSocketTicketRequest {})
        .await
        .unwrap()
        .into_inner()
        .ticket;

    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(server_ca.pem.as_bytes());
    roots.add(ca.unwrap()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let addr = hub.url.trim_start_matches("http://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let url = format!("wss://localhost:{port}/automerge?ticket={ticket}");
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls).await.unwrap();
    let join = nic_repo_wire::Message::Join {
        sender: "tls-tab".into(),
        supported_versions: vec!["1".into()],
        metadata: None,
    };
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(
        nic_repo_wire::encode(&join).into(),
    ))
    .await
    .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let peer = nic_repo_wire::decode(&answer.into_data(), &nic_repo_wire::Limits::default());
    assert!(
        matches!(peer, Ok(nic_repo_wire::Message::Peer { ref target, .. }) if target == "tls-tab"),
        "{peer:?}"
    );

    // Plain text to the TLS port gets no WebSocket.
    let plain = format!("ws://{addr}/automerge?ticket=whatever");
    assert!(tokio_tungstenite::connect_async(plain).await.is_err());
    hub.stop().await;
}
