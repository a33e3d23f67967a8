//! Example values: the spec's own (`example`, `examples`, `default`, the first `enum`
//! value), else a skeleton built from the schema with required properties first.

use serde_json::{Map, Value};

/// A value that fits `schema` (already inlined: no `$ref`s), at most `depth` deep.
pub fn from_schema(schema: &Value, depth: usize) -> Value {
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(e) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return e.clone();
    }
    if let Some(d) = schema.get("default") {
        return d.clone();
    }
    if let Some(e) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return e.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    for key in ["allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let mut merged = Map::new();
            for p in parts {
                if let Value::Object(o) = from_schema(p, depth) {
                    merged.extend(o);
                }
            }
            return Value::Object(merged);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return from_schema(first, depth);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "",
    };
    match ty {
        "object" => {
            if depth == 0 {
                return Value::Object(Map::new());
            }
            let mut out = Map::new();
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return Value::Object(out);
            };
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in &required {
                if let Some(p) = props.get(*name) {
                    out.insert(name.to_string(), from_schema(p, depth - 1));
                }
            }
            for (name, p) in props {
                if !required.contains(&name.as_str())
                    && p.get("readOnly") != Some(&Value::Bool(true))
                {
                    out.insert(name.clone(), from_schema(p, depth - 1));
                }
            }
            Value::Object(out)
        }
        "array" => match schema.get("items") {
            Some(items) if depth > 0 => Value::Array(vec![from_schema(items, depth - 1)]),
            _ => Value::Array(Vec::new()),
        },
        "integer" => Value::from(0),
        "number" => Value::from(0.0),
        "boolean" => Value::Bool(false),
        "string" => Value::String(
            match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2026-01-01T00:00:00Z",
                Some("date") => "2026-01-01",
                Some("email") => "user@example.com",
                Some("uuid") => "00000000-0000-0000-0000-000000000000",
                Some("uri") => "https://example.com",
                _ => "string",
            }
            .to_string(),
        ),
        _ => Value::Null,
    }
}

/// The body to write for an operation: its example, else a skeleton of its schema.
pub fn body(b: &super::RequestBody) -> Option<Value> {
    b.example
        .clone()
        .or_else(|| b.schema.as_ref().map(|s| from_schema(s, 8)))
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
}
