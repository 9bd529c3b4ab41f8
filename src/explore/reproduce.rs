//! A shrunk case as an ordinary suite file: `scimcheck run --no-builtin
//! --suites DIR` replays it, and its last step fails where the explorer saw
//! the deviation, pointing at `file:line:col`. Ids become captures, the
//! run's prefix becomes `{{ run_id }}`; every create is cleaned up.

use serde_json::{Map, Value, json};

use super::Finished;
use super::state::Finding;
use crate::ownership::resource_path;

/// `value` as JSON that YAML reads back as the same value: JSON leaves
/// characters raw that YAML may not hold unescaped (C1 controls, DEL, the
/// line and paragraph separators, noncharacters), so those are escaped.
fn flow(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let printable = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && !matches!(c, '\u{2028}' | '\u{2029}');
        if printable {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The suite text; one request per line, in JSON flow style (valid YAML).
pub fn suite(case: &Finished, finding: &Finding, seed: u64) -> String {
    let run_prefix = run_prefix(&case.prefix);
    let template = |value: &Value| templated(value, case, &run_prefix);
    let mut out = String::new();
    out.push_str(&format!(
        "name: {}\n",
        json!(format!("Explorer reproducer: {}", finding.key))
    ));
    out.push_str(&format!(
        "description: {}\n",
        flow(&json!(format!(
            "{} Found by scimcheck explore (seed {seed}) and shrunk to {} requests.",
            finding.what,
            case.records.len()
        )))
    ));
    out.push_str(&format!("spec: [{}]\n", flow(&json!(finding.cite))));
    out.push_str("tags: [explore]\nscenarios:\n  - id: reproduce\n");
    // A sort or a version the RFC leaves optional: not applicable where the
    // ServiceProviderConfig does not claim it, as in the suites.
    let mut requires = Vec::new();
    if case
        .records
        .iter()
        .any(|r| r.call.query.iter().any(|(k, _)| k == "sortBy"))
    {
        requires.push("sort");
    }
    if case.records.iter().any(|r| {
        r.call
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("if-match"))
    }) {
        requires.push("etag");
    }
    if !requires.is_empty() {
        out.push_str(&format!("    requires: [{}]\n", requires.join(", ")));
    }
    out.push_str("    steps:\n");
    let last = case.records.len().saturating_sub(1);
    for (i, record) in case.records.iter().enumerate() {
        let mut request = Map::new();
        request.insert("method".into(), json!(record.call.method.as_str()));
        request.insert(
            "path".into(),
            json!(path(&record.call.path, case, &run_prefix)),
        );
        if !record.call.query.is_empty() {
            let query: Map<String, Value> = record
                .call
                .query
                .iter()
                .map(|(k, v)| (k.clone(), template(&json!(v))))
                .collect();
            request.insert("query".into(), Value::Object(query));
        }
        if !record.call.headers.is_empty() {
            let headers: Map<String, Value> = record
                .call
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            request.insert("headers".into(), Value::Object(headers));
        }
        if let Some(body) = &record.call.body {
            request.insert("json".into(), template(body));
        }
        let mut expect = Map::new();
        if i == last {
            let statuses = if case.failed_statuses.is_empty() {
                &record.statuses
            } else {
                &case.failed_statuses
            };
            expect.insert("status".into(), status(statuses));
            if !case.failed_expect.is_empty() {
                let checks: Map<String, Value> = case
                    .failed_expect
                    .iter()
                    .map(|(pointer, check)| (pointer.clone(), template(check)))
                    .collect();
                expect.insert("json".into(), Value::Object(checks));
            }
        } else {
            expect.insert("status".into(), status(&record.statuses));
        }
        let id = if i == last {
            "deviation".to_string()
        } else {
            format!("step_{}", i + 1)
        };
        out.push_str(&format!("      - id: {id}\n"));
        if i == last {
            out.push_str(&format!(
                "        description: {}\n",
                flow(&json!(finding.what))
            ));
        }
        if record.wait_ms > 0 {
            out.push_str(&format!("        wait_ms: {}\n", record.wait_ms));
        }
        out.push_str(&format!(
            "        request: {}\n",
            flow(&Value::Object(request))
        ));
        out.push_str(&format!(
            "        expect: {}\n",
            flow(&Value::Object(expect))
        ));
        let endpoint = record.call.path.trim_start_matches('/');
        let sure = i != last && record.statuses == [201];
        if record.call.method == http::Method::POST && !sure && !endpoint.contains('/') {
            // A create that may fail: what it creates all the same is removed.
            out.push_str(&format!(
                "        cleanup_if_created: {}\n",
                json!({"method": "DELETE", "path": format!("/{endpoint}/{{{{ created_id }}}}")})
            ));
        } else if let Some(slot) = record.creates.and_then(|s| case.slots.get(s)) {
            let mut capture = Map::new();
            capture.insert(slot.var.clone(), json!("/id"));
            // The creation time, where the last step compares with it.
            let created = format!("{}_created", slot.var);
            if case
                .failed_expect
                .iter()
                .any(|(_, check)| check.to_string().contains(&created))
            {
                capture.insert(created, json!("/meta/created"));
            }
            out.push_str(&format!("        capture: {}\n", Value::Object(capture)));
            out.push_str(&format!(
                "        cleanup: {}\n",
                json!({"method": "DELETE", "path": format!("/{}/{{{{ {} }}}}", slot.kind.endpoint(), slot.var)})
            ));
        }
    }
    out
}

fn status(statuses: &[u16]) -> Value {
    let mut statuses = statuses.to_vec();
    statuses.sort_unstable();
    statuses.dedup();
    match statuses.as_slice() {
        [one] => json!(one),
        many => json!(many),
    }
}

/// `scimcheck-<run id>-` of a case prefix `scimcheck-<run id>-c<n>-`.
fn run_prefix(case_prefix: &str) -> String {
    let trimmed = case_prefix.trim_end_matches('-');
    match trimmed.rfind('-') {
        Some(i) => case_prefix[..=i].to_string(),
        None => case_prefix.to_string(),
    }
}

fn path(path: &str, case: &Finished, run_prefix: &str) -> String {
    for slot in &case.slots {
        if slot.target_id.is_empty() {
            continue;
        }
        if let Ok(own) = resource_path(slot.kind.endpoint(), &slot.target_id)
            && own == path
        {
            return format!("/{}/{{{{ {} }}}}", slot.kind.endpoint(), slot.var);
        }
    }
    path.replace(run_prefix, "scimcheck-{{ run_id }}-")
}

/// Ids as their captures, the run's prefix as `{{ run_id }}`.
fn templated(value: &Value, case: &Finished, run_prefix: &str) -> Value {
    match value {
        Value::String(s) => {
            if let Some(slot) = case
                .slots
                .iter()
                .find(|slot| !slot.target_id.is_empty() && &slot.target_id == s)
            {
                return json!(format!("{{{{ {} }}}}", slot.var));
            }
            let mut text = s.replace(run_prefix, "scimcheck-{{ run_id }}-");
            // A resource's URL or path (`.../Users/<id>`).
            for slot in case.slots.iter().filter(|slot| !slot.target_id.is_empty()) {
                let tail = format!("/{}", slot.target_id);
                if text.ends_with(&tail) {
                    text = format!(
                        "{}/{{{{ {} }}}}",
                        &text[..text.len() - tail.len()],
                        slot.var
                    );
                }
            }
            for slot in case.slots.iter().filter(|slot| !slot.target_id.is_empty()) {
                text = text.replace(
                    &format!("\"{}\"", slot.target_id),
                    &format!("\"{{{{ {} }}}}\"", slot.var),
                );
            }
            json!(text)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| templated(v, case, run_prefix)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), templated(v, case, run_prefix)))
                .collect(),
        ),
        v => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_yaml_may_not_hold_raw_is_escaped() {
        let text = flow(&json!("e\u{301} \u{81} \u{2028} 𝄞"));
        assert_eq!(text, "\"e\u{301} \\u0081 \\u2028 𝄞\"");
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, json!("e\u{301} \u{81} \u{2028} 𝄞"));
    }

    #[test]
    fn the_run_prefix_is_the_case_prefix_without_its_case() {
        assert_eq!(run_prefix("scimcheck-ab12-c7-"), "scimcheck-ab12-");
    }
}
