//! What the engine's unit tests share: an echo scenario on a memory store, and a contact's
//! message in conversation `c1`.

use std::sync::Arc;

use crate::clock::{Clock, ManualClock};
use crate::engine::{Engine, EngineOptions, Inbound};
use crate::runner::BuiltinActions;
use crate::store::Store;

const ECHO: &str = r#"
scenario echo {
  start listen
  step listen {
    ask "Say something." {
      save said
    }
    say "You said: {said}"
    goto listen
  }
}
"#;

/// An engine running the echo scenario on `store`, its clock stopped.
pub(super) fn echo_engine(store: Arc<dyn Store>) -> Engine {
    let options = EngineOptions {
        default_scenario: Some("echo".into()),
        ..EngineOptions::default()
    };
    let clock = Arc::new(ManualClock::new(1_000)) as Arc<dyn Clock>;
    let engine = Engine::new(store, clock, Arc::new(BuiltinActions), options);
    engine.publish(ECHO).unwrap();
    engine
}

/// Contact `u1`'s message `id` in conversation `c1`.
pub(super) fn inbound(id: &str, text: &str) -> Inbound {
    Inbound {
        account: "facebook:acme".into(),
        conversation: "c1".into(),
        message_id: id.into(),
        contact_id: "u1".into(),
        contact_name: "Ada".into(),
        fields: std::collections::BTreeMap::new(),
        text: text.into(),
    }
}
