//! Signed pack releases as counsel and an operator use them: a key, a signature on the
//! versions reviewed, a service that loads only signed law, and a changed file refused by
//! name.

use std::path::Path;
use std::process::Output;

mod common;
use common::{comity, copy_law, ok, repo};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Makes a key named `name` in `dir`; answers its verifier key.
fn keygen(dir: &Path, name: &str) -> String {
    let file = format!("{name}.key");
    ok(&comity(dir, &["packs", "keygen", name, "--out", &file]))
        .trim()
        .to_owned()
}

/// Every pack version's id.
fn versions(dir: &Path, packs: &str) -> Vec<String> {
    let out = ok(&comity(dir, &["check", "--json", "--packs", packs]));
    let checked: serde_json::Value = serde_json::from_str(&out).unwrap();
    checked["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn signed_law_loads_and_changed_or_unsigned_law_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    copy_law(here);
    let packs = here.join("packs");
    let packs = packs.to_str().unwrap();
    let counsel = keygen(here, "counsel.nyc.test");
    let other = keygen(here, "counsel.other.test");
    assert!(counsel.starts_with("counsel.nyc.test+"), "{counsel}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(here.join("counsel.nyc.test.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Nothing is signed yet: every version is refused, naming its pack.sig.
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("2026-01-29/pack.sig: the version is not signed"),
        "{}",
        stderr(&out)
    );

    let all = versions(here, packs);
    let mut sign = vec![
        "packs",
        "sign",
        "--packs",
        packs,
        "--key",
        "counsel.nyc.test.key",
    ];
    sign.extend(all.iter().map(String::as_str));
    ok(&comity(here, &sign));
    let verified = ok(&comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    ));
    assert_eq!(verified.lines().count(), all.len());
    assert!(
        verified
            .lines()
            .all(|l| l.ends_with("signed by counsel.nyc.test")),
        "{verified}"
    );
    // Another key's word is not counsel's.
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &other],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not signed by any of the keys required (counsel.other.test)"));
    // A second counsel co-signs New York City's amendment; either key verifies it.
    let nyc = "ocd-division/country:us/state:ny/place:new_york@2026-01-29";
    ok(&comity(
        here,
        &[
            "packs",
            "sign",
            "--packs",
            packs,
            "--key",
            "counsel.other.test.key",
            nyc,
        ],
    ));
    let sig = std::fs::read_to_string(
        here.join("packs/country-us/state-ny/place-new_york/2026-01-29/pack.sig"),
    )
    .unwrap();
    assert_eq!(sig.matches('\u{2014}').count(), 2, "{sig}");

    // The decisions a service records name the release in the pack-loaded entry.
    let request = here.join("request.json");
    std::fs::copy(repo().join("examples/nyc-doc-detainer.json"), &request).unwrap();
    ok(&comity(
        here,
        &["ingest", "--packs", packs, request.to_str().unwrap()],
    ));
    let entry = ok(&comity(here, &["audit", "entry", "--index", "0"]));
    assert!(entry.contains("\"kind\":\"pack-loaded\""), "{entry}");
    assert!(entry.contains("comity pack release"), "{entry}");

    // A changed rule file is named; so is the amendment that inherits it.
    let city = here.join("packs/country-us/state-ny/place-new_york");
    let file = city.join("2017-12-01/nypd-14-154.cedar");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n// edited after review\n")).unwrap();
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    );
    assert_eq!(out.status.code(), Some(1));
    let why = stderr(&out);
    assert!(
        why.contains("2017-12-01/nypd-14-154.cedar: changed since the release was signed"),
        "{why}"
    );
    assert!(
        why.contains("2026-01-29/pack.sig: the version it amends changed"),
        "{why}"
    );
    // And a service told to require signed law refuses to start, naming the file.
    let out = comity(
        here,
        &[
            "serve",
            "--packs",
            packs,
            "--listen",
            "127.0.0.1:0",
            "--require-signed-packs",
            &counsel,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nypd-14-154.cedar: changed since the release was signed"));
    // A file added to a signed version is named too.
    std::fs::write(&file, text).unwrap();
    std::fs::write(
        city.join("2026-01-29/tests/extra.yaml"),
        "base: {}\ncases: []\n",
    )
    .unwrap();
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    );
    assert!(
        stderr(&out).contains("2026-01-29/tests/extra.yaml: added since the release was signed"),
        "{}",
        stderr(&out)
    );

    // A catalog list is law the versions read: one offense taken off the violent or serious
    // crimes changes decisions without touching a pack file, and is refused by name. So is a
    // section of a code a list is drawn from, though not itself in the list: naming
    // `NY PL 265.02` resolves by its subdivisions, and removing one changes what it is.
    std::fs::remove_file(city.join("2026-01-29/tests/extra.yaml")).unwrap();
    ok(&comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    ));
    let catalog = here.join("catalog/us-ny-pl.toml");
    let law = std::fs::read_to_string(&catalog).unwrap();
    let robbery = r#"{ section = "160.15", title = "Robbery in the first degree", class = "B-felony", lists = ["nyc-vsc"] }"#;
    assert!(law.contains(robbery), "the catalog lists robbery 1st");
    let fewer = law.replace(
        robbery,
        r#"{ section = "160.15", title = "Robbery in the first degree", class = "B-felony" }"#,
    );
    std::fs::write(&catalog, fewer).unwrap();
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("catalog list nyc-vsc changed since the release was signed"),
        "{}",
        stderr(&out)
    );
    let subdivision = r#"  { section = "265.02(1)","#;
    let line = law
        .lines()
        .find(|l| l.starts_with(subdivision))
        .expect("the catalog lists 265.02(1)");
    std::fs::write(&catalog, law.replace(&format!("{line}\n"), "")).unwrap();
    let out = comity(
        here,
        &["packs", "verify", "--packs", packs, "--key", &counsel],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("catalog code NY PL changed since the release was signed"),
        "{}",
        stderr(&out)
    );
}
