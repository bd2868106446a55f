//! The registry of built-in actions a scenario can `call`. Each has a typed signature that
//! the checker uses to verify calls (unknown action, missing/unknown/mistyped argument,
//! result fields) and that the runtime will use to execute them through the outbox.
//! Implementations come with the runtime and connector; this module is the contract.
//!
//! The built-in signatures are statics; the brand's own HTTP actions, declared in the
//! workspace config (`apis:`), get the same `Action` built at run time (`declared`), which is
//! why its texts and lists are `Cow`s: the checker reads both kinds through one type and one
//! lookup (`Workspace::action`).

use std::borrow::Cow;

use crate::types::{Record, Type};

/// One parameter of an action.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Cow<'static, str>,
    pub ty: Type,
    pub required: bool,
    pub doc: Cow<'static, str>,
}

/// The signature of an action: a built-in one (`ACTIONS`) or one declared in the config.
#[derive(Clone, Debug)]
pub struct Action {
    /// Dotted name, e.g. `zendesk.create_ticket` or `oms.get_order`.
    pub name: Cow<'static, str>,
    pub summary: Cow<'static, str>,
    pub params: Cow<'static, [Param]>,
    /// The record bound by `as NAME`, if the action returns one.
    pub result: Option<&'static Record>,
    /// Whether the action can fail (a remote call); then `on error` is required.
    pub fallible: bool,
    /// What the call reaches, for the message about a missing `on error` ("Zendesk", "the
    /// `oms` API").
    pub remote: Cow<'static, str>,
}

impl Action {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

pub static ZENDESK_USER: Record = Record {
    name: "zendesk user",
    fields: &[
        ("id", Type::Number),
        ("email", Type::Email),
        ("name", Type::Text),
    ],
};

pub static ZENDESK_TICKET: Record = Record {
    name: "zendesk ticket",
    fields: &[
        ("id", Type::Number),
        ("url", Type::Text),
        ("status", Type::Text),
    ],
};

pub static ZENDESK_COMMENT: Record = Record {
    name: "zendesk comment",
    fields: &[("id", Type::Number)],
};

const fn required(name: &'static str, ty: Type, doc: &'static str) -> Param {
    Param {
        name: Cow::Borrowed(name),
        ty,
        required: true,
        doc: Cow::Borrowed(doc),
    }
}

const fn optional(name: &'static str, ty: Type, doc: &'static str) -> Param {
    Param {
        name: Cow::Borrowed(name),
        ty,
        required: false,
        doc: Cow::Borrowed(doc),
    }
}

/// What a built-in Zendesk action reaches.
const ZENDESK: Cow<'static, str> = Cow::Borrowed("Zendesk");

/// The names of the built-in actions, written once: the specs below, the interpreter (which
/// runs `contact.tag` inside the step) and the connectors' runners all use these constants,
/// and a test of the application checks that every spec has an executor and every executor
/// a spec.
pub mod names {
    pub const CONTACT_TAG: &str = "contact.tag";
    pub const ZENDESK_FIND_OR_CREATE_USER: &str = "zendesk.find_or_create_user";
    pub const ZENDESK_CREATE_TICKET: &str = "zendesk.create_ticket";
    pub const ZENDESK_ADD_COMMENT: &str = "zendesk.add_comment";
    pub const ZENDESK_SOLVE_TICKET: &str = "zendesk.solve_ticket";
}

/// Every built-in action.
pub static ACTIONS: &[Action] = &[
    Action {
        name: Cow::Borrowed(names::CONTACT_TAG),
        summary: Cow::Borrowed("Adds a tag to the contact's record."),
        params: Cow::Borrowed(&[required("tag", Type::Text, "the tag to add")]),
        result: None,
        fallible: false,
        remote: Cow::Borrowed("this conversation"),
    },
    Action {
        name: Cow::Borrowed(names::ZENDESK_FIND_OR_CREATE_USER),
        summary: Cow::Borrowed("Finds the Zendesk user with this email, or creates one."),
        params: Cow::Borrowed(&[
            required(
                "email",
                Type::Email,
                "the user's email, the key of the search",
            ),
            optional("name", Type::Text, "the name of a user created by the call"),
            optional(
                "phone",
                Type::Phone,
                "the phone of a user created by the call",
            ),
        ]),
        result: Some(&ZENDESK_USER),
        fallible: true,
        remote: ZENDESK,
    },
    Action {
        name: Cow::Borrowed(names::ZENDESK_CREATE_TICKET),
        summary: Cow::Borrowed("Creates a ticket carrying the conversation's message history."),
        params: Cow::Borrowed(&[
            required(
                "requester",
                Type::Record(&ZENDESK_USER),
                "the user the ticket is for",
            ),
            required("subject", Type::Text, "the ticket's subject"),
            optional("comment", Type::Text, "a first comment before the history"),
            optional("tags", Type::TextList, "tags for the ticket"),
        ]),
        result: Some(&ZENDESK_TICKET),
        fallible: true,
        remote: ZENDESK,
    },
    Action {
        name: Cow::Borrowed(names::ZENDESK_ADD_COMMENT),
        summary: Cow::Borrowed("Adds a comment to a ticket."),
        params: Cow::Borrowed(&[
            required(
                "ticket",
                Type::Record(&ZENDESK_TICKET),
                "the ticket to comment on",
            ),
            required("body", Type::Text, "the comment's text"),
            optional(
                "public",
                Type::Bool,
                "whether the requester sees it (default: true)",
            ),
        ]),
        result: Some(&ZENDESK_COMMENT),
        fallible: true,
        remote: ZENDESK,
    },
    Action {
        name: Cow::Borrowed(names::ZENDESK_SOLVE_TICKET),
        summary: Cow::Borrowed("Marks a ticket solved."),
        params: Cow::Borrowed(&[required(
            "ticket",
            Type::Record(&ZENDESK_TICKET),
            "the ticket to solve",
        )]),
        result: None,
        fallible: true,
        remote: ZENDESK,
    },
];

/// A built-in action; `Workspace::action` also finds the declared ones.
pub fn lookup(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}
