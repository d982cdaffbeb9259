//! `/counsel`: for counsel, the people an authority assigned to it and every disclosure and
//! notice about them, with times; each with a receipt (`/counsel/receipt?delivery=ID`) to
//! take to court, which the page itself checks in the browser, as `comity audit
//! check-receipt` does offline.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use comity_store::DeliveryAbout;
use maud::{Markup, html};
use serde::Deserialize;

use super::audit::pin_form;
use super::queue::urlencode;
use super::session::Signed;
use super::{PageError, layout};
use crate::auth::{ApiAction, Role};
use crate::http::AppState;
use crate::http::errors::ApiError;
use crate::receipt::{MakeError, Receipt};

/// `GET /counsel`.
pub(crate) async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    match clients(&state, &signed).await {
        Ok(by_person) => {
            layout(&state, "Counsel", Some(&signed), content(&by_person)).into_response()
        }
        Err(e) => PageError::new(&state, &signed, e).into_response(),
    }
}

/// The people assigned to the signed-in counsel, each with the deliveries about them.
async fn clients(
    state: &AppState,
    signed: &Signed,
) -> Result<BTreeMap<String, Vec<DeliveryAbout>>, ApiError> {
    let caller = &signed.caller;
    state.authorize(caller, ApiAction::ReadAssignments, "/counsel", false)?;
    if caller.role != Role::Counsel {
        return Err(ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            field: String::new(),
            message:
                "this page lists the people assigned to the signed-in counsel; sign in as counsel"
                    .into(),
            rule: None,
        });
    }
    let store = &state.inner.store;
    let mut by_person = BTreeMap::new();
    for a in store.assignments(Some(&caller.name)).await? {
        if a.ended.is_none() {
            let about = store.deliveries_about(&a.subject_id).await?;
            by_person.insert(a.subject_id, about);
        }
    }
    Ok(by_person)
}

fn content(by_person: &BTreeMap<String, Vec<DeliveryAbout>>) -> Markup {
    html! {
        p { "The people an authority assigned to you, and every disclosure and notice about them. "
            "Each comes with a receipt: the ledger entry of the decision that permitted it, its inclusion proof and the signed checkpoint, "
            "which this page, or " code { "comity audit check-receipt FILE" } ", checks against the ledger's public key." }
        @if by_person.is_empty() {
            p.empty { "No one is assigned to you." }
        }
        @for (person, deliveries) in by_person {
            section.client {
                h2 { "Person " code { (person) } }
                @if deliveries.is_empty() {
                    p { "Nothing has been disclosed about this person, and no notice is planned." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Planned" } th scope="col" { "Request" } th scope="col" { "Act" }
                            th scope="col" { "Kind" } th scope="col" { "To" } th scope="col" { "Status" } th scope="col" { "Receipt" } } }
                        tbody { @for d in deliveries { tr {
                            td { time datetime=(d.created_at) { (d.created_at) } }
                            td { a href={ "/requests/" (urlencode(&d.request)) } { (d.request) } }
                            td { (d.status.act) } td { (d.status.kind) } td { (d.status.recipient) }
                            td { span class={ "status " (d.status.status) } { (d.status.status) } }
                            td { a.receipt href={ "/counsel/receipt?delivery=" (urlencode(&d.status.id)) } download { "Receipt" } }
                        } } }
                    }
                }
            }
        }
        section aria-labelledby="check" {
            h2 #check { "Check a receipt" }
            p { "Choose a receipt file: it is checked here, in this browser, against the key you pinned below; nothing is sent." }
            label for="receipt-file" { "Receipt file" }
            input #receipt-file type="file" accept=".json,application/json";
            p #receipt-result role="status" aria-live="polite" {}
        }
        (pin_form())
    }
}

/// The query of `/counsel/receipt`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReceiptQuery {
    #[serde(default)]
    delivery: String,
}

/// `GET /counsel/receipt?delivery=ID`: the receipt of a delivery about a person assigned to
/// the signed-in counsel (refused alike for another person's and an unknown id), as a file.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ReceiptQuery>,
) -> Response {
    match made(&state, &signed, &query.delivery).await {
        Ok(receipt) => {
            let body = serde_json::to_string_pretty(&receipt).expect("receipts serialize") + "\n";
            let name: String = query
                .delivery
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"receipt-{name}.json\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => PageError::new(&state, &signed, e).into_response(),
    }
}

async fn made(state: &AppState, signed: &Signed, id: &str) -> Result<Receipt, ApiError> {
    let store = &state.inner.store;
    let about = store.delivery_about(id).await?;
    // Asked whether or not the delivery exists, so that an unknown delivery and another
    // person's cost counsel the same work and are refused alike.
    let subject = about.as_ref().map_or("", |a| a.subject_id.as_str());
    let assigned = match signed.caller.role {
        Role::Counsel => store.is_assigned(&signed.caller.name, subject).await? && about.is_some(),
        _ => false,
    };
    state.authorize(
        &signed.caller,
        ApiAction::ReadDecision,
        "/counsel/receipt",
        assigned,
    )?;
    let about =
        about.ok_or_else(|| ApiError::not_found("delivery", format!("no delivery `{id}`")))?;
    // The server holds the ledger's key: it signs a checkpoint covering the entry if the
    // latest does not.
    let checkpoint = store.sign_checkpoint(&state.inner.signer).await?;
    Receipt::make(store, about, checkpoint)
        .await
        .map_err(|e| match e {
            MakeError::Store(e) => e.into(),
            e @ (MakeError::Inconsistent(_) | MakeError::NotYet { .. }) => {
                ApiError::internal(e.to_string())
            }
        })
}
