//! Answers that say an optional feature is not offered, beyond the statuses
//! a step lists in `not_offered`.
//!
//! RFC 7644 3.4.2.2 lets a service provider refuse any "attribute and filter
//! comparison combination" it does not support with 400 `invalidFilter`
//! (Table 9), and real ones do (AWS IAM Identity Center takes only `eq` and
//! `and`). The clients scimcheck speaks for send only `eq` and `and`
//! (Entra; Okta only `eq`), so those stay required; anything else a filter
//! uses is optional: refused with `invalidFilter` it is told as not offered,
//! and once accepted it must work.

use serde_json::Value;

use crate::http::{ReceivedResponse, SentRequest};
use crate::scim::filter::Filter;

/// Why the answer says the request's filter used an optional part of the
/// grammar that the server does not offer; `None` when it does not say so.
pub fn optional_filter_refused(
    request: &SentRequest,
    response: &ReceivedResponse,
) -> Option<String> {
    if response.status != 400 || scim_type(&response.body).as_deref() != Some("invalidFilter") {
        return None;
    }
    let text = filter_of(request)?;
    let filter = Filter::parse(&text).ok()?;
    let used = filter.beyond_eq_and();
    if used.is_empty() {
        return None;
    }
    Some(format!(
        "answered 400 invalidFilter to a filter using {}: the service provider does not offer this optional part of the filter grammar (RFC 7644 3.4.2.2, Table 9; no deviation)",
        used.join(", ")
    ))
}

fn scim_type(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("scimType")?.as_str().map(str::to_owned)
}

/// The filter a list (`?filter=`) or a search (`POST .../.search`) carries.
fn filter_of(request: &SentRequest) -> Option<String> {
    let url = reqwest::Url::parse(&request.url).ok()?;
    if let Some((_, text)) = url.query_pairs().find(|(k, _)| k == "filter") {
        return Some(text.into_owned());
    }
    if url.path().ends_with("/.search") {
        let body: Value = serde_json::from_slice(request.body.as_deref()?).ok()?;
        return body.get("filter")?.as_str().map(str::to_owned);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> SentRequest {
        SentRequest {
            method: http::Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    fn refused() -> ReceivedResponse {
        ReceivedResponse {
            status: 400,
            headers: Vec::new(),
            body: br#"{"status":"400","scimType":"invalidFilter"}"#.to_vec(),
            dropped: 0,
        }
    }

    #[test]
    fn an_optional_operator_refused_with_invalid_filter_is_not_offered() {
        let request =
            get("http://127.0.0.1/Users?filter=userName%20sw%20%22a%22%20and%20not%20(title%20pr)");
        let why = optional_filter_refused(&request, &refused()).unwrap();
        assert!(why.contains("not, pr, sw"), "{why}");
    }

    #[test]
    fn eq_and_and_stay_required() {
        let request = get(
            "http://127.0.0.1/Users?filter=userName%20eq%20%22a%22%20and%20externalId%20eq%20%22b%22",
        );
        assert_eq!(optional_filter_refused(&request, &refused()), None);
    }

    #[test]
    fn another_answer_or_no_filter_is_not_a_refusal() {
        let request = get("http://127.0.0.1/Users?filter=userName%20co%20%22a%22");
        let mut other = refused();
        other.body = br#"{"status":"400","scimType":"invalidValue"}"#.to_vec();
        assert_eq!(optional_filter_refused(&request, &other), None);
        other.status = 500;
        assert_eq!(optional_filter_refused(&request, &other), None);
        assert_eq!(
            optional_filter_refused(&get("http://127.0.0.1/Users"), &refused()),
            None
        );
    }

    #[test]
    fn a_search_body_is_read_too() {
        let mut request = get("http://127.0.0.1/Users/.search");
        request.method = http::Method::POST;
        request.body = Some(br#"{"filter":"emails[type eq \"work\"]"}"#.to_vec());
        let why = optional_filter_refused(&request, &refused()).unwrap();
        assert!(why.contains("value paths"), "{why}");
    }
}
