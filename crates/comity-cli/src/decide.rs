//! `comity decide`: the decision on every request of every file; with the reading and
//! deciding of request files that `explain` and `ingest` share.

use std::path::{Path, PathBuf};

use comity_model::{Decision, Received, Shape, read_received};
use comity_policy::{DecideError, Engine};

use crate::{Failure, Leniency, PackArgs, outln, read_input};

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

/// Decides every request of every file; the first bad one stops it all, naming its file.
pub(crate) fn decide_files(
    engine: &Engine,
    files: &[PathBuf],
) -> Result<Vec<(Shape, Vec<Decision>)>, Failure> {
    Ok(decide_received_files(engine, files)?
        .into_iter()
        .map(|(shape, decided)| (shape, decided.into_iter().map(|(_, d)| d).collect()))
        .collect())
}

/// A file's shape, and each of its requests as received with its decision.
pub(crate) type DecidedFile = (Shape, Vec<(Received, Decision)>);

/// [`decide_files`], each decision with the request as received.
pub(crate) fn decide_received_files(
    engine: &Engine,
    files: &[PathBuf],
) -> Result<Vec<DecidedFile>, Failure> {
    files
        .iter()
        .map(|file| {
            let (shape, received) = read_file(file)?;
            let decided = received
                .into_iter()
                .map(|r| {
                    let decision = decide_received(engine, file, &r)?;
                    Ok((r, decision))
                })
                .collect::<Result<_, Failure>>()?;
            Ok((shape, decided))
        })
        .collect()
}

/// The requests of `file`, or an input failure naming it.
fn read_file(file: &Path) -> Result<(Shape, Vec<Received>), Failure> {
    let text = read_input(file).map_err(|e| Failure::Input(format!("{e:#}")))?;
    read_received(&text).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))
}

/// The decision on `received`, read from `file`; a refusal names the file and where the
/// request stands in it.
fn decide_received(engine: &Engine, file: &Path, received: &Received) -> Result<Decision, Failure> {
    engine.decide(&received.request).map_err(|e| match e {
        DecideError::Input(e) => Failure::Input(format!(
            "{}: {}",
            file.display(),
            received.position.locate(e)
        )),
        e @ DecideError::Evaluation { .. } => Failure::Finding(e.to_string()),
    })
}

pub(crate) fn print_decisions(shape: Shape, decisions: &[Decision]) {
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
