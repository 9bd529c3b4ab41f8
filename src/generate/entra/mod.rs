//! What Microsoft Entra ID sends, derived from a customer's own
//! provisioning configuration: the export ([`export`]) with its scoping
//! filters ([`scope`]), the expression language ([`expr`]), the sample
//! users ([`users`]) and the traffic derived as suites ([`traffic`]).

pub mod direction;
pub mod export;
pub mod expr;
pub mod log_shapes;
pub mod logs;
pub mod logs_csv;
pub mod logs_groups;
pub mod problem;
pub mod scope;
pub mod target;
pub mod traffic;
pub mod users;
pub mod validation;
