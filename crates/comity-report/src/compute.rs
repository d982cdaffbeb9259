//! Computing a report from the ledger: every decision entry below a signed checkpoint's
//! size is read with its request and activity, those in the report's scope and period are
//! counted by each figure, and each figure keeps the entries it counted.

use std::collections::BTreeMap;

use comity_model::{Act, Outcome};
use comity_store::{SignedCheckpoint, Store, StoreError};
use jiff::civil::Date;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::case::{BadEntry, Case, Scope};
use crate::definition::{Definition, Dimension, Field, FigureSpec};

/// The format word of a report's JSON.
pub const FORMAT: &str = "comity-report/1";

/// Ledger entries read at a time: memory stays that of one range.
const PAGE: usize = 4096;

/// A report: its definition, period, the checkpoint it was computed at, and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always [`FORMAT`].
    pub format: String,
    /// The definition it was computed by, as it was.
    pub definition: Definition,
    /// The SHA-256 of `definition` as JSON.
    pub definition_sha256: String,
    /// The first day counted.
    pub from: Date,
    /// The last day counted.
    pub to: Date,
    /// The signed checkpoint whose entries it counts.
    pub checkpoint: SignedCheckpoint,
    /// Decided requests in the report's scope and period.
    pub requests: u64,
    /// The figures, in the definition's order.
    pub figures: Vec<Figure>,
    /// Of the requests in scope: each act's outcomes.
    pub outcomes: Vec<OutcomeCount>,
    /// Of the requests in scope: the rules that decided each act.
    pub reasons: Vec<ReasonCount>,
    /// What a reader should know (a period other than the statute's, …).
    pub warnings: Vec<String>,
}

/// One figure: its count and the decision entries counted, or why it is not derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// Its number in the statute.
    pub id: String,
    /// What it counts.
    pub label: String,
    /// The provision requiring it.
    pub citation: String,
    /// The count; absent when not derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Why the ledger cannot know it, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_derived: Option<String>,
    /// The decision entries counted, ascending.
    #[serde(default)]
    pub entries: Vec<u64>,
    /// The event and delivery-result entries that showed they qualify, ascending.
    #[serde(default)]
    pub evidence: Vec<u64>,
    /// The count by month the request was received (`YYYY-MM`).
    #[serde(default)]
    pub months: BTreeMap<String, u64>,
    /// Its breakdowns, in the definition's order.
    #[serde(default)]
    pub breakdowns: Vec<Breakdown>,
}

/// A figure broken down by one dimension (or several crossed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    /// The dimension names, joined by `+`.
    pub by: String,
    /// Its buckets.
    pub cells: Vec<Cell>,
    /// The counted requests in no bucket (e.g. a decision that recorded no conviction
    /// group): what the ledger does not say is shown, not guessed.
    pub unclassified: Cell,
}

/// One bucket of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    /// Its labels, one per dimension crossed.
    pub bucket: Vec<String>,
    /// How many.
    pub count: u64,
    /// The decision entries, ascending.
    pub entries: Vec<u64>,
}

/// How often an act had an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeCount {
    /// The act.
    pub act: Act,
    /// The outcome.
    pub outcome: Outcome,
    /// How many requests.
    pub count: u64,
}

/// How often a rule decided an act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonCount {
    /// The act.
    pub act: Act,
    /// The outcome it gave.
    pub outcome: Outcome,
    /// The rule.
    pub rule: String,
    /// Its citation.
    pub citation: String,
    /// How many requests.
    pub count: u64,
}

/// Why a report could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An entry does not say what it must.
    #[error(transparent)]
    Entry(#[from] BadEntry),
}

/// What one case contributes: for each derived figure it meets, its evidence and the
/// breakdown cells it falls in.
struct Hit {
    figure: usize,
    evidence: Vec<u64>,
    cells: Vec<Vec<Vec<String>>>,
}

/// Counts as the ledger is read.
#[derive(Default)]
struct Tally {
    requests: u64,
    figures: Vec<FigureTally>,
    outcomes: BTreeMap<(Act, Outcome), u64>,
    reasons: BTreeMap<(Act, Outcome, String, String), u64>,
}

#[derive(Default, Clone)]
struct FigureTally {
    entries: Vec<u64>,
    evidence: Vec<u64>,
    months: BTreeMap<String, u64>,
    /// Per breakdown: each bucket's entries, and the unclassified.
    cells: Vec<(Buckets, Vec<u64>)>,
}

/// The decision entries in each bucket of a breakdown, by the bucket's labels.
type Buckets = BTreeMap<Vec<String>, Vec<u64>>;

impl Definition {
    /// Every fact name its figures and dimensions read.
    fn fact_names(&self) -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        let figures = self.figures.iter().filter_map(|f| f.select.as_ref());
        let buckets = self
            .dimensions
            .values()
            .flat_map(|d| d.buckets.iter().map(|b| &b.select));
        for s in figures.chain(buckets) {
            s.fact_names(&mut names);
        }
        names
    }

    /// Whether a request received as `scope` says is in the report's scope and period.
    fn covers(&self, scope: &Scope, from: Date, to: Date) -> bool {
        from <= scope.day
            && scope.day <= to
            && scope.jurisdiction.starts_with(&self.jurisdiction)
            && (self.agencies.is_empty() || self.agencies.iter().any(|a| a == scope.agency))
    }

    /// What `case` contributes to each figure.
    fn hits(&self, case: &Case) -> Vec<Hit> {
        self.figures
            .iter()
            .enumerate()
            .filter_map(|(figure, spec)| {
                let evidence = spec.select.as_ref()?.matches(case)?;
                let cells = spec.by.iter().map(|by| self.cells(by, case)).collect();
                Some(Hit {
                    figure,
                    evidence,
                    cells,
                })
            })
            .collect()
    }

    /// The buckets of breakdown `by` (dimensions joined by `+`) that `case` falls in.
    fn cells(&self, by: &str, case: &Case) -> Vec<Vec<String>> {
        let mut cells = vec![Vec::new()];
        for name in by.split('+') {
            cells = cross(cells, &self.dimensions[name].labels(case));
        }
        cells
    }
}

impl Dimension {
    /// The labels of the buckets `case` falls in.
    fn labels(&self, case: &Case) -> Vec<String> {
        match self.field {
            Some(Field::FromAgency) => vec![case.request.from.agency.clone()],
            Some(Field::ToAgency) => vec![case.request.to.agency.clone()],
            None => self
                .buckets
                .iter()
                .filter(|b| b.select.matches(case).is_some())
                .map(|b| b.label.clone())
                .collect(),
        }
    }
}

impl Tally {
    fn new(definition: &Definition) -> Tally {
        let figure = |spec: &FigureSpec| FigureTally {
            cells: vec![Default::default(); spec.by.len()],
            ..Default::default()
        };
        Tally {
            figures: definition.figures.iter().map(figure).collect(),
            ..Default::default()
        }
    }

    fn add(&mut self, case: &Case, hits: Vec<Hit>) {
        self.requests += 1;
        for a in &case.acts {
            *self.outcomes.entry((a.act, a.outcome)).or_default() += 1;
            let (rule, citation) = a.rule.clone();
            *self
                .reasons
                .entry((a.act, a.outcome, rule, citation))
                .or_default() += 1;
        }
        let month = case.date().strftime("%Y-%m").to_string();
        for hit in hits {
            let tally = &mut self.figures[hit.figure];
            tally.entries.push(case.index);
            tally.evidence.extend(hit.evidence);
            *tally.months.entry(month.clone()).or_default() += 1;
            for ((buckets, unclassified), cells) in tally.cells.iter_mut().zip(hit.cells) {
                if cells.is_empty() {
                    unclassified.push(case.index);
                }
                for cell in cells {
                    buckets.entry(cell).or_default().push(case.index);
                }
            }
        }
    }
}

/// Computes `definition`'s report over `from..=to` from the first `checkpoint.size` entries
/// of the ledger.
pub async fn compute(
    store: &Store,
    definition: &Definition,
    from: Date,
    to: Date,
    checkpoint: SignedCheckpoint,
) -> Result<Report, ComputeError> {
    let size = checkpoint.size;
    let entries = store.activity_entries(size).await?;
    let activity = crate::case::activity(&entries)?;
    drop(entries);
    let mut tally = Tally::new(definition);
    let wanted = definition.fact_names();
    // The next page of the ledger is read while this one is counted on every core.
    let pass_over: comity_store::PassOver = {
        let definition = definition.clone();
        std::sync::Arc::new(move |entry_end: &str, request: &str| {
            crate::case::out_of_scope(entry_end, request, |s| definition.covers(s, from, to))
        })
    };
    let mut pages = store.decision_pages_passing_over(size, PAGE, Some(pass_over));
    while let Some(page) = pages.recv().await {
        let page = page?;
        let counted: Vec<(Case, Vec<Hit>)> = page
            .par_iter()
            .map(|row| Case::of(row, &activity, &wanted, |s| definition.covers(s, from, to)))
            .filter_map(|case| match case {
                Ok(Some(case)) => {
                    let hits = definition.hits(&case);
                    Some(Ok((case, hits)))
                }
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?;
        for (case, hits) in counted {
            tally.add(&case, hits);
        }
    }
    Ok(finish(definition, from, to, checkpoint, tally))
}

/// The report of a finished tally.
fn finish(
    definition: &Definition,
    from: Date,
    to: Date,
    checkpoint: SignedCheckpoint,
    tally: Tally,
) -> Report {
    let figures = definition
        .figures
        .iter()
        .zip(tally.figures)
        .map(|(spec, t)| figure(definition, spec, t))
        .collect();
    let mut warnings = Vec::new();
    if !definition.period.fits(from, to) {
        warnings.push(format!(
            "{} requires {}; this report covers {from} to {to}",
            definition.citation,
            definition.period.words()
        ));
    }
    Report {
        format: FORMAT.to_owned(),
        definition_sha256: definition.sha256(),
        definition: definition.clone(),
        from,
        to,
        checkpoint,
        requests: tally.requests,
        figures,
        outcomes: tally
            .outcomes
            .into_iter()
            .map(|((act, outcome), count)| OutcomeCount {
                act,
                outcome,
                count,
            })
            .collect(),
        reasons: tally
            .reasons
            .into_iter()
            .map(|((act, outcome, rule, citation), count)| ReasonCount {
                act,
                outcome,
                rule,
                citation,
                count,
            })
            .collect(),
        warnings,
    }
}

/// A figure of a finished tally, its named buckets in the definition's order (those no
/// request fell in too, counted zero), a field's buckets in the order of their values.
fn figure(definition: &Definition, spec: &FigureSpec, mut t: FigureTally) -> Figure {
    // A figure not derived counted nothing: it has no count and no breakdown.
    let derived = spec.not_derived.is_none();
    if !derived {
        t.cells.clear();
    }
    t.evidence.sort_unstable();
    t.evidence.dedup();
    let breakdowns = spec
        .by
        .iter()
        .zip(t.cells)
        .map(|(by, (mut buckets, unclassified))| {
            let order = bucket_order(definition, by, &buckets);
            let cells = order
                .into_iter()
                .map(|bucket| {
                    let entries = buckets.remove(&bucket).unwrap_or_default();
                    Cell {
                        bucket,
                        count: entries.len() as u64,
                        entries,
                    }
                })
                .collect();
            Breakdown {
                by: by.clone(),
                cells,
                unclassified: Cell {
                    bucket: Vec::new(),
                    count: unclassified.len() as u64,
                    entries: unclassified,
                },
            }
        })
        .collect();
    Figure {
        id: spec.id.clone(),
        label: spec.label.clone(),
        citation: spec.citation.clone(),
        count: derived.then_some(t.entries.len() as u64),
        not_derived: spec.not_derived.clone(),
        entries: t.entries,
        evidence: t.evidence,
        months: t.months,
        breakdowns,
    }
}

/// Each of `cells` extended by each of `labels`, in order: the cross product of one more
/// dimension.
fn cross(cells: Vec<Vec<String>>, labels: &[String]) -> Vec<Vec<String>> {
    cells
        .into_iter()
        .flat_map(|cell| {
            labels.iter().map(move |label| {
                let mut cell = cell.clone();
                cell.push(label.clone());
                cell
            })
        })
        .collect()
}

/// The buckets of breakdown `by`, in order: every combination of named buckets in the
/// definition's order; a field's values as found, sorted.
fn bucket_order(definition: &Definition, by: &str, found: &Buckets) -> Vec<Vec<String>> {
    let mut order: Vec<Vec<String>> = vec![Vec::new()];
    for (position, name) in by.split('+').enumerate() {
        let dimension = &definition.dimensions[name];
        let labels: Vec<String> = if dimension.field.is_some() {
            let mut seen: Vec<String> = found.keys().map(|k| k[position].clone()).collect();
            seen.sort();
            seen.dedup();
            seen
        } else {
            dimension.buckets.iter().map(|b| b.label.clone()).collect()
        };
        order = cross(order, &labels);
    }
    // Crossing a field with another dimension may name combinations never seen: a field's
    // buckets are those found, so only the combinations found are kept when a field is in.
    if by
        .split('+')
        .any(|n| definition.dimensions[n].field.is_some())
    {
        order.retain(|cell| found.contains_key(cell));
    }
    order
}
