//! The context a policy sees: the request's attributes and a pack's facts, normalized into
//! a small hashable key. Two requests with equal keys get equal answers from a pack, which
//! is what makes decisions cacheable.

use cedar_policy::{Context, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use comity_model::*;
use std::sync::OnceLock;

use serde_json::Value;

/// A set of words of one vocabulary, as a bit mask over its `ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WordSet(u32);

impl WordSet {
    fn of<V: Vocabulary>(words: &[V]) -> Self {
        WordSet(words.iter().fold(0, |m, w| m | 1 << index(*w)))
    }

    fn words<V: Vocabulary>(self) -> impl Iterator<Item = V> {
        V::ALL
            .iter()
            .copied()
            .filter(move |w| self.0 & 1 << index(*w) != 0)
    }
}

fn index<V: Vocabulary>(word: V) -> u32 {
    V::ALL
        .iter()
        .position(|w| *w == word)
        .expect("word of its vocabulary") as u32
}

/// Everything a pack's policies can read, for one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextKey {
    from_kind: AgencyKind,
    to_kind: LocalKind,
    recipient_kind: AgencyKind,
    form: Option<Form>,
    basis: WordSet,
    purpose: Option<Purpose>,
    warrant_kind: WarrantKind,
    warrant_form: Option<WarrantForm>,
    warrant_for: Option<Violation>,
    watchlist_match: bool,
    reentry_after_removal: bool,
    status_proof_shown: bool,
    citizenship_proof_shown: bool,
    sex_or_arson_registrant: bool,
    federal_aggravated_felony: bool,
    federal_felony_warrant: bool,
    outstanding_criminal_warrant: bool,
    gang_database_match: bool,
    to_state_agency: Option<StateAgency>,
    custody_status: Option<CustodyStatus>,
    arrested_known: bool,
    release_known: bool,
    court_system: Option<CourtSystem>,
    arrest: Option<(ArrestType, ArrestLocation, ArrestRole)>,
    records: WordSet,
    public_records: WordSet,
    /// The pack's facts, bit `i` for its `i`-th declared fact.
    pub(crate) facts: u64,
}

impl ContextKey {
    /// The request's own attributes, with no facts yet.
    pub fn of_request(r: &Request) -> Self {
        let warrant = r.warrant.as_ref();
        let custody = r.custody.as_ref();
        let subject = &r.subject;
        ContextKey {
            from_kind: r.from.kind,
            to_kind: r.to.kind,
            recipient_kind: r.recipient().kind,
            form: r.form,
            basis: WordSet::of(&r.basis),
            purpose: r.purpose,
            warrant_kind: warrant.map_or(WarrantKind::None, |w| w.kind),
            warrant_form: warrant.and_then(|w| w.form),
            warrant_for: warrant.and_then(|w| w.violation),
            watchlist_match: subject.watchlist_match,
            reentry_after_removal: subject.reentry_after_removal,
            status_proof_shown: subject.status_proof_shown,
            citizenship_proof_shown: subject.citizenship_proof_shown,
            sex_or_arson_registrant: subject.sex_or_arson_registrant,
            federal_aggravated_felony: subject.federal_aggravated_felony,
            federal_felony_warrant: subject.federal_felony_warrant,
            outstanding_criminal_warrant: subject.outstanding_criminal_warrant,
            gang_database_match: subject.gang_database_match,
            to_state_agency: r.to.state_agency,
            custody_status: custody.map(|c| c.status),
            arrested_known: custody.is_some_and(|c| c.arrested_at.is_some()),
            release_known: custody.is_some_and(|c| c.release_at.is_some()),
            court_system: r.court_event.as_ref().map(|c| c.system),
            arrest: r
                .arrest
                .as_ref()
                .map(|a| (a.arrest_type, a.location, a.role)),
            records: WordSet::of(&r.records),
            public_records: WordSet::of(&r.public_records),
            facts: 0,
        }
    }

    /// The same key with the pack's facts.
    pub fn with_facts(&self, facts: u64) -> Self {
        ContextKey {
            facts,
            ..self.clone()
        }
    }

    /// Every attribute with its value, as JSON; `fact_names` names the fact bits.
    fn attributes(&self, fact_names: &[String]) -> Vec<(&'static str, Value)> {
        fn word<V: Vocabulary>(w: V) -> Value {
            Value::from(w.as_str())
        }
        fn words<V: Vocabulary>(s: WordSet) -> Value {
            Value::Array(s.words::<V>().map(word).collect())
        }
        let mut attrs = vec![
            ("from_kind", word(self.from_kind)),
            ("to_kind", word(self.to_kind)),
            ("recipient_kind", word(self.recipient_kind)),
            ("basis", words::<Basis>(self.basis)),
            ("warrant_kind", word(self.warrant_kind)),
            ("watchlist_match", self.watchlist_match.into()),
            ("reentry_after_removal", self.reentry_after_removal.into()),
            ("status_proof_shown", self.status_proof_shown.into()),
            (
                "citizenship_proof_shown",
                self.citizenship_proof_shown.into(),
            ),
            (
                "sex_or_arson_registrant",
                self.sex_or_arson_registrant.into(),
            ),
            (
                "federal_aggravated_felony",
                self.federal_aggravated_felony.into(),
            ),
            ("federal_felony_warrant", self.federal_felony_warrant.into()),
            (
                "outstanding_criminal_warrant",
                self.outstanding_criminal_warrant.into(),
            ),
            ("gang_database_match", self.gang_database_match.into()),
            ("arrested_known", self.arrested_known.into()),
            ("release_known", self.release_known.into()),
            ("records", words::<RecordField>(self.records)),
            ("public_records", words::<RecordField>(self.public_records)),
        ];
        let optional = [
            ("form", self.form.map(word)),
            ("to_state_agency", self.to_state_agency.map(word)),
            ("purpose", self.purpose.map(word)),
            ("warrant_form", self.warrant_form.map(word)),
            ("warrant_for", self.warrant_for.map(word)),
            ("custody_status", self.custody_status.map(word)),
            ("court_system", self.court_system.map(word)),
            ("arrest_type", self.arrest.map(|a| word(a.0))),
            ("arrest_location", self.arrest.map(|a| word(a.1))),
            ("arrest_role", self.arrest.map(|a| word(a.2))),
        ];
        attrs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        let facts = fact_names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), Value::Bool(self.facts & 1 << i != 0)))
            .collect();
        attrs.push(("facts", Value::Object(facts)));
        attrs
    }

    /// The value of a context path a policy reads (`warrant_kind`, `facts.nyc_vsc_5y`), as
    /// JSON; `null` for an absent optional attribute.
    pub fn value(&self, path: &str, fact_names: &[String]) -> Value {
        if let Some(fact) = path.strip_prefix("facts.") {
            let bit = fact_names.iter().position(|f| f == fact);
            return bit.map_or(Value::Null, |i| Value::Bool(self.facts & 1 << i != 0));
        }
        self.attributes(&[])
            .into_iter()
            .find(|(k, _)| *k == path)
            .map_or(Value::Null, |(_, v)| v)
    }

    /// The Cedar context for this key.
    pub fn to_cedar(&self, fact_names: &[String]) -> Context {
        let pairs = self
            .attributes(fact_names)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), restricted(k, &v)));
        Context::from_pairs(pairs).expect("context keys are distinct")
    }
}

/// The Cedar value of an attribute: vocabulary words are entities of their vocabulary's
/// enumerated type.
fn restricted(attr: &str, v: &Value) -> RestrictedExpression {
    match v {
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::String(s) => RestrictedExpression::new_entity_uid(word_uid(attr, s)),
        Value::Array(items) => {
            RestrictedExpression::new_set(items.iter().map(|i| restricted(attr, i)))
        }
        Value::Object(fields) => RestrictedExpression::new_record(
            fields.iter().map(|(k, v)| (k.clone(), restricted(k, v))),
        )
        .expect("record keys are distinct"),
        Value::Null | Value::Number(_) => unreachable!("contexts hold no numbers or nulls"),
    }
}

/// The entity uid of a word, typed by the vocabulary the attribute holds.
fn word_uid(attr: &str, word: &str) -> EntityUid {
    static TYPES: OnceLock<Vec<(&'static str, EntityTypeName)>> = OnceLock::new();
    let types = TYPES.get_or_init(|| {
        crate::schema::CONTEXT_ATTRIBUTES
            .iter()
            .map(|(name, ty)| {
                let ty = ty.trim_start_matches("Set<").trim_end_matches('>');
                (
                    name.trim_end_matches('?'),
                    ty.parse().expect("vocabulary names are Cedar names"),
                )
            })
            .collect()
    });
    let ty = types
        .iter()
        .find(|(name, _)| *name == attr)
        .map(|(_, ty)| ty.clone())
        .expect("every word-valued attribute is in the schema");
    EntityUid::from_type_name_and_id(ty, EntityId::new(word))
}
