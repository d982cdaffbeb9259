//! `comity dispatch`: a dispatcher alone, delivering the permitted disclosures and notices in
//! the outbox by the channels `comity.toml` configures.

use std::path::PathBuf;

use clap::Args;
use comity_server::config::Config;
use comity_server::dispatch::{CancellationToken, DispatchError, Dispatcher, Done};

use crate::store::{DbArgs, open_existing, runtime, store_error};
use crate::{Failure, outln};

/// `comity dispatch` options.
#[derive(Args)]
pub struct DispatchArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The configuration: each recipient's channel, and the retry policy.
    #[arg(long, env = "COMITY_CONFIG", default_value = "comity.toml")]
    config: PathBuf,
    /// The dispatcher's name, recorded in every ledger entry it writes [default:
    /// dispatch-<process id>]
    #[arg(long, env = "COMITY_DISPATCHER")]
    name: Option<String>,
    /// Deliver what is due now, then stop (a retry not yet due is left for later).
    #[arg(long)]
    once: bool,
    /// How long, in seconds, a claimed delivery is held before another dispatcher may take
    /// it (a dispatcher that dies leaves it that long); keep it longer than a batch's sends
    /// take (at most 10 s).
    #[arg(long, default_value_t = 60)]
    lease_seconds: u64,
}

fn dispatch_error(e: DispatchError) -> Failure {
    match e {
        DispatchError::Store(e) => store_error(e),
        e @ DispatchError::Name(_) => Failure::Input(format!("--name: {e}")),
        e @ DispatchError::Client(_) => Failure::Finding(format!("error: {e}")),
    }
}

/// One line per delivery: id, outcome, attempt (`-` when none was made), error.
fn print(done: &Done) {
    let attempt = done.attempt.map_or("-".to_owned(), |n| n.to_string());
    outln!(
        "{}\t{}\t{attempt}\t{}",
        done.delivery,
        done.became.outcome(),
        done.became.error()
    );
}

/// Runs a dispatcher until Ctrl-C (or SIGTERM), or with `--once` until nothing is due; prints
/// one line per delivery, and the outbox's counts to standard error at the end.
pub fn run(args: DispatchArgs) -> Result<(), Failure> {
    let config = Config::load(&args.config).map_err(|e| Failure::Input(e.to_string()))?;
    let name = args
        .name
        .unwrap_or_else(|| format!("dispatch-{}", std::process::id()));
    // A dispatcher alone holds no key (a key of its own would sign checkpoints no auditor
    // pinned): the receipts notices to counsel carry wait for the checkpoints the server
    // publishes.
    runtime()?.block_on(async {
        let store = open_existing(&args.db).await?;
        let dispatcher = Dispatcher::new(store.clone(), config, name)
            .map_err(dispatch_error)?
            .lease(std::time::Duration::from_secs(args.lease_seconds.max(1)));
        if args.once {
            loop {
                let done = dispatcher.dispatch_due().await.map_err(dispatch_error)?;
                if done.is_empty() {
                    break;
                }
                done.iter().for_each(print);
            }
        } else {
            let stop = CancellationToken::new();
            let on_signal = stop.clone();
            tokio::spawn(async move {
                crate::serve::signalled().await;
                on_signal.cancel();
            });
            dispatcher.run(stop, print).await;
        }
        let c = store.outbox_counts().await.map_err(store_error)?;
        eprintln!(
            "outbox: {} pending, {} delivered, {} dead, {} refused",
            c.pending, c.delivered, c.dead, c.refused
        );
        store.close().await;
        Ok(())
    })
}
