//! The commands that open a store themselves, run beside a `serve` node on PostgreSQL
//! (`scripts/test-postgres`; these tests fail, never skip, without it): `scenarist contact …`,
//! `store quarantine …` and `outbox …` open the config's store, as `serve` does, and work
//! while the node runs (on sled they need the service stopped).

use std::time::Duration;

use scenarist::store::{Backend as _, KvStore, PgBackend, Store as _, TreeName};

use crate::postgres_store::{Server, TOKEN, fresh_database, postgres_workspace, scenarist, send};
use crate::support::{stderr, stdout, tempdir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_outbox_and_quarantine_commands_work_on_postgres_beside_a_running_node() {
    let url = fresh_database();
    let config = postgres_workspace();
    let data = tempdir().join("data");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let server = Server::start(&config, &url, &data);
    assert_eq!(send(&client, &server.base, "m1", "my secret").await, 200);

    let outbox = scenarist(&config, &url, &["outbox", "list"]);
    assert!(outbox.status.success(), "{}", stderr(&outbox));
    assert!(
        stdout(&outbox).contains("The outbox is empty"),
        "{}",
        stdout(&outbox)
    );

    let export = scenarist(
        &config,
        &url,
        &["contact", "export", "webchat:acme", "u-pg-1"],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    assert!(stdout(&export).contains("my secret"), "{}", stdout(&export));

    // A record damaged in the database: the node sets the conversation aside, and the
    // command sees it there and drops it.
    let store = KvStore::new(PgBackend::open(&url, 1).unwrap());
    let backend = store.backend_ref();
    let (key, mut bytes) = backend
        .scan_prefix(TreeName::Conversations, &[])
        .unwrap()
        .into_iter()
        .next()
        .expect("the record of pg-1");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    backend
        .insert(TreeName::Conversations, &key, &bytes)
        .unwrap();
    assert_eq!(send(&client, &server.base, "m2", "refused").await, 409);
    let listed = scenarist(&config, &url, &["store", "quarantine", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("pg-1"), "{}", stdout(&listed));
    let dropped = scenarist(&config, &url, &["store", "quarantine", "drop", "pg-1"]);
    assert!(dropped.status.success(), "{}", stderr(&dropped));
    assert!(
        stdout(&dropped).contains("dropped conversation pg-1"),
        "{}",
        stdout(&dropped)
    );
    assert!(store.quarantine_list().unwrap().is_empty());

    // The node starts the conversation anew; the erasure removes it while the node runs.
    assert_eq!(send(&client, &server.base, "m3", "a new start").await, 200);
    let erased = scenarist(
        &config,
        &url,
        &["contact", "erase", "webchat:acme", "u-pg-1"],
    );
    assert!(erased.status.success(), "{}", stderr(&erased));
    assert!(
        stdout(&erased).contains("Erased u-pg-1"),
        "{}",
        stdout(&erased)
    );
    let response = client
        .get(format!("{}/v1/conversations/pg-1", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(store.contact("webchat:acme", "u-pg-1").unwrap(), None);
}
