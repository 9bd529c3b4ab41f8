//! The SCIM vocabulary, pure and without I/O: the attribute model of the
//! core schemas (RFC 7643) and the filter grammar with its attribute paths
//! (RFC 7644 3.4.2.2). The double serves with it, and the checks read the
//! target's requests and answers with it.

pub mod filter;
pub mod schema;
