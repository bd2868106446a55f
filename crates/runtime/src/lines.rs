//! Per-conversation lines: the inputs of one conversation run one at a time, in the order
//! their places were taken; conversations run in parallel. Taking a place is synchronous, so
//! a caller that reads inputs in order (the pipe) can hand each to its own task without the
//! scheduler reordering them — a lock alone only orders tasks by when they first poll it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Lines {
    lines: Arc<Mutex<HashMap<String, Arc<Line>>>>,
}

#[derive(Default)]
struct Line {
    state: Mutex<Tickets>,
    notify: Notify,
}

#[derive(Default)]
struct Tickets {
    /// The ticket the next place gets.
    next: u64,
    /// The ticket whose turn it is.
    serving: u64,
    /// Places given up before their turn, skipped when it comes.
    abandoned: BTreeSet<u64>,
}

/// A place in a conversation's line. Dropping it (after its turn or instead of waiting)
/// lets the next one go, so a cancelled request never blocks the line.
pub struct Place {
    lines: Arc<Mutex<HashMap<String, Arc<Line>>>>,
    conversation: String,
    line: Arc<Line>,
    ticket: u64,
}

impl Lines {
    pub(crate) fn place(&self, conversation: &str) -> Place {
        let mut lines = lock(&self.lines);
        let line = Arc::clone(lines.entry(conversation.to_owned()).or_default());
        let ticket = {
            let mut tickets = lock(&line.state);
            tickets.next += 1;
            tickets.next - 1
        };
        Place {
            lines: Arc::clone(&self.lines),
            conversation: conversation.to_owned(),
            line,
            ticket,
        }
    }
}

impl Place {
    pub fn conversation(&self) -> &str {
        &self.conversation
    }

    /// Waits until every place taken before this one is done.
    pub async fn turn(&self) {
        loop {
            let notified = self.line.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a release between the two is not missed.
            notified.as_mut().enable();
            if lock(&self.line.state).serving == self.ticket {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut lines = lock(&self.lines);
        let idle = {
            let mut guard = lock(&self.line.state);
            let tickets = &mut *guard;
            if tickets.serving == self.ticket {
                tickets.serving += 1;
                while tickets.abandoned.remove(&tickets.serving) {
                    tickets.serving += 1;
                }
            } else {
                tickets.abandoned.insert(self.ticket);
            }
            tickets.serving == tickets.next
        };
        self.line.notify.notify_waiters();
        // Forget a line nobody stands in (bounded memory).
        if idle
            && lines
                .get(&self.conversation)
                .is_some_and(|l| Arc::ptr_eq(l, &self.line))
        {
            lines.remove(&self.conversation);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn places_run_in_the_order_they_were_taken() {
        let lines = Lines::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let place = lines.place("c1");
            let order = Arc::clone(&order);
            tasks.spawn(async move {
                place.turn().await;
                lock(&order).push(i);
                tokio::task::yield_now().await;
                drop(place);
            });
        }
        while tasks.join_next().await.is_some() {}
        assert_eq!(*lock(&order), (0..200).collect::<Vec<_>>());
        assert!(lock(&lines.lines).is_empty(), "an idle line is forgotten");
    }

    #[tokio::test]
    async fn an_abandoned_place_does_not_block_the_line() {
        let lines = Lines::default();
        let first = lines.place("c1");
        let second = lines.place("c1");
        let third = lines.place("c1");
        first.turn().await;
        drop(second); // gives up while waiting
        let waiting = tokio::spawn(async move {
            third.turn().await;
            "third ran"
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the third waits for the first");
        drop(first);
        assert_eq!(waiting.await.ok(), Some("third ran"));
        assert!(lock(&lines.lines).is_empty());
    }

    #[tokio::test]
    async fn conversations_do_not_wait_for_each_other() {
        let lines = Lines::default();
        let busy = lines.place("c1");
        busy.turn().await;
        let other = lines.place("c2");
        tokio::time::timeout(Duration::from_secs(5), other.turn())
            .await
            .unwrap_or_else(|_| panic!("c2 waited for c1"));
    }
}
