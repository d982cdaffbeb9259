//! One side of a comparison: the law in force at a place on a day, under one pack directory,
//! and its rules for an act as one Cedar policy set.

use cedar_policy::{Effect, PolicySet};
use comity_model::{Act, Date, Jurisdiction, Request, UnknownPlaces};
use comity_policy::{Engine, Gap, Pack, forbids_set_aside};
use serde_json::{Value, json};

use crate::DiffError;
use crate::facts::FactNames;

/// The law in force at a place on a day.
pub(crate) struct Law<'e> {
    /// The packs in force, the least local first.
    pub(crate) packs: Vec<&'e Pack>,
    /// Where the law is not encoded: the engine refuses the acts these cover.
    pub(crate) gaps: Vec<Gap>,
}

/// The least a request at `place` on `day` asking `act` says: what a counterexample fills
/// in. Received at noon UTC, which is the same day in every US time zone.
pub(crate) fn skeleton(place: &Jurisdiction, day: Date, act: Act) -> Value {
    json!({
        "id": format!("diff-{act}"),
        "received_at": format!("{day}T12:00:00Z"),
        "jurisdiction": place.as_str(),
        "from": { "agency": "SYNTHETIC-REQUESTER", "kind": "federal-immigration" },
        "to": { "agency": "SYNTHETIC-AGENCY", "kind": "corrections" },
        "acts": [act.as_str()],
        "subject": { "id": "synthetic-person-1" },
    })
}

/// The law `engine`'s packs put in force at `place` on `day`.
pub(crate) fn in_force<'e>(
    engine: &'e Engine,
    place: &Jurisdiction,
    day: Date,
) -> Result<Law<'e>, DiffError> {
    let request = Request::from_value(skeleton(place, day, Act::Hold))
        .map_err(|e| DiffError::Input(format!("--jurisdiction/--at: {e}")))?;
    let divisions = engine.catalogs().divisions();
    let within = divisions
        .place(place, UnknownPlaces::Refuse)
        .map_err(|e| DiffError::Input(format!("--jurisdiction: {}", e.message)))?;
    let law = engine
        .packs()
        .in_force(&within, &request)
        .map_err(|e| DiffError::Input(format!("--at: {}", e.message)))?;
    Ok(Law {
        packs: law.packs,
        gaps: law.gaps,
    })
}

impl Law<'_> {
    /// The ids of the packs in force.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.packs.iter().map(|p| p.id.clone()).collect()
    }

    /// Whether the law of `act` is not encoded here (the engine refuses it).
    pub(crate) fn not_encoded(&self, act: Act) -> Option<&Gap> {
        self.gaps.iter().find(|g| g.covers(act))
    }

    /// Every rule of every pack in force that can apply to `act`, as the engine weighs them:
    /// the forbids a less local law pre-empts left out; each rule named `<pack>/<rule>` and
    /// reading its facts by their solver names. Empty (nothing allowed) where the law is not
    /// encoded.
    pub(crate) fn rules(&self, act: Act, facts: &FactNames) -> Result<PolicySet, DiffError> {
        let mut out = PolicySet::new();
        if self.not_encoded(act).is_some() {
            return Ok(out);
        }
        let aside = forbids_set_aside(act, &self.packs);
        for (pack, aside) in self.packs.iter().zip(aside) {
            for policy in pack.slice(act, false).policies() {
                if aside && policy.effect() == Effect::Forbid {
                    continue;
                }
                let id = format!("{}/{}", pack.id, policy.id());
                out.add(facts.rewrite(pack, policy, id)?)
                    .map_err(|e| DiffError::Cedar(e.to_string()))?;
            }
        }
        Ok(out)
    }
}
