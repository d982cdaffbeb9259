//! Signing in with a token, and out.
//!
//! The sign-in form is protected against cross-site submission by a pre-session: showing it
//! sets a random value in a cookie and in the form, and only a submission carrying both,
//! equal, is read. A token not accepted (unknown, revoked, expired or malformed) gets the
//! same answer, which does not tell whether it exists.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::session::{
    SESSION_COOKIE, SESSION_LIFETIME, SIGNIN_COOKIE, SIGNIN_LIFETIME, cookie, random_hex, removal,
    same_secret,
};
use crate::auth::AuthError;
use crate::http::AppState;
use crate::http::errors::ApiError;

/// The query of `/signin`.
#[derive(Debug, Deserialize)]
pub(crate) struct SigninQuery {
    /// Set when a session ended (signed out, expired or its token revoked).
    #[serde(default)]
    ended: Option<String>,
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SigninForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// The sign-out form's field.
#[derive(Debug, Deserialize)]
pub(crate) struct SignoutForm {
    #[serde(default)]
    csrf: String,
}

/// `GET /signin`: the form, with a fresh pre-session.
pub(crate) async fn form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<SigninQuery>,
) -> Response {
    let note = query
        .ended
        .map(|_| "Your session has ended. Sign in again to go on.");
    shown(&state, jar, StatusCode::OK, note, None)
}

/// The form, with `note` (information) or `error` (the field and what is wrong).
fn shown(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    note: Option<&str>,
    error: Option<(&str, &str)>,
) -> Response {
    let presession = random_hex();
    let content = signin_form(&presession, note, error);
    (
        status,
        jar.add(cookie(SIGNIN_COOKIE, presession, SIGNIN_LIFETIME)),
        layout(state, "Sign in", None, content),
    )
        .into_response()
}

fn signin_form(presession: &str, note: Option<&str>, error: Option<(&str, &str)>) -> Markup {
    html! {
        @if let Some(note) = note { p.note role="status" { (note) } }
        @if let Some((field, message)) = error {
            p.error role="alert" #signin-error { strong { (field) } ": " (message) }
        }
        form.signin method="post" action="/signin" {
            input type="hidden" name="csrf" value=(presession);
            label for="token" { "Token" }
            input #token type="password" name="token" autocomplete="off" required
                aria-describedby="token-help"
                aria-invalid=[error.map(|_| "true")];
            p.help #token-help {
                "The API token your administrator issued (" code { "comity_…" } "). "
                "It stays on this server: the browser keeps only a session cookie."
            }
            button type="submit" { "Sign in" }
        }
    }
}

/// `POST /signin`: a session for an accepted token, else the form again saying why.
pub(crate) async fn submit(
    State(state): State<AppState>,
    jar: CookieJar,
    form: Result<Form<SigninForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return shown(
            &state,
            jar,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some((
                "form",
                "the form could not be read; submit it from this page",
            )),
        );
    };
    let presession = jar.get(SIGNIN_COOKIE).map(|c| c.value().to_owned());
    if !presession.is_some_and(|p| same_secret(&p, &form.csrf)) {
        return shown(
            &state,
            jar,
            StatusCode::FORBIDDEN,
            None,
            Some((
                "csrf",
                "this form was not the one this browser was shown (or it is older than 15 minutes); try again",
            )),
        );
    }
    let token = form.token.trim();
    if token.is_empty() {
        return shown(
            &state,
            jar,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(("token", "enter your token")),
        );
    }
    match state.authenticate(token).await {
        Ok(_) => {
            // A session this browser had ends: one sign-in, one session.
            if let Some(old) = jar.get(SESSION_COOKIE) {
                state.sessions().close(old.value());
            }
            let id = state.sessions().open(token);
            let jar = jar.remove(removal(SIGNIN_COOKIE)).add(cookie(
                SESSION_COOKIE,
                id,
                SESSION_LIFETIME,
            ));
            (jar, Redirect::to("/")).into_response()
        }
        Err(AuthError::Store(e)) => ApiError::from(e).into_response(),
        Err(_) => shown(
            &state,
            jar,
            StatusCode::UNAUTHORIZED,
            None,
            Some(("token", "that token was not accepted")),
        ),
    }
}

/// `POST /signout`: ends the session (the form must carry its CSRF value).
pub(crate) async fn signout(
    State(state): State<AppState>,
    jar: CookieJar,
    form: Result<Form<SignoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let id = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    let signed_out = (
        jar.clone().remove(removal(SESSION_COOKIE)),
        Redirect::to("/signin?ended=1"),
    );
    match id {
        Some(id) if state.sessions().matches_csrf(&id, &csrf) => {
            state.sessions().close(&id);
            signed_out.into_response()
        }
        // No session, or one already ended: nothing to forge; the cookie goes.
        Some(id) if !state.sessions().is_live(&id) => signed_out.into_response(),
        None => signed_out.into_response(),
        Some(_) => (
            StatusCode::FORBIDDEN,
            "sign-out refused: not a form of this session",
        )
            .into_response(),
    }
}
