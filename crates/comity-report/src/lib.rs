//! Statutory reports computed from comity's ledger.
//!
//! A report's definition (`reports/<kind>.toml`) says, citing the statute, which decided
//! requests each figure counts. [`compute`] reads the ledger below a signed checkpoint and
//! counts; every figure lists the ledger entries it counted, so that [`verify`] (or anyone
//! with the entries) can re-derive it and check each entry's inclusion proof against the
//! checkpoint. Figures the ledger cannot know are marked not derived, never invented.

mod case;
pub mod chart;
mod compute;
mod definition;
pub mod law;
mod render;
mod select;
mod verify;

pub use case::{ActOutcome, Activity, BadEntry, Case};
pub use compute::{
    Breakdown, Cell, ComputeError, FORMAT, Figure, OutcomeCount, ReasonCount, Report, compute,
};
pub use definition::{
    Bucket, Definition, DefinitionError, Dimension, Field, FigureSpec, Period, Selection, kinds,
};
pub use render::{STYLE, csv, html, page, table};
pub use verify::{Verified, VerifyError, verify};
