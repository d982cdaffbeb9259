//! `/requests/{id}`: one request and its decision, for the desk: what was asked, in words;
//! each act's outcome in words and colour; the rules, citations and cautions; the facts that
//! mattered; the limits; the deliveries and the actions recorded; and the ledger entry, which
//! a role that reads the ledger checks in the browser against the key it pinned.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use comity_model::{Act, ActDecision, Decision, Event, EventKind, Limit, Reason, Request};
use comity_store::{DeliveryStatus, EventRecord};
use maud::{Markup, html};
use serde::Deserialize;

use super::queue::{Held, Listed, held, held_words, urlencode};
use super::session::Signed;
use super::words::{act_phrase, outcome_words};
use super::{PageError, layout};
use crate::auth::ApiAction;
use crate::http::AppState;
use crate::http::errors::ApiError;
use crate::http::events::record_event;
use crate::http::requests::readable_request;

/// Everything the page shows.
struct Shown {
    listed: Listed,
    entry: String,
    held: Option<Held>,
    deliveries: Vec<DeliveryStatus>,
    events: Vec<EventRecord>,
    verifiable: bool,
    recordable: bool,
}

/// `GET /requests/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    shown_page(&state, &signed, &id, &EventForm::default(), None).await
}

/// The page of request `id`, its event form filled with `form`, and `error` about it.
async fn shown_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    form: &EventForm,
    error: Option<&ApiError>,
) -> Response {
    match shown(state, signed, id).await {
        Ok(shown) => {
            let status = if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let page = layout(
                state,
                &format!("Request {id}"),
                Some(signed),
                content(&shown, &signed.csrf, form, error),
            );
            (status, page).into_response()
        }
        Err(e) => PageError::new(state, signed, e).into_response(),
    }
}

/// The event form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    act: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /requests/{id}/events`: records what was done (the form must carry the session's
/// CSRF value); a field at fault is named on the page and nothing is recorded.
pub(crate) async fn record(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Result<Form<EventForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        let e = ApiError::input(
            "form",
            "the form could not be read; submit it from the page",
        );
        return shown_page(&state, &signed, &id, &EventForm::default(), Some(&e)).await;
    };
    if let Some(refused) = signed.forged(&form.csrf) {
        return refused;
    }
    let recorded = async {
        state.authorize(
            &signed.caller,
            ApiAction::RecordEvent,
            "/requests/{id}/events",
            false,
        )?;
        readable_request(&state, &signed.caller, &id, "/requests/{id}").await?;
        let mut fields = serde_json::json!({ "kind": form.kind.trim(), "at": form.at.trim() });
        if !form.act.trim().is_empty() {
            fields["act"] = form.act.trim().into();
        }
        let event = Event::from_json(&fields.to_string())?;
        record_event(&state, &signed.caller, &id, &event).await
    }
    .await;
    match recorded {
        Ok(_) => Redirect::to(&format!("/requests/{}#done", urlencode(&id))).into_response(),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            shown_page(&state, &signed, &id, &form, Some(&e)).await
        }
        Err(e) => PageError::new(&state, &signed, e).into_response(),
    }
}

async fn shown(state: &AppState, signed: &Signed, id: &str) -> Result<Shown, ApiError> {
    let body = readable_request(state, &signed.caller, id, "/requests/{id}").await?;
    let store = &state.inner.store;
    let stored = store
        .decision(id)
        .await?
        .ok_or_else(|| ApiError::not_found("id", format!("no decision for request `{id}`")))?;
    let request: Request = serde_json::from_str(&body)
        .map_err(|e| ApiError::internal(format!("request `{id}` does not read back: {e}")))?;
    let decision: Decision = serde_json::from_str(stored.decision())
        .map_err(|e| ApiError::internal(format!("decision of `{id}` does not read back: {e}")))?;
    let listed = Listed {
        index: stored.index,
        request,
        decision,
    };
    Ok(Shown {
        held: held(state, &listed).await?,
        deliveries: store.deliveries_of(id).await?,
        events: store.events(id).await?,
        verifiable: state.allows(&signed.caller, ApiAction::ReadLedger, "/console/proof"),
        recordable: state.allows(
            &signed.caller,
            ApiAction::RecordEvent,
            "/requests/{id}/events",
        ),
        listed,
        entry: stored.entry,
    })
}

fn content(shown: &Shown, csrf: &str, form: &EventForm, error: Option<&ApiError>) -> Markup {
    let Listed {
        index,
        request,
        decision,
    } = &shown.listed;
    html! {
        section aria-labelledby="asked" {
            h2 #asked { "What was asked" }
            (asked(request))
            @if let Some(held) = &shown.held {
                p.held role="status" { "The person is held on this request. " (held_words(Some(held))) "." }
            }
        }
        section aria-labelledby="answer" {
            h2 #answer { "What the law allows" }
            p { "Decided by the law in force at " time datetime=(decision.at.to_string()) { (decision.at) } ": "
                @for (i, p) in decision.packs.iter().enumerate() {
                    @if i > 0 { ", " } code { (p.id) }
                }
            }
            @for act in &decision.acts { (act_card(act)) }
            @if !decision.warnings.is_empty() {
                div.warnings role="note" {
                    h3 { "Warnings" }
                    ul { @for w in &decision.warnings { li { (w) } } }
                }
            }
        }
        section aria-labelledby="done" {
            h2 #done { "What was sent and done" }
            (deliveries(&shown.deliveries))
            (events(&shown.events))
            @if shown.recordable { (event_form(&shown.listed.request.id, csrf, form, error)) }
        }
        section aria-labelledby="ledger" {
            h2 #ledger { "In the ledger" }
            p { "Entry " strong { (index) } " of the ledger records this decision." }
            @if shown.verifiable {
                div.verify data-index=(index) data-request=(request.id) {
                    button type="button" #verify { "Verify in this browser" }
                    p #verify-result role="status" aria-live="polite" {
                        "Checks the entry's inclusion proof and the signed checkpoint here, "
                        "against the public key you pinned on the Audit page."
                    }
                }
            }
            details {
                summary { "The entry's bytes" }
                pre #entry { (shown.entry) }
            }
        }
    }
}

/// What was asked, in words.
fn asked(r: &Request) -> Markup {
    html! {
        p.asked {
            strong { (r.from.agency) } " (" (r.from.kind) ") asks "
            strong { (r.to.agency) } " to:"
        }
        ul { @for act in &r.acts { li { (act_phrase(*act)) " (" code { (act) } ")" } } }
        dl.facts {
            dt { "Person" } dd { code { (r.subject.id) } }
            dt { "Received" } dd { time datetime=(r.received_at.to_string()) { (r.received_at) } }
            dt { "Place" } dd { (r.jurisdiction) }
            @if let Some(form) = &r.form { dt { "Form" } dd { (form) } }
            @if !r.basis.is_empty() {
                dt { "Basis" } dd { @for (i, b) in r.basis.iter().enumerate() { @if i > 0 { ", " } (b) } }
            }
            dt { "Warrant" }
            dd { @match &r.warrant { Some(w) => { (w.kind) }, None => { "none" } } }
            @if let Some(c) = &r.custody { dt { "Custody" } dd { (c.status) } }
            @if let Some(c) = &r.court_event { dt { "Court date" } dd { (c.at) " at " (c.court) } }
            @if !r.records.is_empty() {
                dt { "Records asked" } dd { @for (i, f) in r.records.iter().enumerate() { @if i > 0 { ", " } (f) } }
            }
        }
    }
}

/// One act's decision: outcome in words and colour, why, what limits it.
fn act_card(act: &ActDecision) -> Markup {
    let (word, sentence) = outcome_words(act.outcome);
    html! {
        article class={ "act " (act.outcome.as_str()) } {
            h3 { (act.act) ": " span.outcome { (word) } }
            p { (sentence) ": " (act_phrase(act.act)) "." }
            @if !act.reasons.is_empty() {
                h4 { @if act.outcome == comity_model::Outcome::Forbidden { "The requirement not met" } @else { "Why" } }
                ul.reasons { @for r in &act.reasons { (reason(r)) } }
            }
            @if !act.met.is_empty() {
                h4 { "Requirements met" }
                ul.reasons { @for r in &act.met { (reason(r)) } }
            }
            @if !act.limits.is_empty() {
                h4 { "Limits" }
                ul.limits { @for l in &act.limits { (limit(l)) } }
            }
            @if let Some(instruction) = &act.instruction { p.instruction { "What to do: " (instruction) } }
        }
    }
}

fn reason(r: &Reason) -> Markup {
    html! {
        li {
            span.summary { (r.summary) }
            br;
            cite { (r.citation) } " — rule " code { (r.rule) } " of " code { (r.pack) }
            @if let Some(caution) = &r.caution { p.caution role="note" { strong { "Caution: " } (caution) } }
            @if !r.facts.is_empty() {
                dl.facts-read {
                    @for (fact, value) in &r.facts { dt { (fact) } dd { (value.to_string()) } }
                }
            }
        }
    }
}

fn limit(l: &Limit) -> Markup {
    html! {
        li {
            @if let Some(until) = &l.hold_until {
                "Release by " time datetime=(until.to_string()) { (until) }
                @if l.binding { " (the deadline that binds)" } ". "
            }
            @if !l.notice.is_empty() { "Notice owed to: " (l.notice.join(", ")) ". " }
            @if let Some(a) = &l.approval { "Needs the approval of: " (a) ". " }
            @if !l.discloses.is_empty() {
                "May carry only: "
                @for (i, f) in l.discloses.iter().enumerate() { @if i > 0 { ", " } (f) } ". "
            }
            cite { (l.citation) }
        }
    }
}

fn deliveries(list: &[DeliveryStatus]) -> Markup {
    html! {
        h3 { "Disclosures and notices" }
        @if list.is_empty() {
            p { "None: the decision permits nothing to be sent." }
        } @else {
            table {
                thead { tr { th scope="col" { "Act" } th scope="col" { "Kind" } th scope="col" { "To" }
                    th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Last error" } } }
                tbody { @for d in list { tr {
                    td { (d.act) } td { (d.kind) } td { (d.recipient) }
                    td { span class={ "status " (d.status) } { (d.status) } }
                    td { (d.attempts) } td { (d.last_error) }
                } } }
            }
        }
    }
}

/// The form that records what was done on the request.
fn event_form(id: &str, csrf: &str, form: &EventForm, error: Option<&ApiError>) -> Markup {
    html! {
        h3 #record { "Record what was done" }
        @if let Some(e) = error {
            p.error role="alert" #event-error { strong { (e.field) } ": " (e.message) }
        }
        form.filter method="post" action={ "/requests/" (urlencode(id)) "/events" } aria-labelledby="record" data-once {
            input type="hidden" name="csrf" value=(csrf);
            label { "What was done "
                select name="kind" {
                    @for k in EventKind::ALL {
                        option value=(k.as_str()) selected[form.kind == k.as_str()] { (k) }
                    }
                }
            }
            label { "When (RFC 3339) "
                input name="at" value=(form.at) placeholder="2018-03-04T10:00:00-05:00" size="28"
                    aria-invalid=[error.filter(|e| e.field == "at").map(|_| "true")];
            }
            label { "Act (for response-sent) "
                select name="act" {
                    option value="" { "none" }
                    @for a in Act::ALL {
                        option value=(a.as_str()) selected[form.act == a.as_str()] { (a) }
                    }
                }
            }
            button type="submit" { "Record" }
        }
    }
}

fn events(list: &[EventRecord]) -> Markup {
    html! {
        h3 { "Actions recorded" }
        @if list.is_empty() {
            p { "None yet." }
        } @else {
            ol.events { @for e in list { li {
                strong { (e.kind) } @if let Some(act) = e.act { " (" (act) ")" }
                " at " time datetime=(e.at) { (e.at) } ", recorded by " (e.by)
                @for v in &e.violations { p.violation role="alert" { strong { "Violation: " } (v) } }
            } } }
        }
    }
}
