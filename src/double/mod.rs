//! The built-in SCIM service provider ("the double").
//!
//! A faithful, stateful, in-memory SCIM 2.0 server: what scimcheck runs
//! against when no target is given, what its own tests trust, and what
//! `scimcheck serve` offers as a sandbox. The SCIM logic is plain code
//! ([`crate::scim`] for the schemas and the filter grammar, [`patch`], [`bulk`], [`resource`], [`service`]); only
//! [`server`] (through wiremock, whose mocks let tests inject defects) and
//! [`plain`] (through hyper, for `serve` and the CLI: nothing kept per
//! request) touch the network; they come with the `double` feature, while
//! the logic is always built (the explorer's model, a gate's too).

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod limits;
pub mod patch;
#[cfg(feature = "double")]
pub mod plain;
pub mod resource;
#[cfg(feature = "double")]
pub mod server;
pub mod service;
pub mod variant;
pub mod wire;

#[cfg(feature = "double")]
pub use server::Double;
