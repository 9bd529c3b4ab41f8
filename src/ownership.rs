//! Is the resource at a URL still the one this run created?
//!
//! A cleanup deletes by id. On a server that hands a deleted id to the next
//! new resource (RFC 7643 3.1 forbids it: an id is "non-reassignable"), a
//! DELETE by id could remove a real person's account. So before deleting,
//! the run reads the resource and deletes it only when it carries the run's
//! name prefix, or is the very resource the run saw created (same
//! `meta.created`, or the same name).

use serde_json::Value;

/// The attributes that name a resource.
const NAME_ATTRIBUTES: [&str; 3] = ["userName", "displayName", "externalId"];

/// Whether `name` is one of run `run_id`'s: `scimcheck-<run id>-...`, in any
/// letter case (the duplicate checks send names in upper case too). A longer
/// run id sharing the prefix is another run's.
pub fn carries_run_prefix(name: &str, run_id: &str) -> bool {
    let prefix = format!("scimcheck-{run_id}");
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(&prefix))
        && name[prefix.len()..].starts_with('-')
}

/// What the run saw of a resource when it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub names: Vec<String>,
    pub created: Option<String>,
}

impl Identity {
    /// The identity in a resource body; None when it names nothing (a
    /// ListResponse, an empty body).
    pub fn of(body: &Value) -> Option<Identity> {
        let identity = Identity {
            names: names(body),
            created: created(body),
        };
        (!identity.names.is_empty() || identity.created.is_some()).then_some(identity)
    }
}

fn names(body: &Value) -> Vec<String> {
    NAME_ATTRIBUTES
        .iter()
        .filter_map(|a| body.get(a).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn created(body: &Value) -> Option<String> {
    body.pointer("/meta/created")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Ok when `current` (the resource as the server answers it now) is the
/// run's to delete; otherwise why it is not, naming what is there now.
pub fn confirm(current: &Value, created: Option<&Identity>, run_id: &str) -> Result<(), String> {
    let now = names(current);
    if now.iter().any(|n| carries_run_prefix(n, run_id)) {
        return Ok(());
    }
    // A resource without any name is nobody's account (userName and a
    // group's displayName are required): when the run's was nameless too,
    // and no creation time tells them apart, it is the run's.
    let nameless_then = created.is_none_or(|c| c.names.is_empty());
    let times = (
        created.and_then(|c| c.created.clone()),
        self::created(current),
    );
    if now.is_empty() && nameless_then && !matches!(times, (Some(_), Some(_))) {
        return Ok(());
    }
    if let Some(seen) = created {
        match (&seen.created, self::created(current)) {
            // Creation time never changes: the strongest evidence either way.
            (Some(then), Some(now_created)) => {
                if *then == now_created {
                    return Ok(());
                }
            }
            _ => {
                if now.iter().any(|n| seen.names.contains(n)) {
                    return Ok(());
                }
            }
        }
    }
    let what = now
        .first()
        .map(|n| format!("`{n}`"))
        .unwrap_or_else(|| "a resource without a name".into());
    let then = created
        .and_then(|c| c.names.first())
        .map(|n| format!(" (`{n}`)"))
        .unwrap_or_default();
    Err(format!(
        "holds {what} now, not the resource this run created{then}: left alone; an id must never be given to another resource (RFC 7643 3.1)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_run_prefix_is_matched_whole_and_in_any_case() {
        assert!(carries_run_prefix(
            "scimcheck-abc123-0-ada@example.com",
            "abc123-0"
        ));
        assert!(carries_run_prefix(
            "SCIMCHECK-ABC123-0-ADA@EXAMPLE.COM",
            "abc123-0"
        ));
        assert!(!carries_run_prefix("scimcheck-abc123-01-x", "abc123-0"));
        assert!(!carries_run_prefix("scimcheck-abc123-0", "abc123-0"));
        assert!(!carries_run_prefix("ada@example.com", "abc123-0"));
    }

    #[test]
    fn a_resource_carrying_the_run_prefix_is_the_runs() {
        let now = json!({"userName": "scimcheck-r1-0-x@example.com"});
        assert_eq!(confirm(&now, None, "r1-0"), Ok(()));
    }

    #[test]
    fn a_reassigned_id_is_left_alone() {
        let seen = Identity::of(&json!({
            "userName": "scimcheck-r1-0-x@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        }));
        let now = json!({
            "userName": "jane@customer.example",
            "meta": {"created": "2026-12-02T10:00:05Z"}
        });
        let why = confirm(&now, seen.as_ref(), "r1-0").unwrap_err();
        assert!(why.contains("`jane@customer.example`"), "{why}");
        assert!(why.contains("RFC 7643 3.1"), "{why}");
    }

    #[test]
    fn a_custom_suites_resource_is_known_by_its_creation_time_or_name() {
        let seen = Identity::of(&json!({
            "userName": "ada@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        }));
        // Renamed by the suite, still created at the same time: the run's.
        let renamed = json!({
            "userName": "augusta@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        });
        assert_eq!(confirm(&renamed, seen.as_ref(), "r1-0"), Ok(()));
        // Without meta.created, the name decides.
        let seen = Identity::of(&json!({"userName": "ada@example.com"}));
        assert_eq!(
            confirm(
                &json!({"userName": "ada@example.com"}),
                seen.as_ref(),
                "r1-0"
            ),
            Ok(())
        );
        assert!(
            confirm(
                &json!({"userName": "bob@example.com"}),
                seen.as_ref(),
                "r1-0"
            )
            .is_err()
        );
    }

    #[test]
    fn a_nameless_resource_the_run_made_nameless_is_the_runs() {
        let seen = Identity::of(&json!({"id": "7", "meta": {"created": "2026-12-02T10:00:00Z"}}));
        let now = json!({"id": "7", "meta": {"created": "2026-12-02T10:00:00Z"}});
        assert_eq!(confirm(&now, seen.as_ref(), "r1-0"), Ok(()));
        assert_eq!(confirm(&json!({"id": "7"}), None, "r1-0"), Ok(()));
        // Created at another time: another resource, nameless or not.
        let later = json!({"id": "7", "meta": {"created": "2026-12-02T11:00:00Z"}});
        assert!(confirm(&later, seen.as_ref(), "r1-0").is_err());
        // A named resource where the run's was nameless: someone else's.
        assert!(confirm(&json!({"userName": "jane@customer.example"}), None, "r1-0").is_err());
    }

    #[test]
    fn a_body_without_names_has_no_identity() {
        assert_eq!(Identity::of(&json!({"Resources": []})), None);
    }
}
