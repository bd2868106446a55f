//! The store on PostgreSQL through the real binary, on the test server (`scripts/test-postgres`;
//! these tests fail, never skip, without it): `serve` keeps a message in the database and finds
//! it again after a restart, `store migrate` brings the schema up to date, and a sled export
//! imports into PostgreSQL and back unchanged.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use scenarist::store::{KvStore, PgBackend, Store as _, scratch_database, test_database_url};
use serde_json::{Value, json};

use crate::support::{root, stderr, stdout, tempdir};

pub(crate) const TOKEN: &str = "postgres-token-0123456789";
/// The variable the test config's `store.url_env` names.
pub(crate) const URL_VARIABLE: &str = "SCENARIST_TEST_STORE_URL";

/// A database of its own on the test server.
pub(crate) fn fresh_database() -> String {
    let server = test_database_url().unwrap_or_else(|why| panic!("{why}"));
    scratch_database(&server).unwrap_or_else(|e| panic!("cannot create a test database: {e}"))
}

/// The example workspace copied into a new folder, its store on PostgreSQL; its config's path.
pub(crate) fn postgres_workspace() -> PathBuf {
    let folder = tempdir().join("scenarios");
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
    }
    let config = folder.join("scenarist.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    // The example config states the default page cache.
    let sled = format!(
        "store:\n  backend: sled\n  cache_mb: {}\n",
        scenarist::config::DEFAULT_CACHE_MB
    );
    assert!(
        text.contains(&sled),
        "the example config's store block moved"
    );
    let postgres = format!("store:\n  backend: postgres\n  url_env: {URL_VARIABLE}\n  pool: 4\n");
    std::fs::write(&config, text.replace(&sled, &postgres)).unwrap();
    config
}

/// The binary with `config` and the database at `url`.
pub(crate) fn scenarist(config: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("SCENARIST_CONFIG", config)
        .env(URL_VARIABLE, url)
        .output()
        .unwrap()
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(config: &Path, url: &str, data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env("SCENARIST_CONFIG", config)
            .env(URL_VARIABLE, url)
            .env("SCENARIST_API_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            // The node's log beside its data folder, for a failure to be read.
            .stderr(std::fs::File::create(data.with_extension("log")).unwrap())
            .spawn()
            .unwrap();
        let base = crate::service::listening(&mut child);
        Server { child, base }
    }
}

impl Server {
    /// The node's process id (its claims session is `scenarist claims <pid>` on the server).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and the exit status: a clean stop.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The contact's message `id` in conversation `pg-1`.
fn message(id: &str, text: &str) -> Value {
    json!({
        "account": "webchat:acme",
        "conversation": "pg-1",
        "message_id": id,
        "contact": { "id": "u-pg-1", "name": "Ada" },
        "text": text,
    })
}

pub(crate) async fn send(client: &reqwest::Client, base: &str, id: &str, text: &str) -> u16 {
    let response = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&message(id, text))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    response.bytes().await.unwrap();
    status
}

/// The contact's texts in a conversation's history, as a node answers it.
pub(crate) async fn texts(client: &reqwest::Client, base: &str, conversation: &str) -> Vec<String> {
    let response = client
        .get(format!("{base}/v1/conversations/{conversation}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    crate::service::contact_texts(&body)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_a_message_in_postgres_across_a_restart() {
    let url = fresh_database();
    let config = postgres_workspace();
    let data = tempdir().join("data");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let server = Server::start(&config, &url, &data);
    assert_eq!(
        send(&client, &server.base, "m1", "hello from pg").await,
        200
    );
    // The answer came after the commit: the database holds the step now.
    let store = KvStore::new(PgBackend::open(&url, 1).unwrap());
    let conversation = store
        .conversation("pg-1")
        .unwrap()
        .expect("the record is in PostgreSQL");
    let history = store.history("pg-1", conversation.last_seq).unwrap();
    assert!(
        history
            .iter()
            .flat_map(|turn| &turn.messages)
            .any(|message| message.text == "hello from pg"),
        "{history:?}"
    );
    let mut server = server;
    assert!(server.terminate().success(), "SIGTERM exits 0");
    drop(server);
    // Nothing went to sled, not even the snapshot a clean stop writes for a sled store: the
    // data folder holds the sandboxes' files at most.
    assert!(!data.join("db").exists() && !data.join("conf").exists());

    let server = Server::start(&config, &url, &data);
    assert_eq!(
        texts(&client, &server.base, "pg-1").await,
        ["hello from pg"]
    );
    assert_eq!(send(&client, &server.base, "m2", "and again").await, 200);
    assert_eq!(
        send(&client, &server.base, "m1", "hello from pg").await,
        200
    );
    assert_eq!(
        texts(&client, &server.base, "pg-1").await,
        ["hello from pg", "and again"],
        "a resent id is not applied twice"
    );
}

#[test]
fn store_migrate_brings_the_schema_up_to_date_once_and_a_newer_one_stops_serve() {
    let url = fresh_database();
    let config = postgres_workspace();
    let first = scenarist(&config, &url, &["store", "migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("from version 0 to 1"),
        "{}",
        stdout(&first)
    );
    let again = scenarist(&config, &url, &["store", "migrate"]);
    assert!(
        stdout(&again).contains("up to date (version 1)"),
        "{}",
        stdout(&again)
    );
    // A schema from a newer release: neither `migrate` nor `serve` touches it.
    std::thread::spawn({
        let url = url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute("INSERT INTO scenarist_schema (version, what) VALUES (2, 'newer')")
                .unwrap();
        }
    })
    .join()
    .unwrap();
    let refused = scenarist(&config, &url, &["store", "migrate"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("schema is at version 2, newer than this Scenarist knows"),
        "{}",
        stderr(&refused)
    );
    let mut serve = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(tempdir())
        .current_dir(root())
        .env("SCENARIST_CONFIG", &config)
        .env(URL_VARIABLE, &url)
        .env("SCENARIST_API_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = 0;
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        waited += 1;
        if waited > 600 {
            let _ = serve.kill();
            panic!("serve started on a schema newer than it knows");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut message = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut message).unwrap();
    assert!(
        message.contains("newer than this Scenarist knows"),
        "{message}"
    );
    // The built-in config's store is sled: nothing to migrate.
    let sled = crate::support::scenarist(&["store", "migrate"]);
    assert!(!sled.status.success());
    assert!(
        stderr(&sled).contains("no schema to migrate"),
        "{}",
        stderr(&sled)
    );
}

#[test]
fn a_missing_variable_or_a_wrong_password_is_said_without_the_password() {
    let config = postgres_workspace();
    let missing = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(["store", "migrate"])
        .current_dir(root())
        .env("SCENARIST_CONFIG", &config)
        .env_remove(URL_VARIABLE)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains(URL_VARIABLE),
        "{}",
        stderr(&missing)
    );
    let url = fresh_database();
    let (user, place) = url.rsplit_once('@').unwrap();
    let (user, _) = user.rsplit_once(':').unwrap();
    let wrong = format!("{user}:Wr0ng-hunter2@{place}");
    let refused = scenarist(&config, &wrong, &["store", "migrate"]);
    assert!(!refused.status.success());
    let text = stderr(&refused);
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(text.contains("127.0.0.1 port"), "where it tried: {text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_export_imports_into_postgres_and_back_unchanged() {
    // A sled store with a conversation in it, written by `serve`.
    let sled_data = tempdir().join("data");
    {
        let server = crate::service::Server::start(&sled_data);
        let (status, _) = server
            .post("/v1/messages", &message("m1", "moving house"))
            .await;
        assert_eq!(status, 200);
    }
    let folder = tempdir();
    let from_sled = folder.join("from-sled.jsonl");
    let data = sled_data.to_str().unwrap();
    let exported = crate::support::scenarist(&[
        "store",
        "export",
        "--data",
        data,
        "-o",
        from_sled.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));

    let url = fresh_database();
    let config = postgres_workspace();
    let imported = scenarist(
        &config,
        &url,
        &["store", "import", from_sled.to_str().unwrap()],
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stderr(&imported).contains("into the PostgreSQL store"),
        "{}",
        stderr(&imported)
    );
    let from_pg = folder.join("from-postgres.jsonl");
    let exported = scenarist(
        &config,
        &url,
        &["store", "export", "-o", from_pg.to_str().unwrap()],
    );
    assert!(exported.status.success(), "{}", stderr(&exported));
    let sled_lines = std::fs::read_to_string(&from_sled).unwrap();
    assert!(sled_lines.contains("moving house"));
    assert_eq!(
        std::fs::read_to_string(&from_pg).unwrap(),
        sled_lines,
        "PostgreSQL gives back what sled gave, line for line"
    );
    // And back into a new sled directory.
    let back = folder.join("back");
    let imported = crate::support::scenarist(&[
        "store",
        "import",
        "--data",
        back.to_str().unwrap(),
        from_pg.to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let again = folder.join("again.jsonl");
    let exported = crate::support::scenarist(&[
        "store",
        "export",
        "--data",
        back.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), sled_lines);
}

/// A node's `/metrics`, as text.
pub(crate) async fn metrics_text(client: &reqwest::Client, base: &str) -> String {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
