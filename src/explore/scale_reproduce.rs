//! A scale finding as an ordinary suite file: the tenant's users created
//! one step each (each cleaned up), then the request that failed, with
//! what the model answered it as checks. `scimcheck run --no-builtin
//! --suites DIR` replays it, its failing check pointing at `file:line:col`.

use serde_json::{Map, Value, json};

use super::scale::{Reproduction, Scaled};

/// The suite text, or None where the finding has no reproduction (a check
/// over several requests, such as a walk that repeats a user across pages).
pub fn suite(scaled: &Scaled, seed: u64) -> Option<String> {
    let finding = scaled.finding.as_ref()?;
    let reproduction = scaled.reproduction.as_ref()?;
    let template = |value: &Value| templated(value, reproduction);
    let mut steps: Vec<Value> = Vec::with_capacity(reproduction.users.len() + 1);
    let mut creates = Vec::with_capacity(reproduction.users.len());
    for (i, body) in reproduction.users.iter().enumerate() {
        let id = format!("user_{i:05}");
        let var = format!("u{i:05}_id");
        steps.push(json!({
            "id": id,
            "needs": [],
            "setup": true,
            "request": { "method": "POST", "path": "/Users", "json": template(body) },
            "expect": { "status": 201 },
            "capture": { var.clone(): "/id" },
            "cleanup": { "method": "DELETE", "path": format!("/Users/{{{{ {var} }}}}") },
        }));
        creates.push(json!(id));
    }
    let call = &reproduction.call;
    let query: Map<String, Value> = call
        .query
        .iter()
        .map(|(k, v)| (k.clone(), template(&json!(v))))
        .collect();
    let mut expect = json!({ "status": 200 });
    expect["json"] = template(&Value::Object(reproduction.expect.clone()));
    steps.push(json!({
        "id": "reproduce",
        "needs": creates,
        "spec": [finding.cite],
        "description": finding.what,
        "request": { "method": call.method.as_str(), "path": call.path, "query": query },
        "expect": expect,
        "impact": "A read over a tenant of this size does not return what the tenant holds: an initial sync or a lookup goes wrong past it.",
        "fix": format!("Answer this request over {} users as RFC 7644 3.4.2 asks.", reproduction.users.len()),
    }));
    let suite = json!({
        "name": format!("Explorer reproducer: {} in a tenant of {} users", finding.key, scaled.size),
        "description": format!(
            "{}. Found by scimcheck explore's scale phase (seed {seed}){}.",
            finding.what,
            match scaled.shrunk_from {
                Some(from) => format!(" with {from} users, shrunk to {}", scaled.size),
                None => String::new(),
            }
        ),
        "tags": ["explore", "scale"],
        "scenarios": [{ "id": "reproduce", "steps": steps }],
    });
    Some(crate::generate::write::to_yaml(&suite))
}

/// The phase's prefix as the run's placeholder, in whatever letter case a
/// value carries it (a lookup in other case keeps its other case around
/// the run id).
fn templated(value: &Value, reproduction: &Reproduction) -> Value {
    match value {
        Value::String(s) => json!(replace_prefix(s, &reproduction.prefix)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| templated(v, reproduction)).collect())
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    (
                        replace_prefix(k, &reproduction.prefix),
                        templated(v, reproduction),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `scimcheck-<run id>-s-` → `scimcheck-{{ run_id }}-s-`, and the same in
/// upper case (`SCIMCHECK-<RUN ID>-S-` → `SCIMCHECK-{{ run_id }}-S-`).
fn replace_prefix(text: &str, prefix: &str) -> String {
    let Some((head, rest)) = prefix.split_once('-') else {
        return text.to_string();
    };
    let Some((run_id, tail)) = rest.split_once('-') else {
        return text.to_string();
    };
    let lower = format!("{head}-{{{{ run_id }}}}-{tail}");
    let upper = format!(
        "{}-{{{{ run_id }}}}-{}",
        head.to_uppercase(),
        tail.to_uppercase()
    );
    text.replace(prefix, &lower)
        .replace(&prefix.to_uppercase(), &upper)
        .replace(
            &format!("{}-{run_id}-", head),
            &format!("{head}-{{{{ run_id }}}}-"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_becomes_the_run_placeholder_in_either_case() {
        let prefix = "scimcheck-ab12cd-s-";
        assert_eq!(
            replace_prefix("userName sw \"scimcheck-ab12cd-s-\"", prefix),
            "userName sw \"scimcheck-{{ run_id }}-s-\""
        );
        assert_eq!(
            replace_prefix("userName eq \"SCIMCHECK-AB12CD-S-00019\"", prefix),
            "userName eq \"SCIMCHECK-{{ run_id }}-S-00019\""
        );
        assert_eq!(replace_prefix("Zoë", prefix), "Zoë");
    }
}
