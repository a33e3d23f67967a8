//! Example values: the spec's own (`example`, `examples`, `default`, the first `enum`
//! value), else a value built from the schema with required properties first, that
//! keeps to its bounds (`minimum`/`maximum` and their exclusive forms, `multipleOf`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`, `uniqueItems`, `maxProperties`) and
//! to the common string formats (`date-time`, `date`, `time`, `email`, `uuid`, `uri`,
//! `hostname`, `ipv4`, `ipv6`, `byte`). `pattern` is not followed.
//!
//! `$ref`s are followed against the spec's document as the walk goes (nothing is
//! copied), a cycle of references is cut, and one example is at most [`MAX_VALUES`]
//! values: a spec whose schemas reference each other densely costs a bounded time.

use serde_json::{Map, Value};

/// How many `$ref` hops are followed before giving up (a cycle of references).
const MAX_REF_HOPS: usize = 32;
/// How deep `allOf` parts are merged (an `allOf` of an `allOf` of ...), and how many
/// parts one schema merges at most.
const MAX_MERGE_DEPTH: usize = 8;
const MAX_MERGED_PARTS: usize = 64;
/// The most values one example holds; past that, optional properties are left out and
/// arrays hold what `minItems` asks (the example may then miss a deep required value).
pub const MAX_VALUES: usize = 2_000;

/// A value that fits `schema` (without `$ref`s, or with `$ref`s into nothing that is
/// needed), at most `depth` deep.
pub fn from_schema(schema: &Value, depth: usize) -> Value {
    from_schema_in(&Value::Null, schema, depth)
}

/// A value that fits `schema`, its local `$ref`s read from the spec's document `root`,
/// at most `depth` deep.
pub fn from_schema_in(root: &Value, schema: &Value, depth: usize) -> Value {
    Gen {
        root,
        seen: Vec::new(),
        budget: MAX_VALUES,
    }
    .value(schema, depth)
}

/// The body to write for an operation: its example, else one built from its schema.
pub fn body(root: &Value, b: &super::RequestBody) -> Option<Value> {
    b.example
        .clone()
        .or_else(|| b.schema.as_ref().map(|s| from_schema_in(root, s, 8)))
}

struct Gen<'a> {
    root: &'a Value,
    /// The `$ref`s being expanded further up (a cycle is not expanded again).
    seen: Vec<&'a str>,
    budget: usize,
}

/// Keywords of a schema, borrowed from the spec (the first part that writes one wins).
#[derive(Default)]
struct Keys<'a>(Vec<(&'a str, &'a Value)>);

impl<'a> Keys<'a> {
    fn get(&self, k: &str) -> Option<&'a Value> {
        self.0.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    fn contains_key(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    /// Sets `k` unless a part before has.
    fn add(&mut self, k: &'a str, v: &'a Value) {
        if !self.contains_key(k) {
            self.0.push((k, v));
        }
    }

    /// Keeps the tighter of two bounds.
    fn bound(&mut self, k: &'a str, v: &'a Value, lower: bool) {
        let Some(new) = v.as_f64() else { return };
        match self.0.iter_mut().find(|(n, _)| *n == k) {
            Some((_, old)) => {
                let o = old.as_f64().unwrap_or(new);
                if (lower && new > o) || (!lower && new < o) {
                    *old = v;
                }
            }
            None => self.0.push((k, v)),
        }
    }
}

/// A schema with its `$ref` followed and its `allOf` parts merged into one set of
/// keywords; `refs` are the references followed on the way (to put on `seen`).
struct Merged<'a> {
    keys: Keys<'a>,
    /// `properties`, merged (the first part that names one wins).
    props: Vec<(&'a str, &'a Value)>,
    required: Vec<&'a str>,
    refs: Vec<&'a str>,
}

impl<'a> Gen<'a> {
    fn deref(&self, mut v: &'a Value, refs: &mut Vec<&'a str>) -> &'a Value {
        for _ in 0..MAX_REF_HOPS {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return v;
            };
            if refs.contains(&r) {
                return v;
            }
            match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                Some(target) => {
                    refs.push(r);
                    v = target;
                }
                None => return v,
            }
        }
        v
    }

    /// The keywords of `schema`, its `$ref` target's and its `allOf` parts' together.
    fn merge(&self, schema: &'a Value) -> Merged<'a> {
        let mut m = Merged {
            keys: Keys::default(),
            props: Vec::new(),
            required: Vec::new(),
            refs: Vec::new(),
        };
        let mut parts = MAX_MERGED_PARTS;
        self.merge_into(schema, MAX_MERGE_DEPTH, &mut parts, &mut m);
        m
    }

    fn merge_into(&self, schema: &'a Value, depth: usize, left: &mut usize, m: &mut Merged<'a>) {
        if !schema.is_object() || *left == 0 {
            return;
        }
        *left -= 1;
        // 3.1: keywords beside a `$ref` apply with it (they come first: they win).
        let target = self.deref(schema, &mut m.refs);
        let parts: Vec<&'a Value> = if std::ptr::eq(target, schema) {
            vec![schema]
        } else {
            vec![schema, target]
        };
        for part in parts {
            let Value::Object(o) = part else { continue };
            for (k, v) in o {
                match k.as_str() {
                    "$ref" | "allOf" => {}
                    "properties" => {
                        for (name, s) in v.as_object().into_iter().flatten() {
                            if !m.props.iter().any(|(n, _)| *n == name) {
                                m.props.push((name, s));
                            }
                        }
                    }
                    "required" => {
                        for name in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
                            if !m.required.contains(&name) {
                                m.required.push(name);
                            }
                        }
                    }
                    // The tighter bound of two parts.
                    "minimum" | "minLength" | "minItems" | "minProperties" => {
                        m.keys.bound(k, v, true);
                    }
                    "maximum" | "maxLength" | "maxItems" | "maxProperties" => {
                        m.keys.bound(k, v, false);
                    }
                    _ => m.keys.add(k, v),
                }
            }
            if depth > 0 {
                for p in part
                    .get("allOf")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.merge_into(p, depth - 1, left, m);
                }
            }
        }
    }

    fn value(&mut self, schema: &'a Value, depth: usize) -> Value {
        self.budget = self.budget.saturating_sub(1);
        let m = self.merge(schema);
        let pushed = m.refs.len();
        self.seen.extend(m.refs.iter().copied());
        let out = self.merged_value(&m, depth);
        self.seen.truncate(self.seen.len() - pushed);
        out
    }

    fn merged_value(&mut self, m: &Merged<'a>, depth: usize) -> Value {
        let s = &m.keys;
        if let Some(e) = s.get("example") {
            return e.clone();
        }
        if let Some(e) = s
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return e.clone();
        }
        if let Some(d) = s.get("default") {
            return d.clone();
        }
        if let Some(e) = s
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return e.clone();
        }
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
                // The first alternative, with the keywords beside it.
                let alt = self.merge(first);
                let pushed = alt.refs.len();
                let mut both = Merged {
                    keys: alt.keys,
                    props: alt.props,
                    required: alt.required,
                    refs: Vec::new(),
                };
                for (k, v) in &s.0 {
                    if *k != key {
                        both.keys.add(k, v);
                    }
                }
                for (n, p) in &m.props {
                    if !both.props.iter().any(|(x, _)| x == n) {
                        both.props.push((n, p));
                    }
                }
                for r in &m.required {
                    if !both.required.contains(r) {
                        both.required.push(r);
                    }
                }
                self.seen.extend(alt.refs.iter().copied());
                let out = self.merged_value(&both, depth);
                self.seen.truncate(self.seen.len() - pushed);
                return out;
            }
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if !m.props.is_empty() || !m.required.is_empty() => "object",
            _ if s.contains_key("items") || s.contains_key("prefixItems") => "array",
            _ if s.contains_key("minLength") || s.contains_key("maxLength") => "string",
            _ if s.contains_key("minimum") || s.contains_key("maximum") => "number",
            _ => "",
        };
        match ty {
            "object" => self.object(m, depth),
            "array" => self.array(s, depth),
            "integer" => integer(s),
            "number" => number(s),
            "boolean" => Value::Bool(false),
            "string" => Value::String(string(s)),
            _ => Value::Null,
        }
    }

    fn object(&mut self, m: &Merged<'a>, depth: usize) -> Value {
        let mut out = Map::new();
        // Out of values: an empty object (it may miss a required property).
        if depth == 0 || self.budget == 0 {
            return Value::Object(out);
        }
        for name in &m.required {
            let v = match m.props.iter().find(|(n, _)| n == name) {
                Some((_, p)) => self.value(p, depth - 1),
                // Required, yet not among the properties: what other properties may be.
                None => match m.keys.get("additionalProperties") {
                    Some(a) if a.is_object() => self.value(a, depth - 1),
                    _ => Value::String("string".into()),
                },
            };
            out.insert(name.to_string(), v);
        }
        let max = m
            .keys
            .get("maxProperties")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |n| n as usize);
        for (name, p) in &m.props {
            if out.len() >= max || self.budget == 0 {
                break;
            }
            if !m.required.contains(name) && !read_only(self.root, p) && !self.cyclic(p) {
                let v = self.value(p, depth - 1);
                out.insert(name.to_string(), v);
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, s: &Keys<'a>, depth: usize) -> Value {
        let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxItems")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |n| n as usize);
        let Some(items) = s.get("items").filter(|i| i.is_object()) else {
            // No item schema (or the old tuple form): anything goes, so `null`s.
            return Value::Array(vec![Value::Null; min]);
        };
        // One item shows the shape (none for an array of what is being written
        // further up); more only when the schema asks for them.
        let want = if depth > 0 && self.budget > 0 && !self.cyclic(items) {
            1
        } else {
            0
        };
        let n = want.max(min).min(max);
        let unique = s.get("uniqueItems") == Some(&Value::Bool(true));
        let first = self.value(items, depth.saturating_sub(1));
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut v = first.clone();
            if unique && i > 0 {
                v = distinct(v, i);
            }
            out.push(v);
        }
        Value::Array(out)
    }
}

impl<'a> Gen<'a> {
    /// Does `schema` (or its arrays' items) lead to a `$ref` being expanded further up?
    /// An optional property that does is left out: a cycle is written once.
    fn cyclic(&self, schema: &'a Value) -> bool {
        let mut v = schema;
        for _ in 0..MAX_REF_HOPS {
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                if self.seen.contains(&r) {
                    return true;
                }
                match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(t) => v = t,
                    None => return false,
                }
            } else if let Some(items) = v.get("items").filter(|i| i.is_object()) {
                v = items;
            } else {
                return false;
            }
        }
        false
    }
}

/// Is this property `readOnly` (here or where its `$ref` leads)?
fn read_only(root: &Value, p: &Value) -> bool {
    let ro = |s: &Value| s.get("readOnly") == Some(&Value::Bool(true));
    ro(p) || ro(super::resolve(root, p))
}

/// The `i`-th of items that must differ: a number moved up by `i`, a string suffixed.
fn distinct(v: Value, i: usize) -> Value {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(x) => Value::from(x + i as i64),
            None => Value::from(n.as_f64().unwrap_or(0.0) + i as f64),
        },
        Value::String(s) => Value::String(format!("{s}{i}")),
        other => other,
    }
}

/// The lower and upper bounds of a number schema: `(value, exclusive)` each. 3.0 writes
/// an exclusive bound as a flag beside `minimum`/`maximum`, 3.1 as a number of its own.
/// A bound of a number: its value, and whether it is exclusive.
type Bound = Option<(f64, bool)>;

fn bounds(s: &Keys) -> (Bound, Bound) {
    let bound = |inclusive: &str, exclusive: &str| {
        let mut b = s.get(inclusive).and_then(Value::as_f64).map(|x| {
            let flag = s.get(exclusive) == Some(&Value::Bool(true));
            (x, flag)
        });
        if let Some(x) = s.get(exclusive).and_then(Value::as_f64) {
            let tighter = match b {
                Some((y, _)) if inclusive == "minimum" => x >= y,
                Some((y, _)) => x <= y,
                None => true,
            };
            if tighter {
                b = Some((x, true));
            }
        }
        b
    };
    (
        bound("minimum", "exclusiveMinimum"),
        bound("maximum", "exclusiveMaximum"),
    )
}

fn integer(s: &Keys) -> Value {
    let step = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m >= 1.0 && m.fract() == 0.0);
    let x = pick(s, step, true);
    if x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::from(0), Value::Number)
    }
}

fn number(s: &Keys) -> Value {
    let step = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0);
    let x = pick(s, step, false);
    if step.is_some_and(|m| m.fract() == 0.0) && x.abs() < 9.0e15 {
        return Value::from(x as i64);
    }
    serde_json::Number::from_f64(x).map_or(Value::from(0.0), Value::Number)
}

/// A number within the schema's bounds: 0 when it fits, else the lower bound (one
/// above it when exclusive), the upper one, or the middle of a narrow open range; a
/// multiple of `step` when there is one.
fn pick(s: &Keys, step: Option<f64>, integer: bool) -> f64 {
    let (lo, hi) = bounds(s);
    let fits = |v: f64| {
        lo.is_none_or(|(l, ex)| if ex { v > l } else { v >= l })
            && hi.is_none_or(|(h, ex)| if ex { v < h } else { v <= h })
            && (!integer || v.fract() == 0.0)
    };
    let mut candidates = vec![0.0];
    if let Some((l, ex)) = lo {
        candidates.push(match (integer, ex) {
            (true, true) => l.floor() + 1.0,
            (true, false) => l.ceil(),
            (false, true) => l + 1.0,
            (false, false) => l,
        });
    }
    if let Some((h, ex)) = hi {
        candidates.push(match (integer, ex) {
            (true, true) => h.ceil() - 1.0,
            (true, false) => h.floor(),
            (false, true) => h - 1.0,
            (false, false) => h,
        });
    }
    if let (Some((l, _)), Some((h, _))) = (lo, hi) {
        let mid = (l + h) / 2.0;
        candidates.push(if integer { mid.round() } else { mid });
    }
    for &c in &candidates {
        let tries = match step {
            Some(m) => [(c / m).ceil() * m, (c / m).floor() * m],
            None => [c, c],
        };
        if let Some(&t) = tries.iter().find(|t| fits(**t)) {
            return t;
        }
    }
    // Bounds that leave nothing (or no multiple): the nearest bound.
    candidates.get(1).copied().unwrap_or(0.0)
}

fn string(s: &Keys) -> String {
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = s
        .get("maxLength")
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |n| n as usize);
    let format = s.get("format").and_then(Value::as_str).unwrap_or("");
    // (the value, where padding goes, a short form for a tight `maxLength`)
    let (base, pad_at, short): (&str, Option<usize>, &str) = match format {
        "date-time" => ("2026-01-01T00:00:00Z", None, "2026-01-01T00:00:00Z"),
        "date" => ("2026-01-01", None, "2026-01-01"),
        "time" => ("12:00:00Z", None, "12:00:00Z"),
        "email" | "idn-email" => ("user@example.com", Some(4), "u@x.io"),
        "uuid" => ("00000000-0000-0000-0000-000000000000", None, ""),
        "uri" | "iri" | "url" => ("https://example.com", Some(19), "a:b"),
        "uri-reference" | "iri-reference" => ("https://example.com", Some(19), "a"),
        "hostname" | "idn-hostname" => ("example.com", Some(0), "a"),
        "ipv4" => ("192.0.2.1", None, "192.0.2.1"),
        "ipv6" => ("2001:db8::1", None, "::1"),
        "byte" => ("c3RyaW5n", None, ""),
        _ => ("string", Some(6), ""),
    };
    let mut out = base.to_string();
    if out.len() > max {
        out = if !short.is_empty() && short.len() <= max && (short.len() >= min || pad_at.is_some())
        {
            short.to_string()
        } else {
            "string"[..max.min(6)].to_string()
        };
    }
    if out.len() < min {
        let at = match pad_at {
            Some(i) if out == base => i.min(out.len()),
            _ => match format {
                "email" | "idn-email" => out.find('@').unwrap_or(out.len()),
                "hostname" | "idn-hostname" => 0,
                _ => out.len(),
            },
        };
        let fill = if format == "byte" { "AAAA" } else { "x" };
        let mut padding = String::new();
        while out.len() + padding.len() < min {
            padding.push_str(fill);
        }
        out.insert_str(at, &padding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skeleton_puts_required_fields_first_and_uses_examples() {
        let schema = json!({
            "type": "object",
            "required": ["sku", "price"],
            "properties": {
                "id": {"type": "integer", "readOnly": true},
                "name": {"type": "string", "example": "Bag"},
                "price": {"type": "number"},
                "sku": {"type": "string"},
                "status": {"type": "integer", "enum": [1, 2]},
                "tags": {"type": "array", "items": {"type": "string", "format": "date"}}
            }
        });
        let v = from_schema(&schema, 8);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"sku":"string","price":0.0,"name":"Bag","status":1,"tags":["2026-01-01"]}"#
        );
    }

    #[test]
    fn values_keep_to_their_bounds_and_formats() {
        let v = |s: Value| from_schema(&s, 8);
        assert_eq!(v(json!({"type": "integer", "minimum": 5})), json!(5));
        assert_eq!(v(json!({"type": "integer", "maximum": -3})), json!(-3));
        // 3.0's flag and 3.1's number.
        assert_eq!(
            v(json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})),
            json!(1)
        );
        assert_eq!(
            v(json!({"type": "integer", "exclusiveMaximum": 0})),
            json!(-1)
        );
        assert_eq!(
            v(json!({"type": "integer", "minimum": 7, "multipleOf": 5})),
            json!(10)
        );
        assert_eq!(
            v(json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5})),
            json!(0.25)
        );
        assert_eq!(
            v(json!({"type": "string", "minLength": 10})),
            json!("stringxxxx")
        );
        assert_eq!(v(json!({"type": "string", "maxLength": 3})), json!("str"));
        assert_eq!(
            v(json!({"type": "string", "format": "email", "minLength": 20})),
            json!("userxxxx@example.com")
        );
        assert_eq!(
            v(json!({"type": "string", "format": "email", "maxLength": 8})),
            json!("u@x.io")
        );
        assert_eq!(
            v(
                json!({"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": true})
            ),
            json!([0, 1, 2])
        );
        assert_eq!(
            v(json!({"type": "array", "items": {"type": "integer"}, "maxItems": 0})),
            json!([])
        );
        // The object's own properties and its `allOf` parts' together.
        assert_eq!(
            v(
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}},
                     "allOf": [{"required": ["b"], "properties": {"b": {"type": "integer", "minimum": 2}}}]})
            ),
            json!({"a": "string", "b": 2})
        );
    }

    #[test]
    fn refs_are_followed_as_the_walk_goes_and_cycles_end() {
        let root = json!({"components": {"schemas": {
            "Node": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 8},
                "next": {"$ref": "#/components/schemas/Node"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "leaf": {"$ref": "#/components/schemas/Leaf"}
            }},
            "Leaf": {"type": "object", "required": ["up"], "properties": {
                "up": {"$ref": "#/components/schemas/Node"}
            }}
        }}});
        // Optional ways back into the cycle are left out; a required one is followed
        // as deep as the depth allows.
        let v = from_schema_in(&root, &json!({"$ref": "#/components/schemas/Node"}), 3);
        assert_eq!(
            v,
            json!({"name": "stringxx", "leaf": {"up": {"name": "stringxx"}}})
        );
    }
}
