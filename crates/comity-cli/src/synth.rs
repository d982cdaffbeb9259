//! `comity synth`: a synthetic request history, deterministic by its seed, with the events
//! that followed each request (see the `comity-synth` crate).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use comity_synth::{Generator, Options, PROFILES, profile};
use rayon::prelude::*;

use crate::store::{KeyArgs, key_signer, runtime, store_error};
use crate::{Failure, Leniency, PackArgs, outln};

/// How many days are drawn at once: memory stays that of so many days.
const DAYS_AT_ONCE: usize = 16;

/// `comity synth`.
#[derive(Args)]
pub struct SynthArgs {
    #[command(flatten)]
    packs: PackArgs,
    /// The seed: the same seed draws the same history.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first day (YYYY-MM-DD).
    #[arg(long)]
    from: String,
    /// The last day (YYYY-MM-DD).
    #[arg(long)]
    to: String,
    /// The agencies, comma-separated [default: all: nyc-doc, nyc-nypd, nyc-probation,
    /// ca-los-angeles, tx-harris].
    #[arg(long, value_delimiter = ',')]
    places: Vec<String>,
    /// A factor on every agency's yearly volume.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The share of subjects with a conviction the law there turns on.
    #[arg(long, default_value_t = 0.3)]
    qualifying: f64,
    /// The share of requests asking for a hold whose events include an action the decision
    /// did not allow.
    #[arg(long, default_value_t = 0.02)]
    violations: f64,
    /// Where the requests go, as JSON lines; `-` is standard output.
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// Where the events go, as JSON lines (each with its `request`); none when absent.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Record the history straight into this database (a SQLite file path, created if
    /// needed, or a postgres:// URL) instead of writing it: each request with its decision
    /// and ledger entry, as `comity ingest` records them, then its events, as `comity event
    /// --file` does; a checkpoint is signed at the end. Idempotent: a request already
    /// recorded is left as it is, with its events.
    #[arg(long, conflicts_with_all = ["out", "events"])]
    db: Option<String>,
    #[command(flatten)]
    keys: KeyArgs,
}

impl SynthArgs {
    /// The options, each bad value named.
    fn options(&self) -> Result<Options, Failure> {
        let day = |flag: &str, text: &str| {
            text.parse::<jiff::civil::Date>().map_err(|_| {
                Failure::Input(format!("--{flag}: `{text}` is not a date (YYYY-MM-DD)"))
            })
        };
        let (from, to) = (day("from", &self.from)?, day("to", &self.to)?);
        if from > to {
            return Err(Failure::Input(format!(
                "--from: `{from}` is after --to `{to}`"
            )));
        }
        let share = |flag: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(Failure::Input(format!(
                    "--{flag}: `{v}` is not a share between 0 and 1"
                )))
            }
        };
        if !(self.scale.is_finite() && self.scale >= 0.0) {
            return Err(Failure::Input(format!(
                "--scale: `{}` is not a factor of 0 or more",
                self.scale
            )));
        }
        let profiles = if self.places.is_empty() {
            PROFILES.iter().collect()
        } else {
            self.places
                .iter()
                .map(|p| {
                    profile(p).ok_or_else(|| {
                        let known: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
                        Failure::Input(format!(
                            "--places: unknown `{p}` (known: {})",
                            known.join(", ")
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Options {
            seed: self.seed,
            from,
            to,
            profiles,
            scale: self.scale,
            qualifying: share("qualifying", self.qualifying)?,
            violations: share("violations", self.violations)?,
        })
    }
}

/// The progress bar of drawing `generator`'s days (drawn on a terminal only).
pub(crate) fn progress(generator: &Generator) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(generator.days().count() as u64).with_style(
        indicatif::ProgressStyle::with_template("drawing {bar:40} {pos}/{len} days, {msg}")
            .expect("static template"),
    )
}

/// Draws the history day by day and writes it as it goes (memory stays that of one day).
pub fn synth(args: SynthArgs) -> Result<(), Failure> {
    let options = args.options()?;
    let engine = args.packs.engine(Leniency::default())?.with_cache(true);
    let generator = Generator::new(options, &engine).map_err(|e| Failure::Input(e.to_string()))?;
    let bar = progress(&generator);
    if let Some(db) = &args.db {
        let recorded = record(&generator, db, &args.keys, &bar);
        bar.finish_and_clear();
        return recorded;
    }
    let open = |path: &PathBuf| -> Result<Box<dyn Write>, Failure> {
        if path.as_os_str() == "-" {
            return Ok(Box::new(std::io::stdout().lock()));
        }
        let file =
            File::create(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        Ok(Box::new(file))
    };
    let mut requests = BufWriter::new(open(&args.out)?);
    let mut events = args
        .events
        .as_ref()
        .map(open)
        .transpose()?
        .map(BufWriter::new);
    let written = draw(&generator, &mut requests, events.as_mut(), &bar).and_then(|drawn| {
        requests.flush()?;
        if let Some(out) = events.as_mut() {
            out.flush()?;
        }
        Ok(drawn)
    });
    bar.finish_and_clear();
    match written {
        // A reader that went away (`comity synth | head`) ends the command quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Input(format!("writing: {e}"))),
        Ok(drawn) => drawn,
    }
}

/// One day drawn and written out: its requests and its events as JSON lines, and how many
/// requests.
struct DayText {
    requests: String,
    events: String,
    count: u64,
}

/// Draws `day` and writes it as text (on the worker that drew it: the writer only copies).
fn day_text(generator: &Generator, day: jiff::civil::Date) -> Result<DayText, String> {
    use std::fmt::Write as _;
    let drawn = generator.day(day).map_err(|e| e.to_string())?;
    let mut text = DayText {
        requests: String::new(),
        events: String::new(),
        count: drawn.len() as u64,
    };
    for d in &drawn {
        let line = serde_json::to_string(&d.request).map_err(|e| e.to_string())?;
        text.requests.push_str(&line);
        text.requests.push('\n');
        for e in &d.events {
            let _ = writeln!(text.events, "{e}");
        }
    }
    Ok(text)
}

/// Writes every day's requests (and events) as drawn, a chunk of days at a time on every
/// core, in day order, the next chunk drawn while the last is written: an I/O error, or else
/// a finding about the draw.
fn draw(
    generator: &Generator,
    requests: &mut impl Write,
    mut events: Option<&mut BufWriter<Box<dyn Write>>>,
    bar: &indicatif::ProgressBar,
) -> std::io::Result<Result<(), Failure>> {
    let mut written = 0u64;
    let days: Vec<jiff::civil::Date> = generator.days().collect();
    let draw_chunk = |chunk: &[jiff::civil::Date]| -> Result<Vec<DayText>, String> {
        chunk
            .par_iter()
            .map(|day| day_text(generator, *day))
            .collect()
    };
    let mut chunks = days.chunks(DAYS_AT_ONCE);
    let mut pending = chunks.next().map(draw_chunk);
    while let Some(drawn) = pending.take() {
        let drawn = match drawn {
            Ok(d) => d,
            Err(e) => return Ok(Err(Failure::Finding(format!("error: {e}")))),
        };
        let next = chunks.next();
        // The writer (standard output's lock is not `Send`) stays on this thread.
        let (wrote, next) = std::thread::scope(|scope| {
            let drawing = scope.spawn(|| next.map(draw_chunk));
            let mut wrote = Ok(0);
            for day in &drawn {
                let line = requests
                    .write_all(day.requests.as_bytes())
                    .and_then(|()| match events.as_mut() {
                        Some(out) => out.write_all(day.events.as_bytes()),
                        None => Ok(()),
                    });
                wrote = line.and(wrote.map(|n| n + day.count));
                if wrote.is_err() {
                    break;
                }
            }
            (wrote, drawing.join().expect("drawing does not panic"))
        });
        written += wrote?;
        pending = next;
        bar.set_message(format!("{written} requests"));
        bar.inc(drawn.len() as u64);
    }
    Ok(Ok(()))
}

/// Draws the history and records it into the database at `location`, a chunk of days at a
/// time: the requests with their decisions in one transaction, then their events.
pub(crate) fn record(
    generator: &Generator,
    location: &str,
    keys: &KeyArgs,
    bar: &indicatif::ProgressBar,
) -> Result<(), Failure> {
    let signer = key_signer(keys)?;
    let days: Vec<jiff::civil::Date> = generator.days().collect();
    runtime()?.block_on(async {
        let store = comity_store::Store::open(location)
            .await
            .map_err(store_error)?;
        let mut tally = (0u64, 0u64, 0u64);
        for chunk in days.chunks(DAYS_AT_ONCE) {
            let drawn: Vec<Vec<comity_synth::Drawn>> = chunk
                .par_iter()
                .map(|day| generator.day(*day))
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::Finding(format!("error: {e}")))?;
            let drawn: Vec<comity_synth::Drawn> = drawn.into_iter().flatten().collect();
            record_chunk(&store, &drawn, &mut tally).await?;
            bar.set_message(format!("{} requests recorded", tally.0));
            bar.inc(chunk.len() as u64);
        }
        store.sign_checkpoint(&signer).await.map_err(store_error)?;
        store.close().await;
        outln!(
            "{} requests and {} events recorded, {} requests already recorded",
            tally.0,
            tally.1,
            tally.2
        );
        Ok(())
    })
}

/// Records one chunk's requests and decisions in one transaction, then the events of those
/// newly recorded; adds to (requests, events, already recorded).
async fn record_chunk(
    store: &comity_store::Store,
    drawn: &[comity_synth::Drawn],
    tally: &mut (u64, u64, u64),
) -> Result<(), Failure> {
    use comity_store::{NewDecision, NewEvent, Recorded};
    let batch: Vec<NewDecision> = drawn
        .iter()
        .map(|d| NewDecision {
            request_body: serde_json::to_string(&d.request).expect("requests serialize"),
            deliveries: comity_server::plan::deliveries(&d.request, &d.decision),
            decision: d.decision.clone(),
        })
        .collect();
    let recorded = store.record_decisions(&batch).await.map_err(store_error)?;
    for (d, r) in drawn.iter().zip(recorded) {
        match r {
            Recorded::New(_) => tally.0 += 1,
            Recorded::Existing(_) => {
                tally.2 += 1;
                continue;
            }
            Recorded::Conflict { id } => {
                return Err(Failure::Input(format!(
                    "--db: another request was already recorded under `{id}`"
                )));
            }
        }
        for e in &d.events {
            let mut fields = e.clone();
            fields
                .as_object_mut()
                .expect("events are objects")
                .remove("request");
            let event = comity_model::Event::from_json(&fields.to_string())
                .map_err(|e| Failure::Finding(format!("error: a synthetic event: {e}")))?;
            let new = NewEvent {
                request: &d.request.id,
                event: &event,
                by: "comity synth (synthetic)",
            };
            store
                .record_event(new)
                .await
                .map_err(|e| Failure::Finding(format!("error: {}: {e}", d.request.id)))?;
            tally.1 += 1;
        }
    }
    Ok(())
}
