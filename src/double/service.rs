//! The double's SCIM service: one request in, one response out, over an
//! in-memory store. No I/O here; [`super::server`] puts it on the network.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::discovery;
use super::error::ScimError;
use super::patch;
use super::resource::{canonicalize, check_required, strip_read_only, tidy};
use super::variant::{Variant, Variants};
use crate::scim::filter::{AttrPath, Context, Filter, get_ci, matches, resolve, unknown_attribute};
use crate::scim::schema::{Kind, LIST_RESPONSE, ResourceSchema, Returned, SEARCH_REQUEST};

pub use super::limits::MAX_RESULTS;
pub use super::wire::{Request, Response, header_map};

#[derive(Debug, Clone)]
struct Stored {
    /// Canonical attributes, without id, meta and computed `groups`.
    attrs: Map<String, Value>,
    password: Option<String>,
    created: String,
    modified: String,
    version: u64,
}

/// The double's whole state.
#[derive(Debug)]
pub struct Service {
    base_url: String,
    token: Option<String>,
    users: ResourceSchema,
    groups: ResourceSchema,
    store: BTreeMap<Kind, indexmap::IndexMap<String, Stored>>,
    clock: u64,
    /// The RFC-legal choices this double makes differently from its defaults.
    variants: Variants,
    /// The last short id handed out (the `short-ids` variant).
    last_id: u64,
    /// The most resources held at once: a long `serve` must not grow
    /// without bound.
    max_resources: usize,
}

/// The default bound on the resources the double holds.
pub const MAX_RESOURCES: usize = 1_000_000;

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Service {
    pub fn new(base_url: impl Into<String>, token: Option<String>) -> Service {
        Service {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            token,
            users: ResourceSchema::for_kind(Kind::User),
            groups: ResourceSchema::for_kind(Kind::Group),
            store: BTreeMap::from([
                (Kind::User, Default::default()),
                (Kind::Group, Default::default()),
            ]),
            clock: 0,
            variants: Variants::default(),
            last_id: 0,
            max_resources: MAX_RESOURCES,
        }
    }

    /// Holds at most `max` resources; a create beyond them is answered 507.
    pub fn with_max_resources(mut self, max: usize) -> Service {
        self.max_resources = max;
        self
    }

    /// The double with some RFC-legal variants ([`Variant`]).
    pub fn with_variants(mut self, variants: Variants) -> Service {
        if variants.has(Variant::StrictUser) {
            discovery::make_strict(&mut self.users.core);
        }
        self.variants = variants;
        self
    }

    fn has(&self, variant: Variant) -> bool {
        self.variants.has(variant)
    }

    /// Moves the resource `from` to the id `to`, as a server that reuses
    /// ids would hand a deleted one to its next resource. RFC 7643 3.1
    /// forbids it; tests use it to prove cleanups delete only the run's own.
    pub fn reassign_id(&mut self, kind: Kind, from: &str, to: &str) -> bool {
        let store = self.store.get_mut(&kind).expect("every kind has a store");
        if store.contains_key(to) {
            return false;
        }
        match store.shift_remove(from) {
            Some(stored) => {
                store.insert(to.to_string(), stored);
                true
            }
            None => false,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn schema(&self, kind: Kind) -> &ResourceSchema {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    pub fn handle(&mut self, request: &Request) -> Response {
        let mut response = if let Some(denied) = self.authenticate(request) {
            denied
        } else {
            self.route(request).unwrap_or_else(Response::from)
        };
        if response.body.is_some() {
            response = response.header("content-type", "application/scim+json");
        }
        response
    }

    fn authenticate(&self, request: &Request) -> Option<Response> {
        let token = self.token.as_ref()?;
        let given = request.headers.get("authorization");
        let ok = given.is_some_and(|h| {
            h.split_once(' ').is_some_and(|(scheme, t)| {
                scheme.eq_ignore_ascii_case("bearer") && t.trim() == token
            })
        });
        if ok {
            return None;
        }
        let detail = if given.is_some() {
            "the bearer token is not valid"
        } else {
            "authentication is required"
        };
        Some(
            Response::from(ScimError::new(401, None, detail))
                .header("www-authenticate", "Bearer realm=\"scimcheck\""),
        )
    }

    /// One request, once authenticated.
    pub(super) fn route(&mut self, request: &Request) -> Result<Response, ScimError> {
        let path = request.path.trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let method = request.method.as_str();
        let kind = |name: &str| match name {
            "Users" => Some(Kind::User),
            "Groups" => Some(Kind::Group),
            _ => None,
        };
        let discovery = matches!(
            segments.first(),
            Some(&("ServiceProviderConfig" | "ResourceTypes" | "Schemas"))
        );
        // RFC 7644 4: a filter here SHOULD get 403, lest a client believe it applied.
        if discovery
            && method == "GET"
            && request
                .query
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("filter"))
        {
            return Err(ScimError::new(
                403,
                None,
                "discovery endpoints do not take a filter",
            ));
        }
        match (method, segments.as_slice()) {
            ("GET", ["ServiceProviderConfig"]) => Ok(Response::json(
                200,
                discovery::service_provider_config(&self.base_url, &self.variants),
            )),
            ("GET", ["ResourceTypes"]) => Ok(Response::json(
                200,
                list_of(discovery::resource_types(&self.base_url)),
            )),
            ("GET", ["ResourceTypes", name]) => discovery::resource_types(&self.base_url)
                .into_iter()
                .find(|r| r["id"] == *name)
                .map(|r| Response::json(200, r))
                .ok_or_else(|| ScimError::not_found(format!("no resource type `{name}`"))),
            ("GET", ["Schemas"]) => Ok(Response::json(
                200,
                list_of(discovery::schemas(&self.base_url, &self.variants)),
            )),
            ("GET", ["Schemas", urn]) => discovery::schemas(&self.base_url, &self.variants)
                .into_iter()
                .find(|s| s["id"] == *urn)
                .map(|s| Response::json(200, s))
                .ok_or_else(|| ScimError::not_found(format!("no schema `{urn}`"))),
            (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => {
                Err(ScimError::new(
                    405,
                    None,
                    format!("{method} is not allowed on discovery endpoints"),
                ))
            }
            ("POST", ["Bulk"]) if self.has(Variant::NoBulk) => {
                Err(ScimError::new(501, None, "Bulk is not supported"))
            }
            ("POST", ["Bulk"]) => super::bulk::bulk(&mut |sub| self.route(sub), request),
            (_, ["Bulk"]) => Err(ScimError::new(
                405,
                None,
                format!("{method} is not allowed on /Bulk"),
            )),
            (_, ["Me", ..]) => Err(ScimError::new(
                501,
                None,
                "the /Me endpoint is not supported",
            )),
            ("POST", [".search"]) if self.has(Variant::NoRootSearch) => Err(ScimError::new(
                501,
                None,
                "queries at the root are not supported",
            )),
            ("POST", [".search"]) => {
                let params = search_params(&request.body)?;
                self.list(&[Kind::User, Kind::Group], &params)
            }
            (_, [name, rest @ ..]) if kind(name).is_some() => {
                let kind = kind(name).expect("checked");
                match (method, rest) {
                    ("GET", []) => self.list(&[kind], &query_params(&request.query)),
                    ("POST", [".search"]) if self.has(Variant::NoSearch) => {
                        Err(ScimError::new(501, None, "search by POST is not supported"))
                    }
                    ("POST", [".search"]) => {
                        let params = search_params(&request.body)?;
                        self.list(&[kind], &params)
                    }
                    ("POST", []) => self.create(kind, request),
                    ("GET", [id]) => self.get(kind, id, request),
                    ("PUT", [id]) => self.replace(kind, id, request),
                    ("PATCH", [id]) => self.patch(kind, id, request),
                    ("DELETE", [id]) => self.delete(kind, id, request),
                    (_, [] | [_]) => Err(ScimError::new(
                        405,
                        None,
                        format!("{method} is not allowed here"),
                    )),
                    _ => Err(ScimError::not_found(format!("no endpoint at {path}"))),
                }
            }
            _ => Err(ScimError::not_found(format!("no endpoint at {path}"))),
        }
    }

    fn body(request: &Request) -> Result<Value, ScimError> {
        serde_json::from_slice(&request.body)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
    }

    fn location(&self, kind: Kind, id: &str) -> String {
        format!("{}/{}/{id}", self.base_url, kind.endpoint())
    }

    fn etag(stored: &Stored) -> String {
        format!("W/\"{}\"", stored.version)
    }

    /// The resource as the client sees it: id, meta and, for users, `groups`.
    fn render(&self, kind: Kind, id: &str, stored: &Stored) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        for (k, v) in &stored.attrs {
            out.insert(k.clone(), v.clone());
        }
        if kind == Kind::User && !self.has(Variant::NoUserGroups) {
            let groups: Vec<Value> = self.store[&Kind::Group]
                .iter()
                .filter(|(_, g)| member_ids(&g.attrs).any(|m| m == id))
                .map(|(gid, g)| {
                    json!({
                        "value": gid,
                        "$ref": self.location(Kind::Group, gid),
                        "display": g.attrs.get("displayName").cloned().unwrap_or(Value::Null),
                        "type": "direct",
                    })
                })
                .collect();
            if !groups.is_empty() {
                out.insert("groups".into(), Value::Array(groups));
            }
        }
        out.insert(
            "meta".into(),
            json!({
                "resourceType": kind.name(),
                "created": stored.created,
                "lastModified": stored.modified,
                "location": self.location(kind, id),
                "version": Self::etag(stored),
            }),
        );
        if self.has(Variant::NoEtag)
            && let Some(Value::Object(meta)) = out.get_mut("meta")
        {
            meta.remove("version");
        }
        Value::Object(out)
    }

    fn lookup(&self, kind: Kind, id: &str) -> Result<&Stored, ScimError> {
        self.store[&kind]
            .get(id)
            .ok_or_else(|| ScimError::not_found(format!("{} `{id}` not found", kind.name())))
    }

    fn single(
        &self,
        kind: Kind,
        id: &str,
        status: u16,
        request: &Request,
    ) -> Result<Response, ScimError> {
        let stored = self.lookup(kind, id)?;
        let params = query_params(&request.query);
        let body = project(self.schema(kind), self.render(kind, id, stored), &params)?;
        let response = Response::json(status, body).header("location", self.location(kind, id));
        Ok(if self.has(Variant::NoEtag) {
            response
        } else {
            response.header("etag", Self::etag(stored))
        })
    }

    fn get(&self, kind: Kind, id: &str, request: &Request) -> Result<Response, ScimError> {
        let stored = self.lookup(kind, id)?;
        if let Some(tags) = request.headers.get("if-none-match")
            && !self.has(Variant::NoEtag)
            && etag_matches(tags, &Self::etag(stored))
        {
            return Ok(Response::empty(304).header("etag", Self::etag(stored)));
        }
        self.single(kind, id, 200, request)
    }

    fn check_if_match(&self, kind: Kind, id: &str, request: &Request) -> Result<(), ScimError> {
        let stored = self.lookup(kind, id)?;
        if self.has(Variant::NoEtag) {
            return Ok(());
        }
        match request.headers.get("if-match") {
            Some(tags) if !etag_matches(tags, &Self::etag(stored)) => Err(ScimError::new(
                412,
                None,
                format!(
                    "If-Match {tags} does not match the current version {}",
                    Self::etag(stored)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Canonical attributes from a POST or PUT body.
    fn incoming(
        &self,
        kind: Kind,
        body: &Value,
    ) -> Result<(Map<String, Value>, Option<String>), ScimError> {
        let schema = self.schema(kind);
        let declared = body
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(schema.core.id))
                })
            });
        if !declared {
            return Err(ScimError::invalid_syntax(format!(
                "`schemas` must include {}",
                schema.core.id
            )));
        }
        let mut attrs = canonicalize(schema, body)?;
        strip_read_only(schema, &mut attrs);
        let password = take_password(&mut attrs);
        tidy(schema, &mut attrs);
        Ok((attrs, password))
    }

    /// What must hold of attributes before they are stored.
    fn validate(
        &self,
        kind: Kind,
        id: Option<&str>,
        attrs: &Map<String, Value>,
    ) -> Result<(), ScimError> {
        let schema = self.schema(kind);
        check_required(schema, attrs)?;
        let (key, label) = match kind {
            Kind::User => ("userName", "userName"),
            Kind::Group => ("displayName", "displayName"),
        };
        // caseExact false, uniqueness server (RFC 7643 4.1.1): compare ignoring case.
        let wanted = attrs
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let taken = self.store[&kind].iter().any(|(other, s)| {
            Some(other.as_str()) != id
                && s.attrs
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
                    == wanted
        });
        if taken {
            return Err(ScimError::uniqueness(format!(
                "a {} with this {label} already exists",
                kind.name()
            )));
        }
        for member in member_ids(attrs) {
            let known = self.store[&Kind::User].contains_key(member)
                || self.store[&Kind::Group].contains_key(member);
            if !known || Some(member) == id {
                return Err(ScimError::invalid_value(format!(
                    "member `{member}` is not a known User or Group"
                )));
            }
        }
        Ok(())
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn create(&mut self, kind: Kind, request: &Request) -> Result<Response, ScimError> {
        let held: usize = self.store.values().map(|s| s.len()).sum();
        if held >= self.max_resources {
            return Err(ScimError::new(
                507,
                None,
                format!(
                    "the double holds its most resources ({}): delete some first",
                    self.max_resources
                ),
            ));
        }
        let body = Self::body(request)?;
        let (attrs, password) = self.incoming(kind, &body)?;
        self.validate(kind, None, &attrs)?;
        let id = if self.has(Variant::ShortIds) {
            self.last_id += 1;
            self.last_id.to_string()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let at = now();
        let version = self.tick();
        self.store
            .get_mut(&kind)
            .expect("every kind has a store")
            .insert(
                id.clone(),
                Stored {
                    attrs,
                    password,
                    created: at.clone(),
                    modified: at,
                    version,
                },
            );
        self.single(kind, &id, 201, request)
    }

    fn replace(&mut self, kind: Kind, id: &str, request: &Request) -> Result<Response, ScimError> {
        self.check_if_match(kind, id, request)?;
        let body = Self::body(request)?;
        let (attrs, password) = self.incoming(kind, &body)?;
        self.validate(kind, Some(id), &attrs)?;
        self.commit(kind, id, attrs, password);
        self.single(kind, id, 200, request)
    }

    fn patch(&mut self, kind: Kind, id: &str, request: &Request) -> Result<Response, ScimError> {
        self.check_if_match(kind, id, request)?;
        let body = Self::body(request)?;
        let schema = self.schema(kind);
        let mut attrs = self.lookup(kind, id)?.attrs.clone();
        // The id is part of the resource a PATCH sees (a client may name it, unchanged).
        attrs.insert("id".into(), Value::String(id.to_string()));
        patch::apply(schema, &mut attrs, &body)?;
        attrs.remove("id");
        let password = take_password(&mut attrs);
        tidy(schema, &mut attrs);
        // A PATCH leaving a required attribute unassigned is a mutability
        // error (RFC 7644 3.5.2.2), not a missing value in a body.
        check_required(schema, &attrs).map_err(|e| ScimError::mutability(e.detail))?;
        self.validate(kind, Some(id), &attrs)?;
        self.commit(kind, id, attrs, password);
        if self.has(Variant::Patch204) {
            return Ok(Response::empty(204));
        }
        self.single(kind, id, 200, request)
    }

    /// Stores validated attributes; the version and lastModified move only on a change.
    fn commit(
        &mut self,
        kind: Kind,
        id: &str,
        attrs: Map<String, Value>,
        password: Option<String>,
    ) {
        let unchanged = self.store[&kind].get(id).is_some_and(|s| s.attrs == attrs);
        if unchanged && password.is_none() {
            return;
        }
        let version = self.tick();
        let stored = self
            .store
            .get_mut(&kind)
            .and_then(|s| s.get_mut(id))
            .expect("validated resources exist");
        stored.attrs = attrs;
        if password.is_some() {
            stored.password = password;
        }
        stored.modified = now();
        stored.version = version;
    }

    fn delete(&mut self, kind: Kind, id: &str, request: &Request) -> Result<Response, ScimError> {
        self.check_if_match(kind, id, request)?;
        self.store.get_mut(&kind).and_then(|s| s.shift_remove(id));
        // A deleted resource is no longer anyone's member.
        let version = self.tick();
        let groups_schema = &self.groups;
        for group in self
            .store
            .get_mut(&Kind::Group)
            .expect("groups")
            .values_mut()
        {
            if let Some(Value::Array(members)) = group.attrs.get_mut("members") {
                let before = members.len();
                members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                if members.len() != before {
                    tidy(groups_schema, &mut group.attrs);
                    group.version = version;
                    group.modified = now();
                }
            }
        }
        Ok(Response::empty(204))
    }

    fn list(&self, kinds: &[Kind], params: &ListParams) -> Result<Response, ScimError> {
        let filter = match &params.filter {
            Some(text) => Some(Filter::parse(text).map_err(ScimError::invalid_filter)?),
            None => None,
        };
        if let Some(f) = &filter
            && self.has(Variant::EqAndOnly)
        {
            let used = f.beyond_eq_and();
            if !used.is_empty() {
                return Err(ScimError::invalid_filter(format!(
                    "only eq and and are supported in filters, not {}",
                    used.join(", ")
                )));
            }
        }
        // An attribute no resource type searched defines is refused, not matched by nothing.
        if let Some(f) = &filter {
            let unknown: Vec<String> = kinds
                .iter()
                .filter_map(|&k| unknown_attribute(f, Context::Resource(self.schema(k))))
                .collect();
            if unknown.len() == kinds.len()
                && let Some(name) = unknown.first()
            {
                return Err(ScimError::invalid_filter(format!(
                    "the filter names `{name}`, which is no attribute here"
                )));
            }
        }
        let mut hits: Vec<(Kind, Value)> = Vec::new();
        for &kind in kinds {
            let schema = self.schema(kind);
            for (id, stored) in &self.store[&kind] {
                // Rendering every resource is what a list costs: skip those
                // a plain equality cannot match before rendering them.
                if let Some(f) = &filter
                    && !may_match(f, &stored.attrs)
                {
                    continue;
                }
                let rendered = self.render(kind, id, stored);
                let keep = match &filter {
                    Some(f) => matches(f, Context::Resource(schema), &rendered)
                        .map_err(|e| ScimError::invalid_filter(e.0))?,
                    None => true,
                };
                if keep {
                    hits.push((kind, rendered));
                }
            }
        }
        let sort_by = params
            .sort_by
            .as_ref()
            .filter(|_| !self.has(Variant::NoSort));
        if let Some(sort_by) = sort_by {
            let path = AttrPath::parse(sort_by).map_err(ScimError::invalid_value)?;
            let key = |(kind, v): &(Kind, Value)| -> Option<(bool, String)> {
                let (values, def) = resolve(Context::Resource(self.schema(*kind)), v, &path);
                let first = values.first()?;
                let text = match first {
                    Value::String(s) if def.is_some_and(|d| d.case_exact) => s.clone(),
                    Value::String(s) => s.to_lowercase(),
                    // Numbers sort numerically when padded to a fixed width.
                    Value::Number(n) => format!("{:030.10}", n.as_f64().unwrap_or_default()),
                    other => other.to_string(),
                };
                Some((true, text))
            };
            let descending = params
                .sort_order
                .as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case("descending"));
            // Missing values sort last either way (RFC 7644 3.4.2.3).
            hits.sort_by(|a, b| match (key(a), key(b)) {
                (Some(x), Some(y)) if descending => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        let total = hits.len();
        let start = params.start_index.max(1);
        let count = params.count.unwrap_or(MAX_RESULTS).min(MAX_RESULTS);
        let page: Vec<Value> = hits
            .into_iter()
            .skip(start - 1)
            .take(count)
            .map(|(kind, v)| project(self.schema(kind), v, params))
            .collect::<Result<_, _>>()?;
        let mut body = json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        });
        if total == 0 && self.has(Variant::EmptyListWithoutResources) {
            body.as_object_mut().map(|b| b.remove("Resources"));
        }
        Ok(Response::json(200, body))
    }
}

fn member_ids(attrs: &Map<String, Value>) -> impl Iterator<Item = &str> {
    attrs
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
}

fn take_password(attrs: &mut Map<String, Value>) -> Option<String> {
    attrs
        .remove("password")
        .and_then(|p| p.as_str().map(str::to_string))
}

/// `If-Match`/`If-None-Match`: `*` or a list of tags, weak or strong.
/// False only when `filter` cannot hold for a resource with these stored
/// attributes: an `eq` of a stored string attribute (userName, displayName,
/// externalId) with a string that differs even ignoring case, or absent.
/// Anything else may match, and is left to the filter itself.
fn may_match(filter: &Filter, attrs: &Map<String, Value>) -> bool {
    match filter {
        Filter::Compare(path, crate::scim::filter::CompareOp::Eq, Value::String(want))
            if path.uri.is_none()
                && path.sub.is_none()
                && ["userName", "displayName", "externalId"]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&path.name)) =>
        {
            let stored = attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&path.name))
                .map(|(_, v)| v);
            match stored {
                Some(Value::String(have)) => have.to_lowercase() == want.to_lowercase(),
                Some(_) => true,
                None => false,
            }
        }
        Filter::And(a, b) => may_match(a, attrs) && may_match(b, attrs),
        _ => true,
    }
}

fn etag_matches(header: &str, current: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(current))
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: usize,
    pub count: Option<usize>,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn query_params(query: &[(String, String)]) -> ListParams {
    let mut params = ListParams {
        start_index: 1,
        ..ListParams::default()
    };
    for (name, value) in query {
        match name.to_ascii_lowercase().as_str() {
            "filter" => params.filter = Some(value.clone()),
            "sortby" => params.sort_by = Some(value.clone()),
            "sortorder" => params.sort_order = Some(value.clone()),
            // Non-numbers and values below 1 are read as 1 (RFC 7644 3.4.2.4).
            "startindex" => {
                params.start_index = value.trim().parse::<i64>().map_or(1, |n| n.max(1) as usize)
            }
            "count" => params.count = value.trim().parse::<i64>().ok().map(|n| n.max(0) as usize),
            "attributes" => params.attributes = split_list(value),
            "excludedattributes" => params.excluded = split_list(value),
            _ => {}
        }
    }
    params
}

/// The parameters of `POST /.search` (RFC 7644 3.4.3).
fn search_params(body: &[u8]) -> Result<ListParams, ScimError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    let declared = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST)));
    if !declared {
        return Err(ScimError::invalid_syntax(format!(
            "a search must declare {SEARCH_REQUEST}"
        )));
    }
    let text = |name: &str| {
        get_ci(&body, name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let list = |name: &str| match get_ci(&body, name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => split_list(s),
        _ => Vec::new(),
    };
    Ok(ListParams {
        filter: text("filter"),
        sort_by: text("sortBy"),
        sort_order: text("sortOrder"),
        start_index: get_ci(&body, "startIndex")
            .and_then(Value::as_i64)
            .map_or(1, |n| n.max(1) as usize),
        count: get_ci(&body, "count")
            .and_then(Value::as_i64)
            .map(|n| n.max(0) as usize),
        attributes: list("attributes"),
        excluded: list("excludedAttributes"),
    })
}

/// `attributes` / `excludedAttributes` (RFC 7644 3.4.2.5); `returned: always` stays.
fn project(
    schema: &ResourceSchema,
    resource: Value,
    params: &ListParams,
) -> Result<Value, ScimError> {
    let Value::Object(full) = resource else {
        return Ok(resource);
    };
    if params.attributes.is_empty() && params.excluded.is_empty() {
        return Ok(Value::Object(full));
    }
    let always = |key: &str| {
        key == "schemas"
            || schema
                .attr(None, key)
                .is_some_and(|a| a.returned == Returned::Always)
    };
    let parse = |names: &[String]| -> Result<Vec<AttrPath>, ScimError> {
        names
            .iter()
            .map(|n| AttrPath::parse(n).map_err(ScimError::invalid_value))
            .collect()
    };
    // Where a path's attribute lives: (container key or None for top level, attribute name).
    let locate = |path: &AttrPath| -> (Option<String>, Option<String>) {
        let ext = path
            .uri
            .as_deref()
            .and_then(|u| schema.extension(u))
            .map(|e| e.id.to_string());
        let name = schema
            .attr(path.uri.as_deref(), &path.name)
            .map(|a| a.name.to_string());
        (ext, name)
    };
    if !params.attributes.is_empty() {
        let mut out = Map::new();
        for (k, v) in &full {
            if always(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        for path in parse(&params.attributes)? {
            // A bare extension URN asks for the whole extension.
            if path.sub.is_none()
                && let Some(ext) = schema.extension(&path.to_string())
            {
                if let Some(v) = full.get(ext.id) {
                    out.insert(ext.id.to_string(), v.clone());
                }
                continue;
            }
            let (ext, Some(name)) = locate(&path) else {
                continue;
            };
            let source = match &ext {
                Some(e) => full.get(e).and_then(Value::as_object),
                None => Some(&full),
            };
            let Some(value) = source.and_then(|s| s.get(&name)) else {
                continue;
            };
            let picked = match &path.sub {
                None => value.clone(),
                Some(sub) => pick_sub(value, sub),
            };
            let target = match &ext {
                Some(e) => out
                    .entry(e.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("extension objects are objects"),
                None => &mut out,
            };
            merge_into(target, &name, picked);
        }
        return Ok(Value::Object(out));
    }
    let mut out = full;
    for path in parse(&params.excluded)? {
        if let Some(ext) = schema.extension(&path.to_string()) {
            out.remove(ext.id);
            continue;
        }
        let (ext, Some(name)) = locate(&path) else {
            continue;
        };
        if ext.is_none() && always(&name) {
            continue;
        }
        let container = match &ext {
            Some(e) => out.get_mut(e).and_then(Value::as_object_mut),
            None => Some(&mut out),
        };
        let Some(container) = container else { continue };
        match &path.sub {
            None => {
                container.remove(&name);
            }
            Some(sub) => match container.get_mut(&name) {
                Some(Value::Object(o)) => {
                    o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        item.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                    }
                }
                _ => {}
            },
        }
    }
    Ok(Value::Object(out))
}

fn pick_sub(value: &Value, sub: &str) -> Value {
    let pick = |v: &Value| {
        let mut m = Map::new();
        if let Some(x) = get_ci(v, sub) {
            let key = v
                .as_object()
                .and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case(sub)).cloned())
                .unwrap_or_else(|| sub.to_string());
            m.insert(key, x.clone());
        }
        Value::Object(m)
    };
    match value {
        Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
        v => pick(v),
    }
}

/// Merges two picks of sub-attributes of the same attribute.
fn merge_into(target: &mut Map<String, Value>, name: &str, picked: Value) {
    match (target.get_mut(name), picked) {
        (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
        (Some(Value::Array(existing)), Value::Array(new)) if existing.len() == new.len() => {
            for (e, n) in existing.iter_mut().zip(new) {
                if let (Value::Object(e), Value::Object(n)) = (e, n) {
                    e.extend(n);
                }
            }
        }
        (_, picked) => {
            target.insert(name.to_string(), picked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, body: Option<Value>) -> Request {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (
                p.to_string(),
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.replace("%20", " ").replace("%22", "\"")))
                    .collect(),
            ),
            None => (path.to_string(), Vec::new()),
        };
        Request {
            method: method.into(),
            path,
            query,
            headers: BTreeMap::new(),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        }
    }

    fn create_user(s: &mut Service, name: &str) -> String {
        let r = s.handle(&request(
            "POST",
            "/Users",
            Some(json!({"schemas": [crate::scim::schema::USER], "userName": name, "password": "secret", "active": true})),
        ));
        assert_eq!(r.status, 201, "{r:?}");
        r.body.unwrap()["id"].as_str().unwrap().to_string()
    }

    #[test]
    fn a_filter_on_an_unknown_attribute_is_invalid_filter() {
        let mut s = Service::new("http://127.0.0.1:1", None);
        create_user(&mut s, "alice@example.com");
        let r = s.handle(&request(
            "GET",
            "/Users?filter=nickname2%20eq%20%22x%22",
            None,
        ));
        assert_eq!(r.status, 400);
        assert_eq!(r.body.unwrap()["scimType"], json!("invalidFilter"));
        let r = s.handle(&request(
            "GET",
            "/Users?filter=emails[colour%20eq%20%22x%22]",
            None,
        ));
        assert_eq!(r.status, 400);
        // Known attributes, sub-attributes in value paths, and extension URNs are fine.
        for filter in [
            "emails[type%20eq%20%22work%22]",
            "name.givenName%20pr",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department%20eq%20%22x%22",
            "meta.lastModified%20gt%20%222020-01-01T00:00:00Z%22",
        ] {
            let r = s.handle(&request("GET", &format!("/Users?filter={filter}"), None));
            assert_eq!(r.status, 200, "{filter}");
        }
    }

    #[test]
    fn create_then_find_case_insensitively() {
        let mut s = Service::new("http://127.0.0.1:1", None);
        let id = create_user(&mut s, "Alice@Example.com");
        let r = s.handle(&request(
            "GET",
            "/Users?filter=userName%20eq%20%22alice@example.COM%22",
            None,
        ));
        let body = r.body.unwrap();
        assert_eq!(body["totalResults"], json!(1));
        assert_eq!(body["Resources"][0]["id"], json!(id));
        assert!(
            body["Resources"][0].get("password").is_none(),
            "password is returned never"
        );
        let r = s.handle(&request(
            "POST",
            "/Users",
            Some(json!({"schemas": [crate::scim::schema::USER], "userName": "ALICE@example.com"})),
        ));
        assert_eq!(r.status, 409);
        assert_eq!(r.body.unwrap()["scimType"], json!("uniqueness"));
    }

    #[test]
    fn errors_are_scim_errors_with_string_status() {
        let mut s = Service::new("http://127.0.0.1:1", Some("t0k".into()));
        let r = s.handle(&request("GET", "/Users", None));
        assert_eq!(r.status, 401);
        assert_eq!(r.body.as_ref().unwrap()["status"], json!("401"));
        assert!(r.headers.iter().any(|(k, _)| k == "www-authenticate"));
        assert!(
            r.headers
                .contains(&("content-type".into(), "application/scim+json".into()))
        );
        let mut s = Service::new("http://127.0.0.1:1", None);
        let r = s.handle(&request(
            "GET",
            "/Users?filter=userName%20zz%20%22a%22",
            None,
        ));
        assert_eq!(r.body.unwrap()["scimType"], json!("invalidFilter"));
        let r = s.handle(&request("GET", "/Users/nope", None));
        assert_eq!(r.status, 404);
        let r = s.handle(&Request {
            body: b"{nope".to_vec(),
            ..request("POST", "/Users", None)
        });
        assert_eq!(r.body.unwrap()["scimType"], json!("invalidSyntax"));
    }

    #[test]
    fn pagination_and_sorting() {
        let mut s = Service::new("http://127.0.0.1:1", None);
        for name in ["c", "a", "b"] {
            create_user(&mut s, name);
        }
        let r = s.handle(&request(
            "GET",
            "/Users?sortBy=userName&startIndex=2&count=1",
            None,
        ));
        let body = r.body.unwrap();
        assert_eq!(body["totalResults"], json!(3));
        assert_eq!(body["itemsPerPage"], json!(1));
        assert_eq!(body["Resources"][0]["userName"], json!("b"));
        let r = s.handle(&request("GET", "/Users?count=0", None));
        assert_eq!(r.body.unwrap()["Resources"], json!([]));
    }

    #[test]
    fn groups_reflect_members_and_excluded_attributes() {
        let mut s = Service::new("http://127.0.0.1:1", None);
        let u = create_user(&mut s, "m");
        let r = s.handle(&request("POST", "/Groups", Some(json!({"schemas": [crate::scim::schema::GROUP], "displayName": "G", "members": [{"value": u}]}))));
        assert_eq!(r.status, 201);
        let gid = r.body.unwrap()["id"].as_str().unwrap().to_string();
        let user = s
            .handle(&request("GET", &format!("/Users/{u}"), None))
            .body
            .unwrap();
        assert_eq!(user["groups"][0]["value"], json!(gid));
        let g = s
            .handle(&request(
                "GET",
                &format!("/Groups/{gid}?excludedAttributes=members"),
                None,
            ))
            .body
            .unwrap();
        assert!(g.get("members").is_none());
        assert_eq!(g["displayName"], json!("G"));
        let g = s
            .handle(&request(
                "GET",
                &format!("/Groups/{gid}?attributes=displayName"),
                None,
            ))
            .body
            .unwrap();
        assert_eq!(
            g.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "schemas", "displayName"]
        );
        assert_eq!(
            s.handle(&request("DELETE", &format!("/Users/{u}"), None))
                .status,
            204
        );
        let g = s
            .handle(&request("GET", &format!("/Groups/{gid}"), None))
            .body
            .unwrap();
        assert!(g.get("members").is_none(), "a deleted user is no member");
    }

    #[test]
    fn etags_guard_writes_and_reads() {
        let mut s = Service::new("http://127.0.0.1:1", None);
        let id = create_user(&mut s, "e");
        let r = s.handle(&request("GET", &format!("/Users/{id}"), None));
        let etag = r
            .headers
            .iter()
            .find(|(k, _)| k == "etag")
            .unwrap()
            .1
            .clone();
        let mut conditional = request("GET", &format!("/Users/{id}"), None);
        conditional
            .headers
            .insert("if-none-match".into(), etag.clone());
        assert_eq!(s.handle(&conditional).status, 304);
        let mut stale = request("DELETE", &format!("/Users/{id}"), None);
        stale.headers.insert("if-match".into(), "W/\"999\"".into());
        assert_eq!(s.handle(&stale).status, 412);
    }
}

#[cfg(test)]
mod bulk_tests {
    //! Bulk requests, through the service as a client sends them.
    use super::*;
    use crate::double::bulk::BULK_REQUEST;

    fn post(service: &mut Service, body: Value) -> Value {
        let request = Request {
            method: "POST".into(),
            path: "/Bulk".into(),
            query: Vec::new(),
            headers: Default::default(),
            body: body.to_string().into_bytes(),
        };
        let response = service.handle(&request);
        assert_eq!(response.status, 200, "{response:?}");
        response.body.unwrap()
    }

    #[test]
    fn a_group_can_name_a_user_created_in_the_same_request() {
        let mut service = Service::new("http://scim.test", None);
        let out = post(
            &mut service,
            json!({
                "schemas": [BULK_REQUEST],
                "Operations": [
                    { "method": "POST", "path": "/Users", "bulkId": "u1",
                      "data": { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice" } },
                    { "method": "POST", "path": "/Groups", "bulkId": "g1",
                      "data": { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "team",
                                "members": [{ "value": "bulkId:u1" }] } },
                ],
            }),
        );
        let ops = out["Operations"].as_array().unwrap();
        assert_eq!(ops[0]["status"], "201", "{out}");
        assert_eq!(ops[1]["status"], "201", "{out}");
        let id_of = |op: &Value| {
            op["location"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        };
        let (user, group) = (id_of(&ops[0]), id_of(&ops[1]));
        let got = service.handle(&Request {
            method: "GET".into(),
            path: format!("/Groups/{group}"),
            query: Vec::new(),
            headers: Default::default(),
            body: Vec::new(),
        });
        assert_eq!(got.body.unwrap()["members"][0]["value"], user.as_str());
    }

    #[test]
    fn fail_on_errors_stops_after_that_many_errors() {
        let mut service = Service::new("http://scim.test", None);
        let bad = json!({ "method": "POST", "path": "/Users", "bulkId": "x", "data": { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"] } });
        let good = json!({ "method": "POST", "path": "/Users", "bulkId": "y", "data": { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob" } });
        let out = post(
            &mut service,
            json!({ "schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": [bad, good] }),
        );
        let ops = out["Operations"].as_array().unwrap();
        assert_eq!(ops.len(), 1, "{out}");
        assert_eq!(ops[0]["status"], "400");
        assert_eq!(ops[0]["response"]["scimType"], "invalidValue");
    }

    #[test]
    fn an_unknown_bulk_id_is_an_error_of_that_operation() {
        let mut service = Service::new("http://scim.test", None);
        let out = post(
            &mut service,
            json!({ "schemas": [BULK_REQUEST], "Operations": [
                { "method": "DELETE", "path": "/Users/bulkId:nobody" } ] }),
        );
        assert_eq!(out["Operations"][0]["status"], "409", "{out}");
    }
}
