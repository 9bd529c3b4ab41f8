//! Suite files: their raw model and how they are read.
//!
//! Only this module knows YAML. A file that does not parse, has an unknown
//! key or a value of the wrong type becomes one [`Diagnostic`] pointing at the
//! offending line; planning ([`crate::plan`]) takes it from there.

pub mod model;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Pos, Source, Span, did_you_mean};
pub use model::*;

/// A suite file read from disk or from the binary, before planning.
#[derive(Debug)]
pub struct LoadedSuite {
    pub source: Source,
    pub raw: RawSuite,
}

/// Suites compiled into the binary, so an installed scimcheck runs anywhere.
static BUILTIN_SUITES: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/suites");

/// Parses one suite file.
pub fn parse(source: Source) -> Result<LoadedSuite, Diagnostic> {
    let options = serde_saphyr::options! {
        // `yes`/`no`/`on` stay strings: SCIM values are often such words.
        strict_booleans: true,
        // A replay of a busy day's provisioning log is a suite of some
        // thousands of scenarios (3,000 changes are about 250,000 nodes,
        // the parser's default bound); alias bombs stay bounded by its
        // alias-to-anchor ratio.
        budget: serde_saphyr::budget! {
            max_nodes: 8_000_000,
            max_events: 32_000_000,
        },
    };
    match serde_saphyr::from_str_with_options::<RawSuite>(&source.text, options) {
        Ok(raw) => Ok(LoadedSuite { source, raw }),
        Err(error) => Err(yaml_diagnostic(source, &error)),
    }
}

fn yaml_diagnostic(source: Source, error: &serde_saphyr::Error) -> Diagnostic {
    let pos = error.location().map(Pos::from).unwrap_or_default();
    let mut message = error.without_snippet().to_string();
    // The position is shown in the diagnostic's own `-->` line.
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    // serde-saphyr speaks to programmers here; a suite author cannot set Options.
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        message = format!("duplicate key `{key}`");
    }
    let hint = unknown_field_hint(&message).or_else(|| yaml_hint(&message));
    let mut diagnostic = Diagnostic::new(Span { source, pos }, message);
    if let Some(hint) = hint {
        diagnostic = diagnostic.with_hint(hint);
    }
    diagnostic
}

/// What to do about the YAML mistakes a suite author meets most.
fn yaml_hint(message: &str) -> Option<String> {
    let hint = if let Some(field) = message.strip_prefix("missing field ") {
        format!("add {field} to this mapping")
    } else if message.starts_with("duplicate key") {
        "a key may appear once in a mapping: remove or rename one".into()
    } else if message.starts_with("expected sequence") {
        "write a list here: `[a, b]`, or one `- item` per line".into()
    } else if message.starts_with("expected string") {
        "write text here; quote it if it starts with `[`, `{`, `*`, `&`, `!` or `%`".into()
    } else if message.starts_with("invalid boolean") {
        "write true or false (yes, no, on and off are text in suites)".into()
    } else if message.starts_with("tabs disallowed") {
        "indent with spaces, not tabs".into()
    } else if message.starts_with("unexpected end of input") {
        "the file is empty or cut short: a suite needs at least `name:` and `scenarios:`".into()
    } else {
        return None;
    };
    Some(hint)
}

/// "unknown field `stauts`, expected one of id, status" -> "did you mean `status`?".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let expected = expected
        .trim_start_matches(", expected one of ")
        .trim_start_matches(", expected ");
    let candidates: Vec<&str> = expected
        .split(", ")
        .map(|c| c.trim_matches('`'))
        .filter(|c| !c.is_empty())
        .collect();
    match did_you_mean(field, candidates.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!(
            "the keys allowed here are: {}",
            candidates.join(", ")
        )),
    }
}

/// The built-in suite files, as (name, text), sorted by name.
pub fn builtin_sources() -> Vec<Source> {
    let mut sources = Vec::new();
    collect_builtin(&BUILTIN_SUITES, &mut sources);
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    sources
}

fn collect_builtin(dir: &include_dir::Dir<'_>, out: &mut Vec<Source>) {
    for file in dir.files() {
        if is_suite_file(file.path())
            && let Some(text) = file.contents_utf8()
        {
            out.push(Source::new(
                format!("suites/{}", file.path().display()),
                text,
            ));
        }
    }
    for sub in dir.dirs() {
        collect_builtin(sub, out);
    }
}

fn is_suite_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The suite files under a directory, recursively, sorted by path; or the
/// one file `dir` names.
pub fn sources_in(dir: &Path) -> std::io::Result<Vec<Source>> {
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        walk(dir, &mut paths)?;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)?;
            Ok(Source::new(path.display().to_string(), text))
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_suite_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<LoadedSuite, Diagnostic> {
        parse(Source::new("t.yaml", text))
    }

    #[test]
    fn a_replay_of_thousands_of_changes_loads() {
        // About 60 nodes a scenario: 5,000 of them are 300,000 nodes, above
        // the parser's default bound of 250,000.
        let mut text = String::from("name: big\nscenarios:\n");
        for n in 0..5_000 {
            text.push_str(&format!(
                "  - id: s{n}\n    steps:\n      - id: create\n        request: {{ method: POST, path: /Users, json: {{ schemas: [a, b], userName: \"u{n}\", name: {{ givenName: g, familyName: f }}, emails: [{{ value: v, type: work, primary: true }}] }} }}\n        expect: {{ status: 201, json: {{ /userName: \"u{n}\", /active: true }} }}\n        capture: {{ id: /id }}\n        cleanup: {{ method: DELETE, path: \"/Users/{{{{ id }}}}\" }}\n"
            ));
        }
        let suite = parse_text(&text).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(suite.raw.scenarios.len(), 5_000);
    }

    #[test]
    fn unknown_key_points_at_it_and_suggests_the_right_one() {
        let err = parse_text(
            "name: x\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: /Users }\n        expect:\n          stauts: 200\n",
        )
        .unwrap_err();
        assert_eq!(
            err.span.pos,
            Pos {
                line: 8,
                column: 11
            }
        );
        assert!(
            err.message.starts_with("unknown field `stauts`"),
            "{}",
            err.message
        );
        assert_eq!(err.hint.as_deref(), Some("did you mean `status`?"));
    }

    #[test]
    fn yes_stays_a_string() {
        let suite = parse_text("name: x\nvars: { a: yes }\nscenarios: []\n").unwrap();
        assert_eq!(suite.raw.vars["a"].value, serde_json::json!("yes"));
    }

    #[test]
    fn every_builtin_suite_parses() {
        let sources = builtin_sources();
        assert!(sources.len() >= 4, "built-in suites missing");
        for source in sources {
            if let Err(d) = parse(source) {
                panic!("{d}");
            }
        }
    }
}
