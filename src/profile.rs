//! The client profiles: whose traffic a suite replays, and whose verdict
//! its scenarios count in. One list, for suite selection, planning and the
//! verdict alike.

/// A client dialect and the suites folder that replays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// What `--profile` takes.
    pub id: &'static str,
    /// Who the verdict speaks of.
    pub client: &'static str,
    /// The first segment of its suites' names (their folder under `suites/`).
    pub folder: &'static str,
}

pub const PROFILES: [Profile; 4] = [
    Profile {
        id: "entra",
        client: "Microsoft Entra ID",
        folder: "entra",
    },
    Profile {
        id: "entra-legacy",
        client: "Microsoft Entra ID (without aadOptscim062020)",
        folder: "entra-legacy",
    },
    Profile {
        id: "okta",
        client: "Okta",
        folder: "okta",
    },
    Profile {
        id: "rfc",
        client: "RFC 7643/7644",
        folder: "rfc7644",
    },
];

pub fn profile(id: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.id == id)
}

/// The profile a scenario belongs to, by its name's first segment.
pub fn profile_of(full_name: &str) -> Option<&'static Profile> {
    let folder = full_name.split("::").next()?;
    PROFILES.iter().find(|p| p.folder == folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_belong_to_profiles_by_folder() {
        assert_eq!(
            profile_of("okta::users::create").map(|p| p.id),
            Some("okta")
        );
        assert_eq!(
            profile_of("entra-legacy::users::x").map(|p| p.id),
            Some("entra-legacy")
        );
        assert_eq!(
            profile_of("rfc7644::users-create::x").map(|p| p.id),
            Some("rfc")
        );
        assert_eq!(profile_of("mine::x"), None);
    }
}
