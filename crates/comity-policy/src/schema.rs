//! The Cedar schema every pack is validated against: the request's attributes as the
//! context, each closed vocabulary as an enumerated entity type, each act as an action and
//! each duty (`hold!required`) as an action of its own, and the pack's declared facts.

use std::fmt::Write;
use std::sync::OnceLock;

use comity_model::*;

/// The suffix that turns an act into the duty to do it: `hold!required`.
pub const DUTY_SUFFIX: &str = "!required";

/// The Cedar type of each context attribute; `?` marks an optional one.
pub(crate) const CONTEXT_ATTRIBUTES: &[(&str, &str)] = &[
    ("from_kind", "AgencyKind"),
    ("to_kind", "LocalKind"),
    ("to_state_agency?", "StateAgency"),
    ("recipient_kind", "AgencyKind"),
    ("form?", "Form"),
    ("basis", "Set<Basis>"),
    ("purpose?", "Purpose"),
    ("warrant_kind", "WarrantKind"),
    ("warrant_form?", "WarrantForm"),
    ("warrant_for?", "Violation"),
    ("watchlist_match", "Bool"),
    ("reentry_after_removal", "Bool"),
    ("status_proof_shown", "Bool"),
    ("citizenship_proof_shown", "Bool"),
    ("sex_or_arson_registrant", "Bool"),
    ("federal_aggravated_felony", "Bool"),
    ("federal_felony_warrant", "Bool"),
    ("outstanding_criminal_warrant", "Bool"),
    ("gang_database_match", "Bool"),
    ("custody_status?", "CustodyStatus"),
    ("arrested_known", "Bool"),
    ("release_known", "Bool"),
    ("court_system?", "CourtSystem"),
    ("arrest_type?", "ArrestType"),
    ("arrest_location?", "ArrestLocation"),
    ("arrest_role?", "ArrestRole"),
    ("records", "Set<RecordField>"),
    ("public_records", "Set<RecordField>"),
    ("facts", "Facts"),
];

/// A closed vocabulary as the schema declares it: its entity type's name and its words, in
/// the vocabulary's order (a word's position is its bit in a [`crate::ContextKey`]).
pub(crate) struct EnumType {
    pub name: &'static str,
    pub words: Vec<&'static str>,
}

fn enum_type<V: Vocabulary>() -> EnumType {
    EnumType {
        name: V::NAME,
        words: V::names(),
    }
}

/// Every closed vocabulary the context holds words of, as an enumerated entity type.
pub(crate) fn enum_types() -> &'static [EnumType] {
    static TYPES: OnceLock<Vec<EnumType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        vec![
            enum_type::<AgencyKind>(),
            enum_type::<LocalKind>(),
            enum_type::<StateAgency>(),
            enum_type::<Form>(),
            enum_type::<Basis>(),
            enum_type::<Purpose>(),
            enum_type::<WarrantKind>(),
            enum_type::<WarrantForm>(),
            enum_type::<Violation>(),
            enum_type::<CustodyStatus>(),
            enum_type::<CourtSystem>(),
            enum_type::<ArrestType>(),
            enum_type::<ArrestLocation>(),
            enum_type::<ArrestRole>(),
            enum_type::<RecordField>(),
        ]
    })
}

/// What a context attribute holds, as a [`crate::context::Frame`] slot encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotType {
    /// A boolean: 0 or 1.
    Bool,
    /// A word of the vocabulary at this position of [`enum_types`]: its position in it.
    Word(usize),
    /// A set of words of that vocabulary: a bit per word.
    Set(usize),
}

/// A context attribute (but `facts`), as a frame holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    /// Its name.
    pub name: &'static str,
    /// What it holds.
    pub ty: SlotType,
    /// Whether a request may leave it out.
    pub optional: bool,
}

/// Every context attribute but `facts`, in the order of [`CONTEXT_ATTRIBUTES`]: a frame's
/// slots.
pub(crate) fn slots() -> &'static [Slot] {
    static SLOTS: OnceLock<Vec<Slot>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let vocabulary = |name: &str| {
            enum_types()
                .iter()
                .position(|t| t.name == name)
                .expect("every attribute's vocabulary is an enumerated type")
        };
        CONTEXT_ATTRIBUTES
            .iter()
            .filter(|(name, _)| *name != "facts")
            .map(|(name, ty)| Slot {
                name: name.trim_end_matches('?'),
                ty: match ty.strip_prefix("Set<").and_then(|t| t.strip_suffix('>')) {
                    _ if *ty == "Bool" => SlotType::Bool,
                    Some(words) => SlotType::Set(vocabulary(words)),
                    None => SlotType::Word(vocabulary(ty)),
                },
                optional: name.ends_with('?'),
            })
            .inspect(|slot| {
                // A frame holds a word as a bit of a 64-bit mask, a set of words in 32 bits.
                let fits = match slot.ty {
                    SlotType::Bool => true,
                    SlotType::Word(v) => enum_types()[v].words.len() <= 64,
                    SlotType::Set(v) => enum_types()[v].words.len() <= 32,
                };
                assert!(
                    fits,
                    "the vocabulary of `{}` is too large for a frame",
                    slot.name
                );
            })
            .collect()
    })
}

/// The slot of the attribute `name`, and its position; `None` for `facts` and for a name
/// the schema does not have.
pub(crate) fn slot(name: &str) -> Option<(usize, Slot)> {
    slots()
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == name)
        .map(|(k, s)| (k, *s))
}

/// The schema, in Cedar's schema syntax, for a pack whose declared boolean facts are
/// `facts`.
pub fn schema_text<'a>(facts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("entity Requester;\nentity Subject;\n");
    for ty in enum_types() {
        let words: Vec<String> = ty.words.iter().map(|w| format!("{w:?}")).collect();
        writeln!(out, "entity {} enum [{}];", ty.name, words.join(", ")).expect("write to String");
    }
    let facts: Vec<String> = facts
        .into_iter()
        .map(|f| format!("  {f}: Bool,\n"))
        .collect();
    writeln!(out, "type Facts = {{\n{}}};", facts.concat()).expect("write to String");
    out.push_str("type Context = {\n");
    for (name, ty) in CONTEXT_ATTRIBUTES {
        writeln!(out, "  {name}: {ty},").expect("write to String");
    }
    out.push_str("};\n");
    let actions: Vec<String> = Act::ALL
        .iter()
        .flat_map(|a| [format!("{:?}", a.as_str()), format!("\"{a}{DUTY_SUFFIX}\"")])
        .collect();
    writeln!(
        out,
        "action {} appliesTo {{ principal: Requester, resource: Subject, context: Context }};",
        actions.join(", ")
    )
    .expect("write to String");
    out
}
