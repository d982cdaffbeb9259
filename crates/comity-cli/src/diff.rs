//! `comity diff`: two pack directories compared symbolically at a place on a day (see the
//! `comity-diff` crate). Exit 0 when every act compared is equivalent, 1 when a difference
//! is found, 2 on bad input or when the solver cannot run.

use std::path::PathBuf;

use clap::Args;
use comity_diff::{Comparison, DiffError, Verdict};
use comity_model::{Act, Date, Jurisdiction};

use crate::{Failure, outln};

/// `comity diff`.
#[derive(Args)]
pub struct DiffArgs {
    /// The law as it is (A): a pack directory.
    a: PathBuf,
    /// The law compared (B): a pack directory.
    b: PathBuf,
    /// The offense catalogs, for both [default: catalog/ beside A].
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Compare this act only [default: every act].
    #[arg(long)]
    act: Option<String>,
    /// The place whose law is compared (an OCD division id).
    #[arg(long)]
    jurisdiction: String,
    /// The day whose law is compared (YYYY-MM-DD).
    #[arg(long)]
    at: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Compares the two laws and prints each act's verdict with its witnesses.
pub fn diff(args: DiffArgs) -> Result<(), Failure> {
    let (a, b) = crate::two_laws(
        [&args.a, &args.b],
        args.catalog.as_deref(),
        [
            &format!("A {}", args.a.display()),
            &format!("B {}", args.b.display()),
        ],
    )?;
    let place = Jurisdiction::try_from(args.jurisdiction.clone())
        .map_err(|e| Failure::Input(format!("--jurisdiction: {e}")))?;
    let day: Date = args
        .at
        .parse()
        .map_err(|_| Failure::Input(format!("--at: `{}` is not a date (YYYY-MM-DD)", args.at)))?;
    let acts: Vec<Act> = match &args.act {
        Some(word) => vec![
            word.parse()
                .map_err(|_| Failure::Input(format!("--act: `{word}` is not an act")))?,
        ],
        None => Act::ALL.to_vec(),
    };
    let compared = crate::store::runtime()?
        .block_on(comity_diff::compare(&a, &b, &place, day, &acts))
        .map_err(|e| match e {
            DiffError::Cedar(m) => Failure::Finding(format!("error: {m}")),
            e => Failure::Input(e.to_string()),
        })?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&compared).expect("comparisons serialize")
        );
    } else {
        print_text(&compared);
    }
    let differs = compared
        .acts
        .iter()
        .any(|a| a.verdict != Verdict::Equivalent);
    if differs {
        return Err(Failure::Finding(String::new()));
    }
    Ok(())
}

fn print_text(c: &Comparison) {
    outln!("{} on {}", c.jurisdiction, c.at);
    outln!("A: {}", c.a.join(", "));
    outln!("B: {}", c.b.join(", "));
    outln!("({})", c.note);
    for act in &c.acts {
        outln!("\n{}: {}", act.act, act.verdict.words());
        for w in &act.witnesses {
            let confirmed = match (w.confirmed, w.assumed_facts.is_empty()) {
                (true, _) => "confirmed by both engines",
                (false, false) => "needs facts a request states only by convictions: not confirmed",
                (false, true) => "NOT confirmed by the engines",
            };
            outln!("  {} ({confirmed}):", w.direction.replace('-', " "));
            outln!("    request: {}", w.request);
            if !w.assumed_facts.is_empty() {
                outln!("    assumes facts: {}", w.assumed_facts.join(", "));
            }
            for (side, d) in [("A", &w.a), ("B", &w.b)] {
                let outcome = d.outcome.map_or("refused".to_owned(), |o| o.to_string());
                outln!("    {side}: {outcome}: {}", d.rules.join("; "));
            }
        }
    }
}
