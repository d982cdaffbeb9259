//! What a disclosure carries is law: the packs in force say it (`[discloses]`), and a state
//! or local law can narrow what the federal law allows. Decided with a copy of the
//! repository's packs in which New York's law of 2020-12-15 lets a release notice carry the
//! release date alone.

use std::path::{Path, PathBuf};

use comity_model::{Act, Request};
use comity_policy::Engine;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A synthetic detainer to the Albany police in 2021 asking a release notice.
fn albany() -> Request {
    let mut v: Value =
        serde_json::from_str(include_str!("../../../examples/nyc-doc-detainer.json")).unwrap();
    v["id"] = "synthetic-albany-1".into();
    v["received_at"] = "2021-06-10T10:00:00-04:00".into();
    v["jurisdiction"] = "ocd-division/country:us/state:ny/place:albany".into();
    v["to"] = json!({ "agency": "Albany-PD", "kind": "police" });
    v["acts"] = json!(["notify-release"]);
    v["custody"] = json!({ "status": "in-custody", "arrested_at": "2021-06-09T10:00:00-04:00",
                           "release_at": "2021-06-11T10:00:00-04:00" });
    Request::from_value(v).unwrap()
}

fn release_notice(engine: &Engine) -> serde_json::Map<String, Value> {
    let request = albany();
    let decision = engine.decide(&request).unwrap();
    let deliveries = comity_server::plan::deliveries(&request, &decision);
    let notice = deliveries
        .iter()
        .find(|d| d.act == Act::NotifyRelease)
        .expect("the release notice is permitted and sent");
    notice.payload.as_object().unwrap().clone()
}

#[test]
fn a_state_law_narrows_what_the_federal_law_lets_a_notice_carry() {
    let engine = Engine::load(&repo().join("packs"), &repo().join("catalog")).unwrap();
    // A forbidden act carries nothing, so it has no disclosure limit: the example's New York
    // City release notice, forbidden without a judicial warrant.
    let example =
        Request::from_json(include_str!("../../../examples/nyc-doc-detainer.json")).unwrap();
    let forbidden = &engine.decide(&example).unwrap().acts[1];
    assert_eq!(forbidden.act, Act::NotifyRelease);
    assert_eq!(forbidden.outcome, comity_model::Outcome::Forbidden);
    assert!(forbidden.limits.is_empty(), "{:?}", forbidden.limits);

    let federal = release_notice(&engine);
    assert_eq!(federal["subject"], "local-person-881");
    assert_eq!(federal["release_at"], "2021-06-11T10:00:00-04:00");

    let dir = tempfile::tempdir().unwrap();
    comity_testdb::copy_dir(&repo().join("packs"), &dir.path().join("packs"));
    let manifest = dir
        .path()
        .join("packs/country-us/state-ny/2020-12-15/pack.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        "\n[discloses.notify-release]\nfields = [\"release-date\"]\n\
         citation = \"a synthetic amendment, for this test only\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    let narrowed = Engine::load(&dir.path().join("packs"), &repo().join("catalog")).unwrap();
    let decision = narrowed.decide(&albany()).unwrap();
    let limits: Vec<&str> = decision.acts[0]
        .limits
        .iter()
        .filter(|l| !l.discloses.is_empty())
        .map(|l| l.pack.as_str())
        .collect();
    assert_eq!(
        limits,
        [
            "ocd-division/country:us@2017-04-02",
            "ocd-division/country:us/state:ny@2020-12-15"
        ]
    );
    let notice = release_notice(&narrowed);
    assert_eq!(notice["release_at"], "2021-06-11T10:00:00-04:00");
    assert!(
        !notice.contains_key("subject"),
        "the state law leaves the identity out: {notice:?}"
    );

    // A pack that says an act tells nothing it cannot tell is refused at load.
    let bad = dir
        .path()
        .join("packs/country-us/state-ny/2018-04-25/pack.toml");
    let mut text = std::fs::read_to_string(&bad).unwrap();
    text.push_str("\n[discloses.hold]\nfields = [\"identity\"]\ncitation = \"x\"\n");
    std::fs::write(&bad, text).unwrap();
    let errors = Engine::load(&dir.path().join("packs"), &repo().join("catalog")).unwrap_err();
    assert!(
        errors[0].to_string().contains("discloses.hold"),
        "{errors:?}"
    );
}
