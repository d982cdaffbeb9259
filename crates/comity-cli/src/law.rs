//! The commands about the law itself: decide and explain requests, check the packs and run
//! their statute cases.

use std::path::{Path, PathBuf};

use comity_model::{Decision, Received, Shape, read_received};
use comity_policy::{DecideError, Engine, PackError, explain, run_cases};

use crate::{Failure, Leniency, PackArgs, outln, read_input, write_out};

/// `comity decide`: the decision on every request of every file, as JSON.
pub(crate) fn decide(
    packs: PackArgs,
    leniency: Leniency,
    files: &[PathBuf],
) -> Result<(), Failure> {
    let engine = packs.engine(leniency)?;
    for (shape, decisions) in decide_files(&engine, files)? {
        print_decisions(shape, &decisions);
    }
    Ok(())
}

/// `comity explain`: every decision in words (or as JSON).
pub(crate) fn explain_files(
    packs: PackArgs,
    leniency: Leniency,
    json: bool,
    files: &[PathBuf],
) -> Result<(), Failure> {
    let engine = packs.engine(leniency)?;
    let decided = decide_files(&engine, files)?;
    if json {
        for (shape, decisions) in decided {
            print_decisions(shape, &decisions);
        }
    } else {
        let texts: Vec<String> = decided
            .iter()
            .flat_map(|(_, decisions)| decisions)
            .map(|d| explain(d, engine.packs()))
            .collect();
        write_out(format_args!(
            "{}",
            texts.join("\n----------------------------------------\n\n")
        ));
    }
    Ok(())
}

/// `comity check`: every pack loads and validates.
pub(crate) fn check(packs: PackArgs, json: bool) -> Result<(), Failure> {
    let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
    let all = engine.packs().packs();
    let rules: usize = all.iter().map(|p| p.rules.len()).sum();
    if json {
        let list: Vec<_> = all
            .iter()
            .map(|p| serde_json::json!({ "id": p.id, "sha256": p.sha256, "rules": p.rules.len() }))
            .collect();
        outln!("{}", serde_json::json!({ "valid": true, "packs": list }));
    } else {
        for p in all {
            outln!(
                "ok  {}  {} rules  {}",
                p.id,
                p.rules.len(),
                p.manifest.title
            );
        }
        outln!(
            "{} packs, {rules} rules, {} offenses in the catalogs: all valid",
            all.len(),
            engine.catalogs().len()
        );
    }
    Ok(())
}

/// `comity test`: every pack's statute cases, and every rule covered by a case of each kind.
pub(crate) fn test(packs: PackArgs, json: bool) -> Result<(), Failure> {
    let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
    let reports: Vec<_> = engine
        .packs()
        .packs()
        .iter()
        .map(|p| run_cases(&engine, p))
        .collect();
    let failed: usize = reports.iter().map(|r| r.failures.len()).sum();
    let cases: usize = reports.iter().map(|r| r.cases).sum();
    if json {
        let list: Vec<_> = reports
            .iter()
            .map(|r| {
                let failures: Vec<_> = r
                    .failures
                    .iter()
                    .map(|f| serde_json::json!({ "file": f.file, "case": f.case, "message": f.message }))
                    .collect();
                serde_json::json!({ "pack": r.pack, "cases": r.cases, "failures": failures })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({ "cases": cases, "failed": failed, "packs": list })
        );
    } else {
        for r in &reports {
            let status = if r.failures.is_empty() {
                "ok  "
            } else {
                "FAIL"
            };
            outln!("{status} {}  {} cases", r.pack, r.cases);
            for f in &r.failures {
                let case = if f.case.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", f.case)
                };
                outln!("     {}{case}: {}", f.file.display(), f.message);
            }
        }
        outln!("{} passed, {failed} failed", cases.saturating_sub(failed));
    }
    if failed > 0 {
        return Err(Failure::Finding(String::new()));
    }
    Ok(())
}

pub(crate) fn pack_errors(errors: Vec<PackError>) -> String {
    errors
        .iter()
        .map(|e| format!("invalid pack: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Decides every request of every file; the first bad one stops it all, naming its file.
fn decide_files(
    engine: &Engine,
    files: &[PathBuf],
) -> Result<Vec<(Shape, Vec<Decision>)>, Failure> {
    files
        .iter()
        .map(|file| {
            let (shape, received) = read_file(file)?;
            let decisions = received
                .iter()
                .map(|r| decide_received(engine, file, r))
                .collect::<Result<_, _>>()?;
            Ok((shape, decisions))
        })
        .collect()
}

/// The requests of `file`, or an input failure naming it.
pub(crate) fn read_file(file: &Path) -> Result<(Shape, Vec<Received>), Failure> {
    let text = read_input(file).map_err(|e| Failure::Input(format!("{e:#}")))?;
    read_received(&text).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))
}

/// The decision on `received`, read from `file`; a refusal names the file and where the
/// request stands in it.
pub(crate) fn decide_received(
    engine: &Engine,
    file: &Path,
    received: &Received,
) -> Result<Decision, Failure> {
    engine.decide(&received.request).map_err(|e| match e {
        DecideError::Input(e) => Failure::Input(format!(
            "{}: {}",
            file.display(),
            received.position.locate(e)
        )),
        e @ DecideError::Evaluation { .. } => Failure::Finding(e.to_string()),
    })
}

fn print_decisions(shape: Shape, decisions: &[Decision]) {
    let pretty = |d: &Decision| serde_json::to_string_pretty(d).expect("decisions serialize");
    match shape {
        Shape::One => outln!("{}", pretty(&decisions[0])),
        Shape::Array => outln!(
            "{}",
            serde_json::to_string_pretty(decisions).expect("decisions serialize")
        ),
        Shape::Lines => {
            for d in decisions {
                outln!("{}", serde_json::to_string(d).expect("decisions serialize"));
            }
        }
    }
}
