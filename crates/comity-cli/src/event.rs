//! `comity event`: what the agency did on a request after it was decided, recorded from the
//! command line (as `POST /v1/requests/{id}/events` records it over HTTP).

use clap::Args;
use comity_model::Event;
use comity_store::{EventError, NewEvent};

use crate::store::{DbArgs, on_existing, runtime, store_error};
use crate::{Failure, outln};

/// `comity event`.
#[derive(Args)]
pub struct EventArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Who records it, as the agency knows them; recorded as given, with "(command line)".
    #[arg(long)]
    by: String,
    /// What was done: held, released, transferred, hold-expired, custody-disavowed or
    /// response-sent.
    #[arg(long)]
    kind: String,
    /// When it was done (RFC 3339 with an offset).
    #[arg(long)]
    at: String,
    /// For response-sent, the act the response carried out (e.g. notify-release).
    #[arg(long)]
    act: Option<String>,
    /// The request, by its id.
    request: String,
}

/// Records an event and prints it, with any violation of the decision it shows.
pub fn event(args: EventArgs) -> Result<(), Failure> {
    let by = args.by.trim();
    if by.is_empty() || by.chars().any(char::is_control) {
        return Err(Failure::Input(format!(
            "--by: `{}` must name who records it, on one line",
            args.by
        )));
    }
    let by = format!("{by} (command line)");
    let mut json = serde_json::json!({ "kind": args.kind, "at": args.at });
    if let Some(act) = &args.act {
        json["act"] = act.as_str().into();
    }
    let event = Event::from_json(&json.to_string())
        .map_err(|e| Failure::Input(format!("--{}: {}", e.field, e.message)))?;
    runtime()?.block_on(async {
        let new = NewEvent {
            request: &args.request,
            event: &event,
            by: &by,
        };
        let record = on_existing(&args.db, async |store| store.record_event(new).await)
            .await?
            .map_err(|e| match e {
                EventError::Store(e) => store_error(e),
                EventError::OutOfOrder { field, message } => {
                    Failure::Input(format!("--{field}: {message}"))
                }
                // The ledger's decision cannot be trusted: a finding about the store.
                EventError::NoDecision(why) => Failure::Finding(format!("error: {why}")),
                e @ EventError::UnknownRequest(_) => Failure::Input(e.to_string()),
            })?;
        outln!(
            "`{}` on request {} at {}: event {}, ledger entry {}",
            record.kind,
            record.request,
            record.at,
            record.seq,
            record.ledger_index
        );
        for v in &record.violations {
            outln!("VIOLATION: {v}");
        }
        Ok(())
    })
}
