//! The checks a step's response is held to.

pub mod predicate;
