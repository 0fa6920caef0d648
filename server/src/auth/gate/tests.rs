//! The gate against the interceptor it replaced: the same answers, counts and throttling for
//! any sequence of sign-ins, with every directory read off the async workers (the store is
//! guarded, so a read on a worker panics and fails the test).

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use nic_model::MemberId;
use nic_store::guard::Guarded;
use nic_store::{DirOp, Directory, MemStore};
use proptest::prelude::*;
use tonic::Status;
use tonic::codegen::{Context, Poll, Service, http};
use tonic::metadata::MetadataMap;

use super::super::tests::{bearer, directory};
use super::super::{Authenticator, Caller};
use super::Gate;
use crate::conn::{ConnLimits, Connections};
use crate::metrics::Metrics;
use crate::status::ApiError;

/// A runtime with worker threads, as the hub runs on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The directory behind the guard the hub puts it behind.
fn guarded(store: Arc<MemStore>) -> Arc<Guarded<MemStore>> {
    Arc::new(Guarded::new(store, || {
        tokio::runtime::Handle::try_current().is_ok()
    }))
}

/// What a caller is told: who they are, or the status code and message.
fn outcome(r: Result<Caller, ApiError>) -> Result<String, (tonic::Code, String)> {
    r.map(|c| format!("{} {}", c.member.id, c.token))
        .map_err(|e| {
            let status = Status::from(e);
            (status.code(), status.message().to_owned())
        })
}

#[derive(Clone, Debug)]
enum Presents {
    Valid,
    Expired,
    Revoked,
    Unknown,
    Missing,
    Malformed,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever mix of tokens arrives from a few addresses over a few minutes, the async
    /// check answers each exactly as the synchronous one (the interceptor's) does, and counts
    /// the same failures, throttles and lockouts.
    #[test]
    fn the_async_check_answers_as_the_interceptor_did(
        max in 1u32..6,
        remove_member_at in proptest::option::of(0usize..120),
        attempts in proptest::collection::vec(
            (0u8..3, prop_oneof![
                Just(Presents::Valid), Just(Presents::Expired), Just(Presents::Revoked),
                Just(Presents::Unknown), Just(Presents::Missing), Just(Presents::Malformed),
            ], 0i64..1_500),
            1..120,
        ),
    ) {
        let (store, [valid, expired, revoked]) = directory();
        let (sync_metrics, async_metrics) = (Arc::new(Metrics::default()), Arc::new(Metrics::default()));
        let sync = Authenticator::new(store.clone(), max).with_metrics(sync_metrics.clone());
        let gate = Authenticator::new(guarded(store.clone()), max).with_metrics(async_metrics.clone());
        let rt = runtime();
        let mut now = 1_000i64;
        for (i, (address, presents, step)) in attempts.into_iter().enumerate() {
            if remove_member_at == Some(i) {
                let m = MemberId::new("m").unwrap_or_else(|_| unreachable!());
                store.write_directory(&[DirOp::RemoveMember(m)], None)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            now += step * 100;
            let ip: Option<IpAddr> = Some([10, 0, 0, address].into());
            let metadata = match presents {
                Presents::Valid => bearer(&valid),
                Presents::Expired => bearer(&expired),
                Presents::Revoked => bearer(&revoked),
                Presents::Unknown => bearer("nic_guess"),
                Presents::Missing => MetadataMap::new(),
                Presents::Malformed => {
                    let mut m = MetadataMap::new();
                    m.insert("authorization", "Basic abc".parse().unwrap_or_else(|_| unreachable!()));
                    m
                }
            };
            let before = outcome(sync.authenticate_from(ip, &metadata, now));
            let after = outcome(rt.block_on(gate.authenticate_at(ip, &metadata, now)));
            prop_assert_eq!(before, after, "attempt {}", i);
        }
        prop_assert_eq!(sync_metrics.render(), async_metrics.render());
    }
}

/// A service that says who the gate let in.
#[derive(Clone)]
struct Echo;

impl Service<http::Request<()>> for Echo {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<()>) -> Self::Future {
        let who = request
            .extensions()
            .get::<Caller>()
            .map(|c| c.member.id.to_string())
            .unwrap_or_default();
        std::future::ready(Ok(http::Response::new(who)))
    }
}

/// A request with `authorization: <value>`, if any.
fn request(authorization: Option<&str>) -> http::Request<()> {
    let mut request = http::Request::new(());
    if let Some(value) = authorization {
        request.headers_mut().insert(
            "authorization",
            value.parse().unwrap_or_else(|_| unreachable!()),
        );
    }
    request
}

/// Through the gate as the server calls it, on a runtime with workers and a guarded
/// directory: a valid token reaches the service as its caller; the others are answered with
/// the status the interceptor gave, and never reach it.
#[test]
fn the_gate_lets_in_valid_tokens_and_answers_the_rest_itself() {
    let (store, [valid, expired, _]) = directory();
    let auth = Authenticator::new(guarded(store), 100);
    let limits = ConnLimits {
        max_connections: 8,
        handshake_timeout: std::time::Duration::from_secs(5),
        idle_timeout: std::time::Duration::from_secs(5),
    };
    let gate = Gate::new(auth, Connections::new(limits, Arc::default()));
    let rt = runtime();
    let mut service = gate.guard(Echo);
    let answer = |service: &mut super::Gated<Echo>, authorization: Option<String>| {
        rt.block_on(service.call(request(authorization.as_deref())))
            .unwrap_or_else(|e| match e {})
    };
    let ok = answer(&mut service, Some(format!("Bearer {valid}")));
    assert_eq!(ok.body(), "m");
    assert!(ok.headers().get("grpc-status").is_none());
    for (authorization, says) in [
        (Some(format!("Bearer {expired}")), "has expired"),
        (Some("Bearer nic_guess".to_owned()), "not known to the hub"),
        (Some("Basic abc".to_owned()), "must read `Bearer"),
        (None, "needs a token"),
    ] {
        let refused = answer(&mut service, authorization);
        assert_eq!(refused.body(), "", "the service was not called");
        let status = Status::from_header_map(refused.headers())
            .unwrap_or_else(|| panic!("a status for {says}"));
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status}");
        assert!(status.message().contains(says), "{status}");
    }
}
