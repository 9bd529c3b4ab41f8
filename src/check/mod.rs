//! The checks a step's response is held to: status, headers, JSON
//! predicates, JSON Schema, snapshot, empty body. Each failed check becomes a
//! [`Failure`] that points at the suite line that asked for it.

pub mod expectation;
pub mod predicate;
pub mod refusal;
pub mod schema;
pub mod snapshot;

use serde_json::Value;

use crate::diagnostic::Span;
use crate::http::ReceivedResponse;
use crate::normalize::Normalizer;
use crate::template::Scope;
use expectation::{Expectation, ExpectationKind};
use predicate::evaluate;
use schema::SchemaSet;
use snapshot::{SnapshotOutcome, SnapshotStore};

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What was checked, such as `status` or `json /active`.
    pub check: String,
    pub message: String,
    pub span: Option<Span>,
}

/// What the checks need besides the response.
pub struct CheckContext<'a> {
    pub scope: &'a Scope,
    pub schemas: &'a SchemaSet,
    pub snapshots: &'a SnapshotStore,
    pub suite_slug: &'a str,
    pub source_name: &'a str,
    pub normalizer: &'a Normalizer,
}

/// What checking one level of a step's expectations found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub failures: Vec<Failure>,
    /// Checks not evaluated because the status they presume did not come
    /// (the schema of a resource never returned is no second finding).
    pub not_evaluated: Vec<String>,
}

impl Checked {
    /// Whether the status this level asked for was wrong.
    pub fn status_failed(&self) -> bool {
        self.failures.iter().any(|f| f.check == "status")
    }
}

/// Checks a response: the status first, and the other checks only when it
/// is one of those asked for, since they describe the answer of that status.
pub fn check_response(
    expectations: &[Expectation],
    response: &ReceivedResponse,
    ctx: &CheckContext<'_>,
) -> Checked {
    let (status, rest): (Vec<&Expectation>, Vec<&Expectation>) = expectations
        .iter()
        .partition(|e| matches!(e.kind, ExpectationKind::Status(_)));
    let failures = check_each(status.into_iter(), response, ctx);
    if !failures.is_empty() {
        let mut not_evaluated: Vec<String> = Vec::new();
        for e in rest {
            let label = e.kind.label();
            if !not_evaluated.contains(&label) {
                not_evaluated.push(label);
            }
        }
        return Checked {
            failures,
            not_evaluated,
        };
    }
    // A 204 returns no resource: what it would have held is not evaluated.
    let (rest, not_returned): (Vec<&Expectation>, Vec<&Expectation>) = rest
        .into_iter()
        .partition(|e| response.status != 204 || !e.kind.is_returned());
    let mut not_evaluated: Vec<String> = Vec::new();
    for e in not_returned {
        let label = e.kind.label();
        if !not_evaluated.contains(&label) {
            not_evaluated.push(label);
        }
    }
    Checked {
        failures: check_each(rest.into_iter(), response, ctx),
        not_evaluated,
    }
}

fn check_each<'e>(
    expectations: impl Iterator<Item = &'e Expectation>,
    response: &ReceivedResponse,
    ctx: &CheckContext<'_>,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    let body: Option<Result<Value, String>> = (!response.body.is_empty()).then(|| {
        response.json().map_err(|e| {
            format!(
                "the body is not JSON ({e}; content-type {}): {}",
                response.header("content-type").unwrap_or("none"),
                excerpt(&response.body)
            )
        })
    });
    let mut body_complaint_made = false;
    for expectation in expectations {
        let fail = |check: String, message: String| Failure {
            check,
            message,
            span: Some(expectation.span.clone()),
        };
        // The JSON checks need a JSON body; say once why there is none.
        let json_body =
            |failures: &mut Vec<Failure>, check: &str, made: &mut bool| -> Option<Value> {
                match &body {
                    Some(Ok(v)) => Some(v.clone()),
                    Some(Err(why)) => {
                        if !*made {
                            failures.push(fail(check.to_string(), why.clone()));
                            *made = true;
                        }
                        None
                    }
                    None => None,
                }
            };
        match &expectation.kind {
            ExpectationKind::Status(accepted) => {
                if !accepted.contains(&response.status) {
                    let wanted = accepted
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ");
                    // The server's own words, whole: they usually name the cause.
                    let detail = match &body {
                        Some(Ok(v)) => v
                            .get("detail")
                            .and_then(Value::as_str)
                            .map(|d| format!(" (detail: {})", one_line(d)))
                            .unwrap_or_default(),
                        Some(Err(_)) => format!(
                            " (a {} body, not JSON: {})",
                            response.header("content-type").unwrap_or("no content-type"),
                            excerpt(&response.body)
                        ),
                        _ => String::new(),
                    };
                    // scimcheck follows redirects within the target's origin
                    // only: one elsewhere is the answer, and is said so.
                    let redirect = match response.header("location") {
                        Some(to) if (300..400).contains(&response.status) => format!(
                            " (a redirect to {}, not followed: scimcheck sends credentials to the target's origin only)",
                            one_line(to)
                        ),
                        _ => String::new(),
                    };
                    failures.push(fail(
                        expectation.kind.label(),
                        format!(
                            "expected {wanted}, got {}{redirect}{detail}",
                            response.status
                        ),
                    ));
                }
            }
            ExpectationKind::Header { name, predicates } => {
                let check = expectation.kind.label();
                let actual = response.header(name).map(|v| Value::String(v.to_string()));
                for p in predicates {
                    match evaluate(p, actual.as_ref(), ctx.scope) {
                        Ok(Ok(())) => {}
                        Ok(Err(why)) => failures.push(fail(check.clone(), why)),
                        Err(missing) => failures.push(fail(check.clone(), missing.to_string())),
                    }
                }
            }
            ExpectationKind::Json {
                pointer,
                predicates,
                ..
            } => {
                let check = expectation.kind.label();
                let value = json_body(&mut failures, &check, &mut body_complaint_made);
                if body.as_ref().is_some_and(|b| b.is_err()) {
                    continue;
                }
                let actual = value.as_ref().and_then(|v| v.pointer(pointer));
                for p in predicates {
                    match evaluate(p, actual, ctx.scope) {
                        Ok(Ok(())) => {}
                        Ok(Err(why)) => failures.push(fail(check.clone(), why)),
                        Err(missing) => failures.push(fail(check.clone(), missing.to_string())),
                    }
                }
            }
            ExpectationKind::Schema(name) => {
                let check = expectation.kind.label();
                match json_body(&mut failures, &check, &mut body_complaint_made) {
                    Some(v) => {
                        let violations = ctx.schemas.violations(name, &v);
                        if !violations.is_empty() {
                            failures.push(fail(
                                check,
                                format!(
                                    "{} violation(s):\n{}",
                                    violations.len(),
                                    violations
                                        .iter()
                                        .map(|v| format!("    {v}"))
                                        .collect::<Vec<_>>()
                                        .join("\n")
                                ),
                            ));
                        }
                    }
                    None if body.is_none() => {
                        failures.push(fail(check, "expected a JSON body, got none".into()))
                    }
                    None => {}
                }
            }
            ExpectationKind::Snapshot(name) => {
                let check = expectation.kind.label();
                let Some(v) = json_body(&mut failures, &check, &mut body_complaint_made) else {
                    if body.is_none() {
                        failures.push(fail(check, "expected a JSON body, got none".into()));
                    }
                    continue;
                };
                let content =
                    serde_json::to_string_pretty(&ctx.normalizer.normalize(&v)).unwrap_or_default();
                match ctx.snapshots.compare(ctx.suite_slug, ctx.source_name, name, &content) {
                    Ok(SnapshotOutcome::Matches | SnapshotOutcome::Written(_)) => {}
                    Ok(SnapshotOutcome::New { pending }) => failures.push(fail(
                        check,
                        format!(
                            "no snapshot yet; the response was written to {} (accept it with `cargo insta review` or --accept-snapshots)",
                            pending.display()
                        ),
                    )),
                    Ok(SnapshotOutcome::Differs { diff, pending }) => failures.push(fail(
                        check,
                        format!("the response differs from the snapshot (new version in {}):\n{diff}", pending.display()),
                    )),
                    Err(e) => failures.push(fail(check, format!("cannot read or write the snapshot: {e}"))),
                }
            }
            ExpectationKind::EmptyBody => {
                if !response.body.is_empty() {
                    failures.push(fail(
                        expectation.kind.label(),
                        format!(
                            "expected no body, got {} bytes: {}",
                            response.body.len(),
                            excerpt(&response.body)
                        ),
                    ));
                }
            }
        }
    }
    failures
}

/// A multi-line text on one line, whole: a server's words, or a failure's
/// message whose detail follows its first newline.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The start of a body, for messages.
pub fn excerpt(body: &[u8]) -> String {
    shorten(String::from_utf8_lossy(body).trim(), 300)
}

/// `text` cut to about `max` bytes, saying how long it was.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() > max {
        format!(
            "{}… ({} bytes)",
            &text[..text.floor_char_boundary(max)],
            text.len()
        )
    } else {
        text.to_string()
    }
}
