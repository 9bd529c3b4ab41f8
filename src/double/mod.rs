//! The built-in SCIM service provider ("the double").
//!
//! A faithful, stateful, in-memory SCIM 2.0 server: what scimcheck runs
//! against when no target is given, what its own tests trust, and what
//! `scimcheck serve` offers as a sandbox. The SCIM logic is plain code
//! ([`crate::scim`] for the schemas and the filter grammar, [`patch`], [`bulk`], [`resource`], [`service`]); only
//! [`server`] (through wiremock, whose mocks let tests inject defects) and
//! [`plain`] (through hyper, for `serve` and the CLI: nothing kept per
//! request) touch the network.

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod limits;
pub mod patch;
pub mod plain;
pub mod resource;
pub mod server;
pub mod service;
pub mod variant;
pub mod wire;

pub use server::Double;
