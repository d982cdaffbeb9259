//! `comity demo` sets everything up in one command (run here without serving), and a
//! counsel receipt of its history is checked offline by `comity audit check-receipt`.

mod common;

use comity_ledger::NoteSigner;
use comity_server::receipt::Receipt;
use comity_store::Store;
use common::{comity, ok};

/// The token the demo printed for `role`.
fn token_of(out: &str, role: &str) -> String {
    out.lines()
        .find(|l| l.trim_start().starts_with(role) && l.contains("comity_"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a token")
        .to_owned()
}

#[tokio::test]
async fn the_demo_records_a_synthetic_quarter_reports_it_and_hands_out_a_token_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |extra: &[&str]| {
        let mut args = vec![
            "demo",
            "--no-serve",
            "--scale",
            "0.1",
            "--from",
            "2018-07-01",
            "--to",
            "2018-09-30",
        ];
        args.extend_from_slice(extra);
        comity(dir.path(), &args)
    };
    let out = ok(&demo(&[]));
    assert!(dir.path().join("comity-demo.db").is_file());
    for text in [
        "requests decided and recorded in the ledger",
        "hold",
        "NYC Department of Correction (NYC Admin. Code § 9-131(f)",
        "Sign in to the console",
    ] {
        assert!(out.contains(text), "the summary lacks {text}:\n{out}");
    }
    for role in ["clerk", "supervisor", "counsel", "auditor", "admin"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(role) && l.contains("comity_")),
            "no token for {role}:\n{out}"
        );
    }
    // Run again, it uses the ledger it made, and the first run's tokens end.
    let first = token_of(&out, "clerk");
    let again = ok(&demo(&[]));
    assert!(again.contains("holds a ledger of"));
    assert_ne!(token_of(&again, "clerk"), first);
    let listed = ok(&comity(
        dir.path(),
        &["token", "list", "--db", "comity-demo.db"],
    ));
    let live = listed
        .lines()
        .filter(|l| l.contains("Demo desk clerk") && !l.contains("revoked"))
        .count();
    assert_eq!(live, 1, "{listed}");

    // A receipt of a disclosure about one of the demo counsel's clients.
    let db = dir.path().join("comity-demo.db");
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    let key = std::fs::read_to_string(dir.path().join(".comity/ledger.key")).unwrap();
    let signer = NoteSigner::from_private_key(key.trim()).unwrap();
    let clients = store.assignments(Some("Demo Defenders")).await.unwrap();
    assert!(!clients.is_empty(), "the demo counsel has clients");
    let mut about = Vec::new();
    for c in &clients {
        about.extend(store.deliveries_about(&c.subject_id).await.unwrap());
    }
    let delivery = about
        .into_iter()
        .next()
        .expect("a disclosure about a client");
    let checkpoint = store.sign_checkpoint(&signer).await.unwrap();
    let receipt = Receipt::make(&store, delivery, checkpoint).await.unwrap();
    store.close().await;
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, serde_json::to_string_pretty(&receipt).unwrap()).unwrap();
    let held = ok(&comity(
        dir.path(),
        &["audit", "check-receipt", "receipt.json"],
    ));
    assert!(held.starts_with("ok: entry "), "{held}");

    // Against the key an auditor pinned, and refused once edited.
    let vkey = signer.verifier_key();
    let pinned = comity(
        dir.path(),
        &[
            "audit",
            "check-receipt",
            "--public-key",
            &vkey,
            "receipt.json",
        ],
    );
    assert_eq!(pinned.status.code(), Some(0));
    let mut edited = receipt.clone();
    edited.entry.text = edited.entry.text.replacen("\"acts\"", "\"acts\" ", 1);
    std::fs::write(&file, serde_json::to_string(&edited).unwrap()).unwrap();
    let refused = comity(dir.path(), &["audit", "check-receipt", "receipt.json"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("REFUSED") && said.contains("inclusion proof"),
        "{said}"
    );
}
