//! The users of a load: each matched, created, and for some changed or
//! disabled in the incremental cycle.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::pace::{Ctx, json_request, match_request};
use super::stats::Op;

/// `scimcheck-<run id>-load-<n>@example.com`, with the tenant when several.
pub fn user_name(run_id: &str, n: usize, tenants: usize) -> String {
    match tenants {
        0 | 1 => format!("scimcheck-{run_id}-load-{n}@example.com"),
        t => format!("scimcheck-{run_id}-t{}-load-{}@example.com", n % t, n / t),
    }
}

/// One user as Entra's cycles treat it: matched, created, and for some
/// updated or disabled. Returns the id of the user created.
pub(super) async fn user_cycle(ctx: Arc<Ctx>, n: usize, scheduled: Instant) -> Option<String> {
    let options = &ctx.options;
    let name = user_name(&options.run_id, n, options.tenants);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "active": true,
        "displayName": format!("Load user {n}"),
        "emails": [{ "primary": true, "type": "work", "value": name }],
        "externalId": format!("scimcheck-{}-load-{n}", options.run_id),
    });
    let found = match_request(&ctx.target, "/Users", "userName", &name, "");
    // The incremental cycle: one user in ten changed, one in twenty disabled.
    let update = n.is_multiple_of(10);
    let disable = n.is_multiple_of(20);
    let id = ctx
        .match_then_create(
            (Op::Match, found),
            (Op::Create, "Users", body),
            scheduled,
            update || disable,
        )
        .await?;
    let path = crate::ownership::resource_path("Users", &id).ok()?;
    let patch = |ops: serde_json::Value| {
        json_request(
            &ctx.target,
            http::Method::PATCH,
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": ops,
            }),
        )
    };
    if update {
        let update = patch(
            json!([{ "op": "Replace", "path": "displayName", "value": format!("Load user {n} (changed)") }]),
        );
        ctx.send(Op::Update, update, Instant::now()).await;
    }
    if disable {
        let disable = patch(json!([{ "op": "Replace", "path": "active", "value": "False" }]));
        ctx.send(Op::Disable, disable, Instant::now()).await;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_has_names_of_its_own() {
        assert_eq!(user_name("r1", 7, 1), "scimcheck-r1-load-7@example.com");
        assert_eq!(user_name("r1", 7, 3), "scimcheck-r1-t1-load-2@example.com");
        assert!(crate::ownership::carries_run_prefix(
            &user_name("r1", 7, 3),
            "r1"
        ));
    }
}
