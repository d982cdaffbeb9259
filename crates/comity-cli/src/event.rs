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
    #[arg(long, required_unless_present = "file")]
    kind: Option<String>,
    /// When it was done (RFC 3339 with an offset).
    #[arg(long, required_unless_present = "file")]
    at: Option<String>,
    /// For response-sent, the act the response carried out (e.g. notify-release).
    #[arg(long)]
    act: Option<String>,
    /// The request, by its id.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    request: Option<String>,
    /// Record the events of a JSON-lines file instead (each line an event with its
    /// `request`, as `comity synth --events` writes them), in order; every line is read
    /// before any is recorded, and the first that cannot be recorded stops the rest.
    #[arg(long, conflicts_with_all = ["kind", "at", "act"])]
    file: Option<std::path::PathBuf>,
}

/// Records an event (or a file of them) and prints each, with any violation of the decision
/// it shows.
pub fn event(args: EventArgs) -> Result<(), Failure> {
    let by = args.by.trim();
    if by.is_empty() || by.chars().any(char::is_control) {
        return Err(Failure::Input(format!(
            "--by: `{}` must name who records it, on one line",
            args.by
        )));
    }
    let by = format!("{by} (command line)");
    let events = match &args.file {
        Some(file) => read_events(file)?,
        None => vec![one_event(&args)?],
    };
    let from_file = args.file.is_some();
    runtime()?.block_on(async {
        on_existing(&args.db, async |store| {
            for (n, (request, event)) in events.iter().enumerate() {
                let new = NewEvent {
                    request,
                    event,
                    by: &by,
                };
                let record = store.record_event(new).await.map_err(|e| {
                    let failure = event_failure(e);
                    if !from_file {
                        return failure;
                    }
                    let line = format!("line {}, after {n} events were recorded", n + 1);
                    match failure {
                        Failure::Input(m) => Failure::Input(format!("{line}: {m}")),
                        Failure::Finding(m) => Failure::Finding(format!("{line}: {m}")),
                    }
                })?;
                print_record(&record);
            }
            Ok(())
        })
        .await?
    })
}

/// The event the flags describe.
fn one_event(args: &EventArgs) -> Result<(String, Event), Failure> {
    let mut json = serde_json::json!({ "kind": args.kind, "at": args.at });
    if let Some(act) = &args.act {
        json["act"] = act.as_str().into();
    }
    let event = Event::from_json(&json.to_string())
        .map_err(|e| Failure::Input(format!("--{}: {}", e.field, e.message)))?;
    Ok((args.request.clone().unwrap_or_default(), event))
}

/// Every event of a JSON-lines file, each with its request; a bad line is refused naming its
/// number and field, before anything is recorded.
fn read_events(file: &std::path::Path) -> Result<Vec<(String, Event)>, Failure> {
    let text = crate::read_input(file).map_err(|e| Failure::Input(format!("{e:#}")))?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: String| Failure::Input(format!("{}:{}: {m}", file.display(), n + 1));
        let mut value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let request = match value.as_object_mut().and_then(|o| o.remove("request")) {
            Some(serde_json::Value::String(r)) => r,
            _ => {
                return Err(bad(
                    "request: every line names its request (a string)".into()
                ));
            }
        };
        let event = Event::from_json(&value.to_string())
            .map_err(|e| bad(format!("{}: {}", e.field, e.message)))?;
        events.push((request, event));
    }
    Ok(events)
}

/// An event that was not recorded, as the CLI reports it.
fn event_failure(e: EventError) -> Failure {
    match e {
        EventError::Store(e) => store_error(e),
        EventError::OutOfOrder { field, message } => {
            Failure::Input(format!("--{field}: {message}"))
        }
        // The ledger's decision cannot be trusted: a finding about the store.
        EventError::NoDecision(why) => Failure::Finding(format!("error: {why}")),
        e @ EventError::UnknownRequest(_) => Failure::Input(e.to_string()),
    }
}

/// Prints a recorded event and any violation it shows.
fn print_record(record: &comity_store::EventRecord) {
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
}
