//! `comity test`: every pack's statute cases.

use comity_policy::run_cases;

use crate::check::pack_errors;
use crate::{Failure, PackArgs, outln};

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
