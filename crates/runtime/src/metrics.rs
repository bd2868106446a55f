//! Process-wide metrics, served by `GET /metrics` in the Prometheus text format: messages by
//! outcome and their latency (the service), Zendesk calls by outcome (the client), and the
//! outbox depth (counted at start by `Engine::rearm`, then kept up to date by each commit; on a
//! store several processes share, counted by the scheduler every 2 s),
//! and what the retention sweeper removed.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: &'static str,
}

/// What the retention sweeper removed: `conversations`, `turns`, `seen`, `scenario_versions`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    pub kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// Contact messages answered, by outcome (`ok`, `duplicate`, `refused` for 4xx, `error` for 5xx).
    pub messages: Family<Outcome, Counter>,
    /// Seconds from a message's arrival to its durable answer.
    pub latency: Histogram,
    /// Zendesk API calls, by outcome.
    pub zendesk_calls: Family<Outcome, Counter>,
    /// Effects waiting in the outbox (kept up to date by the engine's commits).
    pub outbox_depth: Gauge,
    /// Records the retention sweeper removed, by kind.
    pub retention_removed: Family<Kind, Counter>,
    /// 1 while the database cannot be reached (from the first refused call to the next
    /// commit that goes through), else 0.
    pub store_unreachable: Gauge,
    /// Requests and due items refused because the database could not be reached.
    pub store_unreachable_errors: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("scenarist");
    let messages = Family::<Outcome, Counter>::default();
    registry.register(
        "messages",
        "Contact messages answered, by outcome",
        messages.clone(),
    );
    // 0.5 ms to ~4 s.
    let latency = Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0005, 2.0, 14,
    ));
    registry.register(
        "message_duration_seconds",
        "From a message's arrival to its durable answer",
        latency.clone(),
    );
    let zendesk_calls = Family::<Outcome, Counter>::default();
    registry.register(
        "zendesk_calls",
        "Zendesk API calls, by outcome",
        zendesk_calls.clone(),
    );
    let outbox_depth = Gauge::default();
    registry.register(
        "outbox_depth",
        "Effects (actions, Zendesk syncs) waiting to run",
        outbox_depth.clone(),
    );
    let retention_removed = Family::<Kind, Counter>::default();
    registry.register(
        "retention_removed",
        "Records removed by the retention sweeper, by kind",
        retention_removed.clone(),
    );
    let store_unreachable = Gauge::default();
    registry.register(
        "store_unreachable",
        "1 while the database cannot be reached, else 0",
        store_unreachable.clone(),
    );
    let store_unreachable_errors = Counter::default();
    registry.register(
        "store_unreachable_errors",
        "Requests and due items refused because the database could not be reached",
        store_unreachable_errors.clone(),
    );
    Metrics {
        registry,
        messages,
        latency,
        zendesk_calls,
        outbox_depth,
        retention_removed,
        store_unreachable,
        store_unreachable_errors,
    }
});

pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// The Prometheus text exposition of every metric.
pub fn encode() -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &METRICS.registry);
    text
}
