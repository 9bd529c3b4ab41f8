//! No false positives on RFC-legal choices: every built-in scenario, the
//! schema-driven ones included, passes against the double making each
//! choice RFC 7643/7644 leaves to a server (and all of them at once), and
//! every profile's verdict is "ready". A check that fails here holds a
//! server to something the RFC does not require.

mod common;

use scimcheck::double::Double;
use scimcheck::double::variant::{Variant, Variants};
use scimcheck::exec::Outcome;
use scimcheck::report::verdict;

async fn passes_everything(variants: Variants) {
    let double = Double::start_with_variants(Some(common::TOKEN.into()), variants.clone()).await;
    let results = common::run_builtin(&double.base_url(), "").await;
    let mut problems = Vec::new();
    for result in &results {
        if result.outcome == Outcome::Failed {
            problems.push(scimcheck::report::terminal::scenario(result, &[]));
        }
    }
    for v in verdict::verdicts(&results) {
        if !v.ready() {
            problems.push(verdict::render(std::slice::from_ref(&v), &[], false));
        }
    }
    assert!(
        problems.is_empty(),
        "against {:?}:\n{}",
        variants.iter().map(Variant::name).collect::<Vec<_>>(),
        problems.join("\n")
    );
}

macro_rules! variant_tests {
    ($($name:ident => $variant:expr),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                passes_everything(Variants::of([$variant])).await;
            }
        )*
    };
}

variant_tests! {
    patch_answered_204 => Variant::Patch204,
    short_integer_ids => Variant::ShortIds,
    no_etag => Variant::NoEtag,
    no_sort => Variant::NoSort,
    no_bulk => Variant::NoBulk,
    no_change_password => Variant::NoChangePassword,
    no_root_search => Variant::NoRootSearch,
    no_me => Variant::NoMe,
    no_user_groups => Variant::NoUserGroups,
    empty_list_without_resources => Variant::EmptyListWithoutResources,
    only_eq_and_and_in_filters => Variant::EqAndOnly,
    no_search_by_post => Variant::NoSearch,
    name_and_active_required => Variant::StrictUser,
}

#[tokio::test]
async fn every_variant_at_once() {
    passes_everything(Variants::of(Variant::ALL)).await;
}

#[test]
fn every_variant_has_a_test() {
    // The macro above names each; this keeps a new variant from going untested.
    assert_eq!(Variant::ALL.len(), 13);
}
