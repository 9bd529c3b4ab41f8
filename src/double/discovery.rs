//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7643 5-7),
//! saying exactly what the double does.

use serde_json::{Value, json};

use super::limits::{MAX_OPERATIONS, MAX_PAYLOAD, MAX_RESULTS};
use super::variant::{Variant, Variants};
use crate::scim::schema::{Kind, common_attrs, enterprise_user, group, user};

pub fn service_provider_config(base_url: &str, variants: &Variants) -> Value {
    let offers = |without: Variant| !variants.has(without);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": true },
        "bulk": {
            "supported": offers(Variant::NoBulk),
            "maxOperations": MAX_OPERATIONS,
            "maxPayloadSize": MAX_PAYLOAD,
        },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": offers(Variant::NoChangePassword) },
        "sort": { "supported": offers(Variant::NoSort) },
        "etag": { "supported": offers(Variant::NoEtag) },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token in the Authorization header, when the double was started with one",
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

pub fn resource_types(base_url: &str) -> Vec<Value> {
    [Kind::User, Kind::Group]
        .into_iter()
        .map(|kind| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": kind.name(),
                "name": kind.name(),
                "endpoint": format!("/{}", kind.endpoint()),
                "description": kind.name(),
                "schema": kind.core_schema(),
                "schemaExtensions": kind.extensions().iter()
                    .map(|urn| json!({ "schema": urn, "required": false }))
                    .collect::<Vec<_>>(),
                "meta": {
                    "resourceType": "ResourceType",
                    "location": format!("{base_url}/ResourceTypes/{}", kind.name()),
                },
            })
        })
        .collect()
}

/// What the `strict-user` variant requires beyond RFC 7643: a name and
/// `active`, as canaille does.
pub const STRICT_USER_REQUIRES: [&str; 2] = ["name", "active"];

/// Marks the strict variant's extra User attributes required.
pub fn make_strict(user: &mut crate::scim::schema::Schema) {
    for attr in user.attrs.iter_mut() {
        if STRICT_USER_REQUIRES.contains(&attr.name.as_str()) {
            attr.required = true;
        }
    }
}

pub fn schemas(base_url: &str, variants: &Variants) -> Vec<Value> {
    let mut user = user();
    if variants.has(Variant::StrictUser) {
        make_strict(&mut user);
    }
    let mut group = group();
    // The common attributes are part of every resource's schema representation.
    user.attrs.splice(
        0..0,
        common_attrs().into_iter().filter(|a| a.name != "meta"),
    );
    group.attrs.splice(
        0..0,
        common_attrs().into_iter().filter(|a| a.name != "meta"),
    );
    [user, enterprise_user(), group]
        .iter()
        .map(|s| s.to_json(base_url))
        .collect()
}
