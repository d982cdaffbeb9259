//! The records service: requests arrive over HTTP, are decided and recorded with the
//! deliveries their decisions permit, and a dispatcher delivers those, and only those.

pub mod auth;
pub mod check;
pub mod checkpoints;
pub mod config;
pub mod console;
pub mod dispatch;
pub mod feeds;
pub mod http;
pub mod metrics;
pub mod plan;
pub mod receipt;
