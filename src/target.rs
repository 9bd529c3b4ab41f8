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

    /// Every string that must never be printed: each credential however it
    /// was given (`--token`, `--basic`, any `--header`, an `Authorization`
    /// header's credential after its scheme, a Basic credential decoded), and
    /// the forms a server may echo it in (percent-encoded, base64,
    /// JSON-escaped). Letter case is ignored when redacting.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => secrets.push(token.clone()),
            Auth::Basic { user, password } => {
                secrets.push(password.clone());
                secrets.push(format!("{user}:{password}"));
            }
        }
        let headers = self
            .authorization()
            .into_iter()
            .chain(self.headers.iter().map(|(_, v)| v.clone()));
        for value in headers {
            // `Bearer x` prints as `Bearer ***`: the scheme is no secret.
            match credential_parts(&value) {
                parts if parts.is_empty() => secrets.push(value),
                parts => secrets.extend(parts),
            }
        }
        let encoded: Vec<String> = secrets
            .iter()
            .filter(|s| s.chars().count() >= SHORT_SECRET)
            .flat_map(|s| encodings(s))
            .collect();
        secrets.extend(encoded);
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret inside another (a password inside its
        // base64 credential) does not leave the rest of the longer one visible.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        secrets
    }
}

/// The credential inside a header value: what follows a known auth scheme
/// (`Bearer x`, `Token x`, `SSWS x`), and for `Basic`, the decoded
/// `user:password` and the password; nothing for any other value, which is
/// a secret whole.
fn credential_parts(value: &str) -> Vec<String> {
    let Some((scheme, credential)) = value.trim().split_once(' ') else {
        return Vec::new();
    };
    let credential = credential.trim();
    const SCHEMES: [&str; 8] = [
        "bearer",
        "basic",
        "token",
        "ssws",
        "apikey",
        "api-key",
        "digest",
        "negotiate",
    ];
    if !SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)) || credential.is_empty() {
        return Vec::new();
    }
    let mut parts = vec![credential.to_string()];
    if scheme.eq_ignore_ascii_case("basic")
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credential)
        && let Ok(decoded) = String::from_utf8(decoded)
    {
        if let Some((_, password)) = decoded.split_once(':') {
            parts.push(password.to_string());
        }
        parts.push(decoded);
    }
    parts
}

/// The forms a server may echo a secret in: percent-encoded (a query, a
/// form), base64 (standard and URL-safe, padded or not), JSON-escaped
/// (`\/` as PHP writes it, and serde's escapes).
fn encodings(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut out = vec![
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        encode(secret),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        secret.replace('/', "\\/"),
    ];
    if let Ok(json) = serde_json::to_string(secret) {
        out.push(json.trim_matches('"').to_string());
    }
    out.retain(|form| form != secret);
    out
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
        let long = secret.chars().count() >= SHORT_SECRET;
        if !long && !out.contains(secret.as_str()) {
            continue;
        }
        out = if secret.chars().count() >= SHORT_SECRET {
            replace_ignoring_case(&out, secret)
        } else {
            replace_standalone(&out, secret)
        };
    }
    out
}

/// `text` with every occurrence of `secret`, in any ASCII letter case,
/// replaced by `***` (a server may echo a token upper-cased).
fn replace_ignoring_case(text: &str, secret: &str) -> String {
    // ASCII lower-casing keeps every byte offset.
    let haystack = text.to_ascii_lowercase();
    let needle = secret.to_ascii_lowercase();
    if !haystack.contains(&needle) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(at) = haystack[from..].find(&needle) {
        let start = from + at;
        out.push_str(&text[from..start]);
        out.push_str("***");
        from = start + needle.len();
    }
    out.push_str(&text[from..]);
    out
}

/// Redacts a response as it arrives, before anything can cut, parse or print
/// it: every long secret (see [`SHORT_SECRET`]) in any letter case becomes
/// `***`, which keeps a JSON body JSON (a secret sits inside a string).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    pattern: Option<regex::bytes::Regex>,
}

impl Redactor {
    pub fn new(secrets: &[String]) -> Redactor {
        let long: Vec<String> = secrets
            .iter()
            .filter(|s| s.chars().count() >= SHORT_SECRET)
            .map(|s| regex::escape(s))
            .collect();
        if long.is_empty() {
            return Redactor::default();
        }
        // Longest first: an alternation takes the first branch that matches.
        let pattern = format!("(?i-u:{})", long.join("|"));
        Redactor {
            pattern: regex::bytes::Regex::new(&pattern).ok(),
        }
    }

    pub fn bytes(&self, data: Vec<u8>) -> Vec<u8> {
        match &self.pattern {
            Some(p) if p.is_match(&data) => p.replace_all(&data, &b"***"[..]).into_owned(),
            _ => data,
        }
    }

    pub fn text(&self, text: String) -> String {
        match &self.pattern {
            Some(p) if p.is_match(text.as_bytes()) => {
                String::from_utf8_lossy(&p.replace_all(text.as_bytes(), &b"***"[..])).into_owned()
            }
            _ => text,
        }
    }
}

/// Text from a server made safe for a terminal: control characters (ESC,
/// OSC, BEL, NUL, C1) and bidirectional overrides are shown as escapes,
/// newlines and tabs kept.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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

/// Everything but RFC 3986's unreserved characters is percent-encoded, spaces
/// as `%20` (not `+`), as the provisioning clients send them.
const QUERY_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query value as the provisioning clients send it.
pub(crate) fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_COMPONENT).to_string()
}

/// Whether the base URL's host is this machine (localhost, 127.0.0.0/8,
/// ::1): where scimcheck may create many resources without asking.
pub fn is_loopback(base_url: &str) -> bool {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', '?'])
        .next()
        .unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_credential_and_its_encodings_are_secrets_matched_in_any_case() {
        let mut target = Target::new("http://127.0.0.1:1");
        target.headers.push((
            "Authorization".into(),
            "Bearer eyJhbGci.OiJI/UzI1+Ni".into(),
        ));
        let secrets = target.secrets();
        let echoed = "token eyJhbGci.OiJI/UzI1+Ni, EYJHBGCI.OIJI/UZI1+NI, \
                      eyJhbGci.OiJI%2FUzI1%2BNi, eyJhbGci.OiJI\\/UzI1+Ni, ZXlKaGJHY2kuT2lKSS9VekkxK05p";
        let redacted = redact(echoed, &secrets);
        assert!(
            !redacted.to_ascii_lowercase().contains("eyjhbgci"),
            "{redacted}"
        );
        assert!(!redacted.contains("ZXlKaGJHY2k"), "{redacted}");
        // Basic given as a header: the password and the pair are secrets too.
        let mut target = Target::new("http://127.0.0.1:1");
        let basic = base64::engine::general_purpose::STANDARD.encode("alice:pw-9f8e7d6c");
        target
            .headers
            .push(("Authorization".into(), format!("Basic {basic}")));
        assert!(target.secrets().contains(&"pw-9f8e7d6c".to_string()));
    }

    #[test]
    fn a_response_is_redacted_as_it_arrives_and_stays_json() {
        let redactor = Redactor::new(&["s3cr3t-token-value".into()]);
        let body = br#"{"echo":"Bearer S3CR3T-TOKEN-VALUE","n":1}"#.to_vec();
        let clean = redactor.bytes(body);
        assert_eq!(clean, br#"{"echo":"Bearer ***","n":1}"#);
        let _: serde_json::Value = serde_json::from_slice(&clean).unwrap();
    }

    #[test]
    fn terminal_output_escapes_control_characters() {
        assert_eq!(
            printable("ok\n\u{1b}]0;pwned\u{7}\u{0}\u{202E}x"),
            "ok\n\\u{1b}]0;pwned\\u{7}\\u{0}\\u{202e}x"
        );
        assert!(matches!(
            printable("plain\ttext"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

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

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode(r#"userName eq "a+b@x""#),
            "userName%20eq%20%22a%2Bb%40x%22"
        );
    }
}
