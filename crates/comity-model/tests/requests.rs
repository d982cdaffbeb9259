//! The request contract: the example request parses and round-trips; every kind of bad
//! input is refused with an error naming the field and the value; no input panics.

use comity_model::{Act, InputError, Request, Shape, read_requests};
use proptest::prelude::*;
use serde_json::{Value, json};

fn example() -> Value {
    serde_json::from_str(include_str!("../../../examples/nyc-doc-detainer.json")).unwrap()
}

/// The example with the value at `pointer` replaced (or the key added), refused.
fn refused(pointer: &str, value: Value) -> InputError {
    let mut v = example();
    match v.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => {
            let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
            v.pointer_mut(parent).expect("parent exists")[key] = value;
        }
    }
    Request::from_json(&v.to_string()).expect_err("must be refused")
}

#[test]
fn formats_example_parses_and_round_trips() {
    let r = Request::from_value(example()).unwrap();
    assert_eq!(r.id, "nyc-doc-2018-000123");
    assert_eq!(r.acts, [Act::Hold, Act::NotifyRelease]);
    assert_eq!(r.received_at.to_string(), "2018-03-02T14:05:00-05:00");
    let again = Request::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(again, r);
}

#[test]
fn bad_inputs_name_field_and_value() {
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("/colour", json!("red"), "colour", "`colour`"),
        ("/subject/eye", json!(1), "subject.eye", "`eye`"),
        ("/acts", json!(["hold", "hodl"]), "acts[1]", "`hodl`"),
        ("/acts", json!(["hold", "hold"]), "acts[1]", "`hold`"),
        ("/acts", json!([]), "acts", "at least one"),
        ("/to/kind", json!("jail"), "to.kind", "`jail`"),
        ("/from/kind", json!("ice"), "from.kind", "`ice`"),
        ("/form", json!("I-247Z"), "form", "`I-247Z`"),
        (
            "/basis",
            json!(["looks-foreign"]),
            "basis[0]",
            "`looks-foreign`",
        ),
        ("/warrant/kind", json!("ice"), "warrant.kind", "`ice`"),
        (
            "/warrant",
            json!({"kind": "judicial", "form": "I-200"}),
            "warrant.form",
            "`I-200`",
        ),
        (
            "/received_at",
            json!("2018-03-02 14:05"),
            "received_at",
            "`2018-03-02 14:05`",
        ),
        (
            "/received_at",
            json!("2018-03-02T14:05:00"),
            "received_at",
            "`2018-03-02T14:05:00`",
        ),
        (
            "/custody/release_at",
            json!("soon"),
            "custody.release_at",
            "`soon`",
        ),
        (
            "/subject/convictions/0/date",
            json!("2014-02-30"),
            "subject.convictions[0].date",
            "`2014-02-30`",
        ),
        (
            "/subject/convictions/0/offense",
            json!("PL 160.15"),
            "subject.convictions[0].offense",
            "`PL 160.15`",
        ),
        (
            "/subject/convictions/0/class",
            json!("felony-B"),
            "subject.convictions[0].class",
            "`felony-B`",
        ),
        (
            "/subject/convictions/0/adjudication",
            json!("pardon"),
            "subject.convictions[0].adjudication",
            "`pardon`",
        ),
        (
            "/subject/convictions/0/incarcerated_days",
            json!(-3),
            "subject.convictions[0].incarcerated_days",
            "-3",
        ),
        (
            "/jurisdiction",
            json!("New York City"),
            "jurisdiction",
            "`New York City`",
        ),
        ("/id", json!("has space"), "id", "`has space`"),
        (
            "/acts",
            json!(["courthouse-arrest"]),
            "arrest",
            "courthouse-arrest",
        ),
        ("/records", json!(["dna"]), "records[0]", "`dna`"),
        (
            "/court_event/system",
            json!("tribal"),
            "court_event.system",
            "`tribal`",
        ),
        // The fields format version 1 gained for the law the packs could not express.
        (
            "/public_records",
            json!(["release-date", "diary"]),
            "public_records[1]",
            "`diary`",
        ),
        (
            "/to/state_agency",
            json!("state-police"),
            "to.state_agency",
            "`corrections`",
        ),
        (
            "/to",
            json!({"agency": "NYS-X", "kind": "state-agency", "state_agency": "militia"}),
            "to.state_agency",
            "`militia`",
        ),
        (
            "/form_issued_on",
            json!("2018-03-03"),
            "form_issued_on",
            "`2018-03-03` is after",
        ),
        (
            "/form_issued_on",
            json!("2017-02-30"),
            "form_issued_on",
            "`2017-02-30`",
        ),
        (
            "/subject/citizenship_proof_shown",
            json!(true),
            "subject.citizenship_proof_shown",
            "status_proof_shown",
        ),
        (
            "/subject/sex_or_arson_registrant",
            json!("yes"),
            "subject.sex_or_arson_registrant",
            "\"yes\"",
        ),
        (
            "/subject/pending_charges/0/probable_cause_finding",
            json!(1),
            "subject.pending_charges[0].probable_cause_finding",
            "1",
        ),
        (
            "/subject/convictions/0/equivalent",
            json!("NY PL 160.10"),
            "subject.convictions[0].equivalent",
            "`NY PL 160.10` is of the same state as the offense itself",
        ),
        (
            "/subject/convictions/0/equivalent",
            json!("robbery"),
            "subject.convictions[0].equivalent",
            "`robbery`",
        ),
        (
            "/subject/convictions/0/reduced",
            json!("prop-47"),
            "subject.convictions[0].reduced",
            "California convictions only",
        ),
        (
            "/subject/convictions/0/reduced",
            json!("pardon"),
            "subject.convictions[0].reduced",
            "`pardon`",
        ),
    ];
    for (pointer, value, field, needle) in cases {
        let e = refused(pointer, value);
        assert_eq!(e.field, field, "{e}");
        assert!(e.to_string().contains(needle), "{e} should name {needle}");
    }
}

#[test]
fn form_issued_on_needs_a_form_and_a_prop_47_reduction_a_felony() {
    let mut v = example();
    v.as_object_mut().unwrap().remove("form");
    v["form_issued_on"] = json!("2017-01-10");
    let e = Request::from_value(v).unwrap_err();
    assert_eq!(e.field, "form_issued_on", "{e}");
    assert!(e.to_string().contains("`form` is absent"), "{e}");

    let mut v = example();
    v["subject"]["convictions"][0] = json!({ "offense": "CA PC 487", "class": "misdemeanor",
        "date": "2012-05-01", "reduced": "prop-47" });
    let e = Request::from_value(v).unwrap_err();
    assert_eq!(e.field, "subject.convictions[0].reduced", "{e}");
    assert!(e.to_string().contains("`misdemeanor`"), "{e}");
}

#[test]
fn an_equivalent_is_of_another_state() {
    let mut v = example();
    v["subject"]["convictions"][0] = json!({ "offense": "NY VTL 511(3)", "class": "E-felony",
        "date": "2016-05-01", "equivalent": "NY PL 160.15" });
    let e = Request::from_value(v.clone()).unwrap_err();
    assert_eq!(e.field, "subject.convictions[0].equivalent", "{e}");
    assert!(e.to_string().contains("same state"), "{e}");
    v["subject"]["convictions"][0]["offense"] = json!("CA VC 10851");
    v["subject"]["convictions"][0]["class"] = json!("felony");
    assert!(Request::from_value(v).is_ok());
}

#[test]
fn the_new_fields_round_trip_and_old_requests_serialize_as_before() {
    let before = serde_json::to_value(Request::from_value(example()).unwrap()).unwrap();
    for absent in ["public_records", "form_issued_on"] {
        assert!(
            before.get(absent).is_none(),
            "{absent} is not written when absent"
        );
    }
    assert!(before["subject"].get("sex_or_arson_registrant").is_none());
    let mut v = example();
    v["public_records"] = json!(["court-date"]);
    v["form_issued_on"] = json!("2017-03-30");
    v["to"] = json!({ "agency": "NYSP", "kind": "state-agency", "state_agency": "state-police" });
    v["subject"]["status_proof_shown"] = json!(true);
    v["subject"]["citizenship_proof_shown"] = json!(true);
    v["subject"]["federal_felony_warrant"] = json!(true);
    v["subject"]["pending_charges"][0]["probable_cause_finding"] = json!(true);
    v["subject"]["convictions"][0] = json!({ "offense": "CA PC 211", "class": "felony",
        "date": "2014-05-01", "equivalent": "NY PL 160.15" });
    let r = Request::from_value(v.clone()).unwrap();
    assert_eq!(r.form_issued_on.unwrap().to_string(), "2017-03-30");
    assert!(r.subject.pending_charges[0].probable_cause_finding);
    let again = serde_json::to_value(&r).unwrap();
    assert_eq!(again["public_records"], v["public_records"]);
    assert_eq!(again["to"], v["to"]);
    assert_eq!(
        again["subject"]["convictions"][0]["equivalent"],
        "NY PL 160.15"
    );
    assert_eq!(Request::from_value(again).unwrap(), r);
}

#[test]
fn documents_of_every_shape() {
    let one = example().to_string();
    let (shape, rs) = read_requests(&one).unwrap();
    assert_eq!((shape, rs.len()), (Shape::One, 1));
    let array = format!("[{one},{one}]");
    assert_eq!(read_requests(&array).unwrap().0, Shape::Array);
    let lines = format!("{one}\n\n{one}\n");
    let (shape, rs) = read_requests(&lines).unwrap();
    assert_eq!((shape, rs.len()), (Shape::Lines, 2));
    let mut bad = example();
    bad["acts"] = json!(["hodl"]);
    let e = read_requests(&format!("[{one},{bad}]")).unwrap_err();
    assert_eq!(e.field, "[1].acts[0]");
    assert!(
        e.message.ends_with("(the request beginning on line 1)"),
        "{e}"
    );
    // In a long array, the line the bad element begins on finds it.
    let e = read_requests(&format!("[\n{one},\n{one},\n\n  {bad}\n]")).unwrap_err();
    assert_eq!(e.field, "[2].acts[0]");
    assert!(
        e.message.ends_with("(the request beginning on line 5)"),
        "{e}"
    );
    let e = read_requests(&format!("{one}\n{bad}")).unwrap_err();
    assert_eq!(e.field, "line 2.acts[0]");
    assert!(read_requests("   ").is_err());
    // A broken line 6 of JSON lines is line 6, whether its JSON or its request is bad.
    let broken = "{\"id\": \"broken\", \"acts\": [\"hold\"";
    let six = format!("{one}\n{one}\n{one}\n{one}\n{one}\n{broken}\n{one}\n");
    let e = read_requests(&six).unwrap_err();
    assert!(e.field.starts_with("line 6"), "{e:?}");
    assert!(e.message.contains("column"), "{e:?}");
    let six = six.replace(broken, "{\"id\": \"broken\"}");
    assert_eq!(read_requests(&six).unwrap_err().field, "line 6.received_at");
}

#[test]
fn a_repeated_field_is_named() {
    let text = example().to_string().replacen(
        "\"watchlist_match\":false",
        "\"watchlist_match\":false,\"watchlist_match\":true",
        1,
    );
    let e = Request::from_json(&text).unwrap_err();
    assert_eq!(e.field, "subject.watchlist_match", "{e:?}");
    assert!(e.message.contains("duplicate field"), "{e:?}");
}

proptest! {
    /// No input panics: arbitrary text and arbitrary mutations of the example are either
    /// parsed or refused with an error.
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = read_requests(&s);
    }

    #[test]
    fn mutated_examples_never_panic(path in prop::sample::select(vec![
            "id", "received_at", "jurisdiction", "form", "acts", "subject", "custody", "warrant",
        ]), value in prop_oneof![
            Just(Value::Null), any::<bool>().prop_map(Value::from), any::<i64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from), Just(json!([])), Just(json!({})),
        ]) {
        let mut v = example();
        v[path] = value;
        let _ = Request::from_value(v);
    }
}
