//! What Microsoft Entra ID sends, derived from a customer's own
//! provisioning configuration: the expression language ([`expr`]).

pub mod expr;
