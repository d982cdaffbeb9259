//! `comity check`: every pack loads and validates, and no version copies a rule file of the
//! version before it.

use comity_policy::PackError;

use crate::{Failure, PackArgs, outln};

/// `comity check`: every pack loads and validates; a rule file written again word for word
/// in the next version (instead of inherited by an amendment) is a finding.
pub(crate) fn check(packs: PackArgs, json: bool) -> Result<(), Failure> {
    let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
    let copies = engine.packs().copies();
    if !copies.is_empty() {
        return Err(Failure::Finding(
            copies
                .iter()
                .flat_map(|(pack, files)| {
                    files.iter().map(move |f| {
                        format!(
                            "copied rule file: {pack}: {f} is word for word the version before's; amend that version instead (packs/README.md, \"Amendments\")"
                        )
                    })
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
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
