//! The requirement catalogue: every normative requirement of RFC 7643, RFC
//! 7644 and the clients' published SCIM requirements, as data
//! (`requirements/*.yaml`, compiled in), with an id, its source, its level
//! and whether a client-facing test can observe it.
//!
//! Steps cite the ids they verify (`verifies:`); a run's reports give, per
//! requirement, whether it passed, failed, was not applicable or was not
//! tested (`report::coverage`). A certification is only as good as what it covers: this is how
//! anyone can say what a run checked.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const FILES: [(&str, &str); 3] = [
    ("rfc7643.yaml", include_str!("../requirements/rfc7643.yaml")),
    ("rfc7644.yaml", include_str!("../requirements/rfc7644.yaml")),
    ("clients.yaml", include_str!("../requirements/clients.yaml")),
];

/// How binding a requirement is, as its text says (SHALL and REQUIRED are
/// MUST; RECOMMENDED is SHOULD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    source: Option<String>,
    level: Level,
    says: String,
    #[serde(default)]
    untestable: Option<String>,
}

/// One requirement of the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    /// `RFC7644-3.3/create-answers-201`, `ENTRA/add-members`.
    pub id: String,
    /// Where it is written: `RFC7644 3.3`, `Entra SCIM: Create User`.
    pub source: String,
    pub level: Level,
    /// The requirement in short words.
    pub says: String,
    /// Whether a client-facing test can observe it.
    pub testable: bool,
    /// Why not, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_untestable: Option<String>,
}

/// `RFC7644-3.4.2.2/eq` comes from `RFC7644 3.4.2.2`.
fn source_of(id: &str) -> String {
    let section = id.split('/').next().unwrap_or(id);
    match section.split_once('-') {
        Some((document, number)) => format!("{document} {number}"),
        None => section.to_string(),
    }
}

fn load() -> Result<Vec<Requirement>, String> {
    let mut out: Vec<Requirement> = Vec::new();
    for (name, text) in FILES {
        let entries: Vec<Entry> =
            serde_saphyr::from_str(text).map_err(|e| format!("requirements/{name}: {e}"))?;
        for e in entries {
            if out.iter().any(|r| r.id == e.id) {
                return Err(format!("requirements/{name}: `{}` is listed twice", e.id));
            }
            out.push(Requirement {
                source: e.source.unwrap_or_else(|| source_of(&e.id)),
                id: e.id,
                level: e.level,
                says: e.says,
                testable: e.untestable.is_none(),
                why_untestable: e.untestable,
            });
        }
    }
    Ok(out)
}

/// The whole catalogue, in the order of its files.
pub fn catalogue() -> &'static [Requirement] {
    static CATALOGUE: OnceLock<Vec<Requirement>> = OnceLock::new();
    CATALOGUE.get_or_init(|| load().expect("the built-in requirement catalogue is valid (tested)"))
}

pub fn find(id: &str) -> Option<&'static Requirement> {
    catalogue().iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads_with_unique_ids_and_sources() {
        let all = load().unwrap();
        assert!(all.len() >= 150, "{}", all.len());
        assert_eq!(
            find("RFC7644-3.3/create-answers-201").unwrap().source,
            "RFC7644 3.3"
        );
        assert_eq!(
            find("ENTRA/add-members").unwrap().source,
            "Entra SCIM: Update Group [Add Members]"
        );
        for r in &all {
            assert!(r.testable == r.why_untestable.is_none(), "{}", r.id);
            assert!(!r.says.is_empty(), "{}", r.id);
        }
    }
}
