//! The state file: what survives a restart, that a broken file is an error, and that without
//! one nothing is written.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Api, Got};
use crate::{StandIn, StandInConfig, StateFileError};

/// A fresh, empty folder of the test's own under the system temp folder.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scenarist-standin-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(file: &Path) -> StandInConfig {
    StandInConfig {
        state_file: Some(file.to_owned()),
        ..StandInConfig::default()
    }
}

async fn start_on(file: &Path) -> StandIn {
    StandIn::start(0, config(file)).await.unwrap()
}

/// What is on disk: the state file with its journal replayed.
fn file_json(file: &Path) -> Value {
    crate::persist::load_json(file).unwrap().unwrap()
}

const KEYED: &str = r#"{"ticket":{"subject":"Order late","requester":{"name":"Jane Doe","email":"jane@example.com"},"comment":{"html_body":"<p>Where is my order?</p>"},"tags":["bot"],"external_id":"conv-1","metadata":{"conversation":"c1"}}}"#;

async fn create_keyed(api: &Api, key: &str) -> Got {
    let request = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(KEYED);
    api.send(request).await
}

#[tokio::test]
async fn users_tickets_ids_idempotency_and_tokens_survive_a_restart() {
    let dir = folder("restart");
    let file = dir.join("sandbox.json");
    let first = start_on(&file).await;
    assert!(
        file.exists(),
        "written at start, so a bad place fails early"
    );
    let api = Api::new(&first);

    let user = json!({"user": {"name": "Tom Field", "email": "tom@example.com",
        "phone": "+15550100", "external_id": "crm-7", "user_fields": {"order_number": "A-1", "vip": true},
        "notes": "prefers chat"}});
    let got = api.post("/api/v2/users.json", &user).await;
    assert_eq!(got.status, 201, "{}", got.text);
    let tom = got.json["user"]["id"].as_u64().unwrap();
    let created = create_keyed(&api, "key-1").await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("x-idempotency-lookup"), Some("miss"));
    let ticket = created.json["ticket"]["id"].as_u64().unwrap();
    let update = json!({"ticket": {"comment": {"body": "Internal note", "public": false},
        "assignee_id": first.users()[0].id, "additional_tags": ["vip"],
        "metadata": {"step": "handoff"}}});
    let got = api.put(&format!("/api/v2/tickets/{ticket}"), &update).await;
    assert_eq!(got.status, 200, "{}", got.text);
    // An OAuth access token issued by the flow (the code itself is not kept).
    let token = {
        let oauth = Api::new(&first).with_auth(None);
        let request = oauth
            .request(reqwest::Method::GET, "/oauth/authorizations/new")
            .query(&[
                ("response_type", "code"),
                ("client_id", "scenarist"),
                ("redirect_uri", "http://127.0.0.1:9/cb"),
            ]);
        let location = oauth
            .send(request)
            .await
            .header("location")
            .unwrap()
            .to_owned();
        let code = location.split("code=").nth(1).unwrap().to_owned();
        let body = json!({"grant_type": "authorization_code", "code": code,
            "client_id": "scenarist", "client_secret": "standin-secret",
            "redirect_uri": "http://127.0.0.1:9/cb"});
        let got = oauth.post("/oauth/tokens", &body).await;
        assert_eq!(got.status, 201, "{}", got.text);
        got.json["access_token"].as_str().unwrap().to_owned()
    };

    let users = first.users();
    let tickets = first.tickets();
    assert_eq!((users.len(), tickets.len()), (3, 1));
    assert_eq!(tickets[0].comments.len(), 2);
    let shown_ticket = api.get(&format!("/api/v2/tickets/{ticket}")).await;
    let shown_comments = api.get(&format!("/api/v2/tickets/{ticket}/comments")).await;
    let shown_tom = api.get(&format!("/api/v2/users/{tom}")).await;
    let saved = file_json(&file);
    assert_eq!(saved["version"], 1);
    assert_eq!(
        saved["tickets"][0]["comments"][1]["metadata"],
        json!({"step": "handoff"})
    );
    let old_url = first.url();
    first.stop().await;

    // Another port (almost always: port 0 may, rarely, hand out the same one again). The
    // stored idempotent reply's URLs move with it.
    let second = start_on(&file).await;
    let moved = |got: &Got| got.text.replace(&old_url, &second.url());
    let api = Api::new(&second);
    assert_eq!(second.users(), users);
    assert_eq!(second.tickets(), tickets);
    for (before, path) in [
        (&shown_ticket, format!("/api/v2/tickets/{ticket}")),
        (
            &shown_comments,
            format!("/api/v2/tickets/{ticket}/comments"),
        ),
        (&shown_tom, format!("/api/v2/users/{tom}")),
    ] {
        let after = api.get(&path).await;
        assert_eq!(after.text, moved(before), "{path}");
    }

    // The retry of the create replays (at the new URL) instead of making a second ticket.
    let replay = create_keyed(&api, "key-1").await;
    assert_eq!(replay.status, 201, "{}", replay.text);
    assert_eq!(replay.header("x-idempotency-lookup"), Some("hit"));
    assert_eq!(replay.text, moved(&created));
    assert_eq!(
        replay.header("location"),
        Some(format!("{}/api/v2/tickets/{ticket}.json", second.url()).as_str())
    );
    assert_eq!(second.tickets().len(), 1);

    // The counters went on: no id comes back.
    let next = api.ticket("after the restart", None).await;
    assert_eq!(next, ticket + 1);
    let got = api
        .post("/api/v2/users", &json!({"user": {"name": "New"}}))
        .await;
    let newest = got.json["user"]["id"].as_u64().unwrap();
    let comment_id = tickets[0].comments[1].id;
    assert!(newest > comment_id && newest > tom, "{newest}");
    assert!(second.tickets()[1].comments[0].id > comment_id);

    // The issued token is still accepted.
    let bearer = Api::new(&second).with_auth(Some(&format!("Bearer {token}")));
    let got = bearer.get("/api/v2/users/me").await;
    assert_eq!(got.json["user"]["id"].as_u64(), Some(users[0].id));
    second.stop().await;

    let third = start_on(&file).await;
    assert_eq!(third.tickets().len(), 2);
    assert_eq!(third.users().len(), 4);
    third.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn concurrent_changes_are_all_on_disk_when_answered() {
    let dir = folder("concurrent");
    let file = dir.join("state.json");
    let standin = start_on(&file).await;
    let mut creates = JoinSet::new();
    for n in 0..16 {
        let api = Api::new(&standin);
        creates.spawn(async move { api.ticket(&format!("message {n}"), None).await });
    }
    let mut ids = Vec::new();
    while let Some(id) = creates.join_next().await {
        ids.push(id.unwrap());
    }
    ids.sort_unstable();
    // Every create has been answered, so every one is in the file — without a stop.
    let saved = file_json(&file);
    let on_disk: Vec<u64> = saved["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(on_disk, ids);
    assert_eq!(saved["next_ticket_id"].as_u64(), Some(ids[15] + 1));
    // Only the state file and its journal are in the folder: no temp file lingers.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["state.json", "state.json.journal"]);
    standin.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn start_error(file: &Path) -> std::io::Error {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(StandIn::start(0, config(file)))
        .expect_err("the file is not usable")
}

#[test]
fn a_broken_state_file_is_an_error_naming_it() {
    let dir = folder("broken");
    let file = dir.join("state.json");
    let cases = [
        ("{\"version\": 1, \"users\": [", "EOF while parsing"),
        (
            "{\"version\": 2}",
            "it is version 2; this build reads version 1",
        ),
        ("{}", "has no \"version\""),
        ("{\"version\": 1}", "missing field"),
    ];
    for (content, expected) in cases {
        std::fs::write(&file, content).unwrap();
        let error = start_error(&file);
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "the stand-in state file {} is not valid: ",
                file.display()
            )),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
        let inner = error.get_ref().unwrap().downcast_ref::<StateFileError>();
        assert!(
            matches!(inner, Some(StateFileError::Invalid { .. })),
            "{error:?}"
        );
        // The broken file is left alone for a human to look at.
        assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    }

    // Consistent JSON, inconsistent data: an id would be handed out twice.
    let fresh = dir.join("fresh.json");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let standin = start_on(&fresh).await;
        Api::new(&standin).ticket("hello", None).await;
        standin.stop().await;
    });
    let mut saved = file_json(&fresh);
    saved["next_ticket_id"] = json!(4001);
    std::fs::write(&fresh, saved.to_string()).unwrap();
    // The state file alone: no journal to replay over it.
    let _ = std::fs::remove_file(crate::journal::path_of(&fresh));
    let message = start_error(&fresh).to_string();
    assert!(
        message.contains("next_ticket_id 4001 is not above ticket 4001"),
        "{message}"
    );

    // A folder where the file should be cannot be read.
    let folder_file = dir.join("a-folder");
    std::fs::create_dir_all(&folder_file).unwrap();
    let error = start_error(&folder_file);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot read the stand-in state file {}: ",
            folder_file.display()
        )),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_missing_folder_is_created_and_without_a_state_file_nothing_is_kept() {
    let dir = folder("missing");
    let file = dir.join("nested").join("state.json");
    let standin = start_on(&file).await;
    assert!(file.exists());
    standin.stop().await;

    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    assert!(standin.shared.persister.is_none());
    Api::new(&standin).ticket("hello", None).await;
    standin.stop().await;
    // A new in-memory stand-in starts from scratch.
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    assert!(standin.tickets().is_empty());
    standin.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[tokio::test]
async fn a_change_is_appended_not_a_rewrite_and_compaction_keeps_the_files_bounded() {
    let dir = folder("journal");
    let file = dir.join("state.json");
    let journal = crate::journal::path_of(&file);
    let standin = start_on(&file).await;
    let api = Api::new(&standin);
    let ticket = api.ticket("first", None).await;
    let state_file = std::fs::read(&file).unwrap();
    // One more change: the state file is left as it is, the journal grows by one line.
    let before = std::fs::read_to_string(&journal).unwrap().lines().count();
    let update = json!({"ticket": {"comment": {"body": "one more", "public": true}}});
    let got = api.put(&format!("/api/v2/tickets/{ticket}"), &update).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(std::fs::read(&file).unwrap(), state_file);
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(lines.lines().count(), before + 1);
    // Only what changed: the ticket and the id counter, not the users.
    let last = lines.lines().last().unwrap();
    assert!(
        last.contains("one more") && !last.contains("\"users\""),
        "{last}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&journal).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the journal holds tokens too");
    }

    // Many changes to a small state: the files stay bounded (compaction), and all is kept.
    let mut largest = 0;
    for n in 0..crate::persist::COMPACT_AFTER_LINES + 200 {
        let user = json!({"user": {"name": format!("Tom {n}"), "email": "tom@example.com"}});
        let got = api.post("/api/v2/users/create_or_update", &user).await;
        assert!(got.status == 200 || got.status == 201, "{}", got.text);
        largest = largest.max(size(&file) + size(&journal));
    }
    let state = size(&file);
    assert!(
        largest <= 2 * state + crate::persist::COMPACT_AFTER_BYTES + 4096,
        "{largest} bytes on disk for a state of {state}"
    );
    let last = format!("Tom {}", crate::persist::COMPACT_AFTER_LINES + 199);
    standin.stop().await;
    let again = start_on(&file).await;
    assert!(again.users().iter().any(|u| u.name == last));
    assert_eq!(again.tickets()[0].comments.len(), 2);
    again.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_torn_last_journal_line_is_ignored_at_load() {
    let dir = folder("torn");
    let file = dir.join("state.json");
    let journal = crate::journal::path_of(&file);
    let standin = start_on(&file).await;
    let api = Api::new(&standin);
    let kept = api.ticket("kept", None).await;
    // Stopped without a final compaction: what a crash leaves, plus half a line.
    drop(standin);
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"tickets\":{\"set\":[{\"id\":");
    std::fs::write(&journal, text).unwrap();
    let again = start_on(&file).await;
    let tickets = again.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].id, kept);
    // Loading compacted it: the torn line is gone for good.
    assert!(!journal.exists());
    again.stop().await;

    // A broken line before the last is damage, not a crash: an error naming the journal.
    let standin = start_on(&file).await;
    Api::new(&standin).ticket("second", None).await;
    Api::new(&standin).ticket("third", None).await;
    drop(standin);
    let text = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(&journal, format!("not json\n{text}")).unwrap();
    let message = StandIn::start(0, config(&file))
        .await
        .expect_err("a damaged journal")
        .to_string();
    assert!(
        message.contains("line 1 of") && message.contains(".journal"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
