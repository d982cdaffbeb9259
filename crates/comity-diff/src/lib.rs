//! The symbolic comparison of two laws (`comity diff`): for each act, whether two pack
//! directories allow it for exactly the same requests at a place on a day, proved by an SMT
//! solver over every request the format can express, and where they do not, a request that
//! one allows and the other does not, written in the documented format and decided by both
//! laws' engines to confirm it.
//!
//! The rules of each side are the packs in force there, as the engine weighs them (forbids
//! of a pre-empted law left out; nothing allowed where the law is not encoded), compiled by
//! `cedar-policy-symcc` and compared by the cvc5 solver. Facts computed in Rust (look-backs
//! over the catalogs' lists) enter the solver as free booleans: a difference that needs a
//! fact says which it assumes. "Allowed" is permitted or required; whether a permitted act
//! became a duty is not compared here.

mod facts;
mod guards;
mod law;
mod render;

use std::str::FromStr;

use cedar_policy::{EntityTypeName, EntityUid, RequestEnv, Schema};
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet, Env, solver::LocalSolver};
use comity_model::{Act, Date, Jurisdiction};
use comity_policy::{Engine, schema_text};
use serde::Serialize;
use serde_json::Value;

pub use render::Decided;

use crate::facts::FactNames;
use crate::law::Law;

/// What the solver is told about facts, said with every comparison.
pub const FACTS_NOTE: &str = "facts computed in Rust (look-backs over the offense catalogs) \
     enter the solver as free booleans: a difference that needs one lists it as assumed";

/// Why two laws could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Bad input: a place or day the law cannot be found for.
    #[error("{0}")]
    Input(String),
    /// The solver could not be started or failed.
    #[error("the cvc5 solver: {0} (install the Debian package cvc5, or set CVC5 to its path)")]
    Solver(String),
    /// Cedar refused a rule set (a pack the engine accepted: a fault of comity's).
    #[error("cedar: {0}")]
    Cedar(String),
}

/// The two laws compared at one place on one day.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The place.
    pub jurisdiction: String,
    /// The day.
    pub at: Date,
    /// The packs in force under A.
    pub a: Vec<String>,
    /// The packs in force under B.
    pub b: Vec<String>,
    /// Each act compared.
    pub acts: Vec<ActComparison>,
    /// What the solver assumes of facts.
    pub note: &'static str,
}

/// One act compared.
#[derive(Debug, Serialize)]
pub struct ActComparison {
    /// The act.
    pub act: Act,
    /// The verdict.
    pub verdict: Verdict,
    /// A request for each way B differs.
    pub witnesses: Vec<Witness>,
}

/// How B's law of an act compares with A's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// They allow the act for exactly the same requests.
    Equivalent,
    /// B allows it for some request A does not, and never the other way.
    BPermitsMore,
    /// A allows it for some request B does not, and never the other way.
    BPermitsLess,
    /// Each allows it for some request the other does not.
    BPermitsMoreAndLess,
}

impl Verdict {
    /// The verdict in words.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Equivalent => "equivalent",
            Verdict::BPermitsMore => "B permits more",
            Verdict::BPermitsLess => "B permits less",
            Verdict::BPermitsMoreAndLess => "B permits more and less",
        }
    }
}

/// A request the two laws decide differently.
#[derive(Debug, Serialize)]
pub struct Witness {
    /// `b-permits-more` (B allows it, A does not) or `b-permits-less`.
    pub direction: &'static str,
    /// The request, in the documented format.
    pub request: Value,
    /// The facts it assumes true (none: a request without convictions meets it).
    pub assumed_facts: Vec<String>,
    /// A's engine on it.
    pub a: Decided,
    /// B's engine on it.
    pub b: Decided,
    /// Whether both engines decide it as the solver said.
    pub confirmed: bool,
}

/// Compares the law of `a` and of `b` at `place` on `day`, for each of `acts`.
pub async fn compare(
    a: &Engine,
    b: &Engine,
    place: &Jurisdiction,
    day: Date,
    acts: &[Act],
) -> Result<Comparison, DiffError> {
    let (law_a, law_b) = (law::in_force(a, place, day)?, law::in_force(b, place, day)?);
    let facts = FactNames::of(law_a.packs.iter().chain(&law_b.packs).copied());
    let schema_src = schema_text(facts.solver_names());
    let (schema, _) = Schema::from_cedarschema_str(&schema_src)
        .map_err(|e| DiffError::Cedar(format!("the schema: {e}")))?;
    let solver = LocalSolver::cvc5().map_err(|e| DiffError::Solver(e.to_string()))?;
    let mut symcc = CedarSymCompiler::new(solver).map_err(|e| DiffError::Solver(e.to_string()))?;
    let sides = Sides {
        a: (a, &law_a),
        b: (b, &law_b),
        facts: &facts,
        schema: &schema,
        place,
        day,
    };
    let mut compared = Vec::new();
    for &act in acts {
        compared.push(sides.compare_act(&mut symcc, act).await?);
    }
    Ok(Comparison {
        jurisdiction: place.as_str().to_owned(),
        at: day,
        a: law_a.ids(),
        b: law_b.ids(),
        acts: compared,
        note: FACTS_NOTE,
    })
}

/// Both sides of a comparison, and what they share.
struct Sides<'s> {
    a: (&'s Engine, &'s Law<'s>),
    b: (&'s Engine, &'s Law<'s>),
    facts: &'s FactNames,
    schema: &'s Schema,
    place: &'s Jurisdiction,
    day: Date,
}

/// One direction of a difference: (B's rules, A's rules) for "B permits more".
type Pair = (CompiledPolicySet, CompiledPolicySet);

impl Sides<'_> {
    /// Both sides' rules for `act`, compiled, with the guards (and every fact false when
    /// `no_facts`).
    fn compiled(&self, act: Act, no_facts: bool) -> Result<Pair, DiffError> {
        let env = RequestEnv::new(
            EntityTypeName::from_str("Requester").expect("a type name"),
            EntityUid::from_str(&format!("Action::{:?}", act.as_str())).expect("an action"),
            EntityTypeName::from_str("Subject").expect("a type name"),
        );
        let guards = guards::guards(self.facts, no_facts)?;
        let side = |law: &Law| -> Result<CompiledPolicySet, DiffError> {
            let rules = guards::guarded(&law.rules(act, self.facts)?, &guards)?;
            CompiledPolicySet::compile(&rules, &env, self.schema)
                .map_err(|e| DiffError::Cedar(format!("{act}: {e}")))
        };
        Ok((side(self.a.1)?, side(self.b.1)?))
    }

    /// The verdict on `act`, with a witness of each difference.
    async fn compare_act(
        &self,
        symcc: &mut CedarSymCompiler<LocalSolver>,
        act: Act,
    ) -> Result<ActComparison, DiffError> {
        let (a, b) = self.compiled(act, false)?;
        let more = implies(symcc, &b, &a).await?;
        let less = implies(symcc, &a, &b).await?;
        let verdict = match (more.is_some(), less.is_some()) {
            (false, false) => Verdict::Equivalent,
            (true, false) => Verdict::BPermitsMore,
            (false, true) => Verdict::BPermitsLess,
            (true, true) => Verdict::BPermitsMoreAndLess,
        };
        let mut witnesses = Vec::new();
        if more.is_some() || less.is_some() {
            // A witness that assumes no fact, where there is one: it can be written as a
            // request and confirmed by both engines.
            let (fa, fb) = self.compiled(act, true)?;
            if let Some(cex) = more {
                let plain = implies(symcc, &fb, &fa).await?;
                witnesses.push(self.witness(act, plain.unwrap_or(cex), true));
            }
            if let Some(cex) = less {
                let plain = implies(symcc, &fa, &fb).await?;
                witnesses.push(self.witness(act, plain.unwrap_or(cex), false));
            }
        }
        Ok(ActComparison {
            act,
            verdict,
            witnesses,
        })
    }

    /// The witness `cex` of B permitting more (`more`) or less, as a request decided by both.
    fn witness(&self, act: Act, cex: Env, more: bool) -> Witness {
        let (request, assumed) = render::request(&cex, self.place, self.day, act);
        let want = move |a: &Decided, b: &Decided| {
            a.outcome.is_some() && b.outcome.is_some() && b.allows() == more && a.allows() != more
        };
        let (ea, eb) = (self.a.0, self.b.0);
        let request = if assumed.is_empty() {
            render::minimize(request, ea, eb, want)
        } else {
            request
        };
        let (a, b) = (render::decide(ea, &request), render::decide(eb, &request));
        Witness {
            direction: if more {
                "b-permits-more"
            } else {
                "b-permits-less"
            },
            confirmed: assumed.is_empty() && want(&a, &b),
            assumed_facts: render::assumed_in_words(&assumed, |s| self.facts.describe(s)),
            request,
            a,
            b,
        }
    }
}

/// A request `first` allows and `second` does not, if any.
async fn implies(
    symcc: &mut CedarSymCompiler<LocalSolver>,
    first: &CompiledPolicySet,
    second: &CompiledPolicySet,
) -> Result<Option<Env>, DiffError> {
    symcc
        .check_implies_with_counterexample_opt(first, second)
        .await
        .map_err(|e| DiffError::Solver(e.to_string()))
}
