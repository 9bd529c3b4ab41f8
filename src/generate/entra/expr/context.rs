//! What an evaluation works with besides the expression: the run's fixed
//! values ([`Env`]) and the errors it ends in. Apart from the evaluator, so
//! that the functions and the evaluator both build on it.

use std::cell::Cell;
use std::fmt;

use time::OffsetDateTime;

/// What a run fixes for every evaluation: the time Now() returns, the seed
/// of Guid() and RandomString(), which values SelectUniqueValue finds
/// taken in the target, and the tenant's default domain.
pub struct Env<'a> {
    pub now: OffsetDateTime,
    state: Cell<u64>,
    pub taken: &'a dyn Fn(&str) -> bool,
    /// What DefaultDomain() returns: the tenant's default verified domain.
    pub default_domain: Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(now: OffsetDateTime, seed: u64, taken: &'a dyn Fn(&str) -> bool) -> Env<'a> {
        Env {
            now,
            state: Cell::new(seed),
            taken,
            default_domain: None,
        }
    }

    pub fn with_default_domain(mut self, domain: Option<String>) -> Env<'a> {
        self.default_domain = domain;
        self
    }

    /// A version-4 GUID from the seeded sequence.
    pub fn guid(&self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_random().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_random().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// splitmix64: small, fast and good enough for made-up values.
    pub fn next_random(&self) -> u64 {
        let mut z = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The expression itself is wrong (an unknown function, a wrong
    /// number of arguments, a value of the wrong kind): bad input.
    Invalid,
    /// The expression is valid, but Entra fails on this object's data
    /// (IIF on a null attribute): the object would not be provisioned.
    EntraFails,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub kind: ErrorKind,
    /// Character offset of the function or value at fault.
    pub pos: usize,
    /// The function at fault, if any.
    pub function: Option<String>,
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(name) => write!(f, "{name} at column {}: {}", self.pos + 1, self.message),
            None => write!(f, "at column {}: {}", self.pos + 1, self.message),
        }
    }
}

impl std::error::Error for EvalError {}
