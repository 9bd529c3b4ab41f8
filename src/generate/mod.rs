//! Generators: suites derived from what a client is configured to send.
//! A generator knows nothing of exec, http, check or report.

pub mod entra;
pub mod write;
