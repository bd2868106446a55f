//! The interpreter, construct by construct, without any I/O.

use super::{AskOutcome, Trace, Transition, apply};
use crate::delivery::Delivery;
use crate::eval::Schedules;
use crate::program::Program;
use crate::state::{ActionOutcome, Author, Contact, Conversation, Input, Status};
use crate::value::Value;
use scenarist_lang::source::SourceFile;
use scenarist_lang::syntax::parse;

fn program(source: &str) -> Program {
    let parsed = parse(&SourceFile::new("t.scn", source)).unwrap();
    Program::compile(parsed.scenario.as_ref().unwrap(), source).unwrap()
}

/// A conversation driven by hand.
struct Run {
    program: Program,
    conversation: Conversation,
    contact: Contact,
    now: i64,
    schedules: Schedules,
    messages: u32,
    last: Option<Transition>,
}

impl Run {
    fn new(source: &str) -> Self {
        let program = program(source);
        let conversation = Conversation::new(
            "c1",
            "facebook:acme",
            "u1",
            &program.name,
            &program.version,
            0,
        );
        Self {
            program,
            conversation,
            contact: Contact::new("facebook:acme", "u1", "Ada Lovelace"),
            now: 0,
            schedules: Schedules::new(),
            messages: 0,
            last: None,
        }
    }

    fn input(&mut self, input: &Input) -> Option<Vec<String>> {
        let transition = apply(
            &self.program,
            self.conversation.clone(),
            self.contact.clone(),
            input,
            Delivery::of(input).as_ref(),
            self.now,
            &self.schedules,
        )?;
        self.conversation = transition.conversation.clone();
        self.contact = transition.contact.clone();
        let replies = transition.turn.replies().map(|m| m.text.clone()).collect();
        self.last = Some(transition);
        Some(replies)
    }

    fn send(&mut self, text: &str) -> Vec<String> {
        self.messages += 1;
        self.input(&Input::Contact {
            message_id: format!("m{}", self.messages),
            text: text.into(),
        })
        .unwrap()
    }

    fn var(&self, name: &str) -> Option<&Value> {
        self.conversation.variables.get(name)
    }

    fn field(&self, name: &str) -> Option<&Value> {
        self.contact.fields.get(name)
    }

    fn trace(&self) -> &[Trace] {
        &self.last.as_ref().unwrap().trace
    }
}

const EMAIL: &str = r#"
scenario s {
  start welcome
  entry gave_up
  step welcome {
    say "Hello {contact.first_name or "there"}!"
    if contact.email is set { goto done }
    ask "Email?" {
      expect email
      save contact.email
      invalid "\"{answer}\" is not an email."
      attempts 3 then goto gave_up
      timeout 15m then goto silent
    }
    say "Saved {contact.email}."
    goto done
  }
  step done { route team "Zendesk" handoff advisor }
  step gave_up { say "Never mind." handoff advisor }
  step silent { say "Still there?" end }
}
"#;

#[test]
fn say_interpolates_with_fallback_and_ask_waits() {
    let mut run = Run::new(EMAIL);
    assert_eq!(run.send("hi"), ["Hello Ada!", "Email?"]);
    assert!(matches!(
        run.conversation.status,
        Status::Answer { invalid: 0, .. }
    ));
    run.contact.name = String::new();
    run.conversation.status = Status::Fresh;
    assert_eq!(run.send("hi")[0], "Hello there!");
}

#[test]
fn a_valid_answer_is_saved_and_the_step_goes_on() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    assert_eq!(
        run.send(" ada@example.com "),
        ["Saved ada@example.com.".to_owned()]
    );
    assert_eq!(run.field("email"), Some(&Value::text("ada@example.com")));
    assert_eq!(run.conversation.team.as_deref(), Some("Zendesk"));
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    assert_eq!(run.conversation.timer, None, "a stop disarms the timer");
}

#[test]
fn invalid_answers_get_the_invalid_message_until_attempts_run_out() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    assert_eq!(run.send("nope"), ["\"nope\" is not an email."]);
    assert!(matches!(
        run.conversation.status,
        Status::Answer { invalid: 1, .. }
    ));
    assert_eq!(run.send("still nope"), ["\"still nope\" is not an email."]);
    assert_eq!(run.send("no"), ["Never mind."]);
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    assert!(run.trace().iter().any(|t| matches!(
        t,
        Trace::Ask {
            outcome: AskOutcome::Exhausted,
            ..
        }
    )));
    assert_eq!(run.field("email"), None);
}

#[test]
fn a_timeout_fires_only_for_the_armed_timer() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    let timer = run.conversation.timer.clone().unwrap();
    assert_eq!(timer.due_at, 15 * 60 * 1000);
    assert_eq!(
        run.input(&Input::Timer { id: timer.id + 1 }),
        None,
        "a stale timer changes nothing"
    );
    run.now = timer.due_at;
    assert_eq!(
        run.input(&Input::Timer { id: timer.id }).unwrap(),
        ["Still there?"]
    );
    assert_eq!(run.conversation.status, Status::Ended);
    assert_eq!(
        run.input(&Input::Timer { id: timer.id }),
        None,
        "fires once"
    );
}

#[test]
fn an_invalid_answer_rearms_the_timeout_from_now() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    run.now = 60_000;
    run.send("nope");
    assert_eq!(
        run.conversation.timer.as_ref().unwrap().due_at,
        60_000 + 15 * 60 * 1000
    );
}

#[test]
fn a_known_email_skips_the_question() {
    let mut run = Run::new(EMAIL);
    run.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    assert_eq!(run.send("hi"), ["Hello Ada!"]);
    assert_eq!(run.conversation.status, Status::WithAdvisor);
}

const CHOICES: &str = r#"
scenario s {
  start menu
  step menu {
    ask "What do you need?" {
      choice "Track my order" -> track
      choice "Something else"
      attempts 2 then handoff advisor
      timeout 1h then end
    }
    say "You picked {answer}."
    end
  }
  step track { say "Tracking." end }
}
"#;

#[test]
fn choices_match_by_text_ignoring_case_or_by_number() {
    let mut run = Run::new(CHOICES);
    run.send("hi");
    let prompt = &run.last.as_ref().unwrap().turn.messages[1];
    assert_eq!(prompt.choices, ["Track my order", "Something else"]);
    assert_eq!(run.send("track MY order"), ["Tracking."]);
    assert_eq!(
        run.send("hello again"),
        ["What do you need?"],
        "after `end`, a message starts over"
    );
    assert_eq!(run.conversation.episode, 1);
    assert_eq!(run.send("2"), ["You picked Something else."]);
}

#[test]
fn an_unknown_choice_asks_again_when_there_is_no_invalid_message() {
    let mut run = Run::new(CHOICES);
    run.send("hi");
    assert_eq!(run.send("pizza"), ["What do you need?"]);
    assert_eq!(run.send("pasta"), Vec::<String>::new());
    assert_eq!(run.conversation.status, Status::WithAdvisor);
}

#[test]
fn if_else_if_else_set_and_conditions() {
    let source = r#"
scenario s {
  start a
  step a {
    set n = 3
    if n > 5 { say "big" } else if n == 3 and contact.vip is not set { say "three" } else { say "other" }
    set label = nothing_here or "fallback"
    say "{label} {n}"
    if "AB123" matches /^[a-z]{2}[0-9]+$/i { say "matched" }
    if not (n != 3) { say "not works" }
    end
  }
}
"#;
    let mut run = Run::new(source);
    assert_eq!(
        run.send("hi"),
        ["three", "fallback 3", "matched", "not works"]
    );
    assert_eq!(run.var("n"), Some(&Value::Number(3.0)));
    let branches: Vec<bool> = run
        .trace()
        .iter()
        .filter_map(|t| {
            if let Trace::Branch { taken, .. } = t {
                Some(*taken)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(branches, [false, true, true, true]);
}

#[test]
fn validators_number_date_phone_and_regex_save_typed_values() {
    let source = r#"
scenario s {
  start a
  step a {
    ask "How many?" { expect number save count timeout 1h then end }
    ask "When?" { expect date save when timeout 1h then end }
    ask "Phone?" { expect phone save contact.phone timeout 1h then end }
    ask "Order?" { expect /^[A-Z]{2}[0-9]{6}$/ save order timeout 1h then end }
    say "{count} {when} {contact.phone} {order}"
    end
  }
}
"#;
    let mut run = Run::new(source);
    run.send("hi");
    assert_eq!(run.send("two"), ["How many?"], "invalid: asked again");
    assert_eq!(run.send("2,5"), ["When?"]);
    assert_eq!(run.send("31/12/2026"), ["Phone?"]);
    assert_eq!(run.send("+33 6 12 34 56 78"), ["Order?"]);
    assert_eq!(run.send("ab123456"), ["Order?"]);
    assert_eq!(
        run.send("AB123456"),
        ["2.5 2026-12-31 +33612345678 AB123456"]
    );
    assert_eq!(run.var("count"), Some(&Value::Number(2.5)));
}

const CALLS: &str = r#"
scenario s {
  start a
  step a {
    call contact.tag(tag: "bot")
    call zendesk.find_or_create_user(email: contact.email, name: contact.name) as user {
      on error goto failed
    }
    say "User {user.id}."
    end
  }
  step failed { say "Zendesk failed." handoff advisor }
}
"#;

#[test]
fn a_call_records_an_effect_and_waits_for_its_result() {
    let mut run = Run::new(CALLS);
    run.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    assert_eq!(run.send("hi"), Vec::<String>::new());
    assert!(run.contact.tags.contains("bot"), "contact.tag runs at once");
    let effect = run.conversation.pending[0].clone();
    assert_eq!(effect.id, "c1:1");
    assert_eq!(effect.action, "zendesk.find_or_create_user");
    assert_eq!(
        effect.request.get("email"),
        Some(&Value::text("ada@example.com"))
    );
    assert_eq!(
        effect.request.get("name"),
        Some(&Value::text("Ada Lovelace"))
    );
    assert!(
        matches!(&run.conversation.status, Status::Action { effect: e, .. } if *e == effect.id)
    );
    assert_eq!(
        run.send("are you there?"),
        Vec::<String>::new(),
        "the bot is busy: the message is only kept"
    );

    let user = Value::Record(
        [("id".to_owned(), Value::Number(7.0))]
            .into_iter()
            .collect(),
    );
    let done = Input::ActionDone {
        effect: effect.id.clone(),
        outcome: ActionOutcome::Done(Some(user)),
    };
    assert_eq!(run.input(&done).unwrap(), ["User 7."]);
    assert!(run.conversation.pending.is_empty());
    assert_eq!(run.input(&done), None, "a result applies once");
}

#[test]
fn a_failed_call_takes_the_on_error_path() {
    let mut run = Run::new(CALLS);
    run.send("hi");
    let effect = run.conversation.pending[0].id.clone();
    let failed = Input::ActionDone {
        effect,
        outcome: ActionOutcome::Failed("Zendesk is not configured".into()),
    };
    assert_eq!(run.input(&failed).unwrap(), ["Zendesk failed."]);
    let notes: Vec<&str> = run
        .last
        .as_ref()
        .unwrap()
        .turn
        .messages
        .iter()
        .filter(|m| m.author == Author::System)
        .map(|m| m.text.as_str())
        .collect();
    assert!(
        notes[0].contains("zendesk.find_or_create_user failed: Zendesk is not configured"),
        "{notes:?}"
    );
    assert_eq!(run.var("user"), None);
}

#[test]
fn a_retry_updates_the_outbox_schedule() {
    let mut run = Run::new(CALLS);
    run.send("hi");
    let id = run.conversation.pending[0].id.clone();
    run.input(&Input::ActionRetry {
        effect: id,
        next_attempt_at: 5_000,
        error: "HTTP 503".into(),
    })
    .unwrap();
    let effect = &run.conversation.pending[0];
    assert_eq!(
        (
            effect.attempts,
            effect.next_attempt_at,
            effect.last_error.as_deref()
        ),
        (1, 5_000, Some("HTTP 503"))
    );
}

#[test]
fn handoff_keeps_the_bot_silent_until_returned() {
    let mut run = Run::new(EMAIL);
    run.contact
        .fields
        .insert("email".into(), Value::text("ada@example.com"));
    run.send("hi");
    assert_eq!(run.send("anyone?"), Vec::<String>::new());
    let advisor = Input::Advisor {
        message_id: "a1".into(),
        advisor_id: "adv".into(),
        advisor_name: "Grace".into(),
        text: "Hi, Grace here".into(),
    };
    assert_eq!(run.input(&advisor).unwrap(), Vec::<String>::new());
    assert_eq!(
        run.input(&Input::ReturnToBot {
            step: Some("gave_up".into())
        })
        .unwrap(),
        ["Never mind."]
    );
    assert_eq!(
        run.input(&Input::ReturnToBot { step: None }).unwrap(),
        ["Hello Ada!"]
    );
    assert_eq!(
        run.input(&Input::ReturnToBot {
            step: Some("nowhere".into())
        })
        .unwrap(),
        Vec::<String>::new()
    );
    assert!(run.last.as_ref().unwrap().errors[0].contains("nowhere"));
}

#[test]
fn an_advisor_writing_takes_the_conversation_over_and_close_ends_it() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    let advisor = Input::Advisor {
        message_id: "a1".into(),
        advisor_id: "adv".into(),
        advisor_name: "Grace".into(),
        text: "I'll help".into(),
    };
    run.input(&advisor).unwrap();
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    assert_eq!(run.conversation.timer, None);
    run.input(&Input::Team {
        team: "Support".into(),
    })
    .unwrap();
    assert_eq!(run.conversation.team.as_deref(), Some("Support"));
    run.input(&Input::Close).unwrap();
    assert_eq!(run.conversation.status, Status::Ended);
}

#[test]
fn a_loop_the_checker_missed_is_stopped() {
    let mut run = Run::new("scenario s { start a step a { goto b } step b { goto a } }");
    assert_eq!(run.send("hi"), Vec::<String>::new());
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    assert!(run.last.as_ref().unwrap().errors[0].contains("without waiting"));
}

#[test]
fn the_same_input_on_the_same_state_gives_the_same_result() {
    let run = Run::new(EMAIL);
    let input = Input::Contact {
        message_id: "m1".into(),
        text: "hi".into(),
    };
    let once = apply(
        &run.program,
        run.conversation.clone(),
        run.contact.clone(),
        &input,
        Delivery::of(&input).as_ref(),
        42,
        &Schedules::new(),
    )
    .unwrap();
    let again = apply(
        &run.program,
        run.conversation.clone(),
        run.contact.clone(),
        &input,
        Delivery::of(&input).as_ref(),
        42,
        &Schedules::new(),
    )
    .unwrap();
    assert_eq!(once.conversation, again.conversation);
    assert_eq!(once.turn, again.turn);
    assert_eq!(once.contact, again.contact);
}

#[test]
fn history_turns_record_every_author_with_sequence_numbers() {
    let mut run = Run::new(EMAIL);
    run.send("hi");
    let turn = &run.last.as_ref().unwrap().turn;
    assert_eq!(turn.seq, 1);
    assert_eq!(turn.message_id.as_deref(), Some("m1"));
    assert_eq!(turn.messages[0].author, Author::Contact);
    assert_eq!(turn.messages[1].author, Author::Bot);
    run.send("x");
    assert_eq!(run.conversation.last_seq, 2);
    assert_eq!(run.conversation.recent_turn("m1"), Some(1));
}

#[test]
fn set_writes_contact_fields_and_the_tickets_values() {
    let mut run = Run::new(
        r#"
scenario s {
  start welcome
  step welcome {
    set contact.language = lower("FR")
    set ticket.priority = "high"
    set ticket.tags = ["order", "vip"]
    set ticket.fields.order_number = "A-12"
    set contact.vip = length(contact.name) > 3
    set gone = 1 / 0
    say "{contact.language} {gone or "nothing"}"
    end
  }
}
"#,
    );
    assert_eq!(run.send("hi"), ["fr nothing"]);
    assert_eq!(run.field("language"), Some(&Value::text("fr")));
    assert_eq!(run.field("vip"), Some(&Value::Bool(true)));
    assert_eq!(run.var("ticket.priority"), Some(&Value::text("high")));
    assert_eq!(
        run.var("ticket.tags"),
        Some(&Value::List(vec![Value::text("order"), Value::text("vip")]))
    );
    assert_eq!(
        run.var("ticket.fields.order_number"),
        Some(&Value::text("A-12"))
    );
    assert_eq!(run.var("gone"), None, "a division by zero is nothing");
}

#[test]
fn arithmetic_and_functions_compute_what_the_docs_say() {
    let mut run = Run::new(
        r#"
scenario s {
  start welcome
  step welcome {
    set total = 2 + 3 * 4 - 10 / 4
    say "{total}|{round(2.345, 2)}|{format_number(1234.5, 2)}|{upper(trim("  ada "))}"
    say "{contains("Where is my order?", "ORDER")}|{contains(["a", "b"], "c")}|{length(["a", "b"])}"
    say "{format_date("2026-12-05", "%d/%m/%Y")}|{format_date("nope", "%d")}|"
    end
  }
}
"#,
    );
    assert_eq!(
        run.send("hi"),
        ["11.5|2.35|1,234.50|ADA", "yes|no|2", "05/12/2026||"]
    );
}

#[test]
fn open_and_next_open_follow_the_clock_of_the_input() {
    let spec: scenarist_lang::schedule::ScheduleSpec = serde_yaml::from_str(
        "time_zone: Europe/Paris\nhours: { monday: 09:00-18:00, saturday: 10:00-13:00 }\n",
    )
    .unwrap();
    let source = r#"
scenario s {
  start welcome
  step welcome {
    if open support { say "open" } else { say "closed until {next_open(support)}" }
    say "{weekday(support)} {today(support)} {hour(support)}h"
    end
  }
}
"#;
    let mut run = Run::new(source);
    run.schedules.insert(
        "support".into(),
        scenarist_lang::schedule::Schedule::compile(&spec).unwrap(),
    );
    // Saturday 5 December 2026, 19:30 in Paris.
    run.now = "2026-12-05T18:30:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    assert_eq!(
        run.send("hi"),
        ["closed until Monday at 09:00", "saturday 2026-12-05 19h"]
    );
    // Monday 10:00 in Paris: a new conversation, open.
    let mut run2 = Run::new(source);
    run2.schedules = run.schedules.clone();
    run2.now = "2026-12-07T09:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    assert_eq!(run2.send("hi"), ["open", "monday 2026-12-07 10h"]);
}

const BILINGUAL: &str = r#"
scenario s {
  languages fr, en
  language from contact.language
  start menu
  step menu {
    say "Bonjour {contact.first_name} ({conversation.language})" en "Hello {contact.first_name} ({conversation.language})"
    ask "Quoi ?" en "What?" {
      choice "Commande" en "Order" -> order
      choice "Autre" en "Other" -> order
      invalid "Pardon ?" en "Sorry?"
      attempts 3 then end
    }
  }
  step order { say "{answer}" end }
}
"#;

#[test]
fn texts_are_sent_in_the_language_the_contact_field_names() {
    let mut run = Run::new(BILINGUAL);
    run.contact
        .fields
        .insert("language".into(), Value::text("en"));
    assert_eq!(run.send("hi"), ["Hello Ada (en)", "What?"]);
    let question = &run.last.as_ref().unwrap().turn.messages;
    let choices = &question.last().unwrap().choices;
    assert_eq!(choices, &["Order".to_owned(), "Other".to_owned()]);
    assert_eq!(run.send("??"), ["Sorry?"]);
    assert_eq!(run.trace().first(), Some(&Trace::Language("en".into())));
}

#[test]
fn an_unset_or_unknown_language_falls_back_to_the_default_and_a_region_finds_its_language() {
    let mut run = Run::new(BILINGUAL);
    assert_eq!(run.send("hi"), ["Bonjour Ada (fr)", "Quoi ?"]);
    let mut run = Run::new(BILINGUAL);
    run.contact
        .fields
        .insert("language".into(), Value::text("de"));
    assert_eq!(run.send("hi")[0], "Bonjour Ada (fr)");
    let mut run = Run::new(BILINGUAL);
    run.contact
        .fields
        .insert("language".into(), Value::text("EN-us"));
    assert_eq!(run.send("hi")[0], "Hello Ada (en)");
}

#[test]
fn a_choice_is_picked_by_its_label_in_the_conversation_language_or_the_default_and_saves_the_default()
 {
    for answer in ["order", "COMMANDE", "1"] {
        let mut run = Run::new(BILINGUAL);
        run.contact
            .fields
            .insert("language".into(), Value::text("en"));
        run.send("hi");
        assert_eq!(run.send(answer), ["Commande"], "{answer}");
    }
    // Another language's label is not an answer in this one.
    let mut run = Run::new(BILINGUAL);
    run.send("hi");
    assert_eq!(run.send("order"), ["Pardon ?"]);
}

#[test]
fn a_change_of_the_language_field_takes_effect_at_the_next_text() {
    let mut run = Run::new(BILINGUAL);
    assert_eq!(run.send("hi")[1], "Quoi ?");
    run.contact
        .fields
        .insert("language".into(), Value::text("en"));
    assert_eq!(run.send("??"), ["Sorry?"]);
}

#[test]
fn a_scenario_without_languages_has_no_conversation_language() {
    let mut run =
        Run::new(r#"scenario s { start a step a { say "[{conversation.language}]" end } }"#);
    assert_eq!(run.send("hi"), ["[]"]);
    assert!(
        !run.trace().iter().any(|t| matches!(t, Trace::Language(_))),
        "no language marks without languages"
    );
}

#[test]
fn next_open_and_numbers_are_written_in_the_conversations_language() {
    let spec: scenarist_lang::schedule::ScheduleSpec =
        serde_yaml::from_str("time_zone: Europe/Paris\nhours: { monday: 09:00-18:00 }\n").unwrap();
    let source = r#"
scenario s {
  languages fr, en
  language from contact.language
  start welcome
  step welcome {
    say "Ouvert {next_open(support)}, {format_number(1234.5, 2)}"
      en "Open {next_open(support)}, {format_number(1234.5, 2)}"
    end
  }
}
"#;
    let mut run = Run::new(source);
    run.schedules.insert(
        "support".into(),
        scenarist_lang::schedule::Schedule::compile(&spec).unwrap(),
    );
    run.now = "2026-12-05T18:30:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    assert_eq!(run.send("hi"), ["Ouvert lundi à 09:00, 1\u{202f}234,50"]);
    let mut english = Run::new(source);
    english.schedules = run.schedules.clone();
    english.now = run.now;
    english
        .contact
        .fields
        .insert("language".into(), Value::text("en"));
    assert_eq!(english.send("hi"), ["Open Monday at 09:00, 1,234.50"]);
}

const SURVEY: &str = r#"
scenario s {
  start rate
  step rate {
    ask "1 to 5?" {
      expect integer 1..5
      save rating
      invalid "From 1 to 5, please."
      attempts 3 then end
    }
    say "Got {rating}."
    end
  }
}
"#;

#[test]
fn a_ranged_integer_refuses_answers_outside_and_saves_a_number() {
    let mut run = Run::new(SURVEY);
    run.send("hi");
    for wrong in ["7", "4.5"] {
        assert_eq!(run.send(wrong), ["From 1 to 5, please."], "{wrong}");
        assert_eq!(run.var("rating"), None, "{wrong} must not be saved");
    }
    assert_eq!(run.send(" 5 "), ["Got 5."]);
    assert_eq!(run.var("rating"), Some(&Value::Number(5.0)));
}

#[test]
fn a_ranged_number_takes_decimals_within_the_bounds() {
    let source = SURVEY.replace("integer 1..5", "number 0.5..2");
    let mut run = Run::new(&source);
    run.send("hi");
    assert_eq!(run.send("2,5"), ["From 1 to 5, please."]);
    assert_eq!(run.send("1,5"), ["Got 1.5."]);
    assert_eq!(run.var("rating"), Some(&Value::Number(1.5)));
}

const LANGUAGE: &str = r#"
scenario s {
  start pick
  escape "agent", "conseiller" -> human
  step pick {
    ask "Language?" {
      choice "Français" = "fr" -> done
      choice "English" = "en" -> done
      save lang
      attempts 3 then end
    }
  }
  step done { say "Lang {lang}, answer {answer}." end }
  step human { say "An advisor is coming." handoff advisor }
}
"#;

#[test]
fn a_choice_saves_its_value_and_matches_without_accents_or_case() {
    let mut run = Run::new(LANGUAGE);
    run.send("hi");
    assert_eq!(run.send("  FRANCAIS "), ["Lang fr, answer fr."]);
    assert_eq!(run.var("lang"), Some(&Value::text("fr")));
    assert!(run.trace().contains(&Trace::Ask {
        step: "pick".into(),
        index: 0,
        outcome: AskOutcome::Choice(0),
    }));
}

#[test]
fn an_escape_word_leaves_any_question_for_its_target() {
    let mut run = Run::new(LANGUAGE);
    run.send("hi");
    assert_eq!(run.send("Conseillér"), ["An advisor is coming."]);
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    assert!(run.trace().contains(&Trace::Escape));
    assert_eq!(run.var("lang"), None);
}

const ONE_OF: &str = r#"
scenario s {
  start q
  step q {
    ask "Sure?" {
      expect one of "Oui", "Non"
      save sure
      attempts 3 then end
    }
    say "{sure}"
    end
  }
}
"#;

#[test]
fn one_of_accepts_a_listed_answer_as_written_in_the_scenario() {
    let mut run = Run::new(ONE_OF);
    run.send("hi");
    assert_eq!(run.send("peut-être"), ["Sure?"]);
    assert_eq!(run.var("sure"), None);
    assert_eq!(run.send(" OUI"), ["Oui"]);
}

const FAQ: &str = r#"
scenario s {
  start q
  step q {
    ask "Question?" {
      when /refund|return/i -> returns
      when /return|deliver/i -> delivery
    }
    say "No match: {answer}."
    end
  }
  step returns { say "Returns: {answer}." end }
  step delivery { say "Delivery." end }
}
"#;

#[test]
fn the_first_matching_pattern_wins_and_free_text_goes_on() {
    let mut run = Run::new(FAQ);
    run.send("hi");
    assert_eq!(
        run.send("I want to RETURN it"),
        ["Returns: I want to RETURN it."]
    );
    assert!(run.trace().contains(&Trace::Ask {
        step: "q".into(),
        index: 0,
        outcome: AskOutcome::Pattern(0),
    }));
    run.conversation.status = Status::Fresh;
    run.send("hi");
    assert_eq!(run.send("delivery time?"), ["Delivery."]);
    run.conversation.status = Status::Fresh;
    run.send("hi");
    assert_eq!(run.send("gift cards"), ["No match: gift cards."]);
}

const CONTACT: &str = r#"
scenario s {
  start q
  step q {
    ask "Phone?" { expect phone save contact.phone attempts 2 then end }
    ask "Email?" { expect email save contact.email attempts 2 then end }
    say "{contact.phone} {contact.email}"
    end
  }
}
"#;

#[test]
fn phones_and_emails_are_saved_in_a_normal_form_and_typed_as_sent() {
    let mut run = Run::new(CONTACT);
    run.send("hi");
    run.send("0033 6 12-34-56-78");
    assert_eq!(run.field("phone"), Some(&Value::text("+33612345678")));
    let typed = run.last.as_ref().unwrap().turn.messages[0].text.clone();
    assert_eq!(
        typed, "0033 6 12-34-56-78",
        "the history keeps the original"
    );
    assert_eq!(
        run.send("Ada.L@Example.COM"),
        ["+33612345678 Ada.L@example.com"]
    );
}

const HOOKS: &str = r#"
scenario s {
  start welcome
  entry survey
  on close goto survey
  on resume goto welcome_back
  step welcome {
    say "Hello!"
    handoff advisor
  }
  step welcome_back {
    say "Welcome back!"
    handoff advisor
  }
  step survey {
    ask "How did we do?" {
      save rating
      timeout 1h then end
    }
    say "Thanks: {rating}"
    end
  }
  step internal {
    say "Never handed back here."
    end
  }
}
"#;

#[test]
fn closing_runs_the_close_hook_and_a_returning_contact_resumes_at_its_step() {
    let mut run = Run::new(HOOKS);
    assert_eq!(run.send("hi"), ["Hello!"]);
    assert_eq!(run.input(&Input::Close).unwrap(), ["How did we do?"]);
    assert!(matches!(run.conversation.status, Status::Answer { .. }));
    assert_eq!(run.send("great"), ["Thanks: great"]);
    assert_eq!(run.conversation.status, Status::Ended);
    // A new message after the end starts at `on resume`, not at the start.
    assert_eq!(run.send("me again"), ["Welcome back!"]);
}

#[test]
fn only_entry_points_take_a_conversation_back() {
    let mut run = Run::new(HOOKS);
    run.send("hi");
    let refused = run
        .input(&Input::ReturnToBot {
            step: Some("internal".into()),
        })
        .unwrap();
    assert!(refused.is_empty());
    assert_eq!(run.conversation.status, Status::WithAdvisor);
    let errors = &run.last.as_ref().unwrap().errors;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("not an entry point") && e.contains("welcome, survey")),
        "{errors:?}"
    );
    let back = run
        .input(&Input::ReturnToBot {
            step: Some("survey".into()),
        })
        .unwrap();
    assert_eq!(back, ["How did we do?"]);
}

const RICH: &str = r#"
scenario s {
  start welcome
  step welcome {
    say one of "Hello!", "Hi there!", "Welcome!", "Good day!"
    link "Track it" "https://acme.example/t/{order}"
    image "https://acme.example/map.png" "Map of the shop"
    card "Your order" {
      text "Shipped today"
      image "https://acme.example/p.png" "Parcel"
      link "Track" "https://acme.example/t"
    }
    end
  }
}
"#;

#[test]
fn rich_messages_carry_parts_and_a_text_fallback() {
    use crate::state::Part;
    let mut run = Run::new(RICH);
    run.conversation
        .variables
        .insert("order".into(), Value::text("AB 12/3"));
    let texts = run.send("hi");
    assert_eq!(
        texts[1..],
        [
            "Track it: https://acme.example/t/AB%2012%2F3",
            "Map of the shop: https://acme.example/map.png",
            "Your order\nShipped today\nParcel: https://acme.example/p.png\nTrack: https://acme.example/t",
        ]
    );
    let parts: Vec<Vec<Part>> = run
        .last
        .as_ref()
        .unwrap()
        .turn
        .replies()
        .map(|m| m.parts.clone())
        .collect();
    assert!(parts[0].is_empty(), "a variant is plain text");
    assert_eq!(
        parts[1],
        [Part::Link {
            label: "Track it".into(),
            url: "https://acme.example/t/AB%2012%2F3".into()
        }]
    );
    assert_eq!(
        parts[3],
        [Part::Card {
            title: "Your order".into(),
            text: Some("Shipped today".into()),
            image: Some(("https://acme.example/p.png".into(), "Parcel".into())),
            links: vec![("Track".into(), "https://acme.example/t".into())],
        }]
    );
}

#[test]
fn a_variant_is_chosen_per_conversation_and_stays_the_same() {
    let variants = ["Hello!", "Hi there!", "Welcome!", "Good day!"];
    let greeting = |id: &str| {
        let mut run = Run::new(RICH);
        run.conversation.id = id.into();
        run.conversation
            .variables
            .insert("order".into(), Value::text("1"));
        run.send("hi")[0].clone()
    };
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..20 {
        let id = format!("c{n}");
        let first = greeting(&id);
        assert!(variants.contains(&first.as_str()));
        assert_eq!(
            greeting(&id),
            first,
            "the same conversation sees the same variant"
        );
        seen.insert(first);
    }
    assert!(
        seen.len() > 1,
        "different conversations see different variants: {seen:?}"
    );
}

#[test]
fn variant_index_is_fnv1a_of_the_conversation_and_the_place() {
    use crate::state::Pc;
    let pc = Pc {
        step: "welcome".into(),
        index: 0,
    };
    // Pinned: a change of the hash would change the variant of every live conversation.
    let picks: Vec<usize> = ["c1", "c2", "c3", "c4"]
        .iter()
        .map(|id| super::variant_index(id, &pc, 3))
        .collect();
    assert_eq!(picks, PINNED_PICKS);
    assert_eq!(super::variant_index("c1", &pc, 1), 0);
}

// Computed independently (Python: FNV-1a 64 over `id \0 step \0 index-LE`, mod 3).
const PINNED_PICKS: [usize; 4] = [2, 1, 1, 0];
