//! Annotated Cedar: files in which every policy is a named rule that says where it comes
//! from. The one reader of them, for the law packs and for the API's access pack.
//!
//! Every policy carries `@id` (lower-kebab-case, used once in its file) and the
//! annotations its kind of pack requires; an annotation the pack does not know is refused
//! (a misspelt `@sumary` would otherwise be silently ignored). Policies come back in the
//! order written and keyed by their `@id`, so that an error, a refusal or a reason names
//! the rule as its author wrote it.

use std::collections::HashMap;

use cedar_policy::{ParseErrors, Policy, PolicyId, PolicySet};

/// What a kind of annotated pack requires of its rules' annotations.
#[derive(Debug, Clone, Copy)]
pub struct Annotations<'a> {
    /// Every annotation a rule may carry (`id` among them).
    pub known: &'a [&'a str],
    /// The annotations every rule must carry, non-empty (besides `id`).
    pub required: &'a [&'a str],
}

/// One rule of an annotated file.
#[derive(Debug, Clone)]
pub struct AnnotatedRule {
    /// Its `@id`.
    pub id: String,
    /// The policy, re-keyed by its `@id`.
    pub policy: Policy,
    /// Where it is written in the file (the rules' order).
    pub offset: usize,
    /// The line it begins on (from 1).
    pub line: usize,
}

impl AnnotatedRule {
    /// The value of a required annotation (checked non-empty when the file was read).
    pub fn required(&self, key: &str) -> &str {
        self.policy.annotation(key).unwrap_or_default()
    }
}

/// An annotated file that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct AnnotatedError {
    /// The line of the rule at fault (of the first error, for a parse error), when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Reads an annotated Cedar file: its rules in the order written, each keyed by its `@id`.
pub fn read_annotated(
    text: &str,
    annotations: Annotations<'_>,
) -> Result<Vec<AnnotatedRule>, AnnotatedError> {
    let set: PolicySet = text
        .parse()
        .map_err(|e: ParseErrors| parse_error(text, &e))?;
    let mut rules = Vec::new();
    let mut seen = HashMap::new();
    for policy in set.policies() {
        let offset = position(text, policy, &mut seen);
        let line = line_col(text, offset).0;
        check_annotations(policy, annotations).map_err(|message| AnnotatedError {
            line: Some(line),
            message,
        })?;
        let id = policy.annotation("id").unwrap_or_default().to_owned();
        rules.push(AnnotatedRule {
            policy: policy.new_id(PolicyId::new(&id)),
            id,
            offset,
            line,
        });
    }
    rules.sort_by_key(|r| r.offset);
    if let Some(twice) = rules.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(AnnotatedError {
            line: Some(twice[1].line),
            message: format!("@id(\"{}\") is used twice", twice[1].id),
        });
    }
    Ok(rules)
}

/// The annotations of one policy: only known ones, the required ones non-empty, and an
/// `@id` in lower-kebab-case.
fn check_annotations(policy: &Policy, annotations: Annotations<'_>) -> Result<(), String> {
    for (key, _) in policy.annotations() {
        if !annotations.known.contains(&key) {
            return Err(format!(
                "unknown annotation @{key} (known: {})",
                annotations.known.join(", ")
            ));
        }
    }
    for key in std::iter::once(&"id").chain(annotations.required) {
        if policy.annotation(key).is_none_or(|v| v.trim().is_empty()) {
            return Err(format!("every rule needs @{key}(\"…\")"));
        }
    }
    let id = policy.annotation("id").unwrap_or_default();
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!("@id(\"{id}\"): ids are lower-kebab-case"));
    }
    Ok(())
}

/// Where a policy is written in its file. Cedar keeps each policy's own text (a slice of
/// the file) but not its span: the `n`-th policy of a given text seen is its `n`-th
/// occurrence (`seen` counts them).
fn position(text: &str, policy: &Policy, seen: &mut HashMap<String, usize>) -> usize {
    let own = policy.to_string();
    let n = seen.entry(own.clone()).or_default();
    let offset = text
        .match_indices(&own)
        .nth(*n)
        .map_or(text.len(), |(i, _)| i);
    *n += 1;
    offset
}

/// The line and column (from 1) of a byte offset of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn parse_error(text: &str, e: &ParseErrors) -> AnnotatedError {
    AnnotatedError {
        line: None,
        message: located(text, e),
    }
}

/// A Cedar diagnostic with the line and column of its first label, and its help.
pub(crate) fn located(text: &str, d: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    if let Some(label) = d.labels().and_then(|mut l| l.next()) {
        let (line, col) = line_col(text, label.offset());
        out.push_str(&format!("line {line}, column {col}: "));
    }
    out.push_str(&d.to_string());
    let mut source = std::error::Error::source(d);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    if let Some(help) = d.help() {
        out.push_str(&format!(" (help: {help})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: Annotations<'static> = Annotations {
        known: &["id", "citation", "summary"],
        required: &["citation"],
    };

    fn rule(id: &str, extra: &str) -> String {
        format!("@id(\"{id}\")\n@citation(\"c\")\n{extra}permit (principal, action, resource);\n")
    }

    #[test]
    fn rules_come_back_in_the_order_written_keyed_by_id() {
        let text = [rule("zeta", ""), rule("alpha", ""), rule("mid", "")].concat();
        let rules = read_annotated(&text, LAW).unwrap();
        let ids: Vec<_> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["zeta", "alpha", "mid"]);
        assert_eq!(rules.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 4, 7]);
        assert_eq!(rules[1].policy.id().to_string(), "alpha");
        assert_eq!(rules[1].required("citation"), "c");
    }

    #[test]
    fn a_wrong_annotation_is_refused_naming_its_line() {
        let cases = [
            (rule("a", "@sumary(\"s\")\n"), "unknown annotation @sumary"),
            (
                "@id(\"a\")\npermit (principal, action, resource);".to_owned(),
                "needs @citation",
            ),
            (
                "@citation(\"c\")\npermit (principal, action, resource);".to_owned(),
                "needs @id",
            ),
            (rule("Not_Kebab", ""), "lower-kebab-case"),
            ([rule("a", ""), rule("a", "")].concat(), "used twice"),
        ];
        for (text, expected) in cases {
            let e = read_annotated(&text, LAW).unwrap_err();
            assert!(e.to_string().contains(expected), "{text}: {e}");
        }
        let twice = read_annotated(&[rule("a", ""), rule("a", "")].concat(), LAW).unwrap_err();
        assert_eq!(twice.line, Some(4));
    }

    #[test]
    fn a_parse_error_names_line_and_column() {
        let e = read_annotated(
            "@id(\"a\")\npermit (principal, action, resource)\nwhen { 1 + };",
            LAW,
        )
        .unwrap_err();
        assert!(e.message.starts_with("line 3, column"), "{e}");
    }
}
