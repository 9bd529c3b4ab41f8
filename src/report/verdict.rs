//! The readiness verdict: per client profile, will provisioning work?
//!
//! A failed `expect` check is a blocking finding, told with what the client
//! does when it meets it and how to fix it; a failed `advise` check is
//! advice, listed apart. Findings of one cause (the same failure text, but
//! for names and ids) are told once, with every place they were seen. A
//! profile with skipped scenarios, steps not run or fixtures that could not
//! be set up is not called ready: what was not run was not shown to work.

use std::fmt::Write;

use crate::exec::{Outcome, ScenarioResult};
use crate::target::{printable, redact};

pub use crate::profile::{PROFILES, Profile, profile, profile_of};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `okta::users::deactivate › verify`
    pub place: String,
    /// The same cause seen at other places (other steps or scenarios).
    pub also: Vec<String>,
    /// The first failed check, such as `json /active: expected false, got true`.
    pub what: String,
    /// How many more checks of the same step failed.
    pub more: usize,
    pub impact: Option<String>,
    pub fix: Option<String>,
    pub spec: Vec<String>,
    /// What makes two findings one cause (see [`cause_of`]).
    pub cause: String,
}

impl Finding {
    /// Every place the cause was seen.
    pub fn places(&self) -> usize {
        1 + self.also.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub profile: &'static Profile,
    pub scenarios: usize,
    pub skipped: Vec<String>,
    /// One per cause; the places it was seen are in each.
    pub blocking: Vec<Finding>,
    pub advice: Vec<Finding>,
    /// INFO-level observations, for the record.
    pub notes: Vec<Finding>,
    /// Preparing steps that failed: what they served was not assessed.
    pub setup: Vec<Finding>,
    /// Steps not run, per scenario and cause: `scenario: 3 steps (blocked by `create`)`.
    pub not_assessed: Vec<String>,
    /// Scenarios of optional features the service provider does not claim.
    pub not_applicable: Vec<String>,
    /// Steps left out as not applicable (a feature not offered, an optional
    /// attribute not declared), per scenario and cause: named, since what
    /// they would have checked was not assessed.
    pub steps_not_applicable: Vec<String>,
    /// 5xx answers met only while other scenarios ran beside (see
    /// [`crate::exec::ScenarioResult::under_concurrency`]).
    pub under_concurrency: Vec<String>,
}

impl Verdict {
    /// Ready only when nothing blocks and everything was assessed.
    pub fn ready(&self) -> bool {
        self.blocking.is_empty()
            && self.skipped.is_empty()
            && self.setup.is_empty()
            && self.not_assessed.is_empty()
    }

    /// The blocking checks that did not hold, all places counted.
    pub fn blocking_places(&self) -> usize {
        self.blocking.iter().map(Finding::places).sum()
    }
}

/// One verdict per profile that has results, in the order of [`PROFILES`].
pub fn verdicts(results: &[ScenarioResult]) -> Vec<Verdict> {
    PROFILES
        .iter()
        .filter_map(|profile| {
            let mine: Vec<&ScenarioResult> = results
                .iter()
                .filter(|r| r.profile == Some(profile.id))
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
                setup: Vec::new(),
                not_assessed: Vec::new(),
                not_applicable: Vec::new(),
                steps_not_applicable: Vec::new(),
                under_concurrency: Vec::new(),
            };
            for result in mine {
                if let Outcome::Skipped(reason) = &result.outcome {
                    let line = format!("{}: {reason}", result.full_name);
                    // For the RFC profile a feature not claimed is optional:
                    // not applicable. A client that needs it is not served.
                    if result.unclaimed_feature && profile.id == "rfc" {
                        verdict.not_applicable.push(line);
                    } else {
                        verdict.skipped.push(line);
                    }
                }
                verdict.not_assessed.extend(not_assessed(result));
                verdict.under_concurrency.extend(
                    result
                        .under_concurrency
                        .iter()
                        .map(|e| format!("{} › {e}", result.full_name)),
                );
                verdict.steps_not_applicable.extend(
                    result
                        .not_applicable_groups()
                        .into_iter()
                        .map(|(why, ids)| {
                            super::left_out(Some(&result.full_name), "not applicable", &why, &ids)
                        }),
                );
                for step in &result.steps {
                    let place = format!("{} › {}", result.full_name, step.id);
                    // One finding per step and level: its checks are one problem seen several ways.
                    let finding =
                        |failures: &[crate::check::Failure], impact: &Option<String>, fix| {
                            failures.first().map(|first| Finding {
                                place: place.clone(),
                                also: Vec::new(),
                                cause: cause_of(step, first),
                                what: format!("{}: {}", first.check, whole_line(&first.message)),
                                more: failures.len() - 1,
                                impact: impact.clone(),
                                fix,
                                spec: step.spec.clone(),
                            })
                        };
                    if step.is_setup_failure() {
                        // Neutral words: the requirement it prepared was not reached.
                        let failed = finding(&step.failures, &None, None);
                        add(&mut verdict.setup, failed);
                    } else {
                        let (impact, fix) = step.texts();
                        let failed = finding(&step.failures, &impact.map(str::to_owned), fix);
                        add(&mut verdict.blocking, failed);
                    }
                    add(
                        &mut verdict.advice,
                        finding(&step.advice, &step.advice_text, None),
                    );
                    add(
                        &mut verdict.notes,
                        finding(&step.notes, &step.note_text, None),
                    );
                }
            }
            Some(verdict)
        })
        .collect()
}

/// The steps of a scenario that did not run, one line per cause.
fn not_assessed(result: &ScenarioResult) -> Vec<String> {
    result
        .not_run_groups()
        .into_iter()
        .map(|(why, ids)| super::left_out(Some(&result.full_name), "not run", &why, &ids))
        .collect()
}

/// Adds a finding, folding it into one of the same cause.
fn add(findings: &mut Vec<Finding>, finding: Option<Finding>) {
    let Some(finding) = finding else { return };
    match findings.iter_mut().find(|f| f.cause == finding.cause) {
        Some(same) => same.also.push(finding.place),
        None => findings.push(finding),
    }
}

/// What one cause is. A status the server answered where another was asked
/// is told by that answer (its status, scimType and detail): one refusal is
/// one cause wherever it is met, and different refusals are different causes
/// even where the check reads the same. Any other check is told by the
/// requirement it verifies (else its citation), the check and its message.
/// What changes from place to place (names, ids) is left out.
pub fn cause_of(step: &crate::exec::StepResult, failure: &crate::check::Failure) -> String {
    let answer = step
        .exchange
        .as_ref()
        .and_then(|e| e.response.as_ref().ok());
    if failure.check == "status"
        && let Some(response) = answer
    {
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        let said = |key: &str| {
            body.get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let detail = match said("detail") {
            d if d.is_empty() => crate::check::excerpt(&response.body),
            d => d,
        };
        return cause_key(&format!(
            "answered {} {} {}",
            response.status,
            said("scimType"),
            whole_line(&detail)
        ));
    }
    let requirement = match step.verifies.first() {
        Some(id) => id.clone(),
        None => step.spec.join(", "),
    };
    cause_key(&format!(
        "{requirement}: {}: {}",
        failure.check,
        whole_line(&failure.message)
    ))
}

/// A failure's text without what changes from place to place (the names a
/// run creates, ids, numbers in quotes), so one cause is told once.
pub fn cause_key(what: &str) -> String {
    static VOLATILE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(?i)scimcheck-[0-9a-f]{10}-\d+[^"\s,)]*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"[0-9a-f]{6,}"|"\d+"|/Users/[^\s"]+|/Groups/[^\s"]+"#,
        )
        .expect("a valid regex")
    });
    VOLATILE.replace_all(what, "…").into_owned()
}

/// How many distinct causes the failed MUST checks of a run have (setup
/// failures apart), the user's own suites included.
pub fn distinct_causes(results: &[ScenarioResult]) -> usize {
    let mut keys: Vec<String> = results
        .iter()
        .flat_map(|r| &r.steps)
        .filter(|s| !s.is_setup_failure())
        .filter_map(|s| s.failures.first().map(|f| cause_of(s, f)))
        .collect();
    keys.sort();
    keys.dedup();
    keys.len()
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

fn places(f: &Finding) -> String {
    match f.also.len() {
        0 => String::new(),
        n => format!(
            "\n       the same at {n} more place{}: {}",
            if n == 1 { "" } else { "s" },
            f.also.join(", ")
        ),
    }
}

/// A message on one line, whole, so that a detail after its first newline
/// (a schema violation, a server's words) is not lost.
fn whole_line(text: &str) -> String {
    crate::check::shorten(&crate::check::one_line(text), 400)
}

/// `1 scenario`, `2 scenarios`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The verdicts as the terminal shows them, secrets redacted. `partial`:
/// the run left out some of the built-in scenarios (filters, or only the
/// user's suites), so nothing is called ready: a clean partial run is no
/// readiness verdict.
pub fn render(verdicts: &[Verdict], secrets: &[String], partial: bool) -> String {
    let mut out = String::new();
    if verdicts.is_empty() {
        return out;
    }
    match partial {
        true => {
            let _ = writeln!(
                out,
                "\nReadiness (a partial run: only the scenarios selected, so no profile is called ready)"
            );
        }
        false => {
            let _ = writeln!(out, "\nReadiness");
        }
    }
    for v in verdicts {
        let client = v.profile.client;
        if v.ready() {
            let passed = v.scenarios - v.not_applicable.len();
            let said = match partial {
                true => format!(
                    "no blocking cause in the {} selected",
                    plural(passed, "scenario")
                ),
                false => format!("ready ({passed} scenarios passed)"),
            };
            let _ = writeln!(out, "  {client}: {said}");
        } else if v.blocking.is_empty() {
            let mut parts = Vec::new();
            if !v.skipped.is_empty() {
                parts.push(format!(
                    "{} of {} scenarios skipped",
                    v.skipped.len(),
                    v.scenarios
                ));
            }
            if !v.not_assessed.is_empty() {
                parts.push("steps not run".to_string());
            }
            if !v.setup.is_empty() {
                parts.push(plural(v.setup.len(), "fixture") + " not set up");
            }
            let _ = writeln!(out, "  {client}: not assessed: {}", parts.join(", "));
        } else {
            let _ = writeln!(
                out,
                "  {client}: not ready: {} ({} failing)",
                plural(v.blocking.len(), "blocking cause"),
                plural(v.blocking_places(), "step")
            );
        }
        for (i, f) in v.blocking.iter().enumerate() {
            let cites = if f.spec.is_empty() {
                String::new()
            } else {
                format!("   ({})", f.spec.join(", "))
            };
            let _ = writeln!(
                out,
                "    {}. {}: {}{}{cites}{}",
                i + 1,
                f.place,
                f.what,
                more(f.more),
                places(f)
            );
            if let Some(impact) = &f.impact {
                let _ = writeln!(out, "       what {client} does: {}", impact.trim());
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "       fix: {}", fix.trim());
            }
        }
        for f in &v.setup {
            let _ = writeln!(
                out,
                "    could not set up: {}: {}{}",
                f.place,
                f.what,
                places(f)
            );
        }
        for skipped in &v.skipped {
            let _ = writeln!(out, "    skipped: {skipped}");
        }
        for line in &v.not_applicable {
            let _ = writeln!(out, "    not applicable (optional, not claimed): {line}");
        }
        for line in &v.steps_not_applicable {
            let _ = writeln!(out, "    not applicable: {line}");
        }
        if !v.under_concurrency.is_empty() {
            let _ = writeln!(
                out,
                "    under concurrency (5xx only while other scenarios ran; each passed alone, so no conformance finding; --concurrency 1 runs scenarios one at a time):"
            );
            for line in &v.under_concurrency {
                let _ = writeln!(out, "    - {line}");
            }
        }
        if !v.not_assessed.is_empty() {
            let _ = writeln!(out, "    not assessed (steps not run):");
            for line in &v.not_assessed {
                let _ = writeln!(out, "    - {line}");
            }
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
                let _ = writeln!(
                    out,
                    "    - {}: {}{}{}",
                    f.place,
                    f.what,
                    more(f.more),
                    places(f).replace("\n       ", "\n      ")
                );
                if let Some(why) = &f.impact {
                    let _ = writeln!(out, "      {}", why.trim());
                }
            }
        }
    }
    printable(&redact(&out, secrets)).into_owned()
}
