//! The SCIM vocabulary, pure and without I/O: the attribute model of the
//! core schemas (RFC 7643), the filter grammar with its attribute paths
//! (RFC 7644 3.4.2.2) and the value paths of PATCH (RFC 7644 3.5.2). The
//! double serves with it, the checks read the target's requests and answers
//! with it, and the Entra replay reads its mappings' targets with it.

pub mod filter;
pub mod path;
pub mod schema;
