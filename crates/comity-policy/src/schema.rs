//! The Cedar schema every pack is validated against: the request's attributes as the
//! context, each closed vocabulary as an enumerated entity type, each act as an action and
//! each duty (`hold!required`) as an action of its own, and the pack's declared facts.

use std::fmt::Write;

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

fn vocabulary<V: Vocabulary>(out: &mut String) {
    let words: Vec<String> = V::names().iter().map(|w| format!("{w:?}")).collect();
    writeln!(out, "entity {} enum [{}];", V::NAME, words.join(", ")).expect("write to String");
}

/// The schema, in Cedar's schema syntax, for a pack whose declared boolean facts are
/// `facts`.
pub fn schema_text<'a>(facts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("entity Requester;\nentity Subject;\n");
    vocabulary::<AgencyKind>(&mut out);
    vocabulary::<LocalKind>(&mut out);
    vocabulary::<StateAgency>(&mut out);
    vocabulary::<Form>(&mut out);
    vocabulary::<Basis>(&mut out);
    vocabulary::<Purpose>(&mut out);
    vocabulary::<WarrantKind>(&mut out);
    vocabulary::<WarrantForm>(&mut out);
    vocabulary::<Violation>(&mut out);
    vocabulary::<CustodyStatus>(&mut out);
    vocabulary::<CourtSystem>(&mut out);
    vocabulary::<ArrestType>(&mut out);
    vocabulary::<ArrestLocation>(&mut out);
    vocabulary::<ArrestRole>(&mut out);
    vocabulary::<RecordField>(&mut out);
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
