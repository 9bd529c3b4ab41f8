//! The readiness verdict: per client profile, will provisioning work?
//!
//! A failed `expect` check is a blocking finding, told with what the client
//! does when it meets it and how to fix it; a failed `advise` check is
//! advice, listed apart. A profile with skipped scenarios is not called
//! ready: what was not run was not shown to work.

use std::fmt::Write;

use crate::exec::{Outcome, ScenarioResult};
use crate::target::redact;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `okta::users::deactivate › verify`
    pub place: String,
    /// The first failed check, such as `json /active: expected false, got true`.
    pub what: String,
    /// How many more checks of the same step failed.
    pub more: usize,
    pub impact: Option<String>,
    pub fix: Option<String>,
    pub spec: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub profile: &'static Profile,
    pub scenarios: usize,
    pub skipped: Vec<String>,
    pub blocking: Vec<Finding>,
    pub advice: Vec<Finding>,
    /// INFO-level observations, for the record.
    pub notes: Vec<Finding>,
}

impl Verdict {
    pub fn ready(&self) -> bool {
        self.blocking.is_empty() && self.skipped.is_empty()
    }
}

/// One verdict per profile that has results, in the order of [`PROFILES`].
pub fn verdicts(results: &[ScenarioResult]) -> Vec<Verdict> {
    PROFILES
        .iter()
        .filter_map(|profile| {
            let mine: Vec<&ScenarioResult> = results
                .iter()
                .filter(|r| profile_of(&r.full_name) == Some(profile))
                .collect();
            if mine.is_empty() {
                return None;
            }
            let mut verdict = Verdict {
                profile,
                scenarios: mine.len(),
                skipped: Vec::new(),
                blocking: Vec::new(),
                advice: Vec::new(),
                notes: Vec::new(),
            };
            for result in mine {
                if let Outcome::Skipped(reason) = &result.outcome {
                    verdict
                        .skipped
                        .push(format!("{}: {reason}", result.full_name));
                }
                for step in &result.steps {
                    let place = format!("{} › {}", result.full_name, step.id);
                    // One finding per step and level: its checks are one problem seen several ways.
                    let finding =
                        |failures: &[crate::check::Failure], impact: &Option<String>, fix| {
                            failures.first().map(|first| Finding {
                                place: place.clone(),
                                what: format!("{}: {}", first.check, first_line(&first.message)),
                                more: failures.len() - 1,
                                impact: impact.clone(),
                                fix,
                                spec: step.spec.clone(),
                            })
                        };
                    verdict.blocking.extend(finding(
                        &step.failures,
                        &step.impact,
                        step.fix.clone(),
                    ));
                    verdict
                        .advice
                        .extend(finding(&step.advice, &step.advice_text, None));
                    verdict
                        .notes
                        .extend(finding(&step.notes, &step.note_text, None));
                }
            }
            Some(verdict)
        })
        .collect()
}

fn more(count: usize) -> String {
    match count {
        0 => String::new(),
        n => format!(
            " (and {n} more failed check{})",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The verdicts as the terminal shows them, secrets redacted.
pub fn render(verdicts: &[Verdict], secrets: &[String]) -> String {
    let mut out = String::new();
    if verdicts.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nReadiness");
    for v in verdicts {
        let client = v.profile.client;
        if v.ready() {
            let _ = writeln!(out, "  {client}: ready ({} scenarios passed)", v.scenarios);
        } else if v.blocking.is_empty() {
            let _ = writeln!(
                out,
                "  {client}: not assessed: {} of {} scenarios skipped",
                v.skipped.len(),
                v.scenarios
            );
        } else {
            let n = v.blocking.len();
            let plural = if n == 1 { "" } else { "s" };
            let _ = writeln!(out, "  {client}: not ready: {n} blocking finding{plural}");
        }
        for (i, f) in v.blocking.iter().enumerate() {
            let cites = if f.spec.is_empty() {
                String::new()
            } else {
                format!("   ({})", f.spec.join(", "))
            };
            let _ = writeln!(
                out,
                "    {}. {}: {}{}{cites}",
                i + 1,
                f.place,
                f.what,
                more(f.more)
            );
            if let Some(impact) = &f.impact {
                let _ = writeln!(out, "       what {client} does: {}", impact.trim());
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "       fix: {}", fix.trim());
            }
        }
        for skipped in &v.skipped {
            let _ = writeln!(out, "    skipped: {skipped}");
        }
        for (heading, findings) in [
            ("advice (SHOULD, not blocking)", &v.advice),
            ("info (for the record)", &v.notes),
        ] {
            if findings.is_empty() {
                continue;
            }
            let _ = writeln!(out, "    {heading}:");
            for f in findings {
                let _ = writeln!(out, "    - {}: {}{}", f.place, f.what, more(f.more));
                if let Some(why) = &f.impact {
                    let _ = writeln!(out, "      {}", why.trim());
                }
            }
        }
    }
    redact(&out, secrets)
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
