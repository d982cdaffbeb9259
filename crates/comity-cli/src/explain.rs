//! `comity explain`: every decision in words, for a person.

use std::path::PathBuf;

use comity_policy::explain;

use crate::decide::{decide_files, print_decisions};
use crate::{Failure, Leniency, PackArgs, write_out};

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
