//! The context a policy sees: the request's attributes and a pack's facts, normalized into
//! a small hashable key. Two requests with equal keys get equal answers from a pack, which
//! is what makes decisions cacheable.

use cedar_policy::{Context, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use comity_model::*;
use std::sync::OnceLock;

use serde_json::Value;

use crate::schema::{SlotType, enum_types, slot, slots};

/// A set of words of one vocabulary, as a bit mask over its `ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WordSet(u32);

impl WordSet {
    fn of<V: Vocabulary>(words: &[V]) -> Self {
        WordSet(words.iter().fold(0, |m, w| m | 1 << index(*w)))
    }
}

fn index<V: Vocabulary>(word: V) -> u32 {
    V::ALL
        .iter()
        .position(|w| *w == word)
        .expect("word of its vocabulary") as u32
}

/// How many attributes a [`Frame`] holds: every context attribute but `facts`.
pub(crate) const SLOTS: usize = crate::schema::CONTEXT_ATTRIBUTES.len() - 1;

impl Frame {
    /// The value of slot `k` as JSON (a word, a list of words, a boolean), as its
    /// [`SlotType`] says; `None` when the attribute is absent.
    fn decode(&self, k: usize) -> Option<Value> {
        let v = self.slots[k]?;
        let words = |vocabulary: usize| &enum_types()[vocabulary].words;
        Some(match slots()[k].ty {
            SlotType::Bool => Value::Bool(v == 1),
            SlotType::Word(vocabulary) => Value::from(words(vocabulary)[v as usize]),
            SlotType::Set(vocabulary) => Value::Array(
                words(vocabulary)
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| v & 1 << bit != 0)
                    .map(|(_, w)| Value::from(*w))
                    .collect(),
            ),
        })
    }

    /// The value of a context path a policy reads (`warrant_kind`, `facts.nyc_vsc_5y`), as
    /// JSON; `null` for an absent optional attribute; `fact_names` names the fact bits.
    pub(crate) fn value(&self, path: &str, fact_names: &[String]) -> Value {
        if let Some(fact) = path.strip_prefix("facts.") {
            let bit = fact_names.iter().position(|f| f == fact);
            return bit.map_or(Value::Null, |i| Value::Bool(self.facts & 1 << i != 0));
        }
        slot(path)
            .and_then(|(k, _)| self.decode(k))
            .unwrap_or(Value::Null)
    }
}

/// A context as compiled rules read it ([`ContextKey::frame`]): each attribute's value as a
/// number (a word's position in its vocabulary, a set of words as a bit mask, a boolean as 0
/// or 1), `None` for an absent optional attribute; and the pack's fact bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub slots: [Option<u32>; SLOTS],
    pub facts: u64,
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

    /// A key of any values, each drawn by `draw(n)` (a number below `n`), with `facts` fact
    /// bits: what the differential tests and the fuzzing of the compiled packs decide.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn drawn(draw: &mut dyn FnMut(u32) -> u32, facts: usize) -> ContextKey {
        fn one<V: Vocabulary>(draw: &mut dyn FnMut(u32) -> u32) -> V {
            V::ALL[draw(V::ALL.len() as u32) as usize]
        }
        fn some<V: Vocabulary>(draw: &mut dyn FnMut(u32) -> u32) -> Option<V> {
            (draw(4) != 0).then(|| one(draw))
        }
        fn set<V: Vocabulary>(draw: &mut dyn FnMut(u32) -> u32) -> WordSet {
            let words: Vec<V> = V::ALL.iter().copied().filter(|_| draw(3) == 0).collect();
            WordSet::of(&words)
        }
        fn flag(draw: &mut dyn FnMut(u32) -> u32) -> bool {
            draw(2) == 1
        }
        let facts = (0..facts.min(64)).fold(0u64, |m, i| m | u64::from(draw(2)) << i);
        ContextKey {
            from_kind: one(draw),
            to_kind: one(draw),
            recipient_kind: one(draw),
            form: some(draw),
            basis: set::<Basis>(draw),
            purpose: some(draw),
            warrant_kind: one(draw),
            warrant_form: some(draw),
            warrant_for: some(draw),
            watchlist_match: flag(draw),
            reentry_after_removal: flag(draw),
            status_proof_shown: flag(draw),
            citizenship_proof_shown: flag(draw),
            sex_or_arson_registrant: flag(draw),
            federal_aggravated_felony: flag(draw),
            federal_felony_warrant: flag(draw),
            outstanding_criminal_warrant: flag(draw),
            gang_database_match: flag(draw),
            to_state_agency: some(draw),
            custody_status: some(draw),
            arrested_known: flag(draw),
            release_known: flag(draw),
            court_system: some(draw),
            arrest: (draw(4) != 0).then(|| (one(draw), one(draw), one(draw))),
            records: set::<RecordField>(draw),
            public_records: set::<RecordField>(draw),
            facts,
        }
    }

    /// The same key with the pack's facts.
    pub fn with_facts(&self, facts: u64) -> Self {
        ContextKey {
            facts,
            ..self.clone()
        }
    }

    /// Every attribute with its value, as JSON (absent optional ones left out), read from
    /// the key's fields by name; `fact_names` names the fact bits. This is what Cedar sees:
    /// written apart from [`ContextKey::frame`], what compiled rules see, so that the tests
    /// holding the compiled rules to Cedar's answers also hold the frame to the fields.
    fn attributes(&self, fact_names: &[String]) -> Vec<(&'static str, Value)> {
        fn word<V: Vocabulary>(w: V) -> Value {
            Value::from(w.as_str())
        }
        fn words<V: Vocabulary>(s: WordSet) -> Value {
            let held = V::ALL.iter().filter(|w| s.0 & 1 << index(**w) != 0);
            Value::Array(held.map(|w| word(*w)).collect())
        }
        let arrest = self.arrest;
        let attrs = [
            ("from_kind", Some(word(self.from_kind))),
            ("to_kind", Some(word(self.to_kind))),
            ("to_state_agency", self.to_state_agency.map(word)),
            ("recipient_kind", Some(word(self.recipient_kind))),
            ("form", self.form.map(word)),
            ("basis", Some(words::<Basis>(self.basis))),
            ("purpose", self.purpose.map(word)),
            ("warrant_kind", Some(word(self.warrant_kind))),
            ("warrant_form", self.warrant_form.map(word)),
            ("warrant_for", self.warrant_for.map(word)),
            ("watchlist_match", Some(self.watchlist_match.into())),
            (
                "reentry_after_removal",
                Some(self.reentry_after_removal.into()),
            ),
            ("status_proof_shown", Some(self.status_proof_shown.into())),
            (
                "citizenship_proof_shown",
                Some(self.citizenship_proof_shown.into()),
            ),
            (
                "sex_or_arson_registrant",
                Some(self.sex_or_arson_registrant.into()),
            ),
            (
                "federal_aggravated_felony",
                Some(self.federal_aggravated_felony.into()),
            ),
            (
                "federal_felony_warrant",
                Some(self.federal_felony_warrant.into()),
            ),
            (
                "outstanding_criminal_warrant",
                Some(self.outstanding_criminal_warrant.into()),
            ),
            ("gang_database_match", Some(self.gang_database_match.into())),
            ("custody_status", self.custody_status.map(word)),
            ("arrested_known", Some(self.arrested_known.into())),
            ("release_known", Some(self.release_known.into())),
            ("court_system", self.court_system.map(word)),
            ("arrest_type", arrest.map(|a| word(a.0))),
            ("arrest_location", arrest.map(|a| word(a.1))),
            ("arrest_role", arrest.map(|a| word(a.2))),
            ("records", Some(words::<RecordField>(self.records))),
            (
                "public_records",
                Some(words::<RecordField>(self.public_records)),
            ),
        ];
        let mut attrs: Vec<(&'static str, Value)> = attrs
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        let facts = fact_names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), Value::Bool(self.facts & 1 << i != 0)))
            .collect();
        attrs.push(("facts", Value::Object(facts)));
        attrs
    }

    /// The key as compiled rules read it: one slot per attribute, in the schema's order
    /// ([`crate::schema::CONTEXT_ATTRIBUTES`], `facts` apart).
    pub(crate) fn frame(&self) -> Frame {
        fn word<V: Vocabulary>(w: V) -> Option<u32> {
            Some(index(w))
        }
        let flag = |b: bool| Some(u32::from(b));
        let arrest = self.arrest;
        Frame {
            slots: [
                word(self.from_kind),
                word(self.to_kind),
                self.to_state_agency.map(index),
                word(self.recipient_kind),
                self.form.map(index),
                Some(self.basis.0),
                self.purpose.map(index),
                word(self.warrant_kind),
                self.warrant_form.map(index),
                self.warrant_for.map(index),
                flag(self.watchlist_match),
                flag(self.reentry_after_removal),
                flag(self.status_proof_shown),
                flag(self.citizenship_proof_shown),
                flag(self.sex_or_arson_registrant),
                flag(self.federal_aggravated_felony),
                flag(self.federal_felony_warrant),
                flag(self.outstanding_criminal_warrant),
                flag(self.gang_database_match),
                self.custody_status.map(index),
                flag(self.arrested_known),
                flag(self.release_known),
                self.court_system.map(index),
                arrest.map(|a| index(a.0)),
                arrest.map(|a| index(a.1)),
                arrest.map(|a| index(a.2)),
                Some(self.records.0),
                Some(self.public_records.0),
            ],
            facts: self.facts,
        }
    }

    /// The value of a context path a policy reads (`warrant_kind`, `facts.nyc_vsc_5y`), as
    /// JSON; `null` for an absent optional attribute.
    pub fn value(&self, path: &str, fact_names: &[String]) -> Value {
        self.frame().value(path, fact_names)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The values reasons show are read back from the frame by the schema's types: words,
    /// sets of words in their vocabulary's order, booleans, facts, and absent attributes.
    #[test]
    fn a_key_s_values_are_read_back_from_its_frame() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/nyc-doc-detainer.json"
        );
        let request = Request::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let key = ContextKey::of_request(&request).with_facts(0b10);
        let facts = ["a".to_owned(), "b".to_owned()];
        let value = |p: &str| key.value(p, &facts);
        assert_eq!(value("from_kind"), "federal-immigration");
        assert_eq!(value("form"), "I-247A");
        assert_eq!(value("warrant_kind"), "administrative");
        assert_eq!(value("watchlist_match"), false);
        assert_eq!(value("to_state_agency"), Value::Null);
        assert_eq!(value("facts.a"), false);
        assert_eq!(value("facts.b"), true);
        assert_eq!(value("no_such_attribute"), Value::Null);
        let records: Vec<Value> = request.records.iter().map(|r| r.as_str().into()).collect();
        assert_eq!(value("records"), Value::Array(records));
        // Every attribute but the absent ones, and the facts, in the Cedar context.
        let present = key.attributes(&facts);
        assert!(present.iter().any(|(k, _)| *k == "form"));
        assert!(!present.iter().any(|(k, _)| *k == "to_state_agency"));
        assert_eq!(
            present.last().unwrap().1,
            serde_json::json!({ "a": false, "b": true })
        );
    }

    /// The frame compiled rules read holds what Cedar is given, attribute by attribute, on
    /// keys of every value.
    #[test]
    fn the_frame_holds_what_cedar_is_given() {
        let mut seed = 7u64;
        let mut draw = |n: u32| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((seed >> 33) % u64::from(n.max(1))) as u32
        };
        for _ in 0..2_000 {
            let key = ContextKey::drawn(&mut draw, 0);
            let given: std::collections::HashMap<&str, Value> =
                key.attributes(&[]).into_iter().collect();
            let frame = key.frame();
            let mut present = 1; // `facts`
            for (k, slot) in slots().iter().enumerate() {
                let held = frame.decode(k);
                assert_eq!(held.as_ref(), given.get(slot.name), "{}", slot.name);
                present += usize::from(held.is_some());
            }
            assert_eq!(given.len(), present);
        }
    }
}
