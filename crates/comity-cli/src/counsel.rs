//! `comity counsel`: which counsel represents which person, assigned by the operator (an
//! authority), never by counsel itself; each assignment and its end are kept.

use clap::{Args, Subcommand};

use crate::store::{DbArgs, on_existing, runtime, store_error};
use crate::{Failure, outln};

/// What `comity counsel` does.
#[derive(Subcommand)]
pub enum CounselCommand {
    /// Assign a counsel to a person: counsel then reads requests and decisions about them and
    /// is sent a notice of each disclosure about them.
    Assign(AssignmentArgs),
    /// End an assignment.
    End(AssignmentArgs),
    /// List every assignment, standing and ended.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// An assignment to make or end, and who does it.
#[derive(Args)]
pub struct AssignmentArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Who assigns it or ends it, as recorded (with "(command line)").
    #[arg(long)]
    by: String,
    /// The counsel, by the name its token is issued to.
    counsel: String,
    /// The person, by the id requests give (`subject.id`).
    subject: String,
}

/// One line of text naming who does something, as recorded.
fn who(by: &str) -> Result<String, Failure> {
    let by = by.trim();
    if by.is_empty() || by.chars().any(char::is_control) {
        return Err(Failure::Input(format!(
            "--by: `{by}` must name who decides, on one line"
        )));
    }
    Ok(format!("{by} (command line)"))
}

/// Runs a counsel command.
pub fn run(what: CounselCommand) -> Result<(), Failure> {
    runtime()?.block_on(async {
        match what {
            CounselCommand::Assign(args) => assign(args).await,
            CounselCommand::End(args) => end(args).await,
            CounselCommand::List { db } => list(&db).await,
        }
    })
}

/// `comity counsel assign`: recorded with who assigned.
async fn assign(args: AssignmentArgs) -> Result<(), Failure> {
    let by = who(&args.by)?;
    let (counsel, subject) = (args.counsel.trim(), args.subject.trim());
    let made = on_existing(&args.db, async |store| {
        store.assign(counsel, subject, &by).await
    })
    .await?
    .map_err(store_error)?;
    let already = if made { "" } else { "already " };
    outln!("{counsel} is {already}assigned to {subject}");
    Ok(())
}

/// `comity counsel end`: the assignment ends, recorded with who ended it.
async fn end(args: AssignmentArgs) -> Result<(), Failure> {
    let by = who(&args.by)?;
    let (counsel, subject) = (args.counsel.trim(), args.subject.trim());
    let ended = on_existing(&args.db, async |store| {
        store.end_assignment(counsel, subject, &by).await
    })
    .await?;
    if !ended.map_err(store_error)? {
        return Err(Failure::Input(format!(
            "`{}` is not assigned to `{}`",
            args.counsel, args.subject
        )));
    }
    outln!("{counsel} is no longer assigned to {subject}");
    Ok(())
}

/// `comity counsel list`: every assignment, ended ones with when and by whom.
async fn list(db: &DbArgs) -> Result<(), Failure> {
    let all = on_existing(db, async |store| store.assignments(None).await).await?;
    for a in all.map_err(store_error)? {
        let ended = a
            .ended
            .map_or(String::new(), |(at, by)| format!("\tended {at} by {by}"));
        outln!(
            "{}\t{}\tassigned {} by {}{ended}",
            a.counsel,
            a.subject_id,
            a.assigned_at,
            a.assigned_by
        );
    }
    Ok(())
}
