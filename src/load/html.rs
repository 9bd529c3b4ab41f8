//! The load report as one self-contained HTML page a vendor can hand on:
//! the verdict with its sources, latency over the run as a picture, and
//! the percentile table. Rendered from the JSON report's model, with the
//! report's own escaping; no script, no link out.

use serde_json::json;

use super::LoadReport;
use super::plot;
use super::verdict::{self, Level, Line};

const TEMPLATE: &str = include_str!("report.html");

/// What the page says about the run beside the measures.
pub struct PageInfo {
    /// The target's URL, redacted.
    pub target: String,
    pub run_id: String,
    /// What was asked, in words: users, groups, rate, connections.
    pub asked: String,
    pub p99_threshold_ms: f64,
}

pub fn render(report: &LoadReport, lines: &[Line], info: &PageInfo) -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    let model = json!({
        "target": info.target,
        "run_id": info.run_id,
        "asked": info.asked,
        "date": date,
        "failed": lines.iter().any(|l| l.level == Level::Fail) || !report.left.is_empty(),
        "report": verdict::json(report, lines),
        "latency_svg": plot::latency(&report.stats, info.p99_threshold_ms),
        "throughput_svg": plot::throughput(&report.stats),
    });
    crate::report::html::page("load.html", TEMPLATE, &model)
}
