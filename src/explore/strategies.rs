//! Strategies (proptest) for sequences of operations. Shrinking is
//! proptest's: fewer operations, simpler values, smaller picks.

use proptest::prelude::*;

use super::op::{Leaf, MemberChange, Op, OpCase, PatchOp, Pick, Tree, UserSpec};
use super::values::{email, name_tail, pattern, text};

fn pick() -> impl Strategy<Value = Pick> {
    any::<u8>()
}

fn picks(max: usize) -> impl Strategy<Value = Vec<Pick>> {
    prop::collection::vec(pick(), 0..=max)
}

fn op_case() -> impl Strategy<Value = OpCase> {
    prop_oneof![Just(OpCase::Lower), Just(OpCase::Entra)]
}

pub fn user() -> impl Strategy<Value = UserSpec> {
    (
        name_tail(),
        prop::option::of(text()),
        (name_tail(), text()),
        (prop::option::of(email()), prop::option::of(email())),
        prop::option::of(text()),
        prop::option::of(pattern("[0-9]{1,6}")),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            |(
                tail,
                display,
                (given, family),
                (email, home_email),
                title,
                employee_number,
                flags,
            )| UserSpec {
                tail,
                display,
                given,
                family,
                email,
                home_email,
                title,
                employee_number,
                external_id: flags.0,
                active: flags.1,
                password: flags.2,
            },
        )
}

fn patch_op() -> impl Strategy<Value = PatchOp> {
    prop_oneof![
        3 => (any::<bool>(), any::<bool>()).prop_map(|(value, as_string)| PatchOp::Active { value, as_string }),
        1 => any::<bool>().prop_map(PatchOp::ActiveNoPath),
        1 => text().prop_map(PatchOp::DisplayName),
        1 => text().prop_map(PatchOp::GivenName),
        1 => text().prop_map(PatchOp::Title),
        1 => pattern("[0-9]{1,6}").prop_map(PatchOp::EmployeeNumber),
        1 => email().prop_map(PatchOp::WorkEmail),
        1 => email().prop_map(PatchOp::AddEmail),
        1 => Just(PatchOp::RemoveWorkEmail),
        1 => Just(PatchOp::RemoveTitle),
        1 => pick().prop_map(PatchOp::Manager),
    ]
}

fn patch_ops() -> impl Strategy<Value = Vec<PatchOp>> {
    (
        prop::collection::vec(patch_op(), 1..4),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(mut ops, invalid)| {
            if invalid {
                ops.push(PatchOp::Invalid);
            }
            ops
        })
}

fn span() -> impl Strategy<Value = (Pick, u8, u8)> {
    (pick(), any::<u8>(), any::<u8>())
}

fn leaf() -> impl Strategy<Value = Leaf> {
    prop_oneof![
        4 => (pick(), any::<bool>()).prop_map(|(pick, other_case)| Leaf::UserName { pick, other_case }),
        1 => pick().prop_map(Leaf::ExternalId),
        1 => span().prop_map(|(pick, start, len)| Leaf::EmailValue { pick, start, len }),
        1 => span().prop_map(|(pick, start, len)| Leaf::WorkEmail { pick, start, len }),
        1 => (pick(), any::<u8>()).prop_map(|(pick, len)| Leaf::FamilySw { pick, len }),
        1 => (pick(), any::<u8>()).prop_map(|(pick, len)| Leaf::UserNameEw { pick, len }),
        1 => span().prop_map(|(pick, start, len)| Leaf::DisplayNameCo { pick, start, len }),
        1 => any::<bool>().prop_map(Leaf::Active),
        1 => Just(Leaf::TitlePresent),
        2 => span().prop_map(|(pick, start, len)| Leaf::Wildcard { pick, start, len }),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf()
        .prop_map(Tree::Leaf)
        .prop_recursive(3, 8, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Tree::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Tree::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|t| Tree::Not(Box::new(t))),
            ]
        })
}

fn member_change() -> impl Strategy<Value = MemberChange> {
    prop_oneof![
        3 => picks(3).prop_map(MemberChange::Add),
        2 => pick().prop_map(MemberChange::RemoveOne),
        1 => picks(2).prop_map(MemberChange::RemoveListed),
        1 => name_tail().prop_map(MemberChange::Rename),
    ]
}

/// Any operation; `parallel` is the most writes a burst sends at once.
pub fn op(parallel: usize) -> impl Strategy<Value = Op> {
    let parallel = parallel.max(2);
    prop_oneof![
        8 => user().prop_map(Op::CreateUser),
        2 => (pick(), any::<bool>()).prop_map(|(of, other_case)| Op::CreateDuplicate { of, other_case }),
        3 => (name_tail(), picks(3)).prop_map(|(name, members)| Op::CreateGroup { name, members }),
        3 => pick().prop_map(Op::Get),
        1 => pick().prop_map(Op::GetGroup),
        1 => pick().prop_map(Op::GetGone),
        6 => tree().prop_map(Op::Filter),
        2 => (pick(), any::<bool>(), any::<bool>())
            .prop_map(|(pick, other_case, exclude_members)| Op::GroupByName { pick, other_case, exclude_members }),
        1 => any::<u8>().prop_map(Op::BadFilter),
        2 => (1u8..5).prop_map(|count| Op::Walk { count }),
        1 => Just(Op::PastEnd),
        2 => (pick(), any::<bool>(), any::<bool>(), any::<u8>())
            .prop_map(|(pick, exclude, list, which)| Op::Project { pick, exclude, list, which }),
        1 => any::<bool>().prop_map(|descending| Op::Sort { descending }),
        6 => (pick(), patch_ops(), op_case()).prop_map(|(pick, ops, case)| Op::Patch { pick, ops, case }),
        6 => (pick(), member_change(), op_case()).prop_map(|(pick, change, case)| Op::Members { pick, change, case }),
        2 => (pick(), user()).prop_map(|(pick, with)| Op::Put { pick, with }),
        3 => pick().prop_map(Op::Delete),
        1 => pick().prop_map(Op::DeleteGroup),
        1 => (pick(), picks(parallel)).prop_map(|(pick, members)| Op::Burst { pick, members }),
        1 => (pick(), prop::collection::vec(patch_op(), 2..=parallel), op_case())
            .prop_map(|(pick, ops, case)| Op::PatchBurst { pick, ops, case }),
        1 => (name_tail(), 2..=parallel.min(255) as u8).prop_map(|(tail, copies)| Op::CreateRace { tail, copies }),
        1 => pick().prop_map(Op::StalePatch),
        1 => Just(Op::Pause),
    ]
}

/// A case: a few creates first, so that later operations have something
/// to act on, then any mix.
pub fn case(max_ops: usize, parallel: usize) -> impl Strategy<Value = Vec<Op>> {
    (
        prop::collection::vec(user().prop_map(Op::CreateUser), 1..3),
        prop::collection::vec(op(parallel), 1..max_ops.max(2)),
    )
        .prop_map(|(mut creates, rest)| {
            creates.extend(rest);
            creates
        })
}
