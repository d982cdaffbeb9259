//! Events: what an agency did on a request after comity decided it (held the person,
//! released or transferred them, answered the request itself), recorded as ledger entries
//! (kind `event`) with a row pointing at each. An event is checked against the events before
//! it (nothing is recorded out of order) and against the decision the ledger holds: an action
//! the decision did not allow (a hold it forbade, a transfer it forbade, a hold kept past its
//! binding deadline, an answer it forbade) is recorded all the same, and flagged as a
//! violation, in the entry itself.

use std::collections::HashMap;

use comity_model::{Act, Decision, Event, EventKind, Outcome};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::Finding;
use crate::entry::EntryKind;
use crate::ledger::Appender;
use crate::rows::{Cell, Table};
use crate::{Store, StoreError};

/// How far past the store's clock an event's `at` may be (clocks of agencies differ).
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// An event to record.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    /// The request it was done on.
    pub request: &'a str,
    /// What was done, and when.
    pub event: &'a Event,
    /// Who recorded it, as the authority knows them (a token's name and role).
    pub by: &'a str,
}

/// An event as recorded: also what its ledger entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// The request.
    pub request: String,
    /// Its place among the request's events: 1, 2, …
    pub seq: u64,
    /// What was done (the entry's `event`).
    #[serde(rename = "event")]
    pub kind: EventKind,
    /// When, as reported.
    pub at: String,
    /// For `response-sent`, the act carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
    /// Who recorded it.
    pub by: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// What the decision did not allow, each in words with the rule that says so; empty
    /// when the action was within the decision.
    pub violations: Vec<String>,
    /// Its ledger entry.
    #[serde(skip)]
    pub ledger_index: u64,
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No request has that id.
    #[error("no request `{0}` is recorded")]
    UnknownRequest(String),
    /// The ledger's decision on the request cannot be trusted (tampered, or missing).
    #[error("{0}")]
    NoDecision(String),
    /// The event cannot follow the events recorded before it: `field` is at fault.
    #[error("{field}: {message}")]
    OutOfOrder {
        /// The field of the event at fault (`at` or `kind`).
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The entry recording an event: the record as RFC 8785 canonical JSON, `{"act"?:…,"at":…,
/// "by":…,"event":…,"kind":"event","recorded_at":…,"request":…,"seq":…,"violations":[…]}`.
pub fn event_entry(record: &EventRecord) -> String {
    let mut value = serde_json::to_value(record).expect("events serialize");
    value["kind"] = EntryKind::Event.as_str().into();
    serde_json_canonicalizer::to_string(&value).expect("events serialize")
}

/// An event recorded earlier on the same request, as its row says.
struct Earlier {
    kind: EventKind,
    at: Timestamp,
    text: String,
}

impl Store {
    /// Records an event on a request as a ledger entry, after the events before it, with
    /// the violations of the decision it shows. Refused when the request is unknown, its
    /// decision is not the ledger's, or the event cannot follow the ones recorded.
    pub async fn record_event(&self, new: NewEvent<'_>) -> Result<EventRecord, EventError> {
        let decision = self.decision_on(new.request).await?;
        let mut tx = self.begin_append().await?;
        let earlier = earlier_events(&mut tx, new.request).await?;
        follows(
            decision.at.timestamp(),
            &earlier,
            new.event,
            Timestamp::now(),
        )?;
        let mut record = EventRecord {
            request: new.request.to_owned(),
            seq: earlier.len() as u64 + 1,
            kind: new.event.kind,
            at: new.event.at.to_string(),
            act: new.event.act,
            by: new.by.to_owned(),
            recorded_at: Timestamp::now().to_string(),
            violations: violations(&decision, &earlier, new.event),
            ledger_index: 0,
        };
        let mut appender = Appender::start(&mut tx, self.backend, &self.nodes).await?;
        let entry = event_entry(&record);
        record.ledger_index = appender.append(entry.as_bytes())?;
        let tables = vec![
            Table::new(
                "ledger_entries",
                &["idx", "kind", "body"],
                vec![vec![
                    Cell::Int(record.ledger_index as i64),
                    Cell::Text(EntryKind::Event.as_str().into()),
                    Cell::Text(entry),
                ]],
            ),
            Table::new("events", EVENT_COLUMNS, vec![event_row(&record)]),
        ];
        self.commit_append(tx, appender, tables).await?;
        Ok(record)
    }

    /// The events recorded on a request, in order.
    pub async fn events(&self, request: &str) -> Result<Vec<EventRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE request_id = $1 ORDER BY seq",
            EVENT_COLUMNS.join(", ")
        )))
        .bind(request)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_of).collect()
    }

    /// The decision the ledger holds on `request`, checked as a permit is.
    /// A request with no decision is unknown, unless its row is there without one.
    async fn decision_on(&self, request: &str) -> Result<Decision, EventError> {
        match self.recorded_decision(request).await? {
            Some(Ok(decision)) => Ok(decision),
            Some(Err(why)) => Err(EventError::NoDecision(why)),
            None if self.request(request).await?.is_some() => Err(EventError::NoDecision(format!(
                "no decision on request {request} is in the ledger"
            ))),
            None => Err(EventError::UnknownRequest(request.to_owned())),
        }
    }

    /// Checks every event against the ledger: each event entry has exactly one events row,
    /// which says what the entry says, and every events row points at its entry (a row that
    /// does not parse, or a second row on one entry, is a finding too). Returns the events
    /// checked, or the first that does not hold.
    pub async fn verify_events(&self) -> Result<Result<u64, Finding>, StoreError> {
        let entries =
            sqlx::query("SELECT idx, body FROM ledger_entries WHERE kind = 'event' ORDER BY idx")
                .fetch_all(&self.pool)
                .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM events",
            EVENT_COLUMNS.join(", ")
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut rebuilt: HashMap<u64, String> = HashMap::new();
        for row in &rows {
            let index = row.get::<i64, _>(8) as u64;
            let fault = |what: String| {
                Ok(Err(Finding {
                    index: Some(index),
                    what,
                }))
            };
            let record = match record_of(row) {
                Ok(record) => record,
                Err(e) => return fault(e.to_string()),
            };
            if rebuilt.insert(index, event_entry(&record)).is_some() {
                return fault("two events rows point at this entry".into());
            }
        }
        for e in &entries {
            let index = e.get::<i64, _>(0) as u64;
            let body: String = e.get(1);
            let what = match rebuilt.remove(&index) {
                Some(row) if row == body => continue,
                Some(_) => "its events row differs from the entry",
                None => "the event entry has no events row",
            };
            return Ok(Err(Finding {
                index: Some(index),
                what: what.into(),
            }));
        }
        Ok(match rebuilt.keys().min() {
            Some(index) => Err(Finding {
                index: Some(*index),
                what: "an events row points at a ledger entry that is not its event".into(),
            }),
            None => Ok(entries.len() as u64),
        })
    }
}

/// The columns of an events row, in the order [`event_row`] writes them and the queries that
/// [`record_of`] reads name them (constants of this crate: the statements stay safe).
const EVENT_COLUMNS: &[&str] = &[
    "request_id",
    "seq",
    "kind",
    "at",
    "act",
    "recorded_by",
    "recorded_at",
    "violations",
    "ledger_index",
];

/// The events row of `record`.
fn event_row(record: &EventRecord) -> Vec<Cell> {
    vec![
        Cell::Text(record.request.clone()),
        Cell::Int(record.seq as i64),
        Cell::Text(record.kind.as_str().into()),
        Cell::Text(record.at.clone()),
        Cell::Text(record.act.map(|a| a.as_str()).unwrap_or_default().into()),
        Cell::Text(record.by.clone()),
        Cell::Text(record.recorded_at.clone()),
        Cell::Text(serde_json::to_string(&record.violations).expect("strings serialize")),
        Cell::Int(record.ledger_index as i64),
    ]
}

/// The record an events row holds.
fn record_of(row: &sqlx::any::AnyRow) -> Result<EventRecord, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("an events row {what}"));
    let text = |i: usize| row.get::<String, _>(i);
    let act = text(4);
    Ok(EventRecord {
        request: text(0),
        seq: row.get::<i64, _>(1) as u64,
        kind: text(2)
            .parse()
            .map_err(|e| corrupt(format!("has no known kind: {e}")))?,
        at: text(3),
        act: match act.as_str() {
            "" => None,
            a => Some(
                a.parse()
                    .map_err(|e| corrupt(format!("has no known act: {e}")))?,
            ),
        },
        by: text(5),
        recorded_at: text(6),
        violations: serde_json::from_str(&text(7))
            .map_err(|e| corrupt(format!("holds violations that are not a list: {e}")))?,
        ledger_index: row.get::<i64, _>(8) as u64,
    })
}

/// The events recorded on `request` before, in order.
async fn earlier_events(
    conn: &mut AnyConnection,
    request: &str,
) -> Result<Vec<Earlier>, StoreError> {
    let rows = sqlx::query("SELECT kind, at FROM events WHERE request_id = $1 ORDER BY seq")
        .bind(request)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let (kind, text): (String, String) = (r.get(0), r.get(1));
            let corrupt = || StoreError::Corrupt(format!("an events row of request {request}"));
            Ok(Earlier {
                kind: kind.parse().map_err(|_| corrupt())?,
                at: text.parse().map_err(|_| corrupt())?,
                text,
            })
        })
        .collect()
}

/// Whether `event` can follow the `earlier` events of a request received at `received`:
/// not before the request nor before the last event, not in the future (as the store's
/// clock `now` has it), nothing about custody after custody ended, one hold, and a hold
/// ended only when there was one.
fn follows(
    received: Timestamp,
    earlier: &[Earlier],
    event: &Event,
    now: Timestamp,
) -> Result<(), EventError> {
    let at = event.at.timestamp();
    let refuse = |field, message: String| Err(EventError::OutOfOrder { field, message });
    if at < received {
        return refuse(
            "at",
            format!(
                "`{}` is before the request was received ({received})",
                event.at
            ),
        );
    }
    if at > now + CLOCK_SKEW {
        return refuse("at", format!("`{}` is in the future", event.at));
    }
    if let Some(last) = earlier.last()
        && at < last.at
    {
        return refuse(
            "at",
            format!(
                "`{}` is before the last event recorded on the request (`{}` at {})",
                event.at, last.kind, last.text
            ),
        );
    }
    if !event.kind.is_custody() {
        return Ok(());
    }
    if let Some(end) = earlier.iter().find(|e| e.kind.ends_custody()) {
        return refuse(
            "kind",
            format!(
                "`{}`: the person's custody on this request already ended (`{}` at {})",
                event.kind, end.kind, end.text
            ),
        );
    }
    let held = earlier.iter().any(|e| e.kind == EventKind::Held);
    match event.kind {
        EventKind::Held if held => refuse(
            "kind",
            "`held`: the person is already recorded as held on this request".into(),
        ),
        EventKind::HoldExpired | EventKind::CustodyDisavowed if !held => refuse(
            "kind",
            format!("`{}` ends a hold, but no hold is recorded", event.kind),
        ),
        _ => Ok(()),
    }
}

/// What of `event` the decision did not allow: the act it carries out forbidden or not
/// asked, or custody ended after the binding deadline of the hold.
fn violations(decision: &Decision, earlier: &[Earlier], event: &Event) -> Vec<String> {
    let carried = match event.kind {
        EventKind::Held => Some((Act::Hold, "held past release")),
        EventKind::Transferred => Some((Act::Transfer, "handed over")),
        EventKind::ResponseSent => event.act.map(|a| (a, "answered")),
        _ => None,
    };
    let mut out: Vec<String> = carried
        .and_then(|(act, done)| not_allowed(decision, act, done))
        .into_iter()
        .collect();
    let was_held = earlier.iter().any(|e| e.kind == EventKind::Held);
    if event.kind.ends_custody() && was_held {
        out.extend(past_deadline(decision, event));
    }
    out
}

/// Why `act`, done, was not allowed by `decision`, if it was not.
fn not_allowed(decision: &Decision, act: Act, done: &str) -> Option<String> {
    let Some(decided) = decision.acts.iter().find(|a| a.act == act) else {
        return Some(format!(
            "{done}, but the request did not ask for `{act}`: no decision allows it"
        ));
    };
    (decided.outcome == Outcome::Forbidden).then(|| {
        let rules: Vec<String> = decided
            .reasons
            .iter()
            .map(|r| format!("{} ({})", r.rule, r.citation))
            .collect();
        format!(
            "{done}, but the decision forbids `{act}`: {}",
            rules.join("; ")
        )
    })
}

/// Custody that ended at `event` after the hold's binding deadline, if it did.
fn past_deadline(decision: &Decision, event: &Event) -> Option<String> {
    let hold = decision.acts.iter().find(|a| a.act == Act::Hold)?;
    let (limit, deadline) = hold.binding_hold()?;
    (event.at.timestamp() > deadline.timestamp()).then(|| {
        format!(
            "held until {}, past the binding deadline {deadline} ({}, {})",
            event.at, limit.rule, limit.citation
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn event(kind: &str, when: &str) -> Event {
        Event::from_json(&format!(r#"{{"kind":"{kind}","at":"{when}"}}"#)).unwrap()
    }

    fn earlier(kind: EventKind, when: &str) -> Earlier {
        Earlier {
            kind,
            at: at(when),
            text: when.to_owned(),
        }
    }

    #[test]
    fn an_event_follows_the_request_and_the_events_before_it() {
        let received = at("2018-03-02T14:05:00-05:00");
        let now = at("2018-03-10T00:00:00-05:00");
        let ok = |e: &[Earlier], ev: &Event| follows(received, e, ev, now).is_ok();
        let why =
            |e: &[Earlier], ev: &Event| follows(received, e, ev, now).unwrap_err().to_string();
        assert!(ok(&[], &event("held", "2018-03-04T10:00:00-05:00")));
        assert!(
            why(&[], &event("held", "2018-03-01T10:00:00-05:00"))
                .contains("before the request was received")
        );
        assert!(why(&[], &event("held", "2018-03-10T00:06:00-05:00")).contains("in the future"));
        let held = [earlier(EventKind::Held, "2018-03-04T10:00:00-05:00")];
        assert!(
            why(&held, &event("released", "2018-03-04T09:00:00-05:00"))
                .contains("before the last event")
        );
        assert!(
            why(&held, &event("held", "2018-03-05T09:00:00-05:00"))
                .contains("already recorded as held")
        );
        assert!(ok(
            &held,
            &event("hold-expired", "2018-03-06T10:00:00-05:00")
        ));
        assert!(
            why(
                &[],
                &event("custody-disavowed", "2018-03-04T10:00:00-05:00")
            )
            .contains("no hold is recorded")
        );
        let ended = [
            earlier(EventKind::Held, "2018-03-04T10:00:00-05:00"),
            earlier(EventKind::Transferred, "2018-03-05T10:00:00-05:00"),
        ];
        assert!(
            why(&ended, &event("released", "2018-03-06T10:00:00-05:00")).contains("already ended")
        );
        let answer = Event::from_json(
            r#"{"kind":"response-sent","at":"2018-03-06T10:00:00-05:00","act":"notify-release"}"#,
        )
        .unwrap();
        assert!(
            ok(&ended, &answer),
            "an answer may follow the end of custody"
        );
    }
}
