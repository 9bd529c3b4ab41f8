//! A request and a response as the double's service sees them: below the
//! HTTP server (hyper, wiremock) and above the SCIM logic, so that every part
//! of the service (resources, Bulk, discovery) speaks them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ScimError;

/// A request, as the double sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path below the base URL, such as `/Users/42`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Request headers as the service reads them: lower-case names, text values.
pub fn header_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Response {
    pub(super) fn json(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(super) fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(super) fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

impl From<ScimError> for Response {
    fn from(error: ScimError) -> Response {
        Response::json(error.status, error.to_json())
    }
}
