//! Generators: suites derived from what a client is configured to send.
//! A generator knows nothing of exec, http, check or report.

pub mod entra;
pub mod okta;
pub mod write;

/// A JSON syntax error as one line: where, then what.
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = match text.rfind(" at line ") {
        Some(cut) => &text[..cut],
        None => &text,
    };
    format!(
        "not JSON (line {}, column {}): {what}",
        e.line(),
        e.column()
    )
}
