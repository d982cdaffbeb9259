//! Feed health: `comity.toml` names the sources comity expects requests from (an agency, and
//! the agency it asks) and how long each may be silent. A source silent longer is reported:
//! in `/healthz` (degraded, not down) and in `/metrics`. A notification system whose feed
//! stops unseen is the failure this field knows best.
//!
//! Each server remembers when it heard from each source and writes that to the store every
//! few seconds (and before it answers a health check), so that every server sees what all of
//! them heard; the bound on staleness is [`FLUSH_EVERY`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use comity_store::{Store, StoreError};
use jiff::Timestamp;

use crate::config::Feed;

/// How often what a server heard is written to the store.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// The time: the system's, or a test's.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// A clock that reads `now`.
    pub fn new(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(Timestamp::now)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// How one expected source stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStatus {
    /// Its name.
    pub name: String,
    /// When a request from it was last recorded, if ever.
    pub last_seen: Option<Timestamp>,
    /// Whether it has been silent longer than it may be (counted from the server's start when
    /// it was never heard from).
    pub silent: bool,
}

/// The expected sources, and what this server heard from them and has not yet written.
#[derive(Debug)]
pub struct FeedHealth {
    feeds: Vec<Feed>,
    clock: Clock,
    started: Timestamp,
    heard: Mutex<HashMap<(String, String), Timestamp>>,
}

impl FeedHealth {
    /// Health of `feeds`, by `clock`, from now on.
    pub fn new(feeds: Vec<Feed>, clock: Clock) -> FeedHealth {
        FeedHealth {
            started: clock.now(),
            feeds,
            clock,
            heard: Mutex::default(),
        }
    }

    /// Notes a request recorded from `from` to `to`, now.
    pub fn heard(&self, from: &str, to: &str) {
        if self.feeds.is_empty() {
            return;
        }
        let now = self.clock.now();
        self.heard
            .lock()
            .expect("feed lock")
            .insert((from.to_owned(), to.to_owned()), now);
    }

    /// Writes what was heard since the last write to the store.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let heard: Vec<(String, String, Timestamp)> = self
            .heard
            .lock()
            .expect("feed lock")
            .drain()
            .map(|((from, to), at)| (from, to, at))
            .collect();
        if heard.is_empty() {
            return Ok(());
        }
        store.note_feeds(&heard).await
    }

    /// How each expected source stands, by what every server has written.
    pub async fn status(&self, store: &Store) -> Result<Vec<FeedStatus>, StoreError> {
        if self.feeds.is_empty() {
            return Ok(Vec::new());
        }
        self.flush(store).await?;
        let seen = store.feeds_seen().await?;
        let now = self.clock.now();
        Ok(self
            .feeds
            .iter()
            .map(|feed| {
                let last_seen = seen
                    .iter()
                    .filter(|(from, to, _)| {
                        *from == feed.from && feed.to.as_ref().is_none_or(|t| t == to)
                    })
                    .map(|(_, _, at)| *at)
                    .max();
                let since = last_seen.unwrap_or(self.started);
                let allowed = jiff::SignedDuration::from_hours(i64::from(feed.silent_after_hours));
                let silent = since
                    .checked_add(allowed)
                    .is_ok_and(|deadline| now > deadline);
                FeedStatus {
                    name: feed.name.clone(),
                    last_seen,
                    silent,
                }
            })
            .collect())
    }
}
