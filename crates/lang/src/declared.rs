//! The signatures of the actions a workspace declares under `apis:` (`oms.get_order`), built
//! as the same `actions::Action` the built-in actions have, so the checker verifies a call of
//! either kind with one code path (`check/call.rs`) and one lookup (`Workspace::action`).
//!
//! A result's type is a `Type::Record(&'static Record)`, as for the built-in results, because
//! `Type` is `Copy` and flows through the whole checker. The records of declared actions are
//! therefore interned for the life of the process: each distinct declaration is leaked once
//! (a few hundred bytes) and found again on every later lookup, so checking the same config
//! again — every `lint`, every reload of `serve` — allocates nothing new.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use crate::actions::{self, Action, Param};
use crate::config::Workspace;
use crate::config::apis::HttpAction;
use crate::types::{Record, Type};

impl Workspace {
    /// The action named `name`: a built-in one, or one declared under `apis:`.
    pub fn action(&self, name: &str) -> Option<Cow<'static, Action>> {
        if let Some(action) = actions::lookup(name) {
            return Some(Cow::Borrowed(action));
        }
        let (api_name, action_name) = name.split_once('.')?;
        let declared = self.config.apis.get(api_name)?.actions.get(action_name)?;
        Some(Cow::Owned(signature(api_name, action_name, declared)))
    }

    /// Every action a scenario of this workspace may call: the built-in ones, then the
    /// declared ones (`oms.get_order`).
    pub fn action_names(&self) -> Vec<String> {
        actions::ACTIONS
            .iter()
            .map(|a| a.name.to_string())
            .chain(self.declared_action_names())
            .collect()
    }

    /// The declared actions only (`oms.get_order`), in the config's order.
    pub fn declared_action_names(&self) -> Vec<String> {
        self.config
            .apis
            .iter()
            .flat_map(|(api, declared)| {
                declared
                    .actions
                    .keys()
                    .map(move |action| format!("{api}.{action}"))
            })
            .collect()
    }
}

/// The signature of `api.action` as the checker reads it.
pub fn signature(api: &str, action: &str, declared: &HttpAction) -> Action {
    let name = format!("{api}.{action}");
    let params: Vec<Param> = declared
        .params
        .iter()
        .map(|(param, spec)| Param {
            name: Cow::Owned(param.clone()),
            ty: spec.kind().into(),
            required: spec.required(),
            doc: Cow::Owned(match spec {
                crate::config::apis::ApiParam::Full(detail) => {
                    detail.description.clone().unwrap_or_default()
                }
                crate::config::apis::ApiParam::Short(_) => String::new(),
            }),
        })
        .collect();
    let result = (!declared.result.is_empty()).then(|| {
        intern(
            format!("result of {name}"),
            declared
                .result
                .iter()
                .map(|(field, spec)| (field.clone(), Type::from(spec.kind)))
                .collect(),
        )
    });
    Action {
        summary: Cow::Owned(declared.description.clone().unwrap_or_else(|| {
            format!(
                "{} {} on the `{api}` API.",
                declared.method.as_str(),
                declared.path
            )
        })),
        name: Cow::Owned(name),
        params: Cow::Owned(params),
        result,
        fallible: true,
        remote: Cow::Owned(format!("the `{api}` API")),
    }
}

/// The interned records (see the module doc).
static RECORDS: Mutex<Vec<&'static Record>> = Mutex::new(Vec::new());

fn intern(name: String, fields: Vec<(String, Type)>) -> &'static Record {
    let mut records = RECORDS.lock().unwrap_or_else(PoisonError::into_inner);
    let same = |record: &&&'static Record| {
        record.name == name
            && record.fields.len() == fields.len()
            && record
                .fields
                .iter()
                .zip(&fields)
                .all(|((a, at), (b, bt))| a == b && at == bt)
    };
    if let Some(record) = records.iter().find(same) {
        return record;
    }
    let fields: Vec<(&'static str, Type)> = fields
        .into_iter()
        .map(|(field, ty)| (&*Box::leak(field.into_boxed_str()), ty))
        .collect();
    let record: &'static Record = Box::leak(Box::new(Record {
        name: Box::leak(name.into_boxed_str()),
        fields: Box::leak(fields.into_boxed_slice()),
    }));
    records.push(record);
    record
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::source::SourceFile;

    pub(crate) const OMS: &str = "version: 1\napis:\n  oms:\n    base_url: https://oms.example.com/api\n    actions:\n      get_order:\n        method: GET\n        path: /orders/{number}\n        query: [locale]\n        params: { number: text, locale: { type: text, required: false } }\n        result: { status: { type: text, pointer: /status }, eta: { type: date, pointer: /delivery/eta } }\n";

    #[test]
    fn declared_actions_have_signatures_like_the_built_in_ones() {
        let workspace = Workspace::parse(SourceFile::new("c.yaml", OMS), PathBuf::new()).unwrap();
        let action = workspace.action("oms.get_order").unwrap();
        assert_eq!(action.name, "oms.get_order");
        assert!(action.fallible);
        assert!(action.param("number").unwrap().required);
        assert!(!action.param("locale").unwrap().required);
        let result = action.result.unwrap();
        assert_eq!(result.field("eta"), Some(Type::Date));
        assert_eq!(result.field("nope"), None);
        assert!(workspace.action("oms.nope").is_none());
        assert!(workspace.action("zendesk.create_ticket").is_some());
        assert!(
            workspace
                .action_names()
                .contains(&"oms.get_order".to_owned())
        );
        // The same declaration read again is the same record, not a new one.
        let again = workspace.action("oms.get_order").unwrap().result.unwrap();
        assert!(std::ptr::eq(result, again));
    }

    fn lint(body: &str) -> Vec<(crate::diagnostic::Code, String, Option<String>)> {
        let workspace = Workspace::parse(SourceFile::new("c.yaml", OMS), PathBuf::new()).unwrap();
        let text = format!(
            "scenario demo {{\n  start welcome\n\n  step welcome {{\n{body}\n    end\n  }}\n\n  step sorry {{\n    say \"Sorry.\"\n    end\n  }}\n}}\n"
        );
        crate::lint::lint_source("demo.scn", text.into_bytes(), &workspace)
            .diagnostics
            .into_iter()
            .map(|d| {
                let label = d.secondary.first().and_then(|l| l.message.clone());
                (d.code, d.message, d.help.or(label))
            })
            .collect()
    }

    #[test]
    fn calls_of_declared_actions_are_checked_like_the_built_in_ones() {
        use crate::diagnostic::Code;
        let clean = lint(
            "    call oms.get_order(number: contact.id, locale: \"fr\") as order { on error goto sorry }\n    say \"Your order is {order.status}, due {order.eta}.\"",
        );
        assert!(clean.is_empty(), "{clean:?}");
        let cases: &[(&str, Code, &str)] = &[
            (
                "    call oms.get_ordr(number: contact.id) { on error goto sorry }",
                Code::UnknownAction,
                "did you mean `oms.get_order`?",
            ),
            (
                "    call oms.get_order(locale: \"fr\") { on error goto sorry }",
                Code::MissingArgument,
                "add number: …",
            ),
            (
                "    call oms.get_order(number: contact.id, numbr: \"1\") { on error goto sorry }",
                Code::UnknownArgument,
                "did you mean `number`?",
            ),
            (
                "    call oms.get_order(number: true) { on error goto sorry }",
                Code::MistypedArgument,
                "pass a text",
            ),
            (
                "    call oms.get_order(number: contact.id) as order { on error goto sorry }\n    say \"{order.nope}\"",
                Code::UnknownField,
                "a result of oms.get_order has the fields eta, status",
            ),
            (
                "    call oms.get_order(number: contact.id)",
                Code::MissingOnError,
                "add `{ on error goto STEP }` after the call (or `on error handoff advisor`)",
            ),
        ];
        for (body, code, help) in cases {
            let found = lint(body);
            assert!(
                found
                    .iter()
                    .any(|(c, _, h)| c == code && h.as_deref() == Some(*help)),
                "{body}: {found:?}"
            );
        }
        let missing = lint("    call oms.get_order(number: contact.id)");
        let on_error = missing.iter().find(|(c, _, _)| *c == Code::MissingOnError);
        assert!(
            on_error.is_some_and(|(_, message, _)| message.contains("`oms.get_order` can fail")),
            "{missing:?}"
        );
    }
}
