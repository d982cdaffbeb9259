//! The contracts of comity (`docs/formats.md`, version 1): requests as other agencies send them,
//! decisions as comity answers them, the offense catalogs requests are checked against,
//! and the closed vocabularies both use.
//!
//! Every input is checked strictly: an unknown field, word or offense is an
//! [`InputError`] that names the field and the value.

mod catalog;
mod decision;
mod division;
mod error;
mod event;
mod input;
mod offense;
#[cfg(feature = "openapi")]
mod openapi;
mod request;
mod time;
mod vocab;

pub use catalog::{
    CatalogError, Catalogs, CodeCatalog, Confidence, DIVISIONS_FILE, Offense, OffenseList,
    Resolved, UnknownOffenses,
};
pub use decision::{ActDecision, Decision, Limit, Outcome, PackRef, Reason, allowed_fields};
pub use division::{Alias, Division, Divisions, Place, UnknownPlaces};
pub use error::InputError;
pub use event::Event;
pub use input::{Position, Received, Shape, read_received, read_requests};
pub use offense::{BadOffenseCode, OffenseCode};
pub use request::{
    Agency, Arrest, BadJurisdiction, Conviction, CourtEvent, Custody, Jurisdiction, LocalAgency,
    PendingCharge, Request, Subject, Warrant,
};
pub use time::{BadDate, BadInstant, Date, Instant};
pub use vocab::*;

/// serde, for the implementations [`words!`] writes in other crates.
#[doc(hidden)]
pub use serde as __serde;
