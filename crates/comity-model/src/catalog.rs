//! Offense catalogs: every offense of a state's code, its classes, and the legal lists it
//! belongs to (`catalog/*.toml`, described in `catalog/README.md`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::division::Divisions;
use crate::offense::OffenseCode;
use crate::time::Date;
use crate::vocab::OffenseClass;

/// A legal list of offenses that packs refer to by name (e.g. `nyc-vsc`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenseList {
    /// What the law calls the list.
    pub title: String,
    /// Where the list is defined.
    pub citation: String,
    /// Whether only a felony conviction of a listed section counts.
    #[serde(default)]
    pub felony_only: bool,
    /// The date the list has force from, if it is later than the code's.
    #[serde(default)]
    pub effective_from: Option<Date>,
    /// How well the list's membership is verified.
    pub confidence: Confidence,
}

crate::words! {
    /// How well a fact of law is verified: VERIFIED (the text was read), SECONDARY (a
    /// reliable secondary source), UNCONFIRMED (not found in text).
    pub enum Confidence: "confidence" {
        /// Checked against the text of the law or a primary source.
        Verified = "VERIFIED",
        /// Reported by a secondary source.
        Secondary = "SECONDARY",
        /// From background knowledge, or the sources disagree.
        Unconfirmed = "UNCONFIRMED",
    }
}

/// One offense of a code: a section, or a subdivision where it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offense {
    /// The section with any subdivisions, e.g. `265.02(3)`.
    pub section: String,
    /// Its title in the code.
    pub title: String,
    /// The classes it can carry.
    pub classes: BTreeSet<OffenseClass>,
    /// The lists it belongs to.
    pub lists: BTreeSet<String>,
}

/// The catalog of one code of one state (`NY PL`, `CA PC`, …).
#[derive(Debug, Clone)]
pub struct CodeCatalog {
    /// The prefix used in offense codes, e.g. `NY PL`.
    pub code: String,
    /// The code's name.
    pub title: String,
    offenses: HashMap<String, Offense>,
    /// Sections known only by their subdivisions: section → its subdivisions' keys.
    by_parent: HashMap<String, Vec<String>>,
}

/// The division registry's file name in a catalog directory.
pub const DIVISIONS_FILE: &str = "divisions.toml";

/// Every catalog, and every list they define, and the division registry.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    codes: HashMap<String, CodeCatalog>,
    lists: BTreeMap<String, OffenseList>,
    divisions: Divisions,
}

/// A catalog file that cannot be read or is not of the documented shape.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file or directory cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not of the documented shape.
    #[error("{path}: {message}")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    code: String,
    title: String,
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    as_of: Date,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    lists: BTreeMap<String, OffenseList>,
    offenses: Vec<OffenseEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffenseEntry {
    section: String,
    title: String,
    class: OneOrMany,
    #[serde(default)]
    lists: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// What a catalog knows of one offense code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The code's catalog.
    pub catalog: &'a CodeCatalog,
    /// The classes the offense can carry.
    pub classes: BTreeSet<OffenseClass>,
    /// The lists the offense belongs to: for a section known by its subdivisions, the lists
    /// every subdivision is in.
    pub lists: BTreeSet<&'a str>,
    /// The lists the offense may belong to: for a section known by its subdivisions, the
    /// lists any subdivision is in. What excepts an offense reads these, so that naming a
    /// section without its subdivision does not escape an exception.
    pub maybe_lists: BTreeSet<&'a str>,
}

impl PartialEq for CodeCatalog {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for CodeCatalog {}

impl Catalogs {
    /// Loads every `*.toml` catalog in `dir`, and its division registry
    /// ([`DIVISIONS_FILE`]), which must be there: without it no place is known.
    pub fn load(dir: &Path) -> Result<Catalogs, CatalogError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CatalogError::Io { path, source }
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
        paths.sort();
        let registry = dir.join(DIVISIONS_FILE);
        paths.retain(|p| *p != registry);
        let text = std::fs::read_to_string(&registry).map_err(io(&registry))?;
        let mut catalogs = Catalogs {
            divisions: Divisions::parse(&text).map_err(|message| CatalogError::Invalid {
                path: registry.clone(),
                message,
            })?,
            ..Catalogs::default()
        };
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            catalogs
                .add(&text)
                .map_err(|message| CatalogError::Invalid {
                    path: path.clone(),
                    message,
                })?;
        }
        Ok(catalogs)
    }

    /// The division registry.
    pub fn divisions(&self) -> &Divisions {
        &self.divisions
    }

    /// Adds one catalog file's text.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if self.codes.contains_key(&file.code) {
            return Err(format!("code `{}` is defined twice", file.code));
        }
        for (name, list) in file.lists {
            match self.lists.get(&name) {
                Some(existing) if *existing != list => {
                    return Err(format!("list `{name}` is defined differently elsewhere"));
                }
                _ => {
                    self.lists.insert(name, list);
                }
            }
        }
        let mut offenses = HashMap::with_capacity(file.offenses.len());
        for entry in file.offenses {
            let offense = self.offense_of(&file.code, entry)?;
            let section = offense.section.clone();
            if offenses.insert(section.clone(), offense).is_some() {
                return Err(format!("section `{section}` is listed twice"));
            }
        }
        let by_parent = sections_by_parent(&offenses);
        let catalog = CodeCatalog {
            code: file.code.clone(),
            title: file.title,
            offenses,
            by_parent,
        };
        self.codes.insert(file.code, catalog);
        Ok(())
    }

    /// An offense of the code `code` as its catalog lists it: a well-formed section, at
    /// least one class, and lists defined.
    fn offense_of(&self, code: &str, entry: OffenseEntry) -> Result<Offense, String> {
        let parsed: OffenseCode = format!("{code} {}", entry.section)
            .parse()
            .map_err(|e| format!("section `{}`: {e}", entry.section))?;
        let words = match entry.class {
            OneOrMany::One(w) => vec![w],
            OneOrMany::Many(ws) => ws,
        };
        let classes = words
            .iter()
            .map(|w| w.parse::<OffenseClass>())
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|e| format!("section `{}`: {e}", entry.section))?;
        if classes.is_empty() {
            return Err(format!("section `{}` has no class", entry.section));
        }
        if let Some(list) = entry.lists.iter().find(|l| !self.lists.contains_key(*l)) {
            return Err(format!(
                "section `{}`: list `{list}` is not defined",
                entry.section
            ));
        }
        Ok(Offense {
            section: parsed.section().to_owned(),
            title: entry.title,
            classes,
            lists: entry.lists.into_iter().collect(),
        })
    }

    /// The list named `name`.
    pub fn list(&self, name: &str) -> Option<&OffenseList> {
        self.lists.get(name)
    }

    /// The definition of list `name` and the sections in it, as text that changes exactly
    /// when either does. How an offense a request names resolves against the list depends
    /// on its code's other sections too (a section known by its subdivisions, the classes a
    /// wobbler can carry): see [`Catalogs::code_text`] and [`Catalogs::codes_of_list`]. A
    /// signed pack release carries the digests of both, so that a changed list or code is
    /// refused like a changed rule.
    pub fn list_text(&self, name: &str) -> Option<String> {
        let list = self.lists.get(name)?;
        let mut text = format!(
            "list {name}\ntitle {}\ncitation {}\nfelony_only {}\neffective_from {}\nconfidence {}\n",
            list.title,
            list.citation,
            list.felony_only,
            list.effective_from
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
            list.confidence
        );
        let mut members: Vec<(&str, &str)> = self
            .codes
            .values()
            .flat_map(|c| c.offenses.values().map(move |o| (c.code.as_str(), o)))
            .filter(|(_, o)| o.lists.contains(name))
            .map(|(code, o)| (code, o.section.as_str()))
            .collect();
        members.sort();
        for (code, section) in members {
            text.push_str(&format!("{code} {section}\n"));
        }
        Some(text)
    }

    /// The codes (`NY PL`) holding a section in list `name`.
    pub fn codes_of_list(&self, name: &str) -> BTreeSet<&str> {
        self.codes
            .values()
            .filter(|c| c.offenses.values().any(|o| o.lists.contains(name)))
            .map(|c| c.code.as_str())
            .collect()
    }

    /// Every code's prefix (`NY PL`, `CA PC`, …).
    pub fn code_names(&self) -> BTreeSet<&str> {
        self.codes.keys().map(String::as_str).collect()
    }

    /// Every section of `code` with its classes and lists, in section order, as text that
    /// changes exactly when what the code says of any offense does.
    pub fn code_text(&self, code: &str) -> Option<String> {
        let catalog = self.codes.get(code)?;
        let mut entries: Vec<&Offense> = catalog.offenses.values().collect();
        entries.sort_by(|a, b| a.section.cmp(&b.section));
        let mut text = format!("code {code}\n");
        for o in entries {
            let classes: Vec<&str> = o.classes.iter().map(|k| k.as_str()).collect();
            let lists: Vec<&str> = o.lists.iter().map(String::as_str).collect();
            text.push_str(&format!(
                "{} {} {}\n",
                o.section,
                classes.join(","),
                lists.join(",")
            ));
        }
        Some(text)
    }

    /// Every list, by name.
    pub fn lists(&self) -> &BTreeMap<String, OffenseList> {
        &self.lists
    }

    /// Every code's catalog.
    pub fn codes(&self) -> impl Iterator<Item = &CodeCatalog> {
        self.codes.values()
    }

    /// The catalog of a code (`NY PL`).
    pub fn code(&self, code: &str) -> Option<&CodeCatalog> {
        self.codes.get(code)
    }

    /// What the catalogs know of an offense code: exactly, else by its section without its
    /// last subdivisions, else by the subdivisions of the section it names.
    pub fn resolve(&self, offense: &OffenseCode) -> Option<Resolved<'_>> {
        let catalog = self.codes.get(offense.code())?;
        let mut section = offense.section();
        loop {
            if let Some(o) = catalog.offenses.get(section) {
                let lists: BTreeSet<&str> = o.lists.iter().map(String::as_str).collect();
                return Some(Resolved {
                    catalog,
                    classes: o.classes.clone(),
                    maybe_lists: lists.clone(),
                    lists,
                });
            }
            if let Some(children) = catalog.by_parent.get(section) {
                let mut subs = children.iter().map(|k| &catalog.offenses[k]);
                let first = subs.next()?;
                let mut classes = first.classes.clone();
                let mut lists: BTreeSet<&str> = first.lists.iter().map(String::as_str).collect();
                let mut maybe_lists = lists.clone();
                for o in subs {
                    classes.extend(o.classes.iter().copied());
                    lists.retain(|l| o.lists.contains(*l));
                    maybe_lists.extend(o.lists.iter().map(String::as_str));
                }
                return Some(Resolved {
                    catalog,
                    classes,
                    lists,
                    maybe_lists,
                });
            }
            section = OffenseCode::parent_section(section)?;
        }
    }

    /// Whether an offense of `class` is in any of `lists` as they stand on `on` (a section
    /// known by its subdivisions: if every subdivision is).
    pub fn in_any_list(
        &self,
        offense: &OffenseCode,
        class: OffenseClass,
        lists: &[String],
        on: Date,
    ) -> bool {
        self.listed(offense, class, lists, on, false)
    }

    /// Whether an offense of `class` may be in any of `lists` as they stand on `on` (a
    /// section known by its subdivisions: if any subdivision is): what an exception reads.
    pub fn may_be_in_any_list(
        &self,
        offense: &OffenseCode,
        class: OffenseClass,
        lists: &[String],
        on: Date,
    ) -> bool {
        self.listed(offense, class, lists, on, true)
    }

    /// Whether the offense's lists (with `any_subdivision`, those any subdivision of a
    /// section known by its subdivisions is in) hold one of `lists`, in force on `on` and
    /// counting `class`.
    fn listed(
        &self,
        offense: &OffenseCode,
        class: OffenseClass,
        lists: &[String],
        on: Date,
        any_subdivision: bool,
    ) -> bool {
        let Some(resolved) = self.resolve(offense) else {
            return false;
        };
        let names = if any_subdivision {
            &resolved.maybe_lists
        } else {
            &resolved.lists
        };
        lists.iter().any(|name| {
            names.contains(name.as_str())
                && self.lists.get(name).is_some_and(|l| {
                    (!l.felony_only || class.is_felony())
                        && l.effective_from.is_none_or(|from| from <= on)
                })
        })
    }

    /// Number of offenses in every catalog.
    pub fn len(&self) -> usize {
        self.codes.values().map(|c| c.offenses.len()).sum()
    }

    /// Whether no catalog holds an offense.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CodeCatalog {
    /// Every offense of the code.
    pub fn offenses(&self) -> impl Iterator<Item = &Offense> {
        self.offenses.values()
    }

    /// The offense with this exact section key.
    pub fn offense(&self, section: &str) -> Option<&Offense> {
        self.offenses.get(section)
    }
}

/// Sections known only by their subdivisions: for each section no entry names whose
/// subdivisions some entry does, those subdivisions.
fn sections_by_parent(offenses: &HashMap<String, Offense>) -> HashMap<String, Vec<String>> {
    let mut by_parent: HashMap<String, Vec<String>> = HashMap::new();
    for key in offenses.keys() {
        let mut child = key.as_str();
        while let Some(parent) = OffenseCode::parent_section(child) {
            if !offenses.contains_key(parent) {
                by_parent
                    .entry(parent.to_owned())
                    .or_default()
                    .push(key.clone());
            }
            child = parent;
        }
    }
    by_parent
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../testdata/catalog-ny-pl.toml");

    fn sample() -> Catalogs {
        let mut c = Catalogs::default();
        c.add(SAMPLE).unwrap();
        c
    }

    fn code(s: &str) -> OffenseCode {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn resolves_exact_parent_and_children() {
        let c = sample();
        assert!(
            c.resolve(&code("NY PL 160.15"))
                .unwrap()
                .lists
                .contains("vsc")
        );
        assert!(
            c.resolve(&code("NY PL 160.15(4)"))
                .unwrap()
                .lists
                .contains("vsc")
        );
        assert!(
            c.resolve(&code("NY PL 265.02(2)"))
                .unwrap()
                .lists
                .contains("vsc")
        );
        assert!(
            c.resolve(&code("NY PL 265.02(1)"))
                .unwrap()
                .lists
                .is_empty()
        );
        let whole = c.resolve(&code("NY PL 265.02")).unwrap();
        assert!(
            whole.lists.is_empty(),
            "in a list only if every subdivision is"
        );
        assert_eq!(whole.classes, [OffenseClass::DFelony].into());
        assert!(c.resolve(&code("NY PL 999.99")).is_none());
        assert!(c.resolve(&code("CA PC 187")).is_none());
    }

    #[test]
    fn list_membership_honours_felony_only_and_dates() {
        let c = sample();
        let vsc = ["vsc".to_owned()];
        let on = date("2018-01-01");
        assert!(c.in_any_list(&code("NY PL 160.15"), OffenseClass::BFelony, &vsc, on));
        assert!(!c.in_any_list(&code("NY PL 160.15"), OffenseClass::AMisdemeanor, &vsc, on));
        let later = ["later".to_owned()];
        let luring = code("NY PL 120.70");
        assert!(!c.in_any_list(&luring, OffenseClass::EFelony, &later, date("2019-12-31")));
        assert!(c.in_any_list(&luring, OffenseClass::EFelony, &later, date("2020-01-01")));
    }

    #[test]
    fn bad_files_are_refused_with_reason() {
        let mut c = Catalogs::default();
        let unknown_key = SAMPLE.replace("felony_only = true", "felony_only = true\nfelonly = 1");
        assert!(c.add(&unknown_key).unwrap_err().contains("felonly"));
        let bad_class = SAMPLE.replace("\"B-felony\"", "\"B-felonyy\"");
        assert!(
            Catalogs::default()
                .add(&bad_class)
                .unwrap_err()
                .contains("B-felonyy")
        );
        let undefined = SAMPLE.replace(
            "lists = [\"vsc\"] },\n  { section = \"155.30\"",
            "lists = [\"nyc-vcs\"] },\n  { section = \"155.30\"",
        );
        assert!(
            Catalogs::default()
                .add(&undefined)
                .unwrap_err()
                .contains("nyc-vcs")
        );
        let twice = SAMPLE.replace("\"265.02(1)\"", "\"160.15\"");
        assert!(
            Catalogs::default()
                .add(&twice)
                .unwrap_err()
                .contains("twice")
        );
    }
}

/// What to do with a well-formed offense code that no catalog holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownOffenses {
    /// Refuse the request (the default).
    #[default]
    Refuse,
    /// Decide it, with a warning on the decision; the offense is in no list.
    Warn,
}

impl Catalogs {
    /// Checks every offense a request names against the catalogs: an unknown offense is an
    /// error (or a warning, returned, under [`UnknownOffenses::Warn`]); a class its section
    /// cannot carry is always an error, except for inchoate judgments, whose class differs
    /// from the object offense's.
    pub fn check_request(
        &self,
        request: &crate::Request,
        unknown: UnknownOffenses,
    ) -> Result<Vec<String>, crate::InputError> {
        use crate::InputError;
        let mut warnings = Vec::new();
        for named in named_offenses(&request.subject) {
            let Some(resolved) = self.resolve(named.offense) else {
                let offense = named.offense;
                let known = self.codes.get(offense.code()).map(|c| c.title.as_str());
                let message = match known {
                    Some(title) => {
                        format!("unknown offense `{offense}`: not in the {title} catalog")
                    }
                    None => format!(
                        "unknown offense `{offense}`: no catalog for code `{}`",
                        offense.code()
                    ),
                };
                match unknown {
                    UnknownOffenses::Refuse => return Err(InputError::new(named.field, message)),
                    UnknownOffenses::Warn => {
                        warnings.push(format!("{}: {message}; counted in no list", named.field));
                        continue;
                    }
                }
            };
            if let Some((field, class)) = named.class
                && !resolved.classes.contains(&class)
            {
                let allowed: Vec<_> = resolved.classes.iter().map(|c| c.as_str()).collect();
                return Err(InputError::new(
                    field,
                    format!(
                        "`{class}` is not a class of {} ({})",
                        named.offense,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(warnings)
    }
}

/// An offense a request names, with the field that names it and, where its class must be
/// one the section can carry, the class field and class.
struct NamedOffense<'a> {
    field: String,
    offense: &'a OffenseCode,
    class: Option<(String, OffenseClass)>,
}

/// Every offense a subject's record names: each conviction's offense (its class checked,
/// except for an inchoate judgment, whose class differs from the object offense's) and the
/// equivalent it states, and each pending charge's offense.
fn named_offenses(subject: &crate::Subject) -> impl Iterator<Item = NamedOffense<'_>> {
    let convictions = subject.convictions.iter().enumerate().flat_map(|(i, c)| {
        let at = format!("subject.convictions[{i}]");
        let own = NamedOffense {
            field: format!("{at}.offense"),
            offense: &c.offense,
            class: c
                .inchoate
                .is_none()
                .then(|| (format!("{at}.class"), c.class)),
        };
        let equivalent = c.equivalent.as_ref().map(|e| NamedOffense {
            field: format!("{at}.equivalent"),
            offense: e,
            class: None,
        });
        std::iter::once(own).chain(equivalent)
    });
    let charges = subject
        .pending_charges
        .iter()
        .enumerate()
        .map(|(i, c)| NamedOffense {
            field: format!("subject.pending_charges[{i}].offense"),
            offense: &c.offense,
            class: Some((format!("subject.pending_charges[{i}].class"), c.class)),
        });
    convictions.chain(charges)
}
