//! PgStore's schema: migrations run once, hubs starting together do not race, and a hub
//! refuses a database whose schema is newer than it knows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use nic_store::pg_cluster::PgCluster;
use nic_store::{PgStore, Store, StoreError};

fn cluster() -> &'static PgCluster {
    PgCluster::shared().expect("a throwaway PostgreSQL server (scripts/postgres installs it)")
}

#[test]
fn hubs_opening_one_database_together_migrate_it_once() {
    let url = cluster().new_database().unwrap();
    let opened: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6).map(|_| s.spawn(|| PgStore::open(&url))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for store in &opened {
        assert!(store.is_ok(), "{store:?}");
    }
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let versions: Vec<i32> = db
        .query("SELECT version FROM nic_schema ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1]);
    // And again later: nothing to do.
    let again = PgStore::open(&url).unwrap();
    assert!(again.list(&Default::default()).unwrap().is_empty());
}

#[test]
fn a_schema_newer_than_this_build_is_refused_with_what_to_do() {
    let url = cluster().new_database().unwrap();
    PgStore::open(&url).unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.execute("INSERT INTO nic_schema (version) VALUES (99)", &[])
        .unwrap();
    match PgStore::open(&url) {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("upgrade this hub"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_unreachable_database_is_an_error_not_a_panic() {
    let url = format!("{}x", cluster().url("no_such_database"));
    assert!(matches!(PgStore::open(&url), Err(StoreError::Pg(_))));
}
