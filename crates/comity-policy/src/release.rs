//! Signed pack releases: the counsel who reviewed a version of the law signs it, and a
//! service can be told to load only versions so signed.
//!
//! A release is a signed note (C2SP signed-note, Ed25519, as the ledger's checkpoints) in the
//! version's directory, `pack.sig`, whose text names the version, its digest, the digest of
//! each of its own files and the digest of each catalog list its facts read and of each code
//! those lists are drawn from (every code, for a fact that counts any offense):
//!
//! ```text
//! comity pack release
//! ocd-division/country:us/state:ny/place:new_york@2026-01-29
//! sha256 567fc82b…
//! 0c4f…  doc-9-131.cedar
//! 9a1e…  pack.toml
//! …
//! catalog 3b07…  list nyc-vsc
//! catalog 91c2…  code NY PL
//! ```
//!
//! The version's digest covers, for an amendment, the digest of the version it amends: a
//! change to any file the version holds or inherits breaks the release, and a changed file of
//! its own is named. A list (`nyc-vsc`: which offenses are violent or serious crimes) is law
//! the version reads from the catalogs, and how an offense a request names resolves against
//! it depends on the rest of its code (a section known by its subdivisions, the classes a
//! wobbler can carry), so a changed list or code breaks the release too, named.
//! Counsel co-sign by adding their signature lines to the same text.

use std::collections::BTreeSet;

use comity_model::Catalogs;
use sha2::{Digest, Sha256};

use comity_ledger::{NoteSigner, NoteVerifier, open_note};

use crate::error::PackError;
use crate::facts::FactSpec;
pub use crate::files::SIGNATURE_FILE;
use crate::pack::Pack;
use crate::packset::PackSet;

/// The first line of a release's text.
const RELEASE_HEADER: &str = "comity pack release";

/// What starts a release's line for a catalog list or code.
const CATALOG_PREFIX: &str = "catalog ";

/// The text a release of `pack` signs, with `catalogs` holding the lists it reads.
pub fn release_text(pack: &Pack, catalogs: &Catalogs) -> String {
    let mut text = format!("{RELEASE_HEADER}\n{}\nsha256 {}\n", pack.id, pack.sha256);
    for (name, sha256) in &pack.own_files {
        text.push_str(&format!("{sha256}  {name}\n"));
    }
    for (what, sha256) in catalog_digests(pack, catalogs) {
        text.push_str(&format!("{CATALOG_PREFIX}{sha256}  {what}\n"));
    }
    text
}

/// What of the catalogs `pack`'s facts read, each as `list <name>` or `code <code>` with the
/// digest of its text ([`Catalogs::list_text`], [`Catalogs::code_text`]): the lists named,
/// and the codes they are drawn from, or every code when a fact counts any offense.
fn catalog_digests(pack: &Pack, catalogs: &Catalogs) -> Vec<(String, String)> {
    let facts = || pack.manifest.facts.values();
    let lists: BTreeSet<&String> = facts().flat_map(|f| f.lists()).collect();
    let codes: BTreeSet<&str> = if facts().any(FactSpec::counts_any_offense) {
        catalogs.code_names()
    } else {
        lists
            .iter()
            .flat_map(|l| catalogs.codes_of_list(l))
            .collect()
    };
    let digest = |text: String| const_hex::encode(Sha256::digest(text));
    let lists = lists
        .into_iter()
        .filter_map(|name| Some((format!("list {name}"), digest(catalogs.list_text(name)?))));
    let codes = codes
        .into_iter()
        .filter_map(|code| Some((format!("code {code}"), digest(catalogs.code_text(code)?))));
    lists.chain(codes).collect()
}

/// The release of `pack` signed by `signer`, co-signing the release it already has when that
/// one is of the same text (a release of other text is replaced).
pub fn sign(pack: &Pack, catalogs: &Catalogs, signer: &NoteSigner) -> String {
    let text = release_text(pack, catalogs);
    let note = signer.sign(&text);
    let line = note.rsplit_terminator('\n').next().unwrap_or_default();
    match pack.signature.as_deref() {
        Some(old) if old.starts_with(&format!("{text}\n")) && !old.contains(line) => {
            format!("{old}{line}\n")
        }
        Some(old) if old.contains(line) => old.to_owned(),
        _ => note,
    }
}

/// Checks that `pack` carries a release signed by one of `keys` whose files are the ones it
/// loaded and whose lists are those of `catalogs`; answers the names of the keys that signed
/// it. A changed file or list is named; so is a file added or removed since the release.
pub fn verify(
    pack: &Pack,
    catalogs: &Catalogs,
    keys: &[NoteVerifier],
) -> Result<Vec<String>, PackError> {
    let sig_path = pack.dir.join(SIGNATURE_FILE);
    let note = pack
        .signature
        .as_deref()
        .ok_or_else(|| PackError::new(&sig_path, "the version is not signed"))?;
    let opened: Vec<(&str, &str)> = keys
        .iter()
        .filter_map(|k| open_note(note, k).ok().map(|text| (k.name(), text)))
        .collect();
    let Some(&(_, text)) = opened.first() else {
        let names: Vec<&str> = keys.iter().map(NoteVerifier::name).collect();
        return Err(PackError::new(
            &sig_path,
            format!(
                "not signed by any of the keys required ({}), or the signed text was altered",
                names.join(", ")
            ),
        ));
    };
    let signers: Vec<String> = opened.iter().map(|(n, _)| (*n).to_owned()).collect();
    let (files, catalog): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|l| !l.starts_with(CATALOG_PREFIX));
    check_files(pack, &files)?;
    check_catalogs(pack, catalogs, &catalog)?;
    Ok(signers)
}

/// The files a release's `lines` sign are the version's own files, byte for byte, and its
/// digest (which covers what it inherits) is the version's.
fn check_files(pack: &Pack, lines: &[&str]) -> Result<(), PackError> {
    let sig_path = pack.dir.join(SIGNATURE_FILE);
    let mut lines = lines.iter().copied();
    let (header, id, digest) = (lines.next(), lines.next(), lines.next());
    if header != Some(RELEASE_HEADER) || id != Some(pack.id.as_str()) {
        return Err(PackError::new(
            &sig_path,
            format!("the release is not of {}", pack.id),
        ));
    }
    let signed: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once("  ")).collect();
    for (sha256, name) in &signed {
        match pack.own_files.iter().find(|(n, _)| n == name) {
            None => {
                return Err(PackError::new(
                    pack.dir.join(name),
                    "signed in the release, but no longer in the version",
                ));
            }
            Some((_, now)) if now != sha256 => {
                return Err(PackError::new(
                    pack.dir.join(name),
                    "changed since the release was signed",
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((name, _)) = pack
        .own_files
        .iter()
        .find(|(n, _)| !signed.iter().any(|(_, s)| s == n))
    {
        return Err(PackError::new(
            pack.dir.join(name),
            "added since the release was signed",
        ));
    }
    if digest != Some(format!("sha256 {}", pack.sha256).as_str()) {
        return Err(PackError::new(
            &sig_path,
            "the version it amends changed since the release was signed",
        ));
    }
    Ok(())
}

/// The catalog lists and codes a release's `lines` sign are, one for one, the ones the
/// version's facts read now, unchanged.
fn check_catalogs(pack: &Pack, catalogs: &Catalogs, lines: &[&str]) -> Result<(), PackError> {
    let refuse = |why: String| Err(PackError::new(pack.dir.join(SIGNATURE_FILE), why));
    let signed: Vec<(&str, &str)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(CATALOG_PREFIX)?.split_once("  "))
        .collect();
    let now = catalog_digests(pack, catalogs);
    for (what, sha256) in &now {
        match signed.iter().find(|(_, w)| w == what) {
            None => {
                return refuse(format!(
                    "the version reads catalog {what}, which the release does not sign"
                ));
            }
            Some((signed, _)) if signed != sha256 => {
                return refuse(format!(
                    "catalog {what} changed since the release was signed"
                ));
            }
            Some(_) => {}
        }
    }
    match signed
        .iter()
        .find(|(_, w)| !now.iter().any(|(m, _)| m == w))
    {
        Some((_, what)) => refuse(format!(
            "catalog {what} is signed, but the version no longer reads it"
        )),
        None => Ok(()),
    }
}

/// Checks the signed release of every version of `packs` against `catalogs` (see
/// [`verify`]): each version's id with the keys that signed it, or every version refused and
/// why.
pub fn verify_all<'a>(
    packs: &'a PackSet,
    catalogs: &Catalogs,
    keys: &[NoteVerifier],
) -> Result<Vec<(&'a str, Vec<String>)>, Vec<PackError>> {
    let (signed, refused): (Vec<_>, Vec<_>) = packs
        .packs()
        .iter()
        .map(|p| verify(p, catalogs, keys).map(|names| (p.id.as_str(), names)))
        .partition(Result::is_ok);
    if refused.is_empty() {
        Ok(signed.into_iter().map(Result::unwrap).collect())
    } else {
        Err(refused.into_iter().map(|r| r.unwrap_err()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use std::path::Path;

    #[test]
    fn the_catalog_lines_of_a_release_are_exactly_what_the_version_reads() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let engine = Engine::load(&repo.join("packs"), &repo.join("catalog")).unwrap();
        let pack = engine
            .packs()
            .packs()
            .iter()
            .find(|p| p.id == "ocd-division/country:us/state:ny/place:new_york@2017-12-01")
            .unwrap();
        let catalogs = engine.catalogs();
        let text = release_text(pack, catalogs);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(CATALOG_PREFIX))
            .collect();
        assert!(
            lines.iter().any(|l| l.ends_with("  list nyc-vsc")),
            "{text}"
        );
        assert!(lines.iter().any(|l| l.ends_with("  code NY PL")), "{text}");
        assert!(check_catalogs(pack, catalogs, &lines).is_ok());
        let why = |lines: &[&str]| {
            check_catalogs(pack, catalogs, lines)
                .unwrap_err()
                .to_string()
        };
        assert!(why(&lines[1..]).contains("which the release does not sign"));
        let extra = [lines.as_slice(), &["catalog 00  list nyc-extra"]].concat();
        assert!(
            why(&extra)
                .contains("catalog list nyc-extra is signed, but the version no longer reads it")
        );
        let changed = format!(
            "catalog {}  {}",
            "0".repeat(64),
            lines[0].split_once("  ").unwrap().1
        );
        let altered = [&[changed.as_str()], &lines[1..]].concat();
        assert!(why(&altered).contains("changed since the release was signed"));
    }
}
