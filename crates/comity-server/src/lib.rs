//! The records service: requests arrive over HTTP, are decided and recorded with the
//! deliveries their decisions permit, and a dispatcher delivers those, and only those.

pub mod config;
pub mod plan;
