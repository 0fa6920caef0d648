//! The hub's one listener. Every connection accepted under the hub's cap and deadlines
//! (`conn.rs`) is given TLS when configured, then served by hyper over HTTP/2 or HTTP/1.1
//! with upgrades: gRPC, gRPC-web and the automerge-repo WebSocket share the port. tonic's
//! own server cannot do this (it serves no upgrades), so the hub runs the loop tonic would
//! run, with the same HTTP/2 defaults and the same graceful shutdown.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_stream::StreamExt;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tower::ServiceExt;

use crate::ServeError;
use crate::config::TlsFiles;
use crate::conn;

/// The server's TLS settings from the certificate, key and (for mutual TLS) client CA files,
/// offering HTTP/2 and HTTP/1.1 (gRPC-web and WebSocket clients speak the latter).
pub(crate) fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| ServeError::Tls {
            path: path.to_owned(),
            source,
        })
    };
    let bad = |path: &std::path::Path, why: String| ServeError::TlsConfig {
        path: path.to_owned(),
        why,
    };
    let certs = CertificateDer::pem_slice_iter(&read(&files.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&files.cert, format!("not a PEM certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| bad(&files.key, format!("not a PEM private key: {e}")))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&files.cert, e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read(ca)?) {
                let cert = cert.map_err(|e| bad(ca, format!("not a PEM certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(ca, format!("unusable CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| bad(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        bad(
            &files.cert,
            format!("the certificate and key do not fit: {e}"),
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on every connection `incoming` admits until `shutdown` completes; then
/// stops accepting, asks every connection to finish gracefully and waits for them.
pub(crate) async fn serve(
    mut incoming: conn::Incoming,
    tls: Option<TlsAcceptor>,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http2().timer(TokioTimer::new());
    // hyper only enforces its HTTP/1 header read timeout when a timer is set.
    builder.http1().timer(TokioTimer::new());
    let (signal_tx, signal_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            io = incoming.next() => {
                let Some(Ok(io)) = io else { continue };
                let info = io.connect_info();
                let (tls, app, builder, signal) =
                    (tls.clone(), app.clone(), builder.clone(), signal_rx.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(tls) => match tls.accept(io).await {
                            Ok(io) => connection(io, info, app, builder, signal).await,
                            Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                        },
                        None => connection(io, info, app, builder, signal).await,
                    }
                });
            }
        }
    }
    // Closing the listening socket now: new clients are refused instead of left waiting.
    drop(incoming);
    let _ = signal_tx.send(());
    drop(signal_rx);
    signal_tx.closed().await;
}

/// Serves one connection; every request carries the connection's addresses, where tonic
/// and the auth gate read them.
async fn connection<IO>(
    io: IO,
    info: TcpConnectInfo,
    app: axum::Router,
    builder: Builder<TokioExecutor>,
    mut signal: watch::Receiver<()>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        request.map(axum::body::Body::new)
    });
    let service = TowerToHyperService::new(service);
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = signal.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
