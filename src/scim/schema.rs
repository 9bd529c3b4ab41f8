//! The RFC 7643 schemas the double implements: User (section 4.1), the
//! enterprise extension (4.3) and Group (4.2), with the common attributes
//! (section 3.1).
//!
//! One definition serves both the `/Schemas` endpoint and the double's
//! behaviour (case-exactness in filters, mutability on write, `returned`
//! on read), so what it advertises is what it does.

use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    fn parse(text: &str) -> Option<Uniqueness> {
        Some(match text.to_ascii_lowercase().as_str() {
            "none" => Uniqueness::None,
            "server" => Uniqueness::Server,
            "global" => Uniqueness::Global,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
}

/// One attribute and its characteristics (RFC 7643 2.2): as the double
/// declares it, or as a target's /Schemas does ([`Attr::from_json`]).
#[derive(Debug, Clone)]
pub struct Attr {
    pub name: String,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical: Vec<String>,
    pub reference_types: Vec<String>,
    pub sub: Vec<Attr>,
    pub description: String,
}

fn attr(name: &str, ty: Type) -> Attr {
    Attr {
        name: name.to_string(),
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical: Vec::new(),
        reference_types: Vec::new(),
        sub: Vec::new(),
        description: String::new(),
    }
}

impl Type {
    fn parse(text: &str) -> Option<Type> {
        Some(match text.to_ascii_lowercase().as_str() {
            "string" => Type::String,
            "boolean" => Type::Boolean,
            "decimal" => Type::Decimal,
            "integer" => Type::Integer,
            "datetime" => Type::DateTime,
            "binary" => Type::Binary,
            "reference" => Type::Reference,
            "complex" => Type::Complex,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Decimal => "decimal",
            Type::Integer => "integer",
            Type::DateTime => "dateTime",
            Type::Binary => "binary",
            Type::Reference => "reference",
            Type::Complex => "complex",
        }
    }
}

impl Mutability {
    fn parse(text: &str) -> Option<Mutability> {
        Some(match text.to_ascii_lowercase().as_str() {
            "readonly" => Mutability::ReadOnly,
            "readwrite" => Mutability::ReadWrite,
            "immutable" => Mutability::Immutable,
            "writeonly" => Mutability::WriteOnly,
            _ => return None,
        })
    }

    /// A client may send a value (readOnly ones are the server's).
    pub fn writable(self) -> bool {
        self != Mutability::ReadOnly
    }
}

impl Returned {
    fn parse(text: &str) -> Option<Returned> {
        Some(match text.to_ascii_lowercase().as_str() {
            "always" => Returned::Always,
            "never" => Returned::Never,
            // `request` is returned only when asked for: as default for what a client reads back.
            "default" | "request" => Returned::Default,
            _ => return None,
        })
    }
}

fn string(name: &str) -> Attr {
    attr(name, Type::String)
}

impl Attr {
    fn multi(mut self) -> Attr {
        self.multi = true;
        self
    }
    fn required(mut self) -> Attr {
        self.required = true;
        self
    }
    fn case_exact(mut self) -> Attr {
        self.case_exact = true;
        self
    }
    fn unique(mut self) -> Attr {
        self.uniqueness = Uniqueness::Server;
        self
    }
    fn mutability(mut self, m: Mutability) -> Attr {
        self.mutability = m;
        self
    }
    fn returned(mut self, r: Returned) -> Attr {
        self.returned = r;
        self
    }
    fn canonical(mut self, values: &[&str]) -> Attr {
        self.canonical = values.iter().map(|v| v.to_string()).collect();
        self
    }
    fn refs(mut self, types: &[&str]) -> Attr {
        self.reference_types = types.iter().map(|t| t.to_string()).collect();
        self
    }
    fn sub(mut self, sub: Vec<Attr>) -> Attr {
        self.ty = Type::Complex;
        self.sub = sub;
        self
    }
    fn describe(mut self, text: &str) -> Attr {
        self.description = text.to_string();
        self
    }

    /// An attribute as a /Schemas document declares it, with RFC 7643 2.2's
    /// defaults for what it leaves out (characteristic values read in any
    /// letter case); None without a name, or with a type, mutability or
    /// returned value RFC 7643 does not define.
    pub fn from_json(value: &Value) -> Option<Attr> {
        let text = |key: &str, default: &'static str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let flag = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        let strings = |key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(Attr {
            name: value.get("name")?.as_str()?.to_string(),
            ty: Type::parse(&text("type", "string"))?,
            multi: flag("multiValued"),
            required: flag("required"),
            case_exact: flag("caseExact"),
            mutability: Mutability::parse(&text("mutability", "readWrite"))?,
            returned: Returned::parse(&text("returned", "default"))?,
            uniqueness: Uniqueness::parse(&text("uniqueness", "none"))?,
            canonical: strings("canonicalValues"),
            reference_types: strings("referenceTypes"),
            sub: value
                .get("subAttributes")
                .and_then(Value::as_array)
                .map(|subs| subs.iter().filter_map(Attr::from_json).collect())
                .unwrap_or_default(),
            description: text("description", ""),
        })
    }

    /// A sub-attribute by name, ignoring case (RFC 7643 2.1).
    pub fn sub_attr(&self, name: &str) -> Option<&Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": self.ty.name(),
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
            },
        });
        let map = out.as_object_mut().expect("built as an object");
        if self.ty == Type::Complex {
            map.insert(
                "subAttributes".into(),
                self.sub.iter().map(Attr::to_json).collect(),
            );
        } else {
            map.insert("caseExact".into(), json!(self.case_exact));
            map.insert("uniqueness".into(), json!(self.uniqueness.name()));
        }
        if !self.canonical.is_empty() {
            map.insert("canonicalValues".into(), json!(self.canonical));
        }
        if !self.reference_types.is_empty() {
            map.insert("referenceTypes".into(), json!(self.reference_types));
        }
        out
    }
}

/// One schema: its URN and attributes.
#[derive(Debug, Clone)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: Vec<Attr>,
}

impl Schema {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attrs.iter().map(Attr::to_json).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            },
        })
    }
}

/// What a target publishes at /Schemas: each schema's URN and attributes,
/// read with [`Attr::from_json`]. The double declares its own schemas with
/// the same [`Attr`]; the runner, the body fitting and the schema-driven
/// generator read the target's through this.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub schemas: Vec<(String, Vec<Attr>)>,
}

impl Published {
    /// From a /Schemas answer: a ListResponse, or a bare array of schemas.
    pub fn from_json(answer: &Value) -> Published {
        let list = answer
            .get("Resources")
            .unwrap_or(answer)
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let schemas = list
            .iter()
            .filter_map(|schema| {
                let id = schema.get("id")?.as_str()?.to_string();
                let attrs = schema
                    .get("attributes")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Attr::from_json).collect())
                    .unwrap_or_default();
                Some((id, attrs))
            })
            .collect();
        Published { schemas }
    }

    /// The attributes of the schema `urn`, if published.
    pub fn attrs(&self, urn: &str) -> Option<&[Attr]> {
        self.schemas
            .iter()
            .find(|(id, _)| id == urn)
            .map(|(_, attrs)| attrs.as_slice())
    }
}

/// The attributes every resource has (RFC 7643 3.1), checked before the schema's own.
pub fn common_attrs() -> Vec<Attr> {
    vec![
        string("id")
            .case_exact()
            .unique()
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Always)
            .describe("Unique identifier assigned by the service provider."),
        string("externalId")
            .case_exact()
            .describe("Identifier of the resource as defined by the provisioning client."),
        attr("meta", Type::Complex)
            .mutability(Mutability::ReadOnly)
            .sub(vec![
                string("resourceType")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
                attr("created", Type::DateTime).mutability(Mutability::ReadOnly),
                attr("lastModified", Type::DateTime).mutability(Mutability::ReadOnly),
                attr("location", Type::Reference)
                    .case_exact()
                    .mutability(Mutability::ReadOnly)
                    .refs(&["uri"]),
                string("version")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
            ])
            .describe("Resource metadata."),
    ]
}

fn multi_valued(name: &str, types: &[&str]) -> Attr {
    attr(name, Type::Complex).multi().sub(vec![
        string("value"),
        string("display"),
        string("type").canonical(types),
        attr("primary", Type::Boolean),
    ])
}

pub fn user() -> Schema {
    Schema {
        id: USER,
        name: "User",
        description: "User Account",
        attrs: vec![
            string("userName")
                .required()
                .unique()
                .describe("Unique identifier for the User, used to authenticate."),
            attr("name", Type::Complex).sub(vec![
                string("formatted"),
                string("familyName"),
                string("givenName"),
                string("middleName"),
                string("honorificPrefix"),
                string("honorificSuffix"),
            ]),
            string("displayName"),
            string("nickName"),
            attr("profileUrl", Type::Reference).refs(&["external"]),
            string("title"),
            string("userType"),
            string("preferredLanguage"),
            string("locale"),
            string("timezone"),
            attr("active", Type::Boolean),
            string("password")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            multi_valued("emails", &["work", "home", "other"]),
            multi_valued(
                "phoneNumbers",
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_valued(
                "ims",
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_valued("photos", &["photo", "thumbnail"]),
            attr("addresses", Type::Complex).multi().sub(vec![
                string("formatted"),
                string("streetAddress"),
                string("locality"),
                string("region"),
                string("postalCode"),
                string("country"),
                string("type").canonical(&["work", "home", "other"]),
                attr("primary", Type::Boolean),
            ]),
            attr("groups", Type::Complex)
                .multi()
                .mutability(Mutability::ReadOnly)
                .sub(vec![
                    string("value").mutability(Mutability::ReadOnly),
                    attr("$ref", Type::Reference)
                        .mutability(Mutability::ReadOnly)
                        .refs(&["User", "Group"]),
                    string("display").mutability(Mutability::ReadOnly),
                    string("type")
                        .mutability(Mutability::ReadOnly)
                        .canonical(&["direct", "indirect"]),
                ])
                .describe("Groups the user belongs to, maintained by the service provider."),
            multi_valued("entitlements", &[]),
            multi_valued("roles", &[]),
            multi_valued("x509Certificates", &[]),
        ],
    }
}

pub fn enterprise_user() -> Schema {
    Schema {
        id: ENTERPRISE_USER,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attrs: vec![
            string("employeeNumber"),
            string("costCenter"),
            string("organization"),
            string("division"),
            string("department"),
            attr("manager", Type::Complex).sub(vec![
                string("value"),
                attr("$ref", Type::Reference).refs(&["User"]),
                string("displayName").mutability(Mutability::ReadOnly),
            ]),
        ],
    }
}

pub fn group() -> Schema {
    Schema {
        id: GROUP,
        name: "Group",
        description: "Group",
        attrs: vec![
            string("displayName")
                .required()
                .unique()
                .describe("A human-readable name for the Group."),
            attr("members", Type::Complex).multi().sub(vec![
                string("value")
                    .case_exact()
                    .mutability(Mutability::Immutable),
                attr("$ref", Type::Reference)
                    .mutability(Mutability::Immutable)
                    .refs(&["User", "Group"]),
                string("display"),
                string("type")
                    .mutability(Mutability::Immutable)
                    .canonical(&["User", "Group"]),
            ]),
        ],
    }
}

/// The resource types the double serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub fn core_schema(self) -> &'static str {
        match self {
            Kind::User => USER,
            Kind::Group => GROUP,
        }
    }

    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::User => &[ENTERPRISE_USER],
            Kind::Group => &[],
        }
    }
}

/// The schemas of one resource type, to resolve attribute paths against.
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub kind: Kind,
    pub common: Vec<Attr>,
    pub core: Schema,
    pub extensions: Vec<Schema>,
}

impl ResourceSchema {
    pub fn for_kind(kind: Kind) -> ResourceSchema {
        match kind {
            Kind::User => ResourceSchema {
                kind,
                common: common_attrs(),
                core: user(),
                extensions: vec![enterprise_user()],
            },
            Kind::Group => ResourceSchema {
                kind,
                common: common_attrs(),
                core: group(),
                extensions: Vec::new(),
            },
        }
    }

    /// An extension schema by URN, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level attribute: `uri` is None or the core schema for core and
    /// common attributes, an extension URN for the extension's.
    pub fn attr(&self, uri: Option<&str>, name: &str) -> Option<&Attr> {
        match uri {
            None => self
                .common
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .or_else(|| self.core.attr(name)),
            Some(u) if u.eq_ignore_ascii_case(self.core.id) => self.core.attr(name),
            Some(u) => self.extension(u)?.attr(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_double_publishes_reads_back_the_same() {
        for schema in [user(), enterprise_user(), group()] {
            for attr in &schema.attrs {
                let published = attr.to_json();
                let read = Attr::from_json(&published).expect(&attr.name);
                assert_eq!(read.to_json(), published, "{}", attr.name);
            }
        }
    }

    #[test]
    fn a_target_s_schemas_are_read_with_the_rfc_defaults() {
        let answer = json!({ "Resources": [{
            "id": USER,
            "attributes": [
                { "name": "userName", "required": true, "uniqueness": "Server" },
                { "name": "name", "type": "complex", "subAttributes": [
                    { "name": "formatted", "required": true, "mutability": "READWRITE" }
                ]},
                { "name": "groups", "type": "complex", "multiValued": true, "mutability": "readOnly", "returned": "request" },
                { "name": "odd", "type": "text" },
                { "type": "string" }
            ]
        }]});
        let published = Published::from_json(&answer);
        let attrs = published.attrs(USER).unwrap();
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        // An undefined type, or no name: not an attribute anyone can judge.
        assert_eq!(names, ["userName", "name", "groups"]);
        let user_name = &attrs[0];
        assert_eq!(
            (user_name.ty, user_name.multi, user_name.case_exact),
            (Type::String, false, false)
        );
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        assert_eq!(user_name.mutability, Mutability::ReadWrite);
        assert_eq!(user_name.returned, Returned::Default);
        assert!(attrs[1].sub[0].required && attrs[1].sub[0].mutability.writable());
        assert!(!attrs[2].mutability.writable() && attrs[2].multi);
        assert!(published.attrs(GROUP).is_none());
        // A bare array is read as well.
        let bare = Published::from_json(&answer["Resources"]);
        assert_eq!(bare.attrs(USER).map(<[Attr]>::len), Some(3));
    }
}
