//! The token check in front of each gRPC service. A tonic interceptor is synchronous and
//! runs on the async worker that carries the connection, so its directory reads would block
//! that worker (and every task sharing it) on sled; this service awaits the check instead,
//! with the reads on the blocking pool. It runs before the request's body is read, as the
//! interceptor did.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use tonic::Status;
use tonic::codegen::{BoxFuture, Context, Poll, Service, http};
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::Authenticator;
use crate::conn::Connections;

/// Checks every request's token, then marks its connection authenticated (no deadline closes
/// it from then on) and hands the [`super::Caller`] to the service in the extensions.
#[derive(Clone)]
pub(crate) struct Gate {
    auth: Authenticator,
    connections: Arc<Connections>,
}

impl Gate {
    /// A gate checking with `auth`, reporting authenticated connections to `connections`.
    pub(crate) fn new(auth: Authenticator, connections: Arc<Connections>) -> Self {
        Self { auth, connections }
    }

    /// `service`, behind this gate.
    pub(crate) fn guard<S>(&self, service: S) -> Gated<S> {
        Gated {
            inner: service,
            gate: self.clone(),
        }
    }
}

/// A service behind a [`Gate`].
#[derive(Clone)]
pub(crate) struct Gated<S> {
    inner: S,
    gate: Gate,
}

impl<S: NamedService> NamedService for Gated<S> {
    const NAME: &'static str = S::NAME;
}

/// The peer's address, read where tonic's `Request::remote_addr` reads it.
fn remote_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|info| info.get_ref().remote_addr())
        })
}

impl<S, B, R> Service<http::Request<B>> for Gated<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default,
{
    type Response = http::Response<R>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone waits for the next call; the service made ready above serves this one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            let remote = remote_addr(request.extensions());
            let metadata = MetadataMap::from_headers(request.headers().clone());
            let checked = gate
                .auth
                .authenticate_async(remote.map(|a| a.ip()), &metadata)
                .await;
            match checked {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    gate.connections.authenticated(remote);
                    inner.call(request).await
                }
                Err(e) => Ok(Status::from(e).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
