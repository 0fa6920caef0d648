//! The failure limit as an attacker behind a shared address would probe it, and the reasons
//! failed sign-ins are counted under.

use std::net::IpAddr;
use std::sync::Arc;

use nic_model::{Grant, Grants, Member, MemberId, TokenRecord};
use nic_store::{DirOp, Directory, MemStore};
use proptest::prelude::*;
use tonic::metadata::MetadataMap;

use super::{Authenticator, token};
use crate::metrics::{AuthFailure, Metrics};
use crate::status::ApiError;

pub(super) fn bearer(secret: &str) -> MetadataMap {
    let mut m = MetadataMap::new();
    if let Ok(v) = format!("Bearer {secret}").parse() {
        m.insert("authorization", v);
    }
    m
}

/// A directory with member `m` holding one token per state: valid, expired at 500, revoked.
pub(super) fn directory() -> (Arc<MemStore>, [String; 3]) {
    let store = Arc::new(MemStore::new());
    let id = MemberId::new("m").unwrap_or_else(|_| unreachable!());
    let mut ops = vec![DirOp::PutMember(Member {
        id: id.clone(),
        name: "M".into(),
        grants: Grants(vec![Grant::HubAdmin]),
        created_at_ms: 0,
    })];
    let mut secrets = Vec::new();
    for (expires, revoked) in [(None, None), (Some(500), None), (None, Some(1))] {
        let (secret, hash, token_id) = token::issue(&mut rand::rng());
        secrets.push(secret.expose().to_owned());
        ops.push(DirOp::PutToken {
            hash,
            record: TokenRecord {
                id: token_id,
                member: id.clone(),
                label: String::new(),
                created_at_ms: 0,
                expires_at_ms: expires,
                revoked_at_ms: revoked,
            },
        });
    }
    store
        .write_directory(&ops, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let [valid, expired, revoked]: [String; 3] = secrets
        .try_into()
        .unwrap_or_else(|_| unreachable!("three tokens"));
    (store, [valid, expired, revoked])
}

#[derive(Clone, Debug)]
enum Attempt {
    Valid,
    Bad,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever mix of bad and valid tokens arrives from a few shared addresses over a few
    /// minutes, a valid token is never refused; within one address's minute the first `max`
    /// bad ones say why (UNAUTHENTICATED) and the rest are throttled (RESOURCE_EXHAUSTED);
    /// each address and minute is one lockout.
    #[test]
    fn a_valid_token_behind_a_flooding_address_always_passes(
        max in 1u32..8,
        attempts in proptest::collection::vec(
            (0u8..3, prop_oneof![Just(Attempt::Valid), Just(Attempt::Bad)], 0i64..1_500),
            1..200,
        ),
    ) {
        let (store, [valid, ..]) = directory();
        let metrics = Arc::new(Metrics::default());
        let auth = Authenticator::new(store, max).with_metrics(metrics.clone());
        let mut now = 1_000i64;
        // Bad tokens per (address, window start); the window restarts a minute after it began.
        let mut windows: std::collections::HashMap<u8, (i64, u32)> = Default::default();
        let mut lockouts = 0u64;
        for (address, attempt, step) in attempts {
            now += step * 100;
            let ip: IpAddr = [10, 0, 0, address].into();
            match attempt {
                Attempt::Valid => {
                    let r = auth.authenticate_from(Some(ip), &bearer(&valid), now);
                    prop_assert!(r.is_ok(), "valid token refused: {:?}", r.err());
                }
                Attempt::Bad => {
                    let w = windows.entry(address).or_insert((now, 0));
                    if now - w.0 >= 60_000 {
                        *w = (now, 0);
                    }
                    w.1 += 1;
                    let r = auth.authenticate_from(Some(ip), &bearer("nic_guess"), now).err();
                    if w.1 <= max {
                        prop_assert!(matches!(r, Some(ApiError::Unauthenticated(_))), "{r:?}");
                    } else {
                        if w.1 == max + 1 {
                            lockouts += 1;
                        }
                        prop_assert!(
                            matches!(&r, Some(ApiError::ResourceExhausted(m)) if m.contains(&format!("the limit is {max}"))),
                            "{r:?}"
                        );
                    }
                }
            }
        }
        prop_assert_eq!(
            metrics.security.lockouts.load(std::sync::atomic::Ordering::Relaxed),
            lockouts
        );
    }
}

#[test]
fn each_failed_sign_in_is_counted_under_its_reason() {
    let (store, [valid, expired, revoked]) = directory();
    let metrics = Arc::new(Metrics::default());
    let auth = Authenticator::new(store.clone(), 100).with_metrics(metrics.clone());
    let ip: Option<IpAddr> = Some([10, 0, 0, 1].into());
    let mut malformed = MetadataMap::new();
    malformed.insert(
        "authorization",
        "Basic abc".parse().unwrap_or_else(|_| unreachable!()),
    );
    let cases = [
        (MetadataMap::new(), AuthFailure::Missing),
        (malformed, AuthFailure::Malformed),
        (bearer("nic_guess"), AuthFailure::Unknown),
        (bearer(&expired), AuthFailure::Expired),
        (bearer(&revoked), AuthFailure::Revoked),
    ];
    for (metadata, kind) in &cases {
        let e = auth.authenticate_from(ip, metadata, 1_000).err();
        assert!(
            matches!(e, Some(ApiError::Unauthenticated(_))),
            "{kind:?}: {e:?}"
        );
    }
    store
        .write_directory(
            &[DirOp::RemoveMember(
                MemberId::new("m").unwrap_or_else(|_| unreachable!()),
            )],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(auth.authenticate_from(ip, &bearer(&valid), 1_000).is_err());
    let rendered = metrics.render();
    for kind in [
        AuthFailure::Missing,
        AuthFailure::Malformed,
        AuthFailure::Unknown,
        AuthFailure::Expired,
        AuthFailure::Revoked,
        AuthFailure::Removed,
    ] {
        let row = format!(
            "nic_hub_auth_failures_total{{reason=\"{}\"}} 1",
            kind.label()
        );
        assert!(rendered.contains(&row), "{row} missing from:\n{rendered}");
    }
    assert!(rendered.contains("nic_hub_auth_failures_total{reason=\"other\"} 0"));
}
