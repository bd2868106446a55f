//! One action runner made of several: the engine sees one `ActionRunner`, which hands each
//! effect to the runner that executes its action (by name: `executes()`), and anything else
//! to the fallback — the Zendesk runner, which also runs the sync modes' own effects and
//! answers "not configured" for what nobody runs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::runtime::runner::{ActionFuture, ActionRunner};
use crate::runtime::state::Effect;

pub struct Runners {
    routes: HashMap<String, Arc<dyn ActionRunner>>,
    fallback: Arc<dyn ActionRunner>,
}

impl Runners {
    /// `fallback` for every action no runner of `others` names in its `executes()`; an
    /// action two of `others` name goes to the first.
    pub fn new(fallback: Arc<dyn ActionRunner>, others: Vec<Arc<dyn ActionRunner>>) -> Self {
        let mut routes = HashMap::new();
        for runner in others {
            for action in runner.executes() {
                routes.entry(action).or_insert_with(|| Arc::clone(&runner));
            }
        }
        Self { routes, fallback }
    }

    fn runner_of(&self, action: &str) -> &Arc<dyn ActionRunner> {
        self.routes.get(action).unwrap_or(&self.fallback)
    }
}

impl ActionRunner for Runners {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        self.runner_of(&effect.action).run(effect)
    }

    fn executes(&self) -> Vec<String> {
        let mut names = self.fallback.executes();
        names.extend(self.routes.keys().cloned());
        names.sort();
        names.dedup();
        names
    }

    fn records_attempts(&self, action: &str) -> bool {
        self.runner_of(action).records_attempts(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::runner::ActionResult;

    struct Named(&'static str, &'static [&'static str]);

    impl ActionRunner for Named {
        fn run<'a>(&'a self, _effect: &'a Effect) -> ActionFuture<'a> {
            Box::pin(std::future::ready(ActionResult::Failed(self.0.to_owned())))
        }

        fn executes(&self) -> Vec<String> {
            self.1.iter().map(|s| (*s).to_owned()).collect()
        }

        fn records_attempts(&self, _action: &str) -> bool {
            self.0 == "zendesk"
        }
    }

    fn effect(action: &str) -> Effect {
        Effect {
            id: "c:1".into(),
            conversation: "c".into(),
            action: action.into(),
            request: std::collections::BTreeMap::new(),
            created_at: 0,
            created_seq: 1,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            started: false,
        }
    }

    #[tokio::test]
    async fn each_effect_goes_to_the_runner_of_its_action() {
        let runners = Runners::new(
            Arc::new(Named("zendesk", &["zendesk.create_ticket"])),
            vec![Arc::new(Named("http", &["oms.get_order"]))],
        );
        let ran_by = |result| match result {
            ActionResult::Failed(by) => by,
            other => format!("{other:?}"),
        };
        assert_eq!(ran_by(runners.run(&effect("oms.get_order")).await), "http");
        assert_eq!(
            ran_by(runners.run(&effect("zendesk.create_ticket")).await),
            "zendesk"
        );
        assert_eq!(ran_by(runners.run(&effect("sync.create")).await), "zendesk");
        assert!(!runners.records_attempts("oms.get_order"));
        assert!(runners.records_attempts("zendesk.create_ticket"));
        assert_eq!(
            runners.executes(),
            vec![
                "oms.get_order".to_owned(),
                "zendesk.create_ticket".to_owned()
            ]
        );
    }
}
