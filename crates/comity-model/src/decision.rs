//! The decision contract (`docs/formats.md`, "Decision").

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::time::Instant;
use crate::vocab::Act;

/// What comity decided for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The request's id.
    pub request: String,
    /// The instant whose law decided (the request's `received_at`).
    pub at: Instant,
    /// The packs in force, with the SHA-256 of their contents.
    pub packs: Vec<PackRef>,
    /// One entry per act asked, in the order asked.
    pub acts: Vec<ActDecision>,
    /// Things a reader must know that are not reasons (an offense allowed though unknown, a
    /// fact measured from a fallback date).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A pack that was in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    /// `<jurisdiction>@<effective-from>`.
    pub id: String,
    /// SHA-256 of the pack's files, hex.
    pub sha256: String,
    /// The pack's signed release, when it has one: carried to the ledger's `pack-loaded`
    /// entry, which records it once, and not written in the decision.
    #[serde(skip)]
    pub signature: Option<std::sync::Arc<str>>,
}

/// The outcome for one act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActDecision {
    /// The act.
    pub act: Act,
    /// Required, permitted or forbidden.
    pub outcome: Outcome,
    /// Why; never empty. Shared, since the same rule explains many decisions.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Reason>))]
    pub reasons: Vec<Arc<Reason>>,
    /// The restrictions that applied to the situation and were satisfied: for each, the rule
    /// that restricts the act and, as its `summary`, the exception the situation met (e.g.
    /// "§ 9-131(h)(1)(i): convicted of a violent or serious crime …"). What let a permitted
    /// act through the local law, or what a forbidden act did satisfy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Reason>))]
    pub met: Vec<Arc<Reason>>,
    /// Conditions on a permitted or required act; on a forbidden act, only the notices owed
    /// whatever the outcome.
    pub limits: Vec<Limit>,
    /// What the agency does, in one plain line, from the deciding rule of the most local law
    /// (its `@instruction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
}

impl ActDecision {
    /// What the law in force lets the act carry: the fields every one of its `discloses`
    /// limits allows, in the vocabulary's order; `None` when no law says, or the act tells
    /// nothing.
    pub fn allowed_fields(&self) -> Option<Vec<crate::RecordField>> {
        allowed_fields(self.act, self.limits.iter().map(|l| l.discloses.as_slice()))
    }

    /// The binding `hold_until` limit: the instant a hold must end, with the rule that sets
    /// it; none when the act has no deadline.
    pub fn binding_hold(&self) -> Option<(&Limit, Instant)> {
        self.limits
            .iter()
            .filter(|l| l.binding)
            .find_map(|l| l.hold_until.map(|at| (l, at)))
    }
}

/// What the law makes of an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The agency must do it.
    Required,
    /// The agency may do it.
    Permitted,
    /// The agency must not do it.
    Forbidden,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Required => "required",
            Outcome::Permitted => "permitted",
            Outcome::Forbidden => "forbidden",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule that produced an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The rule's `@id`.
    pub rule: String,
    /// The pack it belongs to.
    pub pack: String,
    /// The statute it encodes.
    pub citation: String,
    /// What it says, in a sentence.
    pub summary: String,
    /// The facts the rule reads, with their values for this request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, serde_json::Value>,
    /// A caution the rule carries (e.g. case law casting doubt on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caution: Option<String>,
}

/// The fields `act` may carry under `lists`, each limit's `discloses` (an empty list is no
/// limit on what is carried): those every list allows, in the vocabulary's order; `None` when
/// no list is given, or the act tells nothing. For readers of a decision as it is stored.
pub fn allowed_fields<'a>(
    act: crate::Act,
    lists: impl IntoIterator<Item = &'a [crate::RecordField]>,
) -> Option<Vec<crate::RecordField>> {
    let lists: Vec<&[crate::RecordField]> = lists.into_iter().filter(|d| !d.is_empty()).collect();
    if !act.tells() || lists.is_empty() {
        return None;
    }
    Some(
        crate::RecordField::ALL
            .iter()
            .copied()
            .filter(|f| lists.iter().all(|l| l.contains(f)))
            .collect(),
    )
}

impl Limit {
    /// A limit imposed by `rule` of `pack` under `citation`, as yet without its condition
    /// (a hold deadline, a notice, an approval, what may be disclosed).
    pub fn by(rule: String, pack: String, citation: String) -> Limit {
        Limit {
            hold_until: None,
            binding: false,
            notice: Vec::new(),
            approval: None,
            discloses: Vec::new(),
            rule,
            pack,
            citation,
        }
    }
}

/// A condition that travels with a permitted or required act, or a notice owed whatever the
/// act's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// The person must be released by this instant if not taken into custody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<Instant>,
    /// Set on the one `hold_until` that binds, the earliest of the act's; the others are
    /// context (each law's own limit).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binding: bool,
    /// Who must be given notice (e.g. `subject`, `counsel`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notice: Vec<String>,
    /// Whose approval is needed first (e.g. `privacy-officer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// What the act may carry to its recipient, by one law in force (a pack's `[discloses]`):
    /// the act carries only what every such limit allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discloses: Vec<crate::RecordField>,
    /// The rule that imposes the limit.
    pub rule: String,
    /// The pack it belongs to.
    pub pack: String,
    /// The statute that imposes it.
    pub citation: String,
}
