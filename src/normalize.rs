//! Volatile parts of a response replaced by stable placeholders, so a
//! snapshot means the same from run to run.
//!
//! - the fields a server assigns: `id`, `meta.created`, `meta.lastModified`,
//!   `meta.location`, `meta.version`, `$ref`s;
//! - any value the scenario captured (an id, a URL), named by its capture:
//!   `[user_id]`;
//! - the run id inside any string: `scimcheck-[run_id]-alice`;
//! - the target's secrets, should a server echo one: `***`.

use serde_json::{Map, Value};

/// Known volatile strings and the placeholders that stand for them.
pub struct Normalizer {
    replacements: Vec<(String, String)>,
}

impl Normalizer {
    pub fn new(
        run_id: &str,
        captured: impl IntoIterator<Item = (String, Value)>,
        secrets: &[String],
    ) -> Normalizer {
        let mut replacements: Vec<(String, String)> = captured
            .into_iter()
            .filter_map(|(name, v)| match v {
                Value::String(s) if !s.is_empty() => Some((s, format!("[{name}]"))),
                _ => None,
            })
            .chain(secrets.iter().map(|s| (s.clone(), "***".to_string())))
            .collect();
        // Longer values first, so a URL containing an id is replaced whole.
        replacements.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        if !run_id.is_empty() {
            replacements.push((run_id.to_string(), "[run_id]".into()));
        }
        Normalizer { replacements }
    }

    pub fn normalize(&self, value: &Value) -> Value {
        self.walk(value, None)
    }

    fn walk(&self, value: &Value, key: Option<&str>) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let normalized = match (key, k.as_str()) {
                        (None, "id") => Value::String("[id]".into()),
                        (Some("meta"), "created" | "lastModified") => {
                            Value::String("[timestamp]".into())
                        }
                        (Some("meta"), "location") => Value::String("[location]".into()),
                        // A bulk operation's result carries the version too.
                        (Some("meta" | "Operations"), "version") => {
                            Value::String("[version]".into())
                        }
                        (_, "$ref") if v.is_string() => Value::String("[ref]".into()),
                        _ => self.walk(v, Some(k)),
                    };
                    out.insert(k.clone(), normalized);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.walk(v, key)).collect()),
            Value::String(s) => Value::String(self.replace(s)),
            other => other.clone(),
        }
    }

    fn replace(&self, text: &str) -> String {
        self.replacements
            .iter()
            .fold(text.to_string(), |acc, (from, to)| {
                acc.replace(from.as_str(), to)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volatile_fields_become_placeholders() {
        let n = Normalizer::new(
            "r1-s0",
            [("group_id".to_string(), json!("g-42"))],
            &["s3cret".to_string()],
        );
        let body = json!({
            "id": "u-1",
            "userName": "scimcheck-r1-s0-alice",
            "echo": "Bearer s3cret",
            "groups": [{"value": "g-42", "$ref": "http://x/Groups/g-42"}],
            "meta": {"created": "2024", "lastModified": "2025", "location": "http://x", "version": "W/\"3\"", "resourceType": "User"}
        });
        assert_eq!(
            n.normalize(&body),
            json!({
                "id": "[id]",
                "userName": "scimcheck-[run_id]-alice",
                "echo": "Bearer ***",
                "groups": [{"value": "[group_id]", "$ref": "[ref]"}],
                "meta": {"created": "[timestamp]", "lastModified": "[timestamp]", "location": "[location]", "version": "[version]", "resourceType": "User"}
            })
        );
    }
}
