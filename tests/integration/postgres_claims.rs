//! Timers and the outbox with two `serve` nodes on one PostgreSQL database (the test server:
//! these tests fail, never skip, without it), against the Zendesk stand-in through the same
//! client as Zendesk:
//! - conversations whose scenario creates a Zendesk ticket, their messages alternating
//!   between the nodes: each gets exactly one ticket, created by exactly one request — an
//!   effect runs on one node at a time (its claim);
//! - a node killed with SIGKILL under load, again and again: every acknowledged message is in
//!   its history once and in order, every conversation has exactly one ticket, and what the
//!   dead node was running (its claimed effects) and what was due (timers, effects) is done
//!   by the survivor alone before the dead node comes back.
//!
//! `SCENARIST_PG_CRASH_KILLS` sets the number of kills (default 3); the figures are printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use scenarist::runtime::state::{Author, Conversation};
use scenarist::store::{KvStore, PgBackend, Store};
use serde_json::{Value, json};
use zendesk_standin::{Fault, FaultKind, StandIn, StandInConfig};

use crate::postgres_store::{Server, TOKEN, URL_VARIABLE, fresh_database, texts};
use crate::support::{root, tempdir};

/// The account whose scenario is the example `ticket_sync` (a ticket on the first message).
const TICKET_SYNC: &str = "instagram:acme-shop";
/// The account whose scenario is [`QUIET`].
const QUIET_ACCOUNT: &str = "webchat:acme";

/// Every message is answered by the same question; a second of silence fires its timer, and
/// the timer's step creates the conversation's Zendesk ticket (two effects: the user, then the
/// ticket). Later messages are only kept.
const QUIET: &str = r#"
scenario quiet {
  start talk
  step talk {
    ask "Say something." {
      save said
      timeout 1s then goto ticket
    }
    goto talk
  }
  step ticket {
    call zendesk.find_or_create_user(email: contact.email, name: contact.name) as user { on error goto failed }
    call zendesk.create_ticket(requester: user, subject: "Chat with {contact.name}") as ticket { on error goto failed }
    say "Ticket {ticket.id}."
    goto done
  }
  step done {
    ask "Anything else?" {
      save more
    }
    goto done
  }
  step failed {
    say "No ticket."
    goto done
  }
}
"#;

/// A workspace on the database of `URL_VARIABLE`: the example `ticket_sync` (with the flow it
/// includes) and [`QUIET`], their Zendesk organization the stand-in at `zendesk`.
fn workspace(zendesk: &str) -> PathBuf {
    let folder = tempdir().join("workspace");
    std::fs::create_dir_all(&folder).unwrap();
    for name in ["ticket_sync.scn", "email_capture.scn"] {
        std::fs::copy(root().join("scenarios").join(name), folder.join(name)).unwrap();
    }
    std::fs::write(folder.join("quiet.scn"), QUIET).unwrap();
    std::fs::write(folder.join("zendesk.token"), "standin-token\n").unwrap();
    let config = folder.join("scenarist.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nscenarios: .\n\
             store: {{ backend: postgres, url_env: {URL_VARIABLE}, pool: 4 }}\n\
             contact_fields: {{ email: email }}\nteams: [Support]\n\
             channels:\n  instagram: {{ max_message_length: 1000 }}\n  webchat: {{ max_message_length: 1000 }}\n\
             accounts:\n  {TICKET_SYNC}: {{ channel: instagram, scenario: ticket_sync, zendesk: shop }}\n\
             \x20 {QUIET_ACCOUNT}: {{ channel: webchat, scenario: quiet, zendesk: shop }}\n\
             zendesk:\n  organizations:\n    shop:\n      url: {zendesk}\n\
             \x20     auth: {{ type: api_token, email: agent@acme.example, token_file: zendesk.token }}\n\
             \x20     fields: {{ search: {{ email: email }}, create: {{ name: name, email: email }} }}\n\
             \x20     sync: {{ mode: interface, continue_after_ticket: false }}\n"
        ),
    )
    .unwrap();
    config
}

/// Message `id` of `conversation` on `account`, its text the id; the contact's email known.
fn message(account: &str, conversation: &str, id: &str) -> Value {
    json!({
        "account": account,
        "conversation": conversation,
        "message_id": id,
        "contact": {
            "id": format!("u-{conversation}"),
            "name": "Ada",
            "fields": { "email": format!("{conversation}@example.com") },
        },
        "text": id,
    })
}

/// Sends `body` until a node acknowledges it (200), first to `nodes[first]`, then to the other
/// after each failure — a dead node is passed over, as a load balancer would.
async fn deliver(client: &reqwest::Client, nodes: &[String; 2], first: usize, body: &Value) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut node = first;
    loop {
        let sent = client
            .post(format!("{}/v1/messages", nodes[node]))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await;
        if sent.is_ok_and(|response| response.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "no node acknowledged {body}");
        node = 1 - node;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One conversation's client: `count` messages, one after the other's answer, each to the
/// other node than the one before. The conversation and its acknowledged ids, in order.
async fn converse(
    client: reqwest::Client,
    nodes: [String; 2],
    account: &'static str,
    conversation: String,
    count: usize,
) -> (String, Vec<String>) {
    let mut acknowledged = Vec::new();
    for i in 0..count {
        let id = format!("{conversation}-{i:02}");
        deliver(
            &client,
            &nodes,
            i % 2,
            &message(account, &conversation, &id),
        )
        .await;
        acknowledged.push(id);
    }
    (conversation, acknowledged)
}

pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The Zendesk stand-in, its ticket creations slowed down (so that nodes hold their claims
/// for a while), on the test's runtime.
pub(crate) async fn standin(creation_ms: u64) -> StandIn {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    if creation_ms > 0 {
        standin.inject(Fault {
            method: Some("POST".into()),
            path_prefix: "/api/v2/tickets".into(),
            kind: FaultKind::Slow {
                millis: creation_ms,
            },
            times: u32::MAX,
        });
    }
    standin
}

/// The tickets of each conversation (by the `scenarist-<conversation>` external id), and the
/// creation requests that named it.
pub(crate) fn tickets_and_creations(
    standin: &StandIn,
) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let mut tickets = BTreeMap::new();
    for ticket in standin.tickets() {
        let external = ticket.external_id.unwrap_or_default();
        *tickets.entry(external).or_default() += 1;
    }
    let mut creations = BTreeMap::new();
    for request in standin.requests() {
        if request.method == "POST" && request.path == "/api/v2/tickets" {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let external = body["ticket"]["external_id"].as_str().unwrap_or_default();
            *creations.entry(external.to_owned()).or_default() += 1;
        }
    }
    (tickets, creations)
}

/// The store as a third process sees it.
fn store(url: &str) -> KvStore<PgBackend> {
    KvStore::new(PgBackend::open(url, 1).unwrap())
}

/// Whether the conversation got its ticket (or gave up on it) and has nothing left to do.
fn settled(store: &KvStore<PgBackend>, conversation: &Conversation) -> bool {
    let history = store
        .history(&conversation.id, conversation.last_seq)
        .unwrap();
    let answered = history.iter().flat_map(|turn| &turn.messages).any(|m| {
        m.author == Author::Bot
            && (m.text.starts_with("Ticket ")
                || m.text.starts_with("Your ticket number")
                || m.text == "No ticket.")
    });
    answered && conversation.pending.is_empty() && conversation.timer.is_none()
}

/// Waits until every conversation of `ids` has settled.
async fn wait_until_settled(store: &KvStore<PgBackend>, ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for id in ids {
        loop {
            let conversation = store.conversation(id).unwrap();
            if conversation.as_ref().is_some_and(|c| settled(store, c)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "conversation {id} did not settle: {conversation:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_create_one_ticket_per_conversation_with_one_request() {
    const CONVERSATIONS: usize = 12;
    const MESSAGES: usize = 4;
    let standin = standin(200).await;
    let url = fresh_database();
    let config = workspace(&standin.url());
    let first = Server::start(&config, &url, &tempdir().join("node-a"));
    let second = Server::start(&config, &url, &tempdir().join("node-b"));
    let nodes = [first.base.clone(), second.base.clone()];
    let client = http_client();

    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CONVERSATIONS {
        // Half start on each node.
        let nodes = if c % 2 == 0 {
            nodes.clone()
        } else {
            [nodes[1].clone(), nodes[0].clone()]
        };
        let conversation = format!("ticket-{c}");
        clients.spawn(converse(
            client.clone(),
            nodes,
            TICKET_SYNC,
            conversation,
            MESSAGES,
        ));
    }
    let mut sent = Vec::new();
    while let Some(done) = clients.join_next().await {
        sent.push(done.unwrap());
    }
    let store = store(&url);
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    wait_until_settled(&store, &ids).await;

    let (tickets, creations) = tickets_and_creations(&standin);
    for (conversation, acknowledged) in &sent {
        assert_eq!(&texts(&client, &nodes[0], conversation).await, acknowledged);
        let external = format!("scenarist-{conversation}");
        assert_eq!(
            tickets.get(&external),
            Some(&1),
            "{conversation}: {tickets:?}"
        );
        assert_eq!(
            creations.get(&external),
            Some(&1),
            "{conversation}: its ticket was created by more than one run: {creations:?}"
        );
    }
    assert_eq!(tickets.values().sum::<usize>(), CONVERSATIONS);
}

/// The claim keys (`engine/nodes.rs`: `effects\0<conversation>`, hashed as the store hashes
/// lock names) the claims session of process `pid` holds.
async fn claims_of(url: &str, pid: u32) -> BTreeSet<i64> {
    let (url, name) = (url.to_owned(), format!("scenarist claims {pid}"));
    // The sync client runs a runtime of its own: not on one of this runtime's workers.
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .query(
                "SELECT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l \
                 JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1 \
                 AND a.datname = current_database()",
                &[&name],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    })
    .await
    .unwrap()
}

fn claim_key(conversation: &str) -> i64 {
    let hash = scenarist::runtime::state::id_hash(&format!("effects\0{conversation}"));
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Waits until one of `nodes` holds claims (it is running effects): that node and the
/// claims, the node of `prefer` first.
async fn a_node_running_effects(
    url: &str,
    nodes: &[Option<Server>; 2],
    prefer: usize,
) -> (usize, BTreeSet<i64>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for node in [prefer, 1 - prefer] {
            let pid = nodes[node].as_ref().unwrap().pid();
            let claims = claims_of(url, pid).await;
            if !claims.is_empty() {
                return (node, claims);
            }
        }
        assert!(Instant::now() < deadline, "no node ever claimed an effect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_loses_nothing_and_the_survivor_takes_its_work_over() {
    const CONVERSATIONS: usize = 8;
    const MESSAGES: usize = 6;
    let kills: usize = std::env::var("SCENARIST_PG_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    let standin = standin(1_000).await;
    let url = fresh_database();
    let config = workspace(&standin.url());
    let start = |n: usize| Server::start(&config, &url, &tempdir().join(format!("node-{n}")));
    let mut nodes = [Some(start(0)), Some(start(1))];
    let client = http_client();
    let store = store(&url);
    let started = Instant::now();
    let mut sent = Vec::new();
    let (mut claimed_at_kills, mut pending_at_kills, mut timers_at_kills) = (0, 0, 0);
    for round in 0..kills {
        let bases = nodes
            .each_ref()
            .map(|node| node.as_ref().unwrap().base.clone());
        let mut clients = tokio::task::JoinSet::new();
        let ids: Vec<String> = (0..CONVERSATIONS)
            .map(|c| format!("kill{round}-{c}"))
            .collect();
        for id in &ids {
            clients.spawn(converse(
                client.clone(),
                bases.clone(),
                QUIET_ACCOUNT,
                id.clone(),
                MESSAGES,
            ));
        }
        // Killed while it runs effects: a ticket creation of its is in flight.
        let (victim, claims) = a_node_running_effects(&url, &nodes, round % 2).await;
        drop(nodes[victim].take()); // SIGKILL
        for id in &ids {
            if let Some(conversation) = store.conversation(id).unwrap() {
                pending_at_kills += conversation.pending.len();
                timers_at_kills += usize::from(conversation.timer.is_some());
            }
        }
        let taken_over: Vec<&String> = ids
            .iter()
            .filter(|id| claims.contains(&claim_key(id)))
            .collect();
        assert_eq!(
            taken_over.len(),
            claims.len(),
            "every claim the dead node held was of this round's effects"
        );
        claimed_at_kills += claims.len();
        // The survivor alone: the clients' messages, then every timer and effect left.
        while let Some(done) = clients.join_next().await {
            sent.push(done.unwrap());
        }
        // Including the effects the dead node had claimed (`taken_over`), whose claims ended
        // with its sessions: nothing is left for the node that comes back.
        wait_until_settled(&store, &ids).await;
        nodes[victim] = Some(start(2 + round));
    }

    let survivor = nodes[0].as_ref().unwrap().base.clone();
    let (tickets, creations) = tickets_and_creations(&standin);
    let (mut lost_or_misordered, mut ticket_problems) = (0, 0);
    for (conversation, acknowledged) in &sent {
        if &texts(&client, &survivor, conversation).await != acknowledged {
            lost_or_misordered += 1;
        }
        if tickets.get(&format!("scenarist-{conversation}")) != Some(&1) {
            ticket_problems += 1;
        }
    }
    println!(
        "postgres crash test: {kills} kills in {:.1} s, {} conversations, {} messages acknowledged: \
         {lost_or_misordered} conversations with a message lost, doubled or out of order, \
         {ticket_problems} without exactly one ticket ({} tickets, {} creation requests); at the \
         kills the dead node held {claimed_at_kills} claims, {pending_at_kills} effects were \
         pending and {timers_at_kills} timers armed, all run by the survivor",
        started.elapsed().as_secs_f64(),
        sent.len(),
        sent.iter().map(|(_, ids)| ids.len()).sum::<usize>(),
        tickets.values().sum::<usize>(),
        creations.values().sum::<usize>(),
    );
    assert_eq!((lost_or_misordered, ticket_problems), (0, 0));
    assert_eq!(tickets.values().sum::<usize>(), kills * CONVERSATIONS);
    assert!(
        claimed_at_kills >= kills,
        "each kill found the node running effects"
    );
}
