//! The conversation runtime: the domain model (`state`, `value`), the `store` it is kept in
//! (sled or memory), and the machine that runs it. `interpreter` is pure (state + input + time → new state and
//! what happened); around it, `engine` gives each conversation a single writer, commits
//! every input through the `store` (side records first, the conversation record last, in
//! one insert), waits for durability before acknowledging, and drives timers and the outbox
//! of action calls. `clock` is the only source of time. Connectors plug in through
//! `runner::ActionRunner` and `hook::AfterInput`; this crate names none of them.

mod catalog;
pub use scenarist_base::clock;
pub mod delivery;
mod dispatch;
pub mod durability;
pub mod engine;
pub mod eval;
pub mod hook;
pub mod interpreter;
mod lines;
pub mod metrics;
pub mod program;
pub mod retention;
pub mod rights;
pub mod runner;
pub mod state;
pub mod store;
pub mod validate;
pub mod value;

pub use catalog::ScenarioError;
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use delivery::Delivery;
pub use dispatch::MAX_ATTEMPTS;
pub use durability::FlushPolicy;
pub use engine::{Engine, EngineError, EngineOptions, Inbound, Outcome, Reply};
pub use lines::Place;
pub use program::Program;
