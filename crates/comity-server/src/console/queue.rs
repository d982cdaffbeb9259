//! `/queue`: recent requests, newest first, filtered by agency, act, outcome and date, a
//! page at a time; a person still held on a request shows the hold's deadline counting down.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comity_model::{Act, Decision, EventKind, Outcome, Request};
use comity_store::{DecisionEntry, RecentDecision};
use jiff::civil::Date;
use maud::{Markup, html};
use serde::Deserialize;

use super::session::Signed;
use super::words::{act_phrase, outcome_words};
use super::{PageError, layout};
use crate::auth::ApiAction;
use crate::http::AppState;
use crate::http::errors::ApiError;

/// Requests shown on a page.
const PAGE: usize = 25;
/// Decisions read at once while filtering.
const READ: u32 = 200;
/// The most decisions one page reads while filtering; past it, the page offers the next.
const SCAN: usize = 5_000;

/// The filter form's fields, as typed (each checked, a bad one named on the page).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    act: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

/// The filter, read.
#[derive(Debug, Default)]
struct Wanted {
    agency: Option<String>,
    act: Option<Act>,
    outcome: Option<Outcome>,
    from: Option<Date>,
    to: Option<Date>,
    before: Option<u64>,
}

impl Filter {
    /// The filter read, or the field at fault and why.
    fn read(&self) -> Result<Wanted, ApiError> {
        fn some(s: &str) -> Option<&str> {
            Some(s.trim()).filter(|s| !s.is_empty())
        }
        let date = |field: &str, text: &str| {
            some(text)
                .map(|t| {
                    t.parse::<Date>().map_err(|_| {
                        ApiError::input(field, format!("`{t}` is not a date (YYYY-MM-DD)"))
                    })
                })
                .transpose()
        };
        let wanted = Wanted {
            agency: some(&self.agency).map(str::to_owned),
            act: some(&self.act)
                .map(|a| {
                    a.parse::<Act>()
                        .map_err(|e| ApiError::input("act", e.to_string()))
                })
                .transpose()?,
            outcome: some(&self.outcome)
                .map(|o| match o {
                    "required" => Ok(Outcome::Required),
                    "permitted" => Ok(Outcome::Permitted),
                    "forbidden" => Ok(Outcome::Forbidden),
                    other => Err(ApiError::input(
                        "outcome",
                        format!("`{other}` is not an outcome (required, permitted, forbidden)"),
                    )),
                })
                .transpose()?,
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            before: some(&self.before)
                .map(|b| {
                    b.parse::<u64>().map_err(|_| {
                        ApiError::input("before", format!("`{b}` is not a ledger index"))
                    })
                })
                .transpose()?,
        };
        if let (Some(from), Some(to)) = (wanted.from, wanted.to)
            && from > to
        {
            return Err(ApiError::input(
                "from",
                format!("`{from}` is after the last day `{to}`"),
            ));
        }
        Ok(wanted)
    }
}

/// A recorded request with its decision, read back.
pub(crate) struct Listed {
    pub index: u64,
    pub request: Request,
    pub decision: Decision,
}

impl Listed {
    /// The row read back; a row that does not read is an internal error naming it.
    pub(crate) fn read(row: &RecentDecision) -> Result<Listed, ApiError> {
        let request = serde_json::from_str(&row.request).map_err(|e| {
            ApiError::internal(format!(
                "request `{}` does not read back: {e}",
                row.request_id
            ))
        })?;
        let entry = DecisionEntry::read(&row.entry).map_err(|e| {
            ApiError::internal(format!(
                "ledger entry {} does not read back: {e}",
                row.ledger_index
            ))
        })?;
        Ok(Listed {
            index: row.ledger_index,
            request,
            decision: entry.decision,
        })
    }
}

impl Wanted {
    fn matches(&self, listed: &Listed) -> bool {
        let r = &listed.request;
        let day = r.received_at.date();
        self.agency
            .as_deref()
            .is_none_or(|a| r.to.agency == a || r.from.agency == a)
            && self.act.is_none_or(|a| r.acts.contains(&a))
            && self
                .outcome
                .is_none_or(|o| listed.decision.acts.iter().any(|d| d.outcome == o))
            && self.from.is_none_or(|f| day >= f)
            && self.to.is_none_or(|t| day <= t)
    }
}

/// `GET /queue`.
pub(crate) async fn page_of(
    state: &AppState,
    signed: &Signed,
    filter: &Filter,
) -> Result<Markup, (StatusCode, ApiError)> {
    state
        .authorize(&signed.caller, ApiAction::ReadRequest, "/queue", false)
        .map_err(|e| (e.status, e))?;
    let wanted = filter
        .read()
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let internal = |e: ApiError| (e.status, e);
    // One match beyond the page tells whether there is a next page.
    let mut shown = Vec::new();
    let (mut before, mut scanned, mut stopped) = (wanted.before, 0usize, false);
    'reading: while shown.len() <= PAGE {
        if scanned >= SCAN {
            stopped = true;
            break;
        }
        let rows = state
            .inner
            .store
            .recent_decisions(before, READ)
            .await
            .map_err(|e| internal(e.into()))?;
        let last_read = rows.len() < READ as usize;
        for row in &rows {
            scanned += 1;
            before = Some(row.ledger_index);
            let listed = Listed::read(row).map_err(internal)?;
            if wanted.matches(&listed) {
                shown.push(listed);
                if shown.len() > PAGE {
                    break 'reading;
                }
            }
        }
        if last_read {
            break;
        }
    }
    let more = shown.len() > PAGE;
    shown.truncate(PAGE);
    // The next page starts below the last row shown, or, where the scan stopped, below the
    // last row read.
    let next = if more {
        shown.last().map(|l| l.index)
    } else if stopped {
        before
    } else {
        None
    };
    let mut held = Vec::with_capacity(shown.len());
    for listed in &shown {
        held.push(self::held(state, listed).await.map_err(internal)?);
    }
    Ok(html! {
        (filter_form(filter))
        @if shown.is_empty() && stopped {
            p.empty { "None of the " (SCAN) " requests read matches; older ones may." }
        } @else if shown.is_empty() {
            p.empty { "No request matches." }
        } @else {
            table.queue {
                caption.visually-hidden { "Requests, newest first" }
                thead { tr { th scope="col" { "Request" } th scope="col" { "Received" }
                    th scope="col" { "From → to" } th scope="col" { "Acts asked, and the law's answer" }
                    th scope="col" { "Hold" } } }
                tbody {
                    @for (listed, held) in shown.iter().zip(&held) {
                        (queue_row(listed, held.as_ref()))
                    }
                }
            }
        }
        @if let Some(before) = next {
            p.paging { a href=(next_page(filter, before)) rel="next" { "Older requests →" } }
        }
    })
}

/// `GET /queue`: the page, or the filter form again naming the field at fault.
pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(filter): Query<Filter>,
) -> Response {
    match page_of(&state, &signed, &filter).await {
        Ok(content) => layout(&state, "Queue", Some(&signed), content).into_response(),
        Err((StatusCode::UNPROCESSABLE_ENTITY, e)) => {
            let content = html! {
                p.error role="alert" { strong { (e.field) } ": " (e.message) }
                (filter_form(&filter))
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(&state, "Queue", Some(&signed), content),
            )
                .into_response()
        }
        Err((_, e)) => PageError::new(&state, &signed, e).into_response(),
    }
}

/// A person held on a request, as the desk must see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Held {
    /// Held, to be released by this instant (the decision's binding `hold_until`).
    Until(String),
    /// Held though the decision forbids the hold, or gives it no deadline: a violation.
    WithoutAuthority,
}

/// Whether the person is held on the request now: a `held` event recorded and no release,
/// transfer or end of the hold since; with the deadline the decision binds, or none where it
/// forbids the hold.
pub(crate) async fn held(state: &AppState, listed: &Listed) -> Result<Option<Held>, ApiError> {
    let Some(hold) = listed.decision.acts.iter().find(|a| a.act == Act::Hold) else {
        return Ok(None);
    };
    let events = state.inner.store.events(&listed.request.id).await?;
    let held = events.iter().fold(false, |held, e| match e.kind {
        EventKind::Held => true,
        EventKind::Released
        | EventKind::Transferred
        | EventKind::HoldExpired
        | EventKind::CustodyDisavowed => false,
        EventKind::ResponseSent => held,
    });
    if !held {
        return Ok(None);
    }
    let deadline = hold
        .limits
        .iter()
        .find(|l| l.binding)
        .and_then(|l| l.hold_until);
    Ok(Some(match deadline {
        Some(until) if hold.outcome != Outcome::Forbidden => Held::Until(until.to_string()),
        _ => Held::WithoutAuthority,
    }))
}

/// The hold's words: its deadline counting down, or the violation.
pub(crate) fn held_words(held: Option<&Held>) -> Markup {
    html! {
        @match held {
            Some(Held::Until(deadline)) => { "Held until " time.countdown datetime=(deadline) { (deadline) } }
            Some(Held::WithoutAuthority) => { strong.violation-mark { "Held without authority: the decision does not allow this hold" } }
            None => {}
        }
    }
}

fn queue_row(listed: &Listed, held: Option<&Held>) -> Markup {
    let r = &listed.request;
    html! {
        tr {
            td { a href={ "/requests/" (urlencode(&r.id)) } { (r.id) } }
            td { time datetime=(r.received_at.to_string()) { (r.received_at.date()) } }
            td { (r.from.agency) " → " (r.to.agency) }
            td {
                ul.acts {
                    @for act in &listed.decision.acts {
                        @let (word, _) = outcome_words(act.outcome);
                        li {
                            span class={ "outcome " (act.outcome.as_str()) } { (word) }
                            " " span.act title=(act_phrase(act.act)) { (act.act) }
                        }
                    }
                }
            }
            td { (held_words(held)) }
        }
    }
}

fn filter_form(filter: &Filter) -> Markup {
    html! {
        form.filter method="get" action="/queue" role="search" {
            label { "Agency " input name="agency" value=(filter.agency) placeholder="e.g. NYC DOC"; }
            label { "Act "
                select name="act" {
                    option value="" { "any" }
                    @for act in Act::ALL {
                        option value=(act.as_str()) selected[filter.act == act.as_str()] { (act) }
                    }
                }
            }
            label { "Outcome "
                select name="outcome" {
                    option value="" { "any" }
                    @for o in ["required", "permitted", "forbidden"] {
                        option value=(o) selected[filter.outcome == o] { (o) }
                    }
                }
            }
            label { "From " input name="from" value=(filter.from) placeholder="YYYY-MM-DD" inputmode="numeric"; }
            label { "To " input name="to" value=(filter.to) placeholder="YYYY-MM-DD" inputmode="numeric"; }
            button type="submit" { "Filter" }
        }
    }
}

/// The next page's address: the same filter, older than `before`.
fn next_page(filter: &Filter, before: u64) -> String {
    let before = before.to_string();
    let pairs: Vec<(&str, &str)> = [
        ("agency", filter.agency.as_str()),
        ("act", &filter.act),
        ("outcome", &filter.outcome),
        ("from", &filter.from),
        ("to", &filter.to),
        ("before", &before),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let query = serde_urlencoded::to_string(pairs).expect("pairs of strings encode");
    format!("/queue?{query}")
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` percent-encoded for a path segment.
pub(crate) fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_names_its_field() {
        let bad = |f: Filter| f.read().unwrap_err().field;
        assert_eq!(
            bad(Filter {
                act: "deport".into(),
                ..Filter::default()
            }),
            "act"
        );
        assert_eq!(
            bad(Filter {
                from: "2026-13-01".into(),
                ..Filter::default()
            }),
            "from"
        );
        assert_eq!(
            bad(Filter {
                outcome: "maybe".into(),
                ..Filter::default()
            }),
            "outcome"
        );
        assert_eq!(
            bad(Filter {
                from: "2026-02-01".into(),
                to: "2026-01-01".into(),
                ..Filter::default()
            }),
            "from"
        );
        let good = Filter {
            act: "hold".into(),
            from: " 2026-01-01 ".into(),
            ..Filter::default()
        }
        .read()
        .unwrap();
        assert_eq!(good.act, Some(Act::Hold));
        assert_eq!(good.from, Some(jiff::civil::date(2026, 1, 1)));
    }

    #[test]
    fn the_next_page_keeps_the_filter() {
        let f = Filter {
            agency: "NYC DOC".into(),
            act: "hold".into(),
            ..Filter::default()
        };
        assert_eq!(
            next_page(&f, 42),
            "/queue?agency=NYC+DOC&act=hold&before=42"
        );
        assert_eq!(urlencode("a-1/b c"), "a-1%2Fb%20c");
    }
}
