//! The sync modes' planning, input by input, without any I/O.

use std::collections::BTreeMap;

use super::*;
use scenarist_runtime::state::{Contact, Conversation, Effect, Input};

fn target(mode: SyncMode, continue_after_ticket: bool) -> SyncTarget {
    SyncTarget {
        organization: "acme".into(),
        mode,
        team: Some("Zendesk".into()),
        email_field: Some("email".into()),
        continue_after_ticket,
        ticket_fields: std::collections::BTreeMap::from([("order_number".to_owned(), 360_012_345)]),
    }
}

struct Case {
    target: Option<SyncTarget>,
    conversation: Conversation,
    contact: Contact,
}

impl Case {
    fn new(target: Option<SyncTarget>) -> Self {
        Self {
            target,
            conversation: Conversation::new("c1", "facebook:acme", "u1", "demo", "v1", 0),
            contact: Contact::new("facebook:acme", "u1", "Ada"),
        }
    }

    /// A turn happened (a message), then `input` is applied.
    fn step(&mut self, input: &Input) {
        self.conversation.last_seq += 1;
        after_input(
            self.target.as_ref(),
            Some("acme"),
            &mut self.conversation,
            &mut self.contact,
            input,
            None,
            0,
        );
    }

    fn message(&mut self) {
        self.step(&Input::Contact {
            message_id: format!("m{}", self.conversation.last_seq),
            text: "hi".into(),
        });
    }

    fn sync_effects(&self) -> Vec<&Effect> {
        self.conversation
            .pending
            .iter()
            .filter(|e| e.action.starts_with("sync."))
            .collect()
    }

    /// The pending sync effect finishes with `outcome`.
    fn finish(&mut self, outcome: ActionOutcome) -> Effect {
        let effect = self.sync_effects()[0].clone();
        self.conversation.pending.retain(|e| e.id != effect.id);
        let input = Input::ActionDone {
            effect: effect.id.clone(),
            outcome,
        };
        after_input(
            self.target.as_ref(),
            Some("acme"),
            &mut self.conversation,
            &mut self.contact,
            &input,
            Some(&effect),
            0,
        );
        effect
    }

    fn state(&self) -> &SyncState {
        self.conversation.sync.as_ref().unwrap()
    }
}

fn record(fields: &[(&str, f64)]) -> ActionOutcome {
    ActionOutcome::Done(Some(Value::Record(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::Number(*v)))
            .collect::<BTreeMap<_, _>>(),
    )))
}

#[test]
fn mode_b_creates_the_ticket_when_the_sync_team_is_reached_with_an_email() {
    let mut case = Case::new(Some(target(SyncMode::Zendesk, true)));
    case.message();
    assert!(case.sync_effects().is_empty(), "no team yet");
    case.conversation.team = Some("Zendesk".into());
    case.message();
    assert!(case.sync_effects().is_empty(), "no email yet");
    assert!(
        case.state()
            .last_error
            .as_deref()
            .unwrap()
            .contains("no `email`")
    );

    case.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    case.message();
    let create = case.sync_effects()[0].clone();
    assert_eq!(create.action, CREATE);
    assert_eq!(create.id, "c1:sync:0");
    assert_eq!(create.created_seq, 3);
    assert_eq!(
        create.request.get("email"),
        Some(&Value::text("ada@example.com"))
    );
    case.message();
    assert_eq!(case.sync_effects().len(), 1, "one sync effect at a time");
}

#[test]
fn after_the_ticket_every_message_is_commented_then_close_solves() {
    let mut case = Case::new(Some(target(SyncMode::Zendesk, true)));
    case.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    case.conversation.team = Some("Zendesk".into());
    case.message();
    case.message(); // turn 2 arrives while the creation is pending
    case.finish(record(&[
        ("ticket_id", 42.0),
        ("user_id", 7.0),
        ("seq", 1.0),
    ]));
    assert_eq!(case.state().ticket_id, Some(42));
    assert_eq!(
        case.contact.zendesk.get("acme"),
        Some(&7),
        "the contact is linked"
    );
    let comment = case.sync_effects()[0].clone();
    assert_eq!(comment.action, COMMENT);
    assert_eq!(comment.request.get("after_seq"), Some(&Value::Number(1.0)));
    case.finish(record(&[("seq", 2.0), ("index", 0.0)]));
    assert_eq!(case.state().synced, (2, 0));
    case.finish(record(&[("seq", 2.0), ("index", f64::from(WHOLE_TURN))]));
    assert!(
        case.sync_effects().is_empty(),
        "everything is on the ticket"
    );

    case.step(&Input::Close);
    case.finish(record(&[("seq", 3.0), ("index", f64::from(WHOLE_TURN))]));
    assert_eq!(case.sync_effects()[0].action, SOLVE);
    case.finish(ActionOutcome::Done(None));
    assert!(case.state().solved);
    case.message();
    assert!(
        case.sync_effects().is_empty(),
        "nothing after the ticket is solved"
    );
}

#[test]
fn without_continue_nothing_follows_the_creation() {
    let mut case = Case::new(Some(target(SyncMode::Zendesk, false)));
    case.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    case.conversation.team = Some("Zendesk".into());
    case.message();
    case.finish(record(&[
        ("ticket_id", 42.0),
        ("user_id", 7.0),
        ("seq", 1.0),
    ]));
    case.message();
    case.step(&Input::Close);
    assert!(case.sync_effects().is_empty());
}

#[test]
fn an_account_that_does_not_sync_never_gets_an_effect() {
    let mut case = Case::new(None);
    case.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    case.conversation.team = Some("Zendesk".into());
    case.message();
    case.step(&Input::Close);
    assert!(case.conversation.pending.is_empty());
    assert_eq!(case.conversation.sync, None);
}

#[test]
fn mode_a_needs_an_advisor_and_a_linked_contact() {
    let mut case = Case::new(Some(target(SyncMode::Interface, true)));
    let advisor = Input::Advisor {
        message_id: "a1".into(),
        advisor_id: "g".into(),
        advisor_name: "Grace".into(),
        text: "hello".into(),
    };
    case.step(&advisor);
    assert!(case.sync_effects().is_empty(), "the contact is not linked");
    case.contact.zendesk.insert("acme".into(), 7);
    case.message();
    assert!(
        case.sync_effects().is_empty(),
        "a contact message is not an advisor processing it"
    );
    case.step(&advisor);
    let create = case.sync_effects()[0];
    assert_eq!(create.request.get("user_id"), Some(&Value::Number(7.0)));
}

#[test]
fn a_failed_sync_is_a_dead_letter_and_stops_until_revived() {
    let mut case = Case::new(Some(target(SyncMode::Zendesk, true)));
    case.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    case.conversation.team = Some("Zendesk".into());
    case.message();
    let effect = case.finish(ActionOutcome::Failed(
        "Zendesk answered 422: RecordInvalid".into(),
    ));
    assert_eq!(case.conversation.dead[0].effect.id, effect.id);
    assert!(case.state().last_error.as_deref().unwrap().contains("422"));
    case.message();
    assert!(
        case.sync_effects().is_empty(),
        "no second ticket attempt behind the dead letter"
    );
}

#[test]
fn a_ticket_the_scenario_created_is_the_conversations_ticket() {
    let mut case = Case::new(Some(target(SyncMode::Zendesk, true)));
    case.message();
    let mut scenario_call = Effect {
        id: "c1:1".into(),
        conversation: "c1".into(),
        action: "zendesk.create_ticket".into(),
        request: BTreeMap::from([(
            "requester".to_owned(),
            Value::Record(BTreeMap::from([("id".to_owned(), Value::Number(7.0))])),
        )]),
        created_at: 0,
        created_seq: 1,
        attempts: 0,
        next_attempt_at: 0,
        last_error: None,
        started: false,
    };
    let input = Input::ActionDone {
        effect: scenario_call.id.clone(),
        outcome: record(&[("id", 99.0)]),
    };
    case.conversation.last_seq += 1;
    after_input(
        case.target.as_ref(),
        Some("acme"),
        &mut case.conversation,
        &mut case.contact,
        &input,
        Some(&scenario_call),
        0,
    );
    assert_eq!(case.state().ticket_id, Some(99));
    assert_eq!(case.state().user_id, Some(7));
    case.conversation.team = Some("Zendesk".into());
    case.message();
    assert!(
        case.sync_effects().iter().all(|e| e.action != CREATE),
        "no second ticket"
    );
    scenario_call.action = "zendesk.find_or_create_user".into();
    let found = Input::ActionDone {
        effect: scenario_call.id.clone(),
        outcome: record(&[("id", 8.0)]),
    };
    after_input(
        case.target.as_ref(),
        Some("acme"),
        &mut case.conversation,
        &mut case.contact,
        &found,
        Some(&scenario_call),
        0,
    );
    assert_eq!(
        case.contact.zendesk.get("acme"),
        Some(&8),
        "a user the scenario found links the contact"
    );
}
