//! Entra's expression language for attribute mappings: [`parse`] reads an
//! `expression` string, [`functions`] holds every function of Microsoft's
//! reference, [`eval`] evaluates a tree against a source object.

pub mod context;
pub mod dates;
pub mod eval;
pub mod functions;
pub mod parameters;
pub mod parse;
pub mod value;

#[cfg(test)]
mod reference_examples;

pub use eval::{Env, ErrorKind, EvalError, Evaluator, Source};
pub use parse::{Expr, ExprKind, ParseError, parse};
pub use value::Value;
