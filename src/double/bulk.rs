//! `POST /Bulk` (RFC 7644 3.7): the operations of a BulkRequest, one after
//! the other, each through the double's own routing, with `bulkId:<id>`
//! references resolved to the ids the earlier operations created, and
//! `failOnErrors` honoured.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::wire::{Request, Response};

/// Routes one operation's request through the service, as if sent alone.
pub type Route<'a> = dyn FnMut(&Request) -> Result<Response, ScimError> + 'a;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub use super::limits::{MAX_OPERATIONS, MAX_PAYLOAD};

const METHODS: [&str; 4] = ["POST", "PUT", "PATCH", "DELETE"];

pub fn bulk(route: &mut Route, request: &Request) -> Result<Response, ScimError> {
    if request.body.len() > MAX_PAYLOAD {
        return Err(ScimError::new(
            413,
            None,
            format!("the bulk request exceeds maxPayloadSize ({MAX_PAYLOAD} bytes)"),
        ));
    }
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    let is_bulk = body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|u| u == BULK_REQUEST));
    if !is_bulk {
        return Err(ScimError::invalid_syntax(format!(
            "a bulk request lists the schema {BULK_REQUEST}"
        )));
    }
    let operations = body["Operations"]
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("a bulk request has an Operations list"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            None,
            format!("the bulk request exceeds maxOperations ({MAX_OPERATIONS})"),
        ));
    }
    let fail_on_errors = match &body["failOnErrors"] {
        Value::Null => None,
        v => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ScimError::invalid_value("failOnErrors is a positive integer"))?,
        ),
    };
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut results = Vec::new();
    let mut errors = 0;
    for operation in operations {
        let result = one(route, request, operation, &mut created);
        if result["status"]
            .as_str()
            .and_then(|s| s.parse::<u16>().ok())
            .is_none_or(|s| s >= 400)
        {
            errors += 1;
        }
        results.push(result);
        // failOnErrors: that many errors, and the rest is not attempted.
        if fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
    }
    Ok(Response {
        status: 200,
        headers: Vec::new(),
        body: Some(json!({ "schemas": [BULK_RESPONSE], "Operations": results })),
    })
}

/// One operation's result: its method, bulkId, location, version and status,
/// or the error response.
fn one(
    route: &mut Route,
    request: &Request,
    operation: &Value,
    created: &mut BTreeMap<String, String>,
) -> Value {
    let method = operation["method"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let bulk_id = operation["bulkId"].as_str().map(str::to_string);
    let mut out = Map::new();
    out.insert("method".into(), method.clone().into());
    if let Some(id) = &bulk_id {
        out.insert("bulkId".into(), id.clone().into());
    }
    let response = prepare(operation, &method, &bulk_id, created).and_then(|(path, data)| {
        let sub = Request {
            method: method.clone(),
            path,
            query: Vec::new(),
            headers: request.headers.clone(),
            body: data.map(|d| d.to_string().into_bytes()).unwrap_or_default(),
        };
        route(&sub)
    });
    let response = response.unwrap_or_else(Response::from);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if response.status < 400 {
        if let (Some(bulk_id), Some(id)) = (
            &bulk_id,
            response.body.as_ref().and_then(|b| b["id"].as_str()),
        ) && method == "POST"
        {
            created.insert(bulk_id.clone(), id.to_string());
        }
        let location = header("location").or_else(|| {
            response
                .body
                .as_ref()
                .and_then(|b| b["meta"]["location"].as_str().map(str::to_string))
        });
        if let Some(location) = location {
            out.insert("location".into(), location.into());
        }
        if let Some(version) = header("etag") {
            out.insert("version".into(), version.into());
        }
    } else if let Some(body) = response.body {
        out.insert("response".into(), body);
    }
    out.insert("status".into(), response.status.to_string().into());
    Value::Object(out)
}

/// The operation's path and data, with `bulkId:` references resolved.
fn prepare(
    operation: &Value,
    method: &str,
    bulk_id: &Option<String>,
    created: &BTreeMap<String, String>,
) -> Result<(String, Option<Value>), ScimError> {
    if !METHODS.contains(&method) {
        return Err(ScimError::invalid_value(format!(
            "a bulk operation's method is POST, PUT, PATCH or DELETE, not `{method}`"
        )));
    }
    if method == "POST" && bulk_id.is_none() {
        return Err(ScimError::invalid_value(
            "a POST operation carries a bulkId",
        ));
    }
    let path = operation["path"]
        .as_str()
        .ok_or_else(|| ScimError::invalid_value("a bulk operation has a path"))?;
    let path = resolve(&Value::String(path.into()), created)?;
    let data = match &operation["data"] {
        Value::Null => None,
        data => Some(resolve(data, created)?),
    };
    Ok((path.as_str().unwrap_or_default().to_string(), data))
}

/// `bulkId:<id>` anywhere in a string replaced by the id that operation created.
fn resolve(value: &Value, created: &BTreeMap<String, String>) -> Result<Value, ScimError> {
    Ok(match value {
        Value::String(s) => {
            let mut text = s.clone();
            while let Some(start) = text.find("bulkId:") {
                let rest = &text[start + "bulkId:".len()..];
                let end = rest
                    .find(|c: char| c == '/' || c == '"' || c.is_whitespace())
                    .unwrap_or(rest.len());
                let reference = &rest[..end];
                let id = created.get(reference).ok_or_else(|| {
                    ScimError::new(
                        409,
                        Some("invalidValue"),
                        format!("bulkId `{reference}` names no operation that created a resource"),
                    )
                })?;
                text = format!("{}{id}{}", &text[..start], &rest[end..]);
            }
            Value::String(text)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, created))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(v, created)?)))
                .collect::<Result<_, ScimError>>()?,
        ),
        other => other.clone(),
    })
}
