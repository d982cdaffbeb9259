//! The text of the law beside the rule that encodes it: `<rule file>.statute.toml`, the
//! section as in force on the effective date of the version that wrote the rule file, with
//! its source, the day it was read, and whether the words are the statute's own.

use comity_model::{Confidence, Date};
use serde::Deserialize;

use crate::files::{PackFile, STATUTE_SUFFIX};

comity_model::words! {
    /// Whether a statute file gives the statute's own words.
    pub enum Wording: "wording" {
        /// Every paragraph is the statute's own words.
        Verbatim = "verbatim",
        /// Every paragraph is a summary, not the statute's words.
        Paraphrase = "paraphrase",
        /// Each paragraph says whether it is verbatim.
        Mixed = "mixed",
    }
}

/// A statute file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statute {
    /// The section (or sections) the rule file encodes, as cited.
    pub section: String,
    /// The day the text is as in force on: the effective date of the version that wrote
    /// the rule file.
    pub in_force_on: Date,
    /// Where the text comes from.
    pub source: String,
    /// Where it can be read.
    #[serde(default)]
    pub url: Option<String>,
    /// The day it was read, when recorded.
    #[serde(default)]
    pub read_on: Option<Date>,
    /// Whether the words are the statute's own.
    pub wording: Wording,
    /// How well the text is verified.
    pub confidence: Confidence,
    /// What a reviewer must know about the text.
    #[serde(default)]
    pub note: Option<String>,
    /// The paragraphs the rules encode.
    pub paragraphs: Vec<Paragraph>,
}

/// One paragraph of a statute, with the rules of its rule file that encode it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paragraph {
    /// The subdivision, as rule citations write it: `(b)(1)`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its words, or their summary.
    pub text: String,
    /// The `@id` of each rule of the rule file that encodes it.
    #[serde(default)]
    pub rules: Vec<String>,
    /// With `wording = "mixed"`: whether this paragraph is the statute's own words.
    #[serde(default)]
    pub verbatim: Option<bool>,
}

impl Paragraph {
    /// Whether the paragraph gives the statute's own words, in a file of `wording`.
    pub fn is_verbatim(&self, wording: Wording) -> bool {
        match wording {
            Wording::Verbatim => true,
            Wording::Paraphrase => false,
            Wording::Mixed => self.verbatim == Some(true),
        }
    }
}

/// A statute file of the law in force, read and checked.
#[derive(Debug, Clone)]
pub struct StatuteFile {
    /// The file.
    pub file: PackFile,
    /// What it says.
    pub statute: Statute,
}

impl StatuteFile {
    /// The name of the rule file it sits beside.
    pub fn rule_file(&self) -> String {
        rule_file_of(&self.file.name)
    }
}

/// The name of the rule file a statute file of `name` sits beside: `x.statute.toml` →
/// `x.cedar`.
pub(crate) fn rule_file_of(name: &str) -> String {
    let stem = name.strip_suffix(STATUTE_SUFFIX).unwrap_or(name);
    format!("{stem}.cedar")
}

/// Reads a statute file's `text` and checks it against the ids of its rule file's rules
/// (`rule_ids`; `None` when there is no such rule file).
pub(crate) fn read_statute(
    file: &PackFile,
    text: &str,
    rule_ids: Option<&[&str]>,
) -> Result<Statute, String> {
    let statute: Statute = toml::from_str(text).map_err(|e| e.to_string())?;
    let Some(rule_ids) = rule_ids else {
        return Err("no rule file of the same name is beside it".into());
    };
    if statute.in_force_on != file.written_in {
        return Err(format!(
            "in_force_on: the text is of the version it sits in, {}",
            file.written_in
        ));
    }
    if statute.section.trim().is_empty() || statute.source.trim().is_empty() {
        return Err("give the section and the source of its text".into());
    }
    if statute.paragraphs.is_empty() {
        return Err("paragraphs: give the text of at least one".into());
    }
    for p in &statute.paragraphs {
        check_paragraph(p, statute.wording, rule_ids)?;
    }
    Ok(statute)
}

fn check_paragraph(p: &Paragraph, wording: Wording, rule_ids: &[&str]) -> Result<(), String> {
    let at = &p.reference;
    if at.trim().is_empty() || p.text.trim().is_empty() {
        return Err("paragraphs: each has a ref and a text".into());
    }
    if p.verbatim.is_some() != (wording == Wording::Mixed) {
        return Err(format!(
            "paragraph {at}: `verbatim` is given exactly when wording = \"mixed\""
        ));
    }
    match p.rules.iter().find(|r| !rule_ids.contains(&r.as_str())) {
        Some(r) => Err(format!(
            "paragraph {at}: `{r}` is not a rule of the rule file beside it"
        )),
        None => Ok(()),
    }
}
