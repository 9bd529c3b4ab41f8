//! What scimcheck talks to, and how: base URL, credentials, TLS, timeouts.
//!
//! Credentials are secrets: [`Target::secrets`] lists every form in which
//! they could show up, so that reports can print `***` instead.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(String),
    Basic { user: String, password: String },
}

#[derive(Debug, Clone)]
pub struct Target {
    /// Without a trailing slash, such as `https://example.com/scim/v2`.
    pub base_url: String,
    pub auth: Auth,
    /// Extra headers sent with every request; their values count as secrets.
    pub headers: Vec<(String, String)>,
    pub insecure: bool,
    pub ca_cert: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// The most bytes of a response body read; the rest is refused.
    pub max_body: usize,
    /// How often a request answered 429 is sent again.
    pub max_retries: u32,
    /// The longest wait before a retry, whatever Retry-After asks.
    pub max_retry_wait: Duration,
    /// At most this many requests a second (None: no limit).
    pub rate: Option<f64>,
}

impl Target {
    pub fn new(base_url: &str) -> Target {
        Target {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth: Auth::None,
            headers: Vec::new(),
            insecure: false,
            ca_cert: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: 10 * 1024 * 1024,
            max_retries: 3,
            max_retry_wait: Duration::from_secs(30),
            rate: None,
        }
    }

    /// The `Authorization` header value, if any.
    pub fn authorization(&self) -> Option<String> {
        match &self.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
        }
    }

    /// The headers every authenticated request carries: Accept, the
    /// credentials and the extra headers.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![("accept".to_string(), "application/scim+json".to_string())];
        if let Some(authorization) = self.authorization() {
            headers.push(("authorization".into(), authorization));
        }
        headers.extend(self.headers.iter().cloned());
        headers
    }

    /// Every string that must never be printed.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => secrets.push(token.clone()),
            Auth::Basic { password, .. } => secrets.push(password.clone()),
        }
        if let Some(header) = self.authorization()
            && let Some((_, credential)) = header.split_once(' ')
        {
            secrets.push(credential.to_string());
        }
        secrets.extend(self.headers.iter().map(|(_, v)| v.clone()));
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret inside another (a password inside its
        // base64 credential) does not leave the rest of the longer one visible.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        secrets
    }
}

/// Secrets shorter than this could be part of ordinary words (a token `x`
/// in `example`): they are redacted only where they stand alone.
pub const SHORT_SECRET: usize = 8;

/// Replaces every secret in `text` by `***`. A secret of [`SHORT_SECRET`]
/// characters or more is replaced wherever it occurs, inside other text too
/// (a leak is a leak); a shorter one only where it stands as a value of its
/// own, not between letters, digits or token characters, so that `x` does
/// not turn `example.com` into `e***ample.com`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !out.contains(secret.as_str()) {
            continue;
        }
        out = if secret.chars().count() >= SHORT_SECRET {
            out.replace(secret.as_str(), "***")
        } else {
            replace_standalone(&out, secret)
        };
    }
    out
}

/// Characters of tokens and words: a short secret next to one of them is
/// part of something else.
fn joins(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '@')
}

fn replace_standalone(text: &str, secret: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let previous = head.chars().next_back().or(before);
        let next = tail[secret.len()..].chars().next();
        if previous.is_some_and(joins) || next.is_some_and(joins) {
            out.push_str(secret);
        } else {
            out.push_str("***");
        }
        before = secret.chars().next_back();
        rest = &tail[secret.len()..];
    }
    out.push_str(rest);
    out
}

/// Redacts every string of a JSON value in place, keys included. Structured
/// reports redact this way, never their text: a short secret (a `--header`
/// value such as `1`) would otherwise break the JSON, HTML or HAR around it.
pub fn redact_json(value: &mut serde_json::Value, secrets: &[String]) {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = redact(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, secrets)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                redact_json(&mut v, secrets);
                map.insert(redact(&key, secrets), v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_redacted_string_by_string_and_stays_json() {
        let mut value = serde_json::json!({ "count": 1, "tok1": ["a tok1 b", 11] });
        redact_json(&mut value, &["tok1".into(), "1".into()]);
        assert_eq!(
            value,
            serde_json::json!({ "count": 1, "***": ["a *** b", 11] })
        );
    }

    #[test]
    fn a_short_secret_is_redacted_where_it_stands_alone_not_inside_words() {
        let secrets = ["x".to_string(), "test".to_string()];
        assert_eq!(
            redact(
                "expected x@example.com; PASS entra::test-connection; Bearer test; token=x&y \"test\"",
                &secrets
            ),
            "expected x@example.com; PASS entra::test-connection; Bearer ***; token=***&y \"***\""
        );
        // A long one is a leak wherever it is, inside other text too.
        let long = ["s3cr3t-token-value".to_string()];
        assert_eq!(redact("echo-s3cr3t-token-value!", &long), "echo-***!");
    }

    #[test]
    fn every_form_of_a_credential_is_a_secret() {
        let mut target = Target::new("http://127.0.0.1:1/");
        assert_eq!(target.base_url, "http://127.0.0.1:1");
        target.auth = Auth::Basic {
            user: "u".into(),
            password: "pw".into(),
        };
        target.headers.push(("X-Api-Key".into(), "k3y".into()));
        let secrets = target.secrets();
        let header = target.authorization().unwrap();
        let text = format!("auth={header} key=k3y password=pw");
        assert_eq!(
            redact(&text, &secrets),
            "auth=Basic *** key=*** password=***"
        );
    }
}
