//! How a replay keeps its resources apart from everyone else's without
//! changing what a client computes: the values that name a resource to the
//! app (userName, externalId, its emails, a group's displayName and any
//! attribute matched on) are made unique to the run *after* the client's
//! expressions are evaluated on the customer's own values. Each is sent as
//! `scimcheck-RUNIDTOKEN-` followed by exactly what the client sends, and
//! the token becomes `{{ run_id }}` in the suite.

/// What stands for the run id while values are computed (letters only, so
/// case changes keep it findable); `{{ run_id }}` in the suite.
pub const RUN_TOKEN: &str = "RUNIDTOKEN";

/// The prefix every run-unique value starts with.
pub fn prefix() -> String {
    format!("scimcheck-{RUN_TOKEN}-")
}

/// Whether a SCIM target attribute names the resource to the app, so that
/// a replay must send it run-unique.
pub fn is_identifying(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    let attribute = lower
        .rsplit_once(':')
        .map_or(lower.as_str(), |(_, a)| a)
        .split(['[', '.'])
        .next()
        .unwrap_or_default();
    matches!(attribute, "username" | "externalid" | "emails")
}

/// `value` made unique to the run: already unique values are kept, and an
/// address with its kind keeps it in front (`SMTP:a@x` → `SMTP:scimcheck-…-a@x`).
pub fn unique(value: &str) -> String {
    if value
        .to_ascii_lowercase()
        .contains(&RUN_TOKEN.to_ascii_lowercase())
    {
        return value.to_string();
    }
    match value.split_once(':') {
        Some((kind, rest)) if kind.eq_ignore_ascii_case("smtp") => {
            format!("{kind}:{}{rest}", prefix())
        }
        _ => format!("{}{value}", prefix()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_targets_are_told_by_their_attribute() {
        for target in [
            "userName",
            "externalId",
            "emails[type eq \"work\"].value",
            "emails",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        ] {
            assert!(is_identifying(target), "{target}");
        }
        for target in [
            "displayName",
            "name.givenName",
            "title",
            "phoneNumbers[type eq \"work\"].value",
        ] {
            assert!(!is_identifying(target), "{target}");
        }
    }

    #[test]
    fn a_value_is_made_unique_once_and_keeps_its_kind() {
        assert_eq!(
            unique("zoe.aber"),
            format!("scimcheck-{RUN_TOKEN}-zoe.aber")
        );
        assert_eq!(unique(&unique("zoe")), unique("zoe"));
        assert_eq!(
            unique("SMTP:z@x"),
            format!("SMTP:scimcheck-{RUN_TOKEN}-z@x")
        );
        // Upper-cased by an expression after the prefix: still the run's.
        let upper = unique("z").to_uppercase();
        assert_eq!(unique(&upper), upper);
    }
}
