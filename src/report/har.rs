//! HAR 1.2 (the HTTP Archive format browsers export) of every exchange of a
//! run, cleanups included, so a transcript can be opened in a browser's
//! developer tools or any HAR viewer.
//!
//! Each scenario is a page; each entry's `comment` names the step. A
//! request that got no answer has status 0 and the reason in `_error`, as
//! Chromium exports a failed request. Every string of the archive is
//! redacted, so no form of a secret (bearer token, basic credential,
//! `--header` value) survives, and the archive stays valid JSON.

use serde_json::{Value, json};

use crate::exec::ScenarioResult;
use crate::http::{Exchange, ReceivedResponse, SentRequest};
use crate::report::{reason_phrase, timestamp};
use crate::target::redact_json;

pub fn render(results: &[ScenarioResult], secrets: &[String]) -> String {
    let mut pages = Vec::new();
    let mut entries = Vec::new();
    for result in results {
        let mut first_start = None;
        for (step, exchange) in result.exchanges() {
            first_start.get_or_insert(exchange.started_at);
            entries.push(entry(&result.full_name, step, exchange));
        }
        // A page for every scenario that sent something.
        if let Some(start) = first_start {
            pages.push(json!({
                "startedDateTime": timestamp(start),
                "id": result.full_name,
                "title": result.full_name,
                "pageTimings": {},
            }));
        }
    }
    // What the run saw is redacted; the format's own words are not.
    let (mut pages, mut entries) = (Value::Array(pages), Value::Array(entries));
    redact_json(&mut pages, secrets);
    redact_json(&mut entries, secrets);
    let har = json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "scimcheck", "version": env!("CARGO_PKG_VERSION") },
            "pages": pages,
            "entries": entries,
        }
    });
    serde_json::to_string_pretty(&har).unwrap_or_default()
}

fn entry(page: &str, step: &str, exchange: &Exchange) -> Value {
    let ms = exchange.elapsed.as_secs_f64() * 1000.0;
    let mut entry = json!({
        "pageref": page,
        "startedDateTime": timestamp(exchange.started_at),
        "time": ms,
        "request": request(&exchange.request),
        "response": match &exchange.response {
            Ok(response) => response_of(response),
            Err(_) => no_response(),
        },
        "cache": {},
        // scimcheck does not see the phases apart; all of it is waiting.
        "timings": { "send": 0, "wait": ms, "receive": 0 },
        "comment": format!("{page} › {step}"),
    });
    if let Err(e) = &exchange.response {
        entry["_error"] = Value::String(e.to_string());
    }
    if !exchange.retries.is_empty() {
        entry["_retries"] = exchange.retries.iter().cloned().collect();
    }
    entry
}

fn request(request: &SentRequest) -> Value {
    let url = &request.url;
    let query: Vec<Value> = reqwest::Url::parse(&request.url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({ "name": k, "value": v }))
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({
        "method": request.method.as_str(),
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers(&request.headers),
        "queryString": query,
        "headersSize": -1,
        "bodySize": request.body.as_ref().map_or(0, |b| b.len()),
    });
    if let Some(body) = &request.body {
        let mime = header(&request.headers, "content-type").unwrap_or("application/octet-stream");
        out["postData"] = json!({ "mimeType": mime, "text": String::from_utf8_lossy(body) });
    }
    out
}

fn response_of(response: &ReceivedResponse) -> Value {
    let mime = response.header("content-type").unwrap_or("");
    let size = response.body.len() + response.dropped;
    let mut content = json!({
        "size": size,
        "mimeType": mime,
        "text": String::from_utf8_lossy(&response.body),
    });
    if response.dropped > 0 {
        content["comment"] = json!(format!(
            "the first {} of {size} bytes: the rest was checked, not kept",
            response.body.len()
        ));
    }
    json!({
        "status": response.status,
        "statusText": reason_phrase(response.status),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers(&response.headers),
        "content": content,
        "redirectURL": response.header("location").unwrap_or_default(),
        "headersSize": -1,
        "bodySize": size,
    })
}

fn no_response() -> Value {
    json!({
        "status": 0,
        "statusText": "",
        "httpVersion": "",
        "cookies": [],
        "headers": [],
        "content": { "size": 0, "mimeType": "" },
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    })
}

fn headers(headers: &[(String, String)]) -> Vec<Value> {
    headers
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::exec::{CleanupResult, Outcome, StepResult};
    use crate::http::TransportError;
    use std::time::{Duration, SystemTime};

    fn exchange(response: Result<ReceivedResponse, TransportError>) -> Exchange {
        Exchange {
            request: SentRequest {
                method: http::Method::POST,
                url: "http://127.0.0.1:1/Users?filter=userName%20eq%20%22a%22".into(),
                headers: vec![
                    ("authorization".into(), "Bearer s3cr3t-token".into()),
                    ("content-type".into(), "application/scim+json".into()),
                ],
                body: Some(br#"{"userName":"a","password":"s3cr3t-token"}"#.to_vec()),
            },
            response,
            elapsed: Duration::from_millis(7),
            started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            retries: Vec::new(),
        }
    }

    fn result(exchanges: Vec<Exchange>) -> ScenarioResult {
        let mut steps = Vec::new();
        for (i, e) in exchanges.into_iter().enumerate() {
            let mut step = StepResult::new(
                &format!("step{i}"),
                Span {
                    source: crate::diagnostic::Source::new("t.yaml", ""),
                    pos: Default::default(),
                },
                Vec::new(),
            );
            step.exchange = Some(e);
            steps.push(step);
        }
        ScenarioResult {
            unclaimed_feature: false,
            interrupted: false,
            profile: Some("rfc"),
            full_name: "rfc7644::users::create".into(),
            suite_source: "suites/rfc7644/users.yaml".into(),
            outcome: Outcome::Passed,
            steps,
            cleanups: vec![CleanupResult {
                exchange: None,
                read_back: None,
                problem: None,
                left_alone: false,
            }],
            elapsed: Duration::from_millis(9),
            verifies: Vec::new(),
            under_concurrency: Vec::new(),
        }
    }

    #[test]
    fn entries_follow_har_1_2_and_hide_secrets() {
        let ok = exchange(Ok(ReceivedResponse {
            dropped: 0,
            status: 201,
            headers: vec![
                ("content-type".into(), "application/scim+json".into()),
                ("location".into(), "http://127.0.0.1:1/Users/1".into()),
            ],
            body: br#"{"id":"1"}"#.to_vec(),
        }));
        let lost = exchange(Err(TransportError::Timeout(Duration::from_secs(1))));
        let text = render(&[result(vec![ok, lost])], &["s3cr3t-token".into()]);
        assert!(!text.contains("s3cr3t"), "{text}");
        let har: Value = serde_json::from_str(&text).unwrap();
        let log = &har["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["pages"][0]["id"], "rfc7644::users::create");
        assert_eq!(log["pages"][0]["startedDateTime"], "2027-01-15T08:00:00Z");
        let first = &log["entries"][0];
        assert_eq!(first["pageref"], "rfc7644::users::create");
        assert_eq!(first["request"]["method"], "POST");
        assert_eq!(
            first["request"]["queryString"][0]["value"],
            "userName eq \"a\""
        );
        assert_eq!(
            first["request"]["postData"]["mimeType"],
            "application/scim+json"
        );
        assert_eq!(first["response"]["status"], 201);
        assert_eq!(first["response"]["statusText"], "Created");
        assert_eq!(first["response"]["content"]["text"], r#"{"id":"1"}"#);
        assert_eq!(
            first["response"]["redirectURL"],
            "http://127.0.0.1:1/Users/1"
        );
        assert_eq!(first["time"], 7.0);
        assert_eq!(first["comment"], "rfc7644::users::create › step0");
        let second = &log["entries"][1];
        assert_eq!(second["response"]["status"], 0);
        assert!(
            second["_error"]
                .as_str()
                .unwrap()
                .contains("no complete response")
        );
        assert_eq!(log["entries"].as_array().unwrap().len(), 2);
    }
}
