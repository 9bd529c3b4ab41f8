//! SCIM error answers (RFC 7644 3.12).

use serde_json::{Value, json};

use crate::scim::schema::ERROR;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: u16,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> ScimError {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidSyntax", detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidValue", detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidFilter", detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidPath", detail)
    }

    pub fn no_target(detail: impl Into<String>) -> ScimError {
        ScimError::bad("noTarget", detail)
    }

    pub fn mutability(detail: impl Into<String>) -> ScimError {
        ScimError::bad("mutability", detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some("uniqueness"), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail)
    }

    /// The Error body, `status` as a string as RFC 7644 3.12 writes it.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        body
    }
}
