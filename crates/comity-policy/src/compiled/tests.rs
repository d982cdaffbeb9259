//! The differential test: every slice of every pack in the repository, compiled, answers as
//! Cedar's evaluator does on the same slice, over drawn contexts (every attribute drawn from
//! its whole domain, absent optional attributes and the pack's fact bits included).
//!
//! `COMITY_DIFF_CONTEXTS` sets the contexts per slice (default 200, the bounded run of
//! `scripts/test`); the run of docs/perf.md, over several million:
//! `COMITY_DIFF_CONTEXTS=10000 cargo test --release -p comity-policy compiled -- --nocapture`.

use std::path::Path;
use std::sync::OnceLock;

use comity_model::{Act, Catalogs};
use proptest::prelude::*;

use super::reference::{agrees, check_drawn, drawn_rules};
use crate::PackSet;
use crate::context::ContextKey;
use crate::pack::{Pack, SliceKind, rule_rank};
use crate::schema::DUTY_SUFFIX;

fn packs() -> &'static PackSet {
    static PACKS: OnceLock<PackSet> = OnceLock::new();
    PACKS.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let catalogs = Catalogs::load(&repo.join("catalog")).expect("the catalogs load");
        PackSet::load(&repo.join("packs"), &catalogs).expect("the packs load")
    })
}

/// A deterministic draw (SplitMix64), so that a failure is reproduced by its seed.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % u64::from(n.max(1))) as u32
    }
}

/// Each non-empty slice of `pack`: its kind, act, duty, Cedar set and action name.
fn slices(pack: &Pack) -> Vec<(SliceKind, Act, bool, &cedar_policy::PolicySet, String)> {
    let mut out = Vec::new();
    for &act in Act::ALL {
        for duty in [false, true] {
            let action = if duty {
                format!("{act}{DUTY_SUFFIX}")
            } else {
                act.to_string()
            };
            let mut kinds = vec![SliceKind::Rules, SliceKind::Met];
            if !duty {
                kinds.push(SliceKind::Owed);
            }
            for kind in kinds {
                let set = pack.slice_of(kind, act, duty);
                if !set.is_empty() {
                    out.push((kind, act, duty, set, action.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_slice_of_every_pack_compiles() {
    let mut slices_seen = 0;
    for pack in packs().packs() {
        for (kind, act, duty, _, action) in slices(pack) {
            if let Err(why) = pack.compiled(kind, act, duty) {
                panic!("{} {kind:?} `{action}`: {why}", pack.id);
            }
            slices_seen += 1;
        }
    }
    assert!(slices_seen > 100, "{slices_seen} slices");
}

#[test]
fn compiled_slices_answer_as_cedar_on_drawn_contexts() {
    let per_slice: usize = std::env::var("COMITY_DIFF_CONTEXTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (mut checked, mut slices_seen) = (0u64, 0u64);
    for (p, pack) in packs().packs().iter().enumerate() {
        let order = |id: &str| rule_rank(&pack.rules, id);
        for (s, (kind, act, duty, set, action)) in slices(pack).into_iter().enumerate() {
            let compiled = pack.compiled(kind, act, duty).expect("compiled");
            let mut draw = Draw((p as u64) << 32 | s as u64);
            for _ in 0..per_slice {
                let key = ContextKey::drawn(&mut |n| draw.below(n), pack.fact_names.len());
                if let Err(e) = agrees(compiled, set, &action, &key, &pack.fact_names, &order) {
                    panic!("{} {kind:?}: {e}", pack.id);
                }
                checked += 1;
            }
            slices_seen += 1;
        }
    }
    println!("{checked} contexts over {slices_seen} slices: the compiled answers are Cedar's");
    assert!(checked >= 100 * slices_seen);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Rules drawn over the whole schema (errors on absent attributes included: not every
    /// drawn rule guards its reads), compiled, answer as Cedar does on drawn contexts.
    #[test]
    fn drawn_rules_compile_to_cedar_s_answers(seed in any::<u64>()) {
        let mut draw = Draw(seed);
        let rules = drawn_rules(&mut |n| draw.below(n));
        check_drawn(&rules, &mut |n| draw.below(n), 64);
    }
}

/// Shapes on which Cedar errs, or whose answer the compiler cannot fold, stay with Cedar.
#[test]
fn what_cedar_would_err_on_is_left_to_cedar() {
    for body in [
        "context has form && Form::\"I-247A\" in [context.form]",
        "context.from_kind in true",
        "context.from_kind in [true]",
        "[AgencyKind::\"state\"] in context.from_kind",
        "true in context.from_kind",
        "context.from_kind == context.recipient_kind",
    ] {
        let set: cedar_policy::PolicySet =
            format!("permit (principal, action == Action::\"hold\", resource) when {{ {body} }};")
                .parse()
                .unwrap();
        let compiled = super::CompiledSet::compile(&set, "hold", &[], |_| 0);
        assert!(compiled.is_err(), "{body} compiled");
    }
}
