//! One request, sent the same way to the target and to the model.

use serde_json::Value;

use crate::double::service::{Request, Response, Service};
use crate::http::{Client, ReceivedResponse, SentRequest};
use crate::target::{Target, encode};

/// A request below the base URL, ids already filled in for one side.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: http::Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Call {
        Call {
            method: http::Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn with(method: http::Method, path: impl Into<String>, body: Value) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Call {
        self.query.push((name.to_string(), value.into()));
        self
    }

    /// The path and query as a report shows them.
    pub fn line(&self) -> String {
        let mut line = format!("{} {}", self.method, self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            line.push(if i == 0 { '?' } else { '&' });
            line.push_str(&format!("{k}={v}"));
        }
        line
    }

    /// As the target receives it: its credentials and headers, the body as
    /// `application/scim+json` (no charset, as Entra sends it).
    pub fn to_target(&self, target: &Target) -> SentRequest {
        let mut url = format!("{}{}", target.base_url, self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{}={}", encode(k), encode(v)));
        }
        let mut headers = target.request_headers();
        headers.push(("Accept".into(), "application/scim+json".into()));
        if self.body.is_some() {
            headers.push(("Content-Type".into(), "application/scim+json".into()));
        }
        headers.extend(self.headers.iter().cloned());
        SentRequest {
            method: self.method.clone(),
            url,
            headers,
            body: self.body.as_ref().map(|b| b.to_string().into_bytes()),
        }
    }

    fn to_model(&self) -> Request {
        Request {
            method: self.method.to_string(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .chain(std::iter::once((
                    "content-type".to_string(),
                    "application/scim+json".to_string(),
                )))
                .collect(),
            body: self
                .body
                .as_ref()
                .map(|b| b.to_string().into_bytes())
                .unwrap_or_default(),
        }
    }
}

/// The model's answer.
pub fn model(service: &mut Service, call: &Call) -> Response {
    service.handle(&call.to_model())
}

/// The target's answer, or why none came.
pub async fn target(
    client: &Client,
    target: &Target,
    call: &Call,
    stop: &crate::interrupt::Interrupt,
) -> Result<ReceivedResponse, String> {
    let exchange = client.send_until(call.to_target(target), stop).await;
    exchange.response.map_err(|e| e.to_string())
}

/// A target's answer, read as JSON where it is.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The body's first bytes (or why no answer came), decoded for a report
    /// only when one is written: [`Answer::text`].
    head: Vec<u8>,
}

/// The `id` a resource body carries.
pub fn id_of(body: Option<&Value>) -> Option<&str> {
    body.and_then(|b| b.get("id")).and_then(Value::as_str)
}

impl Answer {
    /// The answer, or status 0 with why none came.
    pub fn of_result(response: &Result<ReceivedResponse, String>) -> Answer {
        response
            .as_ref()
            .map(Answer::of)
            .unwrap_or_else(|e| Answer::none(0, e))
    }

    /// No answer (or one not kept): a status and what to show for it.
    pub fn none(status: u16, why: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: None,
            head: why.as_bytes().to_vec(),
        }
    }

    /// The body as text, cut to 400 characters, for the report.
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.head);
        match text.char_indices().nth(400) {
            Some((end, _)) => text[..end].to_string(),
            None => text.into_owned(),
        }
    }

    pub fn of(response: &ReceivedResponse) -> Answer {
        Answer {
            status: response.status,
            headers: response.headers.clone(),
            body: serde_json::from_slice(&response.body).ok(),
            // 400 characters take at most 1,600 bytes.
            head: response.body[..response.body.len().min(1600)].to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
