//! Every function of Microsoft's reference for attribute-mapping
//! expressions ("Reference for writing expressions for attribute mappings
//! in Microsoft Entra ID"), with the behaviour it documents. Where the
//! reference is silent on a null input, a null comes out: Entra never
//! provisions a null, so the attribute does not flow.

use base64::Engine;
use time::{Duration, OffsetDateTime};
use unicode_normalization::UnicodeNormalization;

use super::context::{Env, ErrorKind, EvalError};
use super::dates;

/// What the functions need of the evaluator: to evaluate an argument when
/// they need it (IIF evaluates one branch), and the run's fixed values.
pub trait Evaluate {
    fn eval(&self, expr: &Expr) -> Result<Value, EvalError>;
    fn env(&self) -> &Env<'_>;
}
use super::parse::{Expr, ExprKind};
use super::value::{Role, RoleFunction, RoleSet, Value};

type Run = fn(&Call) -> Result<Value, EvalError>;

/// A function: its name as the reference spells it, how many arguments it
/// takes (None: any number from `min`), and what it does.
pub struct Function {
    pub name: &'static str,
    pub min: usize,
    pub max: Option<usize>,
    run: Run,
}

const fn f(name: &'static str, min: usize, max: Option<usize>, run: Run) -> Function {
    Function {
        name,
        min,
        max,
        run,
    }
}

pub const FUNCTIONS: &[Function] = &[
    f("Append", 2, Some(2), append),
    f("AppRoleAssignmentsComplex", 1, Some(1), |c| {
        roles(c, RoleFunction::Complex)
    }),
    f("AssertiveAppRoleAssignmentsComplex", 1, Some(1), |c| {
        roles(c, RoleFunction::Assertive)
    }),
    f("BitAnd", 2, Some(2), bit_and),
    f("CBool", 1, Some(1), cbool),
    f("CDate", 1, Some(1), cdate),
    f("Coalesce", 1, None, coalesce),
    f("ConvertToBase64", 1, Some(1), to_base64),
    f("ConvertToUTF8Hex", 1, Some(1), to_utf8_hex),
    f("Count", 1, Some(1), count),
    f("CStr", 1, Some(1), cstr),
    f("DateAdd", 3, Some(3), date_add),
    f("DateDiff", 3, Some(3), date_diff),
    f("DateFromNum", 1, Some(1), date_from_num),
    f("DefaultDomain", 0, Some(0), default_domain),
    f("FormatDateTime", 4, Some(4), format_date_time),
    f("Guid", 0, Some(0), guid),
    f("IgnoreFlowIfNullOrEmpty", 1, Some(1), ignore_flow),
    f("IIF", 3, Some(3), iif),
    f("InStr", 2, Some(4), in_str),
    f("IsNull", 1, Some(1), |c| {
        Ok(Value::Bool(c.arg(0)?.is_null()))
    }),
    f("IsNullOrEmpty", 1, Some(1), |c| {
        Ok(Value::Bool(c.arg(0)?.is_null_or_empty()))
    }),
    f("IsPresent", 1, Some(1), |c| {
        Ok(Value::Bool(!c.arg(0)?.is_null_or_empty()))
    }),
    f("IsString", 1, Some(1), is_string),
    f("Item", 2, Some(2), item),
    f("Join", 2, None, join),
    f("Left", 2, Some(2), left),
    f("Len", 1, Some(1), len),
    f("Mid", 3, Some(3), mid),
    f("NormalizeDiacritics", 1, Some(1), normalize_diacritics),
    f("Not", 1, Some(1), not),
    f("Now", 0, Some(0), |c| Ok(Value::Date(c.ev.env().now))),
    f("NumFromDate", 1, Some(1), num_from_date),
    f("PCase", 1, Some(2), pcase),
    f("RandomString", 5, Some(6), random_string),
    f("Redact", 1, Some(1), |c| c.arg(0)),
    f("RemoveDuplicates", 1, Some(1), remove_duplicates),
    f("Replace", 2, Some(7), replace),
    f("SelectUniqueValue", 2, None, select_unique_value),
    f("SingleAppRoleAssignment", 1, Some(1), |c| {
        roles(c, RoleFunction::Single)
    }),
    f("Split", 2, Some(2), split),
    f("StripSpaces", 1, Some(1), |c| {
        map_text(c, |s| s.replace(' ', ""))
    }),
    f("Switch", 2, None, switch),
    f("ToLower", 1, Some(2), |c| map_text(c, |s| s.to_lowercase())),
    f("ToUpper", 1, Some(2), |c| map_text(c, |s| s.to_uppercase())),
    f("Word", 3, Some(3), word),
];

pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Checks every call of the tree names a known function with a number of
/// arguments it takes, without evaluating anything.
pub fn check(expr: &Expr) -> Result<(), EvalError> {
    match &expr.kind {
        ExprKind::Call { name, args } => {
            let function = known(name, expr.pos)?;
            arity(function, args.len(), expr.pos)?;
            args.iter().try_for_each(check)
        }
        ExprKind::Compare { left, right, .. } => {
            check(left)?;
            check(right)
        }
        _ => Ok(()),
    }
}

fn known(name: &str, pos: usize) -> Result<&'static Function, EvalError> {
    lookup(name).ok_or_else(|| {
        let close = FUNCTIONS
            .iter()
            .map(|f| {
                (
                    strsim::levenshtein(&f.name.to_lowercase(), &name.to_lowercase()),
                    f.name,
                )
            })
            .min()
            .filter(|(d, _)| *d <= 3)
            .map(|(_, n)| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        EvalError {
            kind: ErrorKind::Invalid,
            pos,
            function: Some(name.to_string()),
            message: format!("no such function in Entra's expression language{close}"),
        }
    })
}

fn arity(function: &Function, given: usize, pos: usize) -> Result<(), EvalError> {
    let ok = given >= function.min && function.max.is_none_or(|max| given <= max);
    let even = function.name != "Switch" || given.is_multiple_of(2);
    if ok && even {
        return Ok(());
    }
    let takes = match function.max {
        Some(max) if max == function.min => format!("{max}"),
        Some(max) => format!("{} to {max}", function.min),
        None if function.name == "Switch" => {
            "an even number (source, default, then key-value pairs) of".into()
        }
        None => format!("at least {}", function.min),
    };
    Err(EvalError {
        kind: ErrorKind::Invalid,
        pos,
        function: Some(function.name.to_string()),
        message: format!("takes {takes} arguments, given {given}"),
    })
}

pub fn call(ev: &dyn Evaluate, name: &str, args: &[Expr], pos: usize) -> Result<Value, EvalError> {
    let function = known(name, pos)?;
    arity(function, args.len(), pos)?;
    (function.run)(&Call {
        ev,
        name: function.name,
        args,
        pos,
    })
}

/// One call under way: its arguments, evaluated on demand.
pub struct Call<'a> {
    ev: &'a dyn Evaluate,
    name: &'static str,
    args: &'a [Expr],
    pos: usize,
}

impl Call<'_> {
    fn arg(&self, i: usize) -> Result<Value, EvalError> {
        match self.args.get(i) {
            Some(expr) => self.ev.eval(expr),
            None => Ok(Value::Null),
        }
    }

    fn error(&self, kind: ErrorKind, message: String) -> EvalError {
        EvalError {
            kind,
            pos: self.pos,
            function: Some(self.name.to_string()),
            message,
        }
    }

    fn invalid(&self, message: impl Into<String>) -> EvalError {
        self.error(ErrorKind::Invalid, message.into())
    }

    /// Argument `i` as text; None when null or left out.
    fn text(&self, i: usize) -> Result<Option<String>, EvalError> {
        let value = self.arg(i)?;
        if value.is_null() {
            return Ok(None);
        }
        value.as_text().map(Some).ok_or_else(|| {
            self.invalid(format!(
                "argument {} is {}, where text is expected",
                i + 1,
                value.kind()
            ))
        })
    }

    fn num(&self, i: usize) -> Result<Option<i64>, EvalError> {
        match self.arg(i)? {
            Value::Null => Ok(None),
            Value::Num(n) => Ok(Some(n)),
            Value::Bool(b) => Ok(Some(i64::from(b))),
            other => {
                let text = other.as_text().unwrap_or_default();
                text.trim().parse().map(Some).map_err(|_| {
                    self.error(
                        ErrorKind::EntraFails,
                        format!("argument {} is `{text}`, which is no whole number", i + 1),
                    )
                })
            }
        }
    }

    fn date(&self, i: usize) -> Result<Option<OffsetDateTime>, EvalError> {
        match self.arg(i)? {
            Value::Null => Ok(None),
            Value::Date(d) => Ok(Some(d)),
            other => {
                let text = other.as_text().unwrap_or_default();
                dates::parse_flexible(&text).map(Some).ok_or_else(|| {
                    self.error(
                        ErrorKind::EntraFails,
                        format!(
                            "argument {} is `{text}`, which is no date Entra can read",
                            i + 1
                        ),
                    )
                })
            }
        }
    }
}

fn to_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Num(n) => Some(*n != 0),
        other => match other.as_text()?.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            n => n.parse::<i64>().ok().map(|n| n != 0),
        },
    }
}

fn map_text(c: &Call, f: impl Fn(&str) -> String) -> Result<Value, EvalError> {
    Ok(c.text(0)?.map_or(Value::Null, |s| Value::Str(f(&s))))
}

fn append(c: &Call) -> Result<Value, EvalError> {
    let suffix = c.text(1)?.unwrap_or_default();
    Ok(c.text(0)?.map_or(Value::Null, |s| Value::Str(s + &suffix)))
}

fn roles(c: &Call, function: RoleFunction) -> Result<Value, EvalError> {
    let assignments = c.arg(0)?.values();
    if assignments.is_empty() {
        return Ok(Value::Null);
    }
    let mut roles = Vec::new();
    for assignment in assignments {
        let Value::Json(object) = &assignment else {
            return Err(c.invalid(format!(
                "takes [appRoleAssignments], whose values are objects; got {}",
                assignment.kind()
            )));
        };
        let field = |k: &str| {
            object
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let value = field("value");
        let display_name = match field("displayName") {
            d if d.is_empty() => value.clone(),
            d => d,
        };
        roles.push(Role {
            id: field("id"),
            value,
            display_name,
        });
    }
    // SingleAppRoleAssignment: one role; Microsoft gives no guarantee which.
    if function == RoleFunction::Single {
        roles.truncate(1);
    }
    Ok(Value::Roles(RoleSet { function, roles }))
}

fn bit_and(c: &Call) -> Result<Value, EvalError> {
    match (c.num(0)?, c.num(1)?) {
        (Some(a), Some(b)) => Ok(Value::Num(a & b)),
        _ => Ok(Value::Null),
    }
}

fn cbool(c: &Call) -> Result<Value, EvalError> {
    let value = c.arg(0)?;
    if value.is_null() {
        return Ok(Value::Null);
    }
    to_bool(&value).map(Value::Bool).ok_or_else(|| {
        c.error(
            ErrorKind::EntraFails,
            format!("{} is neither true, false nor a number", value.kind()),
        )
    })
}

fn cdate(c: &Call) -> Result<Value, EvalError> {
    Ok(c.date(0)?.map_or(Value::Null, Value::Date))
}

fn coalesce(c: &Call) -> Result<Value, EvalError> {
    for i in 0..c.args.len() {
        let value = c.arg(i)?;
        if !value.is_null() {
            return Ok(value);
        }
    }
    Ok(Value::Null)
}

fn to_base64(c: &Call) -> Result<Value, EvalError> {
    // "Unicode base64": the UTF-16LE bytes, as .NET's Encoding.Unicode.
    map_text(c, |s| {
        let bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })
}

fn to_utf8_hex(c: &Call) -> Result<Value, EvalError> {
    map_text(c, |s| s.bytes().map(|b| format!("{b:02X}")).collect())
}

fn count(c: &Call) -> Result<Value, EvalError> {
    Ok(Value::Num(c.arg(0)?.values().len() as i64))
}

fn cstr(c: &Call) -> Result<Value, EvalError> {
    Ok(c.text(0)?.map_or(Value::Null, Value::Str))
}

/// The intervals DateAdd and DateDiff take.
fn interval(c: &Call) -> Result<&'static str, EvalError> {
    let given = c.text(0)?.unwrap_or_default();
    ["yyyy", "m", "d", "ww", "h", "n", "s"]
        .into_iter()
        .find(|i| *i == given)
        .ok_or_else(|| {
            c.invalid(format!(
                "`{given}` is no interval; the intervals are yyyy, m, d, ww, h, n, s"
            ))
        })
}

fn add_months(d: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let total =
        (i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1).checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    // The day is kept, or the month's last when it has fewer days.
    let day = d.day().min(time::util::days_in_month(month, year));
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(d.replace_date(date))
}

fn date_add(c: &Call) -> Result<Value, EvalError> {
    let unit = interval(c)?;
    let (Some(n), Some(d)) = (c.num(1)?, c.date(2)?) else {
        return Ok(Value::Null);
    };
    let seconds = |per: i64| {
        n.checked_mul(per)
            .and_then(|s| d.checked_add(Duration::seconds(s)))
    };
    let out = match unit {
        "yyyy" => n.checked_mul(12).and_then(|m| add_months(d, m)),
        "m" => add_months(d, n),
        "d" => seconds(86_400),
        "ww" => seconds(604_800),
        "h" => seconds(3_600),
        "n" => seconds(60),
        _ => seconds(1),
    };
    out.map(Value::Date)
        .ok_or_else(|| c.error(ErrorKind::EntraFails, "the date leaves the calendar".into()))
}

/// Counts boundaries crossed, as VBA's DateDiff does: months between
/// 31 January and 1 February is 1; weeks are counted in Sundays.
fn date_diff(c: &Call) -> Result<Value, EvalError> {
    let unit = interval(c)?;
    let (Some(a), Some(b)) = (c.date(1)?, c.date(2)?) else {
        return Ok(Value::Null);
    };
    let (a, b) = (
        a.to_offset(time::UtcOffset::UTC),
        b.to_offset(time::UtcOffset::UTC),
    );
    let days = |d: OffsetDateTime| i64::from(d.date().to_julian_day());
    let seconds = |d: OffsetDateTime| d.unix_timestamp();
    let n = match unit {
        "yyyy" => i64::from(b.year() - a.year()),
        "m" => {
            i64::from(b.year() - a.year()) * 12 + i64::from(u8::from(b.month()))
                - i64::from(u8::from(a.month()))
        }
        "d" => days(b) - days(a),
        // Julian day 0 was a Monday: +1 makes weeks start on Sunday.
        "ww" => (days(b) + 1).div_euclid(7) - (days(a) + 1).div_euclid(7),
        "h" => seconds(b).div_euclid(3600) - seconds(a).div_euclid(3600),
        "n" => seconds(b).div_euclid(60) - seconds(a).div_euclid(60),
        _ => seconds(b) - seconds(a),
    };
    Ok(Value::Num(n))
}

fn date_from_num(c: &Call) -> Result<Value, EvalError> {
    let Some(ticks) = c.num(0)? else {
        return Ok(Value::Null);
    };
    dates::from_filetime(ticks)
        .map(Value::Date)
        .ok_or_else(|| c.error(ErrorKind::EntraFails, format!("{ticks} is no AD date")))
}

/// The tenant's default verified domain (`contoso.com`).
fn default_domain(c: &Call) -> Result<Value, EvalError> {
    c.ev.env().default_domain.clone().map(Value::Str).ok_or_else(|| {
        c.invalid("needs the tenant's default domain, which no sample user's principal name gives: pass --default-domain")
    })
}

fn format_date_time(c: &Call) -> Result<Value, EvalError> {
    let Some(source) = c.text(0)? else {
        return Ok(Value::Null);
    };
    let input = c
        .text(2)?
        .ok_or_else(|| c.invalid("the inputFormat (argument 3) is required"))?;
    let output = c
        .text(3)?
        .ok_or_else(|| c.invalid("the outputFormat (argument 4) is required"))?;
    let parsed = dates::parse_dotnet(&source, &input).ok_or_else(|| {
        c.error(
            ErrorKind::EntraFails,
            format!("`{source}` does not match the inputFormat `{input}`"),
        )
    })?;
    Ok(Value::Str(dates::format_dotnet(parsed, &output)))
}

fn guid(c: &Call) -> Result<Value, EvalError> {
    Ok(Value::Str(c.ev.env().guid()))
}

fn ignore_flow(c: &Call) -> Result<Value, EvalError> {
    let value = c.arg(0)?;
    Ok(if value.is_null_or_empty() {
        Value::IgnoreFlow
    } else {
        value
    })
}

fn iif(c: &Call) -> Result<Value, EvalError> {
    let condition = c.arg(0)?;
    if condition.is_null_or_empty() {
        // Microsoft's known limitation: the condition check fails.
        return Err(c.error(
            ErrorKind::EntraFails,
            "its condition is null or empty, and Entra's IIF then fails (a documented limitation: use Switch to test for empty values)".into(),
        ));
    }
    let truth = to_bool(&condition).ok_or_else(|| {
        c.invalid(format!(
            "its condition is {}, not true or false",
            condition.kind()
        ))
    })?;
    c.arg(if truth { 1 } else { 2 })
}

fn in_str(c: &Call) -> Result<Value, EvalError> {
    let (Some(haystack), Some(needle)) = (c.text(0)?, c.text(1)?) else {
        return Ok(Value::Null);
    };
    let start = c.num(2)?.unwrap_or(1);
    if start < 1 {
        return Err(c.invalid(format!(
            "the start position is {start}; positions start at 1"
        )));
    }
    let text_compare = c
        .text(3)?
        .is_some_and(|t| t.eq_ignore_ascii_case("vbTextCompare"));
    let fold = |s: &str| {
        if text_compare {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let chars: Vec<char> = haystack.chars().collect();
    let skip = (start as usize - 1).min(chars.len());
    let rest: String = chars[skip..].iter().collect();
    let found = fold(&rest)
        .find(&fold(&needle))
        .map(|byte| rest[..byte].chars().count() + skip + 1);
    Ok(Value::Num(found.unwrap_or(0) as i64))
}

fn is_string(c: &Call) -> Result<Value, EvalError> {
    Ok(Value::Bool(matches!(
        c.arg(0)?,
        Value::Str(_) | Value::Json(serde_json::Value::String(_))
    )))
}

fn item(c: &Call) -> Result<Value, EvalError> {
    let values = c.arg(0)?.values();
    let Some(index) = c.num(1)? else {
        return Ok(Value::Null);
    };
    if index < 1 {
        return Err(c.invalid(format!("the index is {index}; the first item is 1")));
    }
    Ok(values
        .get(index as usize - 1)
        .cloned()
        .unwrap_or(Value::Null))
}

fn join(c: &Call) -> Result<Value, EvalError> {
    let separator = c.text(0)?.unwrap_or_default();
    let mut parts = Vec::new();
    for i in 1..c.args.len() {
        for value in c.arg(i)?.values() {
            // Null and empty values are left out (the reference's
            // Join(", ", "", [surname], [givenName]) gives "Doe, John").
            if let Some(text) = value.as_text().filter(|t| !t.is_empty()) {
                parts.push(text);
            }
        }
    }
    Ok(Value::Str(parts.join(&separator)))
}

fn left(c: &Call) -> Result<Value, EvalError> {
    let text = c.text(0)?.unwrap_or_default();
    let n = c.num(1)?.unwrap_or(0);
    Ok(Value::Str(if n < 0 {
        text
    } else {
        text.chars().take(n as usize).collect()
    }))
}

fn len(c: &Call) -> Result<Value, EvalError> {
    Ok(c.text(0)?
        .map_or(Value::Null, |s| Value::Num(s.chars().count() as i64)))
}

fn mid(c: &Call) -> Result<Value, EvalError> {
    let Some(text) = c.text(0)? else {
        return Ok(Value::Null);
    };
    let start = c.num(1)?.unwrap_or(1);
    let length = c.num(2)?.unwrap_or(0);
    if start < 1 || length < 0 {
        return Err(c.invalid(format!(
            "start {start} and length {length}: the first character is 1, lengths are not negative"
        )));
    }
    Ok(Value::Str(
        text.chars()
            .skip(start as usize - 1)
            .take(length as usize)
            .collect(),
    ))
}

fn normalize_diacritics(c: &Call) -> Result<Value, EvalError> {
    map_text(c, |s| {
        let mut out = String::with_capacity(s.len());
        for ch in s.chars() {
            // Letters that are no base letter with a mark: the reference's table.
            match ch {
                'æ' | 'ǣ' => out.push_str("ae"),
                'Æ' | 'Ǣ' => out.push_str("AE"),
                'ø' | 'œ' => out.push_str("oe"),
                'Ø' | 'Œ' => out.push_str("OE"),
                'ß' => out.push_str("ss"),
                'ł' => out.push('l'),
                'Ł' => out.push('L'),
                'ı' => out.push('i'),
                _ => out.extend(ch.nfd().filter(|m| !is_combining_mark(*m))),
            }
        }
        out
    })
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn not(c: &Call) -> Result<Value, EvalError> {
    let value = c.arg(0)?;
    if value.is_null() {
        return Ok(Value::Null);
    }
    // "If source value is True, returns False. Otherwise, returns True."
    Ok(Value::Bool(to_bool(&value) != Some(true)))
}

fn num_from_date(c: &Call) -> Result<Value, EvalError> {
    Ok(c.date(0)?
        .map_or(Value::Null, |d| Value::Num(dates::to_filetime(d))))
}

fn pcase(c: &Call) -> Result<Value, EvalError> {
    let separators = c.text(1)?;
    map_text(c, |s| {
        let is_separator = |ch: char| match &separators {
            Some(set) => set.contains(ch),
            // .NET's ToTitleCase: spaces, punctuation and symbols part words.
            None => !ch.is_alphanumeric(),
        };
        let mut out = String::with_capacity(s.len());
        let mut at_word_start = true;
        for ch in s.chars() {
            if is_separator(ch) {
                out.push(ch);
                at_word_start = true;
            } else if at_word_start {
                out.extend(ch.to_uppercase());
                at_word_start = false;
            } else {
                out.extend(ch.to_lowercase());
            }
        }
        out
    })
}

/// The special characters Windows' password complexity names.
const SPECIALS: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

fn random_string(c: &Call) -> Result<Value, EvalError> {
    let mut numbers = Vec::with_capacity(5);
    for i in 0..5 {
        numbers.push(c.num(i)?.unwrap_or(0));
    }
    let (length, min_numbers, min_special, min_capital, min_lower) =
        (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]);
    let avoid = c.text(5)?.unwrap_or_default();
    if !(1..=256).contains(&length) || numbers[1..].iter().any(|n| *n < 0) {
        return Err(c.invalid(format!(
            "a length of {length} (1 to 256) and minimums that are not negative"
        )));
    }
    if min_numbers + min_special + min_capital + min_lower > length {
        return Err(c.invalid(format!(
            "the minimums add up to more than the length {length}"
        )));
    }
    let class =
        |set: &str| -> Vec<char> { set.chars().filter(|ch| !avoid.contains(*ch)).collect() };
    let digits = class("0123456789");
    let specials = class(SPECIALS);
    let capitals = class("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    let lowers = class("abcdefghijklmnopqrstuvwxyz");
    let all: Vec<char> = [&digits, &specials, &capitals, &lowers]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let env = c.ev.env();
    let pick = |set: &[char]| set[(env.next_random() % set.len() as u64) as usize];
    let mut out = Vec::new();
    for (set, n) in [
        (&digits, min_numbers),
        (&specials, min_special),
        (&capitals, min_capital),
        (&lowers, min_lower),
    ] {
        if n > 0 && set.is_empty() {
            return Err(
                c.invalid("CharactersToAvoid leaves no character of a class it asks a minimum of")
            );
        }
        out.extend((0..n).map(|_| pick(set)));
    }
    while (out.len() as i64) < length {
        out.push(pick(&all));
    }
    // Fisher-Yates, so the minimums are not always first.
    for i in (1..out.len()).rev() {
        let j = (env.next_random() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    Ok(Value::Str(out.into_iter().collect()))
}

fn remove_duplicates(c: &Call) -> Result<Value, EvalError> {
    let value = c.arg(0)?;
    if value.is_null() {
        return Ok(Value::Null);
    }
    let mut seen = Vec::new();
    for v in value.values() {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    Ok(Value::Multi(seen))
}

/// Microsoft's regexes are .NET's; the named groups `(?<name>...)` and
/// `${name}` in a replacement read the same in Rust's regex.
fn regex(c: &Call, pattern: &str) -> Result<regex::Regex, EvalError> {
    // The same few patterns are evaluated for every user: compiled once.
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
            Default::default();
    }
    if let Some(re) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = regex::Regex::new(pattern).map_err(|e| {
        c.invalid(format!(
            "the regexPattern `{pattern}` does not compile: {e}"
        ))
    })?;
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() < 256 {
            cache.insert(pattern.to_string(), re.clone());
        }
    });
    Ok(re)
}

fn replace(c: &Call) -> Result<Value, EvalError> {
    let source = c.text(0)?;
    let old = c.text(1)?;
    let pattern = c.text(2)?;
    let group = c.text(3)?;
    let replacement = c.text(4)?;
    let replacement_attribute = c.text(5)?;
    let template = c.text(6)?;
    match (old, pattern) {
        (Some(old), None) => match (replacement, template) {
            (_, Some(template)) => {
                Ok(source.map_or(Value::Null, |s| Value::Str(template.replace(&old, &s))))
            }
            (Some(new), None) => {
                Ok(source.map_or(Value::Null, |s| Value::Str(s.replace(&old, &new))))
            }
            (None, None) => Err(c.invalid("oldValue needs a replacementValue or a template")),
        },
        (None, Some(pattern)) => {
            let re = regex(c, &pattern)?;
            if let (Some(group), Some(attribute)) = (&group, replacement_attribute) {
                // The source when it has a value; otherwise the group taken
                // from the replacement attribute.
                if let Some(s) = source.filter(|s| !s.is_empty()) {
                    return Ok(Value::Str(s));
                }
                let found = re
                    .captures(&attribute)
                    .and_then(|caps| caps.name(group).map(|m| m.as_str().to_string()));
                return Ok(found.map_or(Value::Null, Value::Str));
            }
            let Some(source) = source else {
                return Ok(Value::Null);
            };
            let new = replacement.ok_or_else(|| {
                c.invalid("regexPattern needs a replacementValue or a replacementAttributeName")
            })?;
            match group {
                Some(group) => {
                    // Every match of the named group is replaced, the rest kept.
                    let mut out = String::new();
                    let mut last = 0;
                    for caps in re.captures_iter(&source) {
                        if let Some(m) = caps.name(&group) {
                            out.push_str(&source[last..m.start()]);
                            out.push_str(&new);
                            last = m.end();
                        }
                    }
                    out.push_str(&source[last..]);
                    Ok(Value::Str(out))
                }
                None => Ok(Value::Str(
                    re.replace_all(&source, new.as_str()).into_owned(),
                )),
            }
        }
        (Some(_), Some(_)) => Err(c.invalid("give oldValue or regexPattern, not both")),
        (None, None) => {
            Err(c.invalid("give an oldValue (argument 2) or a regexPattern (argument 3)"))
        }
    }
}

fn select_unique_value(c: &Call) -> Result<Value, EvalError> {
    for i in 0..c.args.len() {
        if let Some(candidate) = c.text(i)?.filter(|t| !t.is_empty())
            && !(c.ev.env().taken)(&candidate)
        {
            return Ok(Value::Str(candidate));
        }
    }
    Err(c.error(
        ErrorKind::EntraFails,
        "every value it generates is taken in the target: Entra escrows the object".into(),
    ))
}

fn split(c: &Call) -> Result<Value, EvalError> {
    let (Some(source), Some(delimiter)) = (c.text(0)?, c.text(1)?) else {
        return Ok(Value::Null);
    };
    if delimiter.is_empty() {
        return Err(c.invalid("the delimiter is empty"));
    }
    Ok(Value::Multi(
        source
            .split(delimiter.as_str())
            .map(|p| Value::Str(p.trim().to_string()))
            .collect(),
    ))
}

fn switch(c: &Call) -> Result<Value, EvalError> {
    // A null source compares as "": the reference's way to test for empty.
    let source = c.arg(0)?;
    let source = match &source {
        Value::Null => String::new(),
        other => other
            .as_text()
            .ok_or_else(|| c.invalid(format!("its source is {}, not text", other.kind())))?,
    };
    let mut i = 2;
    while i + 1 < c.args.len() {
        if c.text(i)?.unwrap_or_default() == source {
            return c.arg(i + 1);
        }
        i += 2;
    }
    c.arg(1)
}

fn word(c: &Call) -> Result<Value, EvalError> {
    let text = c.text(0)?.unwrap_or_default();
    let n = c.num(1)?.unwrap_or(0);
    let delimiters = c.text(2)?.unwrap_or_default();
    if n < 1 {
        return Ok(Value::Str(String::new()));
    }
    let word = text
        .split(|ch: char| delimiters.contains(ch))
        .filter(|w| !w.is_empty())
        .nth(n as usize - 1)
        .unwrap_or_default();
    Ok(Value::Str(word.to_string()))
}
