//! Checking JSON against a spec's schemas: a request body against its operation's request
//! schema (the editor's warnings) and a response against the schema of its status (the
//! engine's `schema:` line and `?? schema`). OpenAPI schemas become JSON Schema 2020-12
//! documents (3.0's `nullable`, boolean `exclusiveMaximum` and `example` translated; 3.1
//! is 2020-12 already), with every local `$ref` copied into `$defs`, so recursive schemas
//! stay recursive. The `boon` crate validates (its errors become our sentences here);
//! a compiled validator is kept in the spec. Format checks are off (OpenAPI's formats are mostly annotations: `int64`,
//! `password`), and a schema that cannot be compiled checks nothing: the spec may be
//! wrong, the request is not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::{Operation, Spec, resolve};

/// What a schema is checked against: a request leaves out `readOnly` properties from
/// `required`, a response `writeOnly` ones (OpenAPI 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// One compiled schema.
pub struct Compiled {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiled")
    }
}

/// Compiled validators of a spec, by what they check (`None`: nothing to check, or a
/// schema that does not compile).
#[derive(Clone, Default)]
pub struct Validators(Arc<Mutex<HashMap<String, Option<Arc<Compiled>>>>>);

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "Validators({n})")
    }
}

/// One way an instance differs from its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `$.items[0].price` (`$` for the whole document).
    pub path: String,
    /// The same as a JSON pointer: `/items/0/price`.
    pub pointer: String,
    /// What is wrong, one sentence without a full stop.
    pub message: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The JSON media type of a `content` map: the response's own type when the spec lists
/// it, else the first JSON one.
fn json_media<'a>(content: &'a Map<String, Value>, actual: Option<&str>) -> Option<&'a Value> {
    let is_json = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("/json") || k.contains("+json") || k == "*/*"
    };
    if let Some(a) = actual
        && let Some((_, v)) = content
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(a) && is_json(k))
    {
        return Some(v);
    }
    content.iter().find(|(k, _)| is_json(k)).map(|(_, v)| v)
}

fn operation_value<'a>(spec: &'a Spec, op: &Operation) -> Option<&'a Value> {
    let paths = spec.root.get("paths")?;
    let item = resolve(&spec.root, paths.get(&op.path)?);
    Some(resolve(
        &spec.root,
        item.get(op.method.to_ascii_lowercase())?,
    ))
}

impl Spec {
    fn compiled(
        &self,
        key: String,
        make: impl FnOnce() -> Option<Value>,
        dir: Direction,
    ) -> Option<Arc<Compiled>> {
        if let Some(v) = self
            .validators
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return v.clone();
        }
        let compiled = make().and_then(|schema| compile(&self.root, &schema, dir));
        self.validators
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, compiled.clone());
        compiled
    }

    /// The validator of an operation's JSON request body, if it declares a schema.
    pub fn request_validator(&self, op: &Operation) -> Option<Arc<Compiled>> {
        self.compiled(
            format!("request {} {}", op.method, op.path),
            || {
                let body = resolve(&self.root, operation_value(self, op)?.get("requestBody")?);
                let content = body.get("content")?.as_object()?;
                json_media(content, None)?.get("schema").cloned()
            },
            Direction::Request,
        )
    }

    /// What the spec says about a response to `op` with this status and content type.
    pub fn response_schema(
        &self,
        op: &Operation,
        status: u16,
        content_type: Option<&str>,
    ) -> ResponseSchema {
        let Some(responses) = operation_value(self, op)
            .and_then(|o| o.get("responses"))
            .and_then(Value::as_object)
        else {
            return ResponseSchema::Undocumented { codes: Vec::new() };
        };
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some((code, resp)) = responses
            .iter()
            .find(|(k, _)| **k == exact)
            .or_else(|| {
                responses
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&range))
            })
            .or_else(|| responses.iter().find(|(k, _)| *k == "default"))
        else {
            return ResponseSchema::Undocumented {
                codes: responses.keys().cloned().collect(),
            };
        };
        let code = code.clone();
        let resp = resolve(&self.root, resp);
        let content_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
        let media = resp
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| json_media(c, content_type));
        let Some(schema) = media.and_then(|m| m.get("schema")) else {
            return ResponseSchema::NoJsonSchema { code };
        };
        let key = format!(
            "response {} {} {code} {}",
            op.method,
            op.path,
            content_type.unwrap_or("")
        );
        match self.compiled(key, || Some(schema.clone()), Direction::Response) {
            Some(validator) => ResponseSchema::Json { code, validator },
            None => ResponseSchema::NoJsonSchema { code },
        }
    }
}

/// What a spec says about one response.
#[derive(Debug, Clone)]
pub enum ResponseSchema {
    /// The status (by its code, `2XX` or `default`) has a JSON schema.
    Json {
        code: String,
        validator: Arc<Compiled>,
    },
    /// The status is documented without a JSON schema (or with one that does not
    /// compile): nothing to check.
    NoJsonSchema { code: String },
    /// The spec lists other statuses only (these).
    Undocumented { codes: Vec<String> },
}

/// A JSON Schema document for an OpenAPI schema, or `None` when it does not compile.
pub fn compile(root: &Value, schema: &Value, dir: Direction) -> Option<Arc<Compiled>> {
    let doc = to_json_schema(root, schema, dir);
    match compile_document(doc) {
        Ok(compiled) => Some(Arc::new(compiled)),
        Err(e) => {
            tracing::debug!("a schema of the spec does not compile, not checked: {e}");
            None
        }
    }
}

/// The name the schema document is known by while it compiles: not a place, nothing is
/// loaded from it.
const DOCUMENT: &str = "urn:httplens:schema";

/// Loads nothing: every `$ref` the document may follow is inside it (`$defs`), and a
/// schema must not make the tool read files or the network.
struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("{url} is outside the spec: not followed").into())
    }
}

fn compile_document(doc: Value) -> Result<Compiled, Box<boon::CompileError>> {
    compile_document_with(doc, false)
}

/// `formats`: check `format` too (only tests do: OpenAPI's formats are mostly
/// annotations, `int64`, `password`).
fn compile_document_with(doc: Value, formats: bool) -> Result<Compiled, Box<boon::CompileError>> {
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    if formats {
        compiler.enable_format_assertions();
    }
    compiler.use_loader(Box::new(NoLoader));
    compiler.add_resource(DOCUMENT, doc)?;
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile(DOCUMENT, &mut schemas)?;
    Ok(Compiled { schemas, index })
}

/// The OpenAPI schema `schema` (inside the spec `root`) as a JSON Schema 2020-12
/// document: every local `$ref` it reaches is translated once into `$defs`.
pub fn to_json_schema(root: &Value, schema: &Value, dir: Direction) -> Value {
    let mut t = Translator {
        root,
        dir,
        defs: Vec::new(),
        ids: HashMap::new(),
    };
    let body = t.schema(schema, 0);
    // Each definition may reach more: translate until none is left.
    let mut defs = Map::new();
    let mut i = 0;
    while i < t.defs.len() {
        let (name, target) = (t.defs[i].0.clone(), t.defs[i].1.clone());
        let translated = t.schema(&target, 0);
        defs.insert(name, translated);
        i += 1;
    }
    let mut doc = match body {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("allOf".into(), Value::Array(vec![other]));
            m
        }
    };
    doc.insert(
        "$schema".into(),
        Value::String("https://json-schema.org/draft/2020-12/schema".into()),
    );
    if !defs.is_empty() {
        match doc.get_mut("$defs") {
            Some(Value::Object(own)) => own.extend(defs),
            _ => {
                doc.insert("$defs".into(), Value::Object(defs));
            }
        }
    }
    Value::Object(doc)
}

struct Translator<'a> {
    root: &'a Value,
    dir: Direction,
    /// `(name in $defs, the schema it holds)`, in the order found.
    defs: Vec<(String, Value)>,
    /// A `$ref` as written -> its name in `$defs`.
    ids: HashMap<String, String>,
}

/// Deeper than this, a schema is taken as "anything" (a spec that nests absurdly).
const MAX_DEPTH: usize = 128;

impl Translator<'_> {
    fn def_ref(&mut self, r: &str) -> Option<String> {
        if let Some(name) = self.ids.get(r) {
            return Some(format!("#/$defs/{name}"));
        }
        let pointer = r.strip_prefix('#')?;
        let pointer = percent_encoding::percent_decode_str(pointer).decode_utf8_lossy();
        let target = self.root.pointer(&pointer)?.clone();
        let name = format!("httplens-{}", self.defs.len());
        self.ids.insert(r.to_string(), name.clone());
        self.defs.push((name.clone(), target));
        Some(format!("#/$defs/{name}"))
    }

    fn schema(&mut self, v: &Value, depth: usize) -> Value {
        let Value::Object(m) = v else {
            // `true`, `false`, or something that is no schema: accept anything then.
            return match v {
                Value::Bool(_) => v.clone(),
                _ => Value::Bool(true),
            };
        };
        if depth > MAX_DEPTH {
            return Value::Bool(true);
        }
        let d = depth + 1;
        let mut out = Map::new();
        for (k, x) in m {
            match k.as_str() {
                "$ref" => {
                    if let Some(r) = x.as_str().filter(|r| r.starts_with('#'))
                        && let Some(local) = self.def_ref(r)
                    {
                        out.insert("$ref".into(), Value::String(local));
                    }
                    // A reference outside the spec, or to nowhere: not checked.
                }
                "properties" | "patternProperties" | "$defs" | "definitions"
                | "dependentSchemas" => {
                    if let Value::Object(props) = x {
                        out.insert(
                            k.clone(),
                            Value::Object(
                                props
                                    .iter()
                                    .map(|(n, s)| (n.clone(), self.schema(s, d)))
                                    .collect(),
                            ),
                        );
                    }
                }
                "items" => match x {
                    // The old tuple form.
                    Value::Array(a) => {
                        out.insert(
                            "prefixItems".into(),
                            Value::Array(a.iter().map(|s| self.schema(s, d)).collect()),
                        );
                    }
                    s => {
                        out.insert(k.clone(), self.schema(s, d));
                    }
                },
                "additionalProperties"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "additionalItems" => {
                    out.insert(k.clone(), self.schema(x, d));
                }
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                    if let Value::Array(a) = x {
                        out.insert(
                            k.clone(),
                            Value::Array(a.iter().map(|s| self.schema(s, d)).collect()),
                        );
                    }
                }
                "exclusiveMaximum" | "exclusiveMinimum" => match x {
                    // 3.0: a flag on `maximum` / `minimum`.
                    Value::Bool(true) => {
                        let bound = if k == "exclusiveMaximum" {
                            "maximum"
                        } else {
                            "minimum"
                        };
                        if let Some(b) = m.get(bound) {
                            out.insert(k.clone(), b.clone());
                        }
                    }
                    Value::Bool(false) => {}
                    other => {
                        out.insert(k.clone(), other.clone());
                    }
                },
                "maximum" | "minimum" => {
                    let flag = if k == "maximum" {
                        "exclusiveMaximum"
                    } else {
                        "exclusiveMinimum"
                    };
                    if m.get(flag) != Some(&Value::Bool(true)) {
                        out.insert(k.clone(), x.clone());
                    }
                }
                // Annotations of OpenAPI only, and ids that would move the base of the
                // `$defs` references.
                "example" | "xml" | "externalDocs" | "discriminator" | "nullable" | "$id"
                | "$schema" => {}
                _ => {
                    out.insert(k.clone(), x.clone());
                }
            }
        }
        // `required` leaves out what the other side never sends.
        if let (Some(Value::Array(req)), Some(Value::Object(props))) =
            (m.get("required"), m.get("properties"))
        {
            let skip = match self.dir {
                Direction::Request => "readOnly",
                Direction::Response => "writeOnly",
            };
            let kept: Vec<Value> = req
                .iter()
                .filter(|name| {
                    let p = name.as_str().and_then(|n| props.get(n));
                    !p.is_some_and(|p| resolve(self.root, p).get(skip) == Some(&Value::Bool(true)))
                })
                .cloned()
                .collect();
            out.insert("required".into(), Value::Array(kept));
        }
        if m.get("nullable") == Some(&Value::Bool(true)) {
            return nullable(out);
        }
        Value::Object(out)
    }
}

/// 3.0's `nullable: true`: `null` is allowed as well.
fn nullable(mut s: Map<String, Value>) -> Value {
    if let Some(Value::Array(e)) = s.get_mut("enum")
        && !e.contains(&Value::Null)
    {
        e.push(Value::Null);
    }
    match s.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            s.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), Value::String("null".into())]),
            );
            Value::Object(s)
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".into()));
            }
            Value::Object(s)
        }
        _ => {
            let mut w = Map::new();
            w.insert(
                "anyOf".into(),
                Value::Array(vec![serde_json::json!({"type": "null"}), Value::Object(s)]),
            );
            Value::Object(w)
        }
    }
}

/// A JSON pointer as a JSONPath for people: `/items/0/price` -> `$.items[0].price`.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else if !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$')
            && !seg.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            out.push('.');
            out.push_str(&seg);
        } else {
            out.push_str(&format!("[{}]", Value::String(seg)));
        }
    }
    out
}

/// A value shown in a message: compact JSON, cut after 40 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(37).collect();
        format!("{cut}...")
    } else {
        s
    }
}

impl Compiled {
    /// Does the instance fit?
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.schemas.validate(instance, self.index).is_ok()
    }

    /// Every difference, in the validator's order, with the keyword that found it.
    pub fn all_differences(&self, instance: &Value) -> Vec<(Difference, &'static str)> {
        let mut out = Vec::new();
        if let Err(e) = self.schemas.validate(instance, self.index) {
            differences_of(&e, instance, &mut out);
        }
        out
    }

    /// The first `limit` differences and how many there are in all.
    pub fn differences(&self, instance: &Value, limit: usize) -> (Vec<Difference>, usize) {
        let all = self.all_differences(instance);
        let n = all.len();
        (all.into_iter().take(limit).map(|(d, _)| d).collect(), n)
    }
}

/// The differences one validation error stands for, each with the keyword that found it
/// when the body check needs to know it (`""` otherwise). Errors that only group others
/// (a schema, a `$ref`, `allOf`) are looked into; the alternatives of `anyOf`/`oneOf` and
/// a failed `not` are one difference each: the value fits none of them, and why it fails
/// every alternative says less than that.
fn differences_of(
    e: &boon::ValidationError<'_, '_>,
    root: &Value,
    out: &mut Vec<(Difference, &'static str)>,
) {
    use boon::ErrorKind as K;
    if matches!(
        e.kind,
        K::Group | K::Schema { .. } | K::Reference { .. } | K::AllOf
    ) {
        for cause in &e.causes {
            differences_of(cause, root, out);
        }
        return;
    }
    let pointer = e.instance_location.to_string();
    let value = root.pointer(&pointer).unwrap_or(&Value::Null);
    let v = short(value);
    let mut push = |message: String, keyword: &'static str| {
        out.push((
            Difference {
                path: pointer_to_path(&pointer),
                pointer: pointer.clone(),
                message,
            },
            keyword,
        ))
    };
    match &e.kind {
        K::Required { want } => {
            for name in want {
                push(
                    format!("{} is a required property", quoted(name)),
                    "required",
                );
            }
        }
        K::DependentRequired { prop, missing } | K::Dependency { prop, missing } => {
            for name in missing {
                let (name, prop) = (quoted(name), quoted(prop));
                push(format!("{name} is required when {prop} is present"), "");
            }
        }
        K::AdditionalProperties { got } => {
            let names: Vec<String> = got.iter().map(|n| quoted(n)).collect();
            let verb = if names.len() == 1 { "was" } else { "were" };
            let names = names.join(", ");
            push(
                format!("Additional properties are not allowed ({names} {verb} unexpected)"),
                "additionalProperties",
            );
        }
        K::Type { want, .. } => {
            let want: Vec<String> = want.iter().map(|t| quoted(&t.to_string())).collect();
            push(format!("{v} is not of type {}", or_list(&want)), "type");
        }
        K::Enum { want } => {
            let want: Vec<String> = want.iter().map(short).collect();
            push(format!("{v} is not one of {}", or_list(&want)), "");
        }
        K::Const { want } => push(format!("{} was expected", short(want)), ""),
        K::Format { want, .. } => push(format!("{v} is not a {}", quoted(want)), ""),
        K::MinProperties { want, .. } => {
            let unit = if *want == 1 { "property" } else { "properties" };
            push(format!("{v} has less than {want} {unit}"), "minProperties");
        }
        K::MaxProperties { want, .. } => {
            let unit = if *want == 1 { "property" } else { "properties" };
            push(format!("{v} has more than {want} {unit}"), "maxProperties");
        }
        K::MinItems { want, .. } => push(format!("{v} has less than {}", items(*want)), "minItems"),
        K::MaxItems { want, .. } => push(format!("{v} has more than {}", items(*want)), "maxItems"),
        K::AdditionalItems { got } => {
            push(format!("{v} has {} more than allowed", items(*got)), "")
        }
        K::UniqueItems { .. } => push(format!("{v} has non-unique elements"), ""),
        K::Contains | K::MinContains { .. } => {
            push(format!("{v} does not contain the items it must"), "")
        }
        K::MaxContains { want, .. } => push(
            format!("{v} contains more than {} it may", items(*want)),
            "",
        ),
        K::MinLength { want, .. } => push(format!("{v} is shorter than {}", characters(*want)), ""),
        K::MaxLength { want, .. } => push(format!("{v} is longer than {}", characters(*want)), ""),
        K::Pattern { want, .. } => push(format!("{v} does not match {}", quoted(want)), ""),
        K::Minimum { want, .. } => push(format!("{v} is less than the minimum of {want}"), ""),
        K::Maximum { want, .. } => push(format!("{v} is greater than the maximum of {want}"), ""),
        K::ExclusiveMinimum { want, .. } => push(
            format!("{v} is less than or equal to the minimum of {want}"),
            "",
        ),
        K::ExclusiveMaximum { want, .. } => push(
            format!("{v} is greater than or equal to the maximum of {want}"),
            "",
        ),
        K::MultipleOf { want, .. } => push(format!("{v} is not a multiple of {want}"), ""),
        K::AnyOf => push(format!("{v} fits none of the schemas of `anyOf`"), ""),
        K::OneOf(None) => push(format!("{v} fits none of the schemas of `oneOf`"), ""),
        K::OneOf(Some((i, j))) => push(
            format!("{v} fits more than one of the schemas of `oneOf` ({i} and {j})"),
            "",
        ),
        K::Not => push(
            format!("{v} fits the schema of `not`, which it must not"),
            "",
        ),
        K::FalseSchema => push(format!("{v} is not allowed here"), ""),
        K::ContentEncoding { want, .. } => push(format!("{v} is not {} encoded", quoted(want)), ""),
        K::ContentMediaType { want, .. } => push(format!("{v} is not {}", quoted(want)), ""),
        K::ContentSchema => push(format!("{v} does not fit its `contentSchema`"), ""),
        K::RefCycle { url, .. } => push(format!("the schema refers to itself at {url}"), ""),
        K::PropertyName { prop } => push(
            format!(
                "the property name {} does not fit `propertyNames`",
                quoted(prop)
            ),
            "",
        ),
        // Looked into above.
        K::Group | K::Schema { .. } | K::Reference { .. } | K::AllOf => {}
    }
}

/// A name as a JSON string: `"name"`.
fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn items(n: usize) -> String {
    if n == 1 {
        "1 item".into()
    } else {
        format!("{n} items")
    }
}

fn characters(n: usize) -> String {
    if n == 1 {
        "1 character".into()
    } else {
        format!("{n} characters")
    }
}

/// A warning about a request body: where (bytes of the body text) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyProblem {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

/// The differences between a JSON request body as written (it may hold `{{variables}}`)
/// and its schema, each at the range of the value it is about. A body that is not JSON
/// (with its templates replaced) gets none; neither does a value whose content a template
/// decides: only what holds whatever the variables turn out to be is reported.
pub fn body_problems(validator: &Compiled, body: &str) -> Vec<BodyProblem> {
    let (text, templates) = placeholders(body);
    let Ok(instance) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    if validator.is_valid(&instance) {
        return Vec::new();
    }
    let nodes = json_nodes(&text);
    // What the templates decide. `whole`: values a template stands for (unknown, even
    // their type). `content`: strings with a template inside (still strings, nothing
    // else known). `shape`: objects with a templated key and arrays with a loose
    // template (their keys or their length are unknown).
    let mut whole: Vec<&str> = Vec::new();
    let mut content: Vec<&str> = Vec::new();
    let mut shape: Vec<&str> = Vec::new();
    for &(start, _, in_string) in &templates {
        // The innermost value the template starts in (a loose one's `null` is shorter
        // than the template it stands for).
        let Some(node) = nodes
            .iter()
            .filter(|n| n.start <= start && start < n.end)
            .min_by_key(|n| n.end - n.start)
        else {
            continue;
        };
        if !node.is_scalar {
            // Only a key can hold a template and not be a value of its own.
            shape.push(node.pointer.as_str());
        } else if in_string {
            content.push(node.pointer.as_str());
        } else {
            whole.push(node.pointer.as_str());
            if node.in_array {
                shape.push(node.parent.as_str());
            }
        }
    }
    let below = |p: &str, q: &str| p == q || p.starts_with(&format!("{q}/"));
    let mut out = Vec::new();
    for (d, keyword) in validator.all_differences(&instance) {
        let p = d.pointer.as_str();
        if whole.iter().any(|w| below(p, w)) || shape.contains(&p) {
            continue;
        }
        // A templated string is still a string: its type can be wrong, nothing else.
        if content.iter().any(|c| below(p, c)) && !(keyword == "type" && content.contains(&p)) {
            continue;
        }
        // Above a template, only what does not look at the values holds: the keys, the
        // count and the type of this level.
        let above = whole
            .iter()
            .chain(&content)
            .chain(&shape)
            .any(|t| below(t, p) && *t != p);
        if above && keyword.is_empty() {
            continue;
        }
        let Some(node) = nodes.iter().find(|n| n.pointer == d.pointer) else {
            continue;
        };
        // An object or array: its key when it has one, else its opening bracket (not
        // a squiggle over the whole body).
        let (start, end) = match (node.is_scalar, node.key) {
            (true, _) => (node.start, node.end),
            (false, Some(k)) => k,
            (false, None) => (node.start, node.start + 1),
        };
        let mut shown = d.message.clone();
        // A templated string is shown as written, not as its placeholder.
        if content.contains(&p)
            && let Some(v) = instance.pointer(p)
        {
            // The source text of the string, quotes and all (JSON already).
            let written = &body[node.start..node.end];
            let written = if written.chars().count() > 40 {
                format!("{}...", written.chars().take(37).collect::<String>())
            } else {
                written.to_string()
            };
            shown = shown.replacen(&short(v), &written, 1);
        }
        let message = if d.pointer.is_empty() {
            shown
        } else {
            format!("{}: {shown}", d.path)
        };
        out.push(BodyProblem {
            start,
            end,
            message,
        });
    }
    out
}

/// The body with each `{{template}}` replaced by text of the same length that keeps it
/// JSON: inside a string, `x`s; as a value of its own, `null` and spaces. Returns the
/// text and each template's `(start, end, inside a string)`.
fn placeholders(body: &str) -> (String, Vec<(usize, usize, bool)>) {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut found = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{'
            && bytes.get(i + 1) == Some(&b'{')
            && let Some(close) = body[i + 2..].find("}}")
        {
            let end = i + 2 + close + 2;
            if in_string {
                out.extend(std::iter::repeat_n(b'x', end - i));
            } else {
                out.extend_from_slice(b"null");
                out.extend(std::iter::repeat_n(b' ', end - i - 4));
            }
            found.push((i, end, in_string));
            i = end;
            continue;
        }
        let b = bytes[i];
        if in_string && b == b'\\' {
            out.push(b);
            if let Some(&n) = bytes.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if b == b'"' {
            in_string = !in_string;
        }
        out.push(b);
        i += 1;
    }
    // Only ASCII was put in place of whole templates: still UTF-8.
    (String::from_utf8_lossy(&out).into_owned(), found)
}

/// One value of a JSON text: its JSON pointer and range (and its key's, in an object).
#[derive(Debug, Clone)]
struct Node {
    pointer: String,
    parent: String,
    start: usize,
    end: usize,
    key: Option<(usize, usize)>,
    in_array: bool,
    is_scalar: bool,
}

/// Every value of a JSON text (known to parse) with its range.
fn json_nodes(text: &str) -> Vec<Node> {
    let mut p = Scanner {
        b: text.as_bytes(),
        text,
        i: 0,
        out: Vec::new(),
    };
    p.ws();
    p.value(String::new(), String::new(), None, 0);
    p.out
}

struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
    out: Vec<Node>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn string_end(&mut self) {
        // At the opening quote.
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    fn value(
        &mut self,
        pointer: String,
        parent: String,
        key: Option<(usize, usize)>,
        depth: usize,
    ) {
        if depth > 512 || self.i >= self.b.len() {
            return;
        }
        let start = self.i;
        let at = self.out.len();
        self.out.push(Node {
            pointer: pointer.clone(),
            parent,
            start,
            end: start,
            key,
            in_array: key.is_none() && !pointer.is_empty(),
            is_scalar: true,
        });
        match self.b[self.i] {
            b'{' => {
                self.out[at].is_scalar = false;
                self.i += 1;
                loop {
                    self.ws();
                    if self.i >= self.b.len() || self.b[self.i] == b'}' {
                        self.i += 1;
                        break;
                    }
                    if self.b[self.i] == b',' {
                        self.i += 1;
                        continue;
                    }
                    let ks = self.i;
                    self.string_end();
                    let ke = self.i;
                    let name: String = serde_json::from_str(&self.text[ks..ke]).unwrap_or_default();
                    self.ws();
                    self.i += 1; // ':'
                    self.ws();
                    let child = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                    self.value(child, pointer.clone(), Some((ks, ke)), depth + 1);
                }
            }
            b'[' => {
                self.out[at].is_scalar = false;
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.i >= self.b.len() || self.b[self.i] == b']' {
                        self.i += 1;
                        break;
                    }
                    if self.b[self.i] == b',' {
                        self.i += 1;
                        continue;
                    }
                    self.value(format!("{pointer}/{n}"), pointer.clone(), None, depth + 1);
                    n += 1;
                }
            }
            b'"' => self.string_end(),
            _ => {
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']')
                    && !self.b[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
            }
        }
        self.out[at].end = self.i.min(self.b.len());
    }
}

/// The spec among `specs` that holds `op`.
pub fn spec_of<'s>(specs: &'s [Arc<Spec>], op: &Operation) -> Option<&'s Arc<Spec>> {
    specs
        .iter()
        .find(|s| s.operations_on(&op.path).any(|o| std::ptr::eq(o, op)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) const SPEC: &str = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /items:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Item"}}}
        4XX:
          description: refused
          content: {application/problem+json: {schema: {type: object, required: [title]}}}
        "204": {description: nothing}
components:
  schemas:
    Item:
      type: object
      required: [id, name, qty]
      additionalProperties: false
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string, example: Bag, minLength: 2}
        qty: {type: integer, minimum: 0, maximum: 10, exclusiveMaximum: true}
        note: {type: string, nullable: true}
        kind: {type: string, enum: [a, b], nullable: true}
        tags: {type: array, items: {type: string}}
        child: {$ref: "#/components/schemas/Item"}
"##;

    fn spec() -> Spec {
        super::super::parse(SPEC).unwrap()
    }

    #[test]
    fn openapi_30_keywords_are_translated_and_refs_stay_recursive() {
        let s = spec();
        let op = &s.operations[0];
        let v = s.request_validator(op).unwrap();
        // `id` is read-only: not required in a request; `nullable` allows null.
        assert!(v.is_valid(&json!({"name": "ab", "qty": 1, "note": null, "kind": null})));
        // 3.0's boolean `exclusiveMaximum`.
        let (d, n) = v.differences(&json!({"name": "ab", "qty": 10}), 3);
        assert_eq!(n, 1);
        assert_eq!(d[0].path, "$.qty");
        assert!(d[0].message.contains("maximum of 10"), "{}", d[0].message);
        // The recursion is followed, not cut: a wrong nested child is found.
        let (d, _) = v.differences(
            &json!({"name": "ab", "qty": 1, "child": {"name": "ab", "qty": "x"}}),
            3,
        );
        assert_eq!(d[0].path, "$.child.qty");
        assert_eq!(d[0].message, r#""x" is not of type "integer""#);
        // In a response, `id` is required.
        let ResponseSchema::Json { code, validator } =
            s.response_schema(op, 201, Some("application/json; charset=utf-8"))
        else {
            panic!()
        };
        assert_eq!(code, "201");
        let (d, _) = validator.differences(&json!({"name": "ab", "qty": 1}), 3);
        assert_eq!(d[0].message, r#""id" is a required property"#);
        // A range code, a status without content, one not documented.
        assert!(matches!(
            s.response_schema(op, 409, Some("application/problem+json")),
            ResponseSchema::Json { code, .. } if code == "4XX"
        ));
        assert!(matches!(
            s.response_schema(op, 204, None),
            ResponseSchema::NoJsonSchema { .. }
        ));
        assert!(matches!(
            s.response_schema(op, 500, None),
            ResponseSchema::Undocumented { codes } if codes.len() == 3
        ));
    }

    #[test]
    fn json_paths_for_people() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/items/0/price"), "$.items[0].price");
        assert_eq!(pointer_to_path("/a~1b/x y"), r#"$["a/b"]["x y"]"#);
    }

    fn problems(body: &str) -> Vec<String> {
        let s = spec();
        let v = s.request_validator(&s.operations[0]).unwrap();
        body_problems(&v, body)
            .into_iter()
            .map(|p| format!("{} {}", &body[p.start..p.end], p.message))
            .collect()
    }

    #[test]
    fn body_problems_are_at_the_value_they_are_about() {
        assert_eq!(
            problems("{\n  \"name\": \"a\",\n  \"qty\": \"3\",\n  \"tags\": [\"x\", 2]\n}"),
            [
                r#""a" $.name: "a" is shorter than 2 characters"#,
                r#""3" $.qty: "3" is not of type "integer""#,
                r#"2 $.tags[1]: 2 is not of type "string""#,
            ]
        );
        // A missing property: the object's opening brace; an extra one too.
        assert_eq!(
            problems(r#"{"qty": 1, "extra": true}"#),
            [
                r#"{ "name" is a required property"#,
                "{ Additional properties are not allowed (\"extra\" was unexpected)",
            ]
        );
        // A nested object: its key.
        assert_eq!(
            problems(r#"{"name": "ab", "qty": 1, "child": {"qty": 1}}"#),
            [r#""child" $.child: "name" is a required property"#]
        );
        // Not JSON: nothing to say here (the editor says it elsewhere, if at all).
        assert!(problems("{\"name\": ").is_empty());
    }

    #[test]
    fn the_validator_follows_no_reference_out_of_the_document() {
        // A schema file on disk that a `$ref` names: the default loader of the crate
        // would read it (and then a number would fail `type: string`); ours refuses, so
        // the document does not compile and checks nothing.
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.json");
        std::fs::write(&outside, r#"{"type": "string"}"#).unwrap();
        let url = url::Url::from_file_path(&outside).unwrap();
        let doc = json!({"$ref": url.as_str()});
        assert!(compile_document(doc).is_err());
    }

    #[test]
    fn differences_are_sentences_in_the_words_of_each_keyword() {
        let doc = json!({
            "type": "object",
            "properties": {
                "a": {"enum": ["x", "y", "z"]},
                "b": {"maximum": 10},
                "c": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "d": {"type": "array", "minItems": 2},
                "e": {"type": ["string", "null"]},
                "f": {"const": 1}
            }
        });
        let v = compile_document(doc).unwrap();
        let inst = json!({"a": "w", "b": 11, "c": 1.5, "d": [1], "e": 3, "f": 2});
        let mut got: Vec<String> = v
            .all_differences(&inst)
            .into_iter()
            .map(|(d, _)| d.to_string())
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                r#"$.a: "w" is not one of "x", "y" or "z""#,
                "$.b: 11 is greater than the maximum of 10",
                "$.c: 1.5 fits none of the schemas of `anyOf`",
                "$.d: [1] has less than 2 items",
                r#"$.e: 3 is not of type "null" or "string""#,
                "$.f: 1 was expected",
            ]
        );
    }

    #[test]
    fn templated_values_are_not_judged() {
        // The variable decides the value: no warning, whatever its schema.
        assert!(problems(r#"{"name": "{{name}}", "qty": {{qty}}}"#).is_empty());
        assert!(problems(r#"{"name": "x-{{n}}", "qty": 1}"#).is_empty());
        assert!(problems(r#"{{body}}"#).is_empty());
        assert!(problems(r#"{"name": "ab", "qty": 1, "tags": [{{tags}}]}"#).is_empty());
        assert!(problems(r#"{"name": "ab", "qty": 1, "{{key}}": 1}"#).is_empty());
        assert!(problems(r#"{"name": "ab", "qty": 1, "note": "{{$auth.token("a")}}"}"#).is_empty());
        // ...but what holds for any value still counts: a string is no integer, and a
        // missing property stays missing.
        assert_eq!(
            problems(r#"{"name": "ab", "qty": "{{qty}}"}"#),
            [r#""{{qty}}" $.qty: "{{qty}}" is not of type "integer""#]
        );
        assert_eq!(
            problems(r#"{"name": {{name}}}"#),
            [r#"{ "qty" is a required property"#]
        );
    }
}

/// The example bodies `import openapi` writes (`example::body`, `example::from_schema`)
/// validate against the schemas they come from.
#[cfg(test)]
pub(crate) mod example_bodies {
    use super::*;
    use crate::openapi::example::{MAX_VALUES, from_schema, from_schema_in};
    use crate::openapi::import;
    use crate::openapi::tests::PETS;
    use proptest::prelude::*;
    use serde_json::json;

    /// The Adobe Commerce example spec and the specs of the tests.
    fn specs() -> Vec<(&'static str, Spec)> {
        [
            (
                "adobe-commerce",
                include_str!("../../examples/adobe-commerce/commerce.openapi.yaml"),
            ),
            ("openapi::tests::PETS", PETS),
            ("validate::tests::SPEC", super::tests::SPEC),
            ("import::tests::SPEC", import::tests::SPEC),
        ]
        .into_iter()
        .map(|(name, text)| (name, super::super::parse(text).unwrap()))
        .collect()
    }

    /// Every schema of a document: the named ones, those of parameters and media types,
    /// and every property and item schema inside them, with their JSON pointers.
    fn schemas_of(root: &Value) -> Vec<(String, &Value)> {
        fn walk<'a>(v: &'a Value, at: String, is_schema: bool, out: &mut Vec<(String, &'a Value)>) {
            if is_schema && v.is_object() {
                out.push((at.clone(), v));
            }
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                        let child_is_schema = matches!(k.as_str(), "schema" | "items")
                            || at.ends_with("/schemas")
                            || at.ends_with("/properties");
                        walk(x, here, child_is_schema, out);
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        walk(x, format!("{at}/{i}"), false, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(root, String::new(), false, &mut out);
        out
    }

    /// A validator of the same schema that checks `format` too (the project's leaves
    /// formats out: OpenAPI's are mostly annotations).
    fn with_formats(root: &Value, schema: &Value, dir: Direction) -> Compiled {
        compile_document_with(to_json_schema(root, schema, dir), true).expect("compiles")
    }

    /// Checks that every schema of `spec` has an example that fits it (with the
    /// project's validator, and with formats checked too); the number checked. The
    /// editor's tests run it on their specs as well (`ide/check.rs`).
    pub(crate) fn every_schema_has_an_example_that_fits(name: &str, spec: &Spec) -> usize {
        let mut checked = 0;
        for (at, schema) in schemas_of(&spec.root) {
            let example = from_schema_in(&spec.root, schema, 8);
            for dir in [Direction::Request, Direction::Response] {
                let v = compile(&spec.root, schema, dir).expect("compiles");
                let (d, _) = v.differences(&example, 3);
                assert!(d.is_empty(), "{name} {at} ({dir:?}): {example} {d:?}");
                let f = with_formats(&spec.root, schema, dir);
                let errors: Vec<String> = f
                    .all_differences(&example)
                    .into_iter()
                    .map(|(d, _)| d.to_string())
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{name} {at} ({dir:?}): {example} {errors:?}"
                );
            }
            checked += 1;
        }
        checked
    }

    #[test]
    fn every_schema_of_the_example_and_test_specs_has_an_example_that_fits() {
        let mut checked = 0;
        for (name, spec) in specs() {
            checked += every_schema_has_an_example_that_fits(name, &spec);
        }
        assert!(checked >= 40, "only {checked} schemas checked");
    }

    /// Following `$ref`s as the walk goes writes the same examples as copying them into
    /// the schema first (what `import openapi` did before), on ordinary specs.
    #[test]
    fn examples_from_refs_followed_lazily_are_those_of_the_copied_schema() {
        for (name, spec) in specs() {
            for (at, schema) in schemas_of(&spec.root) {
                let copied = super::super::inline(&spec.root, schema, 24);
                // A cycle: the copy has cut it where the walk writes it once more.
                if !reaches_a_cycle(&spec.root, schema, &mut Vec::new()) {
                    assert_eq!(
                        from_schema_in(&spec.root, schema, 8),
                        from_schema(&copied, 8),
                        "{name} {at}"
                    );
                }
            }
        }
    }

    /// Does `schema` reach a `$ref` it is inside of?
    fn reaches_a_cycle<'a>(root: &'a Value, schema: &'a Value, stack: &mut Vec<&'a str>) -> bool {
        match schema {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    if stack.contains(&r) {
                        return true;
                    }
                    if let Some(t) = r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                        stack.push(r);
                        let found = reaches_a_cycle(root, t, stack);
                        stack.pop();
                        if found {
                            return true;
                        }
                    }
                }
                m.iter()
                    .filter(|(k, _)| *k != "$ref")
                    .any(|(_, x)| reaches_a_cycle(root, x, stack))
            }
            Value::Array(a) => a.iter().any(|x| reaches_a_cycle(root, x, stack)),
            _ => false,
        }
    }

    #[test]
    fn every_example_body_of_the_adobe_spec_fits_its_schema() {
        let text = include_str!("../../examples/adobe-commerce/commerce.openapi.yaml");
        let spec = super::super::parse(text).unwrap();
        let mut checked = 0;
        for op in &spec.operations {
            if let Some(b) = &op.body {
                let body = super::super::example::body(&spec.root, b).unwrap();
                let v = spec.request_validator(op).expect("a request schema");
                let (d, _) = v.differences(&body, 3);
                assert!(d.is_empty(), "{} {}: {body} {d:?}", op.method, op.path);
                checked += 1;
            }
            for (code, _) in &op.responses {
                let Ok(status) = code.parse::<u16>() else {
                    continue;
                };
                let ResponseSchema::Json { validator, .. } =
                    spec.response_schema(op, status, Some("application/json"))
                else {
                    continue;
                };
                let raw = operation_value(&spec, op).unwrap()["responses"][code].clone();
                let raw = resolve(&spec.root, &raw);
                let schema = &raw["content"]["application/json"]["schema"];
                let body = from_schema_in(&spec.root, schema, 8);
                let (d, _) = validator.differences(&body, 3);
                assert!(
                    d.is_empty(),
                    "{} {} {code}: {body} {d:?}",
                    op.method,
                    op.path
                );
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} schemas checked");
    }

    /// Thirty schemas, each referencing the next eight times: copied whole (or written
    /// out eight levels deep), 8^8 objects.
    /// Reading the spec, compiling and checking its schemas and writing an example all
    /// finish at once (this took forever, and all memory, before).
    #[test]
    fn a_dense_spec_is_checked_and_exemplified_in_bounded_time() {
        let started = std::time::Instant::now();
        let spec = super::super::parse(&super::super::tests::dense_spec(30, 8)).unwrap();
        let op = &spec.operations[0];
        let b = op.body.as_ref().unwrap();
        let example = super::super::example::body(&spec.root, b).unwrap();
        fn count(v: &Value) -> usize {
            1 + match v {
                Value::Object(m) => m.values().map(count).sum(),
                _ => 0,
            }
        }
        assert!(count(&example) <= 2 * MAX_VALUES);
        assert!(example["p0"]["p7"].is_object(), "{example}");
        let v = spec.request_validator(op).expect("a request schema");
        assert!(!v.is_valid(&json!({"p0": {}})));
        let ResponseSchema::Json { validator, .. } =
            spec.response_schema(op, 200, Some("application/json"))
        else {
            panic!("a JSON response schema")
        };
        let (d, _) = validator.differences(&json!({"p0": {"p0": 1}}), 3);
        assert!(!d.is_empty());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    /// Schemas of the shapes specs use: scalars with formats and enums, `nullable`,
    /// objects with required and read-only properties, arrays, `allOf` of objects.
    fn schema() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(json!({"type": "string"})),
            Just(json!({"type": "string", "format": "date-time"})),
            Just(json!({"type": "string", "format": "email"})),
            Just(json!({"type": "string", "enum": ["a", "b"]})),
            Just(json!({"type": "integer", "format": "int64"})),
            Just(json!({"type": "integer", "enum": [1, 2]})),
            Just(json!({"type": "number"})),
            Just(json!({"type": "boolean"})),
            Just(json!({"type": "string", "nullable": true})),
            Just(json!({"type": "integer", "example": 42})),
        ];
        // Bounds and formats the example must keep to.
        let bounded = prop_oneof![
            (-50i64..50, 0i64..20, any::<bool>(), any::<bool>()).prop_map(|(lo, width, ex, v31)| {
                let hi = lo + width + 2;
                match (ex, v31) {
                    (false, _) => json!({"type": "integer", "minimum": lo, "maximum": hi}),
                    (true, false) => json!({"type": "integer", "minimum": lo, "exclusiveMinimum": true, "maximum": hi, "exclusiveMaximum": true}),
                    (true, true) => json!({"type": "integer", "exclusiveMinimum": lo, "exclusiveMaximum": hi}),
                }
            }),
            (1i64..60, 1i64..7).prop_map(|(lo, m)| json!({"type": "integer", "minimum": lo, "multipleOf": m})),
            (-5.0f64..5.0, 0.01f64..3.0, any::<bool>()).prop_map(|(lo, width, ex)| {
                if ex {
                    json!({"type": "number", "exclusiveMinimum": lo, "exclusiveMaximum": lo + width})
                } else {
                    json!({"type": "number", "minimum": lo, "maximum": lo + width})
                }
            }),
            (0u64..40, 0u64..40, prop_oneof![
                Just(None), Just(Some("date-time")), Just(Some("date")), Just(Some("email")),
                Just(Some("uuid")), Just(Some("uri")), Just(Some("hostname")), Just(Some("ipv4")),
            ]).prop_map(|(min, extra, format)| {
                let mut s = json!({"type": "string", "minLength": min, "maxLength": min + extra});
                if let Some(f) = format {
                    // A fixed-length format only with lengths that allow it.
                    let fixed = match f { "date-time" => Some(20), "date" => Some(10), "uuid" => Some(36), "ipv4" => Some(9), _ => None };
                    if let Some(n) = fixed {
                        s = json!({"type": "string", "minLength": min.min(n), "maxLength": (min + extra).max(n)});
                    }
                    // ...and the others not shorter than their shortest value ("u@x.io",
                    // "a:b", "a"): a schema nothing fits has no example to check.
                    let shortest = match f { "email" => 6, "uri" => 3, "hostname" => 1, _ => 0 };
                    if min + extra < shortest {
                        s["maxLength"] = json!(shortest);
                    }
                    s["format"] = json!(f);
                }
                s
            }),
            (0u64..5, 0u64..3, any::<bool>()).prop_map(|(min, extra, unique)| json!({
                "type": "array", "items": {"type": "integer", "minimum": 3},
                "minItems": min, "maxItems": min + extra, "uniqueItems": unique,
            })),
        ];
        let leaf = prop_oneof![leaf, bounded];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                (
                    proptest::collection::btree_map("[a-z]{1,6}", inner.clone(), 0..5),
                    proptest::collection::vec(any::<bool>(), 5),
                    any::<bool>(),
                )
                    .prop_map(|(props, req, closed)| {
                        let required: Vec<&String> = props
                            .keys()
                            .zip(&req)
                            .filter(|(_, r)| **r)
                            .map(|(k, _)| k)
                            .collect();
                        json!({
                            "type": "object",
                            "required": required,
                            "properties": props,
                            "additionalProperties": !closed,
                        })
                    }),
                inner
                    .clone()
                    .prop_map(|items| json!({"type": "array", "items": items})),
                (inner.clone(), inner).prop_map(|(a, b)| {
                    // Different names: two parts that agree (a spec's `allOf` extends).
                    json!({"allOf": [
                        {"type": "object", "required": ["x"], "properties": {"x": a}},
                        {"type": "object", "properties": {"y": b}},
                    ]})
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_generated_body_fits_the_schema_it_came_from(s in schema()) {
            let v = compile(&Value::Null, &s, Direction::Request).expect("compiles");
            let body = from_schema(&s, 8);
            let (d, _) = v.differences(&body, 3);
            prop_assert!(d.is_empty(), "{} from {}: {:?}", body, s, d);
            let f = with_formats(&Value::Null, &s, Direction::Request);
            let errors: Vec<String> =
                f.all_differences(&body).into_iter().map(|(d, _)| d.to_string()).collect();
            prop_assert!(errors.is_empty(), "{} from {}: {:?}", body, s, errors);
        }
    }
}
