//! Writes generated suites as real files, so that every `file:line:col` in
//! a finding points at something the user can open, edit and keep.
//!
//! Each file starts with a comment saying where it came from and a digest
//! of what follows: a file whose digest still holds was not edited and may
//! be written again; an edited one is never overwritten.

use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: stable across builds, enough to tell an edit.
fn digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A suite as YAML, the form users read and edit.
pub fn to_yaml(suite: &serde_json::Value) -> String {
    serde_saphyr::to_string(suite)
        .unwrap_or_else(|_| serde_json::to_string_pretty(suite).unwrap_or_default())
}

/// Writes a suite generated for this run alone (the schema-driven one) as a
/// real file under the system's temporary folder, named by its content, so
/// that its findings point at lines that exist; None if it cannot be written.
pub fn write_generated(stem: &str, text: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join("scimcheck");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{stem}-{}.yaml", digest(text)));
    std::fs::write(&path, text).ok()?;
    Some(path)
}

/// A seed that stays the same for the same input text.
pub fn seed_of(text: &str) -> u64 {
    u64::from_str_radix(&digest(text), 16).unwrap_or(0)
}

const DIGEST: &str = "# digest: ";

/// The file's text: the origin, the digest of the body, the body.
pub fn with_header(origin: &str, body: &str) -> String {
    format!(
        "# {origin}\n# Edit freely: an edited file is never overwritten.\n{DIGEST}{}\n{body}",
        digest(body)
    )
}

/// Whether a file holds generated text nobody edited since.
fn unedited(text: &str) -> bool {
    let mut rest = text;
    while let Some(line_end) = rest.find('\n') {
        let line = &rest[..line_end];
        let after = &rest[line_end + 1..];
        if let Some(d) = line.strip_prefix(DIGEST) {
            return d == digest(after);
        }
        if !line.starts_with('#') {
            return false;
        }
        rest = after;
    }
    false
}

/// Writes `files` (name, text) into `dir`, creating it; refuses, before
/// writing anything, when one would overwrite a file edited by hand.
pub fn write_all(dir: &Path, files: &[(String, String)]) -> Result<Vec<PathBuf>, String> {
    for (name, _) in files {
        let path = dir.join(name);
        if let Ok(existing) = std::fs::read_to_string(&path)
            && !unedited(&existing)
        {
            return Err(format!(
                "{} exists and was edited: it is kept; give another --emit-suite DIR, or move it away",
                path.display()
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `value` with `inner` put at `path` (object keys, created as needed),
/// moved rather than copied: `json!` serializes every value it embeds, so
/// a large one (a scenario's steps, a suite's scenarios) is placed after.
pub fn placed(
    mut value: serde_json::Value,
    path: &[&str],
    inner: serde_json::Value,
) -> serde_json::Value {
    let mut slot = &mut value;
    for key in path {
        slot = &mut slot[*key];
    }
    *slot = inner;
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unedited_file_is_rewritten_and_an_edited_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = vec![("a.yaml".to_string(), with_header("from x", "name: a\n"))];
        write_all(dir.path(), &first).unwrap();
        let second = vec![("a.yaml".to_string(), with_header("from x", "name: b\n"))];
        write_all(dir.path(), &second).unwrap();
        assert!(
            std::fs::read_to_string(dir.path().join("a.yaml"))
                .unwrap()
                .ends_with("name: b\n")
        );
        std::fs::write(
            dir.path().join("a.yaml"),
            with_header("from x", "name: b\n") + "# my note\n",
        )
        .unwrap();
        let err = write_all(dir.path(), &first).unwrap_err();
        assert!(err.contains("was edited"), "{err}");
        // A file that is no generated suite at all is kept too.
        std::fs::write(dir.path().join("a.yaml"), "name: mine\n").unwrap();
        assert!(write_all(dir.path(), &first).is_err());
    }
}
