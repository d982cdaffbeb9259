//! `/packs`: the law in force, for every role: each jurisdiction's versions with their dates
//! and confidence, and `/packs/{path}`, each version's page (`comity packs render`'s): the
//! statute beside the rules that encode it, with citations, summaries, cautions and test
//! cases. A version's page stands alone (printable, its style inline, no script).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use comity_policy::Pack;
use comity_report::law::{page_path, version_page};
use maud::html;

use super::session::Signed;
use super::{PageError, layout};
use crate::http::AppState;
use crate::http::errors::ApiError;

/// `GET /packs`.
pub(crate) async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let packs = state.inner.engine.packs();
    let mut by: BTreeMap<String, Vec<&Pack>> = BTreeMap::new();
    for p in packs.packs() {
        by.entry(p.manifest.jurisdiction.to_string())
            .or_default()
            .push(p);
    }
    let content = html! {
        p { "Every version of the law comity decides by, by jurisdiction. Open a version to read each rule beside its statute, with its citation, cautions and test cases." }
        @for (jurisdiction, versions) in &by {
            section {
                h2 { code { (jurisdiction) } }
                table.versions {
                    thead { tr { th scope="col" { "In force from" } th scope="col" { "Until" }
                        th scope="col" { "Title" } th scope="col" { "Confidence" } th scope="col" { "Rules" } } }
                    tbody { @for p in versions { tr {
                        td { a href={ "/packs/" (page_path(p).display()) } { (p.manifest.effective_from) } }
                        td { @match p.until_day() { Some(u) => { (u) }, None => { "in force" } } }
                        td { (p.manifest.title) }
                        td { span class={ "confidence " (p.manifest.confidence) } { (p.manifest.confidence) } }
                        td { (p.rules.len()) }
                    } } }
                }
            }
        }
    };
    layout(&state, "Law in force", Some(&signed), content).into_response()
}

/// `GET /packs/{path}`: one version's page.
pub(crate) async fn version(
    State(state): State<AppState>,
    signed: Signed,
    Path(path): Path<String>,
) -> Response {
    let packs = state.inner.engine.packs();
    let Some(pack) = packs
        .packs()
        .iter()
        .find(|p| page_path(p).to_str() == Some(path.as_str()))
    else {
        let e = ApiError::not_found("path", format!("no pack version has the page `{path}`"));
        return PageError::new(&state, &signed, e).into_response();
    };
    let mut response = Html(version_page(packs, pack)).into_response();
    // Its own policy: the page's inline style, and nothing else.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
