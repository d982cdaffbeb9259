//! `/audit`: the ledger as an auditor checks it: the latest signed checkpoint, the ledger's
//! public key as this server states it, and the key the auditor pins in this browser (kept
//! in the browser's storage, never sent), against which request pages check their entries.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::session::Signed;
use super::verification::section;
use super::{PageError, layout};
use crate::auth::ApiAction;
use crate::http::AppState;
use crate::http::errors::ApiError;

/// `GET /audit`.
pub(crate) async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    if let Err(e) = state.authorize(&signed.caller, ApiAction::ReadLedger, "/audit", false) {
        return PageError::new(&state, &signed, e).into_response();
    }
    let note = match state.inner.store.sign_checkpoint(&state.inner.signer).await {
        Ok(checkpoint) => checkpoint.note,
        Err(e) => return PageError::new(&state, &signed, ApiError::from(e)).into_response(),
    };
    let stated = state.inner.signer.verifier_key();
    let content = html! {
        section aria-labelledby="checkpoint" {
            h2 #checkpoint { "The latest checkpoint" }
            p { "A signed note (C2SP tlog-checkpoint): the ledger's origin, its size and its root hash, signed by the ledger's key." }
            pre #checkpoint-note { (note) }
        }
        section aria-labelledby="key" {
            h2 #key { "The key you check against" }
            p {
                "This server states its public key as " code #stated-key { (stated) } ". "
                "Do not take its word: pin the key your agency published, obtained another way."
            }
        }
        (pin_form())
        (section(&state.verifications().seen_by(&state, &signed), &signed.csrf))
    };
    layout(&state, "Audit", Some(&signed), content).into_response()
}

/// The form that pins, in this browser, the public key request pages and receipts are
/// checked against (kept in the browser's storage, never sent).
pub(crate) fn pin_form() -> Markup {
    html! {
        section aria-labelledby="pin" {
            h2 #pin { "The key pinned in this browser" }
            p { "Request pages and receipts are checked here, in this browser, against the key pinned here." }
            form #pin-form {
                label for="pinned-key" { "Pinned public key" }
                input #pinned-key name="key" size="80" autocomplete="off" spellcheck="false"
                    aria-describedby="pin-status";
                button type="submit" { "Pin" }
                button type="button" #unpin { "Forget" }
                p #pin-status role="status" aria-live="polite" {}
            }
        }
    }
}
