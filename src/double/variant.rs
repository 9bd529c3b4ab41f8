//! RFC-legal ways for a service provider to differ from the double's
//! defaults: each is a choice RFC 7643/7644 leaves to the server (a MAY, an
//! optional feature, an either-or). A check that fails against one of them
//! is a false positive; the test suite runs every built-in scenario against
//! each to prove there is none. `scimcheck serve --variant NAME,...` serves
//! them, so vendors can see how scimcheck treats optional behaviour.

use std::collections::BTreeSet;

/// One RFC-legal choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// PATCH answered 204 without a body (RFC 7644 3.5.2: 200 or 204).
    Patch204,
    /// Ids are short decimal integers ("1", "2"): RFC 7643 3.1 asks only
    /// for a stable, unique string the server assigns.
    ShortIds,
    /// No ETags: `etag.supported` false, no `ETag` header nor
    /// `meta.version`, `If-Match`/`If-None-Match` ignored (RFC 7644 3.14).
    NoEtag,
    /// No sorting: `sort.supported` false, `sortBy` ignored (RFC 7644 3.4.2.3).
    NoSort,
    /// No Bulk: `bulk.supported` false, `POST /Bulk` answered 501 (RFC 7644 3.7).
    NoBulk,
    /// No password change: `changePassword.supported` false (RFC 7643 5).
    NoChangePassword,
    /// No queries at the root: `POST /.search` answered 501 (RFC 7644 3.4.2.1, a MAY).
    NoRootSearch,
    /// `/Me` answered 501 (RFC 7644 3.11); the double's default too, kept
    /// as a name so that a variant list can say it.
    NoMe,
    /// Users carry no `groups` (RFC 7643 4.1.2: optional, readOnly).
    NoUserGroups,
    /// An empty ListResponse has no `Resources` (RFC 7644 3.4.2: REQUIRED
    /// only when totalResults is non-zero).
    EmptyListWithoutResources,
    /// Filters take only `eq` and `and`; anything else is answered 400
    /// `invalidFilter`, as AWS IAM Identity Center does (RFC 7644 3.4.2.2,
    /// Table 9: an unsupported comparison may be refused).
    EqAndOnly,
    /// No search by POST: `POST /Users/.search` and `/Groups/.search` answered
    /// 501 (RFC 7644 3.4.3 offers it; nothing requires it).
    NoSearch,
    /// A strict server: `/Schemas` makes a User's `name` and `active`
    /// required, and creates and replacements without them are refused
    /// (RFC 7643 7 lets a schema mark any attribute required; canaille does).
    StrictUser,
}

impl Variant {
    pub const ALL: [Variant; 13] = [
        Variant::Patch204,
        Variant::ShortIds,
        Variant::NoEtag,
        Variant::NoSort,
        Variant::NoBulk,
        Variant::NoChangePassword,
        Variant::NoRootSearch,
        Variant::NoMe,
        Variant::NoUserGroups,
        Variant::EmptyListWithoutResources,
        Variant::EqAndOnly,
        Variant::NoSearch,
        Variant::StrictUser,
    ];

    /// What `--variant` takes.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Patch204 => "patch-204",
            Variant::ShortIds => "short-ids",
            Variant::NoEtag => "no-etag",
            Variant::NoSort => "no-sort",
            Variant::NoBulk => "no-bulk",
            Variant::NoChangePassword => "no-change-password",
            Variant::NoRootSearch => "no-root-search",
            Variant::NoMe => "no-me",
            Variant::NoUserGroups => "no-user-groups",
            Variant::EmptyListWithoutResources => "empty-list-without-resources",
            Variant::EqAndOnly => "eq-and-only",
            Variant::NoSearch => "no-search",
            Variant::StrictUser => "strict-user",
        }
    }

    /// The choice, and where the RFC leaves it to the server.
    pub fn about(self) -> &'static str {
        match self {
            Variant::Patch204 => "PATCH answered 204 without a body (RFC 7644 3.5.2)",
            Variant::ShortIds => "ids are short integers such as \"7\" (RFC 7643 3.1)",
            Variant::NoEtag => "no ETags; If-Match and If-None-Match ignored (RFC 7644 3.14)",
            Variant::NoSort => "no sorting; sortBy ignored (RFC 7644 3.4.2.3)",
            Variant::NoBulk => "no Bulk; POST /Bulk answered 501 (RFC 7644 3.7)",
            Variant::NoChangePassword => "changePassword not claimed (RFC 7643 5)",
            Variant::NoRootSearch => "POST /.search at the root answered 501 (RFC 7644 3.4.2.1)",
            Variant::NoMe => "/Me answered 501 (RFC 7644 3.11)",
            Variant::NoUserGroups => "users carry no groups attribute (RFC 7643 4.1.2)",
            Variant::EmptyListWithoutResources => {
                "an empty ListResponse leaves Resources out (RFC 7644 3.4.2)"
            }
            Variant::EqAndOnly => {
                "filters take only eq and and; the rest is refused with invalidFilter (RFC 7644 3.4.2.2)"
            }
            Variant::NoSearch => {
                "POST /Users/.search and /Groups/.search answered 501 (RFC 7644 3.4.3)"
            }
            Variant::StrictUser => "a User's name and active are required (RFC 7643 7)",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// The variants a double serves; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variants(BTreeSet<Variant>);

impl Variants {
    pub fn of(variants: impl IntoIterator<Item = Variant>) -> Variants {
        Variants(variants.into_iter().collect())
    }

    /// Parses `patch-204,no-etag`; an unknown name says which are known.
    pub fn parse(text: &str) -> Result<Variants, String> {
        let mut out = BTreeSet::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let variant = Variant::from_name(name).ok_or_else(|| {
                format!(
                    "unknown variant `{name}`; the variants are: {}",
                    Variant::ALL.map(Variant::name).join(", ")
                )
            })?;
            out.insert(variant);
        }
        Ok(Variants(out))
    }

    pub fn has(&self, variant: Variant) -> bool {
        self.0.contains(&variant)
    }

    pub fn iter(&self) -> impl Iterator<Item = Variant> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for v in Variant::ALL {
            assert_eq!(Variant::from_name(v.name()), Some(v));
        }
        let parsed = Variants::parse("patch-204, no-etag").unwrap();
        assert!(parsed.has(Variant::Patch204) && parsed.has(Variant::NoEtag));
        let err = Variants::parse("patch-205").unwrap_err();
        assert!(
            err.contains("unknown variant `patch-205`") && err.contains("short-ids"),
            "{err}"
        );
    }
}
