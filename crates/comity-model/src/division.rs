//! The division registry (`catalog/divisions.toml`): the places comity knows, by their Open
//! Civic Data ids, the other ids Open Civic Data records for the same places, and the
//! containment ids do not show (New York City's boroughs are counties whose ids are not
//! under `place:new_york`).
//!
//! A request placed where the registry does not know is not decided by whatever law its id
//! happens to share a prefix with: it is refused, or, when the caller allows it, decided by
//! the law of its known parts with a warning.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::error::InputError;
use crate::request::Jurisdiction;

/// One division the registry knows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Division {
    /// Its canonical Open Civic Data id.
    pub id: Jurisdiction,
    /// Its name, as Open Civic Data gives it.
    pub name: String,
    /// Divisions that contain it although their ids are not prefixes of its id.
    #[serde(default)]
    pub within: Vec<Jurisdiction>,
    /// The law or record that puts it inside them (required with `within`).
    #[serde(default)]
    pub citation: Option<String>,
    /// What a reader should know.
    #[serde(default)]
    pub note: Option<String>,
}

/// Another id for a known division.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// The id.
    pub id: Jurisdiction,
    /// The canonical id of the division it names.
    pub same_as: Jurisdiction,
}

/// `divisions.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    source: String,
    as_of: crate::Date,
    divisions: Vec<Division>,
    #[serde(default)]
    aliases: Vec<Alias>,
}

/// What to do with a request placed in a division the registry does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownPlaces {
    /// Refuse it (the default): the law in force there cannot be determined.
    #[default]
    Refuse,
    /// Decide it by the law of the parts of its id the registry knows, with a warning.
    Warn,
}

/// The places comity knows.
#[derive(Debug, Clone, Default)]
pub struct Divisions {
    known: BTreeMap<Jurisdiction, Division>,
    aliases: BTreeMap<Jurisdiction, Jurisdiction>,
    /// Where the data comes from, and the date it was read.
    pub source: String,
}

/// Where a request is placed, as the registry resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Every division whose law applies there: the place itself, each prefix of its id, and
    /// what contains them.
    pub within: BTreeSet<Jurisdiction>,
    /// A warning to carry on the decision (an unknown place decided anyway).
    pub warning: Option<String>,
}

impl Divisions {
    /// Parses and checks the registry: ids unique; every prefix of a division's id, every
    /// division it is `within`, and every alias's `same_as` known.
    pub fn parse(text: &str) -> Result<Divisions, String> {
        let file: RegistryFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut known = BTreeMap::new();
        for d in file.divisions {
            if !d.within.is_empty() && d.citation.is_none() {
                return Err(format!("division {}: `within` needs a `citation`", d.id));
            }
            if let Some(old) = known.insert(d.id.clone(), d) {
                return Err(format!("division {} is listed twice", old.id));
            }
        }
        for d in known.values() {
            for parent in prefixes(&d.id).chain(d.within.iter().cloned()) {
                if !known.contains_key(&parent) {
                    return Err(format!(
                        "division {}: {parent}, which contains it, is not listed",
                        d.id
                    ));
                }
            }
        }
        let mut aliases = BTreeMap::new();
        for a in file.aliases {
            if known.contains_key(&a.id) {
                return Err(format!("alias {} is also listed as a division", a.id));
            }
            if !known.contains_key(&a.same_as) {
                return Err(format!(
                    "alias {}: same_as {} is not listed",
                    a.id, a.same_as
                ));
            }
            if aliases.insert(a.id.clone(), a.same_as).is_some() {
                return Err(format!("alias {} is listed twice", a.id));
            }
        }
        Ok(Divisions {
            known,
            aliases,
            source: format!("{} (read {})", file.source, file.as_of),
        })
    }

    /// Every division, in id order.
    pub fn divisions(&self) -> impl Iterator<Item = &Division> {
        self.known.values()
    }

    /// Every alias and the canonical id it names.
    pub fn aliases(&self) -> impl Iterator<Item = (&Jurisdiction, &Jurisdiction)> {
        self.aliases.iter()
    }

    /// The canonical id of a known division or alias.
    pub fn canonical<'a>(&'a self, j: &'a Jurisdiction) -> Option<&'a Jurisdiction> {
        if self.known.contains_key(j) {
            return Some(j);
        }
        self.aliases.get(j)
    }

    /// Where `j` is, for deciding: a known division or alias with everything containing it;
    /// an unknown one refused (naming it) or, under [`UnknownPlaces::Warn`], the known
    /// divisions its id lies in, with a warning.
    pub fn place(&self, j: &Jurisdiction, unknown: UnknownPlaces) -> Result<Place, InputError> {
        if let Some(id) = self.canonical(j) {
            return Ok(Place {
                within: self.containing(id),
                warning: None,
            });
        }
        let refusal = || {
            InputError::new(
                "jurisdiction",
                format!(
                    "`{j}` is not a division comity knows (catalog/divisions.toml): the law in force there cannot be determined; check the id"
                ),
            )
        };
        if unknown == UnknownPlaces::Refuse {
            return Err(refusal());
        }
        let known: Vec<Jurisdiction> = prefixes(j)
            .filter_map(|p| self.canonical(&p).cloned())
            .collect();
        let Some(nearest) = known.last() else {
            return Err(refusal());
        };
        let mut within = BTreeSet::new();
        for k in &known {
            within.extend(self.containing(k));
        }
        Ok(Place {
            warning: Some(format!(
                "jurisdiction `{j}` is not a division comity knows: decided by the law of {nearest} and what contains it only; a law of the place itself would be missed"
            )),
            within,
        })
    }

    /// A known division, every prefix of its id, and what `within` says contains them.
    fn containing(&self, id: &Jurisdiction) -> BTreeSet<Jurisdiction> {
        let mut out = BTreeSet::new();
        let mut todo = vec![id.clone()];
        while let Some(d) = todo.pop() {
            for p in prefixes(&d).chain(std::iter::once(d.clone())) {
                if out.insert(p.clone())
                    && let Some(known) = self.known.get(&p)
                {
                    todo.extend(known.within.iter().cloned());
                }
            }
        }
        out
    }
}

/// The proper prefixes of an id, from the country down: `country:us`, `country:us/state:ny`.
fn prefixes(j: &Jurisdiction) -> impl Iterator<Item = Jurisdiction> + '_ {
    let segments: Vec<&str> = j.segments().collect();
    (1..segments.len()).map(move |n| {
        format!("ocd-division/{}", segments[..n].join("/"))
            .parse()
            .expect("a prefix of a valid id is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = r#"
source = "test"
as_of = "2026-03-19"

[[divisions]]
id = "ocd-division/country:us"
name = "United States"

[[divisions]]
id = "ocd-division/country:us/state:ny"
name = "New York"

[[divisions]]
id = "ocd-division/country:us/state:ny/place:new_york"
name = "New York City"

[[divisions]]
id = "ocd-division/country:us/state:ny/county:kings"
name = "Kings County"
within = ["ocd-division/country:us/state:ny/place:new_york"]
citation = "N.Y.C. Charter § 2"

[[aliases]]
id = "ocd-division/country:us/state:ny/borough:brooklyn"
same_as = "ocd-division/country:us/state:ny/county:kings"
"#;

    fn j(s: &str) -> Jurisdiction {
        s.parse().unwrap()
    }

    fn ids(place: &Place) -> Vec<&str> {
        place.within.iter().map(Jurisdiction::as_str).collect()
    }

    #[test]
    fn a_borough_lies_in_the_city_by_its_alias_too() {
        let d = Divisions::parse(REGISTRY).unwrap();
        for id in [
            "ocd-division/country:us/state:ny/county:kings",
            "ocd-division/country:us/state:ny/borough:brooklyn",
        ] {
            let place = d.place(&j(id), UnknownPlaces::Refuse).unwrap();
            assert_eq!(
                ids(&place),
                [
                    "ocd-division/country:us",
                    "ocd-division/country:us/state:ny",
                    "ocd-division/country:us/state:ny/county:kings",
                    "ocd-division/country:us/state:ny/place:new_york",
                ]
            );
            assert_eq!(place.warning, None);
        }
    }

    #[test]
    fn an_unknown_place_is_refused_by_name_or_decided_by_its_known_parts_with_a_warning() {
        let d = Divisions::parse(REGISTRY).unwrap();
        let typo = j("ocd-division/country:us/state:ny/place:new_yrok");
        let e = d.place(&typo, UnknownPlaces::Refuse).unwrap_err();
        assert_eq!(e.field, "jurisdiction");
        assert!(e.message.contains("place:new_yrok"), "{}", e.message);
        let place = d.place(&typo, UnknownPlaces::Warn).unwrap();
        assert_eq!(
            ids(&place),
            [
                "ocd-division/country:us",
                "ocd-division/country:us/state:ny"
            ]
        );
        assert!(place.warning.unwrap().contains("place:new_yrok"));
        let abroad = j("ocd-division/country:mx/state:son");
        assert!(d.place(&abroad, UnknownPlaces::Warn).is_err());
    }

    #[test]
    fn a_registry_that_contradicts_itself_is_refused() {
        let orphan = REGISTRY.replace(
            "id = \"ocd-division/country:us/state:ny\"\n",
            "id = \"ocd-division/country:us/state:nj\"\n",
        );
        let e = Divisions::parse(&orphan).unwrap_err();
        assert!(
            e.contains("state:ny, which contains it, is not listed"),
            "{e}"
        );
        let dangling = format!(
            "{REGISTRY}\n[[aliases]]\nid = \"ocd-division/country:us/state:ny/borough:bronx\"\nsame_as = \"ocd-division/country:us/state:ny/county:bronx\"\n"
        );
        assert!(
            Divisions::parse(&dangling)
                .unwrap_err()
                .contains("county:bronx is not listed")
        );
        let twice = format!(
            "{REGISTRY}\n[[divisions]]\nid = \"ocd-division/country:us\"\nname = \"again\"\n"
        );
        assert!(
            Divisions::parse(&twice)
                .unwrap_err()
                .contains("listed twice")
        );
        let uncited = REGISTRY.replace("citation = \"N.Y.C. Charter § 2\"\n", "");
        assert!(
            Divisions::parse(&uncited)
                .unwrap_err()
                .contains("needs a `citation`")
        );
    }
}
