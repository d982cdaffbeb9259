//! A report as a terminal table, as CSV, and as one self-contained HTML page with SVG
//! charts. (JSON is the report itself, serialized.)

use std::fmt::Write;

use maud::{DOCTYPE, Markup, PreEscaped, html as markup};

use crate::chart;
use crate::compute::{Figure, Report};

/// The report as text for a terminal: each figure with its count (or why it is not
/// derived), its breakdowns indented below it.
pub fn table(report: &Report) -> String {
    let d = &report.definition;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}; {})", d.title, d.citation, d.confidence);
    let _ = writeln!(
        out,
        "{} to {}: {} decided requests in scope; computed at the signed checkpoint of {} ledger entries",
        report.from, report.to, report.requests, report.checkpoint.size
    );
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let id = report
        .figures
        .iter()
        .map(|f| f.id.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let indent = " ".repeat(id + 10);
    for f in &report.figures {
        let count = f.count.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<id$} {count:>7}  {} [{}]",
            f.id, f.label, f.citation
        );
        if let Some(why) = &f.not_derived {
            let _ = writeln!(out, "{indent}not derived: {why}");
        }
        for b in &f.breakdowns {
            let _ = writeln!(out, "{indent}by {}:", b.by.replace('+', " and "));
            for cell in &b.cells {
                let _ = writeln!(out, "     {:>7}    {}", cell.count, cell.bucket.join(", "));
            }
            if b.unclassified.count > 0 {
                let n = b.unclassified.count;
                let _ = writeln!(out, "     {n:>7}    (the decision did not record which)");
            }
        }
    }
    out
}

/// The report as CSV: one row per figure and one per breakdown cell, with the columns
/// `figure,label,citation,breakdown,bucket,count,not_derived`.
pub fn csv(report: &Report) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let mut row = |fields: [&str; 7]| writer.write_record(fields).expect("writing to memory");
    row([
        "figure",
        "label",
        "citation",
        "breakdown",
        "bucket",
        "count",
        "not_derived",
    ]);
    for f in &report.figures {
        let count = f.count.map(|n| n.to_string()).unwrap_or_default();
        let why = f.not_derived.as_deref().unwrap_or("");
        row([&f.id, &f.label, &f.citation, "", "", &count, why]);
        for b in &f.breakdowns {
            let unclassified = ("(not recorded)".to_owned(), b.unclassified.count);
            let cells = b.cells.iter().map(|c| (c.bucket.join(" / "), c.count));
            for (bucket, n) in cells.chain(std::iter::once(unclassified)) {
                row([
                    &f.id,
                    &f.label,
                    &f.citation,
                    &b.by,
                    &bucket,
                    &n.to_string(),
                    "",
                ]);
            }
        }
    }
    let bytes = writer.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("the fields are UTF-8")
}

/// The report as one self-contained HTML page: its figures, and charts of the monthly
/// series, the outcomes by act and the rules that decided.
pub fn html(report: &Report) -> String {
    let d = &report.definition;
    let series: Vec<_> = report
        .figures
        .iter()
        .filter(|f| f.count.is_some_and(|n| n > 0))
        .take(8)
        .map(|f| (format!("item {}", f.id), f.months.clone()))
        .collect();
    let outcomes: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| (o.act.to_string(), o.outcome, o.count))
        .collect();
    let reasons: Vec<_> = report
        .reasons
        .iter()
        .map(|r| (format!("{} ({}, {})", r.rule, r.act, r.outcome), r.count))
        .collect();
    let title = format!("{}, {} to {}", d.title, report.from, report.to);
    let body = markup! {
                h1 { (d.title) }
                p { (d.citation) " (" (d.confidence) "). " (report.from) " to " (report.to)
                    ": " (report.requests) " decided requests in scope." }
                @for w in &report.warnings { p.warning { "Warning: " (w) } }
                table {
                    thead { tr { th { "Item" } th { "What is counted" } th { "Count" } th { "Provision" } } }
                    tbody { @for f in &report.figures { (figure_rows(f)) } }
                }
                h2 { "Charts" }
                figure { (PreEscaped(chart::monthly("Requests counted, by month", &series))) }
                figure { (PreEscaped(chart::outcomes("Outcome by act", &outcomes))) }
                figure { (PreEscaped(chart::ranked("The rules that decided", &reasons))) }
                h2 { "How to check it" }
                p { "Every figure lists, in the JSON form of this report, the ledger entries it counts. "
                    "Computed at the signed checkpoint below; " code { "comity report verify" }
                    " re-derives each figure from those entries and checks their inclusion proofs against it." }
                pre { (report.checkpoint.note) }
                p { "Definition SHA-256: " code { (report.definition_sha256) } }
    };
    page(&title, STYLE, body)
}

/// One self-contained HTML page: `title`, `style` inline, and `body`.
pub fn page(title: &str, style: &str, body: Markup) -> String {
    markup! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(style)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// A figure's row, and one row per breakdown cell.
fn figure_rows(f: &Figure) -> Markup {
    markup! {
        tr {
            td { (f.id) }
            td { (f.label) }
            td.count {
                @if let Some(n) = f.count { (n) }
                @else if let Some(why) = &f.not_derived { em { "not derived: " (why) } }
            }
            td { (f.citation) }
        }
        @for b in &f.breakdowns {
            @for cell in &b.cells {
                tr.cell { td {} td { "by " (b.by.replace('+', " and ")) ": " (cell.bucket.join(", ")) }
                          td.count { (cell.count) } td {} }
            }
            @if b.unclassified.count > 0 {
                tr.cell { td {} td { "by " (b.by.replace('+', " and ")) ": the decision did not record which" }
                          td.count { (b.unclassified.count) } td {} }
            }
        }
    }
}

/// The style of every page of reports and what-if runs: readable on a narrow screen and
/// printed.
pub const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}\
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}\
td.count{text-align:right;font-variant-numeric:tabular-nums}tr.cell td{color:#333;font-size:.92em}\
.warning{background:#fff3cd;padding:.5rem}figure{margin:1rem 0;overflow-x:auto}svg{max-width:100%;height:auto}\
pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}@media print{figure{break-inside:avoid}}";
