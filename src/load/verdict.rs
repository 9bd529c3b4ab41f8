//! Whether the endpoint takes a tenant's initial cycle, judged against what
//! Microsoft documents for Entra's provisioning service, each line with
//! its source.

use std::time::Duration;

use super::LoadReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Pass,
    /// Not blocking, worth knowing.
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub level: Level,
    pub text: String,
    pub source: &'static str,
}

/// The thresholds a verdict holds the run to.
pub struct Expectations {
    pub rate: f64,
    pub p99: Duration,
    /// `--project N`: how long an initial cycle of N users would take.
    pub project: Option<u64>,
}

/// Requests a second a gallery app is expected to sustain per tenant.
const ENTRA_MINIMUM_RATE: f64 = 25.0;
const RATE_SOURCE: &str = "Entra provisioning: gallery apps are expected to sustain at least 25 requests a second per tenant";
const RETRY_SOURCE: &str = "Entra provisioning: a 429 is retried after its Retry-After";
/// Entra quarantines a job above this many failures, whatever the ratio.
const QUARANTINE_FAILURES: u64 = 40_000;

const QUARANTINE_SOURCE: &str =
    "Entra: application provisioning quarantine (above 40 % failed, or 40,000 failures)";

pub fn judge(report: &LoadReport, expect: &Expectations) -> Vec<Line> {
    let mut lines = Vec::new();
    let stats = &report.stats;
    let (requests, failures) = stats.totals();
    lines.push(rate_line(report, expect));
    if report.refused_count > 0 {
        lines.push(Line {
            level: Level::Fail,
            text: format!(
                "{} write{} not sent: the id a create answered does not hold what the load created{}",
                report.refused_count,
                if report.refused_count == 1 { "" } else { "s" },
                report
                    .refused
                    .first()
                    .map(|why| format!(" ({why})"))
                    .unwrap_or_default()
            ),
            source: "RFC 7643 3.1: the id is issued by the service provider for the new resource, unique and never reassigned",
        });
    }
    for (op, s) in &stats.ops {
        if s.count == 0 || !op.is_entra() {
            continue;
        }
        let p99 = s.percentile(0.99);
        lines.push(Line {
            level: if p99 <= expect.p99 { Level::Pass } else { Level::Fail },
            text: format!("{}: p99 {} (at most {} ms)", op.name(), ms(p99), expect.p99.as_millis()),
            source: "scimcheck load: --p99 (Entra slows the cycle, then fails requests that time out)",
        });
    }
    let server_errors: u64 = stats
        .ops
        .values()
        .flat_map(|s| s.errors.iter())
        .filter(|(code, _)| **code >= 500)
        .map(|(_, n)| n)
        .sum();
    lines.push(Line {
        level: if server_errors == 0 { Level::Pass } else { Level::Fail },
        text: format!("{server_errors} answers 5xx under concurrency"),
        source: "RFC 7644 3.12 (a 5xx is a server failure); Entra retries it, and counts it toward quarantine",
    });
    let throttled: u64 = stats.ops.values().map(|s| s.throttled).sum();
    let without: u64 = stats
        .ops
        .values()
        .map(|s| s.throttled_without_retry_after)
        .sum();
    lines.push(Line {
        level: if without == 0 {
            Level::Pass
        } else {
            Level::Fail
        },
        text: format!("{throttled} answers 429, {without} of them without Retry-After"),
        source: RETRY_SOURCE,
    });
    if let Some(line) = members_line(report) {
        lines.push(line);
    }
    let ratio = if requests == 0 {
        0.0
    } else {
        failures as f64 / requests as f64
    };
    lines.push(Line {
        // Either of Entra's quarantine triggers: the ratio, or the count.
        level: if ratio >= 0.4 || failures >= QUARANTINE_FAILURES {
            Level::Fail
        } else if ratio > 0.01 {
            Level::Warn
        } else {
            Level::Pass
        },
        text: format!(
            "{failures} of {requests} requests failed ({:.1} %)",
            ratio * 100.0
        ),
        source: QUARANTINE_SOURCE,
    });
    if report.raw && expect.project.is_some() {
        lines.push(Line {
            level: Level::Warn,
            text: "no projection: a raw run sends match GETs only, not the creates of an initial cycle".into(),
            source: "projection: two requests a user (match, create)",
        });
    } else if let Some(users) = expect.project {
        // Two requests a user at the rate achieved, capped by Entra's own pace.
        let rate = report.achieved_rate.min(expect.rate).max(1e-9);
        let seconds = (2 * users) as f64 / rate;
        lines.push(Line {
            level: Level::Pass,
            text: format!(
                "an initial cycle of {users} users would take about {} at {rate:.1} requests a second",
                human(Duration::from_secs_f64(seconds))
            ),
            source: "projection: two requests a user (match, create)",
        });
    }
    lines
}

/// The rate asked sustained; in raw mode, which asks none (as fast as the
/// server answers), Entra's documented minimum instead.
fn rate_line(report: &LoadReport, expect: &Expectations) -> Line {
    let achieved = report.achieved_rate;
    let (sustained, text) = if report.raw {
        (
            achieved >= ENTRA_MINIMUM_RATE,
            format!(
                "{achieved:.1} requests a second achieved, as fast as the server answered (raw: no rate asked; at least {ENTRA_MINIMUM_RATE:.0} expected)"
            ),
        )
    } else {
        (
            achieved >= 0.9 * expect.rate,
            format!(
                "{achieved:.1} requests a second achieved of {:.1} asked",
                expect.rate
            ),
        )
    };
    Line {
        level: if sustained { Level::Pass } else { Level::Fail },
        text,
        source: RATE_SOURCE,
    }
}

/// Whether the members added by PATCH are in the groups read back.
fn members_line(report: &LoadReport) -> Option<Line> {
    let g = &report.groups;
    if g.members_accepted == 0 {
        return None;
    }
    let source = "RFC 7644 3.5.2.1 (add puts the values into the multi-valued attribute); Entra never reads members back, so a lost member stays lost";
    let mut text = format!(
        "{} of {} members added by PATCH are in the groups read back",
        g.members_found, g.members_accepted
    );
    let level = if !g.lost.is_empty() {
        text.push_str(&format!(
            " (lost under concurrent PATCHes: {})",
            g.lost.join("; ")
        ));
        Level::Fail
    } else if !g.without_members.is_empty() {
        text.push_str(&format!(
            "; {} groups read back without members, so not verified: {}",
            g.without_members.len(),
            g.without_members.join(", ")
        ));
        Level::Warn
    } else {
        Level::Pass
    };
    Some(Line {
        level,
        text,
        source,
    })
}

/// Milliseconds, with a decimal below 10 ms (a sub-millisecond p99 is not 0).
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// The run as text: the table of percentiles, then the verdict.
pub fn render(report: &LoadReport, lines: &[Line]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<24} {:>7} {:>6} {:>8} {:>8} {:>8} {:>9} {:>8}\n",
        "operation", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    ));
    for (op, s) in &report.stats.ops {
        if s.count == 0 {
            continue;
        }
        let ms = |p: f64| s.percentile(p).as_secs_f64() * 1000.0;
        out.push_str(&format!(
            "{:<24} {:>7} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>8.1}\n",
            op.name(),
            s.count,
            s.failed(),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(0.999),
            s.latency.max() as f64 / 1000.0
        ));
    }
    if let Some(why) = &report.stopped_early {
        out.push_str(&format!("stopped: {why}\n"));
    }
    let word = |l: Level| match l {
        Level::Pass => "PASS",
        Level::Warn => "WARN",
        Level::Fail => "FAIL",
    };
    for line in lines {
        out.push_str(&format!(
            "{} {}   ({})\n",
            word(line.level),
            line.text,
            line.source
        ));
    }
    let groups = match report.groups.created {
        0 => String::new(),
        n => format!(" and {n} groups"),
    };
    out.push_str(&format!(
        "created {} users{groups}, deleted {}, left {}\n",
        report.created,
        (report.created + report.groups.created).saturating_sub(report.left.len()),
        report.left.len()
    ));
    for path in &report.left {
        out.push_str(&format!("  left: {path}\n"));
    }
    out
}

/// The report as JSON: percentiles per operation and the per-second series.
pub fn json(report: &LoadReport, lines: &[Line]) -> serde_json::Value {
    let ops: serde_json::Map<String, serde_json::Value> = report
        .stats
        .ops
        .iter()
        .filter(|(_, s)| s.count > 0)
        .map(|(op, s)| {
            let ms = |p: f64| s.percentile(p).as_secs_f64() * 1000.0;
            (
                op.name().to_string(),
                serde_json::json!({
                    "count": s.count,
                    "failed": s.failed(),
                    "errors": s.errors.iter().map(|(k, v)| (k.to_string(), v)).collect::<std::collections::BTreeMap<_, _>>(),
                    "throttled": s.throttled,
                    "throttled_without_retry_after": s.throttled_without_retry_after,
                    "latency_ms": { "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "p99.9": ms(0.999), "max": s.latency.max() as f64 / 1000.0 },
                }),
            )
        })
        .collect();
    serde_json::json!({
        "version": 1,
        "elapsed_s": report.elapsed.as_secs_f64(),
        "achieved_rate": report.achieved_rate,
        "raw": report.raw,
        "stopped_early": report.stopped_early,
        "operations": ops,
        "per_second": { "requests": report.stats.per_second, "errors": report.stats.errors_per_second },
        "verdict": lines.iter().map(|l| serde_json::json!({
            "level": match l.level { Level::Pass => "pass", Level::Warn => "warn", Level::Fail => "fail" },
            "text": l.text,
            "source": l.source,
        })).collect::<Vec<_>>(),
        "created": report.created,
        "groups": {
            "created": report.groups.created,
            "members_accepted": report.groups.members_accepted,
            "members_found": report.groups.members_found,
            "lost": report.groups.lost,
            "without_members": report.groups.without_members,
        },
        "left": report.left,
        "refused_writes": { "count": report.refused_count, "examples": report.refused },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::{Op, Outcome, Stats};

    fn report(requests: u64, failures: u64) -> LoadReport {
        let mut stats = Stats::default();
        for n in 0..requests {
            let status = if n < failures { 500 } else { 201 };
            stats.record(
                Op::Create,
                0,
                &Outcome {
                    status: Some(status),
                    throttled: 0,
                    throttled_without_retry_after: 0,
                    latency: Duration::from_millis(5),
                },
            );
        }
        LoadReport {
            stats,
            elapsed: Duration::from_secs(1),
            achieved_rate: 25.0,
            raw: false,
            stopped_early: None,
            created: 0,
            groups: Default::default(),
            left: Vec::new(),
            refused: Vec::new(),
            refused_count: 0,
        }
    }

    fn failed_line(requests: u64, failures: u64) -> Level {
        let expect = Expectations {
            rate: 25.0,
            p99: Duration::from_secs(1),
            project: None,
        };
        let lines = judge(&report(requests, failures), &expect);
        lines
            .iter()
            .find(|l| l.text.contains("requests failed"))
            .map(|l| l.level)
            .unwrap()
    }

    #[test]
    fn either_quarantine_trigger_fails_the_run() {
        assert_eq!(failed_line(1000, 0), Level::Pass);
        assert_eq!(failed_line(1000, 50), Level::Warn);
        assert_eq!(failed_line(1000, 400), Level::Fail);
        // 20 % failed, but 40,000 failures: Entra quarantines the job.
        assert_eq!(failed_line(200_000, 40_000), Level::Fail);
        assert_eq!(failed_line(200_000, 39_999), Level::Warn);
    }

    /// A raw run asks no rate: it is held to Entra's minimum, and makes no
    /// projection of an initial cycle it did not send.
    #[test]
    fn a_raw_run_is_held_to_entras_minimum_and_projects_nothing() {
        let expect = Expectations {
            rate: 1_000_000.0,
            p99: Duration::from_secs(1),
            project: Some(50_000),
        };
        let raw = |achieved_rate: f64| LoadReport {
            raw: true,
            achieved_rate,
            ..report(1000, 0)
        };
        let fast = judge(&raw(70_000.0), &expect);
        assert_eq!(fast[0].level, Level::Pass, "{:?}", fast[0]);
        assert!(fast[0].text.contains("no rate asked"), "{:?}", fast[0]);
        assert_eq!(judge(&raw(20.0), &expect)[0].level, Level::Fail);
        let projection = fast.iter().find(|l| l.text.contains("projection")).unwrap();
        assert_eq!(projection.level, Level::Warn);
        let paced = judge(
            &report(1000, 0),
            &Expectations {
                rate: 25.0,
                ..expect
            },
        );
        assert!(paced[0].text.ends_with("of 25.0 asked"), "{:?}", paced[0]);
        assert!(
            paced
                .iter()
                .any(|l| l.text.starts_with("an initial cycle of 50000 users"))
        );
    }
}
