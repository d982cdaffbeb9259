//! `comity whatif`: a proposed law replayed over a history. Every request of the history is
//! decided under the law as it is (`--baseline`) and as proposed (`--proposal`), both
//! ordinary pack directories; what differs is counted by act and outcome, listed case by
//! case with the rules and citations on each side, and by month. A council's draft amendment
//! is a copy of a pack directory with a rule changed: testable before it is law.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use clap::Args;
use comity_model::{ActDecision, Decision, Outcome, Request};
use comity_policy::Engine;
use rayon::prelude::*;
use serde::Serialize;

use crate::{Failure, outln};

/// How many lines of history are decided at once: memory stays that of one chunk.
const CHUNK: usize = 8192;

/// `comity whatif`.
#[derive(Args)]
pub struct WhatifArgs {
    /// The law as it is: a pack directory.
    #[arg(long)]
    baseline: PathBuf,
    /// The law proposed: a pack directory.
    #[arg(long)]
    proposal: PathBuf,
    /// The offense catalogs, for both [default: catalog/ beside the baseline].
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// The history: requests as JSON lines (as `comity synth` writes them), `-` for
    /// standard input, or a comity database (`sqlite:PATH` or a `postgres://` URL), whose
    /// recorded requests are replayed in ledger order.
    #[arg(long)]
    history: String,
    /// How many changed cases to list; every one is counted.
    #[arg(long, default_value_t = 50)]
    changed: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the result as one self-contained HTML page with SVG charts to this file.
    #[arg(long)]
    html: Option<PathBuf>,
}

/// Acts by outcome, as `act → outcome → count`.
type Counts = BTreeMap<String, BTreeMap<Outcome, u64>>;

/// What the replay found.
#[derive(Debug, Default, Serialize)]
struct Replay {
    /// Requests replayed.
    requests: u64,
    /// Acts by outcome under the baseline.
    baseline: Counts,
    /// Acts by outcome under the proposal.
    proposal: Counts,
    /// Acts decided otherwise (another outcome), in all.
    changed_acts: u64,
    /// Acts decided alike but with other limits (deadline, notices, approvals, disclosures).
    changed_limits: u64,
    /// Requests one law decided and the other refused (or both refused).
    refused: u64,
    /// The first changed cases, in history order.
    changed: Vec<Change>,
    /// By month of receipt: requests and acts decided otherwise.
    months: BTreeMap<String, Month>,
    /// The rule that decides each act decided otherwise under the proposal, and how often.
    changed_rules: BTreeMap<String, u64>,
}

/// One act a request asked that the two laws decide otherwise.
#[derive(Debug, Serialize)]
struct Change {
    /// The request.
    request: String,
    /// The act (`every act` when a law refused the request).
    act: String,
    /// What differs: `outcome`, `limits`, or `refused` (a law could not decide the request).
    what: String,
    /// The baseline's outcome (or limits, or `decided`/`refused`).
    baseline: String,
    /// The proposal's.
    proposal: String,
    /// The rules that decided it under the baseline, each with its citation.
    baseline_rules: Vec<String>,
    /// The rules that decide it under the proposal.
    proposal_rules: Vec<String>,
}

/// One month of the replay.
#[derive(Debug, Default, Serialize)]
struct Month {
    /// Requests received that month.
    requests: u64,
    /// Acts decided otherwise (outcome or limits), or refused by one law.
    changed_acts: u64,
}

/// Replays the history under both laws and prints what differs.
pub fn whatif(args: WhatifArgs) -> Result<(), Failure> {
    let (baseline, proposal) = crate::two_laws(
        [&args.baseline, &args.proposal],
        args.catalog.as_deref(),
        ["--baseline", "--proposal"],
    )?;
    let mut source = Source::open(&args.history)?;
    let replay = replay(&mut source, &baseline, &proposal, args.changed)?;
    if let Some(path) = &args.html {
        std::fs::write(path, html(&args, &replay))
            .map_err(|e| Failure::Finding(format!("error: writing {}: {e}", path.display())))?;
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&replay).expect("replays serialize")
        );
    } else {
        print_text(&replay);
    }
    Ok(())
}

/// Where the history comes from: JSON lines, or the requests recorded in a database.
enum Source {
    /// Lines of a file or of standard input, numbered from 1 (blank lines skipped).
    Lines(Box<dyn Iterator<Item = (usize, std::io::Result<Vec<u8>>)>>),
    /// A comity database's decision entries, read a page ahead of the replay.
    Store {
        pages: comity_store::DecisionPages,
        /// Runs the reading; kept for as long as the pages are read.
        _runtime: tokio::runtime::Runtime,
    },
}

impl Source {
    /// The source `history` names.
    fn open(history: &str) -> Result<Source, Failure> {
        let database = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| history.starts_with(p));
        if database {
            crate::store::must_exist("--history", history)?;
            let runtime = crate::store::runtime()?;
            let pages = runtime.block_on(async {
                let store = comity_store::Store::open(history)
                    .await
                    .map_err(|e| Failure::Input(format!("--history {history}: {e}")))?;
                let size = store.size().await.map_err(crate::store::store_error)?;
                Ok::<_, Failure>(store.decision_pages(size, CHUNK))
            })?;
            return Ok(Source::Store {
                pages,
                _runtime: runtime,
            });
        }
        let reader: Box<dyn BufRead> = if history == "-" {
            Box::new(BufReader::new(std::io::stdin().lock()))
        } else {
            let file = std::fs::File::open(history)
                .map_err(|e| Failure::Input(format!("--history {history}: {e}")))?;
            Box::new(BufReader::new(file))
        };
        let lines = reader
            .split(b'\n')
            .enumerate()
            .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim_ascii().is_empty()))
            .map(|(i, l)| (i + 1, l));
        Ok(Source::Lines(Box::new(lines)))
    }

    /// The next requests, at most [`CHUNK`], each with where it is (`line N`, `entry N`);
    /// empty at the end.
    fn chunk(&mut self) -> Result<Vec<(String, Vec<u8>)>, Failure> {
        match self {
            Source::Lines(lines) => lines
                .by_ref()
                .take(CHUNK)
                .map(|(n, l)| l.map(|l| (format!("line {n}"), l)))
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::Input(format!("--history: {e}"))),
            Source::Store { pages, .. } => Ok(pages
                .blocking_recv()
                .transpose()
                .map_err(crate::store::store_error)?
                .unwrap_or_default()
                .into_iter()
                .map(|row| (format!("entry {}", row.index), row.request.into_bytes()))
                .collect()),
        }
    }
}

/// Reads the history chunk by chunk, decides each chunk's requests under both laws on every
/// core, and tallies them in history order. A request that does not validate stops the
/// replay, naming the first such line; a request one law cannot decide is counted and listed.
fn replay(
    source: &mut Source,
    baseline: &Engine,
    proposal: &Engine,
    list: usize,
) -> Result<Replay, Failure> {
    let mut replay = Replay::default();
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("replaying {pos} requests ({per_sec})")
            .expect("static template"),
    );
    loop {
        let chunk = source.chunk()?;
        if chunk.is_empty() {
            break;
        }
        // In order: the first bad line is the one named, however the cores interleave.
        let decided: Vec<Result<Decided, Failure>> = chunk
            .par_iter()
            .map(|(at, line)| decide_both(at, line, baseline, proposal))
            .collect();
        for d in decided {
            replay.tally(&d?, list);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(replay)
}

/// A request of the history, and what each law made of it (or why it could not decide it).
struct Decided {
    request: Request,
    baseline: Result<Decision, String>,
    proposal: Result<Decision, String>,
}

/// The request at `place` in the history, decided under both laws; a line that is not a
/// request is named by its place.
fn decide_both(
    place: &str,
    line: &[u8],
    baseline: &Engine,
    proposal: &Engine,
) -> Result<Decided, Failure> {
    let at = |what: String| Failure::Input(format!("--history {place}: {what}"));
    let text = std::str::from_utf8(line).map_err(|e| at(format!("not UTF-8: {e}")))?;
    let request = Request::from_json(text).map_err(|e| at(e.to_string()))?;
    Ok(Decided {
        baseline: baseline.decide(&request).map_err(|e| e.to_string()),
        proposal: proposal.decide(&request).map_err(|e| e.to_string()),
        request,
    })
}

impl Replay {
    /// Counts one request's decisions under both laws.
    fn tally(&mut self, d: &Decided, list: usize) {
        self.requests += 1;
        let month = d
            .request
            .received_at
            .timestamp()
            .strftime("%Y-%m")
            .to_string();
        let changed = self.decisions(d, list);
        let m = self.months.entry(month).or_default();
        m.requests += 1;
        m.changed_acts += changed;
    }

    /// Counts the decisions of one request under both laws, listing what differs; answers
    /// how many acts differ.
    fn decisions(&mut self, d: &Decided, list: usize) -> u64 {
        let (old, new) = match (&d.baseline, &d.proposal) {
            (Ok(old), Ok(new)) => (old, new),
            (old, new) => {
                self.refused += 1;
                let why = |side: &Result<Decision, String>| match side {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![format!("refused: {e}")],
                };
                let outcome = |side: &Result<Decision, String>| {
                    if side.is_ok() { "decided" } else { "refused" }.to_owned()
                };
                self.list(
                    list,
                    Change {
                        request: d.request.id.clone(),
                        act: "every act".into(),
                        what: "refused".into(),
                        baseline: outcome(old),
                        proposal: outcome(new),
                        baseline_rules: why(old),
                        proposal_rules: why(new),
                    },
                );
                return d.request.acts.len() as u64;
            }
        };
        let mut changed = 0;
        for (a, b) in old.acts.iter().zip(&new.acts) {
            count(&mut self.baseline, a);
            count(&mut self.proposal, b);
            let what = if a.outcome != b.outcome {
                self.changed_acts += 1;
                if let Some(r) = b.reasons.first() {
                    *self.changed_rules.entry(r.rule.clone()).or_default() += 1;
                }
                "outcome"
            } else if a.limits != b.limits {
                self.changed_limits += 1;
                "limits"
            } else {
                continue;
            };
            changed += 1;
            let side = |x: &ActDecision| match what {
                "outcome" => x.outcome.as_str().to_owned(),
                _ => limits(x),
            };
            self.list(
                list,
                Change {
                    request: d.request.id.clone(),
                    act: a.act.as_str().to_owned(),
                    what: what.into(),
                    baseline: side(a),
                    proposal: side(b),
                    baseline_rules: rules(a),
                    proposal_rules: rules(b),
                },
            );
        }
        changed
    }

    /// Lists a change, while fewer than `list` are listed.
    fn list(&mut self, list: usize, change: Change) {
        if self.changed.len() < list {
            self.changed.push(change);
        }
    }
}

/// An act's limits in words: `hold_until`, notices, approvals and what it may disclose.
fn limits(act: &ActDecision) -> String {
    let words: Vec<String> = act
        .limits
        .iter()
        .map(|l| {
            let mut parts = Vec::new();
            if let Some(at) = l.hold_until {
                parts.push(format!(
                    "hold until {at}{}",
                    if l.binding { " (binding)" } else { "" }
                ));
            }
            if !l.notice.is_empty() {
                parts.push(format!("notice to {}", l.notice.join(", ")));
            }
            if let Some(a) = &l.approval {
                parts.push(format!("approval of the {a}"));
            }
            if !l.discloses.is_empty() {
                let fields: Vec<&str> = l.discloses.iter().map(|f| f.as_str()).collect();
                parts.push(format!("discloses {}", fields.join(", ")));
            }
            format!("{} [{}]", parts.join("; "), l.rule)
        })
        .collect();
    words.join(" | ")
}

fn count(counts: &mut Counts, act: &ActDecision) {
    *counts
        .entry(act.act.as_str().to_owned())
        .or_default()
        .entry(act.outcome)
        .or_default() += 1;
}

/// The rules that decided an act, each as `rule (citation)`.
fn rules(act: &ActDecision) -> Vec<String> {
    act.reasons
        .iter()
        .map(|r| format!("{} ({})", r.rule, r.citation))
        .collect()
}

fn print_text(r: &Replay) {
    outln!(
        "{} requests replayed; {} acts decided otherwise, {} with other limits, {} requests refused by a law",
        r.requests,
        r.changed_acts,
        r.changed_limits,
        r.refused
    );
    outln!(
        "{:<20} {:>28}   {:>28}",
        "act",
        "baseline req/perm/forb",
        "proposal req/perm/forb"
    );
    for (act, old) in &r.baseline {
        let new = r.proposal.get(act).cloned().unwrap_or_default();
        let three = |c: &BTreeMap<Outcome, u64>| {
            let n = |o: Outcome| c.get(&o).copied().unwrap_or_default();
            format!(
                "{}/{}/{}",
                n(Outcome::Required),
                n(Outcome::Permitted),
                n(Outcome::Forbidden)
            )
        };
        outln!("{act:<20} {:>28}   {:>28}", three(old), three(&new));
    }
    if !r.changed.is_empty() {
        outln!(
            "\nchanged cases (the first {} of {}):",
            r.changed.len(),
            r.changed_acts
        );
        for c in &r.changed {
            outln!(
                "{}\t{}\t{} -> {}\n\tbaseline: {}\n\tproposal: {}",
                c.request,
                c.act,
                c.baseline,
                c.proposal,
                c.baseline_rules.join("; "),
                c.proposal_rules.join("; ")
            );
        }
    }
    outln!("\nby month: requests, acts decided otherwise");
    for (month, m) in &r.months {
        outln!("{month}\t{}\t{}", m.requests, m.changed_acts);
    }
}

/// The replay as one self-contained HTML page: the counts on each side, the changed cases,
/// and charts (by month, outcomes by act on each side, the rules deciding the changes).
fn html(args: &WhatifArgs, r: &Replay) -> String {
    use maud::{PreEscaped, html};
    let title = format!(
        "What if: {} instead of {}",
        args.proposal.display(),
        args.baseline.display()
    );
    let body = html! {
                h1 { (title) }
                p { "History: " code { (args.history) } ". " (r.requests) " requests replayed; "
                    (r.changed_acts) " acts decided otherwise, " (r.changed_limits)
                    " with other limits, " (r.refused) " requests refused by a law." }
                table {
                    thead { tr { th { "Act" } th { "Outcome" } th { "Baseline" } th { "Proposal" } } }
                    tbody {
                        @for (act, old) in &r.baseline {
                            @for (outcome, n) in old {
                                tr { td { (act) } td { (outcome) } td.count { (n) }
                                     td.count { (r.proposal.get(act).and_then(|p| p.get(outcome)).copied().unwrap_or(0)) } }
                            }
                        }
                    }
                }
                h2 { "Charts" }
                @for svg in charts(r) { figure { (PreEscaped(svg)) } }
                h2 { "Changed cases (the first " (r.changed.len()) ")" }
                table {
                    thead { tr { th { "Request" } th { "Act" } th { "Baseline" } th { "Proposal" } } }
                    tbody {
                        @for c in &r.changed {
                            tr {
                                td { (c.request) } td { (c.act) }
                                td { (c.baseline) br; small { (c.baseline_rules.join("; ")) } }
                                td { (c.proposal) br; small { (c.proposal_rules.join("; ")) } }
                            }
                        }
                    }
                }
    };
    comity_report::page(&title, comity_report::STYLE, body)
}

/// The replay's charts, as SVG: by month, the outcomes by act on each side, and the rules
/// deciding the acts decided otherwise.
fn charts(r: &Replay) -> [String; 4] {
    use comity_report::chart;
    let months = |pick: fn(&Month) -> u64| -> BTreeMap<String, u64> {
        r.months.iter().map(|(m, x)| (m.clone(), pick(x))).collect()
    };
    let series = [
        ("requests".to_owned(), months(|m| m.requests)),
        (
            "acts decided otherwise".to_owned(),
            months(|m| m.changed_acts),
        ),
    ];
    let outcomes = |counts: &Counts| -> Vec<(String, Outcome, u64)> {
        counts
            .iter()
            .flat_map(|(act, by)| by.iter().map(|(o, n)| (act.clone(), *o, *n)))
            .collect()
    };
    let rules: Vec<(String, u64)> = r
        .changed_rules
        .iter()
        .map(|(rule, n)| (rule.clone(), *n))
        .collect();
    [
        chart::monthly("By month", &series),
        chart::outcomes("Outcome by act: baseline", &outcomes(&r.baseline)),
        chart::outcomes("Outcome by act: proposal", &outcomes(&r.proposal)),
        chart::ranked(
            "The rules deciding the acts decided otherwise (proposal)",
            &rules,
        ),
    ]
}
