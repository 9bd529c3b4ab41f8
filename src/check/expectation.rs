//! What a step expects of its answer, once planned: each check with the
//! place in the suite it was written. The planner makes them; the checks
//! and the reports read them.

use crate::check::predicate::Predicate;
use crate::diagnostic::Span;

#[derive(Debug, Clone)]
pub struct Expectation {
    pub span: Span,
    pub kind: ExpectationKind,
}

#[derive(Debug, Clone)]
pub enum ExpectationKind {
    Status(Vec<u16>),
    Header {
        name: String,
        predicates: Vec<Predicate>,
    },
    Json {
        pointer: String,
        predicates: Vec<Predicate>,
        /// What the value stands for (`label:` beside the predicates), told
        /// with the check's name: a generated suite names the mapping.
        label: Option<String>,
        /// Only for the resource an answer returns: not evaluated on a 204.
        returned: bool,
    },
    Schema(String),
    Snapshot(String),
    EmptyBody,
}

impl ExpectationKind {
    /// A check of the resource an answer returns (`returned:`).
    pub fn is_returned(&self) -> bool {
        matches!(self, ExpectationKind::Json { returned: true, .. })
    }

    /// The check's name, as failures and reports give it: `status`,
    /// `header content-type`, `json /userName`, `schema user`, ...
    pub fn label(&self) -> String {
        match self {
            ExpectationKind::Status(_) => "status".into(),
            ExpectationKind::Header { name, .. } => format!("header {name}"),
            ExpectationKind::Json {
                pointer,
                label,
                returned,
                ..
            } => {
                let pointer = if pointer.is_empty() { "/" } else { pointer };
                let kind = if *returned { "returned" } else { "json" };
                match label {
                    Some(label) => format!("{kind} {pointer} ({label})"),
                    None => format!("{kind} {pointer}"),
                }
            }
            ExpectationKind::Schema(name) => format!("schema {name}"),
            ExpectationKind::Snapshot(name) => format!("snapshot {name}"),
            ExpectationKind::EmptyBody => "empty body".into(),
        }
    }
}
