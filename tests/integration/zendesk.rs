//! The connector against the Zendesk stand-in over real HTTP: the seed's Verification section
//! in mode B and mode A, `continue_after_ticket` on and off, accounts that must never sync,
//! faults (429 with Retry-After, 500, timeouts, dropped connections, execute-then-drop) with
//! the ticket still created exactly once and every message on it exactly once, and a 422
//! surfaced with its details.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scenarist::config::Workspace;
use scenarist::runtime::engine::Engine;
use scenarist::runtime::state::{Contact, Input, Status};
use scenarist::runtime::value::Value;
use scenarist::runtime::{Clock, FlushPolicy, ManualClock};
use scenarist::setup;
use scenarist::source::SourceFile;
use scenarist::store::{KvStore, MemoryBackend, Store};
use scenarist::zendesk::actions::{Org, ZendeskActions, credentials};
use scenarist::zendesk::client::{Timeouts, ZendeskClient};
use zendesk_standin::{Fault, FaultKind, StandIn, StandInConfig, TicketFieldRecord, TicketRecord};

use crate::support::{inbound as message, scenario_bundle, tempdir};
use crate::zendesk_oas::assert_requests_follow_the_openapi;

const START: i64 = 1_795_860_000_000;
/// The Zendesk id of the custom ticket field `sync.ticket_fields.order_number`.
const ORDER_FIELD: u64 = 360_012_345;

/// A workspace whose organization `acme` is the stand-in, in `mode`.
fn workspace(standin: &StandIn, mode: &str, continue_after_ticket: bool) -> Workspace {
    let dir = tempdir();
    let token = dir.join("zendesk.token");
    std::fs::write(&token, "standin-token\n").unwrap();
    let yaml = format!(
        r"version: 1
contact_fields:
  email: email
  phone: phone
  order_number: text
  language: text
  vip: bool
teams: [Zendesk, Orders, Support, After hours]
channels:
  facebook: {{ max_message_length: 2000 }}
  instagram: {{ max_message_length: 1000 }}
  whatsapp: {{ max_message_length: 4096 }}
accounts:
  facebook:acme: {{ channel: facebook, scenario: zendesk_handoff, zendesk: acme, sync: true }}
  instagram:acme: {{ channel: instagram, scenario: zendesk_handoff, zendesk: acme, sync: false }}
  whatsapp:acme: {{ channel: whatsapp, scenario: zendesk_handoff }}
  instagram:shop: {{ channel: instagram, scenario: ticket_sync, zendesk: acme, sync: true }}
  facebook:triage: {{ channel: facebook, scenario: triage, zendesk: acme, sync: true }}
zendesk:
  organizations:
    acme:
      url: {url}
      auth: {{ type: api_token, email: agent@acme.example, token_file: {token} }}
      fields:
        search: {{ email: email }}
        display: {{ name: name, email: email }}
        create: {{ name: name, email: email, user_fields.order_number: order_number }}
      sync: {{ mode: {mode}, team: Zendesk, email_field: email, continue_after_ticket: {continue_after_ticket}, ticket_fields: {{ order_number: {ORDER_FIELD} }} }}
",
        url = standin.url(),
        token = token.display(),
    );
    Workspace::parse(SourceFile::new("scenarist.yaml", yaml), PathBuf::from("/")).unwrap()
}

struct Setup {
    engine: Engine,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
}

/// An engine for `workspace` on the memory store, its Zendesk clients with short timeouts.
fn engine(workspace: &Workspace) -> Setup {
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let clock = Arc::new(ManualClock::new(START));
    let organization = &workspace.config.zendesk.organizations["acme"];
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(800),
    };
    let client = ZendeskClient::new(
        &organization.url,
        credentials(organization, &workspace.base).unwrap(),
        timeouts,
    )
    .unwrap();
    let orgs = HashMap::from([(
        "acme".to_owned(),
        Arc::new(Org::new("acme", client, organization.fields.clone())),
    )]);
    let accounts = workspace
        .config
        .accounts
        .iter()
        .filter_map(|(id, a)| a.zendesk.clone().map(|o| (id.clone(), o)))
        .collect();
    let actions = Arc::new(ZendeskActions::new(orgs, accounts, Arc::clone(&store)));
    let mut options = setup::options(workspace);
    options.flush = FlushPolicy::EveryMessage;
    let engine = Engine::new(
        Arc::clone(&store),
        Arc::clone(&clock) as Arc<dyn Clock>,
        actions,
        options,
    );
    for name in ["zendesk_handoff", "ticket_sync"] {
        engine.publish(&scenario_bundle(name)).unwrap();
    }
    Setup {
        engine,
        store,
        clock,
    }
}

impl Setup {
    /// Runs what is due until nothing is left (waiting out retries on the manual clock).
    async fn settle(&self) {
        for _ in 0..60 {
            self.engine.settle(16).await.unwrap();
            let busy = self
                .store
                .conversations()
                .unwrap()
                .into_iter()
                .any(|(_, record)| !record.unwrap().pending.is_empty());
            if !busy {
                return;
            }
            // A retry is scheduled: let the clock (and a real Retry-After pause) pass.
            self.clock.advance(6 * 60 * 1000);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("effects are still pending");
    }

    async fn say(&self, account: &str, conversation: &str, id: &str, text: &str) {
        self.engine
            .handle(message(account, conversation, id, text))
            .await
            .unwrap();
        self.settle().await;
    }

    async fn advisor(&self, conversation: &str, id: &str, text: &str) {
        let input = Input::Advisor {
            message_id: id.into(),
            advisor_id: "g".into(),
            advisor_name: "Grace".into(),
            text: text.into(),
        };
        self.engine.apply(conversation, input).await.unwrap();
        self.settle().await;
    }

    async fn close(&self, conversation: &str) {
        self.engine.apply(conversation, Input::Close).await.unwrap();
        self.settle().await;
    }
}

fn comment_texts(ticket: &TicketRecord) -> Vec<String> {
    ticket
        .comments
        .iter()
        .map(|c| c.html_body.clone())
        .collect()
}

/// How many times `text` appears across the ticket's comments.
fn occurrences(ticket: &TicketRecord, text: &str) -> usize {
    ticket
        .comments
        .iter()
        .map(|c| c.html_body.matches(text).count())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_b_verification_message_bot_team_ticket_with_history() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let workspace = workspace(&standin, "zendesk", true);
    let setup = engine(&workspace);
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    assert!(
        standin.tickets().is_empty(),
        "no ticket before the sync team is reached"
    );
    setup
        .say("facebook:acme", "c1", "m2", "ada@example.com")
        .await;

    let conversation = setup.store.conversation("c1").unwrap().unwrap();
    assert_eq!(conversation.team.as_deref(), Some("Zendesk"));
    assert_eq!(conversation.status, Status::WithAdvisor);
    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket.external_id.as_deref(), Some("scenarist-c1"));
    let user = standin
        .users()
        .into_iter()
        .find(|u| u.id == ticket.requester_id)
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    let history = &ticket.comments[0].html_body;
    for line in [
        "Hi",
        "Hello Ada! I&#x27;m the ACME assistant.",
        "What is your email address?",
        "ada@example.com",
        "Thank you, I saved ada@example.com.",
        "An advisor will answer you here in a moment.",
    ] {
        let line = line.replace("&#x27;", "'");
        assert!(
            history.contains(&line),
            "the history lacks {line:?}: {history}"
        );
    }
    assert!(
        history.contains("<strong>Ada Lovelace</strong>")
            && history.contains("<strong>Bot</strong>"),
        "{history}"
    );
    let sync = conversation.sync.as_ref().unwrap();
    assert_eq!(sync.ticket_id, Some(ticket.id));
    let contact = setup
        .store
        .contact("facebook:acme", "contact-c1")
        .unwrap()
        .unwrap();
    assert_eq!(
        contact.zendesk.get("acme"),
        Some(&ticket.requester_id),
        "the contact is linked"
    );

    // Continue after the ticket: later messages become comments; closing solves.
    setup.advisor("c1", "a1", "Hello Ada, Grace here.").await;
    setup
        .say("facebook:acme", "c1", "m3", "Thanks Grace!")
        .await;
    setup.close("c1").await;
    let ticket = &standin.tickets()[0];
    assert_eq!(ticket.status, "solved");
    assert!(ticket.assignee_id.is_some(), "solving needs an assignee");
    let texts = comment_texts(ticket);
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts[1].contains("Advisor Grace") && texts[1].contains("Hello Ada, Grace here."));
    assert!(texts[2].contains("Thanks Grace!"));
    assert_eq!(
        ticket.comments[2].author_id, ticket.requester_id,
        "the contact's message is theirs"
    );
    assert_eq!(occurrences(ticket, "Thanks Grace!"), 1);

    let checked = assert_requests_follow_the_openapi(&standin.requests());
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        ["TicketCreateRequest", "TicketUpdateRequest", "UserRequest"],
        "every kind of body was checked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_continue_the_ticket_is_created_once_and_left_alone() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", false));
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    setup
        .say("facebook:acme", "c1", "m2", "ada@example.com")
        .await;
    setup.advisor("c1", "a1", "Hello").await;
    setup.close("c1").await;
    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].comments.len(), 1, "only the history");
    assert_eq!(tickets[0].status, "new", "not solved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_and_unlinked_accounts_never_sync() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    for account in ["instagram:acme", "whatsapp:acme"] {
        let id = account.replace(':', "-");
        setup.say(account, &id, "m1", "Hi").await;
        setup.say(account, &id, "m2", "ada@example.com").await;
        setup.advisor(&id, "a1", "Hello").await;
        setup.close(&id).await;
        let conversation = setup.store.conversation(&id).unwrap().unwrap();
        assert_eq!(
            conversation.team.as_deref(),
            Some("Zendesk"),
            "{account} reached the team"
        );
    }
    assert!(standin.tickets().is_empty());
    assert!(
        standin.requests().is_empty(),
        "not a single call to Zendesk"
    );
}

/// Comment updates (`PUT /tickets/{id}`) the stand-in received.
fn comment_updates(standin: &StandIn) -> usize {
    standin
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/api/v2/tickets/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_messages_costs_one_update_per_side() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    setup
        .say("facebook:acme", "c1", "m2", "ada@example.com")
        .await;
    // Three messages arrive before any comment is sent, then two from the advisor.
    for (id, text) in [("m3", "first"), ("m4", "second"), ("m5", "third")] {
        setup
            .engine
            .handle(message("facebook:acme", "c1", id, text))
            .await
            .unwrap();
    }
    for (id, text) in [("a1", "Hello Ada"), ("a2", "Looking now")] {
        let input = Input::Advisor {
            message_id: id.into(),
            advisor_id: "g".into(),
            advisor_name: "Grace".into(),
            text: text.into(),
        };
        setup.engine.apply("c1", input).await.unwrap();
    }
    setup.settle().await;
    let ticket = &standin.tickets()[0];
    for text in ["first", "second", "third", "Hello Ada", "Looking now"] {
        assert_eq!(occurrences(ticket, &format!("{text}</p>")), 1, "{text}");
    }
    // The first comment went out with m3 alone (recorded before the rest arrived); the
    // contact's other two and the advisor's two each went as one.
    assert_eq!(comment_updates(&standin), 3);
    let last = &ticket.comments[ticket.comments.len() - 1];
    assert!(last.html_body.contains("Hello Ada") && last.html_body.contains("Looking now"));
    assert_ne!(
        last.author_id, ticket.requester_id,
        "the advisor's run is not the contact's"
    );
    assert_eq!(
        ticket.comments[ticket.comments.len() - 2].author_id,
        ticket.requester_id,
        "the contact's run is theirs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_too_long_for_one_comment_continues_in_comments() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "interface", true));
    // 40 messages of ~1,900 characters: more than Zendesk keeps in one comment (64 kB).
    for i in 0..40 {
        let text = format!("long-{i}-{}", "x".repeat(1900));
        setup
            .engine
            .handle(message("facebook:acme", "c1", &format!("m{i}"), &text))
            .await
            .unwrap();
    }
    let user_id = standin_user(&standin, "ada@example.com").await;
    let mut contact = setup
        .store
        .contact("facebook:acme", "contact-c1")
        .unwrap()
        .unwrap();
    contact.zendesk.insert("acme".into(), user_id);
    setup.store.put_contact(&contact).unwrap();
    setup.advisor("c1", "a1", "Opening a ticket").await;
    let ticket = &standin.tickets()[0];
    assert!(
        ticket.comments.len() >= 2,
        "the history continues in comments"
    );
    for comment in &ticket.comments {
        assert!(
            comment.html_body.len() < 64_000,
            "{}",
            comment.html_body.len()
        );
    }
    for i in 0..40 {
        // `>`: the contact's message itself, not the bot quoting it back.
        assert_eq!(
            occurrences(ticket, &format!(">long-{i}-x")),
            1,
            "message {i}"
        );
    }
    assert_eq!(occurrences(ticket, "Opening a ticket"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_a_syncs_when_an_advisor_writes_to_a_linked_contact() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "interface", true));
    // Not linked: an advisor's message syncs nothing.
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    setup.advisor("c1", "a1", "Hello").await;
    assert!(standin.tickets().is_empty());

    // Linked (by an admin): the next advisor message creates the ticket.
    let user_id = standin_user(&standin, "ada@example.com").await;
    let mut contact = setup
        .store
        .contact("facebook:acme", "contact-c1")
        .unwrap()
        .unwrap_or_else(|| Contact::new("facebook:acme", "contact-c1", "Ada"));
    contact.zendesk.insert("acme".into(), user_id);
    setup.store.put_contact(&contact).unwrap();
    setup
        .advisor("c1", "a2", "Let me open a ticket for you.")
        .await;
    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].requester_id, user_id);
    assert!(
        tickets[0].comments[0]
            .html_body
            .contains("Let me open a ticket for you.")
    );
    setup.say("facebook:acme", "c1", "m2", "Great").await;
    assert_eq!(occurrences(&standin.tickets()[0], "Great"), 1);
    assert_requests_follow_the_openapi(&standin.requests());
}

/// Creates a user in the stand-in through its API and returns its id.
async fn standin_user(standin: &StandIn, email: &str) -> u64 {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v2/users/create_or_update", standin.url()))
        .basic_auth("agent@acme.example/token", Some("standin-token"))
        .json(&serde_json::json!({ "user": { "name": "Ada Lovelace", "email": email } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["user"]["id"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_still_give_exactly_one_ticket_and_each_message_once() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    let fault = |method: &str, path: &str, kind: FaultKind| Fault {
        method: Some(method.into()),
        path_prefix: path.into(),
        kind,
        times: 1,
    };
    standin.inject(fault(
        "POST",
        "/api/v2/tickets",
        FaultKind::TooManyRequests {
            retry_after: 1,
            text_plain: true,
        },
    ));
    standin.inject(fault(
        "POST",
        "/api/v2/tickets",
        FaultKind::ServerError(500),
    ));
    standin.inject(fault(
        "POST",
        "/api/v2/tickets",
        FaultKind::Slow { millis: 1500 },
    ));
    standin.inject(fault("POST", "/api/v2/tickets", FaultKind::ExecuteThenDrop));
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    setup
        .say("facebook:acme", "c1", "m2", "ada@example.com")
        .await;
    let state = setup.store.conversation("c1").unwrap().unwrap();
    assert_eq!(
        standin.tickets().len(),
        1,
        "exactly one ticket: {:?} {:?} {:?}",
        state.sync,
        state.dead,
        state.pending
    );

    standin.inject(fault("PUT", "/api/v2/tickets", FaultKind::ExecuteThenDrop));
    standin.inject(fault("PUT", "/api/v2/tickets", FaultKind::Drop));
    standin.inject(fault("PUT", "/api/v2/tickets", FaultKind::ServerError(503)));
    setup
        .say("facebook:acme", "c1", "m3", "Where is my parcel?")
        .await;
    setup.advisor("c1", "a1", "Checking now.").await;
    let ticket = &standin.tickets()[0];
    assert_eq!(
        occurrences(ticket, "Where is my parcel?"),
        1,
        "{:#?}",
        comment_texts(ticket)
    );
    assert_eq!(occurrences(ticket, "Checking now."), 1);
    let conversation = setup.store.conversation("c1").unwrap().unwrap();
    assert!(conversation.dead.is_empty());
    // The 429 paused the client; its retry came after Retry-After.
    let posts: Vec<_> = standin
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/v2/tickets"))
        .collect();
    assert!(posts.len() >= 4, "{} ticket POSTs", posts.len());
    let keys: Vec<String> = posts
        .iter()
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k == "idempotency-key")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "every attempt carries the same idempotency key: {keys:?}"
    );
    let bodies: Vec<&Vec<u8>> = posts.iter().map(|r| &r.body).collect();
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "and the same bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_is_surfaced_with_its_details_and_kept_as_a_dead_letter() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    let body = serde_json::json!({"error": "RecordInvalid", "description": "Record validation errors", "details": {"requester": [{"description": "Requester: Email is not properly formatted", "error": "InvalidValue"}]}});
    standin.inject(Fault {
        method: Some("POST".into()),
        path_prefix: "/api/v2/tickets".into(),
        kind: FaultKind::Status { code: 422, body },
        times: 1,
    });
    setup.say("facebook:acme", "c1", "m1", "Hi").await;
    setup
        .say("facebook:acme", "c1", "m2", "ada@example.com")
        .await;
    assert!(standin.tickets().is_empty());
    let conversation = setup.store.conversation("c1").unwrap().unwrap();
    let error = conversation
        .sync
        .as_ref()
        .unwrap()
        .last_error
        .clone()
        .unwrap();
    assert!(
        error.contains("422") && error.contains("Requester: Email is not properly formatted"),
        "{error}"
    );
    assert_eq!(conversation.dead.len(), 1);
    assert_eq!(conversation.dead[0].error, error);
    let posts = standin
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/v2/tickets"))
        .count();
    assert_eq!(posts, 1, "a 422 is not retried");

    // `scenarist outbox retry` sends it back: then it goes through.
    setup
        .engine
        .apply(
            "c1",
            Input::Revive {
                effect: conversation.dead[0].effect.id.clone(),
            },
        )
        .await
        .unwrap();
    setup.settle().await;
    assert_eq!(standin.tickets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_that_creates_its_ticket_gets_one_ticket_only() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    let mut first = message("instagram:shop", "s1", "m1", "I need help");
    first
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    let outcome = setup.engine.handle(first).await.unwrap();
    assert_eq!(
        outcome.replies[0].text,
        "Hi Ada! I'll open a support ticket for this chat."
    );
    setup.settle().await;
    let tickets = standin.tickets();
    assert_eq!(
        tickets.len(),
        1,
        "the scenario's ticket, and no second one from the Support → sync path"
    );
    let conversation = setup.store.conversation("s1").unwrap().unwrap();
    let history = setup.engine.history(&conversation).unwrap();
    let said: Vec<String> = history
        .iter()
        .flat_map(|t| t.replies().map(|m| m.text.clone()).collect::<Vec<_>>())
        .collect();
    assert!(
        said.contains(&format!("Your ticket number is {}.", tickets[0].id)),
        "{said:?}"
    );
    assert_eq!(
        conversation.sync.as_ref().unwrap().ticket_id,
        Some(tickets[0].id)
    );
    assert!(
        assert_requests_follow_the_openapi(&standin.requests()).contains("TicketCreateRequest")
    );
}

/// Mode B with what the bot learned on the ticket.
const TRIAGE: &str = r#"
scenario triage {
  start welcome

  step welcome {
    set ticket.tags = ["order", "delivery", "scenarist"]
    set ticket.priority = "high"
    set ticket.group_id = 360001
    set ticket.fields.order_number = contact.order_number
    route team "Zendesk"
    say "An advisor will answer you here."
    handoff advisor
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mode_b_ticket_carries_the_tags_priority_group_and_fields_the_scenario_set() {
    let config = StandInConfig {
        ticket_fields: vec![TicketFieldRecord {
            id: ORDER_FIELD,
            kind: "text".into(),
            title: "Order number".into(),
            active: true,
        }],
        ..StandInConfig::default()
    };
    let standin = StandIn::start(0, config).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    setup.engine.publish(TRIAGE).unwrap();
    let mut first = message("facebook:triage", "t1", "m1", "My parcel is late");
    first
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    first
        .fields
        .insert("order_number".into(), Value::text("A-1001"));
    setup.engine.handle(first).await.unwrap();
    setup.settle().await;

    let tickets = standin.tickets();
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(
        ticket.tags,
        ["scenarist", "facebook", "order", "delivery"],
        "the scenario's tags after Scenarist's own, once each"
    );
    assert_eq!(ticket.priority.as_deref(), Some("high"));
    assert_eq!(ticket.group_id, Some(360_001));
    assert_eq!(
        ticket.custom_fields,
        std::collections::BTreeMap::from([(ORDER_FIELD, serde_json::json!("A-1001"))])
    );

    // The create request said so in Zendesk's words, and that body is among those checked
    // against Zendesk's OpenAPI.
    let requests = standin.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST" && r.path.starts_with("/api/v2/tickets"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["ticket"]["priority"], "high");
    assert_eq!(body["ticket"]["group_id"], 360_001);
    assert_eq!(
        body["ticket"]["custom_fields"],
        serde_json::json!([{"id": ORDER_FIELD, "value": "A-1001"}])
    );
    assert!(assert_requests_follow_the_openapi(&requests).contains("TicketCreateRequest"));
}

/// `/users/search` is paged by offset, 100 at most per page: a search reads every page, asks
/// for the next one by number on the organization's URL, and stops at its cap, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_search_reads_every_page_up_to_its_cap() {
    use scenarist::zendesk::client::SEARCH_CAP;
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let workspace = workspace(&standin, "zendesk", true);
    let organization = &workspace.config.zendesk.organizations["acme"];
    let client = ZendeskClient::new(
        &organization.url,
        credentials(organization, &workspace.base).unwrap(),
        Timeouts::default(),
    )
    .unwrap();
    let create = |n: usize| {
        let client = &client;
        async move {
            let body = serde_json::json!({"user": {"name": format!("Lovelace {n}"), "email": format!("ada{n}@example.com")}});
            client.create_or_update_user(&body).await.unwrap();
        }
    };
    for n in 0..250 {
        create(n).await;
    }
    let found = client.search_users("name:Lovelace").await.unwrap();
    assert_eq!(found.users.len(), 250);
    assert!(!found.truncated);
    let mut ids: Vec<u64> = found.users.iter().filter_map(|u| u.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 250, "each page once");
    let pages: Vec<String> = standin
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/users/search"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(
        pages[2].contains("page=3") && pages[2].contains("per_page=100"),
        "{pages:?}"
    );

    for n in 250..SEARCH_CAP + 20 {
        create(n).await;
    }
    let found = client.search_users("name:Lovelace").await.unwrap();
    assert_eq!(found.users.len(), SEARCH_CAP);
    assert!(found.truncated, "the cap is said");
    standin.stop().await;
}

/// The ticket of a conversation (its `external_id` is `scenarist-<conversation>`).
fn ticket_of(standin: &StandIn, conversation: &str) -> TicketRecord {
    let marker = format!("scenarist-{conversation}");
    standin
        .tickets()
        .into_iter()
        .find(|t| t.external_id.as_deref() == Some(marker.as_str()))
        .unwrap_or_else(|| panic!("no ticket for {conversation}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ticket_update_limit_holds_back_that_ticket_only() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let setup = engine(&workspace(&standin, "zendesk", true));
    for (conversation, email) in [("c1", "ada@example.com"), ("c2", "grace@example.com")] {
        setup.say("facebook:acme", conversation, "m1", "Hi").await;
        setup.say("facebook:acme", conversation, "m2", email).await;
    }
    let limited = ticket_of(&standin, "c1").id;
    standin.inject(Fault {
        method: Some("PUT".into()),
        path_prefix: format!("/api/v2/tickets/{limited}"),
        kind: FaultKind::TicketUpdateLimit { retry_after: 600 },
        times: 1,
    });
    // c1's update meets the per-ticket limit …
    setup
        .engine
        .handle(message("facebook:acme", "c1", "m3", "Where is my parcel?"))
        .await
        .unwrap();
    setup.engine.settle(16).await.unwrap();
    assert_eq!(
        occurrences(&ticket_of(&standin, "c1"), "Where is my parcel?"),
        0
    );
    assert!(
        !setup
            .store
            .conversation("c1")
            .unwrap()
            .unwrap()
            .pending
            .is_empty()
    );
    // … and c2's goes through meanwhile: the instance is not paused.
    setup
        .engine
        .handle(message("facebook:acme", "c2", "m3", "And mine?"))
        .await
        .unwrap();
    setup.engine.settle(16).await.unwrap();
    assert_eq!(occurrences(&ticket_of(&standin, "c2"), "And mine?"), 1);
    assert_eq!(
        occurrences(&ticket_of(&standin, "c1"), "Where is my parcel?"),
        0
    );
    // After Retry-After, c1's update is retried and lands exactly once.
    setup.settle().await;
    let ticket = ticket_of(&standin, "c1");
    assert_eq!(
        occurrences(&ticket, "Where is my parcel?"),
        1,
        "{:#?}",
        comment_texts(&ticket)
    );
    assert!(
        setup
            .store
            .conversation("c1")
            .unwrap()
            .unwrap()
            .dead
            .is_empty()
    );
}
