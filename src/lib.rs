//! scimcheck: a SCIM 2.0 conformance test harness.
//!
//! Data flows one way:
//!
//! ```text
//! suites/*.yaml --suite--> RawSuite --plan--> Plan --exec--> ScenarioResult --report--> terminal
//! ```
//!
//! - [`suite`] reads YAML (the only module that knows it) into a raw model with spans.
//! - [`plan`] checks everything before anything is sent, reporting [`diagnostic`]s.
//! - [`template`] renders `{{ ... }}` placeholders; [`check`] holds the checks.
//! - [`http`] is the only user of reqwest; [`exec`] runs scenarios with their cleanups.
//! - [`double`] is the built-in SCIM service provider: its logic always (the
//!   [`explore`]r's model), its servers with the feature `double` (on by default).
//! - [`report`] renders results; [`runner`] ties it together for the CLI and tests.
//! - [`gate`] turns scenarios into libtest-mimic trials against a server under test.
//! - `cli` is the command line: one module per mode, each a function of its
//!   typed arguments returning an `Exit` (features `double` and `tls`).
//! - [`generate`] produces suites: from the target's /Schemas, a customer's
//!   Entra export or log, an Okta mapping.
//! - [`scim`] is the SCIM vocabulary under all of them (attribute model,
//!   filters, paths), pure; [`requirements`] is the catalogue, as data.

pub mod check;
pub mod cleanup;
#[cfg(all(feature = "double", feature = "tls"))]
pub mod cli;
pub mod diagnostic;
pub mod double;
pub mod exec;
pub mod explore;
pub mod gate;
pub mod generate;
pub mod http;
pub mod interrupt;
pub mod live;
pub mod load;
pub mod normalize;
pub mod offered;
pub mod ownership;
pub mod plan;
pub mod profile;
pub mod report;
pub mod required;
pub mod requirements;
pub mod runner;
pub mod scim;
pub mod signals;
pub mod suite;
pub mod target;
pub mod template;
