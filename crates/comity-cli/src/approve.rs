//! `comity approve`: the approvals a permit names, recorded from the command line.

use clap::Args;
use comity_store::{ApprovalError, NewApproval, Verdict};

use crate::store::{DbArgs, on_existing, runtime, store_error};
use crate::{Failure, outln};

/// `comity approve`.
#[derive(Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Who approves (or refuses), as the agency knows them; recorded as given, with
    /// "(command line)".
    #[arg(long)]
    by: String,
    /// Whose approval this is, as the permit names it (e.g. privacy-officer) [default: the
    /// act's only one].
    #[arg(long)]
    approval: Option<String>,
    /// Refuse instead of approving: the act's waiting deliveries are refused, never sent.
    #[arg(long)]
    refuse: bool,
    /// The delivery, as `comity deliveries` lists it.
    delivery: String,
}

/// Records an approval or a refusal and prints what it did.
pub fn approve(args: ApproveArgs) -> Result<(), Failure> {
    let by = args.by.trim();
    if by.is_empty() || by.chars().any(char::is_control) {
        return Err(Failure::Input(format!(
            "--by: `{}` must name who decides, on one line",
            args.by
        )));
    }
    let by = format!("{by} (command line)");
    runtime()?.block_on(async {
        let approval = NewApproval {
            delivery: &args.delivery,
            approval: args.approval.as_deref(),
            verdict: if args.refuse {
                Verdict::Refused
            } else {
                Verdict::Approved
            },
            by: &by,
        };
        let record = on_existing(&args.db, async |store| {
            store.decide_approval(approval).await
        })
        .await?;
        let record = record.map_err(|e| match e {
            ApprovalError::Store(e) => store_error(e),
            ApprovalError::NotAsked { .. } => Failure::Input(format!("--approval: {e}")),
            other => Failure::Input(other.to_string()),
        })?;
        outln!(
            "{} {} `{}` on request {}: ledger entry {}; {} {} {}",
            record.approval,
            record.verdict.as_str(),
            record.act,
            record.request_id,
            record.ledger_index,
            record.deliveries,
            if record.deliveries == 1 {
                "delivery"
            } else {
                "deliveries"
            },
            match record.verdict {
                Verdict::Approved => "released to the dispatcher",
                Verdict::Refused => "refused",
            }
        );
        Ok(())
    })
}
