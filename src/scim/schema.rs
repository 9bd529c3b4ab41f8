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
pub enum Returned {
    Always,
    Never,
    Default,
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: Vec<Attr>,
    pub description: &'static str,
}

fn attr(name: &'static str, ty: Type) -> Attr {
    Attr {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        canonical: &[],
        reference_types: &[],
        sub: Vec::new(),
        description: "",
    }
}

fn string(name: &'static str) -> Attr {
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
        self.unique = true;
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
    fn canonical(mut self, values: &'static [&'static str]) -> Attr {
        self.canonical = values;
        self
    }
    fn refs(mut self, types: &'static [&'static str]) -> Attr {
        self.reference_types = types;
        self
    }
    fn sub(mut self, sub: Vec<Attr>) -> Attr {
        self.ty = Type::Complex;
        self.sub = sub;
        self
    }
    fn describe(mut self, text: &'static str) -> Attr {
        self.description = text;
        self
    }

    /// A sub-attribute by name, ignoring case (RFC 7643 2.1).
    pub fn sub_attr(&self, name: &str) -> Option<&Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": match self.ty {
                Type::String => "string",
                Type::Boolean => "boolean",
                Type::Decimal => "decimal",
                Type::Integer => "integer",
                Type::DateTime => "dateTime",
                Type::Binary => "binary",
                Type::Reference => "reference",
                Type::Complex => "complex",
            },
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
            map.insert(
                "uniqueness".into(),
                json!(if self.unique { "server" } else { "none" }),
            );
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

fn multi_valued(name: &'static str, types: &'static [&'static str]) -> Attr {
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
