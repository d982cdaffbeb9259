//! `comity whatif`: a proposed law replayed over a history. Every request of the history is
//! decided under the law as it is (`--baseline`) and as proposed (`--proposal`), both
//! ordinary pack directories; what differs is counted by act and outcome, listed case by
//! case with the rules and citations on each side, and by month. A council's draft amendment
//! is a copy of a pack directory with a rule changed: testable before it is law.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use clap::Args;
use comity_model::{ActDecision, Decision, Request};
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
    /// The history: requests as JSON lines (as `comity synth` writes them), or `-` for
    /// standard input.
    #[arg(long)]
    history: PathBuf,
    /// How many changed cases to list; every one is counted.
    #[arg(long, default_value_t = 50)]
    changed: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Acts by outcome, as `act → outcome → count`.
type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// What the replay found.
#[derive(Debug, Default, Serialize)]
struct Replay {
    /// Requests replayed.
    requests: u64,
    /// Acts by outcome under the baseline.
    baseline: Counts,
    /// Acts by outcome under the proposal.
    proposal: Counts,
    /// Acts decided otherwise, in all.
    changed_acts: u64,
    /// The first changed cases, in history order.
    changed: Vec<Change>,
    /// By month of receipt: requests and acts decided otherwise.
    months: BTreeMap<String, Month>,
}

/// One act a request asked that the two laws decide otherwise.
#[derive(Debug, Serialize)]
struct Change {
    request: String,
    act: String,
    baseline: String,
    proposal: String,
    /// The rules that decided it under the baseline, each with its citation.
    baseline_rules: Vec<String>,
    /// The rules that decide it under the proposal.
    proposal_rules: Vec<String>,
}

/// One month of the replay.
#[derive(Debug, Default, Serialize)]
struct Month {
    requests: u64,
    changed_acts: u64,
}

/// Replays the history under both laws and prints what differs.
pub fn whatif(args: WhatifArgs) -> Result<(), Failure> {
    let catalog = args.catalog.clone().unwrap_or_else(|| {
        args.baseline
            .parent()
            .map_or_else(|| PathBuf::from("catalog"), |p| p.join("catalog"))
    });
    let load = |flag: &str, dir: &PathBuf| {
        Engine::load(dir, &catalog).map_err(|errors| {
            Failure::Input(format!("--{flag}: {}", crate::check::pack_errors(errors)))
        })
    };
    let (baseline, proposal) = (
        load("baseline", &args.baseline)?,
        load("proposal", &args.proposal)?,
    );
    let reader: Box<dyn BufRead> = if args.history.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(&args.history)
            .map_err(|e| Failure::Input(format!("--history {}: {e}", args.history.display())))?;
        Box::new(BufReader::new(file))
    };
    let replay = replay(reader, &baseline, &proposal, args.changed)?;
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

/// Reads the history chunk by chunk, decides each chunk's requests under both laws on every
/// core, and tallies them in history order.
fn replay(
    reader: Box<dyn BufRead>,
    baseline: &Engine,
    proposal: &Engine,
    list: usize,
) -> Result<Replay, Failure> {
    let mut replay = Replay::default();
    let mut lines = reader
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()));
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("replaying {pos} requests ({per_sec})")
            .expect("static template"),
    );
    loop {
        let chunk: Vec<(usize, String)> = lines
            .by_ref()
            .take(CHUNK)
            .map(|(i, l)| l.map(|l| (i + 1, l)))
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::Input(format!("--history: {e}")))?;
        if chunk.is_empty() {
            break;
        }
        let decided: Vec<(Request, Decision, Decision)> = chunk
            .par_iter()
            .map(|(n, line)| decide_both(*n, line, baseline, proposal))
            .collect::<Result<_, _>>()?;
        for (request, old, new) in &decided {
            replay.tally(request, old, new, list);
        }
        bar.inc(decided.len() as u64);
    }
    bar.finish_and_clear();
    Ok(replay)
}

/// The request on history line `n`, decided under both laws; a bad line is named.
fn decide_both(
    n: usize,
    line: &str,
    baseline: &Engine,
    proposal: &Engine,
) -> Result<(Request, Decision, Decision), Failure> {
    let at = |what: String| Failure::Input(format!("--history line {n}: {what}"));
    let request = Request::from_json(line).map_err(|e| at(e.to_string()))?;
    let old = baseline.decide(&request).map_err(|e| at(e.to_string()))?;
    let new = proposal.decide(&request).map_err(|e| at(e.to_string()))?;
    Ok((request, old, new))
}

impl Replay {
    /// Counts one request's decisions under both laws.
    fn tally(&mut self, request: &Request, old: &Decision, new: &Decision, list: usize) {
        self.requests += 1;
        let month = request.received_at.to_string()[..7].to_owned();
        let m = self.months.entry(month).or_default();
        m.requests += 1;
        for (a, b) in old.acts.iter().zip(&new.acts) {
            count(&mut self.baseline, a);
            count(&mut self.proposal, b);
            if a.outcome != b.outcome {
                self.changed_acts += 1;
                m.changed_acts += 1;
                if self.changed.len() < list {
                    self.changed.push(Change {
                        request: request.id.clone(),
                        act: a.act.as_str().to_owned(),
                        baseline: a.outcome.as_str().to_owned(),
                        proposal: b.outcome.as_str().to_owned(),
                        baseline_rules: rules(a),
                        proposal_rules: rules(b),
                    });
                }
            }
        }
    }
}

fn count(counts: &mut Counts, act: &ActDecision) {
    *counts
        .entry(act.act.as_str().to_owned())
        .or_default()
        .entry(act.outcome.as_str().to_owned())
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
        "{} requests replayed; {} acts decided otherwise",
        r.requests,
        r.changed_acts
    );
    outln!(
        "{:<20} {:>28}   {:>28}",
        "act",
        "baseline req/perm/forb",
        "proposal req/perm/forb"
    );
    for (act, old) in &r.baseline {
        let new = r.proposal.get(act).cloned().unwrap_or_default();
        let three = |c: &BTreeMap<String, u64>| {
            let n = |o: &str| c.get(o).copied().unwrap_or_default();
            format!("{}/{}/{}", n("required"), n("permitted"), n("forbidden"))
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
