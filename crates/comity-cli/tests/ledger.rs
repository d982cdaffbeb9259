//! `comity ingest` and `comity audit` on a SQLite file, as an operator or an auditor uses
//! them: lines per request, idempotency, proofs that verify against the signed checkpoint,
//! the key file's mode, and tampering found by `audit verify` with exit 1.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use comity_ledger::{
    NoteVerifier, from_hex, open_checkpoint, verify_consistency, verify_inclusion,
};
use serde_json::Value;

mod common;
use common::{comity, ok, repo};

/// Twelve synthetic NYC requests as JSON lines.
fn requests(dir: &Path) -> PathBuf {
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/nyc-doc-detainer.json")).unwrap(),
    )
    .unwrap();
    let lines: Vec<String> = (0..12)
        .map(|i| {
            let mut r = example.clone();
            r["id"] = format!("synthetic-{i:03}").into();
            r["subject"]["id"] = format!("synthetic-person-{i}").into();
            r.to_string()
        })
        .collect();
    let path = dir.join("requests.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

fn hashes(v: &Value) -> Vec<[u8; 32]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

#[test]
fn ingest_prove_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let file = requests(dir.path());
    let file = file.to_str().unwrap();
    let lines = ok(&comity(dir.path(), &["ingest", "--verbose", file]));
    let first: Vec<&str> = lines.lines().collect();
    assert_eq!(first.len(), 13);
    assert_eq!(
        first[3], "synthetic-003\t6\trecorded",
        "entries 0 to 2 record the three pack versions"
    );
    assert_eq!(first[12], "12 recorded, 0 already recorded, 0 refused");
    // Without --verbose, the summary alone; with --json, one object per request.
    let again = ok(&comity(dir.path(), &["ingest", file]));
    assert_eq!(again, "0 recorded, 12 already recorded, 0 refused\n");
    let json = ok(&comity(dir.path(), &["ingest", "--json", file]));
    let objects: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 12);
    assert_eq!(
        objects[3],
        serde_json::json!({ "id": "synthetic-003", "index": 6, "status": "already recorded" })
    );

    let key = dir.path().join(".comity/ledger.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let vkey = ok(&comity(dir.path(), &["audit", "key"]));
    let verifier = NoteVerifier::from_verifier_key(vkey.trim()).unwrap();
    let note = ok(&comity(dir.path(), &["audit", "checkpoint"]));
    let checkpoint = open_checkpoint(&note, &verifier).unwrap();
    assert_eq!(
        (checkpoint.origin.as_str(), checkpoint.size),
        ("comity.local/ledger", 15)
    );

    let proof: Value = serde_json::from_str(&ok(&comity(
        dir.path(),
        &["audit", "prove", "--index", "5"],
    )))
    .unwrap();
    let entry = ok(&comity(dir.path(), &["audit", "entry", "--index", "5"]));
    let leaf = comity_ledger::leaf_hash(entry.as_bytes());
    assert_eq!(
        proof["leaf_hash"].as_str().unwrap(),
        comity_ledger::to_hex(&leaf)
    );
    assert_eq!(
        from_hex(proof["root"].as_str().unwrap()).unwrap(),
        checkpoint.root
    );
    verify_inclusion(&leaf, 5, 15, &hashes(&proof["hashes"]), &checkpoint.root).unwrap();
    let entry: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(entry["kind"], "decision");
    assert_eq!(entry["request"], "synthetic-002");
    assert_eq!(entry["decision"]["acts"][0]["outcome"], "forbidden");

    let c: Value = serde_json::from_str(&ok(&comity(
        dir.path(),
        &["audit", "consistency", "--from", "7"],
    )))
    .unwrap();
    let root = |k: &str| from_hex(c[k].as_str().unwrap()).unwrap();
    verify_consistency(
        7,
        15,
        &root("from_root"),
        &root("to_root"),
        &hashes(&c["hashes"]),
    )
    .unwrap();

    let clean = ok(&comity(dir.path(), &["audit", "verify"]));
    assert!(clean.starts_with("ok: 15 entries"), "{clean}");
    // The database flags go before or after the subcommand.
    let db = dir.path().join("comity.db");
    let db = db.to_str().unwrap();
    for args in [
        ["audit", "--db", db, "verify"],
        ["audit", "verify", "--db", db],
    ] {
        let clean = ok(&comity(dir.path(), &args));
        assert!(clean.starts_with("ok: 15 entries"), "{args:?}: {clean}");
    }

    // Tamper with one stored decision in plain SQL: verify exits 1 and names the entry.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", dir.path().join("comity.db").display());
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE ledger_entries SET body = replace(body, 'forbidden', 'permitted') WHERE idx = 8")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let out = comity(dir.path(), &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("entry 8:") && said.contains("changed"),
        "{said}"
    );
}

#[test]
fn bad_requests_write_nothing_and_bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = requests(dir.path());
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n{\"id\": \"bad\", \"colour\": \"red\"}");
    std::fs::write(&file, text).unwrap();
    let out = comity(dir.path(), &["ingest", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 13"));
    assert!(out.stdout.is_empty());
    let size = comity(dir.path(), &["audit", "prove", "--index", "0"]);
    assert_eq!(
        size.status.code(),
        Some(2),
        "nothing was recorded, so there is no entry 0"
    );
}

#[test]
fn approvals_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing recorded yet: the reading commands refuse, and create no database.
    for args in [
        &["deliveries", "nyc-approval-1"][..],
        &["approve", "--by", "synthetic-officer", "x/notify-release/y"][..],
        &["audit", "verify"][..],
        &["token", "list"][..],
    ] {
        let out = comity(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    }
    assert!(!dir.path().join("comity.db").exists());

    // A NYC DOC release notice with a judicial warrant in 2019: permitted, after the privacy
    // officer's approval.
    let mut r: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/nyc-doc-detainer.json")).unwrap(),
    )
    .unwrap();
    r["id"] = "nyc-approval-1".into();
    r["received_at"] = "2019-03-02T14:05:00-05:00".into();
    r["warrant"] = serde_json::json!({ "kind": "judicial" });
    r["acts"] = serde_json::json!(["notify-release"]);
    r["subject"]["convictions"][0]["date"] = "2016-05-01".into();
    r["subject"]["pending_charges"] = serde_json::json!([]);
    r["custody"] = serde_json::json!({ "status": "in-custody",
        "arrested_at": "2019-02-28T22:10:00-05:00", "release_at": "2019-03-04T10:00:00-05:00" });
    let file = dir.path().join("r.json");
    std::fs::write(&file, r.to_string()).unwrap();
    ok(&comity(dir.path(), &["ingest", file.to_str().unwrap()]));
    let delivery = "nyc-approval-1/notify-release/DHS-ICE-ERO";
    let listed = ok(&comity(dir.path(), &["deliveries", "nyc-approval-1"]));
    assert!(
        listed.starts_with(&format!("{delivery}\tawaiting-approval")),
        "{listed}"
    );
    let out = comity(dir.path(), &["deliveries", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    let approved = ok(&comity(
        dir.path(),
        &["approve", "--by", "synthetic-privacy-officer", delivery],
    ));
    assert!(approved.contains("privacy-officer approved"), "{approved}");
    let listed = ok(&comity(dir.path(), &["deliveries", "nyc-approval-1"]));
    assert!(
        listed.starts_with(&format!("{delivery}\tpending")),
        "{listed}"
    );
    let again = comity(
        dir.path(),
        &[
            "approve",
            "--by",
            "synthetic-privacy-officer",
            "--refuse",
            delivery,
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already approved"));
    let verified = ok(&comity(dir.path(), &["audit", "verify"]));
    assert!(
        verified.contains("1 outbox rows, 0 events verified"),
        "{verified}"
    );

    // Counsel is assigned by the operator, and the end of an assignment is kept.
    let assign = [
        "counsel",
        "assign",
        "--by",
        "synthetic-admin",
        "legal-aid-1",
        "local-person-881",
    ];
    assert!(
        ok(&comity(dir.path(), &assign)).contains("legal-aid-1 is assigned to local-person-881")
    );
    assert!(ok(&comity(dir.path(), &assign)).contains("already assigned"));
    let end = [
        "counsel",
        "end",
        "--by",
        "synthetic-admin",
        "legal-aid-1",
        "local-person-881",
    ];
    assert!(ok(&comity(dir.path(), &end)).contains("no longer assigned"));
    assert_eq!(comity(dir.path(), &end).status.code(), Some(2));
    let listed = ok(&comity(dir.path(), &["counsel", "list"]));
    assert!(
        listed.contains("assigned ")
            && listed.contains("ended ")
            && listed.contains("synthetic-admin (command line)"),
        "{listed}"
    );
}

/// Copies the SQLite database (with its write-ahead log) from `from` to `to`.
fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let source = from.join(format!("comity.db{suffix}"));
        let target = to.join(format!("comity.db{suffix}"));
        if source.exists() {
            std::fs::copy(&source, &target).unwrap();
        } else if target.exists() {
            std::fs::remove_file(&target).unwrap();
        }
    }
}

#[test]
fn a_ledger_cut_short_or_forked_no_longer_extends_its_published_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let file = requests(dir.path());
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let write = |name: &str, from: usize, to: usize| {
        let path = dir.path().join(name);
        std::fs::write(&path, lines[from..to].join("\n")).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (first, second) = (write("first.jsonl", 0, 3), write("second.jsonl", 3, 6));
    ok(&comity(dir.path(), &["ingest", &first]));
    copy_db(dir.path(), saved.path());
    ok(&comity(dir.path(), &["ingest", &second]));
    // Published outside the database: a checkpoint of 9 entries (3 packs, 6 decisions).
    let published = dir.path().join("published-checkpoint");
    std::fs::write(
        &published,
        ok(&comity(dir.path(), &["audit", "checkpoint"])),
    )
    .unwrap();
    let published = published.to_str().unwrap();
    let verified = ok(&comity(
        dir.path(),
        &["audit", "verify", "--checkpoint", published],
    ));
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");

    // The newest entries deleted cleanly (their rows, nodes and checkpoints with them): the
    // ledger agrees with itself, but no longer extends what was published.
    copy_db(saved.path(), dir.path());
    assert!(ok(&comity(dir.path(), &["audit", "verify"])).starts_with("ok: 6 entries"));
    let out = comity(dir.path(), &["audit", "verify", "--checkpoint", published]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("entries 6 to 8 are missing"), "{said}");

    // Forked: as many entries again, but other ones.
    let other = write("other.jsonl", 6, 9);
    ok(&comity(dir.path(), &["ingest", &other]));
    let out = comity(dir.path(), &["audit", "verify", "--checkpoint", published]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("first 9 entries no longer hash"), "{said}");
}

#[test]
fn counsel_assignments_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Assignments live beside the ledger: record something first.
    let file = requests(dir.path());
    ok(&comity(dir.path(), &["ingest", file.to_str().unwrap()]));
    let assign = [
        "counsel",
        "assign",
        "--by",
        "synthetic-clerk-of-court",
        "synthetic-defender",
        "synthetic-person-3",
    ];
    assert_eq!(
        ok(&comity(dir.path(), &assign)),
        "synthetic-defender is assigned to synthetic-person-3\n"
    );
    assert_eq!(
        ok(&comity(dir.path(), &assign)),
        "synthetic-defender is already assigned to synthetic-person-3\n"
    );
    let list = ok(&comity(dir.path(), &["counsel", "list"]));
    assert!(
        list.starts_with("synthetic-defender\tsynthetic-person-3\tassigned ")
            && list.contains("by synthetic-clerk-of-court (command line)")
            && !list.contains("ended"),
        "{list}"
    );
    let mut end = assign;
    end[1] = "end";
    assert_eq!(
        ok(&comity(dir.path(), &end)),
        "synthetic-defender is no longer assigned to synthetic-person-3\n"
    );
    let list = ok(&comity(dir.path(), &["counsel", "list"]));
    assert!(
        list.contains("\tended ") && list.contains("synthetic-clerk-of-court"),
        "{list}"
    );
    // Ending it again, or naming no one as deciding, is refused (exit 2).
    let again = comity(dir.path(), &end);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not assigned"));
    let mut nobody = assign;
    nobody[3] = " ";
    let refused = comity(dir.path(), &nobody);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--by"));
}
