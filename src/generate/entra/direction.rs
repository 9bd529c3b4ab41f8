//! Which synchronization rules of an export scimcheck can replay: those
//! that provision from Entra ID to an app over SCIM. A schema download also
//! holds rules that run the other way (an HR app or on-premises Active
//! Directory into Entra ID: inbound provisioning, cloud sync) and rules of
//! gallery apps whose connector speaks the app's own API (Salesforce's
//! `IsActive`, `Alias`): neither sends the app a SCIM request, so each is
//! told for what it is, never replayed as SCIM.

use serde_json::Value;

/// Why a rule is not replayed, or None when it is outbound SCIM.
pub fn not_replayed(rule: &Value) -> Option<String> {
    let source = rule.get("sourceDirectoryName").and_then(Value::as_str);
    let target = rule
        .get("targetDirectoryName")
        .and_then(Value::as_str)
        .unwrap_or("the target");
    // Older downloads leave the source out: it is Entra's own.
    if let Some(source) = source.filter(|s| !is_entra(s)) {
        let what = if is_entra(target) && is_active_directory(source) {
            "cloud sync (Active Directory → Entra ID): it writes into Entra ID"
        } else if is_entra(target) {
            "inbound provisioning (an app → Entra ID): Entra reads the app and writes into Entra ID"
        } else if is_active_directory(target) {
            "provisioning into on-premises Active Directory: Entra writes there through its agent"
        } else {
            "a rule between two directories neither of which is Entra ID"
        };
        return Some(format!(
            "{source} → {target} is {what}, and sends the app no SCIM request"
        ));
    }
    if is_scim(rule) {
        return None;
    }
    let attributes: Vec<&str> = mappings(rule)
        .flat_map(|m| m.get("attributeMappings").and_then(Value::as_array))
        .flatten()
        .filter_map(|a| a.get("targetAttributeName").and_then(Value::as_str))
        .take(4)
        .collect();
    Some(format!(
        "Entra ID → {target} goes through a connector of the app's own API, not SCIM (its attributes are {}, no SCIM schema's), so what it sends is not SCIM requests",
        attributes.join(", ")
    ))
}

fn mappings(rule: &Value) -> impl Iterator<Item = &Value> {
    rule.get("objectMappings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A SCIM app's objects are SCIM schemas (`urn:ietf:params:scim:schemas:…`)
/// and its attributes SCIM paths (`userName`, `emails[type eq "work"].value`).
fn is_scim(rule: &Value) -> bool {
    mappings(rule).any(|m| {
        let object = m
            .get("targetObjectName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        object.starts_with("urn:ietf:params:scim:schemas:")
            || m.get("attributeMappings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("targetAttributeName").and_then(Value::as_str))
                .any(|t| {
                    t == "userName"
                        || t.starts_with("urn:ietf:params:scim:")
                        || t.contains("[type eq ")
                })
    })
}

fn squeezed(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_entra(name: &str) -> bool {
    matches!(
        squeezed(name).as_str(),
        "azureactivedirectory"
            | "microsoftentraid"
            | "entraid"
            | "microsoftentra"
            | "aad"
            | "azuread"
    )
}

fn is_active_directory(name: &str) -> bool {
    matches!(
        squeezed(name).as_str(),
        "activedirectory" | "ad" | "onpremisesactivedirectory" | "onpremactivedirectory"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(source: &str, target: &str, object: &str, attribute: &str) -> Value {
        json!({"sourceDirectoryName": source, "targetDirectoryName": target, "objectMappings": [
            {"targetObjectName": object, "attributeMappings": [{"targetAttributeName": attribute}]}
        ]})
    }

    #[test]
    fn outbound_scim_is_replayed_whatever_the_apps_name() {
        assert_eq!(
            not_replayed(&rule(
                "Azure Active Directory",
                "ZscalerTwo",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "userName"
            )),
            None
        );
        assert_eq!(
            not_replayed(&rule("Microsoft Entra ID", "Acme", "User", "userName")),
            None
        );
        // No source named: Entra's own.
        assert_eq!(
            not_replayed(
                &json!({"objectMappings": [{"targetObjectName": "urn:ietf:params:scim:schemas:core:2.0:Group", "attributeMappings": []}]})
            ),
            None
        );
    }

    #[test]
    fn everything_else_is_named_for_what_it_is() {
        let said = |r: Value| not_replayed(&r).unwrap();
        assert!(
            said(rule(
                "Azure Active Directory",
                "Salesforce",
                "User",
                "IsActive"
            ))
            .contains("a connector of the app's own API, not SCIM (its attributes are IsActive")
        );
        assert!(
            said(rule(
                "Active Directory",
                "Azure Active Directory",
                "User",
                "displayName"
            ))
            .contains("cloud sync")
        );
        assert!(
            said(rule(
                "Workday",
                "Azure Active Directory",
                "User",
                "displayName"
            ))
            .contains("inbound provisioning")
        );
        assert!(
            said(rule(
                "SuccessFactors",
                "Active Directory",
                "user",
                "sAMAccountName"
            ))
            .contains("on-premises Active Directory")
        );
    }
}
