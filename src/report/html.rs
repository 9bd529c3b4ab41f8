//! One self-contained HTML file a vendor can hand on: the verdict per
//! profile, every check with its citation, and the request/response
//! transcript of each failure. No script, no font, no image, no link out:
//! it reads the same offline, printed, or attached to a ticket.
//!
//! It renders the JSON report's model (already redacted) through a
//! minijinja template, which escapes every value for HTML.

use minijinja::{AutoEscape, Environment, Error, Output, State, Value};

use crate::exec::ScenarioResult;
use crate::report::{RunInfo, json};

const TEMPLATE: &str = include_str!("report.html");

pub fn render(run: &RunInfo, results: &[ScenarioResult], secrets: &[String]) -> String {
    page("report.html", TEMPLATE, &json::model(run, results, secrets))
}

/// Renders an HTML template (its name ends in .html) with every value of
/// `model` escaped, by `escape_html`, except those marked safe.
pub fn page(name: &str, template: &str, model: &impl serde::Serialize) -> String {
    let mut env = Environment::new();
    env.set_formatter(escape_html);
    env.add_filter("cites", cites);
    let rendered = env
        .add_template(name, template)
        .and_then(|()| env.get_template(name))
        .and_then(|template| template.render(minijinja::value::Serde(model)));
    match rendered {
        // The model is redacted; the template adds no secret of its own.
        Ok(html) => html,
        // The template is compiled in and tested; this is a bug, told plainly.
        Err(e) => format!(
            "<!DOCTYPE html><title>scimcheck report</title><p>scimcheck could not render this report: {}</p>",
            minijinja::HtmlEscape(&e.to_string())
        ),
    }
}

/// A step's citations, comma-separated, each RFC section a link to its
/// text at rfc-editor.org (a link to follow, nothing the page fetches);
/// a client's documentation is named as it is.
fn cites(spec: Vec<String>) -> Value {
    let linked: Vec<String> = spec
        .iter()
        .map(|cite| {
            let text = escaped(cite);
            match rfc_section(cite) {
                Some((rfc, section)) => format!(
                    "<a href=\"https://www.rfc-editor.org/rfc/rfc{rfc}#section-{section}\">{text}</a>"
                ),
                None => text,
            }
        })
        .collect();
    Value::from_safe_string(linked.join(", "))
}

/// `RFC7644 3.5.2` -> (`7644`, `3.5.2`); None for anything else.
fn rfc_section(cite: &str) -> Option<(&str, &str)> {
    let (rfc, section) = cite.strip_prefix("RFC")?.split_once(' ')?;
    let digits =
        |s: &str, extra: char| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == extra);
    (digits(rfc, '0') && digits(section, '.')).then_some((rfc, section))
}

fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes what HTML needs escaped in text and quoted attributes, and no
/// more: minijinja's own escaping also turns `/` into `&#x2f;`, which leaves
/// URLs in the file unreadable and unsearchable.
fn escape_html(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let text = value.to_string();
    if value.is_safe() || *state.auto_escape() == AutoEscape::None {
        return out.write_str(&text).map_err(Error::from);
    }
    out.write_str(&escaped(&text)).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_run_renders_and_escapes_the_target() {
        let run = RunInfo::new("abc123", "http://127.0.0.1:1/<script>&'\"");
        let html = render(&run, &[], &[]);
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(
            html.contains("http://127.0.0.1:1/&lt;script&gt;&amp;&#39;&quot;"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("0 passed"), "{html}");
    }
}
