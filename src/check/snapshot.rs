//! Named snapshots of normalized response bodies, in insta's `.snap` format
//! under `snapshots/`, so `cargo insta review` can accept or reject them.
//!
//! A missing or different snapshot fails the check and leaves a `.snap.new`
//! beside it for review; `--accept-snapshots` writes the `.snap` instead.
//!
//! With `--snapshot-all` (the gate's `snapshot_all`), every step's answer is
//! one too: its status and normalized body, named `<scenario>__<step>`, so a
//! release that changes what an endpoint answers is seen even where every
//! check still holds.

use std::path::{Path, PathBuf};

/// Where snapshots live, and whether new ones are accepted outright.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    pub dir: PathBuf,
    pub accept: bool,
    /// Every step's answer is snapshotted too (`--snapshot-all`), not only
    /// those a suite names: drift shows even where no check fails.
    pub all: bool,
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    Matches,
    Written(PathBuf),
    /// The diff, and where the new version was left.
    Differs {
        diff: String,
        pending: PathBuf,
    },
    New {
        pending: PathBuf,
    },
}

impl SnapshotStore {
    /// `rfc7644::users` + `created_user` -> `snapshots/rfc7644__users__created_user.snap`.
    pub fn path(&self, suite_slug: &str, name: &str) -> PathBuf {
        self.dir
            .join(format!("{}__{name}.snap", suite_slug.replace("::", "__")))
    }

    /// Compares `content` with the stored snapshot `name` of `suite_slug`.
    pub fn compare(
        &self,
        suite_slug: &str,
        source: &str,
        name: &str,
        content: &str,
    ) -> std::io::Result<SnapshotOutcome> {
        // Written and compared in one form, so a diff shows changes, not moves.
        let content = &canonical(content);
        let path = self.path(suite_slug, name);
        let file = render(source, name, content);
        let existing = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let old = existing.as_deref().map(body_of);
        // Compared as JSON with sorted keys: a server that orders its members
        // otherwise, or a file with another trailing newline, is the same.
        if old.map(canonical) == Some(canonical(content)) {
            return Ok(SnapshotOutcome::Matches);
        }
        if self.accept {
            write(&path, &file)?;
            return Ok(SnapshotOutcome::Written(path));
        }
        let pending = PathBuf::from(format!("{}.new", path.display()));
        write(&pending, &file)?;
        Ok(match old {
            None => SnapshotOutcome::New { pending },
            Some(old) => SnapshotOutcome::Differs {
                diff: similar::TextDiff::from_lines(canonical(old).as_str(), content.as_str())
                    .unified_diff()
                    .context_radius(3)
                    .header("snapshot", "response")
                    .to_string(),
                pending,
            },
        })
    }
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// insta's file layout: a YAML header between `---` lines, then the value.
fn render(source: &str, name: &str, content: &str) -> String {
    format!(
        "---\nsource: {source}\nexpression: {name}\n---\n{}\n",
        content.trim_end()
    )
}

/// The value part of a `.snap` file.
fn body_of(file: &str) -> &str {
    let rest = file.strip_prefix("---\n").unwrap_or(file);
    match rest.find("\n---\n") {
        Some(i) => rest[i + 5..].trim_end(),
        None => file.trim_end(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_then_accepted_then_matching_then_differing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SnapshotStore {
            dir: dir.path().to_path_buf(),
            accept: false,
            all: false,
        };
        let outcome = store
            .compare("a::b", "s.yaml", "n", "{\n  \"x\": 1\n}")
            .unwrap();
        assert!(matches!(outcome, SnapshotOutcome::New { ref pending } if pending.exists()));
        store.accept = true;
        assert!(matches!(
            store
                .compare("a::b", "s.yaml", "n", "{\n  \"x\": 1\n}")
                .unwrap(),
            SnapshotOutcome::Written(_)
        ));
        store.accept = false;
        assert_eq!(
            store
                .compare("a::b", "s.yaml", "n", "{\n  \"x\": 1\n}")
                .unwrap(),
            SnapshotOutcome::Matches
        );
        match store
            .compare("a::b", "s.yaml", "n", "{\n  \"x\": 2\n}")
            .unwrap()
        {
            SnapshotOutcome::Differs { diff, .. } => {
                assert!(
                    diff.contains("-  \"x\": 1") && diff.contains("+  \"x\": 2"),
                    "{diff}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(dir.path().join("a__b__n.snap").exists());
    }
}

/// A snapshot body in one form: JSON with every object's keys sorted and
/// pretty-printed; text that is not JSON as written, trailing space trimmed.
fn canonical(text: &str) -> String {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => serde_json::to_string_pretty(&sort(value)).unwrap_or_default(),
        Err(_) => text.trim_end().to_string(),
    }
}

#[cfg(test)]
mod canonical_tests {
    use super::*;

    #[test]
    fn key_order_and_trailing_newlines_do_not_make_a_difference() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore {
            dir: dir.path().to_path_buf(),
            accept: true,
            all: false,
        };
        store
            .compare(
                "s",
                "s.yaml",
                "user",
                "{\n  \"a\": 1,\n  \"b\": {\"y\": 2, \"x\": 3}\n}\n",
            )
            .unwrap();
        let store = SnapshotStore {
            accept: false,
            ..store
        };
        let reordered = "{\"b\": {\"x\": 3, \"y\": 2}, \"a\": 1}";
        assert!(matches!(
            store.compare("s", "s.yaml", "user", reordered).unwrap(),
            SnapshotOutcome::Matches
        ));
        let changed = "{\"b\": {\"x\": 3, \"y\": 2}, \"a\": 2}";
        assert!(matches!(
            store.compare("s", "s.yaml", "user", changed).unwrap(),
            SnapshotOutcome::Differs { .. }
        ));
    }
}
