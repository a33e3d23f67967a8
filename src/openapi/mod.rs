//! OpenAPI 3.0 / 3.1 specs: read from JSON or YAML, local `$ref`s resolved, operations
//! indexed by path template, and matched to a request by server URL then path. The
//! editor features (`ide/openapi.rs`), `import openapi` and the demo API read specs
//! through this module. A spec that cannot be read is an error message, never a panic.

pub mod cache;
pub mod example;
pub mod import;
pub mod schema_walk;
pub mod sources;
pub mod validate;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use cache::{Loaded, load};
pub use sources::{SpecSource, spec_sources};

/// How many `$ref` hops are followed before giving up (a cycle of references).
const MAX_REF_HOPS: usize = 32;

/// One parsed spec.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub title: String,
    pub version: String,
    pub servers: Vec<Server>,
    pub operations: Vec<Operation>,
    pub security_schemes: Vec<SecurityScheme>,
    /// Path template -> indexes into `operations`.
    by_path: BTreeMap<String, Vec<usize>>,
    /// The whole document, for schemas read on demand (`$ref`s inside it).
    pub root: Value,
    /// Schemas compiled for checking, kept for the next check (`validate.rs`).
    validators: validate::Validators,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The URL with its `{variables}` replaced by their defaults.
    pub url: String,
    /// The URL as the spec writes it: `{variables}` match any value of theirs.
    pub template: String,
    pub description: Option<String>,
}

impl Server {
    /// The base path's segments, as templates (`{tenantId}`, `V1`).
    pub fn base_path_segments(&self) -> Vec<String> {
        path_of(&self.template)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `scheme://host[:port]` as a template, if the URL is absolute.
    pub fn origin(&self) -> Option<&str> {
        origin_of(&self.template)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamIn {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub location: ParamIn,
    pub required: bool,
    /// `string`, `integer`, `array of string`, ... (empty when the spec gives none).
    pub type_name: String,
    pub description: Option<String>,
    /// `example`, else the first of `examples`, else the schema's example or default.
    pub example: Option<Value>,
    pub enum_values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    pub required: bool,
    pub content_type: String,
    /// The schema as the spec writes it (`$ref`s not followed: walks follow them
    /// against the spec's `root`, so a spec whose schemas reference each other densely
    /// costs nothing when it is read), if any.
    pub schema: Option<Value>,
    /// `example`, else the first of `examples`.
    pub example: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// The path template as the spec writes it: `/products/{sku}`.
    pub path: String,
    pub operation_id: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Path-level parameters merged with the operation's (the operation's win).
    pub parameters: Vec<Parameter>,
    pub body: Option<RequestBody>,
    /// `(code, description)` in the spec's order.
    pub responses: Vec<(String, String)>,
    /// Security scheme names that the operation (or the spec's default) requires; an
    /// empty list: none.
    pub security: Vec<String>,
}

impl Operation {
    pub fn params(&self, location: ParamIn) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(move |p| p.location == location)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    OAuth2 {
        /// `(flow name, authorization URL, token URL, scopes)`.
        flows: Vec<OAuthFlow>,
    },
    OpenIdConnect {
        url: String,
    },
    ApiKey {
        name: String,
        location: String,
    },
    Http {
        scheme: String,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthFlow {
    /// `authorizationCode`, `clientCredentials`, `implicit`, `password`.
    pub flow: String,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    pub name: String,
    pub kind: SchemeKind,
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads a spec from its text: JSON when it starts with `{`, else YAML. The error is
/// one sentence (with a line for syntax errors).
pub fn parse(text: &str) -> Result<Spec, String> {
    let root: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("the spec is not valid JSON: {e}"))?
    } else {
        yaml_to_json(text)?
    };
    from_value(root)
}

/// How deep a YAML spec may nest.
const MAX_YAML_DEPTH: usize = 256;
const NOT_SCALAR_KEY: &str = "the spec has a mapping key that is not a scalar";

/// A YAML document as JSON values, read in one pass: keys that are numbers or booleans
/// (`200:` under `responses`) become strings; tags are dropped. (Reading into the YAML
/// crate's own `Value` first and converting that took a third of the time.)
fn yaml_to_json(text: &str) -> Result<Value, String> {
    use serde::de::DeserializeSeed;
    let de = serde_norway::Deserializer::from_str(text);
    match (Yaml { depth: 0 }).deserialize(de) {
        Ok(v) => Ok(v),
        // These two are about the spec's shape, not its syntax: the sentence alone.
        Err(e) if e.to_string().starts_with(NOT_SCALAR_KEY) => Err(NOT_SCALAR_KEY.into()),
        Err(e) if e.to_string().starts_with("the spec nests deeper") => Err(format!(
            "the spec nests deeper than {MAX_YAML_DEPTH} levels"
        )),
        Err(e) => Err(format!("the spec is not valid YAML: {e}")),
    }
}

/// Reads a YAML document straight into JSON values, without the YAML crate's own
/// `Value` in between: keys that are numbers or booleans (`200:` under `responses`)
/// become strings, tags are dropped, and a key written twice is an error (as in YAML).
struct Yaml {
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Yaml {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Yaml {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        // `.inf` and `.nan` have no JSON form.
        Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(Yaml { depth: inner })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(YamlKey)? {
            let value = map.next_value_seed(Yaml { depth: inner })?;
            match out.entry(key) {
                serde_json::map::Entry::Occupied(e) => {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate entry with key {:?}",
                        e.key()
                    )));
                }
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// A tagged value (`!Thing value`): the value, without its tag.
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use serde::de::VariantAccess;
        let inner = self.deeper()?;
        let (_, contents) = data.variant::<serde::de::IgnoredAny>()?;
        contents.newtype_variant_seed(Yaml { depth: inner })
    }
}

impl Yaml {
    fn deeper<E: serde::de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_YAML_DEPTH {
            return Err(E::custom(format!(
                "the spec nests deeper than {MAX_YAML_DEPTH} levels"
            )));
        }
        Ok(self.depth + 1)
    }
}

/// A mapping key as a JSON key: a scalar as its text.
struct YamlKey;

impl<'de> serde::de::DeserializeSeed<'de> for YamlKey {
    type Value = String;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for YamlKey {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_bool<E>(self, b: bool) -> Result<String, E> {
        Ok(b.to_string())
    }

    fn visit_i64<E>(self, i: i64) -> Result<String, E> {
        Ok(i.to_string())
    }

    fn visit_u64<E>(self, u: u64) -> Result<String, E> {
        Ok(u.to_string())
    }

    fn visit_f64<E>(self, f: f64) -> Result<String, E> {
        Ok(serde_norway::Number::from(f).to_string())
    }

    fn visit_str<E>(self, s: &str) -> Result<String, E> {
        Ok(s.to_string())
    }

    fn visit_string<E>(self, s: String) -> Result<String, E> {
        Ok(s)
    }

    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".into())
    }

    fn visit_none<E>(self) -> Result<String, E> {
        Ok("null".into())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(serde::de::Error::custom(NOT_SCALAR_KEY))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(serde::de::Error::custom(NOT_SCALAR_KEY))
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(serde::de::Error::custom(NOT_SCALAR_KEY))
    }
}

/// Follows `$ref`s (`#/...` only) from `v` until a value without one.
pub fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..MAX_REF_HOPS {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

/// How many values one [`inline`] copies at most. A spec whose schemas reference each
/// other densely (each one two others, thirty deep) would otherwise be copied into
/// billions of values; an ordinary request or response schema is a few hundred.
pub const MAX_INLINED_NODES: usize = 20_000;

/// A copy of `schema` with every local `$ref` replaced by what it points to, down to
/// `depth` levels (deeper, and on a cycle, an empty schema `{}`). At most
/// [`MAX_INLINED_NODES`] values are copied: past that, the rest is left out (an empty
/// schema, or the members not reached yet: less is checked, never more) and a warning
/// is logged. Walks that can follow `$ref`s as they go
/// (`schema_walk`, `example::from_schema_in`, `validate`) need no copy at all.
pub fn inline(root: &Value, schema: &Value, depth: usize) -> Value {
    struct Copy<'a> {
        root: &'a Value,
        seen: Vec<&'a str>,
        budget: usize,
        cut: bool,
    }
    impl<'a> Copy<'a> {
        fn go(&mut self, v: &'a Value, depth: usize) -> Value {
            if self.budget == 0 {
                self.cut = true;
                return Value::Object(Map::new());
            }
            self.budget -= 1;
            if depth == 0 {
                return Value::Object(Map::new());
            }
            match v {
                Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                        if self.seen.contains(&r) {
                            return Value::Object(Map::new());
                        }
                        let Some(target) = r.strip_prefix('#').and_then(|p| self.root.pointer(p))
                        else {
                            return v.clone();
                        };
                        self.seen.push(r);
                        let mut out = self.go(target, depth - 1);
                        self.seen.pop();
                        // 3.1: keywords beside `$ref` apply too.
                        if let Value::Object(o) = &mut out {
                            for (k, x) in m {
                                if k != "$ref" {
                                    let x = self.go(x, depth - 1);
                                    o.insert(k.clone(), x);
                                }
                            }
                        }
                        return out;
                    }
                    // Out of budget, the rest of a mapping or list is left out.
                    let mut out = Map::new();
                    for (k, x) in m {
                        if self.budget == 0 {
                            self.cut = true;
                            break;
                        }
                        let x = self.go(x, depth - 1);
                        out.insert(k.clone(), x);
                    }
                    Value::Object(out)
                }
                Value::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for x in a {
                        if self.budget == 0 {
                            self.cut = true;
                            break;
                        }
                        out.push(self.go(x, depth - 1));
                    }
                    Value::Array(out)
                }
                other => other.clone(),
            }
        }
    }
    let mut c = Copy {
        root,
        seen: Vec::new(),
        budget: MAX_INLINED_NODES,
        cut: false,
    };
    let out = c.go(schema, depth);
    if c.cut {
        tracing::warn!(
            "a schema of the spec reaches more than {MAX_INLINED_NODES} values through its `$ref`s: \
             the copy stops there, and what is left is taken as any value"
        );
    }
    out
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `string`, `integer`, `array of string`, `Product` (a `$ref`'s last segment).
fn type_name(root: &Value, schema: &Value) -> String {
    type_name_within(root, schema, 8)
}

/// [`type_name`], `depth` levels of `$ref`s and `items` at most (a schema that is an
/// array of itself ends).
fn type_name_within(root: &Value, schema: &Value, depth: usize) -> String {
    if depth == 0 {
        return String::new();
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let resolved = resolve(root, schema);
        let t = type_name_within(root, resolved, depth - 1);
        if !t.is_empty() && t != "object" {
            return t;
        }
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    let t = match schema.get("type") {
        Some(Value::String(s)) => s.clone(),
        // 3.1: `type: [string, "null"]`.
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| *s != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    };
    if t == "array"
        && let Some(items) = schema.get("items")
    {
        let inner = type_name_within(root, items, depth - 1);
        if !inner.is_empty() {
            return format!("array of {inner}");
        }
    }
    t
}

fn first_example(v: &Value) -> Option<Value> {
    if let Some(e) = v.get("example") {
        return Some(e.clone());
    }
    v.get("examples")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
        .map(|e| e.get("value").cloned().unwrap_or_else(|| e.clone()))
}

fn parameter(root: &Value, p: &Value) -> Option<Parameter> {
    let p = resolve(root, p);
    let name = str_of(p, "name")?;
    let location = match p.get("in").and_then(Value::as_str)? {
        "path" => ParamIn::Path,
        "query" => ParamIn::Query,
        "header" => ParamIn::Header,
        "cookie" => ParamIn::Cookie,
        _ => return None,
    };
    let schema = p.get("schema").map(|s| resolve(root, s));
    let example = first_example(p)
        .or_else(|| schema.and_then(|s| s.get("example").or_else(|| s.get("default")).cloned()));
    Some(Parameter {
        name,
        location,
        required: location == ParamIn::Path
            || p.get("required").and_then(Value::as_bool).unwrap_or(false),
        type_name: p
            .get("schema")
            .map(|s| type_name(root, s))
            .unwrap_or_default(),
        description: str_of(p, "description"),
        example,
        enum_values: schema
            .and_then(|s| s.get("enum"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    })
}

fn request_body(root: &Value, b: &Value) -> Option<RequestBody> {
    let b = resolve(root, b);
    let content = b.get("content")?.as_object()?;
    // JSON first: the editor and the import write JSON bodies.
    let (content_type, media) = content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .or_else(|| content.iter().next())?;
    Some(RequestBody {
        required: b.get("required").and_then(Value::as_bool).unwrap_or(false),
        content_type: content_type.clone(),
        schema: media.get("schema").cloned(),
        example: first_example(media),
    })
}

fn security_names(v: Option<&Value>) -> Option<Vec<String>> {
    let list = v?.as_array()?;
    let mut out = Vec::new();
    for req in list {
        if let Some(m) = req.as_object() {
            for k in m.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
    }
    Some(out)
}

fn scheme(root: &Value, name: &str, v: &Value) -> SecurityScheme {
    let v = resolve(root, v);
    let kind = match v.get("type").and_then(Value::as_str).unwrap_or("") {
        "oauth2" => SchemeKind::OAuth2 {
            flows: v
                .get("flows")
                .and_then(Value::as_object)
                .map(|flows| {
                    flows
                        .iter()
                        .map(|(flow, f)| OAuthFlow {
                            flow: flow.clone(),
                            authorization_url: str_of(f, "authorizationUrl"),
                            token_url: str_of(f, "tokenUrl"),
                            scopes: f
                                .get("scopes")
                                .and_then(Value::as_object)
                                .map(|s| s.keys().cloned().collect())
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        "openIdConnect" => SchemeKind::OpenIdConnect {
            url: str_of(v, "openIdConnectUrl").unwrap_or_default(),
        },
        "apiKey" => SchemeKind::ApiKey {
            name: str_of(v, "name").unwrap_or_default(),
            location: str_of(v, "in").unwrap_or_default(),
        },
        "http" => SchemeKind::Http {
            scheme: str_of(v, "scheme").unwrap_or_default(),
        },
        _ => SchemeKind::Other,
    };
    SecurityScheme {
        name: name.to_string(),
        kind,
    }
}

/// Reads a spec from its parsed document.
pub fn from_value(root: Value) -> Result<Spec, String> {
    if !root.is_object() {
        return Err("the spec is not an OpenAPI document (its top level is not a mapping)".into());
    }
    if root.get("swagger").is_some() {
        return Err(
            "the spec is Swagger 2.0; httplens reads OpenAPI 3.0 and 3.1 (convert it first)".into(),
        );
    }
    let version = match root.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.") => v.clone(),
        Some(v) => {
            return Err(format!(
                "the spec's `openapi` version {v} is not 3.0 or 3.1"
            ));
        }
        None => {
            return Err(
                "the spec is not an OpenAPI document (it has no `openapi: 3.x` field)".into(),
            );
        }
    };
    let info = root.get("info").cloned().unwrap_or(Value::Null);
    let servers = root
        .get("servers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| server(&root, s)).collect())
        .unwrap_or_default();
    let default_security = security_names(root.get("security")).unwrap_or_default();
    let mut operations = Vec::new();
    if let Some(paths) = root.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let item = resolve(&root, item);
            let shared: Vec<Parameter> = item
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|p| parameter(&root, p)).collect())
                .unwrap_or_default();
            for m in METHODS {
                let Some(op) = item.get(*m) else { continue };
                let mut parameters: Vec<Parameter> = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|p| parameter(&root, p)).collect())
                    .unwrap_or_default();
                for p in &shared {
                    if !parameters
                        .iter()
                        .any(|q| q.name == p.name && q.location == p.location)
                    {
                        parameters.push(p.clone());
                    }
                }
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| {
                                let resp = resolve(&root, resp);
                                (
                                    code.clone(),
                                    str_of(resp, "description").unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                operations.push(Operation {
                    method: m.to_ascii_uppercase(),
                    path: path.clone(),
                    operation_id: str_of(op, "operationId"),
                    summary: str_of(op, "summary"),
                    description: str_of(op, "description"),
                    tags: op
                        .get("tags")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    parameters,
                    body: op.get("requestBody").and_then(|b| request_body(&root, b)),
                    responses,
                    security: security_names(op.get("security"))
                        .unwrap_or_else(|| default_security.clone()),
                });
            }
        }
    }
    let security_schemes = root
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| scheme(&root, k, v)).collect())
        .unwrap_or_default();
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, op) in operations.iter().enumerate() {
        by_path.entry(op.path.clone()).or_default().push(i);
    }
    Ok(Spec {
        title: str_of(&info, "title").unwrap_or_default(),
        version,
        servers,
        operations,
        security_schemes,
        by_path,
        root,
        validators: Default::default(),
    })
}

fn server(root: &Value, s: &Value) -> Option<Server> {
    let s = resolve(root, s);
    let template = str_of(s, "url")?;
    let mut url = template.clone();
    // `{var}` -> its default, when it has one (a template stays as it is).
    if let Some(vars) = s.get("variables").and_then(Value::as_object) {
        for (name, v) in vars {
            if let Some(d) = v.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), d);
            }
        }
    }
    Some(Server {
        url,
        template,
        description: str_of(s, "description"),
    })
}

fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find('/').map_or(url.len(), |i| scheme_end + 3 + i);
    Some(&url[..end])
}

fn path_of(url: &str) -> &str {
    match origin_of(url) {
        Some(o) => &url[o.len()..],
        None => url,
    }
}

/// A request target as the editor sees it, before any variable is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// `https://host` when the target is an absolute URL.
    pub origin: Option<&'a str>,
    /// Starts with a `{{variable}}` (a base URL the text does not show).
    pub templated_base: bool,
    /// Byte offset of the path within the target text.
    pub path_start: usize,
    pub path: &'a str,
    /// After `?` (without it), if there is one.
    pub query: Option<&'a str>,
}

/// Splits a request target: `{{api}}/products/{{sku}}?a=1` -> base `{{api}}`, path
/// `/products/{{sku}}`, query `a=1`.
pub fn split_target(target: &str) -> Target<'_> {
    let no_frag = target.split('#').next().unwrap_or(target);
    let (before_query, query) = match no_frag.find('?') {
        Some(i) => (&no_frag[..i], Some(&no_frag[i + 1..])),
        None => (no_frag, None),
    };
    let (origin, templated_base, path_start) = if let Some(o) = origin_of(before_query)
        .filter(|o| !o.contains("{{") && before_query.find("://") < before_query.find("{{"))
    {
        (Some(o), false, o.len())
    } else if before_query.starts_with("{{") {
        match before_query.find("}}") {
            Some(i) => (None, true, i + 2),
            None => (None, true, before_query.len()),
        }
    } else if let Some(o) = origin_of(before_query) {
        (Some(o), false, o.len())
    } else {
        (None, false, 0)
    };
    Target {
        origin,
        templated_base,
        path_start,
        path: &before_query[path_start..],
        query,
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn segment_matches(template: &str, actual: &str) -> bool {
    if actual.contains("{{") || template == actual {
        return true;
    }
    // `{sku}` matches any segment, `{id}.json` any with that suffix.
    if let (Some(open), Some(close)) = (template.find('{'), template.rfind('}')) {
        let (pre, post) = (&template[..open], &template[close + 1..]);
        return actual.len() >= pre.len() + post.len()
            && actual.starts_with(pre)
            && actual.ends_with(post);
    }
    false
}

/// How a request relates to a spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Match<'s> {
    /// The path and the method are in the spec.
    Operation(&'s Operation),
    /// The path is there, the method is not: the methods it has.
    WrongMethod(Vec<&'s str>),
    /// The request is sent to one of the spec's servers, but no path matches.
    UnknownPath,
    /// The request is not for this spec.
    NotThisSpec,
}

impl Spec {
    /// Does a request sent to `origin` belong to this spec? (A templated base or no
    /// servers: it may.)
    fn claims_origin(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        if self.servers.is_empty() {
            return true;
        }
        self.servers.iter().any(|s| match s.origin() {
            Some(so) if !so.contains('{') => so.eq_ignore_ascii_case(origin),
            _ => true,
        })
    }

    /// The server base paths (`/rest/V1` as segments), and the empty one.
    fn bases(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = self
            .servers
            .iter()
            .map(|s| s.base_path_segments())
            .collect();
        out.push(Vec::new());
        out
    }

    /// The path templates whose operations `path` (without its server base) reaches,
    /// the closest first: a literal segment matched literally, or a `{{variable}}`
    /// matched by a `{param}`, counts more than a `{param}` taking a literal.
    pub fn paths_matching(&self, path: &str) -> Vec<&str> {
        let actual = segments(path);
        let bases = self.bases();
        let mut found: Vec<(usize, &str)> = self
            .by_path
            .keys()
            .filter_map(|template| {
                let t = segments(template);
                if actual.len() < t.len() {
                    return None;
                }
                let split = actual.len() - t.len();
                let (prefix, rest) = actual.split_at(split);
                let fits = t.iter().zip(rest).all(|(a, b)| segment_matches(a, b))
                    && bases.iter().any(|b| {
                        b.len() == prefix.len()
                            && b.iter().zip(prefix).all(|(x, y)| segment_matches(x, y))
                    });
                if !fits {
                    return None;
                }
                let score = t
                    .iter()
                    .zip(rest)
                    .map(|(a, b)| match (a.contains('{'), b.contains("{{")) {
                        (false, false) | (true, true) => 2,
                        (true, false) => 1,
                        (false, true) => 0,
                    })
                    .sum::<usize>();
                Some((score, template.as_str()))
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, t)| t).collect()
    }

    /// The operations on a path template.
    pub fn operations_on(&self, template: &str) -> impl Iterator<Item = &Operation> {
        self.by_path
            .get(template)
            .into_iter()
            .flatten()
            .map(|&i| &self.operations[i])
    }

    /// Matches a request (`method`, and its target text before variables are resolved).
    pub fn find(&self, method: &str, target: &str) -> Match<'_> {
        let t = split_target(target);
        if !self.claims_origin(t.origin) {
            return Match::NotThisSpec;
        }
        let paths = self.paths_matching(t.path);
        if paths.is_empty() {
            // A relative target with no variable base says nothing about the server.
            if t.origin.is_none() && !t.templated_base {
                return Match::NotThisSpec;
            }
            return Match::UnknownPath;
        }
        // The closest template first (`/products/search` over `/products/{sku}`).
        let ops: Vec<&Operation> = paths.iter().flat_map(|p| self.operations_on(p)).collect();
        if let Some(op) = ops.iter().find(|o| o.method.eq_ignore_ascii_case(method)) {
            return Match::Operation(op);
        }
        let mut methods: Vec<&str> = ops.iter().map(|o| o.method.as_str()).collect();
        methods.dedup();
        Match::WrongMethod(methods)
    }
}

/// The operation of a request among several specs: the first spec that knows the path
/// wins; else the first that claims the request (for the "unknown path" warning).
pub fn find_in<'s>(specs: &'s [std::sync::Arc<Spec>], method: &str, target: &str) -> Match<'s> {
    let mut fallback = Match::NotThisSpec;
    for s in specs {
        match s.find(method, target) {
            m @ (Match::Operation(_) | Match::WrongMethod(_)) => return m,
            Match::UnknownPath if fallback == Match::NotThisSpec => fallback = Match::UnknownPath,
            _ => {}
        }
    }
    fallback
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PETS: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers:
  - url: https://api.example.com/v1
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer}}
      responses:
        200: {description: the pets}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "201": {$ref: "#/components/responses/Created"}
  /pets/{id}:
    parameters:
      - {name: id, in: path, schema: {type: string}}
    get:
      responses: {}
  /pets/search:
    get:
      responses: {}
components:
  responses:
    Created: {description: created}
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        parent: {$ref: "#/components/schemas/Pet"}
"##;

    #[test]
    fn reads_yaml_with_numeric_keys_refs_and_path_level_parameters() {
        let s = parse(PETS).unwrap();
        assert_eq!(s.title, "Pets");
        assert_eq!(s.operations.len(), 4);
        let list = &s.operations[0];
        assert_eq!((list.method.as_str(), list.path.as_str()), ("GET", "/pets"));
        assert_eq!(
            list.responses,
            [("200".to_string(), "the pets".to_string())]
        );
        assert!(list.parameters[0].required);
        assert_eq!(list.parameters[0].type_name, "integer");
        let post = &s.operations[1];
        assert_eq!(post.responses[0].1, "created");
        // The body's schema as written; copied with its `$ref`s in, the cycle
        // `parent -> Pet` is cut, not followed forever.
        let raw = post.body.as_ref().unwrap().schema.as_ref().unwrap();
        assert_eq!(raw["$ref"], "#/components/schemas/Pet");
        let schema = inline(&s.root, raw, 24);
        assert_eq!(schema["properties"]["name"]["type"], "string");
        assert_eq!(schema["properties"]["parent"], serde_json::json!({}));
        let by_id = s
            .operations
            .iter()
            .find(|o| o.path == "/pets/{id}")
            .unwrap();
        assert_eq!(by_id.parameters[0].location, ParamIn::Path);
    }

    #[test]
    fn matches_by_server_then_path() {
        let s = parse(PETS).unwrap();
        let op = |m: &str, t: &str| match s.find(m, t) {
            Match::Operation(o) => format!("{} {}", o.method, o.path),
            other => format!("{other:?}"),
        };
        assert_eq!(
            op("GET", "https://api.example.com/v1/pets?limit=1"),
            "GET /pets"
        );
        assert_eq!(op("GET", "{{host}}/pets/{{id}}"), "GET /pets/{id}");
        assert_eq!(op("GET", "{{host}}/pets/search"), "GET /pets/search");
        assert_eq!(op("GET", "{{host}}/v1/pets/7"), "GET /pets/{id}");
        assert_eq!(
            op("DELETE", "{{host}}/pets"),
            "WrongMethod([\"GET\", \"POST\"])"
        );
        assert_eq!(op("GET", "{{host}}/cats"), "UnknownPath");
        assert_eq!(
            op("GET", "https://other.example.com/v1/pets"),
            "NotThisSpec"
        );
    }

    #[test]
    fn broken_specs_are_one_sentence() {
        assert!(parse("openapi: [").unwrap_err().contains("not valid YAML"));
        assert!(
            parse("{\"swagger\": \"2.0\"}")
                .unwrap_err()
                .contains("Swagger 2.0")
        );
        assert!(parse("a: 1").unwrap_err().contains("no `openapi: 3.x`"));
        assert!(parse("- 1").unwrap_err().contains("not a mapping"));
        // A reference to nowhere stays a reference; nothing panics.
        let s = parse("openapi: 3.1.0\npaths:\n  /a: {$ref: '#/nowhere'}\n").unwrap();
        assert!(s.operations.is_empty());
    }

    /// A spec of `n` schemas, each referencing the next `fan` times (properties `p0`,
    /// `p1`, ..., all required): copied whole, or written out eight levels deep, the
    /// first is `fan^8` objects and more.
    pub(crate) fn dense_spec(n: usize, fan: usize) -> String {
        let mut s = String::from(
            "openapi: 3.0.3\ninfo: {title: Dense, version: '1'}\npaths:\n  /s:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/S0'}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\ncomponents:\n  schemas:\n",
        );
        for i in 0..n {
            let next = if i + 1 < n {
                format!("{{$ref: '#/components/schemas/S{}'}}", i + 1)
            } else {
                "{type: string}".into()
            };
            let names: Vec<String> = (0..fan).map(|k| format!("p{k}")).collect();
            s.push_str(&format!(
                "    S{i}:\n      type: object\n      required: [{}]\n      properties:\n        n: {{type: integer, minimum: {i}}}\n",
                names.join(", ")
            ));
            for name in &names {
                s.push_str(&format!("        {name}: {next}\n"));
            }
        }
        s
    }

    #[test]
    fn a_dense_spec_is_read_and_copied_in_bounded_time_and_memory() {
        let started = std::time::Instant::now();
        let s = parse(&dense_spec(30, 8)).unwrap();
        let raw = s.operations[0]
            .body
            .as_ref()
            .unwrap()
            .schema
            .clone()
            .unwrap();
        // The copy stops at its budget instead of 8^8 objects.
        let copied = inline(&s.root, &raw, 24);
        fn count(v: &Value) -> usize {
            1 + match v {
                Value::Object(m) => m.values().map(count).sum(),
                Value::Array(a) => a.iter().map(count).sum(),
                _ => 0,
            }
        }
        let n = count(&copied);
        assert!(n <= MAX_INLINED_NODES + 100, "{n} values copied");
        assert_eq!(copied["properties"]["p0"]["type"], "object");
        // A parameter whose schema is an array of itself has a type name, not a stack
        // overflow.
        let root = serde_json::json!({"A": {"type": "array", "items": {"$ref": "#/A"}}, "L": {"$ref": "#/L"}});
        assert!(
            type_name(&root, &serde_json::json!({"$ref": "#/A"})).starts_with("array of array")
        );
        assert_eq!(type_name(&root, &serde_json::json!({"$ref": "#/L"})), "L");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    /// The conversion YAML was read through before: the YAML crate's `Value`, then JSON.
    fn through_yaml_value(text: &str) -> Result<Value, String> {
        fn conv(y: serde_norway::Value) -> Result<Value, String> {
            use serde_norway::Value as Y;
            Ok(match y {
                Y::Null => Value::Null,
                Y::Bool(b) => Value::Bool(b),
                Y::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Value::from(i)
                    } else if let Some(u) = n.as_u64() {
                        Value::from(u)
                    } else {
                        n.as_f64()
                            .and_then(serde_json::Number::from_f64)
                            .map_or(Value::Null, Value::Number)
                    }
                }
                Y::String(s) => Value::String(s),
                Y::Sequence(items) => {
                    Value::Array(items.into_iter().map(conv).collect::<Result<_, _>>()?)
                }
                Y::Mapping(m) => {
                    let mut out = Map::new();
                    for (k, v) in m {
                        let key = match k {
                            Y::String(s) => s,
                            Y::Number(n) => n.to_string(),
                            Y::Bool(b) => b.to_string(),
                            Y::Null => "null".into(),
                            _ => return Err(NOT_SCALAR_KEY.into()),
                        };
                        out.insert(key, conv(v)?);
                    }
                    Value::Object(out)
                }
                Y::Tagged(t) => conv(t.value)?,
            })
        }
        conv(serde_norway::from_str(text).map_err(|e| e.to_string())?)
    }

    #[test]
    fn yaml_reads_as_it_did_through_the_yaml_value() {
        let same = |text: &str| {
            assert_eq!(
                yaml_to_json(text).unwrap(),
                through_yaml_value(text).unwrap(),
                "{text}"
            );
        };
        same(PETS);
        same(include_str!(
            "../../examples/adobe-commerce/commerce.openapi.yaml"
        ));
        same("200: a\ntrue: b\n~: c\n1.5: d\n-3: e\n0x1F: f\n");
        same("a: !Thing {b: !!str 1, c: [!x 2, .inf, .nan, -.inf]}\n");
        same("base: &b {x: 1, y: [1, 2]}\nother: *b\nmerged: {<<: *b, z: 3}\n");
        same(
            "s: 'quoted: 1'\nt: \"a\\nb\"\nu: |\n  block\n  text\nv: >-\n  folded\n  text\nw: 18446744073709551615\nx: 1e400\n",
        );
        same("");
        same("- 1\n- [2, {a: b}]\n");
        // A key written twice is an error, as it was.
        assert!(
            yaml_to_json("a: 1\na: 2\n")
                .unwrap_err()
                .contains("duplicate entry")
        );
        assert!(through_yaml_value("a: 1\na: 2\n").is_err());
        assert_eq!(yaml_to_json("? [a]\n: 1\n").unwrap_err(), NOT_SCALAR_KEY);
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        // The YAML reader's own limit (128) comes first; either way, one sentence.
        assert!(yaml_to_json(&deep).is_err());
        assert!(
            yaml_to_json("a: [")
                .unwrap_err()
                .starts_with("the spec is not valid YAML")
        );
    }

    proptest::proptest! {
        /// Any JSON document written as block YAML reads back the same, as it did.
        #[test]
        fn yaml_of_any_document_reads_back(v in json_value()) {
            let text = serde_norway::to_string(&v).unwrap();
            let read = yaml_to_json(&text).unwrap();
            proptest::prop_assert_eq!(&read, &through_yaml_value(&text).unwrap());
            proptest::prop_assert_eq!(read, v);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any prefix of a valid spec, and any text, is a spec or one sentence: never a
        /// panic (a file being saved is read half-written).
        #[test]
        fn broken_input_never_panics(cut in 0usize..2000, junk in ".{0,200}") {
            let cut = (0..=cut.min(PETS.len())).rev().find(|&i| PETS.is_char_boundary(i)).unwrap_or(0);
            let text = format!("{}{junk}", &PETS[..cut]);
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(!e.is_empty() && !e.contains('\n') || e.contains("YAML") || e.contains("JSON"));
            }
            let _ = split_target(&junk);
        }
    }
}
