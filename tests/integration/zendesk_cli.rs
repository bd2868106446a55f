//! The connector's admin commands against the Zendesk stand-in, as an admin runs them:
//! `zendesk connect` (OAuth end to end through a browser-like client, and API tokens),
//! `zendesk list`, `zendesk check`, `zendesk verify` (the seed guide's Verification section),
//! `contact candidates|link|display|unlink|show`, and `outbox list|retry` on a dead letter.
//! The binary runs as a child process while the stand-in serves from the test's runtime.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;

use scenarist::config::Workspace;
use scenarist::runtime::engine::{Engine, Inbound};
use scenarist::runtime::state::Contact;
use scenarist::runtime::value::Value;
use scenarist::runtime::{Clock, SystemClock};
use scenarist::setup;
use scenarist::store::{KvStore, SledBackend, Store};
use scenarist::zendesk::client::{Credentials, Timeouts, ZendeskClient};
use scenarist::zendesk::secret::Secret;
use serde_json::json;
use zendesk_standin::{StandIn, StandInConfig, TicketFieldRecord};

use crate::support::{root, stdout, tempdir};

const TOKEN_ENV: &str = "SCENARIST_TEST_ZENDESK_TOKEN";

/// The binary with `args`, its environment cleaned and `env` added.
pub(crate) fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
    command
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("SCENARIST_CONFIG")
        .env_remove("ZENDESK_CLIENT_ID")
        .env_remove("ZENDESK_CLIENT_SECRET")
        .env_remove(TOKEN_ENV);
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs the binary off the runtime's threads (the stand-in keeps serving meanwhile).
pub(crate) async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(args, env);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// `run` with the stand-in's API token in `TOKEN_ENV`.
async fn run_with_token(args: &[&str]) -> Output {
    run(args, &[(TOKEN_ENV, "standin-token")]).await
}

pub(crate) fn all(output: &Output) -> String {
    format!(
        "{}{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A workspace folder: `scenarist.yaml` with the organization `acme` at the stand-in (the
/// given `auth` and `fields`, sync `mode`), the accounts, `data/` as the data directory, and
/// the example `zendesk_handoff.scn` as its only scenario.
pub(crate) fn workspace(url: &str, auth: &str, fields: &str, mode: &str) -> PathBuf {
    let dir = tempdir();
    std::fs::copy(
        root().join("scenarios/zendesk_handoff.scn"),
        dir.join("zendesk_handoff.scn"),
    )
    .unwrap();
    let yaml = format!(
        "version: 1
data_dir: data
scenarios: .
contact_fields:
  email: email
  phone: phone
  order_number: text
teams: [Zendesk, Support]
channels:
  facebook: {{ max_message_length: 2000 }}
  instagram: {{ max_message_length: 1000 }}
accounts:
  facebook:acme: {{ channel: facebook, scenario: zendesk_handoff, zendesk: acme, sync: true }}
  instagram:acme: {{ channel: instagram, scenario: zendesk_handoff, zendesk: acme, sync: false }}
zendesk:
  organizations:
    acme:
      url: {url}
      auth: {auth}
      fields: {fields}
      sync: {{ mode: {mode}, team: Zendesk, email_field: email }}
"
    );
    std::fs::write(dir.join("scenarist.yaml"), yaml).unwrap();
    dir
}

const API_TOKEN: &str =
    "{ type: api_token, email: agent@acme.example, token_env: SCENARIST_TEST_ZENDESK_TOKEN }";
pub(crate) const FIELDS: &str = "{ search: { email: email, phone: phone }, display: { name: name, email: email, user_fields.order_number: order_number }, create: { name: name, email: email, user_fields.order_number: order_number } }";

pub(crate) fn config(dir: &Path) -> String {
    dir.join("scenarist.yaml").display().to_string()
}

/// `zendesk connect` (or `reauthorize`) running as a child process, its output read up to the
/// authorize URL it prints, as an admin would read it.
pub(crate) struct Authorizing {
    child: Child,
    reader: BufReader<ChildStdout>,
    /// What was printed up to and including the URL.
    pub(crate) printed: String,
    /// The authorize URL, for the "browser" to open.
    pub(crate) url: String,
}

impl Authorizing {
    pub(crate) async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (url, reader, printed) = tokio::task::spawn_blocking(move || {
            let mut reader = BufReader::new(out);
            let mut printed = String::new();
            let mut line = String::new();
            let mut announced = false;
            loop {
                line.clear();
                assert!(
                    reader.read_line(&mut line).unwrap() > 0,
                    "no URL: {printed}"
                );
                printed.push_str(&line);
                if announced {
                    return (line.trim().to_owned(), reader, printed);
                }
                announced = line.starts_with("Open this URL to authorize Scenarist:");
            }
        })
        .await
        .unwrap();
        Self {
            child,
            reader,
            printed,
            url,
        }
    }

    /// Waits for the command to end: its exit status and the rest of its output.
    pub(crate) async fn finish(self) -> (ExitStatus, String) {
        let Self {
            mut child,
            mut reader,
            ..
        } = self;
        tokio::task::spawn_blocking(move || {
            let mut rest = String::new();
            reader.read_to_string(&mut rest).unwrap();
            let mut errors = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut errors)
                .unwrap();
            rest.push_str(&errors);
            (child.wait().unwrap(), rest)
        })
        .await
        .unwrap()
    }
}

/// A client of the stand-in, to create users as an agent would.
fn client(standin: &StandIn) -> ZendeskClient {
    let credentials = Credentials::ApiToken {
        email: "agent@acme.example".into(),
        token: Secret::new("standin-token"),
    };
    ZendeskClient::new(&standin.url(), credentials, Timeouts::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_over_oauth_stores_the_token_and_list_shows_the_date() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let url = standin.url();
    let dir = workspace(
        &url,
        "{ type: oauth, token_file: data/zendesk/acme.token }",
        FIELDS,
        "zendesk",
    );
    let cfg = config(&dir);
    let before = run(&["zendesk", "list", "--config", &cfg], &[]).await;
    assert!(
        stdout(&before).contains("connected: not connected"),
        "{}",
        all(&before)
    );

    let connecting = Authorizing::start(
        &[
            "zendesk", "connect", &url, "--org", "acme", "--config", &cfg,
        ],
        &[("ZENDESK_CLIENT_SECRET", "standin-secret")],
    )
    .await;
    let (authorize, printed) = (connecting.url.clone(), connecting.printed.clone());
    assert!(
        authorize.starts_with(&format!(
            "{url}/oauth/authorizations/new?response_type=code"
        )),
        "{printed}"
    );
    assert!(authorize.contains("scope=read%20write"), "{authorize}");
    // The browser: the stand-in grants at once and redirects to the CLI's callback.
    let page = reqwest::get(&authorize).await.unwrap();
    assert!(page.status().is_success());
    let page = page.text().await.unwrap();
    assert!(page.contains("You can close this window"), "{page}");

    let (status, rest) = connecting.finish().await;
    assert_eq!(status.code(), Some(0), "{printed}{rest}");
    assert!(rest.contains("✓ Connected `acme`"), "{rest}");
    assert!(rest.contains("type: oauth"), "{rest}");
    assert!(
        rest.contains("token_file: data/zendesk/acme.token"),
        "relative to the config's folder: {rest}"
    );

    let token = dir.join("data/zendesk/acme.token");
    let text = std::fs::read_to_string(&token).unwrap();
    assert!(text.trim().len() >= 20, "a real token: {text:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let registry = std::fs::read_to_string(dir.join("data/zendesk/connections.json")).unwrap();
    assert!(registry.contains("\"connected_at\""), "{registry}");

    let listed = run(&["zendesk", "list", "--config", &cfg], &[]).await;
    let text = stdout(&listed);
    assert_eq!(listed.status.code(), Some(0), "{}", all(&listed));
    let year = &scenarist::runtime::clock::iso8601(SystemClock.now())[..4];
    assert!(
        text.contains(&format!("connected: {year}-")) && text.contains("as agent (stand-in agent)"),
        "{text}"
    );
    assert!(
        text.contains("OAuth, token from data/zendesk/acme.token"),
        "{text}"
    );
    assert!(
        text.contains("accounts: facebook:acme (sync on), instagram:acme (sync off)"),
        "{text}"
    );

    // The stored token works: `check` authenticates with it.
    let checked = run(&["zendesk", "check", "--config", &cfg], &[]).await;
    assert_eq!(checked.status.code(), Some(0), "{}", all(&checked));
    // The refresh token Zendesk sent is kept with the access token, and `check` shows the
    // token's expiry (none was asked for).
    let kept = scenarist::zendesk::token_file::TokenSet::read(&token).unwrap();
    assert!(kept.refresh.is_some(), "the refresh token is kept");
    assert!(
        stdout(&checked).contains("✓ OAuth access token: does not expire; renewed automatically"),
        "{}",
        all(&checked)
    );
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_an_api_token_checks_it_first() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let url = standin.url();
    let data = tempdir();
    let data = data.to_str().unwrap();
    let args = [
        "zendesk",
        "connect",
        &url,
        "--data",
        data,
        "--api-token-env",
        TOKEN_ENV,
        "--email",
        "agent@acme.example",
    ];
    let refused = run(&args, &[(TOKEN_ENV, "not-the-token")]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", all(&refused));
    assert!(
        stdout(&refused).contains("anonymous user"),
        "{}",
        all(&refused)
    );
    assert!(!Path::new(data).join("zendesk/connections.json").exists());

    let accepted = run_with_token(&args).await;
    assert_eq!(accepted.status.code(), Some(0), "{}", all(&accepted));
    let text = stdout(&accepted);
    assert!(text.contains("✓ Connected `local`"), "{text}");
    assert!(
        text.contains("type: api_token") && text.contains(&format!("token_env: {TOKEN_ENV}")),
        "{text}"
    );

    let insecure = run(
        &[
            "zendesk",
            "connect",
            "http://acme.zendesk.com",
            "--data",
            data,
        ],
        &[],
    )
    .await;
    assert_eq!(insecure.status.code(), Some(2), "{}", all(&insecure));
    assert!(all(&insecure).contains("https://"), "{}", all(&insecure));
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_then_catches_a_misspelt_user_field() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "zendesk");
    let passed = run_with_token(&["zendesk", "check", "--config", &config(&dir)]).await;
    let text = stdout(&passed);
    assert_eq!(passed.status.code(), Some(0), "{}", all(&passed));
    assert!(
        text.contains("✓ credentials accepted: agent (stand-in agent) <agent@acme.example>, admin"),
        "{text}"
    );
    assert!(
        text.contains("✓ display user_fields.order_number"),
        "{text}"
    );

    let misspelt = workspace(
        &standin.url(),
        API_TOKEN,
        &FIELDS.replace(
            "display: { name: name, email: email, user_fields.order_number",
            "display: { name: name, email: email, user_fields.ordr_number",
        ),
        "zendesk",
    );
    let failed =
        run_with_token(&["zendesk", "check", "acme", "--config", &config(&misspelt)]).await;
    let text = stdout(&failed);
    assert_eq!(failed.status.code(), Some(1), "{}", all(&failed));
    assert!(
        text.contains("✗ display user_fields.ordr_number")
            && text.contains("did you mean `user_fields.order_number`?"),
        "{text}"
    );
    assert!(text.contains("1 problem found."), "{text}");

    // Without the token: the anonymous user is explained.
    let anonymous = run(
        &["zendesk", "check", "--config", &config(&dir)],
        &[(TOKEN_ENV, "wrong")],
    )
    .await;
    assert_eq!(anonymous.status.code(), Some(1), "{}", all(&anonymous));
    assert!(
        stdout(&anonymous).contains("anonymous user"),
        "{}",
        all(&anonymous)
    );
    standin.stop().await;
}

/// Adds `sync.ticket_fields: FIELDS` (a YAML flow mapping) to a fresh `workspace`.
fn with_ticket_fields(dir: &Path, fields: &str) {
    let file = dir.join("scenarist.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    let yaml = yaml.replace(
        "email_field: email }",
        &format!("email_field: email, ticket_fields: {fields} }}"),
    );
    assert!(yaml.contains(fields), "{yaml}");
    std::fs::write(&file, yaml).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_missing_and_inactive_ticket_fields() {
    let field = |id, title: &str, active| TicketFieldRecord {
        id,
        kind: "text".into(),
        title: title.into(),
        active,
    };
    let account = StandInConfig {
        ticket_fields: vec![
            field(360_012_345, "Order number", true),
            field(360_077, "Old reason", false),
        ],
        ..StandInConfig::default()
    };
    let standin = StandIn::start(0, account).await.unwrap();
    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "zendesk");
    with_ticket_fields(&dir, "{ order_number: 360012345 }");
    let passed = run_with_token(&["zendesk", "check", "--config", &config(&dir)]).await;
    let text = stdout(&passed);
    assert_eq!(passed.status.code(), Some(0), "{}", all(&passed));
    assert!(
        text.contains(
            "✓ sync.ticket_fields order_number → ticket field 360012345 “Order number” (text)"
        ),
        "{text}"
    );

    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "zendesk");
    with_ticket_fields(
        &dir,
        "{ order_number: 360012345, gift_wrap: 360099, reason: 360077 }",
    );
    let failed = run_with_token(&["zendesk", "check", "--config", &config(&dir)]).await;
    let text = stdout(&failed);
    assert_eq!(failed.status.code(), Some(1), "{}", all(&failed));
    assert!(
        text.contains(
            "✗ sync.ticket_fields gift_wrap → ticket field 360099: Zendesk has no ticket field \
             360099, so `ticket.fields.gift_wrap` would be dropped from every ticket; create the \
             field in Admin Center → Objects and rules → Tickets → Fields and write its id under \
             `sync.ticket_fields`, or correct the id"
        ),
        "{text}"
    );
    assert!(
        text.contains("✗ sync.ticket_fields reason → ticket field 360077: the ticket field “Old reason” is inactive"),
        "{text}"
    );
    assert!(text.contains("2 problems found."), "{text}");
    let asked: Vec<String> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/ticket_fields/"))
        .map(|r| r.path)
        .collect();
    assert!(
        asked.contains(&"/api/v2/ticket_fields/360099".to_owned()),
        "{asked:?}"
    );

    // Refused credentials: the ids are not asked about, and say so.
    let anonymous = run(
        &["zendesk", "check", "--config", &config(&dir)],
        &[(TOKEN_ENV, "wrong")],
    )
    .await;
    assert!(
        stdout(&anonymous).contains(
            "- sync.ticket_fields gift_wrap → ticket field 360099: not checked (Zendesk did not accept the credentials)"
        ),
        "{}",
        all(&anonymous)
    );
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_has_the_ticket_fields_its_organization_names() {
    let dir = workspace("http://127.0.0.1:0", "{ type: sandbox }", FIELDS, "zendesk");
    with_ticket_fields(&dir, "{ order_number: 360012345, gift_wrap: 360099 }");
    let checked = run(&["zendesk", "check", "--config", &config(&dir)], &[]).await;
    let text = stdout(&checked);
    assert_eq!(checked.status.code(), Some(0), "{}", all(&checked));
    for line in [
        "✓ sync.ticket_fields order_number → ticket field 360012345 “order_number” (text)",
        "✓ sync.ticket_fields gift_wrap → ticket field 360099 “gift_wrap” (text)",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
}

/// Writes contact records into a fresh sled data directory, then closes it.
fn contacts(data: &Path, contacts: &[Contact]) {
    let store = KvStore::new(SledBackend::open(data).unwrap());
    for contact in contacts {
        store.put_contact(contact).unwrap();
    }
    store.flush().unwrap();
}

fn contact(id: &str, name: &str, email: &str) -> Contact {
    let mut contact = Contact::new("facebook:acme", id, name);
    contact.fields.insert("email".into(), Value::text(email));
    contact
        .fields
        .insert("order_number".into(), Value::text("A-1001"));
    contact
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_searched_linked_displayed_and_unlinked() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "zendesk");
    let cfg = config(&dir);
    contacts(
        &dir.join("data"),
        &[
            contact("u1", "Ada Lovelace", "ada@example.com"),
            contact("u2", "Grace Hopper", "grace@example.com"),
        ],
    );
    let zendesk = client(&standin);
    let create = |name: &str, email: &str| {
        let body = json!({ "user": { "name": name, "email": email, "user_fields": { "order_number": "Z-9" } } });
        let zendesk = &zendesk;
        async move {
            zendesk
                .create_or_update_user(&body)
                .await
                .unwrap()
                .id
                .unwrap()
        }
    };
    let fuzzy = create("Ada Byron", "ada@example.com.au").await;
    let exact = create("Ada Lovelace", "Ada@Example.com").await;

    let found = run_with_token(&[
        "contact",
        "candidates",
        "facebook:acme",
        "u1",
        "--config",
        &cfg,
    ])
    .await;
    let text = stdout(&found);
    assert_eq!(found.status.code(), Some(0), "{}", all(&found));
    let lines: Vec<&str> = text.lines().filter(|l| l.contains('#')).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(&format!("exact  #{exact}  Ada Lovelace")),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!("fuzzy  #{fuzzy}")) && lines[1].contains("email~"),
        "{text}"
    );

    let missing = run_with_token(&[
        "contact",
        "link",
        "facebook:acme",
        "u1",
        "--user",
        "42",
        "--config",
        &cfg,
    ])
    .await;
    assert_eq!(missing.status.code(), Some(1), "{}", all(&missing));
    assert!(
        stdout(&missing).contains("no user #42"),
        "{}",
        all(&missing)
    );

    let exact_id = exact.to_string();
    let linked = run_with_token(&[
        "contact",
        "link",
        "facebook:acme",
        "u1",
        "--user",
        &exact_id,
        "--config",
        &cfg,
    ])
    .await;
    assert_eq!(linked.status.code(), Some(0), "{}", all(&linked));
    assert!(
        stdout(&linked).contains(&format!("linked Zendesk user #{exact}")),
        "{}",
        all(&linked)
    );

    let shown = run_with_token(&[
        "contact",
        "display",
        "facebook:acme",
        "u1",
        "--config",
        &cfg,
    ])
    .await;
    let text = stdout(&shown);
    assert_eq!(shown.status.code(), Some(0), "{}", all(&shown));
    assert!(
        text.contains("email: Ada@Example.com") && text.contains("name: Ada Lovelace"),
        "{text}"
    );
    assert!(text.contains("user_fields.order_number: Z-9"), "{text}");

    let show = run(
        &["contact", "show", "facebook:acme", "u1", "--config", &cfg],
        &[],
    )
    .await;
    assert!(
        stdout(&show).contains(&format!("zendesk acme: user #{exact}")),
        "{}",
        all(&show)
    );

    let created = run_with_token(&[
        "contact",
        "link",
        "facebook:acme",
        "u2",
        "--create",
        "--config",
        &cfg,
    ])
    .await;
    assert_eq!(created.status.code(), Some(0), "{}", all(&created));
    let grace = standin
        .users()
        .into_iter()
        .find(|u| u.email.as_deref() == Some("grace@example.com"))
        .expect("the user was created from the create fields");
    assert_eq!(grace.name, "Grace Hopper");
    assert_eq!(
        grace.user_fields.get("order_number"),
        Some(&json!("A-1001"))
    );
    assert!(
        stdout(&created).contains(&format!("#{}", grace.id)),
        "{}",
        all(&created)
    );

    let unlinked = run(
        &["contact", "unlink", "facebook:acme", "u1", "--config", &cfg],
        &[],
    )
    .await;
    assert_eq!(unlinked.status.code(), Some(0), "{}", all(&unlinked));
    let display = run_with_token(&[
        "contact",
        "display",
        "facebook:acme",
        "u1",
        "--config",
        &cfg,
    ])
    .await;
    assert_eq!(display.status.code(), Some(1), "{}", all(&display));
    assert!(stdout(&display).contains("not linked"), "{}", all(&display));

    // While another process holds the data directory, the commands say so.
    let held = SledBackend::open(&dir.join("data")).unwrap();
    let locked = run(
        &["contact", "show", "facebook:acme", "u1", "--config", &cfg],
        &[],
    )
    .await;
    assert_eq!(locked.status.code(), Some(2), "{}", all(&locked));
    assert!(
        all(&locked).contains("in use by another process"),
        "{}",
        all(&locked)
    );
    drop(held);
    let unknown = run(
        &[
            "contact",
            "show",
            "facebook:acme",
            "nobody",
            "--config",
            &cfg,
        ],
        &[],
    )
    .await;
    assert_eq!(unknown.status.code(), Some(2), "{}", all(&unknown));
    assert!(
        all(&unknown).contains("no contact `nobody`"),
        "{}",
        all(&unknown)
    );
    standin.stop().await;
}

/// A conversation whose sync effect failed for good, in the sled directory `data`: mode B,
/// with the built-in runner (which cannot run `sync.create_ticket`).
fn dead_letter(data: &Path, url: &str) {
    let dir = workspace(url, API_TOKEN, FIELDS, "zendesk");
    let workspace = Workspace::load(&dir.join("scenarist.yaml"))
        .unwrap()
        .unwrap();
    let data = data.to_path_buf();
    // A runtime of its own: dropping it drops the engine's tasks, which releases sled's lock.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store: Arc<dyn Store> = Arc::new(KvStore::new(SledBackend::open(&data).unwrap()));
            let engine = Engine::new(
                Arc::clone(&store),
                Arc::new(SystemClock) as Arc<dyn Clock>,
                Arc::new(scenarist::runtime::runner::BuiltinActions),
                setup::options(&workspace),
            );
            let source =
                std::fs::read_to_string(root().join("scenarios/zendesk_handoff.scn")).unwrap();
            engine.publish(&source).unwrap();
            engine
                .handle(Inbound {
                    account: "facebook:acme".into(),
                    conversation: "c1".into(),
                    message_id: "m1".into(),
                    contact_id: "u1".into(),
                    contact_name: "Ada".into(),
                    fields: BTreeMap::from([("email".to_owned(), Value::text("ada@example.com"))]),
                    text: "Hi".into(),
                })
                .await
                .unwrap();
            engine.settle(16).await.unwrap();
            let conversation = store.conversation("c1").unwrap().unwrap();
            assert_eq!(conversation.dead.len(), 1, "{conversation:#?}");
            store.flush().unwrap();
        });
    })
    .join()
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_lists_and_retries_dead_letters() {
    let data = tempdir().join("data");
    dead_letter(&data, "http://127.0.0.1:9");
    let data = data.to_str().unwrap();
    let listed = run(&["outbox", "list", "--data", data], &[]).await;
    let text = stdout(&listed);
    assert_eq!(listed.status.code(), Some(0), "{}", all(&listed));
    assert!(
        text.contains("Pending effects: 0") && text.contains("Dead letters: 1"),
        "{text}"
    );
    assert!(
        text.contains("c1:sync:0  sync.create_ticket  conversation c1  failed 20"),
        "{text}"
    );
    assert!(
        text.contains("is not an action this runtime can run"),
        "{text}"
    );

    let unknown = run(&["outbox", "retry", "--data", data, "c9:sync:7"], &[]).await;
    assert_eq!(unknown.status.code(), Some(1), "{}", all(&unknown));
    assert!(
        stdout(&unknown).contains("no dead letter `c9:sync:7`"),
        "{}",
        all(&unknown)
    );

    let retried = run(&["outbox", "retry", "--data", data, "--all"], &[]).await;
    assert_eq!(retried.status.code(), Some(0), "{}", all(&retried));
    assert!(
        stdout(&retried).contains("revived c1:sync:0 (sync.create_ticket) of conversation c1"),
        "{}",
        all(&retried)
    );
    let after = run(&["outbox", "list", "--data", data], &[]).await;
    let text = stdout(&after);
    assert!(
        text.contains("Pending effects: 1") && text.contains("Dead letters: 0"),
        "{text}"
    );
    assert!(
        text.contains("c1:sync:0  sync.create_ticket  conversation c1  attempts 0"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_mode_b_creates_the_ticket_with_the_history() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "zendesk");
    let verified = run_with_token(&[
        "zendesk",
        "verify",
        "facebook:acme",
        "--config",
        &config(&dir),
        "--email",
        "ada@example.com",
    ])
    .await;
    let text = stdout(&verified);
    assert_eq!(verified.status.code(), Some(0), "{}", all(&verified));
    assert!(text.contains("✓ team: Zendesk (the sync team)"), "{text}");
    assert!(
        text.contains("bot: An advisor will answer you here in a moment."),
        "{text}"
    );
    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let ticket = &tickets[0];
    assert!(
        text.contains(&format!("✓ ticket #{} (", ticket.id)),
        "{text}"
    );
    let history = &ticket.comments[0].body;
    assert!(
        history.contains("Hello, this is a test message from scenarist zendesk verify.")
            && history.contains("An advisor will answer you here in a moment."),
        "{history}"
    );
    let requester = standin
        .users()
        .into_iter()
        .find(|u| u.id == ticket.requester_id)
        .unwrap();
    assert_eq!(requester.email.as_deref(), Some("ada@example.com"));

    // An account whose sync toggle is off: no ticket, and the reason.
    let off = run_with_token(&[
        "zendesk",
        "verify",
        "instagram:acme",
        "--config",
        &config(&dir),
    ])
    .await;
    assert_eq!(off.status.code(), Some(1), "{}", all(&off));
    assert!(
        stdout(&off).contains("synchronization is off for `instagram:acme`"),
        "{}",
        all(&off)
    );
    assert_eq!(standin.tickets().len(), 1);
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_mode_a_links_the_contact_and_syncs_on_the_advisor_message() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = workspace(&standin.url(), API_TOKEN, FIELDS, "interface");
    let verified = run_with_token(&[
        "zendesk",
        "verify",
        "facebook:acme",
        "--config",
        &config(&dir),
    ])
    .await;
    let text = stdout(&verified);
    assert_eq!(verified.status.code(), Some(0), "{}", all(&verified));
    assert!(
        text.contains("✓ the test contact is linked to Zendesk user #"),
        "{text}"
    );
    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let history = &tickets[0].comments[0].body;
    assert!(
        history.contains("This is a test reply from scenarist zendesk verify."),
        "{history}"
    );
    let requester = standin
        .users()
        .into_iter()
        .find(|u| u.id == tickets[0].requester_id)
        .unwrap();
    assert_eq!(requester.email.as_deref(), Some("verify@example.com"));
    standin.stop().await;
}
