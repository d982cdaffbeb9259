//! `comity deliveries`: where a request's deliveries stand.

use clap::Args;

use crate::store::{DbArgs, on_existing, runtime, store_error};
use crate::{Failure, outln};

/// `comity deliveries`.
#[derive(Args)]
pub struct DeliveriesArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The request.
    request: String,
}

/// Prints a request's deliveries, one a line: id, status, attempts, last error.
pub fn deliveries(args: DeliveriesArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let (known, list) = on_existing(&args.db, async |store| {
            let known = store.request(&args.request).await;
            (known, store.deliveries_of(&args.request).await)
        })
        .await?;
        if known.map_err(store_error)?.is_none() {
            return Err(Failure::Input(format!(
                "no request `{}` is recorded",
                args.request
            )));
        }
        let list = list.map_err(store_error)?;
        if list.is_empty() {
            outln!(
                "request {}: no deliveries (its decision permits nothing that is sent)",
                args.request
            );
        }
        for d in list {
            outln!(
                "{}\t{}\t{} attempts\t{}",
                d.id,
                d.status,
                d.attempts,
                d.last_error
            );
        }
        Ok(())
    })
}
