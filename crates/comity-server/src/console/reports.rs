//! `/reports`: the statutory reports, computed from the ledger at a checkpoint signed for the
//! occasion (as `comity report` does), for the roles that read the ledger; and
//! `/reports/view?kind=…&from=…&to=…`, one report as its own page, with its charts (the same
//! page `comity report --format html` writes: its style inline, its charts SVG, no script).
//! What-if results (`comity whatif --html FILE`, kept in `comity serve --whatif-dir`) are
//! listed there too and shown at `/reports/whatif/{file}`: a draft law replayed over history,
//! with its charts.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use comity_report::{ComputeError, Definition};
use jiff::civil::Date;
use maud::{Markup, html};
use serde::Deserialize;

use super::session::Signed;
use super::{PageError, layout};
use crate::auth::ApiAction;
use crate::http::AppState;
use crate::http::errors::ApiError;

/// The report form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Asked {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /reports`.
pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(asked): Query<Asked>,
) -> Response {
    if let Some(refused) = refusal(&state, &signed) {
        return refused;
    }
    let names = whatif_files(state.whatif_dir()).await;
    let content = html! {
        (form(state.reports(), &asked, None))
        (whatifs(&names))
    };
    layout(&state, "Reports", Some(&signed), content).into_response()
}

/// The what-if results kept in `dir`: their file names, in order (none when the directory
/// cannot be read).
async fn whatif_files(dir: Option<&std::path::Path>) -> Vec<String> {
    let mut names = Vec::new();
    let Some(mut entries) = (match dir {
        Some(dir) => tokio::fs::read_dir(dir).await.ok(),
        None => None,
    }) else {
        return names;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if let Ok(name) = entry.file_name().into_string()
            && is_result_name(&name)
        {
            names.push(name);
        }
    }
    names.sort();
    names
}

/// A result's file name as the console serves it: letters, digits, `-`, `_` and `.`,
/// ending `.html` (so that no name reaches outside the directory).
fn is_result_name(name: &str) -> bool {
    name.ends_with(".html")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn whatifs(names: &[String]) -> Markup {
    html! {
        h2 { "What-if results" }
        @if names.is_empty() {
            p { "None kept on this server. " code { "comity whatif --baseline PACKS --proposal PACKS --history … --html FILE" }
                " writes one; put it in the directory " code { "comity serve --whatif-dir" } " names." }
        } @else {
            ul.whatifs { @for n in names { li { a href={ "/reports/whatif/" (n) } { (n) } } } }
        }
    }
}

/// `GET /reports/whatif/{file}`: a what-if result, as `comity whatif --html` wrote it.
pub(crate) async fn whatif(
    State(state): State<AppState>,
    signed: Signed,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    if let Some(refused) = refusal(&state, &signed) {
        return refused;
    }
    let page = match state.whatif_dir().filter(|_| is_result_name(&name)) {
        Some(dir) => tokio::fs::read_to_string(dir.join(&name)).await.ok(),
        None => None,
    };
    match page {
        Some(page) => standalone(page),
        None => {
            let e = ApiError::not_found("file", format!("no what-if result `{name}`"));
            PageError::new(&state, &signed, e).into_response()
        }
    }
}

/// A page that stands alone (a report, a what-if result): its style inline, its charts SVG,
/// no script, no form.
fn standalone(page: String) -> Response {
    let mut response = Html(page).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// `GET /reports/view`: the report, or the form again naming the field at fault.
pub(crate) async fn view(
    State(state): State<AppState>,
    signed: Signed,
    Query(asked): Query<Asked>,
) -> Response {
    if let Some(refused) = refusal(&state, &signed) {
        return refused;
    }
    let (definition, from, to) = match read(state.reports(), &asked) {
        Ok(read) => read,
        Err(e) => {
            let content = form(state.reports(), &asked, Some(&e));
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(&state, "Reports", Some(&signed), content),
            )
                .into_response();
        }
    };
    match computed(&state, definition, from, to).await {
        Ok(page) => standalone(page),
        Err(e) => PageError::new(&state, &signed, e).into_response(),
    }
}

/// The page refusing the signed-in role when it does not read the ledger, which reports are
/// computed from.
fn refusal(state: &AppState, signed: &Signed) -> Option<Response> {
    state
        .authorize(&signed.caller, ApiAction::ReadLedger, "/reports", false)
        .err()
        .map(|e| PageError::new(state, signed, e).into_response())
}

/// The report's definition and period, each field checked.
fn read<'d>(
    reports: &'d [Definition],
    asked: &Asked,
) -> Result<(&'d Definition, Date, Date), ApiError> {
    let definition = reports
        .iter()
        .find(|d| d.kind == asked.kind.trim())
        .ok_or_else(|| {
            let known: Vec<&str> = reports.iter().map(|d| d.kind.as_str()).collect();
            ApiError::input(
                "kind",
                format!(
                    "`{}` is not a report (known: {})",
                    asked.kind.trim(),
                    known.join(", ")
                ),
            )
        })?;
    let day = |field: &str, text: &str| {
        text.trim().parse::<Date>().map_err(|_| {
            ApiError::input(
                field,
                format!("`{}` is not a date (YYYY-MM-DD)", text.trim()),
            )
        })
    };
    let (from, to) = (day("from", &asked.from)?, day("to", &asked.to)?);
    if from > to {
        return Err(ApiError::input(
            "from",
            format!("`{from}` is after the last day `{to}`"),
        ));
    }
    Ok((definition, from, to))
}

/// The report's page, computed at a checkpoint signed now.
async fn computed(
    state: &AppState,
    definition: &Definition,
    from: Date,
    to: Date,
) -> Result<String, ApiError> {
    let store = &state.inner.store;
    let checkpoint = store.sign_checkpoint(&state.inner.signer).await?;
    let report = comity_report::compute(store, definition, from, to, checkpoint)
        .await
        .map_err(|e| match e {
            ComputeError::Store(e) => e.into(),
            ComputeError::Entry(e) => ApiError::internal(format!("TAMPERED: {e}")),
        })?;
    Ok(comity_report::html(&report))
}

fn form(reports: &[Definition], asked: &Asked, error: Option<&ApiError>) -> Markup {
    html! {
        p { "Each report counts what the ledger records, at a checkpoint signed when it is computed; every figure names the entries it counts ("
            code { "comity report KIND --format json" } ", and " code { "comity report verify" } " re-derives and proves each one)." }
        @if let Some(e) = error {
            p.error role="alert" { strong { (e.field) } ": " (e.message) }
        }
        form.filter method="get" action="/reports/view" {
            label { "Report "
                select name="kind" {
                    @for d in reports {
                        option value=(d.kind) selected[asked.kind == d.kind] { (d.title) }
                    }
                }
            }
            label { "From " input name="from" value=(asked.from) placeholder="YYYY-MM-DD" inputmode="numeric"; }
            label { "To " input name="to" value=(asked.to) placeholder="YYYY-MM-DD" inputmode="numeric"; }
            button type="submit" { "Compute" }
        }
        @if reports.is_empty() {
            p.empty { "This server was started without report definitions." }
        } @else {
            table {
                thead { tr { th scope="col" { "Report" } th scope="col" { "Statute" } th scope="col" { "Reading" } } }
                tbody { @for d in reports { tr {
                    td { code { (d.kind) } " " (d.title) }
                    td { (d.citation) }
                    td { (d.confidence) }
                } } }
            }
        }
    }
}
