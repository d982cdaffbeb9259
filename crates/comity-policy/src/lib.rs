//! Policy packs and the decision engine of comity.
//!
//! A pack (`packs/<jurisdiction>/<effective-from>/`) holds the rules of one jurisdiction's
//! law in force from one date, in Cedar, each rule annotated with the statute it encodes.
//! Rust computes the facts a pack declares; Cedar decides; the engine combines the answers
//! of every pack in force into one outcome per act, with its reasons and limits.

mod amend;
mod annotated;
mod cases;
mod compiled;
mod context;
mod deadline;
mod engine;
mod error;
mod explain;
mod facts;
mod files;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod manifest;
mod pack;
mod packset;
mod preempt;
pub mod release;
mod schema;
mod shift;
mod statute;

pub use annotated::{AnnotatedError, AnnotatedRule, Annotations, read_annotated};
pub use cases::{CaseFailure, CaseSummary, PackReport, case_summaries, run_cases};
pub use context::ContextKey;
pub use deadline::{SkipDay, deadline, flat_deadline, is_federal_holiday};
pub use engine::Engine;
pub use error::{DecideError, PackError};
pub use explain::explain;
pub use facts::{ClassFilter, ConvictionFact, FactSpec, Since};
pub use files::{PackFile, PackFiles, RuleFile, SIGNATURE_FILE, STATUTE_SUFFIX};
pub use manifest::{
    Disclosure, EarlierLaw, LowerMay, Manifest, Preemption, Source, jurisdiction_path,
};
pub use pack::{LimitSpec, Pack, Rule, copies};
pub use packset::PackSet;
pub use packset::{Gap, InForce};
pub use preempt::forbids_set_aside;
pub use schema::{DUTY_SUFFIX, schema_text};
pub use statute::{Paragraph, Statute, StatuteFile, Wording};
