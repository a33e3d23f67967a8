//! A spec as `.http` files: one request per operation (one file per first tag), with
//! path parameters as request variables, required query parameters and headers, an
//! example body (the spec's example, else a skeleton of the schema), and
//! `{{$auth.token("scheme")}}` where the operation needs an OAuth2 or OpenID Connect
//! scheme; and the `http-client.env.json` with one environment per server and the
//! schemes as auth profiles. Pure: the CLI writes what this returns.

use serde_json::{Map, Value, json};

use super::{ParamIn, SchemeKind, Spec};

/// The variable every request starts with: the server URL, from the env file.
pub const BASE_VAR: &str = "baseUrl";

/// `(file name, text)` of each `.http` file, in the spec's order of first tags.
/// `tag`: only the operations with this tag. Empty: no operation matched.
pub fn http_files(spec: &Spec, tag: Option<&str>) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for op in &spec.operations {
        if let Some(t) = tag
            && !op.tags.iter().any(|x| x == t)
        {
            continue;
        }
        let group = op
            .tags
            .first()
            .cloned()
            .or_else(|| (!spec.title.is_empty()).then(|| spec.title.clone()))
            .unwrap_or_else(|| "api".into());
        let file = format!("{}.http", slug(&group));
        let i = match files.iter().position(|(f, _)| *f == file) {
            Some(i) => i,
            None => {
                files.push((file, String::new()));
                files.len() - 1
            }
        };
        let text = &mut files[i].1;
        if !text.is_empty() {
            text.push('\n');
        }
        let mut name = slug(
            &op.operation_id
                .clone()
                .unwrap_or_else(|| format!("{} {}", op.method, op.path)),
        );
        let base = name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name.clone());
        let title = op
            .summary
            .clone()
            .unwrap_or_else(|| format!("{} {}", op.method, op.path));
        text.push_str(&format!("### {}\n# @name {name}\n", one_line(&title)));
        // Path parameters as request variables, so the file resolves as written.
        let mut path = op.path.clone();
        for p in op.params(ParamIn::Path) {
            text.push_str(&format!("@{} = {}\n", p.name, example_text(p)));
            path = path.replace(&format!("{{{}}}", p.name), &format!("{{{{{}}}}}", p.name));
        }
        let query: Vec<String> = op
            .params(ParamIn::Query)
            .filter(|p| p.required)
            .map(|p| format!("{}={}", p.name, encode(&example_text(p))))
            .collect();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        text.push_str(&format!("{} {{{{{BASE_VAR}}}}}{path}{query}\n", op.method));
        for s in &op.security {
            if spec.security_schemes.iter().any(|x| {
                x.name == *s
                    && matches!(
                        x.kind,
                        SchemeKind::OAuth2 { .. } | SchemeKind::OpenIdConnect { .. }
                    )
            }) {
                text.push_str(&format!(
                    "Authorization: Bearer {{{{$auth.token(\"{}\")}}}}\n",
                    profile_id(s)
                ));
                break;
            }
        }
        for p in op.params(ParamIn::Header).filter(|p| p.required) {
            text.push_str(&format!("{}: {}\n", p.name, example_text(p)));
        }
        if let Some(b) = &op.body {
            text.push_str(&format!("Content-Type: {}\n", b.content_type));
            if let Some(v) = super::example::body(&spec.root, b) {
                let body = if b.content_type.contains("json") {
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                } else {
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                };
                text.push('\n');
                text.push_str(&body);
                text.push('\n');
            }
        }
    }
    files
}

/// The env file: one environment per server (`baseUrl`), each with the OAuth2 and
/// OpenID Connect schemes as auth profiles (Client ID to fill in).
pub fn env_file(spec: &Spec) -> Value {
    let mut profiles = Map::new();
    for s in &spec.security_schemes {
        let profile = match &s.kind {
            SchemeKind::OAuth2 { flows } => {
                let Some(f) = flows
                    .iter()
                    .find(|f| f.flow == "authorizationCode")
                    .or_else(|| flows.iter().find(|f| f.flow == "clientCredentials"))
                else {
                    continue;
                };
                let mut p = Map::new();
                p.insert("Type".into(), json!("OAuth2"));
                let grant = if f.flow == "authorizationCode" {
                    "Authorization Code"
                } else {
                    "Client Credentials"
                };
                p.insert("Grant Type".into(), json!(grant));
                if let Some(u) = &f.authorization_url {
                    p.insert("Auth URL".into(), json!(u));
                }
                if let Some(u) = &f.token_url {
                    p.insert("Token URL".into(), json!(u));
                }
                p.insert("Client ID".into(), json!("YOUR_CLIENT_ID"));
                if !f.scopes.is_empty() {
                    p.insert("Scope".into(), json!(f.scopes.join(" ")));
                }
                p
            }
            SchemeKind::OpenIdConnect { url } => {
                let issuer = url
                    .strip_suffix("/.well-known/openid-configuration")
                    .unwrap_or(url);
                let mut p = Map::new();
                p.insert("Type".into(), json!("OAuth2"));
                p.insert("Grant Type".into(), json!("Authorization Code"));
                p.insert("Issuer".into(), json!(issuer));
                p.insert("Client ID".into(), json!("YOUR_CLIENT_ID"));
                p.insert("Scope".into(), json!("openid"));
                p
            }
            _ => continue,
        };
        profiles.insert(profile_id(&s.name), Value::Object(profile));
    }
    let servers: Vec<(String, String)> = if spec.servers.is_empty() {
        vec![("default".into(), "http://localhost".into())]
    } else {
        let mut out: Vec<(String, String)> = Vec::new();
        for (i, s) in spec.servers.iter().enumerate() {
            let mut name = s
                .description
                .as_deref()
                .map(slug)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| {
                    if i == 0 {
                        "default".into()
                    } else {
                        format!("server{}", i + 1)
                    }
                });
            if out.iter().any(|(n, _)| *n == name) {
                name = format!("{name}-{}", i + 1);
            }
            out.push((name, s.url.trim_end_matches('/').to_string()));
        }
        out
    };
    let mut env = Map::new();
    for (name, url) in servers {
        let mut e = Map::new();
        e.insert(BASE_VAR.into(), json!(url));
        if !profiles.is_empty() {
            e.insert(
                "Security".into(),
                json!({ "Auth": Value::Object(profiles.clone()) }),
            );
        }
        env.insert(name, Value::Object(e));
    }
    Value::Object(env)
}

/// The private env file the public one needs: a `Client Secret` placeholder for each
/// client-credentials profile (a secret never goes into the shared file). `None`: none.
pub fn private_env_file(public: &Value) -> Option<Value> {
    let mut out = Map::new();
    for (env, e) in public.as_object()? {
        let Some(auth) = e.pointer("/Security/Auth").and_then(Value::as_object) else {
            continue;
        };
        let mut profiles = Map::new();
        for (id, p) in auth {
            if p["Grant Type"] == "Client Credentials" {
                profiles.insert(id.clone(), json!({"Client Secret": "YOUR_CLIENT_SECRET"}));
            }
        }
        if !profiles.is_empty() {
            out.insert(
                env.clone(),
                json!({"Security": {"Auth": Value::Object(profiles)}}),
            );
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn profile_id(scheme: &str) -> String {
    slug(scheme)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Store Views` -> `store-views`; `getProduct` stays.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn example_text(p: &super::Parameter) -> String {
    let v = p.example.clone().or_else(|| p.enum_values.first().cloned());
    match v {
        Some(Value::String(s)) => s,
        Some(Value::Object(_) | Value::Array(_)) | None => match p.type_name.as_str() {
            "integer" | "number" => "1".into(),
            "boolean" => "true".into(),
            _ => "value".into(),
        },
        Some(other) => other.to_string(),
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SPEC: &str = r##"
openapi: 3.0.3
info: {title: Shop, version: "1"}
servers: [{url: "https://shop.example.com/v1", description: Production}]
security: [{shop: [orders.read]}]
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      tags: [orders]
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}, example: 42}
        - {name: fields, in: query, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
  /products:
    post:
      tags: [products]
      security: []
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [sku]
              properties:
                name: {type: string}
                sku: {type: string, example: BAG-1}
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    shop:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: https://login.example.com/authorize
          tokenUrl: https://login.example.com/token
          scopes: {orders.read: read orders}
"##;

    #[test]
    fn one_file_per_tag_with_variables_query_auth_and_bodies() {
        let spec = super::super::parse(SPEC).unwrap();
        let files = http_files(&spec, None);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, "orders.http");
        assert_eq!(
            files[0].1,
            "### GET /orders/{id}\n# @name getOrder\n@id = 42\nGET {{baseUrl}}/orders/{{id}}?fields=value\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n"
        );
        assert_eq!(
            files[1].1,
            "### POST /products\n# @name POST-products\nPOST {{baseUrl}}/products\nContent-Type: application/json\n\n{\n  \"sku\": \"BAG-1\",\n  \"name\": \"string\"\n}\n"
        );
        assert_eq!(http_files(&spec, Some("products")).len(), 1);
        assert!(http_files(&spec, Some("nope")).is_empty());
        let env = env_file(&spec);
        assert_eq!(env["Production"]["baseUrl"], "https://shop.example.com/v1");
        let p = &env["Production"]["Security"]["Auth"]["shop"];
        assert_eq!(p["Grant Type"], "Authorization Code");
        assert_eq!(p["Token URL"], "https://login.example.com/token");
        assert_eq!(p["Scope"], "orders.read");
    }
}
