//! `comity packs`: read the law as a lawyer reviews it.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use comity_ledger::{NoteSigner, NoteVerifier};
use comity_model::{Date, Jurisdiction};
use comity_policy::{Pack, PackError, PackSet, release};

use crate::check::pack_errors;
use crate::store::write_private;
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
    /// Write one self-contained HTML page per pack version: each paragraph of the statute
    /// beside the rules that encode it, with their summaries, cautions and test cases, and
    /// what changed from the version before marked; and an index.
    Render {
        #[command(flatten)]
        packs: PackArgs,
        /// Only the versions in force on this day [default: every version].
        #[arg(long)]
        at: Option<Date>,
        /// The directory to write the pages in.
        #[arg(long, default_value = "pack-pages")]
        out: PathBuf,
    },
    /// Make a counsel's signing key: writes the private key to a file only its owner can
    /// read, and prints the public (verifier) key to hand to those who load packs.
    Keygen {
        /// The key's name, e.g. `counsel.nyc.example`.
        name: String,
        /// Where to write the private key (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign the release of pack versions you reviewed (`pack.sig` in each version's
    /// directory); a version already signed by others with the same files is co-signed.
    Sign {
        #[command(flatten)]
        packs: PackArgs,
        /// The private key file (`comity packs keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The versions, `<jurisdiction>@<effective-from>`.
        #[arg(required = true)]
        versions: Vec<String>,
    },
    /// Check every version's signed release against the given verifier keys: exit 1 naming
    /// each version unsigned, signed by no given key, or changed since it was signed.
    Verify {
        #[command(flatten)]
        packs: PackArgs,
        /// Verifier keys (`<name>+<key ID>+<key>`), as `comity packs keygen` prints them.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
}

/// `comity packs render`.
fn render(packs: &PackArgs, at: Option<Date>, out: &Path) -> Result<(), Failure> {
    let engine = packs.load().map_err(|e| Failure::Input(pack_errors(e)))?;
    let set = engine.packs();
    let chosen = |p: &Pack| {
        at.is_none_or(|day| {
            set.version_on(&p.manifest.jurisdiction, day)
                .is_some_and(|v| v.id == p.id)
        })
    };
    let written = comity_report::law::render_all(set, &chosen, out)
        .map_err(|e| Failure::Input(format!("--out {}: {e}", out.display())))?;
    for path in &written {
        outln!("{}", path.display());
    }
    Ok(())
}

/// `comity packs keygen`.
fn keygen(name: &str, out: &Path) -> Result<(), Failure> {
    let signer = NoteSigner::generate(name).map_err(|e| Failure::Input(format!("name: {e}")))?;
    write_private(out, &signer.private_key())
        .map_err(|e| Failure::Input(format!("--out {}: {e}", out.display())))?;
    outln!("{}", signer.verifier_key());
    Ok(())
}

/// `comity packs sign`.
fn sign(packs: &PackArgs, key: &Path, versions: &[String]) -> Result<(), Failure> {
    let text = std::fs::read_to_string(key)
        .map_err(|e| Failure::Input(format!("--key {}: {e}", key.display())))?;
    let signer = NoteSigner::from_private_key(text.trim())
        .map_err(|e| Failure::Input(format!("--key {}: {e}", key.display())))?;
    let engine = packs.load().map_err(|e| Failure::Input(pack_errors(e)))?;
    for id in versions {
        let pack = engine
            .packs()
            .packs()
            .iter()
            .find(|p| &p.id == id)
            .ok_or_else(|| Failure::Input(format!("version: no pack version `{id}`")))?;
        let path = pack.dir.join(release::SIGNATURE_FILE);
        std::fs::write(&path, release::sign(pack, engine.catalogs(), &signer))
            .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        outln!("signed {id} as {}: {}", signer.name(), path.display());
    }
    Ok(())
}

/// `comity packs verify`.
fn verify(packs: &PackArgs, keys: &[String]) -> Result<(), Failure> {
    let keys = verifier_keys(keys)?;
    let engine = packs.load().map_err(|e| Failure::Input(pack_errors(e)))?;
    let signed = release::verify_all(engine.packs(), engine.catalogs(), &keys)
        .map_err(|errors| Failure::Finding(refused_releases(&errors)))?;
    for (id, names) in signed {
        outln!("ok  {id}  signed by {}", names.join(", "));
    }
    Ok(())
}

/// Verifier keys from their texts; a bad one is bad input naming it.
pub(crate) fn verifier_keys(keys: &[String]) -> Result<Vec<NoteVerifier>, Failure> {
    keys.iter()
        .map(|k| {
            NoteVerifier::from_verifier_key(k)
                .map_err(|e| Failure::Input(format!("key `{k}`: {e}")))
        })
        .collect()
}

/// The versions whose releases were refused, one line each.
pub(crate) fn refused_releases(errors: &[PackError]) -> String {
    errors
        .iter()
        .map(|e| format!("unsigned or changed pack: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a `comity packs` command.
pub(crate) fn run(what: PacksCommand) -> Result<(), Failure> {
    match what {
        PacksCommand::Render { packs, at, out } => render(&packs, at, &out),
        PacksCommand::Keygen { name, out } => keygen(&name, &out),
        PacksCommand::Sign {
            packs,
            key,
            versions,
        } => sign(&packs, &key, &versions),
        PacksCommand::Verify { packs, keys } => verify(&packs, &keys),
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
        pack.until_day()
            .map(|u| format!(" until {u}"))
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
        for rule in pack.rules_in(&file.file.name) {
            outln!("  {} {:<50} {}", rule.effect_word(), rule.id, rule.citation);
        }
    }
    outln!("");
    for file in &pack.case_files {
        outln!("{}  {}", file.name, provenance(pack, file.written_in));
    }
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
            let rules: Vec<_> = pack.rules_in(&f.file.name)
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
