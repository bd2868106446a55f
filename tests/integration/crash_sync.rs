//! The crash test of the sync (reliability.md §6 A4, scaled to CI): `scenarist pipe` runs
//! mode-B conversations against the Zendesk stand-in (which lives in this test process, so
//! it outlives every kill) and is killed with SIGKILL at random points, including in the
//! middle of ticket creations and comments; the stand-in also drops a few connections after
//! executing a request. At the end, each conversation must have exactly one ticket and every
//! message it sent must be on that ticket exactly once.
//!
//! `SCENARIST_SYNC_CRASH_KILLS` sets the number of kills (default 25), and the conversations
//! grow longer with it (a message per kill, at least 8 after the email) so that
//! the kills land mid-sync; the figures are printed.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use zendesk_standin::{Fault, FaultKind, StandIn, StandInConfig};

use crate::crash::{Channel, Random, feed, message_id, on_ack, spawn_pipe};
use crate::support::{root, tempdir};

const CONVERSATIONS: usize = 24;

fn text(conversation: usize, index: usize) -> String {
    match index {
        0 => "Hi".to_owned(),
        1 => format!("c{conversation}@example.com"),
        i => format!("note-{conversation}-{i}"),
    }
}

fn line(conversation: usize, index: usize) -> String {
    serde_json::json!({
        "account": "facebook:acme",
        "conversation": format!("c{conversation}"),
        "message_id": message_id(conversation, index),
        "contact": { "id": format!("u{conversation}"), "name": format!("Contact {conversation}") },
        "text": text(conversation, index),
    })
    .to_string()
}

/// The stand-in on its own runtime, on a thread, for the whole test.
fn standin() -> (StandIn, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let standin = runtime
        .block_on(StandIn::start(0, StandInConfig::default()))
        .unwrap();
    (standin, runtime)
}

#[test]
fn kills_during_syncs_leave_one_ticket_per_conversation_and_each_message_once() {
    let kills: usize = std::env::var("SCENARIST_SYNC_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(25);
    // Messages after the two that reach the sync team (the greeting and the email).
    let later = kills.max(8);
    let conversations = CONVERSATIONS;
    let mut random = Random(0xC0FF_EE11);
    let (standin, _runtime) = standin();
    let dir = tempdir();
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(
        root().join("scenarios/zendesk_handoff.scn"),
        dir.join("scenarios/zendesk_handoff.scn"),
    )
    .unwrap();
    std::fs::write(dir.join("zendesk.token"), "standin-token\n").unwrap();
    let config = dir.join("scenarist.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\ncontact_fields: {{ email: email }}\nteams: [Zendesk]\nchannels:\n  facebook: {{ max_message_length: 2000 }}\n\
             accounts:\n  facebook:acme: {{ channel: facebook, scenario: zendesk_handoff, zendesk: acme }}\n\
             zendesk:\n  organizations:\n    acme:\n      url: {}\n      auth: {{ type: api_token, email: agent@acme.example, token_file: zendesk.token }}\n\
             \x20     sync: {{ mode: zendesk, team: Zendesk, email_field: email }}\n",
            standin.url()
        ),
    )
    .unwrap();
    let args = |drain: &str| -> Vec<OsString> {
        vec![
            "--config".into(),
            config.clone().into(),
            "--data".into(),
            dir.join("data").into(),
            "--drain".into(),
            drain.into(),
            dir.join("scenarios").into(),
        ]
    };

    let last = later + 1;
    let mut channels: Vec<Channel> = (0..conversations).map(|_| Channel::default()).collect();
    let mut errors = Vec::new();
    let (mut killed, mut dropped) = (0, 0);
    let started = Instant::now();
    while killed < kills && channels.iter().any(|c| c.next <= last) {
        // Now and then Zendesk executes a request and the answer is lost.
        if random.below(3) == 0 {
            dropped += 1;
            let method = if random.below(2) == 0 { "POST" } else { "PUT" };
            standin.inject(Fault {
                method: Some(method.into()),
                path_prefix: "/api/v2/tickets".into(),
                kind: FaultKind::ExecuteThenDrop,
                times: 1,
            });
        }
        let mut worker = spawn_pipe(&args("0"));
        // Killed after a few answers or a short while, whichever comes first: the work of
        // one run is small, so kills land in startup, intake and the syncs it starts.
        let deadline = Instant::now() + Duration::from_millis(10 + random.below(90));
        let mut answers_left = random.below(40);
        feed(&mut worker, &mut channels, last, true, &line);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if answers_left == 0 {
                break;
            }
            match worker.acks.recv_timeout(left) {
                Ok((id, ok)) => {
                    answers_left -= 1;
                    if on_ack(&mut channels, &id, ok, &mut errors).is_some() {
                        feed(&mut worker, &mut channels, last, false, &line);
                    }
                }
                Err(_) => break,
            }
        }
        worker.child.kill().unwrap();
        worker.child.wait().unwrap();
        while let Ok((id, ok)) = worker.acks.recv_timeout(Duration::from_millis(30)) {
            on_ack(&mut channels, &id, ok, &mut errors);
        }
        killed += 1;
    }

    // A last, undisturbed run sends the rest and waits for the outbox to drain.
    let mut worker = spawn_pipe(&args("60"));
    feed(&mut worker, &mut channels, last, true, &line);
    while channels.iter().any(|c| c.next <= last) {
        let (id, ok) = worker.next_answer();
        if on_ack(&mut channels, &id, ok, &mut errors).is_some() {
            feed(&mut worker, &mut channels, last, false, &line);
        }
    }
    drop(worker.stdin.take());
    assert!(worker.child.wait().unwrap().success());
    assert!(errors.is_empty(), "{errors:?}");

    let tickets = standin.tickets();
    let (mut missing, mut duplicated_tickets, mut unsynced, mut duplicated_messages, mut messages) =
        (0, 0, 0, 0, 0);
    for c in 0..conversations {
        let external_id = format!("scenarist-c{c}");
        let mine: Vec<_> = tickets
            .iter()
            .filter(|t| t.external_id.as_deref() == Some(external_id.as_str()))
            .collect();
        match mine.len() {
            0 => missing += 1,
            1 => {}
            _ => duplicated_tickets += 1,
        }
        let Some(ticket) = mine.first() else { continue };
        for i in 2..=last {
            messages += 1;
            let needle = format!("note-{c}-{i}<");
            match ticket
                .comments
                .iter()
                .map(|comment| comment.html_body.matches(&needle).count())
                .sum::<usize>()
            {
                0 => unsynced += 1,
                1 => {}
                _ => duplicated_messages += 1,
            }
        }
    }
    println!(
        "sync crash test: {killed} kills in {:.1} s; {conversations} conversations: {missing} without a ticket, {duplicated_tickets} with two or more; \
         {messages} later messages: {unsynced} not on the ticket, {duplicated_messages} on it twice; {} tickets in all, {} requests to Zendesk, {dropped} answers dropped after execution",
        started.elapsed().as_secs_f64(),
        tickets.len(),
        standin.requests().len()
    );
    assert_eq!(
        (missing, duplicated_tickets, unsynced, duplicated_messages),
        (0, 0, 0, 0)
    );
    assert_eq!(tickets.len(), conversations);
}
