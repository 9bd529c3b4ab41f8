//! A problem in a customer's Entra export, with the JSON path where it is:
//! what the export's reader and its scoping filters report.

use std::fmt;

/// A problem in the export, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError {
    /// `synchronizationRules[0].objectMappings[0].attributeMappings[6].source.expression`
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}
