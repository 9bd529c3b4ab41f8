//! Scoping filters (an object mapping's `scope`): sets of groups of
//! clauses; a set holds when every clause of any one of its groups holds.
//! Graph's filter has three sets, each read: `groups` (an object that stops
//! meeting it is deprovisioned), `inputFilterGroups` (objects that do not
//! meet it are not read at all, and one that stops meeting it is left as it
//! is) and `categoryFilterGroups` (whether the object belongs to this
//! mapping). An object is in scope when every set given holds. Evaluated on
//! each sample user, so the replay can say why a user is, or is not,
//! provisioned.

use serde_json::Value;

use super::expr::Value as V;
use super::problem::ExportError;

#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// `groups`: leaving it deprovisions.
    pub groups: Vec<Group>,
    /// `inputFilterGroups`: not read unless it holds; leaving it changes nothing.
    pub input: Vec<Group>,
    /// `categoryFilterGroups`: whether the object belongs to this mapping.
    pub category: Vec<Group>,
}

/// The three sets by their key and the words a line uses for them.
const SETS: [(&str, &str); 3] = [
    ("inputFilterGroups", "input filter"),
    ("categoryFilterGroups", "category filter"),
    ("groups", "scoping filter"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub attribute: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEquals,
    IsTrue,
    IsFalse,
    IsNull,
    IsNotNull,
    RegexMatch,
    NotRegexMatch,
    GreaterThan,
    GreaterThanOrEquals,
    Includes,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        let n = name.trim().to_uppercase().replace('_', " ");
        Some(match n.as_str() {
            "EQUALS" => Operator::Equals,
            "NOT EQUALS" => Operator::NotEquals,
            "IS TRUE" => Operator::IsTrue,
            "IS FALSE" => Operator::IsFalse,
            "IS NULL" => Operator::IsNull,
            "IS NOT NULL" => Operator::IsNotNull,
            "REGEX MATCH" => Operator::RegexMatch,
            "NOT REGEX MATCH" => Operator::NotRegexMatch,
            "GREATER THAN" => Operator::GreaterThan,
            "GREATER THAN OR EQUALS" => Operator::GreaterThanOrEquals,
            "INCLUDES" => Operator::Includes,
            _ => return None,
        })
    }

    fn text(self) -> &'static str {
        match self {
            Operator::Equals => "EQUALS",
            Operator::NotEquals => "NOT EQUALS",
            Operator::IsTrue => "IS TRUE",
            Operator::IsFalse => "IS FALSE",
            Operator::IsNull => "IS NULL",
            Operator::IsNotNull => "IS NOT NULL",
            Operator::RegexMatch => "REGEX MATCH",
            Operator::NotRegexMatch => "NOT REGEX MATCH",
            Operator::GreaterThan => "Greater_Than",
            Operator::GreaterThanOrEquals => "Greater_Than_OR_EQUALS",
            Operator::Includes => "Includes",
        }
    }
}

/// The scope of an object mapping; None when it filters nothing.
pub fn read(scope: &Value, path: &str) -> Result<Option<Scope>, ExportError> {
    let [input, category, groups] = SETS.map(|(key, _)| read_set(scope, key, path));
    let scope = Scope {
        groups: groups?,
        input: input?,
        category: category?,
    };
    let filters = !(scope.groups.is_empty() && scope.input.is_empty() && scope.category.is_empty());
    Ok(filters.then_some(scope))
}

/// One set of filter groups, `scope.<key>`; empty when absent.
fn read_set(scope: &Value, key: &str, path: &str) -> Result<Vec<Group>, ExportError> {
    let Some(groups) = scope.get(key).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let path = format!("{path}.{key}");
    let path = path.as_str();
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let clauses = group
            .get("clauses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let mut read_clauses = Vec::new();
        for (c, clause) in clauses.enumerate() {
            let here = format!("{path}[{g}].clauses[{c}]");
            let operator_name = clause
                .get("operatorName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let operator = Operator::parse(operator_name).ok_or_else(|| ExportError {
                path: format!("{here}.operatorName"),
                message: format!("unknown scoping operator `{operator_name}`"),
                hint: Some("Entra's are EQUALS, NOT EQUALS, IS TRUE, IS FALSE, IS NULL, IS NOT NULL, REGEX MATCH, NOT REGEX MATCH, Greater_Than, Greater_Than_OR_EQUALS, Includes".into()),
            })?;
            let attribute = clause
                .get("sourceOperandName")
                .and_then(Value::as_str)
                .ok_or_else(|| ExportError {
                    path: here.clone(),
                    message: "a clause without sourceOperandName".into(),
                    hint: None,
                })?
                .to_string();
            let values: Vec<String> = clause
                .pointer("/targetOperand/values")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if matches!(operator, Operator::RegexMatch | Operator::NotRegexMatch) {
                for pattern in &values {
                    regex::Regex::new(pattern).map_err(|e| ExportError {
                        path: format!("{here}.targetOperand.values"),
                        message: format!("`{pattern}` is no regular expression: {e}"),
                        hint: None,
                    })?;
                }
            }
            read_clauses.push(Clause {
                attribute,
                operator,
                values,
            });
        }
        out.push(Group {
            name: group
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            clauses: read_clauses,
        });
    }
    Ok(out)
}

/// Whether the object is in scope, and why, in one line.
pub fn evaluate(scope: Option<&Scope>, attribute: &dyn Fn(&str) -> Option<V>) -> (bool, String) {
    let Some(scope) = scope else {
        return (true, "no scoping filter".into());
    };
    let mut held = Vec::new();
    for ((_, words), set) in SETS
        .iter()
        .zip([&scope.input, &scope.category, &scope.groups])
    {
        if set.is_empty() {
            continue;
        }
        match evaluate_set(set, words, attribute) {
            (true, why) => held.push(why),
            (false, why) => return (false, why),
        }
    }
    (true, held.join(", "))
}

/// Whether the object still meets the input and category filters, those
/// whose failing makes Entra leave it alone rather than deprovision it.
pub fn still_read(scope: &Scope, attribute: &dyn Fn(&str) -> Option<V>) -> bool {
    [&scope.input, &scope.category]
        .iter()
        .all(|set| set.is_empty() || evaluate_set(set, "", attribute).0)
}

fn evaluate_set(
    set: &[Group],
    words: &str,
    attribute: &dyn Fn(&str) -> Option<V>,
) -> (bool, String) {
    let mut failed = Vec::new();
    for group in set {
        match group.clauses.iter().find(|c| !holds(c, attribute)) {
            None => return (true, format!("{words} group `{}` holds", group.name)),
            Some(c) => failed.push(format!("`{}`: {}", group.name, describe(c, attribute))),
        }
    }
    (
        false,
        format!("no {words} group holds ({})", failed.join("; ")),
    )
}

fn describe(c: &Clause, attribute: &dyn Fn(&str) -> Option<V>) -> String {
    let actual = attribute(&c.attribute)
        .and_then(|v| v.as_text())
        .map_or_else(|| "null".to_string(), |t| format!("\"{t}\""));
    format!(
        "{} is {actual}, not {} {}",
        c.attribute,
        c.operator.text(),
        c.values.join(", ")
    )
}

fn holds(c: &Clause, attribute: &dyn Fn(&str) -> Option<V>) -> bool {
    let value = attribute(&c.attribute).filter(|v| !v.is_null());
    let text = value.as_ref().and_then(V::as_text);
    let first = c.values.first().map(String::as_str).unwrap_or_default();
    let number = |t: &str| t.trim().parse::<f64>().ok();
    match c.operator {
        // Entra compares scoping values without regard to case.
        Operator::Equals => text.is_some_and(|t| t.eq_ignore_ascii_case(first)),
        Operator::NotEquals => !text.is_some_and(|t| t.eq_ignore_ascii_case(first)),
        Operator::IsTrue => text.is_some_and(|t| t.eq_ignore_ascii_case("true")),
        Operator::IsFalse => text.is_some_and(|t| t.eq_ignore_ascii_case("false")),
        Operator::IsNull => value.is_none(),
        Operator::IsNotNull => value.is_some(),
        Operator::RegexMatch | Operator::NotRegexMatch => {
            let matched =
                text.is_some_and(|t| regex::Regex::new(first).is_ok_and(|re| re.is_match(&t)));
            matched == (c.operator == Operator::RegexMatch)
        }
        Operator::GreaterThan | Operator::GreaterThanOrEquals => {
            match (text.as_deref().and_then(number), number(first)) {
                (Some(a), Some(b)) => {
                    if c.operator == Operator::GreaterThan {
                        a > b
                    } else {
                        a >= b
                    }
                }
                _ => false,
            }
        }
        Operator::Includes => {
            let all = value.map(|v| v.values()).unwrap_or_default();
            let texts: Vec<String> = all.iter().filter_map(V::as_text).collect();
            c.values
                .iter()
                .any(|want| texts.iter().any(|t| t.eq_ignore_ascii_case(want)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_group_of_all_clauses_puts_an_object_in_scope_and_says_why() {
        let scope = read(
            &json!({"groups": [
                {"name": "sales", "clauses": [
                    {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": ["Sales"]}},
                    {"operatorName": "IS TRUE", "sourceOperandName": "accountEnabled", "targetOperand": {"values": []}}
                ]},
                {"name": "contractors", "clauses": [
                    {"operatorName": "REGEX MATCH", "sourceOperandName": "mail", "targetOperand": {"values": ["^ext-"]}}
                ]}
            ]}),
            "scope",
        )
        .unwrap();
        let user = |department: &str, enabled: bool, mail: &str| {
            let (d, m) = (department.to_string(), mail.to_string());
            move |name: &str| match name {
                "department" => Some(V::Str(d.clone())),
                "accountEnabled" => Some(V::Bool(enabled)),
                "mail" => Some(V::Str(m.clone())),
                _ => None,
            }
        };
        let (in_scope, why) = evaluate(scope.as_ref(), &user("sales", true, "a@x"));
        assert!(in_scope, "{why}");
        assert_eq!(why, "scoping filter group `sales` holds");
        let (in_scope, why) = evaluate(scope.as_ref(), &user("Finance", true, "a@x"));
        assert!(!in_scope);
        assert_eq!(
            why,
            "no scoping filter group holds (`sales`: department is \"Finance\", not EQUALS Sales; `contractors`: mail is \"a@x\", not REGEX MATCH ^ext-)"
        );
        assert!(evaluate(scope.as_ref(), &user("Finance", false, "ext-1@x")).0);
    }

    #[test]
    fn input_and_category_filters_are_read_beside_the_groups() {
        let scope = read(
            &json!({
                "inputFilterGroups": [{"name": "employees", "clauses": [
                    {"operatorName": "EQUALS", "sourceOperandName": "userType", "targetOperand": {"values": ["Member"]}}
                ]}],
                "categoryFilterGroups": [{"name": "staff", "clauses": [
                    {"operatorName": "IS NOT NULL", "sourceOperandName": "employeeId", "targetOperand": {"values": []}}
                ]}],
                "groups": [{"name": "sales", "clauses": [
                    {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": ["Sales"]}}
                ]}]
            }),
            "scope",
        )
        .unwrap()
        .unwrap();
        let user = |kind: &'static str, id: Option<&'static str>, department: &'static str| {
            move |name: &str| match name {
                "userType" => Some(V::Str(kind.into())),
                "employeeId" => id.map(|i| V::Str(i.into())),
                "department" => Some(V::Str(department.into())),
                _ => None,
            }
        };
        let (yes, why) = evaluate(Some(&scope), &user("Member", Some("7"), "Sales"));
        assert!(yes);
        assert_eq!(
            why,
            "input filter group `employees` holds, category filter group `staff` holds, scoping filter group `sales` holds"
        );
        let (no, why) = evaluate(Some(&scope), &user("Guest", Some("7"), "Sales"));
        assert!(!no);
        assert!(
            why.starts_with("no input filter group holds (`employees`: userType is \"Guest\""),
            "{why}"
        );
        let (no, why) = evaluate(Some(&scope), &user("Member", None, "Sales"));
        assert!(!no);
        assert!(why.starts_with("no category filter group holds"), "{why}");
        // Out of `groups` only: still read, so Entra deprovisions.
        assert!(still_read(&scope, &user("Member", Some("7"), "Finance")));
        assert!(!still_read(&scope, &user("Guest", Some("7"), "Finance")));
        // A filter of input groups alone is a scope.
        let only_input = read(
            &json!({"inputFilterGroups": [{"name": "x", "clauses": []}]}),
            "s",
        )
        .unwrap();
        assert!(only_input.is_some());
        let e = read(
            &json!({"categoryFilterGroups": [{"clauses": [{"operatorName": "LIKE", "sourceOperandName": "x"}]}]}),
            "m.scope",
        )
        .unwrap_err();
        assert_eq!(
            e.path,
            "m.scope.categoryFilterGroups[0].clauses[0].operatorName"
        );
    }

    #[test]
    fn an_unknown_operator_is_refused_with_its_path() {
        let e = read(
            &json!({"groups": [{"clauses": [{"operatorName": "LIKE", "sourceOperandName": "x"}]}]}),
            "m.scope",
        )
        .unwrap_err();
        assert_eq!(e.path, "m.scope.groups[0].clauses[0].operatorName");
    }
}
