//! The law in the packs as pages a lawyer reads (`comity packs render`, and the console's
//! law pages): one self-contained HTML page per pack version, in the manner of a literate
//! program: each paragraph of the statute beside the rules that encode it, their
//! summaries and cautions, and their test cases; what changed from the version before is
//! marked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use comity_policy::{
    CaseSummary, Pack, PackSet, Paragraph, Rule, StatuteFile, case_summaries, jurisdiction_path,
};
use maud::{Markup, html};

/// How a rule or file stands to the version before.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Not in the version before.
    New,
    /// Written anew by this version.
    Changed,
    /// As the version before had it.
    Same,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::New => "new in this version",
            Change::Changed => "changed in this version",
            Change::Same => "unchanged",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Change::New => "mark new",
            Change::Changed => "mark changed",
            Change::Same => "mark same",
        }
    }
}

/// Writes the page of every version of `packs` (or only those `chosen`) under `out`, and an
/// index; answers the pages written.
pub fn render_all(
    packs: &PackSet,
    chosen: &dyn Fn(&Pack) -> bool,
    out: &Path,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for pack in packs.packs().iter().filter(|p| chosen(p)) {
        let path = out.join(page_path(pack));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, version_page(packs, pack))?;
        written.push(path);
    }
    let index = out.join("index.html");
    std::fs::write(&index, index_page(packs, chosen))?;
    written.push(index);
    Ok(written)
}

/// Where a version's page goes, under the output directory (or the console's `/packs/`).
pub fn page_path(pack: &Pack) -> PathBuf {
    jurisdiction_path(&pack.manifest.jurisdiction)
        .join(format!("{}.html", pack.manifest.effective_from))
}

/// The pages' style sheet, inline (each page stands alone).
pub const LAW_STYLE: &str = "
body{font:16px/1.5 Georgia,serif;color:#111;background:#fff;margin:0 auto;max-width:80rem;padding:1rem}
h1,h2,h3{font-family:system-ui,sans-serif;line-height:1.2}
code,pre{font:13px/1.4 ui-monospace,monospace}
pre{background:#f4f4f4;padding:.5rem;overflow-x:auto;white-space:pre-wrap}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem;border-top:1px solid #ccc;padding:1rem 0}
@media (max-width:50rem){.pair{grid-template-columns:1fr}}
.statute blockquote{margin:0;padding-left:1rem;border-left:4px solid #555}
.paraphrase{font-style:italic;color:#333;border-left:4px dashed #999;padding-left:1rem}
.rule{border:1px solid #bbb;border-radius:4px;padding:.5rem 1rem;margin-bottom:1rem}
.mark{font:12px system-ui,sans-serif;padding:1px 6px;border-radius:3px;margin-left:.5rem}
.new{background:#dff0d8;border:1px solid #3c763d}.changed{background:#fcf8e3;border:1px solid #8a6d3b}.same{background:#eee;border:1px solid #999}
.caution{background:#fff3cd;padding:.25rem .5rem}
.unverified{color:#a94442;font-weight:bold}
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
@media print{.pair{grid-template-columns:1fr 1fr}details{display:block}pre{white-space:pre-wrap}}
";

/// The page of one version of `packs`, marked against the version before it, if any.
pub fn version_page(packs: &PackSet, pack: &Pack) -> String {
    let before = packs
        .versions(&pack.manifest.jurisdiction)
        .take_while(|p| p.from < pack.from)
        .last();
    let cases = case_summaries(pack);
    let m = &pack.manifest;
    let body = html! {
        (header(pack, before))
        main {
            @for file in &pack.rule_files {
                (rule_file(pack, before, &file.file.name, &cases))
            }
            (repealed(pack, before))
        }
    };
    crate::page(
        &format!("{} — {}", m.title, m.effective_from),
        LAW_STYLE,
        body,
    )
}

fn header(pack: &Pack, before: Option<&Pack>) -> Markup {
    let m = &pack.manifest;
    html! {
        header {
            h1 { (m.title) }
            p {
                code { (pack.id) } " · in force from " (m.effective_from)
                @if let Some(u) = pack.until_day() { " until " (u) }
                " · confidence " strong { (m.confidence) }
                @if pack.signature.is_some() { " · a release file (pack.sig) is present: check it with comity packs verify" } @else { " · not signed" }
            }
            p { "Digest " code { (pack.sha256) } }
            @if let (Some(d), Some(_)) = (m.amends, before) {
                p { "Amends the version of " (d) ": only what it changed is written in it; everything else is inherited, as marked below." }
            }
            @if let Some(d) = m.supersedes { p { "Supersedes the version of " (d) " whole." } }
            @if let Some(note) = &m.note { details open { summary { "Note for the reviewer" } pre { (note) } } }
            h2 { "Sources" }
            ul { @for s in &m.sources { li { (s.citation) @if let Some(u) = &s.url { " — " a href=(u) { (u) } } } } }
            nav { h2 { "Rule files" } ul { @for f in &pack.rule_files { li { a href={ "#" (f.file.name) } { (f.file.name) } } } } }
        }
    }
}

/// One rule file: its statute's paragraphs, each beside the rules that encode it.
fn rule_file(pack: &Pack, before: Option<&Pack>, name: &str, cases: &[CaseSummary]) -> Markup {
    let file = pack.rule_files.iter().find(|f| f.file.name == name);
    let change = match (
        file,
        before.and_then(|b| b.rule_files.iter().find(|f| f.file.name == name)),
    ) {
        (_, None) => Change::New,
        (Some(f), Some(b)) if f.text == b.text => Change::Same,
        _ => Change::Changed,
    };
    let rules = pack.rules_in(name);
    let statute = pack.statutes.iter().find(|s| s.rule_file() == name);
    let placed: Vec<&str> = statute
        .iter()
        .flat_map(|s| &s.statute.paragraphs)
        .flat_map(|p| p.rules.iter().map(String::as_str))
        .collect();
    let unplaced: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| !placed.contains(&r.id.as_str()))
        .collect();
    let rule_card = |r: &Rule| rule(pack, before, r, cases);
    html! {
        section id=(name) {
            h2 { (name) span class=(change.class()) { (change.word()) }
                @if file.is_some_and(|f| f.file.written_in != pack.manifest.effective_from) {
                    span class="mark same" { "as written in the version of " (file.map(|f| f.file.written_in.to_string()).unwrap_or_default()) }
                }
            }
            @match statute {
                Some(s) => {
                    (statute_header(s))
                    @for p in &s.statute.paragraphs {
                        div class="pair" {
                            div class="statute" { (paragraph(s, p)) }
                            div class="rules" { @for id in &p.rules { @if let Some(r) = pack.rules.get(id) { (rule_card(r)) } } }
                        }
                    }
                }
                None => { p class="unverified" { "The text of the law this file encodes is not given beside it: not verified here." } }
            }
            @if !unplaced.is_empty() {
                div class="pair" {
                    div class="statute" { p class="paraphrase" { "No paragraph of the statute text is matched to these rules; read their citations." } }
                    div class="rules" { @for r in &unplaced { (rule_card(r)) } }
                }
            }
        }
    }
}

fn statute_header(s: &StatuteFile) -> Markup {
    let st = &s.statute;
    html! {
        p {
            strong { (st.section) } ", as in force on " (st.in_force_on) ". Source: " (st.source)
            @if let Some(u) = &st.url { " (" a href=(u) { (u) } ")" }
            @match st.read_on { Some(d) => { "; read on " (d) "." }, None => { "; the day it was read is not recorded." } }
            " Wording: " strong { (st.wording) } "; confidence " strong { (st.confidence) } "."
        }
        @if let Some(n) = &st.note { p class="caution" { (n) } }
    }
}

fn paragraph(s: &StatuteFile, p: &Paragraph) -> Markup {
    html! {
        h3 { (s.statute.section) " " (p.reference) }
        @if p.is_verbatim(s.statute.wording) {
            blockquote { @for line in p.text.trim().split("\n\n") { p { (line) } } }
        } @else {
            div class="paraphrase" { p { "Paraphrase, not the statute's words:" } @for line in p.text.trim().split("\n\n") { p { (line) } } }
        }
    }
}

/// One rule: what it says, how it stands to the version before, its Cedar and its cases.
fn rule(pack: &Pack, before: Option<&Pack>, r: &Rule, cases: &[CaseSummary]) -> Markup {
    let text = pack.rule_text(&r.id).unwrap_or_default();
    let change = match before.map(|b| b.rule_text(&r.id)) {
        None | Some(None) => Change::New,
        Some(Some(old)) if old == text => Change::Same,
        Some(Some(_)) => Change::Changed,
    };
    let mine: Vec<&CaseSummary> = cases.iter().filter(|c| c.rule == r.id).collect();
    html! {
        div class="rule" id=(r.id) {
            h3 { code { (r.effect_word()) " " (r.id) } span class=(change.class()) { (change.word()) } }
            p { strong { (r.citation) } }
            p { (r.summary) }
            @for e in &r.exceptions { p { "Unless: " (e) } }
            p { em { "Instruction: " } (r.instruction) }
            @if let Some(c) = &r.caution { p class="caution" { strong { "Caution: " } (c) } }
            details { summary { "Cedar" } pre { (text) } }
            @if !mine.is_empty() {
                table {
                    caption { "Test cases" }
                    tr { th { "case" } th { "kind" } th { "expects" } th { "file" } }
                    @for c in &mine {
                        tr {
                            td { (c.name) } td { (c.kind) }
                            td { @for (act, outcome) in &c.expect { (act) ": " (outcome) " " } }
                            td { (c.file) @if c.written_in != pack.manifest.effective_from { " (inherited from " (c.written_in) ", run moved into this version)" } }
                        }
                    }
                }
            }
        }
    }
}

/// The rule files of the version before that this one no longer has.
fn repealed(pack: &Pack, before: Option<&Pack>) -> Markup {
    let gone: Vec<&str> = before
        .into_iter()
        .flat_map(|b| &b.rule_files)
        .map(|f| f.file.name.as_str())
        .filter(|n| !pack.rule_files.iter().any(|f| f.file.name == *n))
        .collect();
    html! {
        @if !gone.is_empty() {
            section { h2 { "Repealed by this version" } ul { @for g in gone { li { (g) } } } }
        }
    }
}

/// The index of the pages, by jurisdiction.
fn index_page(packs: &PackSet, chosen: &dyn Fn(&Pack) -> bool) -> String {
    let mut by: BTreeMap<String, Vec<&Pack>> = BTreeMap::new();
    for p in packs.packs().iter().filter(|p| chosen(p)) {
        by.entry(p.manifest.jurisdiction.to_string())
            .or_default()
            .push(p);
    }
    let body = html! {
        h1 { "The law in comity's packs" }
        @for (j, versions) in &by {
            h2 { code { (j) } }
            ul { @for p in versions { li { a href=(page_path(p).display().to_string()) { (p.manifest.effective_from) " — " (p.manifest.title) } " (" (p.manifest.confidence) ")" } } }
        }
    };
    crate::page("comity: the law in its packs", LAW_STYLE, body)
}
