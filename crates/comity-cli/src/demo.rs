//! `comity demo`: everything set up in one command, on the embedded default packs and a
//! synthetic year (no real person in it): a database drawn and recorded with a progress bar,
//! a summary (requests, outcomes by act, the NYC DOC § 9-131(f) report of the year), a token
//! for each role, and the console served on it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use comity_model::{Act, Outcome};
use comity_report::Definition;
use comity_server::auth::{Role, create_token};
use comity_store::{DecisionEntry, Store};
use comity_synth::{Generator, Options, PROFILES};

use crate::serve::ServeArgs;
use crate::store::{DbArgs, KeyArgs, key_signer, runtime, store_error};
use crate::{Failure, Leniency, PackArgs, outln, project_dir};

/// `comity demo`.
#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    packs: PackArgs,
    /// The demo's database, a SQLite file (created; when it holds a ledger already, it is
    /// used as it is).
    #[arg(long, default_value = "comity-demo.db")]
    db: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// The address the console is served on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The seed of the synthetic year.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first day of the year drawn (a New York City fiscal year by default).
    #[arg(long, default_value = "2018-07-01")]
    from: jiff::civil::Date,
    /// Its last day.
    #[arg(long, default_value = "2019-06-30")]
    to: jiff::civil::Date,
    /// A factor on every agency's yearly volume (1: about 11,000 requests a year).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Set everything up and print the summary and the tokens, but do not serve.
    #[arg(long)]
    no_serve: bool,
}

/// The roles' demo tokens, by holder name (counsel's name is what its assignments go by).
const HOLDERS: [(Role, &str); 5] = [
    (Role::Clerk, "Demo desk clerk"),
    (Role::Supervisor, "Demo desk supervisor"),
    (Role::Counsel, "Demo Defenders"),
    (Role::Auditor, "Demo auditor"),
    (Role::Admin, "Demo administrator"),
];

/// How many people the demo's counsel is assigned to.
const CLIENTS: usize = 3;

/// `comity demo`.
pub fn demo(args: DemoArgs) -> Result<(), Failure> {
    if !(args.scale.is_finite() && args.scale > 0.0) {
        return Err(Failure::Input(format!(
            "--scale: `{}` is not a factor above 0",
            args.scale
        )));
    }
    if args.from > args.to {
        return Err(Failure::Input(format!(
            "--from: `{}` is after --to `{}`",
            args.from, args.to
        )));
    }
    let location = args
        .db
        .to_str()
        .ok_or_else(|| Failure::Input(format!("--db: `{}` is not UTF-8", args.db.display())))?
        .to_owned();
    let engine = args.packs.engine(Leniency::default())?.with_cache(true);
    let signer = key_signer(&args.keys)?;
    let held = runtime()?.block_on(async {
        let store = Store::open(&location).await.map_err(store_error)?;
        let size = store.size().await.map_err(store_error)?;
        store.close().await;
        Ok::<u64, Failure>(size)
    })?;
    if held == 0 {
        let options = Options {
            seed: args.seed,
            from: args.from,
            to: args.to,
            profiles: PROFILES.iter().collect(),
            scale: args.scale,
            qualifying: 0.3,
            violations: 0.02,
        };
        let generator =
            Generator::new(options, &engine).map_err(|e| Failure::Input(e.to_string()))?;
        outln!(
            "Drawing a synthetic year ({} to {}) into {} …",
            args.from,
            args.to,
            args.db.display()
        );
        let bar = crate::synth::progress(&generator);
        let recorded = crate::synth::record(&generator, &location, &args.keys, &bar);
        bar.finish_and_clear();
        recorded?;
    } else {
        outln!(
            "{} holds a ledger of {held} entries already: using it as it is.",
            args.db.display()
        );
    }
    let tokens = runtime()?.block_on(async {
        let store = Store::open(&location).await.map_err(store_error)?;
        let done = set_up(&store, &args, &signer).await;
        store.close().await;
        done
    })?;
    outln!("\nSign in to the console with one of these tokens (each works for 30 days):");
    for (role, token) in &tokens {
        outln!("  {:<11} {token}", role.as_str());
    }
    if args.no_serve {
        return Ok(());
    }
    outln!("\nThe console: http://{}/  (Ctrl-C stops it)", args.listen);
    crate::serve::serve(ServeArgs::demo(
        DbArgs {
            db: location,
            keys: args.keys,
        },
        args.packs,
        args.listen,
    ))
}

/// Prints the summary, assigns the demo counsel and creates the tokens.
async fn set_up(
    store: &Store,
    args: &DemoArgs,
    signer: &comity_ledger::NoteSigner,
) -> Result<Vec<(Role, String)>, Failure> {
    let checkpoint = store.sign_checkpoint(signer).await.map_err(store_error)?;
    summary(store, checkpoint.size).await?;
    let definition = Definition::load(&project_dir("reports"), "nyc-doc")
        .map_err(|e| Failure::Finding(format!("error: {e}")))?;
    let report = comity_report::compute(store, &definition, args.from, args.to, checkpoint)
        .await
        .map_err(|e| Failure::Finding(format!("error: the report: {e}")))?;
    outln!("\n{}", comity_report::table(&report));
    let counsel = HOLDERS
        .iter()
        .find(|(r, _)| *r == Role::Counsel)
        .map(|(_, n)| *n)
        .expect("a counsel holder");
    for subject in clients(store).await? {
        store
            .assign(counsel, &subject, "comity demo (administrator)")
            .await
            .map_err(store_error)?;
    }
    // The tokens of an earlier run of the demo end: only this run's work.
    for old in store.tokens().await.map_err(store_error)? {
        if old.revoked.is_none() && HOLDERS.iter().any(|(_, n)| *n == old.name) {
            store
                .revoke_token(&old.id, "comity demo (a new run)")
                .await
                .map_err(store_error)?;
        }
    }
    let mut tokens = Vec::new();
    for (role, name) in HOLDERS {
        let issued = create_token(store, role, name, 30)
            .await
            .map_err(|e| Failure::Finding(format!("error: a demo token: {e}")))?;
        tokens.push((role, issued.token));
    }
    Ok(tokens)
}

/// Prints the requests recorded below `size` and their outcomes by act, read from the ledger.
async fn summary(store: &Store, size: u64) -> Result<(), Failure> {
    let mut pages = store.decision_pages(size, 2_000);
    let mut requests = 0u64;
    let mut by_act: BTreeMap<Act, [u64; 3]> = BTreeMap::new();
    while let Some(page) = pages.recv().await {
        for row in page.map_err(store_error)? {
            let entry = DecisionEntry::read(&row.entry)
                .map_err(|e| Failure::Finding(format!("error: ledger entry {}: {e}", row.index)))?;
            requests += 1;
            for a in entry.decision.acts {
                let column = match a.outcome {
                    Outcome::Required => 0,
                    Outcome::Permitted => 1,
                    Outcome::Forbidden => 2,
                };
                by_act.entry(a.act).or_default()[column] += 1;
            }
        }
    }
    outln!("\n{requests} requests decided and recorded in the ledger ({size} entries).");
    outln!(
        "\n{:<20} {:>9} {:>9} {:>9}",
        "act",
        "required",
        "permitted",
        "forbidden"
    );
    for (act, [r, p, f]) in &by_act {
        outln!("{:<20} {r:>9} {p:>9} {f:>9}", act.as_str());
    }
    Ok(())
}

/// The people the demo counsel represents: the subjects of the latest requests whose
/// decision lets something be told about them (so counsel has disclosures to see).
async fn clients(store: &Store) -> Result<Vec<String>, Failure> {
    let recent = store
        .recent_decisions(None, 2_000)
        .await
        .map_err(store_error)?;
    let mut subjects: Vec<String> = Vec::new();
    for row in recent {
        let entry = DecisionEntry::read(&row.entry).map_err(|e| {
            Failure::Finding(format!("error: ledger entry {}: {e}", row.ledger_index))
        })?;
        let tells = entry
            .decision
            .acts
            .iter()
            .any(|a| a.act.tells() && a.outcome != Outcome::Forbidden);
        let subject = serde_json::from_str::<serde_json::Value>(&row.request)
            .ok()
            .and_then(|v| v.pointer("/subject/id")?.as_str().map(str::to_owned));
        if let (true, Some(subject)) = (tells, subject)
            && !subjects.contains(&subject)
        {
            subjects.push(subject);
            if subjects.len() == CLIENTS {
                break;
            }
        }
    }
    Ok(subjects)
}
