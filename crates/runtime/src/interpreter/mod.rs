//! The interpreter: given a conversation, its contact, one input and the time, it computes
//! the next state and what happened (messages, effects recorded in the outbox, a timer). It
//! is pure — no I/O, no clock of its own — so the same state and input always give the same
//! result, which is what makes re-running a step after a crash safe.
//!
//! A conversation runs until it waits (an `ask`, or an action in the outbox) or stops
//! (`handoff advisor`, `end`). `MAX_INSTRUCTIONS` bounds the work of one input: a loop the
//! checker did not catch hands the conversation to an advisor with a logged error.

use super::delivery::Delivery;
use super::eval::Env;
use super::eval::Schedules;
use super::program::{AskInstr, CallInstr, FieldTarget, Instr, Program, SaveTo, Target};
use super::state::{
    ActionOutcome, Author, Contact, Conversation, Effect, Input, Message, Pc, Status, Timer, Turn,
};
use super::validate::check_answer;
use super::value::Value;
use scenarist_lang::actions::names;
use scenarist_lang::ast::Rich;
use scenarist_lang::builtins;

/// The built-in actions the interpreter runs inside the step (no outbox, no runner).
pub const LOCAL_ACTIONS: &[&str] = &[names::CONTACT_TAG];

/// Instructions one input may run before the runtime decides the scenario loops.
pub const MAX_INSTRUCTIONS: u32 = 10_000;

/// The result of applying one input.
#[derive(Debug)]
pub struct Transition {
    pub conversation: Conversation,
    pub contact: Contact,
    /// The history turn of this input (its `seq` is `conversation.last_seq`).
    pub turn: Turn,
    /// What ran, for coverage reports and logs.
    pub trace: Vec<Trace>,
    /// Problems the scenario ran into (also written to the history as system messages).
    pub errors: Vec<String>,
}

/// A point of the scenario reached while running.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trace {
    /// From here on the conversation is in this language (scenarios with `languages` only):
    /// written before the first point of each input, and again when the language changes.
    Language(String),
    Step(String),
    /// The `if` test at this instruction held (`true`) or not.
    Branch {
        step: String,
        index: u32,
        taken: bool,
    },
    Ask {
        step: String,
        index: u32,
        outcome: AskOutcome,
    },
    Call {
        step: String,
        index: u32,
        failed: bool,
    },
    /// An answer was one of the scenario's `escape` words.
    Escape,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AskOutcome {
    Valid,
    Choice(usize),
    /// The answer matched the `when` pattern with this index.
    Pattern(usize),
    Invalid,
    Exhausted,
    TimedOut,
}

/// Applies `input`; `None` when the input no longer concerns the conversation (a timer that
/// was disarmed, the result of an effect already resolved). `delivery` is the id a sender
/// may repeat it with: the turn records it and the conversation remembers it, even when the
/// input changes nothing else (so the repeat is recognised).
pub fn apply(
    program: &Program,
    conversation: Conversation,
    contact: Contact,
    input: &Input,
    delivery: Option<&Delivery>,
    now: i64,
    schedules: &Schedules,
) -> Option<Transition> {
    let mut machine = Machine::new(program, conversation, contact, now, schedules);
    if let Some(delivery) = delivery {
        machine.turn.message_id = Some(delivery.stored());
        machine.conv.remember(&delivery.lookup(), machine.turn.seq);
    }
    machine.input(input)?;
    Some(machine.finish())
}

struct Machine<'p> {
    program: &'p Program,
    conv: Conversation,
    contact: Contact,
    now: i64,
    schedules: &'p Schedules,
    turn: Turn,
    trace: Vec<Trace>,
    errors: Vec<String>,
    budget: u32,
    /// The language of the last `Trace::Language`.
    language: Option<String>,
}

impl<'p> Machine<'p> {
    fn new(
        program: &'p Program,
        conv: Conversation,
        contact: Contact,
        now: i64,
        schedules: &'p Schedules,
    ) -> Self {
        let seq = conv.last_seq + 1;
        Self {
            program,
            conv,
            contact,
            now,
            schedules,
            turn: Turn {
                seq,
                at: now,
                message_id: None,
                messages: Vec::new(),
            },
            trace: Vec::new(),
            errors: Vec::new(),
            budget: MAX_INSTRUCTIONS,
            language: None,
        }
    }

    fn finish(mut self) -> Transition {
        // A turn with nothing to record (a retry scheduled, an attempt started) takes no
        // sequence number: the engine does not write it.
        if self.turn.is_recorded() {
            self.conv.last_seq = self.turn.seq;
        }
        self.conv.updated_at = self.now;
        Transition {
            conversation: self.conv,
            contact: self.contact,
            turn: self.turn,
            trace: self.trace,
            errors: self.errors,
        }
    }

    fn input(&mut self, input: &Input) -> Option<()> {
        match input {
            Input::Contact { text, .. } => {
                self.record(Author::Contact, text, Vec::new());
                self.contact_message(text);
            }
            Input::Advisor {
                advisor_id,
                advisor_name,
                text,
                ..
            } => {
                let author = Author::Advisor {
                    id: advisor_id.clone(),
                    name: advisor_name.clone(),
                };
                self.record(author, text, Vec::new());
                // An advisor who writes has taken the conversation over.
                if self.conv.status != Status::WithAdvisor && self.conv.status != Status::Ended {
                    self.conv.timer = None;
                    self.conv.status = Status::WithAdvisor;
                }
            }
            // Routing to the team it already has changes nothing, and leaves no note.
            Input::Team { team } if self.conv.team.as_ref() == Some(team) => {}
            Input::Team { team } => {
                self.conv.team = Some(team.clone());
                self.note(&format!("routed to team {team}"));
            }
            Input::ReturnToBot { step } => {
                let step = step.clone().unwrap_or_else(|| self.program.start.clone());
                if !self.program.has_step(&step) {
                    self.error(format!(
                        "cannot return to the bot at `{step}`: the scenario has no such step"
                    ));
                    return Some(());
                }
                if !self.program.is_entry(&step) {
                    self.error(format!(
                        "cannot return to the bot at `{step}`: it is not an entry point (the entry points are {})",
                        self.program.entry_points().join(", ")
                    ));
                    return Some(());
                }
                self.note("returned to the bot");
                self.goto(&step);
            }
            // Closing what has ended changes nothing here (the sync may still solve a
            // ticket whose close was never asked for).
            Input::Close if self.conv.status == Status::Ended => {}
            Input::Close => {
                self.conv.timer = None;
                self.conv.status = Status::Ended;
                self.note("conversation closed");
                // `on close goto survey`: the bot speaks once more (a satisfaction survey).
                if let Some(step) = self.program.on_close.clone() {
                    self.goto(&step);
                }
            }
            Input::Timer { id } => {
                let (Some(timer), Status::Answer { at, .. }) =
                    (&self.conv.timer, &self.conv.status)
                else {
                    return None;
                };
                if timer.id != *id {
                    return None;
                }
                let at = at.clone();
                let Some(Instr::Ask(ask)) = self.program.instr(&at.step, at.index) else {
                    return None;
                };
                self.conv.timer = None;
                self.mark(Trace::Ask {
                    step: at.step.clone(),
                    index: at.index,
                    outcome: AskOutcome::TimedOut,
                });
                if let Some((_, target)) = &ask.timeout {
                    self.jump(target);
                }
            }
            Input::ActionDone { effect, outcome } => self.action_done(effect, outcome)?,
            Input::ActionRetry {
                effect,
                next_attempt_at,
                error,
            } => {
                let pending = self.conv.pending.iter_mut().find(|e| &e.id == effect)?;
                pending.attempts += 1;
                pending.next_attempt_at = *next_attempt_at;
                pending.last_error = Some(error.clone());
            }
            Input::ActionDeferred {
                effect,
                next_attempt_at,
            } => {
                let pending = self.conv.pending.iter_mut().find(|e| &e.id == effect)?;
                pending.next_attempt_at = *next_attempt_at;
            }
            Input::ActionStarted { effect } => {
                let pending = self.conv.pending.iter_mut().find(|e| &e.id == effect)?;
                if pending.started {
                    return None;
                }
                pending.started = true;
            }
            Input::Revive { effect } => {
                let position = self.conv.dead.iter().position(|d| &d.effect.id == effect)?;
                let mut revived = self.conv.dead.remove(position).effect;
                revived.attempts = 0;
                revived.next_attempt_at = self.now;
                self.conv.pending.push(revived);
                if let Some(sync) = &mut self.conv.sync {
                    sync.last_error = None;
                }
                self.note(&format!("{effect} sent back to the outbox"));
            }
        }
        Some(())
    }

    fn contact_message(&mut self, text: &str) {
        match self.conv.status.clone() {
            Status::Fresh => self.start(),
            Status::Ended => {
                // A new message after the end: the scenario starts over, with fresh variables.
                self.conv.variables.clear();
                self.conv.episode += 1;
                // `on resume goto welcome_back`: a returning contact may be greeted apart.
                match self.program.on_resume.clone() {
                    Some(step) => self.goto(&step),
                    None => self.start(),
                }
            }
            Status::Answer { at, invalid } => self.answer(&at, invalid, text),
            // Waiting for an action or with an advisor: the message is kept, the bot is silent.
            Status::Action { .. } | Status::WithAdvisor => {}
        }
    }

    fn start(&mut self) {
        let start = self.program.start.clone();
        self.goto(&start);
    }

    fn answer(&mut self, at: &Pc, invalid: u32, text: &str) {
        let Some(Instr::Ask(ask)) = self.program.instr(&at.step, at.index) else {
            self.error(format!(
                "the question at {}:{} is gone from this version",
                at.step, at.index
            ));
            return self.stop(Status::WithAdvisor);
        };
        if let Some((words, target)) = &self.program.escape {
            if words.contains(&scenarist_lang::answers::normalize(text)) {
                self.conv.timer = None;
                self.mark(Trace::Escape);
                self.conv
                    .variables
                    .insert(builtins::ANSWER.into(), Value::text(text.trim()));
                return self.jump(target);
            }
        }
        let (value, choice) = self.check(ask, text);
        if choice.is_none() {
            let matched = ask.patterns.iter().enumerate().find(|(_, (key, _))| {
                self.program
                    .regex(key)
                    .is_some_and(|regex| regex.is_match(text.trim()))
            });
            if let Some((i, (_, step))) = matched {
                self.conv.timer = None;
                self.mark(Trace::Ask {
                    step: at.step.clone(),
                    index: at.index,
                    outcome: AskOutcome::Pattern(i),
                });
                self.conv
                    .variables
                    .insert(builtins::ANSWER.into(), Value::text(text.trim()));
                return self.goto(step);
            }
        }
        let Some(value) = value else {
            return self.invalid(at, ask, invalid, text);
        };
        self.conv.timer = None;
        let outcome = choice.map_or(AskOutcome::Valid, AskOutcome::Choice);
        self.mark(Trace::Ask {
            step: at.step.clone(),
            index: at.index,
            outcome,
        });
        self.conv
            .variables
            .insert(builtins::ANSWER.into(), value.clone());
        match &ask.save {
            Some(SaveTo::Contact(field)) => {
                self.contact.fields.insert(field.clone(), value);
            }
            Some(SaveTo::Variable(name)) => {
                self.conv.variables.insert(name.clone(), value);
            }
            None => {}
        }
        match choice
            .and_then(|i| ask.choices.get(i))
            .and_then(|(_, target)| target.clone())
        {
            Some(step) => self.goto(&step),
            None => self.run(Pc {
                step: at.step.clone(),
                index: at.index + 1,
            }),
        }
    }

    /// The answer's value if valid, and which choice it picked (by its label in the
    /// conversation's language or in the default one, ignoring case, or by its number). A
    /// choice's value is its label in the default language, so conditions on it read the same
    /// whatever the conversation's language.
    fn check(&self, ask: &AskInstr, text: &str) -> (Option<Value>, Option<usize>) {
        if ask.choices.is_empty() {
            return (check_answer(self.program, &ask.check, text), None);
        }
        let answer = scenarist_lang::answers::normalize(text);
        let env = self.env();
        let defaults: Vec<String> = ask
            .choices
            .iter()
            .map(|(label, _)| env.render(&label.text))
            .collect();
        let same = |label: &str| scenarist_lang::answers::normalize(label) == answer;
        let by_language = || {
            ask.choices
                .iter()
                .position(|(label, _)| same(&env.localize(label)))
        };
        let by_default = || defaults.iter().position(|l| same(l));
        let by_number = || {
            answer
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=defaults.len()).contains(n))
                .map(|n| n - 1)
        };
        match by_language().or_else(by_default).or_else(by_number) {
            Some(i) => {
                let value = match ask.choice_values.get(i) {
                    Some(Some(value)) => Some(Value::text(value)),
                    _ => defaults.get(i).map(|l| Value::text(l.trim())),
                };
                (value, Some(i))
            }
            None => (None, None),
        }
    }

    fn invalid(&mut self, at: &Pc, ask: &AskInstr, invalid: u32, text: &str) {
        let invalid = invalid + 1;
        self.conv
            .variables
            .insert(builtins::ANSWER.into(), Value::text(text.trim()));
        if let Some((bound, target)) = &ask.attempts {
            if invalid >= *bound {
                self.conv.timer = None;
                self.mark(Trace::Ask {
                    step: at.step.clone(),
                    index: at.index,
                    outcome: AskOutcome::Exhausted,
                });
                return self.jump(target);
            }
        }
        self.mark(Trace::Ask {
            step: at.step.clone(),
            index: at.index,
            outcome: AskOutcome::Invalid,
        });
        match &ask.invalid {
            Some(message) => {
                let text = self.env().localize(message);
                self.say(text, Vec::new());
            }
            // Without an `invalid` message, asking again is the clearest answer.
            None => self.prompt(ask),
        }
        self.conv.status = Status::Answer {
            at: at.clone(),
            invalid,
        };
        self.arm(ask);
    }

    fn action_done(&mut self, effect: &str, outcome: &ActionOutcome) -> Option<()> {
        let position = self.conv.pending.iter().position(|e| e.id == effect)?;
        self.conv.pending.remove(position);
        let Status::Action { at, effect: waited } = self.conv.status.clone() else {
            return Some(());
        };
        if waited != effect {
            return Some(());
        }
        let Some(Instr::Call(call)) = self.program.instr(&at.step, at.index) else {
            self.error(format!(
                "the call at {}:{} is gone from this version",
                at.step, at.index
            ));
            self.stop(Status::WithAdvisor);
            return Some(());
        };
        let failed = matches!(outcome, ActionOutcome::Failed(_));
        self.mark(Trace::Call {
            step: at.step.clone(),
            index: at.index,
            failed,
        });
        match outcome {
            ActionOutcome::Done(result) => {
                if let (Some(name), Some(value)) = (&call.result, result) {
                    self.conv.variables.insert(name.clone(), value.clone());
                }
                self.run(Pc {
                    step: at.step.clone(),
                    index: at.index + 1,
                });
            }
            ActionOutcome::Failed(reason) => {
                self.note(&format!("{} failed: {reason}", call.action));
                if let Some(target) = &call.on_error {
                    self.jump(target);
                } else {
                    self.error(format!(
                        "{} failed and the scenario says nothing about it",
                        call.action
                    ));
                    self.stop(Status::WithAdvisor);
                }
            }
        }
        Some(())
    }

    /// Runs from `pc` until the conversation waits or stops.
    fn run(&mut self, mut pc: Pc) {
        loop {
            if self.budget == 0 {
                self.error(format!(
                    "more than {MAX_INSTRUCTIONS} steps without waiting for the contact (a loop?); handed to an advisor"
                ));
                return self.stop(Status::WithAdvisor);
            }
            self.budget -= 1;
            let program = self.program;
            let Some(instr) = program.instr(&pc.step, pc.index) else {
                self.error(format!("no instruction at {}:{}", pc.step, pc.index));
                return self.stop(Status::WithAdvisor);
            };
            match instr {
                Instr::Say(message) => {
                    let text = self.env().localize(message);
                    self.say(text, Vec::new());
                }
                Instr::SayOneOf(variants) => {
                    let chosen = variant_index(&self.conv.id, &pc, variants.len());
                    if let Some(message) = variants.get(chosen) {
                        let text = self.env().localize(message);
                        self.say(text, Vec::new());
                    }
                }
                Instr::Rich(rich) => self.say_rich(rich),
                Instr::SetField { target, value } => {
                    let value = self.env().eval(value);
                    let (map, key) = match target {
                        FieldTarget::Contact(field) => (&mut self.contact.fields, field),
                        FieldTarget::Ticket(key) => (&mut self.conv.variables, key),
                    };
                    match value {
                        Some(value) => map.insert(key.clone(), value),
                        None => map.remove(key),
                    };
                }
                Instr::Set { name, value } => match self.env().eval(value) {
                    Some(value) => {
                        self.conv.variables.insert(name.clone(), value);
                    }
                    None => {
                        self.conv.variables.remove(name);
                    }
                },
                Instr::JumpUnless { condition, target } => {
                    let taken = self.env().holds(condition);
                    self.mark(Trace::Branch {
                        step: pc.step.clone(),
                        index: pc.index,
                        taken,
                    });
                    if !taken {
                        pc.index = *target;
                        continue;
                    }
                }
                Instr::Jump(target) => {
                    pc.index = *target;
                    continue;
                }
                Instr::Goto(step) => {
                    if !program.has_step(step) {
                        self.error(format!("`goto {step}`: no such step"));
                        return self.stop(Status::WithAdvisor);
                    }
                    self.mark(Trace::Step(step.clone()));
                    pc = Pc {
                        step: step.clone(),
                        index: 0,
                    };
                    continue;
                }
                Instr::RouteTeam(team) => {
                    self.conv.team = Some(team.clone());
                    self.note(&format!("routed to team {team}"));
                }
                Instr::Handoff => return self.stop(Status::WithAdvisor),
                Instr::End => return self.stop(Status::Ended),
                Instr::Ask(ask) => {
                    self.prompt(ask);
                    self.conv.status = Status::Answer { at: pc, invalid: 0 };
                    self.arm(ask);
                    return;
                }
                Instr::Call(call) => {
                    if self.call(call, &pc) {
                        return;
                    }
                }
                Instr::FellOff => {
                    self.error(format!(
                        "step `{}` ended without saying where to go; handed to an advisor",
                        pc.step
                    ));
                    return self.stop(Status::WithAdvisor);
                }
            }
            pc.index += 1;
        }
    }

    /// Runs a call; `true` when the conversation now waits for its result.
    fn call(&mut self, call: &CallInstr, pc: &Pc) -> bool {
        let env = self.env();
        let request: std::collections::BTreeMap<String, Value> = call
            .arguments
            .iter()
            .filter_map(|(name, expr)| env.eval(expr).map(|v| (name.clone(), v)))
            .collect();
        // `contact.tag` changes only the contact record, written with this very step.
        if call.action == names::CONTACT_TAG {
            if let Some(tag) = request.get("tag") {
                self.contact.tags.insert(tag.to_string());
            }
            self.mark(Trace::Call {
                step: pc.step.clone(),
                index: pc.index,
                failed: false,
            });
            return false;
        }
        // A call makes the conversation wait, so one turn records at most one effect.
        let id = format!("{}:{}", self.conv.id, self.turn.seq);
        self.conv.pending.push(Effect {
            id: id.clone(),
            conversation: self.conv.id.clone(),
            action: call.action.clone(),
            request,
            created_at: self.now,
            created_seq: self.turn.seq,
            attempts: 0,
            next_attempt_at: self.now,
            last_error: None,
            started: false,
        });
        self.conv.status = Status::Action {
            at: pc.clone(),
            effect: id,
        };
        true
    }

    fn jump(&mut self, target: &Target) {
        match target {
            Target::Goto(step) => self.goto(step),
            Target::Handoff => self.stop(Status::WithAdvisor),
            Target::End => self.stop(Status::Ended),
        }
    }

    fn goto(&mut self, step: &str) {
        self.mark(Trace::Step(step.to_owned()));
        self.run(Pc {
            step: step.to_owned(),
            index: 0,
        });
    }

    fn stop(&mut self, status: Status) {
        self.conv.timer = None;
        let note = if status == Status::Ended {
            "the bot ended the conversation"
        } else {
            "handed to an advisor"
        };
        self.conv.status = status;
        self.note(note);
    }

    fn prompt(&mut self, ask: &AskInstr) {
        let env = self.env();
        let text = env.localize(&ask.prompt);
        let choices = ask
            .choices
            .iter()
            .map(|(label, _)| env.localize(label))
            .collect();
        self.say(text, choices);
    }

    /// Arms the question's timeout, if it has one, from now.
    fn arm(&mut self, ask: &AskInstr) {
        self.conv.timer = ask.timeout.as_ref().map(|(seconds, _)| {
            self.conv.next_timer += 1;
            let millis = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            Timer {
                id: self.conv.next_timer,
                due_at: self.now.saturating_add(millis),
            }
        });
    }

    /// Records a point reached, after the conversation's language if it is not the last one
    /// recorded.
    fn mark(&mut self, point: Trace) {
        if let Some(language) = self.env().language() {
            if self.language.as_deref() != Some(language) {
                let language = language.to_owned();
                self.trace.push(Trace::Language(language.clone()));
                self.language = Some(language);
            }
        }
        self.trace.push(point);
    }

    fn env(&self) -> Env<'_> {
        Env {
            program: self.program,
            conversation: &self.conv,
            contact: &self.contact,
            now: self.now,
            schedules: self.schedules,
        }
    }

    fn say(&mut self, text: String, choices: Vec<String>) {
        self.turn.messages.push(Message {
            author: Author::Bot,
            text,
            choices,
            at: self.now,
            parts: Vec::new(),
        });
    }

    /// Sends a rich message: its part, with a plain-text fallback for text-only clients.
    fn say_rich(&mut self, rich: &Rich) {
        let part = self.env().part(rich);
        self.turn.messages.push(Message {
            author: Author::Bot,
            text: part.fallback(),
            choices: Vec::new(),
            at: self.now,
            parts: vec![part],
        });
    }

    fn record(&mut self, author: Author, text: &str, choices: Vec<String>) {
        self.turn.messages.push(Message {
            author,
            text: text.to_owned(),
            choices,
            at: self.now,
            parts: Vec::new(),
        });
    }

    fn note(&mut self, text: &str) {
        self.record(Author::System, text, Vec::new());
    }

    fn error(&mut self, text: String) {
        self.note(&format!("error: {text}"));
        self.errors.push(text);
    }
}

/// Which variant of `say one of` a conversation sees at `pc`: FNV-1a of the conversation id
/// and the statement's place, so a conversation sees the same variant each time (replays and
/// transcripts are stable) while different conversations see different ones. FNV-1a is
/// written out because `std`'s hasher is not guaranteed stable across Rust releases.
pub(crate) fn variant_index(conversation: &str, pc: &Pc, count: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let bytes = conversation
        .bytes()
        .chain([0])
        .chain(pc.step.bytes())
        .chain([0])
        .chain(pc.index.to_le_bytes());
    let hash = bytes.fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    let count = u64::try_from(count.max(1)).unwrap_or(u64::MAX);
    usize::try_from(hash % count).unwrap_or(0)
}

#[cfg(test)]
mod tests;
