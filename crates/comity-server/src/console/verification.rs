//! A full verification of the store run from the Audit page (`POST /audit/verify`), as
//! `comity audit verify` runs it: every entry re-hashed, every stored node, decision row and
//! checkpoint checked, the outbox and the events against the ledger. One runs at a time, in
//! the background; `GET /console/verification` tells how far it is, the page shows it with a
//! progress bar, and the last result stays until the next run.

use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use comity_ledger::NoteVerifier;
use comity_store::Store;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::PageError;
use super::session::Signed;
use crate::auth::ApiAction;
use crate::check::check_store;
use crate::http::AppState;

/// Where the last verification stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Verification {
    /// None has run since the server started.
    #[default]
    Never,
    /// One is running: `done` of `total` entries read.
    Running {
        /// Entries re-hashed so far.
        done: u64,
        /// Entries in the ledger when it started.
        total: u64,
        /// Who started it.
        by: String,
    },
    /// The last one ended: `ok`, and what it found or counted.
    Ended {
        /// Whether everything held.
        ok: bool,
        /// What was verified, or the first fault found (which may name a request and what its
        /// decision says: shown whole only to roles that read requests).
        summary: String,
        /// The ledger index at fault, where there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        index: Option<u64>,
        /// Who started it.
        by: String,
    },
}

/// The verification shared by the server's pages.
#[derive(Debug, Default, Clone)]
pub struct Verifications(Arc<Mutex<Verification>>);

impl Verification {
    /// What a role that reads no one's records may see of it: a fault by its ledger index
    /// only (a finding can name a request and what its decision says).
    fn without_records(self) -> Verification {
        match self {
            Verification::Ended {
                ok: false,
                index,
                by,
                ..
            } => Verification::Ended {
                ok: false,
                summary: match index {
                    Some(i) => format!(
                        "TAMPERED: ledger entry {i} (the details are for supervisors, and for comity audit verify)"
                    ),
                    None => "the check failed (the details are for supervisors, and for comity audit verify)".into(),
                },
                index,
                by,
            },
            other => other,
        }
    }
}

impl Verifications {
    /// Where it stands.
    pub fn now(&self) -> Verification {
        self.0.lock().expect("verification lock").clone()
    }

    /// Where it stands, as `signed` may see it.
    pub(crate) fn seen_by(&self, state: &AppState, signed: &Signed) -> Verification {
        let now = self.now();
        if state.allows(&signed.caller, ApiAction::ReadRequest, "/audit") {
            now
        } else {
            now.without_records()
        }
    }

    fn set(&self, v: Verification) {
        *self.0.lock().expect("verification lock") = v;
    }

    /// Starts a run by `by` unless one is running: whether it started.
    fn start(&self, store: Store, verifier: NoteVerifier, by: String) -> bool {
        {
            let mut now = self.0.lock().expect("verification lock");
            if matches!(*now, Verification::Running { .. }) {
                return false;
            }
            *now = Verification::Running {
                done: 0,
                total: 0,
                by: by.clone(),
            };
        }
        let runs = self.clone();
        tokio::spawn(async move {
            // The check on a task of its own, so that a panic in it still ends the run.
            let checking = {
                let (runs, by) = (runs.clone(), by.clone());
                tokio::spawn(async move { verify_all(&store, &verifier, &runs, &by).await })
            };
            let ended = match checking.await {
                Ok(Ok(summary)) => Verification::Ended {
                    ok: true,
                    summary,
                    index: None,
                    by,
                },
                Ok(Err((summary, index))) => Verification::Ended {
                    ok: false,
                    summary,
                    index,
                    by,
                },
                Err(e) => Verification::Ended {
                    ok: false,
                    summary: format!("the check stopped: {e}"),
                    index: None,
                    by,
                },
            };
            runs.set(ended);
        });
        true
    }
}

/// Everything `comity audit verify` checks: a summary, or the first fault (or failure) with
/// the ledger index at fault.
async fn verify_all(
    store: &Store,
    verifier: &NoteVerifier,
    runs: &Verifications,
    by: &str,
) -> Result<String, (String, Option<u64>)> {
    let progress = |done, total| {
        runs.set(Verification::Running {
            done,
            total,
            by: by.to_owned(),
        })
    };
    match check_store(store, verifier, &progress).await {
        Ok(Ok(checked)) => Ok(checked.to_string()),
        Ok(Err(finding)) => Err((format!("TAMPERED: {finding}"), finding.index)),
        Err(e) => Err((format!("could not read the store: {e}"), None)),
    }
}

/// The verification form's field.
#[derive(Debug, Deserialize)]
pub(crate) struct StartForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /audit/verify`: starts a full verification (the form must carry the session's CSRF
/// value), and returns to the Audit page.
pub(crate) async fn start(
    State(state): State<AppState>,
    signed: Signed,
    form: Result<Form<StartForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(e) = state.authorize(
        &signed.caller,
        ApiAction::ReadLedger,
        "/audit/verify",
        false,
    ) {
        return PageError::new(&state, &signed, e).into_response();
    }
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if let Some(refused) = signed.forged(&csrf) {
        return refused;
    }
    let by = format!("{} ({})", signed.caller.name, signed.caller.role);
    state
        .verifications()
        .start(state.inner.store.clone(), state.inner.signer.verifier(), by);
    Redirect::to("/audit#verification").into_response()
}

/// `GET /console/verification`: where the verification stands, as JSON.
pub(crate) async fn status(State(state): State<AppState>, signed: Signed) -> Response {
    if let Err(e) = state.authorize(
        &signed.caller,
        ApiAction::ReadLedger,
        "/console/verification",
        false,
    ) {
        return e.into_response();
    }
    axum::Json(state.verifications().seen_by(&state, &signed)).into_response()
}

/// The Audit page's section: the form, and where the last run stands.
pub(crate) fn section(now: &Verification, csrf: &str) -> Markup {
    html! {
        section #verification aria-labelledby="verify-all" {
            h2 #verify-all { "Verify the whole store" }
            p { "Re-hash every ledger entry and check every stored node, decision, checkpoint, delivery and event against the ledger, as "
                code { "comity audit verify" } " does." }
            form method="post" action="/audit/verify" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" #verify-start disabled[matches!(now, Verification::Running { .. })] { "Verify now" }
            }
            div #verification-status data-state=(state_word(now)) role="status" aria-live="polite" {
                @match now {
                    Verification::Never => p { "Not run since the server started." },
                    Verification::Running { done, total, by } => {
                        label for="verification-progress" { "Verifying, started by " (by) }
                        progress #verification-progress max=(total.max(&1)) value=(done) { (done) " of " (total) }
                        p #verification-count { (done) " of " (total) " entries" }
                    },
                    Verification::Ended { ok, summary, by, .. } => {
                        p class=(if *ok { "ok" } else { "failed" }) {
                            @if *ok { "Verified: " } @else { "FAILED: " } (summary) " (started by " (by) ")"
                        }
                    },
                }
            }
        }
    }
}

fn state_word(v: &Verification) -> &'static str {
    match v {
        Verification::Never => "never",
        Verification::Running { .. } => "running",
        Verification::Ended { ok: true, .. } => "ok",
        Verification::Ended { ok: false, .. } => "failed",
    }
}
