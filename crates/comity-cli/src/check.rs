//! `comity check`: every pack loads and validates, and no version copies a rule file of the
//! version before it.

use comity_policy::{PackError, PackSet, STATUTE_SUFFIX};

use crate::{Failure, PackArgs, outln};

/// `comity check`: every pack loads and validates; a rule file written again word for word
/// in the next version (instead of inherited by an amendment) is a finding.
pub(crate) fn check(packs: PackArgs, json: bool) -> Result<(), Failure> {
    let engine = packs.load().map_err(|e| Failure::Finding(pack_errors(e)))?;
    let findings = findings(engine.packs());
    if !findings.is_empty() {
        return Err(Failure::Finding(findings.join("\n")));
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

/// What is wrong with packs that load: a rule file copied from the version before, a rule
/// file without the text of its law beside it.
fn findings(packs: &PackSet) -> Vec<String> {
    let copies = packs.copies().into_iter().flat_map(|(pack, files)| {
        files.into_iter().map(move |f| {
            format!(
                "copied rule file: {pack}: {f} is word for word the version before's; amend that version instead (packs/README.md, \"Amendments\")"
            )
        })
    });
    let bare = packs.packs().iter().flat_map(|p| {
        p.without_statute().into_iter().map(move |f| {
            format!(
                "no statute text: {}: {f} has no {} beside it (packs/README.md, \"Statute text\")",
                p.id,
                f.replace(".cedar", STATUTE_SUFFIX)
            )
        })
    });
    copies.chain(bare).collect()
}

pub(crate) fn pack_errors(errors: Vec<PackError>) -> String {
    errors
        .iter()
        .map(|e| format!("invalid pack: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}
