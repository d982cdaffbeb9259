//! Deciding a request: the packs in force, their facts, one Cedar evaluation per pack and
//! act (or a cache hit), and the combination of the packs' answers into one outcome per act
//! with its reasons and limits.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use cedar_policy::{Authorizer, Decision as CedarDecision, Entities, EntityUid};
use comity_model::*;

use crate::context::{ContextKey, Frame};
use crate::error::{DecideError, PackError};
use crate::facts::{self, FactValues};
use crate::pack::{LimitSpec, Pack, Rule, SliceKind, permits_of, rule_rank};
use crate::packset::{Gap, InForce, PackSet};
use crate::preempt::{Preemptions, set_aside_reason};
use crate::schema::DUTY_SUFFIX;

/// A rule that fired, as it explains a decision and the limits it attaches.
#[derive(Debug, Clone)]
struct Hit {
    reason: Arc<Reason>,
    limits: Arc<[LimitSpec]>,
    instruction: Option<Arc<str>>,
}

/// What one pack says of one act in one situation.
#[derive(Debug, Default, Clone)]
pub(crate) struct PackVerdict {
    forbids: Vec<Hit>,
    permits: Vec<Hit>,
    duties: Vec<Hit>,
    duty_forbids: Vec<Hit>,
    /// Restrictions of the act or its duty that applied and were excused, one per
    /// exception met.
    met: Vec<Hit>,
    /// Rules that owe a notice on the act whatever its outcome.
    owed: Vec<Hit>,
}

/// Per-pack memo of verdicts by act and context. A verdict depends only on the pack's
/// rules and the context key, so a hit is exact.
#[derive(Debug, Default)]
struct VerdictCache {
    map: RwLock<HashMap<(Act, ContextKey), Arc<PackVerdict>>>,
}

/// Bound on cached verdicts per pack; past it the cache starts afresh.
const CACHE_LIMIT: usize = 100_000;

/// The decision engine: packs, catalogs and options.
#[derive(Debug)]
pub struct Engine {
    packs: PackSet,
    catalogs: Catalogs,
    unknown: UnknownOffenses,
    places: UnknownPlaces,
    cached: bool,
    /// Whether compiled slices decide where they can (else Cedar's evaluator always does).
    compiled: bool,
    /// What it remembers of each pack, by the pack's position in `packs`.
    caches: Vec<VerdictCache>,
    authorizer: Authorizer,
    entities: Entities,
    principal: EntityUid,
    resource: EntityUid,
    actions: Vec<EntityUid>,
}

impl Engine {
    /// An engine over the packs under `packs` and the catalogs in `catalog`.
    pub fn load(packs: &Path, catalog: &Path) -> Result<Engine, Vec<PackError>> {
        let catalogs =
            Catalogs::load(catalog).map_err(|e| vec![PackError::new(catalog, e.to_string())])?;
        let packs = PackSet::load(packs, &catalogs)?;
        Ok(Engine::new(packs, catalogs))
    }

    /// An engine over loaded packs and catalogs.
    pub fn new(packs: PackSet, catalogs: Catalogs) -> Engine {
        let uid = |s: &str| s.parse::<EntityUid>().expect("static uid");
        let actions = Act::ALL
            .iter()
            .flat_map(|a| [format!("{a}"), format!("{a}{DUTY_SUFFIX}")])
            .map(|name| uid(&format!("Action::{name:?}")))
            .collect();
        let caches = packs
            .packs()
            .iter()
            .map(|_| VerdictCache::default())
            .collect();
        Engine {
            packs,
            catalogs,
            unknown: UnknownOffenses::Refuse,
            places: UnknownPlaces::Refuse,
            cached: true,
            compiled: true,
            caches,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            principal: uid("Requester::\"request\""),
            resource: uid("Subject::\"subject\""),
            actions,
        }
    }

    /// Decide requests naming offenses no catalog holds, with a warning, instead of
    /// refusing them.
    pub fn allow_unknown_offenses(mut self, allow: bool) -> Self {
        self.unknown = if allow {
            UnknownOffenses::Warn
        } else {
            UnknownOffenses::Refuse
        };
        self
    }

    /// Decide requests placed in a division the registry does not know, by the law of the
    /// parts of its id it knows, with a warning, instead of refusing them.
    pub fn allow_unknown_places(mut self, allow: bool) -> Self {
        self.places = if allow {
            UnknownPlaces::Warn
        } else {
            UnknownPlaces::Refuse
        };
        self
    }

    /// Evaluate every time instead of remembering verdicts (for measuring and for checking
    /// that cached and fresh answers agree).
    pub fn with_cache(mut self, cached: bool) -> Self {
        self.cached = cached;
        self
    }

    /// Decide every slice with Cedar's evaluator instead of its compiled form (the
    /// reference the compiled form is tested against, and measured beside).
    pub fn with_compiled(mut self, compiled: bool) -> Self {
        self.compiled = compiled;
        self
    }

    /// Forgets every remembered verdict.
    pub fn clear_cache(&self) {
        for cache in &self.caches {
            cache.map.write().expect("cache lock").clear();
        }
    }

    /// The packs.
    pub fn packs(&self) -> &PackSet {
        &self.packs
    }

    /// The catalogs.
    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Decides one request by the law in force at its `received_at`.
    pub fn decide(&self, request: &Request) -> Result<Decision, DecideError> {
        let place = self
            .catalogs
            .divisions()
            .place(&request.jurisdiction, self.places)?;
        let mut warnings = self.catalogs.check_request(request, self.unknown)?;
        warnings.extend(place.warning.clone());
        let law = self.packs.in_force(&place, request)?;
        // Days and deadlines are counted in the place's own time zone: that of the most
        // local pack in force.
        let local = law
            .packs
            .iter()
            .max_by_key(|p| p.manifest.jurisdiction.segments().count())
            .expect("at least one pack is in force");
        warnings.extend(unencoded_local_law(&place, &law, local));
        let situation = self.situations(&law.packs, request, &local.tz);
        let acts = request
            .acts
            .iter()
            .map(|&act| self.decide_act(act, &law, &situation, &local.tz, &mut warnings))
            .collect::<Result<Vec<_>, _>>()?;
        fact_warnings(&situation, &acts, &mut warnings);
        Ok(Decision {
            request: request.id.clone(),
            at: request.received_at,
            packs: law
                .packs
                .iter()
                .map(|p| PackRef {
                    id: p.id.clone(),
                    sha256: p.sha256.clone(),
                    signature: p.signature.clone(),
                })
                .collect(),
            acts,
            warnings,
        })
    }

    /// The situation of `request` under each pack in force: its facts (days counted in
    /// `tz`, the place's own) and the key its verdicts are cached under.
    fn situations<'p>(
        &self,
        packs: &[&'p Pack],
        request: &Request,
        tz: &jiff::tz::TimeZone,
    ) -> Vec<Situation<'p>> {
        let base = ContextKey::of_request(request);
        packs
            .iter()
            .map(|&p| {
                let values = facts::compute(&p.facts, request, &self.catalogs, tz);
                let key = base.with_facts(values.bits);
                Situation {
                    pack: p,
                    frame: key.frame(),
                    key,
                    values,
                    context: OnceCell::new(),
                }
            })
            .collect()
    }

    /// One act: undetermined where the law in force has a gap for it, else every pack's
    /// verdict combined.
    fn decide_act(
        &self,
        act: Act,
        law: &InForce,
        situation: &[Situation],
        tz: &jiff::tz::TimeZone,
        warnings: &mut Vec<String>,
    ) -> Result<ActDecision, DecideError> {
        let gaps: Vec<&Gap> = law.gaps.iter().filter(|g| g.covers(act)).collect();
        if !gaps.is_empty() {
            return Ok(undetermined(act, &gaps, warnings));
        }
        let mut verdicts = situation
            .iter()
            .map(|s| self.verdict(s, act))
            .collect::<Result<Vec<_>, _>>()?;
        let packs: Vec<&Pack> = situation.iter().map(|s| s.pack).collect();
        let pre = Preemptions::of(act, &packs);
        // A pre-empted pack's forbids are set aside: what its permits say must be asked
        // without them (Cedar names no permit when a forbid holds).
        for (i, s) in situation.iter().enumerate() {
            if pre.over(i).is_some() && !verdicts[i].forbids.is_empty() {
                let permits = self.permits_alone(s, act)?;
                verdicts[i] = Arc::new(PackVerdict {
                    permits,
                    ..(*verdicts[i]).clone()
                });
            }
        }
        Ok(combine(act, tz, situation, &verdicts, &pre, warnings))
    }

    /// The permits of a pack's slice for `act` that hold in the situation, its forbids
    /// left out.
    fn permits_alone(&self, s: &Situation, act: Act) -> Result<Vec<Hit>, DecideError> {
        let (_, fired) = self.ask(s, act, false, SliceKind::Rules, true)?;
        Ok(fired
            .iter()
            .map(|id| hit(s.pack, &s.pack.rules[id.as_str()], &s.frame))
            .collect())
    }

    /// The Cedar context the engine passes to `pack`'s rules for `request`: the request's
    /// attributes and the pack's facts (for measuring Cedar alone, and for tools).
    pub fn context_for(&self, pack: &Pack, request: &Request) -> cedar_policy::Context {
        let values = facts::compute(&pack.facts, request, &self.catalogs, &pack.tz);
        ContextKey::of_request(request)
            .with_facts(values.bits)
            .to_cedar(&pack.fact_names)
    }

    fn verdict(&self, s: &Situation, act: Act) -> Result<Arc<PackVerdict>, DecideError> {
        if !self.cached {
            return self.evaluate(s, act).map(Arc::new);
        }
        let cache = &self.caches[s.pack.position];
        let probe = (act, s.key.clone());
        if let Some(v) = cache.map.read().expect("cache lock").get(&probe) {
            return Ok(v.clone());
        }
        let verdict = Arc::new(self.evaluate(s, act)?);
        let mut map = cache.map.write().expect("cache lock");
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(probe, verdict.clone());
        Ok(verdict)
    }

    /// Asks Cedar what a pack says of `act` and of the duty to do it, and which of their
    /// restrictions the situation met.
    fn evaluate(&self, s: &Situation, act: Act) -> Result<PackVerdict, DecideError> {
        let pack = s.pack;
        let mut verdict = PackVerdict::default();
        if !pack.owed_slice(act).is_empty() {
            let (_, fired) = self.ask(s, act, false, SliceKind::Owed, false)?;
            verdict.owed = fired
                .iter()
                .map(|id| hit(pack, &pack.rules[id.as_str()], &s.frame))
                .collect();
        }
        for duty in [false, true] {
            if pack.slice(act, duty).is_empty() {
                continue;
            }
            let (decision, fired) = self.ask(s, act, duty, SliceKind::Rules, false)?;
            let hits = fired
                .iter()
                .map(|id| hit(pack, &pack.rules[id.as_str()], &s.frame))
                .collect();
            match (decision, duty) {
                (CedarDecision::Allow, false) => verdict.permits = hits,
                (CedarDecision::Deny, false) => verdict.forbids = hits,
                (CedarDecision::Allow, true) => verdict.duties = hits,
                (CedarDecision::Deny, true) => verdict.duty_forbids = hits,
            }
            if !pack.met_slice(act, duty).is_empty() {
                let (_, excused) = self.ask(s, act, duty, SliceKind::Met, false)?;
                verdict
                    .met
                    .extend(excused.iter().filter_map(|id| met_hit(pack, id, &s.frame)));
            }
        }
        Ok(verdict)
    }

    /// Evaluates one slice of the pack (`kind`) for `act` (or its duty) in the situation, or
    /// with `permits_only` its permits alone: Cedar's decision and the ids of the policies
    /// that determined it, in the pack's rule order. The compiled slice answers where it
    /// can; else Cedar's evaluator, the reference.
    fn ask(
        &self,
        s: &Situation,
        act: Act,
        duty: bool,
        kind: SliceKind,
        permits_only: bool,
    ) -> Result<(CedarDecision, Vec<String>), DecideError> {
        let pack = s.pack;
        if self.compiled
            && let Ok(compiled) = pack.compiled(kind, act, duty)
            && let Some((decision, fired)) = compiled.decide(&s.frame, permits_only)
        {
            return Ok((decision, fired.into_iter().map(str::to_owned).collect()));
        }
        let slice = pack.slice_of(kind, act, duty);
        let permits;
        let policies = if permits_only {
            permits = permits_of(slice);
            &permits
        } else {
            slice
        };
        let action = &self.actions[crate::pack::slice_index(act, duty)];
        // Built once per pack and request, and only if some act is not cached.
        let context = s
            .context
            .get_or_init(|| s.key.to_cedar(&pack.fact_names))
            .clone();
        let request = cedar_policy::Request::new(
            self.principal.clone(),
            action.clone(),
            self.resource.clone(),
            context,
            None,
        )
        .expect("no schema given, nothing to fail");
        let response = self
            .authorizer
            .is_authorized(&request, policies, &self.entities);
        if let Some(cedar_policy::AuthorizationError::PolicyEvaluationError(e)) =
            response.diagnostics().errors().next()
        {
            return Err(DecideError::Evaluation {
                pack: pack.id.clone(),
                rule: e.policy_id().to_string(),
                message: e.inner().to_string(),
            });
        }
        let mut fired: Vec<(usize, String)> = response
            .diagnostics()
            .reason()
            .map(|id| (rule_rank(&pack.rules, id.as_ref()), id.to_string()))
            .collect();
        fired.sort();
        Ok((
            response.decision(),
            fired.into_iter().map(|(_, id)| id).collect(),
        ))
    }
}

/// One pack in force for one request: its context key, facts, and (once needed) the Cedar
/// context.
struct Situation<'a> {
    pack: &'a Pack,
    key: ContextKey,
    /// The key as compiled slices read it.
    frame: Frame,
    values: FactValues,
    context: OnceCell<cedar_policy::Context>,
}

fn hit(pack: &Pack, rule: &Rule, frame: &Frame) -> Hit {
    Hit {
        reason: Arc::new(Reason {
            rule: rule.id.clone(),
            pack: pack.id.clone(),
            citation: rule.citation.clone(),
            summary: rule.summary.clone(),
            facts: facts_read(pack, rule, frame),
            caution: rule.caution.clone(),
        }),
        limits: rule.limits.clone().into(),
        instruction: Some(Arc::from(rule.instruction.as_str())),
    }
}

/// The requirement met by the exception `<rule>#<n>` names: the restricting rule, with the
/// exception's own words (its `@exception`, else the rule's summary) as the summary.
fn met_hit(pack: &Pack, id: &str, frame: &Frame) -> Option<Hit> {
    let (rule, n) = crate::pack::met_id(id)?;
    let rule = &pack.rules[rule];
    let summary = rule.exceptions.get(n).unwrap_or(&rule.summary).to_owned();
    Some(Hit {
        reason: Arc::new(Reason {
            rule: rule.id.clone(),
            pack: pack.id.clone(),
            citation: rule.citation.clone(),
            summary,
            facts: facts_read(pack, rule, frame),
            caution: None,
        }),
        limits: Arc::new([]),
        instruction: None,
    })
}

/// The context values a rule reads, for this situation.
fn facts_read(
    pack: &Pack,
    rule: &Rule,
    frame: &Frame,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    rule.reads
        .iter()
        .map(|path| (path.clone(), frame.value(path, &pack.fact_names)))
        .collect()
}

/// The warnings about how a pack's facts were measured, each only if some act's reasons or
/// met requirements read that fact, and prefixed with those acts.
fn fact_warnings(situation: &[Situation], acts: &[ActDecision], warnings: &mut Vec<String>) {
    for s in situation {
        for (fact, message) in &s.values.warnings {
            let path = format!("facts.{fact}");
            let reading: Vec<&str> = acts
                .iter()
                .filter(|a| {
                    a.reasons
                        .iter()
                        .chain(&a.met)
                        .any(|r| r.pack == s.pack.id && r.facts.contains_key(&path))
                })
                .map(|a| a.act.as_str())
                .collect();
            let warning = format!("{}: {message}", reading.join(", "));
            if !reading.is_empty() && !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
}

/// A warning when the place lies deeper than any law encoded for it (a city or county with
/// no pack of its own): its own law, if it has any, is not applied. (A jurisdiction whose
/// law at the time is not encoded is refused act by act instead.)
fn unencoded_local_law(place: &Place, law: &InForce, local: &Pack) -> Option<String> {
    let deepest = place.within.iter().max_by_key(|j| j.segments().count())?;
    let encoded = &local.manifest.jurisdiction;
    let depth = law
        .gaps
        .iter()
        .map(|g| g.jurisdiction.segments().count())
        .chain(std::iter::once(encoded.segments().count()))
        .max()
        .unwrap_or(0);
    (deepest.segments().count() > depth).then(|| {
        format!(
            "no pack encodes the law of {deepest} itself: decided by the law of {encoded} and what contains it"
        )
    })
}

/// An act the law in force cannot decide, because some law in force on the request's date
/// is not encoded: refused until a person decides, naming that law.
fn undetermined(act: Act, gaps: &[&Gap], warnings: &mut Vec<String>) -> ActDecision {
    let reasons = gaps
        .iter()
        .map(|g| {
            warnings.push(format!(
                "{act}: the law of {} before {} is not encoded; refused until a person decides",
                g.jurisdiction, g.until
            ));
            Arc::new(Reason {
                rule: "law-not-encoded".to_owned(),
                pack: format!("{}@before-{}", g.jurisdiction, g.until),
                citation: format!(
                    "none: the law of {} before {} is not encoded",
                    g.jurisdiction, g.until
                ),
                summary: format!(
                    "What the law of {} allowed before {} is not encoded, so it cannot be determined; the act is refused until a person decides.",
                    g.jurisdiction, g.until
                ),
                facts: Default::default(),
                caution: None,
            })
        })
        .collect();
    refused_until_decided(
        act,
        reasons,
        "Do not act on this request: the law in force on its date is not encoded; refer it to agency counsel.",
    )
}

/// An act refused because the law cannot decide it, until a person does: its reasons say
/// why, and the instruction what to do meanwhile.
fn refused_until_decided(act: Act, reasons: Vec<Arc<Reason>>, instruction: &str) -> ActDecision {
    ActDecision {
        act,
        outcome: Outcome::Forbidden,
        reasons,
        met: Vec::new(),
        limits: Vec::new(),
        instruction: Some(instruction.to_owned()),
    }
}

/// A pack's hit: the index of its pack in the situation, and the hit.
type PackHit<'v> = (usize, &'v Hit);

/// Combines the packs' verdicts on one act: any forbid wins (but one of a law below a law
/// that pre-empts it, which is set aside); else a duty makes it required; else a permit makes
/// it permitted; else no law in force speaks to the act, and it is refused until a person
/// decides. The notices owed whatever the outcome are its limits in every case.
fn combine(
    act: Act,
    place_tz: &jiff::tz::TimeZone,
    situation: &[Situation],
    verdicts: &[Arc<PackVerdict>],
    pre: &Preemptions,
    warnings: &mut Vec<String>,
) -> ActDecision {
    let all = |f: fn(&PackVerdict) -> &Vec<Hit>| hits(verdicts, f);
    let (forbids, mut aside) = pre.split(all(|v| &v.forbids));
    let (why_not_required, aside_duty) = pre.split(all(|v| &v.duty_forbids));
    let duties = all(|v| &v.duties);
    let permits = all(|v| &v.permits);
    let (outcome, reasons, limited): (_, _, Vec<PackHit>) = if !forbids.is_empty() {
        for (i, h) in &duties {
            warnings.push(format!(
                "{act}: {} requires it ({}), but other rules forbid it",
                situation[*i].pack.id, h.reason.citation
            ));
        }
        (Outcome::Forbidden, forbids, Vec::new())
    } else if !duties.is_empty() {
        let reasons: Vec<_> = duties.iter().chain(&permits).copied().collect();
        (Outcome::Required, reasons.clone(), reasons)
    } else if !permits.is_empty() {
        aside.extend(aside_duty);
        let reasons = permits.iter().chain(&why_not_required).copied().collect();
        (Outcome::Permitted, reasons, permits)
    } else {
        let owed = all(|v| &v.owed);
        let mut refused = unspoken(act, situation, warnings);
        refused.limits = limits(act, place_tz, situation, &owed, pre, warnings);
        return refused;
    };
    let limited: Vec<PackHit> = limited.into_iter().chain(all(|v| &v.owed)).collect();
    let set_aside: Vec<_> = aside
        .into_iter()
        .map(|(_, h, j, p)| set_aside_reason(act, &h.reason, situation[j].pack, p, warnings))
        .collect();
    let mut limits = limits(act, place_tz, situation, &limited, pre, warnings);
    if outcome != Outcome::Forbidden {
        limits.extend(disclosures(act, situation, pre, warnings));
    }
    ActDecision {
        act,
        outcome,
        instruction: instruction(situation, &reasons),
        reasons: reasons
            .into_iter()
            .map(|(_, h)| h.reason.clone())
            .chain(set_aside)
            .collect(),
        met: all(|v| &v.met)
            .into_iter()
            .map(|(_, h)| h.reason.clone())
            .collect(),
        limits,
    }
}

/// The hits of one kind (`f`) of every pack's verdict, each with its pack's index.
fn hits(verdicts: &[Arc<PackVerdict>], f: fn(&PackVerdict) -> &Vec<Hit>) -> Vec<PackHit<'_>> {
    verdicts
        .iter()
        .enumerate()
        .flat_map(|(i, v)| f(v).iter().map(move |h| (i, h)))
        .collect()
}

/// What a permitted act that tells its recipient something may carry: one limit for each
/// pack in force that says (`[discloses]` of its manifest), but a pack whose law is
/// pre-empted for the act. When none does, the act carries
/// nothing, and the decision says so.
fn disclosures(
    act: Act,
    situation: &[Situation],
    pre: &Preemptions,
    warnings: &mut Vec<String>,
) -> Vec<Limit> {
    if !act.tells() {
        return Vec::new();
    }
    let limits: Vec<Limit> = situation
        .iter()
        .enumerate()
        .filter(|(i, _)| pre.over(*i).is_none())
        .filter_map(|(_, s)| {
            let d = s.pack.manifest.discloses.get(&act)?;
            Some(Limit {
                discloses: d.fields.clone(),
                ..Limit::by(
                    format!("discloses-{act}"),
                    s.pack.id.clone(),
                    d.citation.clone(),
                )
            })
        })
        .collect();
    if limits.is_empty() {
        warnings.push(format!(
            "{act}: no law in force says what it may carry; nothing is sent"
        ));
    }
    limits
}

/// An act no law in force speaks to: refused, as the safety net, until a person decides;
/// each pack in force is named as silent.
fn unspoken(act: Act, situation: &[Situation], warnings: &mut Vec<String>) -> ActDecision {
    warnings.push(format!(
        "{act}: no law in force speaks to this act; refused until a person decides"
    ));
    let reasons = situation
        .iter()
        .map(|Situation { pack: p, .. }| {
            Arc::new(Reason {
                rule: "no-law-speaks".to_owned(),
                pack: p.id.clone(),
                citation: "none: no rule of this pack speaks to the act here".to_owned(),
                summary: format!(
                    "{} says nothing of {act} here. No law in force speaks to this act; it is refused until a person decides.",
                    p.manifest.title
                ),
                facts: Default::default(),
                caution: None,
            })
        })
        .collect();
    refused_until_decided(
        act,
        reasons,
        "Do not act on this request: no law in force decides it; refer it to agency counsel.",
    )
}

/// The deciding rules' instruction: from the most local pack that gives one, its first
/// deciding rule that has one.
fn instruction(situation: &[Situation], reasons: &[PackHit]) -> Option<String> {
    let locality = |i: usize| situation[i].pack.manifest.jurisdiction.segments().count();
    reasons
        .iter()
        .filter_map(|(i, h)| h.instruction.as_ref().map(|t| (locality(*i), t)))
        .rev()
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, t)| t.to_string())
}

/// The limits the permits (or duties) of an act attach, with their instants computed (but
/// those a pre-emption strikes); the earliest hold deadline is marked as the one that binds.
fn limits(
    act: Act,
    place_tz: &jiff::tz::TimeZone,
    situation: &[Situation],
    limited: &[PackHit],
    pre: &Preemptions,
    warnings: &mut Vec<String>,
) -> Vec<Limit> {
    let mut limits = Vec::new();
    for (i, h) in limited {
        let Situation { pack, values, .. } = &situation[*i];
        for spec in h.limits.iter().filter(|spec| pre.allows(*i, spec)) {
            let mut limit = Limit::by(
                h.reason.rule.clone(),
                pack.id.clone(),
                h.reason.citation.clone(),
            );
            match spec {
                LimitSpec::HoldUntil(fact) => {
                    if let Some((_, spec)) = pack.facts.iter().find(|(n, _)| n == fact) {
                        limit.citation = spec.citation().to_owned();
                    }
                    let until = values
                        .deadlines
                        .iter()
                        .find(|(n, _)| n == fact)
                        .and_then(|(_, t)| *t);
                    let Some(t) = until else {
                        warnings.push(format!(
                            "{act}: {} sets a hold deadline, but custody.release_at is absent or past the calendar",
                            h.reason.rule
                        ));
                        continue;
                    };
                    limit.hold_until = Some(Instant::new(t, place_tz.to_offset(t)));
                }
                LimitSpec::Notice(who) | LimitSpec::OwedNotice(who) => {
                    limit.notice = who.clone();
                }
                LimitSpec::Approval(who) => limit.approval = Some(who.clone()),
            }
            limits.push(limit);
        }
    }
    let earliest = limits
        .iter()
        .enumerate()
        .filter_map(|(n, l)| l.hold_until.map(|t| (t, n)))
        .min();
    if let Some((_, n)) = earliest {
        limits[n].binding = true;
    }
    limits
}
