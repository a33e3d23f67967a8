//! Walking a JSON Schema (an OpenAPI request or response schema) by JSON path: the
//! sub-schema at `/items/0/sku`, the properties an object schema allows (through
//! `allOf`, `oneOf` and `anyOf`, required ones marked), and a short type name. `$ref`s
//! are followed against the spec's document with a bound on hops, so a cycle of
//! references ends instead of looping. The editor's body completion reads schemas
//! through this module; it never panics on a schema of unexpected shape.

use serde_json::Value;

/// How many `$ref` hops are followed before giving up (a cycle of references).
const MAX_REF_HOPS: usize = 32;
/// How deep `allOf`/`oneOf`/`anyOf` are searched for a property.
const MAX_COMBINATOR_DEPTH: usize = 8;

/// One step of a JSON path: an object's member or an array's element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Follows `$ref`s (`#/...` only) from `schema` until a schema without one; a reference
/// to nowhere, or a cycle, stops at the last schema reached.
pub fn deref<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..MAX_REF_HOPS {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

/// The sub-schemas a schema combines (`allOf`, then `oneOf`, then `anyOf`).
fn combined<'a>(root: &'a Value, schema: &'a Value) -> impl Iterator<Item = &'a Value> {
    ["allOf", "oneOf", "anyOf"]
        .into_iter()
        .filter_map(move |k| schema.get(k).and_then(Value::as_array))
        .flatten()
        .map(move |s| deref(root, s))
}

/// The schema of one step below `schema`, if the schema says.
pub fn child<'a>(root: &'a Value, schema: &'a Value, seg: &Seg) -> Option<&'a Value> {
    fn go<'a>(root: &'a Value, schema: &'a Value, seg: &Seg, depth: usize) -> Option<&'a Value> {
        let schema = deref(root, schema);
        let own = match seg {
            Seg::Key(k) => schema
                .get("properties")
                .and_then(|p| p.get(k.as_str()))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            Seg::Index(i) => schema
                .get("prefixItems")
                .and_then(Value::as_array)
                .and_then(|p| p.get(*i))
                .or_else(|| schema.get("items").filter(|a| a.is_object())),
        };
        if let Some(s) = own {
            return Some(deref(root, s));
        }
        if depth == 0 {
            return None;
        }
        combined(root, schema).find_map(|s| go(root, s, seg, depth - 1))
    }
    go(root, schema, seg, MAX_COMBINATOR_DEPTH)
}

/// The schema at a JSON path below `schema`.
pub fn at_path<'a>(root: &'a Value, schema: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut s = deref(root, schema);
    for seg in path {
        s = child(root, s, seg)?;
    }
    Some(s)
}

/// One property an object schema allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Property<'a> {
    pub name: &'a str,
    /// As the schema writes it (a `$ref` is not followed: see [`deref`]).
    pub schema: &'a Value,
    pub required: bool,
}

/// The properties of an object schema, required ones first (in the order of
/// `required`), then the others in the schema's order; `readOnly` ones left out (they
/// are not sent). `allOf` parts add theirs (and their `required`), `oneOf`/`anyOf`
/// alternatives add theirs as optional.
pub fn properties<'a>(root: &'a Value, schema: &'a Value) -> Vec<Property<'a>> {
    fn collect<'a>(
        root: &'a Value,
        schema: &'a Value,
        must: bool,
        depth: usize,
        props: &mut Vec<Property<'a>>,
        required: &mut Vec<&'a str>,
    ) {
        let schema = deref(root, schema);
        if must && let Some(r) = schema.get("required").and_then(Value::as_array) {
            required.extend(r.iter().filter_map(Value::as_str));
        }
        if let Some(p) = schema.get("properties").and_then(Value::as_object) {
            for (name, s) in p {
                if !props.iter().any(|q| q.name == name) {
                    props.push(Property {
                        name,
                        schema: s,
                        required: false,
                    });
                }
            }
        }
        if depth == 0 {
            return;
        }
        for (key, must_too) in [("allOf", must), ("oneOf", false), ("anyOf", false)] {
            for s in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                collect(root, s, must_too, depth - 1, props, required);
            }
        }
    }
    let mut props = Vec::new();
    let mut required = Vec::new();
    collect(
        root,
        schema,
        true,
        MAX_COMBINATOR_DEPTH,
        &mut props,
        &mut required,
    );
    let read_only = |s: &Value| s.get("readOnly") == Some(&Value::Bool(true));
    props.retain(|p| !read_only(p.schema) && !read_only(deref(root, p.schema)));
    for p in &mut props {
        p.required = required.contains(&p.name);
    }
    let mut out: Vec<Property<'a>> = Vec::with_capacity(props.len());
    for name in &required {
        if let Some(p) = props.iter().find(|p| p.name == *name)
            && !out.iter().any(|q| q.name == p.name)
        {
            out.push(p.clone());
        }
    }
    out.extend(props.into_iter().filter(|p| !p.required));
    out
}

/// The schema's `enum` values, also from a `const`, or the first of
/// `allOf`/`oneOf`/`anyOf` parts that has one.
pub fn enum_values<'a>(root: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    fn go<'a>(root: &'a Value, schema: &'a Value, depth: usize) -> Vec<&'a Value> {
        let schema = deref(root, schema);
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            return e.iter().collect();
        }
        if let Some(c) = schema.get("const") {
            return vec![c];
        }
        if depth == 0 {
            return Vec::new();
        }
        combined(root, schema)
            .map(|s| go(root, s, depth - 1))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }
    go(root, schema, MAX_COMBINATOR_DEPTH)
}

/// The schema's JSON type: `type` (the first that is not `null` in a list), else what
/// its keywords imply (`properties`: object, `items`: array), else an `allOf`/`oneOf`/
/// `anyOf` part's; empty when nothing says.
pub fn json_type<'a>(root: &'a Value, schema: &'a Value) -> &'a str {
    fn go<'a>(root: &'a Value, schema: &'a Value, depth: usize) -> &'a str {
        let schema = deref(root, schema);
        match schema.get("type") {
            Some(Value::String(s)) => return s,
            Some(Value::Array(a)) => {
                if let Some(t) = a.iter().filter_map(Value::as_str).find(|t| *t != "null") {
                    return t;
                }
            }
            _ => {}
        }
        if schema.get("properties").is_some() {
            return "object";
        }
        if schema.get("items").is_some() || schema.get("prefixItems").is_some() {
            return "array";
        }
        if depth == 0 {
            return "";
        }
        combined(root, schema)
            .map(|s| go(root, s, depth - 1))
            .find(|t| !t.is_empty())
            .unwrap_or("")
    }
    go(root, schema, MAX_COMBINATOR_DEPTH)
}

/// `string`, `integer`, `array of string`, `object`: for a completion's detail.
pub fn type_name(root: &Value, schema: &Value) -> String {
    let t = json_type(root, schema);
    if t == "array"
        && let Some(items) = child(root, deref(root, schema), &Seg::Index(usize::MAX))
    {
        let inner = json_type(root, items);
        if !inner.is_empty() {
            return format!("array of {inner}");
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> Value {
        json!({"components": {"schemas": {
            "Product": {
                "allOf": [{"$ref": "#/components/schemas/Base"}],
                "type": "object",
                "required": ["sku"],
                "properties": {
                    "sku": {"type": "string"},
                    "id": {"type": "integer", "readOnly": true},
                    "status": {"type": "integer", "enum": [1, 2]},
                    "options": {"type": "array", "items": {"$ref": "#/components/schemas/Option"}},
                    "parent": {"$ref": "#/components/schemas/Product"}
                }
            },
            "Base": {"required": ["name"], "properties": {"name": {"type": "string"}}},
            "Option": {"properties": {"kind": {"type": ["string", "null"], "enum": ["drop_down", "field"]}}},
            "Loop": {"$ref": "#/components/schemas/Loop"}
        }}})
    }

    #[test]
    fn walks_properties_items_refs_and_all_of() {
        let root = root();
        let product = json!({"$ref": "#/components/schemas/Product"});
        let path = [
            Seg::Key("options".into()),
            Seg::Index(3),
            Seg::Key("kind".into()),
        ];
        let kind = at_path(&root, &product, &path).unwrap();
        assert_eq!(json_type(&root, kind), "string");
        assert_eq!(
            enum_values(&root, kind),
            [&json!("drop_down"), &json!("field")]
        );
        // Through the cycle `parent -> Product` as far as the text goes.
        let parent_name = at_path(
            &root,
            &product,
            &[Seg::Key("parent".into()), Seg::Key("name".into())],
        )
        .unwrap();
        assert_eq!(json_type(&root, parent_name), "string");
        assert!(at_path(&root, &product, &[Seg::Key("nope".into())]).is_none());
        let names: Vec<(&str, bool)> = properties(&root, &product)
            .iter()
            .map(|p| (p.name, p.required))
            .collect();
        assert_eq!(
            names,
            [
                ("sku", true),
                ("name", true),
                ("status", false),
                ("options", false),
                ("parent", false)
            ]
        );
        assert_eq!(
            type_name(
                &root,
                &root["components"]["schemas"]["Product"]["properties"]["options"]
            ),
            "array of object"
        );
    }

    #[test]
    fn a_cycle_of_references_ends() {
        let root = root();
        let l = json!({"$ref": "#/components/schemas/Loop"});
        assert_eq!(json_type(&root, &l), "");
        assert!(properties(&root, &l).is_empty());
        assert!(at_path(&root, &l, &[Seg::Key("a".into())]).is_none());
        // Odd shapes are no schema, never a panic.
        for odd in [
            json!(null),
            json!([1]),
            json!({"properties": 3, "allOf": "x"}),
        ] {
            assert!(properties(&root, &odd).is_empty());
            assert!(enum_values(&root, &odd).is_empty());
        }
    }
}
