//! Evaluates a parsed expression against one source object (a user or a
//! group as Entra sees it). Guid, Now and RandomString come from the
//! [`Env`], seeded per run, so a replay sends the same values every time
//! it is derived again with the same seed.

use super::functions::{self, Evaluate};
use super::parse::{CompareOp, Expr, ExprKind};
use super::value::Value;

/// Where attribute values come from.
pub trait Source {
    /// The attribute's value; None when the object does not have it.
    fn attribute(&self, name: &str) -> Option<Value>;
}

pub use super::context::{Env, ErrorKind, EvalError};

pub struct Evaluator<'e, 's> {
    pub env: &'e Env<'e>,
    pub source: &'s dyn Source,
}

impl Evaluate for Evaluator<'_, '_> {
    fn eval(&self, expr: &Expr) -> Result<Value, EvalError> {
        Evaluator::eval(self, expr)
    }

    fn env(&self) -> &Env<'_> {
        self.env
    }
}

impl Evaluator<'_, '_> {
    pub fn eval(&self, expr: &Expr) -> Result<Value, EvalError> {
        match &expr.kind {
            ExprKind::Attribute(name) => Ok(self.source.attribute(name).unwrap_or(Value::Null)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Num(n) => Ok(Value::Num(*n)),
            ExprKind::Name(name) => Ok(Value::Str(name.clone())),
            ExprKind::Omitted => Ok(Value::Null),
            ExprKind::Call { name, args } => {
                let value = functions::call(self, name, args, expr.pos)?;
                bounded(value, name, expr.pos)
            }
            ExprKind::Compare { op, left, right } => {
                let l = self.eval(left)?;
                let r = self.eval(right)?;
                compare(*op, &l, &r, expr.pos).map(Value::Bool)
            }
        }
    }
}

/// The most text one function may return: far above what any attribute
/// holds, far below what a machine holds (30 nested `Replace(.., "$1$1")`
/// double a value 30 times).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The text a value holds, in bytes (a multi-valued one: all of it).
fn size(value: &Value) -> usize {
    match value {
        Value::Str(s) => s.len(),
        Value::Multi(items) => items.iter().map(size).sum(),
        Value::Json(json) => json.to_string().len(),
        _ => 0,
    }
}

/// `value`, unless it is larger than [`MAX_VALUE_BYTES`]: then the
/// expression is refused (bad input), never evaluated further.
fn bounded(value: Value, function: &str, pos: usize) -> Result<Value, EvalError> {
    let bytes = size(&value);
    if bytes <= MAX_VALUE_BYTES {
        return Ok(value);
    }
    Err(EvalError {
        kind: ErrorKind::Invalid,
        pos,
        function: Some(function.to_string()),
        message: format!(
            "returns {bytes} bytes, more than the {MAX_VALUE_BYTES} scimcheck evaluates: no attribute holds that much"
        ),
    })
}

/// `a = b` and friends: as numbers when both sides are numbers, else as
/// text, case-sensitively (as Switch compares).
fn compare(op: CompareOp, l: &Value, r: &Value, pos: usize) -> Result<bool, EvalError> {
    let (Some(lt), Some(rt)) = (l.as_text(), r.as_text()) else {
        let null = if l.as_text().is_none() { l } else { r };
        return Err(EvalError {
            kind: if null.is_null() {
                ErrorKind::EntraFails
            } else {
                ErrorKind::Invalid
            },
            pos,
            function: None,
            message: format!(
                "`{}` compares {}: Entra's condition check fails on a null or non-text value",
                op.symbol(),
                null.kind()
            ),
        });
    };
    let ordering = match (lt.trim().parse::<i64>(), rt.trim().parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => lt.cmp(&rt),
    };
    Ok(match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Ge => ordering.is_ge(),
    })
}
