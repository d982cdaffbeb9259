//! Every pack under a pack root, indexed by jurisdiction and date so that finding the packs
//! in force for a request does not depend on how many packs there are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use comity_model::{Catalogs, InputError, Jurisdiction, Request};
use jiff::Timestamp;
use serde::Deserialize;

use crate::error::PackError;
use crate::pack::Pack;

/// Every pack under a root, and the divisions that contain others.
#[derive(Debug)]
pub struct PackSet {
    /// The packs, grouped by jurisdiction, each group in date order.
    packs: Vec<Pack>,
    by_jurisdiction: BTreeMap<Jurisdiction, Vec<usize>>,
    /// Division → divisions that contain it though their ids are not prefixes of its id.
    within: BTreeMap<Jurisdiction, Vec<Jurisdiction>>,
}

/// `divisions.toml` at the pack root: containment that ids do not show.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Divisions {
    #[serde(default)]
    within: Vec<Within>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Within {
    division: Jurisdiction,
    parent: Jurisdiction,
}

impl PackSet {
    /// Loads every pack (every directory holding a `pack.toml`) under `root`.
    pub fn load(root: &Path, catalogs: &Catalogs) -> Result<PackSet, Vec<PackError>> {
        let mut dirs = Vec::new();
        find_packs(root, &mut dirs).map_err(|e| vec![e])?;
        dirs.sort();
        let mut packs = Vec::new();
        let mut errors = Vec::new();
        for dir in dirs {
            match Pack::load(root, &dir, catalogs) {
                Ok(p) => packs.push(p),
                Err(e) => errors.push(e),
            }
        }
        let within = read_divisions(root).map_err(|e| vec![e])?;
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::from_packs(packs, within).map_err(|e| vec![e])
    }

    fn from_packs(
        mut packs: Vec<Pack>,
        within: BTreeMap<Jurisdiction, Vec<Jurisdiction>>,
    ) -> Result<PackSet, PackError> {
        packs.sort_by(|a, b| {
            (&a.manifest.jurisdiction, a.from).cmp(&(&b.manifest.jurisdiction, b.from))
        });
        let mut by_jurisdiction: BTreeMap<Jurisdiction, Vec<usize>> = BTreeMap::new();
        for (i, p) in packs.iter().enumerate() {
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
                if next.manifest.supersedes != Some(prev.manifest.effective_from) {
                    return Err(PackError::new(
                        next.dir.join("pack.toml"),
                        format!(
                            "supersedes must be {}, the version before it",
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
            if let Some(s) = first.manifest.supersedes {
                return Err(PackError::new(
                    first.dir.join("pack.toml"),
                    format!("supersedes {s}, but there is no such version"),
                ));
            }
        }
        Ok(PackSet {
            packs,
            by_jurisdiction,
            within,
        })
    }

    /// Every pack.
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// The divisions whose law applies in `j`: itself, every prefix of its id, and what
    /// `divisions.toml` says contains them.
    pub fn ancestors(&self, j: &Jurisdiction) -> BTreeSet<Jurisdiction> {
        let mut out = BTreeSet::new();
        let mut todo = vec![j.clone()];
        while let Some(d) = todo.pop() {
            let segments: Vec<&str> = d.segments().collect();
            for n in 1..=segments.len() {
                let prefix: Jurisdiction = format!("ocd-division/{}", segments[..n].join("/"))
                    .parse()
                    .expect("a prefix of a valid id is valid");
                if out.insert(prefix.clone())
                    && let Some(parents) = self.within.get(&prefix)
                {
                    todo.extend(parents.iter().cloned());
                }
            }
        }
        out
    }

    /// The packs in force for a request: every jurisdiction that covers its place, the
    /// version in force at `received_at`. An unknown place, or a date no pack covers, is an
    /// input error.
    pub fn in_force(&self, request: &Request) -> Result<Vec<&Pack>, InputError> {
        let t: Timestamp = request.received_at.timestamp();
        let mut known = false;
        let mut out = Vec::new();
        for j in self.ancestors(&request.jurisdiction) {
            let Some(versions) = self.by_jurisdiction.get(&j) else {
                continue;
            };
            known = true;
            let after = versions.partition_point(|&i| self.packs[i].from <= t);
            if let Some(&i) = after.checked_sub(1).map(|k| &versions[k])
                && self.packs[i].in_force(t)
            {
                out.push(&self.packs[i]);
            }
        }
        if !known {
            return Err(InputError::new(
                "jurisdiction",
                format!("`{}` is covered by no policy pack", request.jurisdiction),
            ));
        }
        if out.is_empty() {
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

fn find_packs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PackError> {
    if dir.join("pack.toml").is_file() {
        out.push(dir.to_owned());
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| PackError::new(dir, e.to_string()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| PackError::new(dir, e.to_string()))?
            .path();
        if path.is_dir() {
            find_packs(&path, out)?;
        }
    }
    Ok(())
}

fn read_divisions(root: &Path) -> Result<BTreeMap<Jurisdiction, Vec<Jurisdiction>>, PackError> {
    let path = root.join("divisions.toml");
    let mut within: BTreeMap<Jurisdiction, Vec<Jurisdiction>> = BTreeMap::new();
    if !path.exists() {
        return Ok(within);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| PackError::new(&path, e.to_string()))?;
    let d: Divisions = toml::from_str(&text).map_err(|e| PackError::new(&path, e.to_string()))?;
    for w in d.within {
        within.entry(w.division).or_default().push(w.parent);
    }
    Ok(within)
}
