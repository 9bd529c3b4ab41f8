//! The groups of a load, as Entra provisions them after their members:
//! matched by displayName (members excluded), created empty, then members
//! added by PATCH in batches, the batches of one group sent side by side.
//! Each group is then read back: Entra never reads members again, so a
//! member lost by a PATCH stays lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;

use super::pace::{Ctx, json_request, match_request};
use super::stats::Op;

/// `scimcheck-<run id>-load-group-<g>`, with the tenant when several.
pub fn group_name(run_id: &str, g: usize, tenants: usize) -> String {
    match tenants {
        0 | 1 => format!("scimcheck-{run_id}-load-group-{g}"),
        t => format!("scimcheck-{run_id}-t{}-load-group-{}", g % t, g / t),
    }
}

/// The users (by number) in group `g`: `members` of its own tenant's users,
/// taken in turn so that groups overlap as little as they can.
pub fn member_numbers(
    g: usize,
    members: usize,
    users: usize,
    tenants: usize,
) -> impl Iterator<Item = usize> {
    let tenants = tenants.max(1);
    let (tenant, nth) = (g % tenants, g / tenants);
    let per_tenant = users / tenants;
    (0..members).map(move |i| tenant + tenants * ((nth * members + i) % per_tenant.max(1)))
}

/// What the groups phase keeps: the ids it needs, and what it found.
pub(super) struct Membership {
    /// The id of each user created, by number (none when not created).
    pub user_ids: Mutex<Vec<Option<String>>>,
    pub group_ids: Mutex<Vec<Option<String>>>,
    /// Per group and batch: whether the PATCH was accepted (2xx).
    accepted: Mutex<Vec<Vec<bool>>>,
    pub outcome: Mutex<GroupsReport>,
}

/// The groups a load created and whether their members held.
#[derive(Debug, Clone, Default)]
pub struct GroupsReport {
    /// Groups created (told from the load's list of what it created).
    pub created: usize,
    /// Members in accepted PATCHes, and of those, found in the groups read back.
    pub members_accepted: u64,
    pub members_found: u64,
    /// Groups read back without a `members` attribute although some were added.
    pub without_members: Vec<String>,
    /// Groups read back with fewer of the members added: `/Groups/<id>: 3 of 20 missing`.
    pub lost: Vec<String>,
}

impl Membership {
    pub fn new(users: usize, groups: usize, batches: usize) -> Membership {
        Membership {
            user_ids: Mutex::new(vec![None; users]),
            group_ids: Mutex::new(vec![None; groups]),
            accepted: Mutex::new(vec![vec![false; batches]; groups]),
            outcome: Mutex::new(GroupsReport::default()),
        }
    }

    /// The ids of the members of group `g` in batch `batch`.
    fn members_of(&self, ctx: &Ctx, g: usize, batch: usize) -> Vec<String> {
        let o = &ctx.options;
        let ids = self.user_ids.lock().unwrap();
        member_numbers(g, o.members, o.users, o.tenants)
            .skip(batch * o.member_batch)
            .take(o.member_batch)
            .filter_map(|n| ids.get(n).cloned().flatten())
            .collect()
    }
}

/// A group's match and its creation, empty.
pub(super) async fn group_cycle(
    ctx: Arc<Ctx>,
    groups: Arc<Membership>,
    g: usize,
    scheduled: Instant,
) {
    let name = group_name(&ctx.options.run_id, g, ctx.options.tenants);
    let found = match_request(
        &ctx.target,
        "/Groups",
        "displayName",
        &name,
        "&excludedAttributes=members",
    );
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "externalId": format!("scimcheck-{}-load-group-{g}", ctx.options.run_id),
    });
    let created = ctx
        .match_then_create(
            (Op::GroupMatch, found),
            (Op::GroupCreate, "Groups", body),
            scheduled,
            ctx.options.members > 0,
        )
        .await;
    groups.group_ids.lock().unwrap()[g] = created;
}

/// One PATCH adding a batch of a group's members, as Entra sends it.
pub(super) async fn member_batch(
    ctx: Arc<Ctx>,
    groups: Arc<Membership>,
    g: usize,
    batch: usize,
    scheduled: Instant,
) {
    let Some(id) = groups.group_ids.lock().unwrap()[g].clone() else {
        return;
    };
    let members: Vec<_> = groups
        .members_of(&ctx, g, batch)
        .into_iter()
        .map(|id| json!({ "$ref": null, "value": id }))
        .collect();
    if members.is_empty() {
        return;
    }
    let Ok(path) = crate::ownership::resource_path("Groups", &id) else {
        return;
    };
    let patch = json_request(
        &ctx.target,
        http::Method::PATCH,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "Add", "path": "members", "value": members }],
        }),
    );
    let Some(exchange) = ctx.send(Op::Members, patch, scheduled).await else {
        return;
    };
    if exchange
        .response
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status))
    {
        groups.accepted.lock().unwrap()[g][batch] = true;
    }
}

/// Reads a group back and counts the members of its accepted PATCHes.
pub(super) async fn read_back(
    ctx: Arc<Ctx>,
    groups: Arc<Membership>,
    g: usize,
    scheduled: Instant,
) {
    let Some(id) = groups.group_ids.lock().unwrap()[g].clone() else {
        return;
    };
    let accepted: Vec<usize> = groups.accepted.lock().unwrap()[g]
        .iter()
        .enumerate()
        .filter(|(_, ok)| **ok)
        .map(|(b, _)| b)
        .collect();
    let expected: HashSet<String> = accepted
        .iter()
        .flat_map(|b| groups.members_of(&ctx, g, *b))
        .collect();
    if expected.is_empty() {
        return;
    }
    let Ok(path) = crate::ownership::resource_path("Groups", &id) else {
        return;
    };
    let request = crate::http::SentRequest::to(&ctx.target, http::Method::GET, &path);
    let Some(exchange) = ctx.send(Op::ReadBack, request, scheduled).await else {
        return;
    };
    let Some(body) = exchange
        .response
        .as_ref()
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| r.json().ok())
    else {
        return;
    };
    let mut outcome = groups.outcome.lock().unwrap();
    outcome.members_accepted += expected.len() as u64;
    let Some(members) = body.get("members").and_then(|m| m.as_array()) else {
        outcome.without_members.push(path);
        return;
    };
    let found = members
        .iter()
        .filter_map(|m| m.get("value").and_then(|v| v.as_str()))
        .filter(|v| expected.contains(*v))
        .collect::<HashSet<_>>()
        .len();
    outcome.members_found += found as u64;
    if found < expected.len() {
        outcome.lost.push(format!(
            "{path}: {} of the {} members added are missing",
            expected.len() - found,
            expected.len()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_groups_members_are_users_of_its_own_tenant() {
        let one: Vec<_> = member_numbers(1, 3, 10, 1).collect();
        assert_eq!(one, vec![3, 4, 5]);
        // Wraps around the users.
        assert_eq!(
            member_numbers(3, 4, 10, 1).collect::<Vec<_>>(),
            vec![2, 3, 4, 5]
        );
        // Tenant 1 of 2 owns the odd users.
        let t1: Vec<_> = member_numbers(1, 3, 10, 2).collect();
        assert!(t1.iter().all(|n| n % 2 == 1), "{t1:?}");
        assert_eq!(group_name("r1", 3, 2), "scimcheck-r1-t1-load-group-1");
        assert!(crate::ownership::carries_run_prefix(
            &group_name("r1", 3, 1),
            "r1"
        ));
    }
}
