//! Signed-in sessions of the console: a token given once at the sign-in form becomes a
//! random session id in a `Secure`, `HttpOnly`, `SameSite=Strict` cookie, and every form
//! carries the session's CSRF token.
//!
//! Sessions live in the server's memory only (a restart signs everyone out), keyed by the
//! SHA-256 of their id; each ends [`SESSION_LIFETIME`] after sign-in, at sign-out, or as soon
//! as its token is revoked or expires (the token is authenticated again on every page).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use comity_store::sha256_hex;

use crate::auth::{AuthError, Caller};
use crate::http::AppState;

/// The session cookie's name. `__Host-`: the browser keeps it only as set by this host,
/// `Secure`, for the whole site, so that no other host (a sibling subdomain) can plant one.
pub const SESSION_COOKIE: &str = "__Host-comity_session";
/// The sign-in form's CSRF cookie (a pre-session), set when the form is shown.
pub const SIGNIN_COOKIE: &str = "__Host-comity_signin";
/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// How long a sign-in form may be submitted after it was shown.
pub const SIGNIN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The console's sessions.
#[derive(Default)]
pub struct Sessions {
    by_digest: Mutex<HashMap<String, Stored>>,
}

/// What a session holds: the SHA-256 of its token, not the token (which a copy of the
/// server's memory would give away).
struct Stored {
    token_sha256: String,
    csrf: String,
    ends: Instant,
}

/// A signed-in person on a page: who they are by their token, and the CSRF token their
/// forms must carry.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The token's role and holder, authenticated again for this page.
    pub caller: Caller,
    /// The value every form of this session carries in its `csrf` field.
    pub csrf: String,
}

impl Signed {
    /// The refusal of a form that does not carry this session's CSRF value (`csrf`); none
    /// when it does.
    pub fn forged(&self, csrf: &str) -> Option<Response> {
        (!same_secret(&self.csrf, csrf)).then(|| {
            (
                axum::http::StatusCode::FORBIDDEN,
                "refused: not a form of this session",
            )
                .into_response()
        })
    }
}

/// 32 random bytes, hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system gives randomness");
    comity_ledger::to_hex(&bytes)
}

impl Sessions {
    /// A new session for `token`: its id, for the cookie.
    pub fn open(&self, token: &str) -> String {
        let id = random_hex();
        let stored = Stored {
            token_sha256: sha256_hex(token.as_bytes()),
            csrf: random_hex(),
            ends: Instant::now() + SESSION_LIFETIME,
        };
        let mut map = self.by_digest.lock().expect("sessions lock");
        map.retain(|_, s| s.ends > Instant::now());
        map.insert(sha256_hex(id.as_bytes()), stored);
        id
    }

    /// Ends the session `id` (nothing if there is none).
    pub fn close(&self, id: &str) {
        self.by_digest
            .lock()
            .expect("sessions lock")
            .remove(&sha256_hex(id.as_bytes()));
    }

    /// Whether `csrf` is the CSRF value of the live session `id`.
    pub fn matches_csrf(&self, id: &str, csrf: &str) -> bool {
        self.live(id)
            .is_some_and(|(_, expected)| same_secret(&expected, csrf))
    }

    /// Whether the session `id` is live.
    pub fn is_live(&self, id: &str) -> bool {
        self.live(id).is_some()
    }

    /// The token's SHA-256 and the CSRF value of a live session.
    fn live(&self, id: &str) -> Option<(String, String)> {
        let mut map = self.by_digest.lock().expect("sessions lock");
        let digest = sha256_hex(id.as_bytes());
        match map.get(&digest) {
            Some(s) if s.ends > Instant::now() => Some((s.token_sha256.clone(), s.csrf.clone())),
            Some(_) => {
                map.remove(&digest);
                None
            }
            None => None,
        }
    }
}

/// A cookie of the console: `Secure`, `HttpOnly`, `SameSite=Strict`, for the whole site.
pub fn cookie(name: &'static str, value: String, lifetime: Duration) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time_span(lifetime))
        .build()
}

/// A cookie that removes `name`.
pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), Duration::ZERO);
    c.make_removal();
    c
}

fn time_span(d: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(d.as_secs() as i64)
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    /// The session of the cookie, its token still good; otherwise back to the sign-in page,
    /// saying only that the session ended (whether the token exists is not told).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let to_signin = || {
            (
                jar.clone().add(removal(SESSION_COOKIE)),
                Redirect::to("/signin?ended=1"),
            )
                .into_response()
        };
        let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(Redirect::to("/signin").into_response());
        };
        let sessions = state.sessions();
        let Some((token_sha256, csrf)) = sessions.live(&id) else {
            return Err(to_signin());
        };
        match state.authenticate_digest(&token_sha256).await {
            Ok(caller) => Ok(Signed { caller, csrf }),
            Err(AuthError::Store(e)) => Err(crate::http::errors::ApiError::from(e).into_response()),
            Err(_) => {
                sessions.close(&id);
                Err(to_signin())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_open_close_and_keep_no_id() {
        let sessions = Sessions::default();
        let id = sessions.open("comity_abc");
        let (token_sha256, csrf) = sessions.live(&id).expect("live");
        assert_eq!(
            token_sha256,
            sha256_hex(b"comity_abc"),
            "the token's digest, not the token"
        );
        assert_eq!(csrf.len(), 64);
        // Only the id's digest is kept.
        assert!(!sessions.by_digest.lock().unwrap().contains_key(&id));
        assert!(sessions.live("not-an-id").is_none());
        sessions.close(&id);
        assert!(sessions.live(&id).is_none());
    }

    #[test]
    fn an_ended_session_is_gone() {
        let sessions = Sessions::default();
        let id = sessions.open("comity_abc");
        sessions
            .by_digest
            .lock()
            .unwrap()
            .values_mut()
            .for_each(|s| s.ends = Instant::now() - Duration::from_secs(1));
        assert!(sessions.live(&id).is_none());
        assert!(sessions.by_digest.lock().unwrap().is_empty());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abcd", "abcd"));
        assert!(!same_secret("abcd", "abce"));
        assert!(!same_secret("abcd", "abc"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn cookies_are_secure_http_only_and_strict() {
        let c = cookie(SESSION_COOKIE, "x".into(), SESSION_LIFETIME).to_string();
        for part in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=28800",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
    }
}
