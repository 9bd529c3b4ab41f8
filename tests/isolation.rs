//! scimcheck touches only what it created: with the double seeded with
//! users and groups that look like a real tenant's, running every built-in
//! suite of every profile leaves each seeded resource byte for byte as it was.

mod common;

use serde_json::json;

/// Every seeded resource, as the server answers it.
async fn read_all(
    client: &reqwest::Client,
    base: &str,
    paths: &[String],
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in paths {
        let body = client
            .get(format!("{base}{path}"))
            .bearer_auth(common::TOKEN)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        out.push((path.clone(), body.to_vec()));
    }
    out
}

#[tokio::test]
async fn a_full_run_leaves_seeded_data_untouched() {
    let double = common::double().await;
    let base = double.base_url();
    let client = reqwest::Client::new();
    let user = |name: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "externalId": format!("ext-{name}"), "active": true,
            "emails": [{"value": name, "type": "work", "primary": true}],
            "name": {"givenName": "Seed", "familyName": name}
        })
    };
    let mut paths = Vec::new();
    let mut user_ids = Vec::new();
    // Names close to what the suites use, to catch a filter that matches too much.
    for name in [
        "jdoe@example.com",
        "scimcheck@example.com",
        "boss@example.com",
        "okta@example.com",
        "member@example.com",
    ] {
        let id = common::post_scim(&client, format!("{base}/Users"), user(name)).await;
        paths.push(format!("/Users/{id}"));
        user_ids.push(id);
    }
    for name in ["sales", "scimcheck-group", "okta-group"] {
        let members: Vec<_> = user_ids
            .iter()
            .take(2)
            .map(|id| json!({"value": id}))
            .collect();
        let id = common::post_scim(&client, format!("{base}/Groups"), json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members
        }))
        .await;
        paths.push(format!("/Groups/{id}"));
    }
    let before = read_all(&client, &base, &paths).await;

    let results = common::run_builtin(&base, "::").await;
    assert!(
        results.len() >= 14,
        "every built-in scenario ran: {}",
        results.len()
    );
    assert!(
        results
            .iter()
            .any(|r| r.full_name.starts_with("rfc7644::schema-driven::")),
        "the schema-driven scenarios ran too"
    );
    for r in &results {
        assert_eq!(
            r.outcome,
            scimcheck::exec::Outcome::Passed,
            "{}",
            r.full_name
        );
    }

    let after = read_all(&client, &base, &paths).await;
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "{path} changed"
        );
    }
    // And nothing of the run is left behind.
    let users = common::get_json(&client, format!("{base}/Users")).await;
    let groups = common::get_json(&client, format!("{base}/Groups")).await;
    assert_eq!(users["totalResults"], 5, "{users}");
    assert_eq!(groups["totalResults"], 3, "{groups}");
}
