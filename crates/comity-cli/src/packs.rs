//! `comity packs`: read the law as a lawyer reviews it.

use clap::Subcommand;
use comity_model::{Date, Jurisdiction};
use comity_policy::{Pack, PackSet, Rule};

use crate::check::pack_errors;
use crate::{Failure, PackArgs, outln};

/// What `comity packs` does.
#[derive(Subcommand)]
pub(crate) enum PacksCommand {
    /// Print the rule set of a jurisdiction in force on a date, with the version each rule
    /// file was written in (an amendment inherits what it does not change).
    Show {
        #[command(flatten)]
        packs: PackArgs,
        /// The jurisdiction, an Open Civic Data id (`ocd-division/country:us/state:ny`).
        jurisdiction: Jurisdiction,
        /// The day [default: today, UTC].
        #[arg(long)]
        at: Option<Date>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `comity packs` command.
pub(crate) fn run(what: PacksCommand) -> Result<(), Failure> {
    match what {
        PacksCommand::Show {
            packs,
            jurisdiction,
            at,
            json,
        } => {
            let engine = packs.load().map_err(|e| Failure::Input(pack_errors(e)))?;
            let day = at.unwrap_or_else(|| {
                Date(
                    jiff::Timestamp::now()
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .date(),
                )
            });
            let pack = version_on(engine.packs(), &jurisdiction, day)?;
            if json {
                outln!("{}", show_json(pack));
            } else {
                show_text(pack);
            }
            Ok(())
        }
    }
}

/// The version of `jurisdiction` in force on `day`, or why there is none.
fn version_on<'a>(
    packs: &'a PackSet,
    jurisdiction: &Jurisdiction,
    day: Date,
) -> Result<&'a Pack, Failure> {
    let mut versions = packs.versions(jurisdiction).peekable();
    if versions.peek().is_none() {
        return Err(Failure::Input(format!(
            "jurisdiction: no pack for `{jurisdiction}`"
        )));
    }
    packs.version_on(jurisdiction, day).ok_or_else(|| {
        Failure::Input(format!(
            "--at: no version of {jurisdiction} is in force on {day}"
        ))
    })
}

fn show_text(pack: &Pack) {
    let m = &pack.manifest;
    outln!("{}  {}", pack.id, m.title);
    outln!(
        "in force from {}{}; confidence {}; sha256 {}",
        m.effective_from,
        pack.until
            .map(|u| format!(" until {}", u.to_zoned_datetime(pack.tz.clone()).date()))
            .unwrap_or_default(),
        m.confidence,
        pack.sha256
    );
    if let Some(d) = m.amends {
        outln!("amends {d}");
    }
    if let Some(d) = m.supersedes {
        outln!("supersedes {d} whole");
    }
    for r in &m.repeals {
        outln!("repeals {r}");
    }
    for file in &pack.rule_files {
        outln!("");
        outln!(
            "{}  {}",
            file.file.name,
            provenance(pack, file.file.written_in)
        );
        for rule in rules_of(pack, &file.file.name) {
            outln!("  {} {:<50} {}", rule.effect_word(), rule.id, rule.citation);
        }
    }
    outln!("");
    for file in &pack.case_files {
        outln!("{}  {}", file.name, provenance(pack, file.written_in));
    }
}

/// The rules of one file of `pack`, in the order written.
fn rules_of<'a>(pack: &'a Pack, file: &str) -> Vec<&'a Rule> {
    let mut rules: Vec<&Rule> = pack.rules.values().filter(|r| r.file == file).collect();
    rules.sort_by_key(|r| r.order);
    rules
}

/// Where a file of `pack` comes from, in words.
fn provenance(pack: &Pack, written_in: Date) -> String {
    if written_in == pack.manifest.effective_from {
        "written in this version".to_owned()
    } else {
        format!("inherited: as written in the version of {written_in}")
    }
}

fn show_json(pack: &Pack) -> serde_json::Value {
    let files: Vec<_> = pack
        .rule_files
        .iter()
        .map(|f| {
            let rules: Vec<_> = rules_of(pack, &f.file.name)
                .into_iter()
                .map(|r| serde_json::json!({ "id": r.id, "citation": r.citation, "summary": r.summary }))
                .collect();
            serde_json::json!({ "file": f.file.name, "written_in": f.file.written_in, "rules": rules })
        })
        .collect();
    let cases: Vec<_> = pack
        .case_files
        .iter()
        .map(|f| serde_json::json!({ "file": f.name, "written_in": f.written_in }))
        .collect();
    serde_json::json!({
        "id": pack.id,
        "sha256": pack.sha256,
        "effective_from": pack.manifest.effective_from,
        "amends": pack.manifest.amends,
        "supersedes": pack.manifest.supersedes,
        "repeals": pack.manifest.repeals,
        "rule_files": files,
        "case_files": cases,
    })
}
