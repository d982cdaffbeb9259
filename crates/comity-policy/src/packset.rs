//! Every pack under a pack root, indexed by jurisdiction and date so that finding the packs
//! in force for a request does not depend on how many packs there are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use comity_model::{Catalogs, DIVISIONS_FILE, Date, InputError, Jurisdiction, Place, Request};
use jiff::Timestamp;

use crate::error::PackError;
use crate::files::{PackFiles, entries};
use crate::manifest::EarlierLaw;
use crate::pack::Pack;

/// Every pack under a root.
#[derive(Debug)]
pub struct PackSet {
    /// The packs, grouped by jurisdiction, each group in date order.
    packs: Vec<Pack>,
    by_jurisdiction: BTreeMap<Jurisdiction, Vec<usize>>,
}

impl PackSet {
    /// Loads every pack (every directory holding a `pack.toml`) under `root`, each
    /// amendment after the version it amends. Each pack's jurisdiction must be a division of
    /// the catalogs' registry.
    pub fn load(root: &Path, catalogs: &Catalogs) -> Result<PackSet, Vec<PackError>> {
        let mut dirs = Vec::new();
        find_packs(root, &mut dirs).map_err(|e| vec![e])?;
        // Versions of a jurisdiction are sibling directories named by date: in name order,
        // the version an amendment amends comes before it.
        dirs.sort();
        let mut packs: Vec<Pack> = Vec::new();
        let mut errors = Vec::new();
        for dir in dirs {
            let files = match PackFiles::read(root, &dir) {
                Ok(files) => files,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let amends = files.amends();
            let base = packs.iter().rev().find(|p| {
                p.dir.parent() == dir.parent() && amends == Some(p.manifest.effective_from)
            });
            match Pack::check(files, base, catalogs) {
                Ok(p)
                    if catalogs.divisions().canonical(&p.manifest.jurisdiction)
                        != Some(&p.manifest.jurisdiction) =>
                {
                    errors.push(PackError::new(
                        dir.join("pack.toml"),
                        format!(
                            "jurisdiction {} is not a canonical division of the registry ({DIVISIONS_FILE})",
                            p.manifest.jurisdiction
                        ),
                    ));
                }
                Ok(p) => packs.push(p),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::new(packs).map_err(|e| vec![e])
    }

    /// A set of packs already loaded, in any order: the set orders them itself (by
    /// jurisdiction and date), so the order they come in never changes a decision; checks
    /// that each version supersedes the one before it.
    pub fn new(mut packs: Vec<Pack>) -> Result<PackSet, PackError> {
        packs.sort_by(|a, b| {
            (&a.manifest.jurisdiction, a.from).cmp(&(&b.manifest.jurisdiction, b.from))
        });
        let mut by_jurisdiction: BTreeMap<Jurisdiction, Vec<usize>> = BTreeMap::new();
        for (i, p) in packs.iter_mut().enumerate() {
            p.position = i;
            by_jurisdiction
                .entry(p.manifest.jurisdiction.clone())
                .or_default()
                .push(i);
        }
        for versions in by_jurisdiction.values() {
            for pair in versions.windows(2) {
                let next_from = packs[pair[1]].from;
                let next = &packs[pair[1]];
                let prev = &packs[pair[0]];
                if next.manifest.predecessor() != Some(prev.manifest.effective_from) {
                    return Err(PackError::new(
                        next.dir.join("pack.toml"),
                        format!(
                            "supersedes (or amends) must be {}, the version before it",
                            prev.manifest.effective_from
                        ),
                    ));
                }
                if prev.until.is_some_and(|u| u > next_from) {
                    return Err(PackError::new(
                        prev.dir.join("pack.toml"),
                        "effective_until overlaps the next version".to_owned(),
                    ));
                }
                let prev = &mut packs[pair[0]];
                prev.until.get_or_insert(next_from);
            }
            let first = &packs[versions[0]];
            if let Some(s) = first.manifest.predecessor() {
                return Err(PackError::new(
                    first.dir.join("pack.toml"),
                    format!("supersedes {s}, but there is no such version"),
                ));
            }
        }
        Ok(PackSet {
            packs,
            by_jurisdiction,
        })
    }

    /// Every pack.
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// The versions of a jurisdiction, in date order.
    pub fn versions(&self, jurisdiction: &Jurisdiction) -> impl Iterator<Item = &Pack> {
        self.by_jurisdiction
            .get(jurisdiction)
            .into_iter()
            .flatten()
            .map(|&i| &self.packs[i])
    }

    /// The version of a jurisdiction in force on `day` (from its local midnight), if any.
    pub fn version_on(&self, jurisdiction: &Jurisdiction, day: Date) -> Option<&Pack> {
        self.versions(jurisdiction)
            .find(|p| p.manifest.effective_from <= day && p.until_day().is_none_or(|u| day < u))
    }

    /// Every rule file a version writes again word for word although the version before it
    /// has it (see [`crate::pack::copies`]): each version's id and the files.
    pub fn copies(&self) -> Vec<(&str, Vec<&str>)> {
        self.by_jurisdiction
            .values()
            .flat_map(|v| v.windows(2))
            .map(|w| (&self.packs[w[1]], &self.packs[w[0]]))
            .map(|(pack, before)| (pack.id.as_str(), crate::pack::copies(pack, before)))
            .filter(|(_, files)| !files.is_empty())
            .collect()
    }

    /// The law in force for a request at `place` (the divisions containing it, from the
    /// registry): for every one of them that has packs, the version in force at
    /// `received_at`, the least local first; and the jurisdictions whose law at that time is
    /// not encoded (before their first version, unless it declares there was none). A date
    /// no pack covers at all is an input error.
    pub fn in_force<'a>(
        &'a self,
        place: &Place,
        request: &Request,
    ) -> Result<InForce<'a>, InputError> {
        let t: Timestamp = request.received_at.timestamp();
        let mut out = InForce {
            packs: Vec::new(),
            gaps: Vec::new(),
        };
        let mut within: Vec<&Jurisdiction> = place.within.iter().collect();
        within.sort_by_key(|j| (j.segments().count(), *j));
        for j in within {
            let Some(versions) = self.by_jurisdiction.get(j) else {
                continue;
            };
            let after = versions.partition_point(|&i| self.packs[i].from <= t);
            match after.checked_sub(1).map(|k| &self.packs[versions[k]]) {
                Some(pack) if pack.in_force(t) => out.packs.push(pack),
                // Lapsed without a successor: no law of this jurisdiction is in force.
                Some(_) => {}
                None => {
                    let first = &self.packs[versions[0]];
                    let except = match first.manifest.earlier_law {
                        EarlierLaw::None if first.manifest.earlier_law_except.is_empty() => {
                            continue;
                        }
                        EarlierLaw::None => Some(first.manifest.earlier_law_except.clone()),
                        EarlierLaw::NotEncoded => None,
                    };
                    out.gaps.push(Gap {
                        jurisdiction: j.clone(),
                        until: first.manifest.effective_from,
                        acts: except,
                    });
                }
            }
        }
        if out.packs.is_empty() {
            return Err(InputError::new(
                "received_at",
                format!(
                    "`{}`: no policy pack for this place is in force at that time",
                    request.received_at
                ),
            ));
        }
        Ok(out)
    }
}

/// The law in force for a request: the packs, and the gaps where the law is not encoded.
#[derive(Debug)]
pub struct InForce<'a> {
    /// The packs in force, the least local first.
    pub packs: Vec<&'a Pack>,
    /// Jurisdictions whose law at that time is not encoded.
    pub gaps: Vec<Gap>,
}

/// A jurisdiction whose law at a request's time is not encoded: before its first version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// The first day its encoded law is in force.
    pub until: comity_model::Date,
    /// The acts the gap covers; `None`: every act.
    pub acts: Option<Vec<comity_model::Act>>,
}

impl Gap {
    /// Whether the gap leaves `act` undetermined.
    pub fn covers(&self, act: comity_model::Act) -> bool {
        self.acts.as_ref().is_none_or(|acts| acts.contains(&act))
    }
}

fn find_packs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PackError> {
    if dir.join("pack.toml").is_file() {
        out.push(dir.to_owned());
        return Ok(());
    }
    for path in entries(dir)? {
        if path.is_dir() {
            find_packs(&path, out)?;
        }
    }
    Ok(())
}
