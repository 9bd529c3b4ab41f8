//! Generators: suites derived from what a client is configured to send
//! (an Entra export or log, an Okta mapping) or from what a server declares
//! (its /Schemas and /ResourceTypes). A generator knows nothing of exec,
//! http, check or report.

pub mod entra;
pub mod okta;
pub mod run_unique;
pub mod schema;
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

/// `Zoë.Åberg-2` → `zo___berg_2`: letters and digits kept (lower case),
/// anything else `_`; for scenario and step ids made from names.
pub fn identifier(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}
