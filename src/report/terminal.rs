//! The terminal report: a line per scenario; a failure rendered like a
//! compiler error, pointing at the suite line, with the exchange excerpted.

use std::fmt::Write;

use crate::check::excerpt;
use crate::diagnostic::Span;
use crate::exec::{Outcome, ScenarioResult, StepResult};
use crate::http::Exchange;
use crate::target::{printable, redact};

/// One scenario's report, secrets redacted.
pub fn scenario(result: &ScenarioResult, secrets: &[String]) -> String {
    let mut out = String::new();
    let ms = result.elapsed.as_millis();
    match &result.outcome {
        Outcome::Passed => {
            let _ = writeln!(out, "PASS {} ({ms} ms)", result.full_name);
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(out, "SKIP {}: {reason}", result.full_name);
        }
        Outcome::Failed => {
            for (index, step) in result.steps.iter().enumerate() {
                if !step.failed() {
                    continue;
                }
                out.push_str(&failed_step(&result.full_name, step));
                if let Some(write) = write_before(&result.steps[..index], step) {
                    out.push_str(&format!(
                        "  after the write `{}` (what the read above saw of it):\n",
                        write.id
                    ));
                    out.push_str(&exchange_excerpt(
                        write.exchange.as_ref().expect("a write sent"),
                    ));
                }
            }
        }
    }
    for error in &result.under_concurrency {
        let _ = writeln!(
            out,
            "  under concurrency (no conformance finding: it did not recur when the scenario ran again alone, as above): {error}"
        );
    }
    out.push_str(&not_run(result));
    // SHOULD and INFO findings, one line each, whatever the outcome.
    for step in &result.steps {
        for (level, findings) in [
            ("advice (SHOULD, not blocking)", &step.advice),
            ("info (for the record, no deviation)", &step.notes),
        ] {
            for f in findings {
                let first = f.message.lines().next().unwrap_or_default();
                let _ = writeln!(out, "  {level} {} › {}: {first}", step.id, f.check);
            }
        }
    }
    printable(&redact(&out, secrets)).into_owned()
}

fn failed_step(scenario: &str, step: &StepResult) -> String {
    let mut out = String::new();
    let cites = if step.spec.is_empty() {
        String::new()
    } else {
        format!("   ({})", step.spec.join(", "))
    };
    if step.is_setup_failure() {
        // Preparation, not a requirement: no citation, no impact of what it served.
        let _ = writeln!(out, "FAIL {scenario} › {}: could not set up", step.id);
    } else {
        let _ = writeln!(out, "FAIL {scenario} › {}{cites}", step.id);
    }
    for failure in &step.failures {
        let mut lines = failure.message.lines();
        let _ = writeln!(
            out,
            "  {}: {}",
            failure.check,
            lines.next().unwrap_or_default()
        );
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(span) = &failure.span {
            out.push_str(&pointer(span));
        }
    }
    // What the client does, and the fix, as the verdict says them: the
    // user's own suites' texts too. A fixture has neither.
    if !step.is_setup_failure() {
        let (impact, fix) = step.texts();
        if let Some(impact) = impact {
            let _ = writeln!(out, "  impact: {}", impact.trim());
        }
        if let Some(fix) = fix {
            let _ = writeln!(out, "  fix: {}", fix.trim());
        }
    }
    let not_evaluated: Vec<&str> = step
        .not_evaluated
        .iter()
        .map(|(_, label)| label.as_str())
        .collect();
    if !not_evaluated.is_empty() {
        let _ = writeln!(
            out,
            "  not evaluated, as they presume the status asked for: {}",
            not_evaluated.join(", ")
        );
    }
    if let Some(exchange) = &step.exchange {
        out.push_str(&exchange_excerpt(exchange));
    }
    out
}

/// For a read whose checks failed on an answer it got, the last write sent
/// before it: a PATCH that lost a member shows only in the GET that misses
/// it, and the fix is in the PATCH.
fn write_before<'a>(earlier: &'a [StepResult], read: &StepResult) -> Option<&'a StepResult> {
    let exchange = read.exchange.as_ref()?;
    let read_answered = exchange.response.is_ok()
        && exchange.request.method == http::Method::GET
        && !read.failures.iter().any(|f| f.check == "status");
    if !read_answered {
        return None;
    }
    earlier.iter().rev().find(|s| {
        s.exchange
            .as_ref()
            .is_some_and(|e| e.request.method != http::Method::GET)
    })
}

/// The steps that did not run, grouped by what stopped them, in order, and
/// the stand-ins that let the others go on.
fn not_run(result: &ScenarioResult) -> String {
    let mut out = String::new();
    for step in &result.steps {
        if let Some(replaced) = &step.stood_in_for {
            let _ = writeln!(
                out,
                "  `{}` stood in for the failed `{replaced}`: the steps after it ran on what it created",
                step.id
            );
        }
    }
    for (why, ids) in result.not_run_groups() {
        let _ = writeln!(out, "  {}", super::left_out(None, "not run", &why, &ids));
    }
    for (why, ids) in result.not_applicable_groups() {
        let _ = writeln!(
            out,
            "  {}",
            super::left_out(None, "not applicable", &why, &ids)
        );
    }
    out
}

/// ` --> file:line:col`, the line, and a caret under the column.
fn pointer(span: &Span) -> String {
    let mut out = String::new();
    let number = span.pos.line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "  {pad}--> {}", span.location());
    if let Some(line) = span.line_text() {
        let caret_pad = " ".repeat(span.pos.column.saturating_sub(1) as usize);
        let _ = writeln!(out, "  {pad} |");
        let _ = writeln!(out, "  {number} | {line}");
        let _ = writeln!(out, "  {pad} | {caret_pad}^");
    }
    out
}

fn exchange_excerpt(exchange: &Exchange) -> String {
    let mut out = String::new();
    let ms = exchange.elapsed.as_millis();
    let request = &exchange.request;
    match &exchange.response {
        Ok(response) => {
            let _ = writeln!(
                out,
                "  {} {} -> {} {} ({ms} ms)",
                request.method,
                request.url,
                response.status,
                response
                    .header("content-type")
                    .unwrap_or("(no content-type)")
            );
        }
        Err(e) => {
            let _ = writeln!(out, "  {} {} -> {e} ({ms} ms)", request.method, request.url);
        }
    }
    for retry in &exchange.retries {
        let _ = writeln!(out, "  retried after {retry}");
    }
    if let Some(body) = &request.body {
        let _ = writeln!(out, "  request:  {}", excerpt(body));
    }
    if let Ok(response) = &exchange.response
        && !response.body.is_empty()
    {
        let _ = writeln!(out, "  response: {}", excerpt(&response.body));
    }
    out
}

/// One exchange as `--verbose` prints it while the run goes: the request,
/// then the answer, bodies excerpted, secrets redacted.
pub fn exchange(scenario: &str, step: &str, exchange: &Exchange, secrets: &[String]) -> String {
    let request = &exchange.request;
    let mut out = format!(
        "  > {scenario} › {step}: {} {}",
        request.method, request.url
    );
    if let Some(body) = request.body.as_deref().filter(|b| !b.is_empty()) {
        let _ = write!(out, " {}", excerpt(body));
    }
    out.push('\n');
    for retry in &exchange.retries {
        let _ = writeln!(out, "    ({retry})");
    }
    let ms = exchange.elapsed.as_millis();
    match &exchange.response {
        Ok(response) => {
            let _ = write!(out, "  < {} ({ms} ms)", response.status);
            if !response.body.is_empty() {
                let _ = write!(out, " {}", excerpt(&response.body));
            }
            out.push('\n');
        }
        Err(e) => {
            let _ = writeln!(out, "  < no answer ({ms} ms): {e}");
        }
    }
    printable(&redact(&out, secrets)).into_owned()
}
