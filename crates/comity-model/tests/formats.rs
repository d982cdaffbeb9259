//! `docs/formats.md` is the contract: its table of vocabularies must list exactly the words
//! the code accepts, in the code's order.

use comity_model::*;

/// The row `docs/formats.md` must hold for vocabulary `V`.
fn row<V: Vocabulary>() -> String {
    let words: Vec<String> = V::names().iter().map(|w| format!("`{w}`")).collect();
    format!("| `{}` | {} |", V::NAME, words.join(", "))
}

#[test]
fn the_vocabulary_table_lists_every_word_the_code_accepts() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats.md"),
    )
    .unwrap();
    let rows = [
        row::<Act>(),
        row::<AgencyKind>(),
        row::<LocalKind>(),
        row::<StateAgency>(),
        row::<Form>(),
        row::<Basis>(),
        row::<Purpose>(),
        row::<WarrantKind>(),
        row::<WarrantForm>(),
        row::<Violation>(),
        row::<CustodyStatus>(),
        row::<CourtSystem>(),
        row::<ArrestType>(),
        row::<ArrestLocation>(),
        row::<ArrestRole>(),
        row::<RecordField>(),
        row::<Adjudication>(),
        row::<OffenseClass>(),
        row::<Inchoate>(),
        row::<Reduction>(),
        row::<EventKind>(),
    ];
    for expected in rows {
        assert!(
            doc.lines().any(|l| l == expected),
            "docs/formats.md should hold this row of its vocabulary table:\n{expected}"
        );
    }
}
