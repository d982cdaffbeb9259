//! `comity check`: every pack loads and validates.

use comity_policy::PackError;

use crate::{Failure, PackArgs, outln};

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

pub(crate) fn pack_errors(errors: Vec<PackError>) -> String {
    errors
        .iter()
        .map(|e| format!("invalid pack: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}
