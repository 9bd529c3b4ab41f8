//! A customer's Entra provisioning configuration, as the schema editor's
//! Download button or Graph's `GET .../synchronization/jobs/{id}/schema`
//! gives it: `synchronizationRules[].objectMappings[].attributeMappings[]`
//! and the `directories[]` that describe each side's attributes.
//!
//! Everything is checked here, before any request: each expression is
//! parsed and its functions known, cross-checked with the `source` tree
//! when both are given, and every problem names the JSON path.

use std::collections::BTreeMap;

use serde_json::Value;

use super::expr::{self, Expr, ExprKind};

pub use super::problem::ExportError;

fn error(path: &str, message: impl Into<String>) -> ExportError {
    ExportError {
        path: path.to_string(),
        message: message.into(),
        hint: None,
    }
}

#[derive(Debug, Clone)]
pub struct Export {
    pub object_mappings: Vec<ObjectMapping>,
    /// The rules left out, each with what it is and why it is not replayed.
    pub not_replayed: Vec<String>,
    /// Target attribute types by lower-cased name (`active` → `Boolean`),
    /// from the target directory's objects.
    pub target_types: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    Group,
}

#[derive(Debug, Clone)]
pub struct ObjectMapping {
    /// Its JSON path in the export.
    pub path: String,
    pub name: String,
    pub enabled: bool,
    pub kind: ObjectKind,
    pub source_object: String,
    pub target_object: String,
    pub scope: Option<super::scope::Scope>,
    pub attributes: Vec<AttributeMapping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowType {
    Always,
    /// Only when the object is created.
    ObjectAddOnly,
    /// Kinds of update only: each still flows on create.
    MultiValueAddOnly,
    ValueAddOnly,
    AttributeAddOnly,
}

#[derive(Debug, Clone)]
pub struct AttributeMapping {
    pub path: String,
    /// A SCIM path: `userName`, `emails[type eq "work"].value`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
    pub target: String,
    /// The expression as Entra's editor shows it (`ToLower([department])`).
    pub expression: String,
    pub tree: Expr,
    pub default_value: Option<String>,
    pub flow_type: FlowType,
    /// `flowBehavior: FlowAlways`: sent with every update, changed or not
    /// (Graph's default, FlowWhenChanged, sends it only when it changed).
    pub flow_always: bool,
    /// 0: not matching; otherwise tried lowest first.
    pub matching_priority: i64,
}

impl AttributeMapping {
    /// The source attributes its expression reads.
    pub fn tree_attributes(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.tree.visit(&mut |e| {
            if let ExprKind::Attribute(a) = &e.kind {
                out.push(a.clone());
            }
        });
        out.sort();
        out.dedup();
        out
    }

    /// `department ← ToLower([department])`, as findings name a mapping.
    pub fn label(&self) -> String {
        format!("{} ← {}", short_target(&self.target), self.expression)
    }
}

/// A target path without the enterprise URN, for reading.
pub fn short_target(target: &str) -> &str {
    target
        .strip_prefix("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:")
        .unwrap_or(target)
}

pub fn read(text: &str) -> Result<Export, ExportError> {
    let json: Value = serde_json::from_str(text).map_err(|e| ExportError {
        path: String::new(),
        message: crate::generate::json_error(&e),
        hint: Some("give the file the schema editor's Download button saves, or Graph's synchronization schema".into()),
    })?;
    // Graph may wrap it; the portal's download is the schema itself.
    let schema = json
        .get("schema")
        .filter(|s| s.is_object())
        .unwrap_or(&json);
    let Some(rules) = schema.get("synchronizationRules").and_then(Value::as_array) else {
        return Err(wrong_document(&json));
    };
    let mut object_mappings = Vec::new();
    let mut not_replayed = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        // Told before its mappings are read: an inbound rule's functions
        // and attributes are not those of an outbound SCIM mapping.
        if let Some(why) = super::direction::not_replayed(rule) {
            let name = text_field(rule, "name").unwrap_or("a rule");
            not_replayed.push(format!(
                "synchronizationRules[{r}] ({name}): {why}: not replayed"
            ));
            continue;
        }
        let Some(mappings) = rule.get("objectMappings").and_then(Value::as_array) else {
            continue;
        };
        for (m, mapping) in mappings.iter().enumerate() {
            let path = format!("synchronizationRules[{r}].objectMappings[{m}]");
            object_mappings.push(object_mapping(mapping, &path)?);
        }
    }
    if object_mappings.is_empty() && !not_replayed.is_empty() {
        return Err(ExportError {
            path: "synchronizationRules".into(),
            message: format!(
                "nothing to replay: {}",
                not_replayed.join("; ")
            ),
            hint: Some("scimcheck replays what Entra ID sends to an app over SCIM: download the schema of that app's provisioning job".into()),
        });
    }
    if object_mappings.is_empty() {
        return Err(error(
            "synchronizationRules",
            "no objectMappings: nothing to replay",
        ));
    }
    Ok(Export {
        object_mappings,
        not_replayed,
        target_types: target_types(schema),
    })
}

/// What the file is instead, so the user picks the right option.
fn wrong_document(json: &Value) -> ExportError {
    let entries = json.get("value").and_then(Value::as_array);
    let is_log = |v: &Value| v.get("provisioningAction").is_some() || v.get("changeId").is_some();
    let looks_like_log = is_log(json)
        || entries.is_some_and(|e| e.iter().any(is_log))
        || json.as_array().is_some_and(|e| e.iter().any(is_log));
    let mut e = error(
        "",
        "this is no Entra provisioning configuration: it has no `synchronizationRules`",
    );
    e.hint = Some(if looks_like_log {
        "it looks like a provisioning log: give it with --entra-log".into()
    } else {
        "download it from the app's Provisioning > Edit attribute mappings > Show advanced options > Review your schema > Download".into()
    });
    e
}

fn target_types(schema: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let directories = schema
        .get("directories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for directory in directories {
        // The source directory is Entra's own; the target's attributes are SCIM paths.
        let name = directory
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.eq_ignore_ascii_case("Azure Active Directory") {
            continue;
        }
        let objects = directory
            .get("objects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for object in objects {
            let attributes = object
                .get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for attribute in attributes {
                if let (Some(n), Some(t)) = (
                    attribute.get("name").and_then(Value::as_str),
                    attribute.get("type").and_then(Value::as_str),
                ) {
                    out.insert(n.to_lowercase(), t.to_string());
                }
            }
        }
    }
    out
}

fn text_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn object_mapping(mapping: &Value, path: &str) -> Result<ObjectMapping, ExportError> {
    let source_object = text_field(mapping, "sourceObjectName")
        .unwrap_or_default()
        .to_string();
    let target_object = text_field(mapping, "targetObjectName")
        .ok_or_else(|| error(path, "no targetObjectName"))?
        .to_string();
    let kind = if target_object.to_lowercase().contains("group")
        || source_object.eq_ignore_ascii_case("Group")
    {
        ObjectKind::Group
    } else {
        ObjectKind::User
    };
    let scope = match mapping.get("scope") {
        None | Some(Value::Null) => None,
        Some(scope) => super::scope::read(scope, &format!("{path}.scope"))?,
    };
    let list = mapping
        .get("attributeMappings")
        .and_then(Value::as_array)
        .ok_or_else(|| error(path, "no attributeMappings"))?;
    let mut attributes = Vec::new();
    for (a, attribute) in list.iter().enumerate() {
        attributes.push(attribute_mapping(
            attribute,
            &format!("{path}.attributeMappings[{a}]"),
        )?);
    }
    Ok(ObjectMapping {
        path: path.to_string(),
        name: text_field(mapping, "name")
            .unwrap_or(&target_object)
            .to_string(),
        enabled: mapping
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        kind,
        source_object,
        target_object,
        scope,
        attributes,
    })
}

fn attribute_mapping(attribute: &Value, path: &str) -> Result<AttributeMapping, ExportError> {
    let target = text_field(attribute, "targetAttributeName")
        .ok_or_else(|| error(path, "no targetAttributeName"))?
        .to_string();
    let default_value = text_field(attribute, "defaultValue")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let Some(source) = attribute.get("source").filter(|s| s.is_object()) else {
        // Graph: the default is "used in case the source property was
        // evaluated to null"; with no source at all (the portal's mapping
        // type None), Entra sends the default for every object.
        return match default_value {
            Some(default) => default_only(attribute, path, target, default),
            None => Err(ExportError {
                path: path.to_string(),
                message: "no source and no defaultValue: the mapping sends nothing".into(),
                hint: Some("give the mapping a source, or a defaultValue to send".into()),
            }),
        };
    };
    let source_path = format!("{path}.source");
    let from_tree = tree(source, &source_path)?;
    let (expression, parsed) = match text_field(source, "expression")
        .filter(|e| !e.trim().is_empty())
    {
        Some(text) => {
            let expression_path = format!("{source_path}.expression");
            let parsed = expr::parse(text).map_err(|e| ExportError {
                path: expression_path.clone(),
                message: format!("`{text}` {e}"),
                hint: Some("write it as Entra's expression editor does: Function([attribute], \"constant\")".into()),
            })?;
            // A source that names nothing carries only its expression.
            let has_tree = text_field(source, "name").is_some_and(|n| !n.is_empty());
            if has_tree && !same_shape(&parsed, &from_tree) {
                return Err(ExportError {
                    path: expression_path,
                    message: format!(
                        "`{text}` says one thing and the source tree ({}) another",
                        render(&from_tree)
                    ),
                    hint: Some("re-download the export: the two should be the same mapping".into()),
                });
            }
            (text.to_string(), parsed)
        }
        None => (render(&from_tree), from_tree),
    };
    expr::functions::check(&parsed).map_err(|e| ExportError {
        path: format!("{source_path}.expression"),
        message: format!("`{expression}`: {e}"),
        hint: Some(
            "the functions are those of Microsoft's reference for attribute-mapping expressions"
                .into(),
        ),
    })?;
    let flow_type = flow_type(attribute, path)?;
    Ok(AttributeMapping {
        path: path.to_string(),
        target,
        expression,
        tree: parsed,
        default_value,
        flow_type,
        flow_always: flow_always(attribute, path)?,
        matching_priority: matching_priority(attribute),
    })
}

/// A mapping with no source and a default: the default, for every object.
fn default_only(
    attribute: &Value,
    path: &str,
    target: String,
    default: String,
) -> Result<AttributeMapping, ExportError> {
    Ok(AttributeMapping {
        path: path.to_string(),
        target,
        expression: format!(
            "(no source) default {}",
            render(&Expr {
                kind: ExprKind::Str(default.clone()),
                pos: 0,
            })
        ),
        // Nothing to evaluate: null, so the default flows.
        tree: Expr {
            kind: ExprKind::Omitted,
            pos: 0,
        },
        default_value: Some(default),
        flow_type: flow_type(attribute, path)?,
        flow_always: flow_always(attribute, path)?,
        matching_priority: matching_priority(attribute),
    })
}

fn matching_priority(attribute: &Value) -> i64 {
    attribute
        .get("matchingPriority")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn flow_always(attribute: &Value, path: &str) -> Result<bool, ExportError> {
    match text_field(attribute, "flowBehavior").unwrap_or("FlowWhenChanged") {
        "FlowWhenChanged" => Ok(false),
        "FlowAlways" => Ok(true),
        other => Err(ExportError {
            path: format!("{path}.flowBehavior"),
            message: format!("unknown flowBehavior `{other}`"),
            hint: Some("Graph's are FlowWhenChanged (the default) and FlowAlways".into()),
        }),
    }
}

fn flow_type(attribute: &Value, path: &str) -> Result<FlowType, ExportError> {
    Ok(
        match text_field(attribute, "flowType").unwrap_or("Always") {
            "Always" => FlowType::Always,
            "ObjectAddOnly" => FlowType::ObjectAddOnly,
            "MultiValueAddOnly" => FlowType::MultiValueAddOnly,
            "ValueAddOnly" => FlowType::ValueAddOnly,
            "AttributeAddOnly" => FlowType::AttributeAddOnly,
            other => {
                return Err(ExportError {
                path: format!("{path}.flowType"),
                message: format!("unknown flowType `{other}`"),
                hint: Some("Entra's are Always, ObjectAddOnly, MultiValueAddOnly, ValueAddOnly, AttributeAddOnly".into()),
            });
            }
        },
    )
}

/// The `source` tree as an expression: `{type: Attribute, name}`,
/// `{type: Constant, value}`, `{type: Function, name, parameters[{key, value}]}`.
fn tree(source: &Value, path: &str) -> Result<Expr, ExportError> {
    let kind = text_field(source, "type").unwrap_or("Attribute");
    let name = text_field(source, "name").unwrap_or_default().to_string();
    let kind = match kind {
        "Attribute" => ExprKind::Attribute(name),
        // Graph keeps a constant's text in `name`; some exports say `value`.
        "Constant" => ExprKind::Str(
            source
                .get("value")
                .or_else(|| source.get("name"))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_default(),
        ),
        "Function" => {
            let parameters = source
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            let mut keyed = Vec::new();
            for (p, parameter) in parameters.enumerate() {
                let value = parameter.get("value").ok_or_else(|| {
                    error(
                        &format!("{path}.parameters[{p}]"),
                        "a parameter without a value",
                    )
                })?;
                let key = text_field(parameter, "key").map(str::to_string);
                keyed.push((key, tree(value, &format!("{path}.parameters[{p}].value"))?));
            }
            let args = arguments_by_key(&name, keyed, path)?;
            ExprKind::Call { name, args }
        }
        other => {
            return Err(ExportError {
                path: format!("{path}.type"),
                message: format!("unknown source type `{other}`"),
                hint: Some("a source is an Attribute, a Constant or a Function".into()),
            });
        }
    };
    Ok(Expr { kind, pos: 0 })
}

/// A function's keyed parameters put in the places its signature gives
/// them, omitted ones left out (`Replace([mail], "@x", , , "")`); the
/// repeating ones (Join's sources, Switch's pairs) follow in their order.
/// Parameters without keys are read in order.
fn arguments_by_key(
    function: &str,
    keyed: Vec<(Option<String>, Expr)>,
    path: &str,
) -> Result<Vec<Expr>, ExportError> {
    let omitted = || Expr {
        kind: ExprKind::Omitted,
        pos: 0,
    };
    let signature = expr::parameters::signature(function);
    let Some(signature) = signature.filter(|_| keyed.iter().any(|(k, _)| k.is_some())) else {
        return Ok(keyed.into_iter().map(|(_, e)| e).collect());
    };
    let mut slots: Vec<Option<Expr>> = vec![None; signature.slots.len()];
    let mut rest = Vec::new();
    for (p, (key, value)) in keyed.into_iter().enumerate() {
        let slot = key.as_deref().and_then(|k| signature.slot(k));
        match slot {
            Some(i) if slots[i].is_none() => slots[i] = Some(value),
            Some(_) => {
                return Err(error(
                    &format!("{path}.parameters[{p}].key"),
                    format!("{function}'s `{}` is given twice", key.unwrap_or_default()),
                ));
            }
            None if signature.repeats => rest.push(value),
            None => {
                return Err(ExportError {
                    path: format!("{path}.parameters[{p}].key"),
                    message: format!("{function} has no parameter `{}`", key.unwrap_or_default()),
                    hint: Some(format!(
                        "its parameters are {} (Microsoft's reference for attribute-mapping expressions)",
                        signature.names().join(", ")
                    )),
                });
            }
        }
    }
    // Up to the last given slot when nothing follows; every slot otherwise.
    let used = if rest.is_empty() {
        slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1)
    } else {
        slots.len()
    };
    let mut args: Vec<Expr> = slots
        .into_iter()
        .take(used)
        .map(|s| s.unwrap_or_else(omitted))
        .collect();
    args.extend(rest);
    Ok(args)
}

/// The same calls, attributes and constants in the same places. An argument
/// left out and an empty string alike stand for the reference's empty
/// default, and arguments left out at the end are no arguments.
fn same_shape(parsed: &Expr, tree: &Expr) -> bool {
    match (&parsed.kind, &tree.kind) {
        (ExprKind::Call { name: a, args: x }, ExprKind::Call { name: b, args: y }) => {
            let (x, y) = (without_trailing_omitted(x), without_trailing_omitted(y));
            if !a.eq_ignore_ascii_case(b) {
                return false;
            }
            if x.len() == y.len() {
                return x.iter().zip(y).all(|(p, t)| same_shape(p, t));
            }
            // A tree without keys lists only what was given.
            let given: Vec<&Expr> = x.iter().filter(|e| e.kind != ExprKind::Omitted).collect();
            given.len() == y.len() && given.iter().zip(y).all(|(p, t)| same_shape(p, t))
        }
        (ExprKind::Omitted, ExprKind::Omitted) => true,
        (ExprKind::Omitted, ExprKind::Str(s)) | (ExprKind::Str(s), ExprKind::Omitted) => {
            s.is_empty()
        }
        (ExprKind::Attribute(a), ExprKind::Attribute(b)) => a.eq_ignore_ascii_case(b),
        (ExprKind::Str(a), ExprKind::Str(b)) => a == b,
        (ExprKind::Num(n), ExprKind::Str(b)) => n.to_string() == *b,
        (ExprKind::Name(a), ExprKind::Str(b)) => a == b,
        // Comparisons have no tree form of their own: trust the expression.
        (ExprKind::Compare { .. }, _) | (_, ExprKind::Compare { .. }) => true,
        _ => false,
    }
}

fn without_trailing_omitted(args: &[Expr]) -> &[Expr] {
    let end = args
        .iter()
        .rposition(|e| e.kind != ExprKind::Omitted)
        .map_or(0, |i| i + 1);
    &args[..end]
}

/// A tree written back as an expression.
pub fn render(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Attribute(a) => format!("[{a}]"),
        ExprKind::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        ExprKind::Num(n) => n.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Omitted => String::new(),
        ExprKind::Call { name, args } => {
            format!(
                "{name}({})",
                args.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
        ExprKind::Compare { op, left, right } => {
            format!("{} {} {}", render(left), op.symbol(), render(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn export(attribute_mappings: Value) -> String {
        json!({
            "id": "scim",
            "synchronizationRules": [{
                "name": "USER_TO_SCIM",
                "objectMappings": [{
                    "enabled": true,
                    "name": "Provision Microsoft Entra ID Users",
                    "sourceObjectName": "User",
                    "targetObjectName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                    "attributeMappings": attribute_mappings,
                }]
            }]
        })
        .to_string()
    }

    #[test]
    fn an_expression_and_its_tree_are_read_and_cross_checked() {
        let text = export(json!([{
            "targetAttributeName": "active",
            "source": {
                "expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
                "name": "Switch", "type": "Function",
                "parameters": [
                    {"key": "source", "value": {"name": "IsSoftDeleted", "type": "Attribute"}},
                    {"key": "key", "value": {"type": "Constant", "name": "False"}},
                    {"key": "value", "value": {"type": "Constant", "name": "True"}},
                    {"key": "key", "value": {"type": "Constant", "value": "True"}},
                    {"key": "value", "value": {"type": "Constant", "value": "False"}}
                ]
            }
        }]));
        let export = read(&text).unwrap();
        let mapping = &export.object_mappings[0].attributes[0];
        assert_eq!(
            mapping.label(),
            "active ← Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")"
        );
        assert_eq!(export.object_mappings[0].kind, ObjectKind::User);
    }

    #[test]
    fn a_tree_without_expression_is_rendered() {
        let text = export(json!([{
            "targetAttributeName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "source": {"name": "ToLower", "type": "Function", "parameters": [{"key": "source", "value": {"name": "department", "type": "Attribute"}}]}
        }]));
        assert_eq!(
            read(&text).unwrap().object_mappings[0].attributes[0].label(),
            "department ← ToLower([department])"
        );
    }

    fn keyed(key: &str, value: Value) -> Value {
        json!({"key": key, "value": value})
    }

    fn constant(text: &str) -> Value {
        json!({"type": "Constant", "name": text})
    }

    fn mail() -> Value {
        json!({"type": "Attribute", "name": "mail"})
    }

    #[test]
    fn a_tree_is_read_by_its_parameter_keys_not_their_order() {
        // Microsoft's trees leave omitted arguments out and name the rest.
        let replace = json!({"type": "Function", "name": "Replace", "parameters": [
            keyed("source", mail()),
            keyed("replacementValue", constant("")),
            keyed("oldValue", constant("@contoso.com")),
        ]});
        let text = export(json!([{"targetAttributeName": "userName", "source": replace}]));
        assert_eq!(
            read(&text).unwrap().object_mappings[0].attributes[0].expression,
            "Replace([mail], \"@contoso.com\", , , \"\")"
        );
        // Other spellings of the same parameters, and a regex with its group.
        let regex = json!({"type": "Function", "name": "Replace", "parameters": [
            keyed("Source", mail()),
            keyed("Find", constant("@")),
            keyed("Replacement", constant(" at ")),
        ]});
        let text = export(json!([{"targetAttributeName": "userName", "source": regex}]));
        assert_eq!(
            read(&text).unwrap().object_mappings[0].attributes[0].expression,
            "Replace([mail], \"@\", , , \" at \")"
        );
        // Switch without its default: the pairs keep their places.
        let switch = json!({"type": "Function", "name": "Switch", "parameters": [
            keyed("source", json!({"type": "Attribute", "name": "IsSoftDeleted"})),
            keyed("key", constant("False")), keyed("value", constant("True")),
        ]});
        let text = export(json!([{"targetAttributeName": "active", "source": switch}]));
        assert_eq!(
            read(&text).unwrap().object_mappings[0].attributes[0].expression,
            "Switch([IsSoftDeleted], , \"False\", \"True\")"
        );
    }

    #[test]
    fn an_omitted_argument_and_its_empty_default_cross_check_alike() {
        let tree = |expression: &str| {
            json!({"expression": expression, "type": "Function", "name": "Replace", "parameters": [
                keyed("source", mail()),
                keyed("oldValue", constant("@contoso.com")),
                keyed("regexPattern", constant("")),
                keyed("replacementValue", constant("")),
            ]})
        };
        for expression in [
            "Replace([mail], \"@contoso.com\", , , \"\", , )",
            "Replace([mail], \"@contoso.com\", \"\", , \"\")",
        ] {
            let text =
                export(json!([{"targetAttributeName": "userName", "source": tree(expression)}]));
            assert!(read(&text).is_ok(), "{expression}");
        }
        // A real difference is still one.
        let text = export(json!([{"targetAttributeName": "userName",
            "source": tree("Replace([mail], \"@contoso.com\", , , \"x\", , )")}]));
        assert!(read(&text).unwrap_err().message.contains("says one thing"));
    }

    #[test]
    fn a_key_the_function_does_not_have_is_refused_with_the_ones_it_has() {
        let text = export(json!([{"targetAttributeName": "userName", "source":
        {"type": "Function", "name": "Mid", "parameters": [
            keyed("source", mail()), keyed("begin", constant("1")), keyed("length", constant("8"))
        ]}}]));
        let e = read(&text).unwrap_err();
        assert_eq!(
            e.path,
            "synchronizationRules[0].objectMappings[0].attributeMappings[0].source.parameters[1].key"
        );
        assert!(
            e.message.contains("Mid has no parameter `begin`"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("source, start, length"));
    }

    #[test]
    fn bad_input_names_the_json_path_and_the_column() {
        let bad = |mapping: Value| {
            read(&export(
                json!([{"targetAttributeName": "x", "flowType": "Always"}, mapping]),
            ))
            .unwrap_err()
        };
        let e = bad(
            json!({"targetAttributeName": "userName", "source": {"expression": "ToLower([mail]", "type": "Function", "name": "ToLower"}}),
        );
        assert_eq!(
            e.path,
            "synchronizationRules[0].objectMappings[0].attributeMappings[0]"
        );
        let text = export(json!([
            {"targetAttributeName": "userName", "source": {"name": "userPrincipalName", "type": "Attribute"}},
            {"targetAttributeName": "displayName", "source": {"expression": "ToLower([mail]", "name": "ToLower", "type": "Function", "parameters": [{"key": "source", "value": {"name": "mail", "type": "Attribute"}}]}},
        ]));
        let e = read(&text).unwrap_err();
        assert_eq!(
            e.path,
            "synchronizationRules[0].objectMappings[0].attributeMappings[1].source.expression"
        );
        assert!(e.message.contains("at column 15"), "{e}");
        let text = export(json!([
            {"targetAttributeName": "displayName", "source": {"expression": "ToLowr([mail])", "name": "ToLowr", "type": "Function", "parameters": [{"key": "source", "value": {"name": "mail", "type": "Attribute"}}]}},
        ]));
        let e = read(&text).unwrap_err().to_string();
        assert!(
            e.contains("ToLowr at column 1: no such function")
                && e.contains("did you mean ToLower"),
            "{e}"
        );
        let text = export(json!([
            {"targetAttributeName": "displayName", "source": {"expression": "ToLower([mail])", "name": "ToUpper", "type": "Function", "parameters": [{"key": "source", "value": {"name": "mail", "type": "Attribute"}}]}},
        ]));
        assert!(read(&text).unwrap_err().message.contains("says one thing"));
    }

    #[test]
    fn the_wrong_document_is_told_apart() {
        let e = read("{\"value\": [{\"changeId\": \"1\", \"provisioningAction\": \"create\"}]}")
            .unwrap_err();
        assert!(e.to_string().contains("--entra-log"), "{e}");
        let e = read("not json").unwrap_err();
        assert!(e.message.starts_with("not JSON"), "{e}");
    }
}
