//! Editor features tested as data: a fixture (the file, `$0` at the cursor, and the
//! environment the editor would load) and the expected answer written out as text.
//! Adding a case is one `check_*` call. `tests/lsp.rs` keeps the wiring checks only
//! (that the server routes a request here and converts the answer).

use super::completion::complete;
use super::definition::{Target, definition};
use super::diagnostics::diagnostics;
use super::folding::folding_ranges;
use super::hover::hover;
use super::lenses::request_lenses;
use super::symbols::symbols;
use super::{Analysis, EnvVarView, EnvView, SignInView};
use crate::openapi;
use crate::openapi::tests::dense_spec;
use crate::openapi::validate::example_bodies;
use crate::syntax::ast::Severity;
use crate::text::TextRange;

/// 2026-12-05 12:00 UTC: the clock of every fixture ("52 min left").
const NOW: i64 = 1_796_472_000;

/// A fixture: `$0` marks the cursor (removed from the text).
fn fixture(text: &str) -> (Analysis, usize) {
    let at = text.find("$0").unwrap_or(0);
    (Analysis::new(text.replacen("$0", "", 1)), at)
}

/// The environment `dev` with `vars` (`name=value`; a name starting with `!` is a
/// private value) and the signed-in profile `shop`.
fn env(vars: &[&str]) -> EnvView {
    EnvView {
        environments: vec!["dev".into(), "prod".into()],
        selected: Some("dev".into()),
        variables: vars
            .iter()
            .map(|v| {
                let (name, value) = v.split_once('=').unwrap();
                let secret = name.starts_with('!');
                EnvVarView {
                    name: name.trim_start_matches('!').into(),
                    value: value.into(),
                    secret,
                    location: None,
                    origin: "environment \"dev\" (http-client.env.json)".into(),
                }
            })
            .collect(),
        profiles: vec![SignInView {
            id: "shop".into(),
            grant: Some("Authorization Code".into()),
            signed_in: true,
            account: Some("jane@example.com".into()),
            scopes: vec!["openid".into()],
            expires_at: Some(NOW + 52 * 60),
            ..Default::default()
        }],
        specs: Vec::new(),
    }
}

/// `line:col` (1-based) of `offset`.
fn pos(a: &Analysis, offset: u32) -> String {
    a.index.line_col(&a.text, offset as usize).to_string()
}

fn span(a: &Analysis, r: TextRange) -> String {
    format!("{}-{}", pos(a, r.start), pos(a, r.end))
}

fn assert_text(actual: String, expected: &str) {
    let expected = expected.trim_start_matches('\n');
    assert_eq!(
        actual, expected,
        "\n--- actual ---\n{actual}\n--------------"
    );
}

fn check_completion(text: &str, vars: &[&str], expected: &str) {
    let (a, at) = fixture(text);
    let items = complete(&a, at, &env(vars));
    let out: Vec<String> = items
        .iter()
        .map(|i| match &i.detail {
            Some(d) => format!("{} ({d})\n", i.label),
            None => format!("{}\n", i.label),
        })
        .collect();
    assert_text(out.concat(), expected);
}

fn check_hover(text: &str, vars: &[&str], expected: &str) {
    let (a, at) = fixture(text);
    let out = match hover(&a, &env(vars), at, NOW) {
        Some(h) => format!("{}\n{}\n", span(&a, h.range), h.markdown),
        None => "none\n".into(),
    };
    assert_text(out, expected);
}

fn check_definition(text: &str, expected: &str) {
    let (a, at) = fixture(text);
    let out = match definition(&a, &env(&[]), at) {
        Some(Target::Here(r)) => format!("{} `{}`\n", span(&a, r), r.slice(&a.text)),
        Some(Target::Elsewhere(l)) => format!("{}\n", l.path.display()),
        None => "none\n".into(),
    };
    assert_text(out, expected);
}

fn check_folding(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let out: String = folding_ranges(&a)
        .iter()
        .map(|f| format!("{} {:?}\n", span(&a, f.range), f.kind))
        .collect();
    assert_text(out, expected);
}

fn check_symbols(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let out: String = symbols(&a)
        .iter()
        .map(|s| {
            format!(
                "{:?} {} {}{}\n",
                s.kind,
                span(&a, s.selection),
                s.name,
                s.detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_text(out, expected);
}

fn check_lenses(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let e = env(&[]);
    let out: String = request_lenses(&a, Some("dev"), &|id| e.profile(id), NOW)
        .iter()
        .map(|l| format!("{} {}\n", pos(&a, l.range.start), l.title))
        .collect();
    assert_text(out, expected);
}

fn check_diagnostics(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    // Everything the editor shows that the file alone decides (the resolver's, which
    // need the workspace, are tested in tests/resolve.rs).
    let mut all = diagnostics(&a, &[]);
    all.sort_by_key(|d| (d.range.start, d.range.end));
    let out: String = all
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}: {}\n",
                span(&a, d.range),
                d.severity,
                d.code,
                d.message
            )
        })
        .collect();
    assert_text(out, expected);
}

#[test]
fn completion_offers_env_values_then_system_variables() {
    check_completion(
        "GET {{ho$0}}/a\n",
        &["host=http://127.0.0.1", "!token=t0k"],
        r#"
host (environment "dev")
token (environment "dev")
$guid (a random UUID v4)
$uuid (a random UUID v4)
$randomInt ($randomInt MIN MAX: a random integer)
$timestamp (Unix seconds, optionally offset: $timestamp -1 d)
$isoTimestamp (the current time in ISO 8601)
$date (today's local date, YYYY-MM-DD (kulala))
$datetime ($datetime rfc1123|iso8601|"format" [offset unit])
$localDatetime (like $datetime, in local time)
$processEnv ($processEnv NAME: a process environment variable)
$dotenv ($dotenv NAME: a variable from .env)
$env. ($env.NAME: a process environment variable)
$auth.token("") (a token of an auth profile (signs in if needed))
$auth.idToken("") (a token of an auth profile (signs in if needed))
"#,
    );
}

#[test]
fn hover_shows_the_value_its_origin_and_the_precedence() {
    check_hover(
        "GET {{ho$0st}}/a\n",
        &["host=http://127.0.0.1"],
        r#"
1:5-1:13
`host` = `http://127.0.0.1`

environment "dev" (http-client.env.json)

Precedence, highest first: `--var`, pre-request script, the request's own block, the environment (private, public, `$shared`), `.env`, `client.global`, file variables, the process environment.
"#,
    );
}

#[test]
fn hover_masks_a_private_value() {
    check_hover(
        "GET http://h/{{tok$0en}}\n",
        &["!token=t0k-secret"],
        r#"
1:14-1:23
`token` = `***`

environment "dev" (http-client.env.json)

Precedence, highest first: `--var`, pre-request script, the request's own block, the environment (private, public, `$shared`), `.env`, `client.global`, file variables, the process environment.
"#,
    );
}

#[test]
fn definition_goes_to_the_file_variable() {
    check_definition(
        "@host = http://127.0.0.1\n\n###\nGET {{ho$0st}}/a\n",
        "1:2-1:6 `host`\n",
    );
}

#[test]
fn folding_folds_each_request_block() {
    check_folding(
        "### one\nGET http://h/a\nX: 1\n\n{\"a\": 1}\n\n### two\nGET http://h/b\n",
        "1:1-5:9 Region\n7:1-8:15 Region\n",
    );
}

#[test]
fn symbols_name_variables_and_requests() {
    check_symbols(
        "@host = http://h\n\n### one\n# @name first\nGET {{host}}/a\n\n### two\nPOST {{host}}/b\n",
        r#"
Variable 1:2-1:6 host (http://h)
Request 5:1-5:15 first (GET {{host}}/a)
Request 8:1-8:16 two (POST {{host}}/b)
"#,
    );
}

#[test]
fn lenses_send_and_show_the_profile_state() {
    check_lenses(
        "### one\nGET http://h/a\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n\n###\nGET http://h/b\n",
        r#"
1:1 env: dev
2:1 Send request
2:1 shop: signed in as jane@example.com, 52 min left
6:1 Send request
"#,
    );
}

#[test]
fn diagnostics_of_the_file_alone() {
    check_diagnostics(
        "GET http://h/a\n# @nope 1\n\n> {%\n  client.global.set(\"a\",\n%}\n",
        r#"
2:4-2:8 Hint unknown-metadata: `@nope` is not metadata httplens knows; it is kept and ignored
6:1-6:1 Error script-syntax: script: unexpected token in expression: '}'
"#,
    );
}

/// A small spec for the OpenAPI cases: a server with a base path, a path parameter, a
/// required query parameter, a required header, an enum, responses.
const SHOP_SPEC: &str = r##"
openapi: 3.1.0
info: {title: Shop, version: "1"}
servers:
  - url: https://shop.example.com/rest/V1
paths:
  /products:
    get:
      summary: Search products
      parameters:
        - {name: searchCriteria, in: query, required: true, style: deepObject, schema: {type: object}}
        - {name: sort, in: query, schema: {type: string, enum: [name, price]}}
        - {name: Store, in: header, schema: {type: string}, description: "the store view code"}
      responses:
        "200": {description: "the products\nmore text"}
        "401": {description: not signed in}
    post:
      summary: Create a product
      parameters:
        - {name: X-Request-Id, in: header, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object}
      responses:
        "200": {description: the product}
  /products/{sku}:
    get:
      summary: One product
      parameters:
        - {name: sku, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: the product}
        "404": {description: no such product}
  /store/storeViews:
    get:
      operationId: storeViews
      responses:
        "200": {description: the store views}
"##;

fn spec_env() -> EnvView {
    let mut e = env(&[]);
    e.specs = vec![std::sync::Arc::new(
        openapi::parse(SHOP_SPEC).expect("the fixture spec"),
    )];
    e
}

fn check_api_completion(text: &str, expected: &str) {
    let (a, at) = fixture(text);
    let out: String = complete(&a, at, &spec_env())
        .iter()
        .map(|i| {
            format!(
                "{} -> {} @{} ({})\n",
                i.label,
                i.insert,
                span(&a, i.replace),
                i.detail.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_text(out, expected);
}

fn check_api_hover(text: &str, expected: &str) {
    let (a, at) = fixture(text);
    let out = match hover(&a, &spec_env(), at, NOW) {
        Some(h) => format!("{}\n{}", span(&a, h.range), h.markdown),
        None => "none\n".into(),
    };
    assert_text(out, expected);
}

fn check_api_diagnostics(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let out: String = super::openapi::diagnostics(&a, &spec_env().specs)
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}: {}\n",
                span(&a, d.range),
                d.severity,
                d.code,
                d.message
            )
        })
        .collect();
    assert_text(out, expected);
}

#[test]
fn api_completion_offers_the_paths_of_the_method_as_snippets() {
    check_api_completion(
        "GET {{api}}/pr$0\n",
        r#"
/products -> /products @1:12-1:15 (Search products)
/products/{sku} -> /products/${1:sku} @1:12-1:15 (One product)
/store/storeViews -> /store/storeViews @1:12-1:15 (storeViews)
"#,
    );
    // Only the paths with a POST; after a typed server base path, the rest of it.
    check_api_completion(
        "POST https://shop.example.com/rest/V1/$0\n",
        "/products -> /products @1:38-1:39 (Create a product)\n",
    );
}

#[test]
fn api_completion_offers_query_parameters_then_enum_values() {
    check_api_completion(
        "GET {{api}}/products?$0\n",
        r#"
searchCriteria -> searchCriteria= @1:22-1:22 (object, required)
sort -> sort= @1:22-1:22 (string)
"#,
    );
    // One already given is not offered again (a deep object counts by its prefix).
    check_api_completion(
        "GET {{api}}/products?searchCriteria[pageSize]=5&$0\n",
        "sort -> sort= @1:49-1:49 (string)\n",
    );
    check_api_completion(
        "GET {{api}}/products?sort=pr$0\n",
        r#"
name -> name @1:27-1:29 (string of `sort`)
price -> price @1:27-1:29 (string of `sort`)
"#,
    );
}

#[test]
fn api_completion_offers_the_declared_headers_first() {
    let (a, at) = fixture("GET {{api}}/products\nSt$0\n");
    let items = complete(&a, at, &spec_env());
    assert_eq!(items[0].label, "Store");
    assert_eq!(items[0].insert, "Store: ");
    assert_eq!(
        items[0].detail.as_deref(),
        Some("declared by the spec: string")
    );
    // The common headers follow.
    assert!(items.iter().any(|i| i.label == "Accept"));
}

#[test]
fn api_hover_on_a_request_line_shows_the_operation() {
    check_api_hover(
        "GET {{api}}/products/ab$0c-1\n",
        r#"
1:1-1:27
**GET** `/products/{sku}`: One product

Parameters:
- `sku` (path, string, required)

Responses:
- `200`: the product
- `404`: no such product
"#,
    );
    check_api_hover(
        "GET https://shop.example.com/rest/V1/pro$0ducts?searchCriteria[pageSize]=1\n",
        r#"
1:1-1:73
**GET** `/products`: Search products

Parameters:
- `searchCriteria` (query, object, required)
- `sort` (query, string)
- `Store` (header, string): the store view code

Responses:
- `200`: the products
- `401`: not signed in
"#,
    );
    // A request the spec does not know: no hover.
    check_api_hover("GET {{api}}/nothing$0\n", "none\n");
}

#[test]
fn api_diagnostics_are_warnings_for_unknown_paths_methods_and_missing_parameters() {
    check_api_diagnostics(
        "GET {{api}}/prodcts\n\n###\nDELETE {{api}}/products\n\n###\nGET {{api}}/products\n\n###\nPOST {{api}}/products\nContent-Type: application/json\n\n{}\n\n###\nGET {{api}}/products?searchCriteria[pageSize]=1\n\n###\nGET https://elsewhere.example.com/prodcts\n",
        r#"
1:5-1:20 Warning openapi-unknown-path: The spec has no path `/prodcts`; check the path (or the spec may be out of date)
4:1-4:7 Warning openapi-unknown-method: The spec has no DELETE on this path, only GET, POST
7:5-7:21 Warning openapi-missing-parameter: The spec requires the query parameter `searchCriteria` (object); add `searchCriteria=` to the URL
10:1-10:22 Warning openapi-missing-parameter: The spec requires the header `X-Request-Id` (string); add a `X-Request-Id: ` line
"#,
    );
}

#[test]
fn api_broken_spec_is_one_warning_on_the_line_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "openapi: 3.0.0\npaths: [").unwrap();
    let text = "# @openapi ./bad.yaml\n\n###\nGET http://h/a\n";
    let a = Analysis::new(text.into());
    let sources: Vec<_> = openapi::spec_sources(a.file(), dir.path(), None)
        .into_iter()
        .map(|s| {
            let l = openapi::load(&s.path);
            (s, l)
        })
        .collect();
    let d = super::openapi::source_diagnostics(&sources);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(span(&a, d[0].range), "1:12-1:22");
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.contains("not valid YAML"), "{}", d[0].message);
}

#[test]
fn api_broken_spec_named_by_an_env_file_is_reported_on_its_key() {
    use crate::openapi::sources::{NamedAt, SpecSource};
    let env_text = "{\n  \"dev\": {\n    \"openapi\": \"./missing.yaml\"\n  }\n}\n";
    let sources = vec![(
        SpecSource {
            path: "/w/missing.yaml".into(),
            named_at: NamedAt::EnvFile("/w/http-client.env.json".into()),
        },
        openapi::load(std::path::Path::new("/w/missing.yaml")),
    )];
    // Not on the request file...
    assert!(super::openapi::source_diagnostics(&sources).is_empty());
    // ...but on the env file's `"openapi"` key.
    let problems = super::openapi::env_file_problems(&sources);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].0,
        std::path::Path::new("/w/http-client.env.json")
    );
    assert!(
        problems[0].1.contains("cannot read the spec"),
        "{}",
        problems[0].1
    );
    let r = super::openapi::key_range_in(env_text, "openapi");
    assert_eq!(r.slice(env_text), "\"openapi\"");
}

/// A spec with request bodies for the body cases: `$ref`s, a required nested object, a
/// cycle (`parent`), enums of strings and integers, an array of objects, a body that is
/// an array, and one that is not JSON.
const BODY_SPEC: &str = r##"
openapi: 3.0.3
info: {title: Bodies, version: "1"}
servers:
  - url: https://shop.example.com/rest/V1
paths:
  /products:
    post:
      summary: Create a product
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/ProductRequest"}
      responses:
        "200": {description: the product}
  /orders:
    put:
      requestBody:
        content:
          application/json:
            schema: {type: array, items: {$ref: "#/components/schemas/Order"}}
      responses:
        "200": {description: the orders}
  /notes:
    post:
      requestBody:
        content:
          text/plain:
            schema: {type: string}
      responses:
        "200": {description: the note}
components:
  schemas:
    ProductRequest:
      type: object
      required: [product]
      properties:
        product: {$ref: "#/components/schemas/Product"}
        saveOptions: {type: boolean}
    Product:
      type: object
      required: [sku, name]
      properties:
        id: {type: integer, readOnly: true}
        sku: {type: string}
        name: {type: string}
        price: {type: number}
        status: {type: integer, enum: [1, 2]}
        visibility: {type: string, enum: [catalog, search, both]}
        extension_attributes: {$ref: "#/components/schemas/Extension"}
        custom_attributes:
          type: array
          items: {$ref: "#/components/schemas/Attribute"}
        parent: {$ref: "#/components/schemas/Product"}
    Attribute:
      type: object
      required: [attribute_code, value]
      properties:
        attribute_code: {type: string, enum: [color, size]}
        value: {type: string}
    Extension:
      type: object
      properties:
        website_ids: {type: array, items: {type: integer}}
    Order:
      type: object
      required: [entity_id, state]
      properties:
        entity_id: {type: integer}
        state: {type: string, enum: [new, processing, complete]}
        next: {$ref: "#/components/schemas/Order"}
"##;

fn check_body_completion(text: &str, expected: &str) {
    let (a, at) = fixture(text);
    let mut e = env(&[]);
    e.specs = vec![std::sync::Arc::new(
        openapi::parse(BODY_SPEC).expect("the body fixture spec"),
    )];
    let out: String = complete(&a, at, &e)
        .iter()
        .map(|i| {
            format!(
                "{} -> {} @{} ({})\n",
                i.label,
                i.insert,
                span(&a, i.replace),
                i.detail.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_text(out, expected);
}

#[test]
fn body_completion_offers_a_skeleton_of_the_request_schema_on_an_empty_body() {
    // Required fields first (`product`, and inside it `sku`, `name`), then the optional
    // ones; `readOnly` `id` left out; the required nested object written out, optional
    // ones and the cycle `parent` as `{}`; each value a tab stop.
    check_body_completion(
        "POST {{api}}/products\nContent-Type: application/json\n\n$0",
        r#"
JSON body -> {
  "product": {
    "sku": "$1",
    "name": "$2",
    "price": ${3:0},
    "status": ${4:1},
    "visibility": "${5:catalog}",
    "extension_attributes": {$6},
    "custom_attributes": [$7],
    "parent": {$8}
  },
  "saveOptions": ${9:false}
} @4:1-4:1 (required first: product)
"#,
    );
}

#[test]
fn body_completion_skeleton_of_an_array_body_writes_one_item() {
    check_body_completion(
        "PUT https://shop.example.com/rest/V1/orders\n\n$0\n",
        r#"
JSON body -> [
  {
    "entity_id": ${1:0},
    "state": "${2:new}",
    "next": {$3}
  }
] @3:1-3:1 (the request schema of PUT /orders)
"#,
    );
}

#[test]
fn body_completion_offers_nothing_for_a_body_that_is_not_json() {
    check_body_completion("POST {{api}}/notes\n\n$0", "");
}

#[test]
fn body_completion_offers_nothing_once_the_body_has_text() {
    // Below a body already written (not inside its JSON): no second skeleton.
    check_body_completion("POST {{api}}/products\n\n{}\n$0", "");
}

#[test]
fn body_completion_offers_the_property_names_not_yet_present_in_a_quote() {
    // In `"|"` (the closing quote typed by the editor): replaced with `name": `; the
    // names already there (before and after the cursor) are left out, required first.
    check_body_completion(
        "POST {{api}}/products\n\n{\n  \"product\": {\n    \"sku\": \"a\",\n    \"$0\"\n    \"price\": 1\n  }\n}\n",
        r#"
name -> name":  @6:6-6:7 (string, required)
status -> status":  @6:6-6:7 (integer)
visibility -> visibility":  @6:6-6:7 (string)
extension_attributes -> extension_attributes":  @6:6-6:7 (object)
custom_attributes -> custom_attributes":  @6:6-6:7 (array of object)
parent -> parent":  @6:6-6:7 (object)
"#,
    );
}

#[test]
fn body_completion_offers_property_names_at_an_empty_key_position() {
    check_body_completion(
        "POST {{api}}/products\n\n{\n  \"saveOptions\": true,\n  $0\n}\n",
        "product -> \"product\":  @5:3-5:3 (object, required)\n",
    );
}

#[test]
fn body_completion_offers_enum_values_after_the_colon() {
    check_body_completion(
        "POST {{api}}/products\n\n{\"product\": {\"sku\": \"{{sku}}\", \"status\":$0}}\n",
        r#"
1 ->  1 @3:41-3:41 (integer enum of `status`)
2 ->  2 @3:41-3:41 (integer enum of `status`)
"#,
    );
}

#[test]
fn body_completion_offers_string_enum_values_inside_the_quotes() {
    check_body_completion(
        "POST {{api}}/products\n\n{\"product\": {\"visibility\": \"se$0\"}}\n",
        r#"
catalog -> catalog" @3:29-3:32 (string enum of `visibility`)
search -> search" @3:29-3:32 (string enum of `visibility`)
both -> both" @3:29-3:32 (string enum of `visibility`)
"#,
    );
}

#[test]
fn body_completion_follows_arrays_of_objects_to_the_enum() {
    check_body_completion(
        "POST {{api}}/products\n\n{\n  \"product\": {\n    \"custom_attributes\": [\n      {\"attribute_code\": \"color\", \"value\": \"red\"},\n      {\"attribute_code\": $0\n",
        r#"
color -> "color" @7:26-7:26 (string enum of `attribute_code`)
size -> "size" @7:26-7:26 (string enum of `attribute_code`)
"#,
    );
}

#[test]
fn body_completion_offers_nothing_where_the_schema_says_nothing() {
    // A key the schema does not know, a value without an enum, inside a `{{variable}}`.
    check_body_completion(
        "POST {{api}}/products\n\n{\"product\": {\"nope\": {\"$0\"}}}\n",
        "",
    );
}

proptest::proptest! {
    /// Any body text, any cursor: body completion answers or offers nothing, never
    /// panics (the body is always half-typed while completing).
    #[test]
    fn body_completion_never_panics(body in "[{}\\[\\]\":, a-z0-9\\\\\n]{0,60}", cut in 0usize..80) {
        let text = format!("POST {{{{api}}}}/products\n\n{body}");
        let a = Analysis::new(text.clone());
        let mut e = env(&[]);
        e.specs = vec![std::sync::Arc::new(openapi::parse(BODY_SPEC).unwrap())];
        let at = (text.len() - body.len() + cut).min(text.len());
        for item in complete(&a, at, &e) {
            proptest::prop_assert!(item.replace.start as usize <= at && item.replace.end as usize <= text.len());
        }
    }
}

#[test]
fn body_skeleton_stops_at_a_required_cycle() {
    let root: serde_json::Value = serde_json::json!({"components": {"schemas": {"Node": {
        "type": "object",
        "required": ["child", "name"],
        "properties": {"child": {"$ref": "#/components/schemas/Node"}, "name": {"type": "string"}}
    }}}});
    let schema = serde_json::json!({"$ref": "#/components/schemas/Node"});
    assert_eq!(
        super::openapi::skeleton(&root, &schema),
        "{\n  \"child\": {$1},\n  \"name\": \"$2\"\n}"
    );
}

fn check_body_diagnostics(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let specs = vec![std::sync::Arc::new(
        openapi::parse(BODY_SPEC).expect("the body fixture spec"),
    )];
    let out: String = super::openapi::diagnostics(&a, &specs)
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}: {}\n",
                span(&a, d.range),
                d.severity,
                d.code,
                d.message
            )
        })
        .collect();
    assert_text(out, expected);
}

#[test]
fn body_diagnostics_warn_at_each_value_that_does_not_fit_the_schema() {
    check_body_diagnostics(
        "POST {{api}}/products\nContent-Type: application/json\n\n{\n  \"product\": {\n    \"sku\": \"MH01\",\n    \"name\": \"Bag\",\n    \"status\": 3,\n    \"price\": \"12\"\n  }\n}\n",
        r#"
8:15-8:16 Warning openapi-body: The body does not fit the spec's schema: $.product.status: 3 is not one of 1 or 2
9:14-9:18 Warning openapi-body: The body does not fit the spec's schema: $.product.price: "12" is not of type "number"
"#,
    );
    // A missing required property: on the key of the object that lacks it.
    check_body_diagnostics(
        "POST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": \"MH01\"}}\n",
        r#"
4:2-4:11 Warning openapi-body: The body does not fit the spec's schema: $.product: "name" is a required property
"#,
    );
    // An array body, the schema followed through `$ref`s to an enum.
    check_body_diagnostics(
        "PUT https://shop.example.com/rest/V1/orders\nContent-Type: application/json\n\n[{\"entity_id\": 1, \"state\": \"new\"}, {\"entity_id\": 2, \"state\": \"done\"}]\n",
        r#"
4:62-4:68 Warning openapi-body: The body does not fit the spec's schema: $[1].state: "done" is not one of "new", "processing" or "complete"
"#,
    );
}

#[test]
fn body_diagnostics_never_judge_what_a_variable_decides() {
    // Values from variables, a whole body from one, a templated key: nothing to say.
    check_body_diagnostics(
        "POST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": \"{{sku}}\", \"name\": \"{{$random.alphabetic(8)}}\", \"status\": {{status}}}}\n\n###\nPOST {{api}}/products\nContent-Type: application/json\n\n{{body}}\n\n###\nPOST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": \"a\", \"{{field}}\": \"b\"}}\n",
        "",
    );
    // ...but a missing property stays missing, and a quoted variable is a string.
    check_body_diagnostics(
        "POST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": \"a\", \"name\": \"b\", \"price\": \"{{price}}\"}, \"saveOptions\": {{save}}}\n\n###\nPOST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": {{sku}}}}\n",
        r#"
4:48-4:59 Warning openapi-body: The body does not fit the spec's schema: $.product.price: "{{price}}" is not of type "number"
10:2-10:11 Warning openapi-body: The body does not fit the spec's schema: $.product: "name" is a required property
"#,
    );
}

#[test]
fn body_diagnostics_leave_bodies_that_are_not_json_alone() {
    // Not JSON yet (being typed), a text body, a body from a file, a form.
    check_body_diagnostics(
        "POST {{api}}/products\nContent-Type: application/json\n\n{\"product\": {\"sku\": \n\n###\nPOST {{api}}/notes\nContent-Type: text/plain\n\n42\n\n###\nPOST {{api}}/products\nContent-Type: application/json\n\n< ./product.json\n\n###\nPOST {{api}}/products\nContent-Type: application/x-www-form-urlencoded\n\nsku=1\n",
        "",
    );
}

/// The examples `import openapi` would write fit every schema of the editor's fixture
/// specs (the same check as `openapi::validate`'s on the example spec).
#[test]
fn every_schema_of_the_fixture_specs_has_an_example_that_fits() {
    let mut checked = 0;
    for (name, text) in [("SHOP_SPEC", SHOP_SPEC), ("BODY_SPEC", BODY_SPEC)] {
        let spec = openapi::parse(text).unwrap();
        checked += example_bodies::every_schema_has_an_example_that_fits(name, &spec);
    }
    assert!(checked >= 15, "only {checked} schemas checked");
}

/// A body skeleton of a spec whose schemas reference each other densely (thirty
/// schemas, each referencing the next eight times, all required) stops at its bound
/// instead of writing 8^6 objects.
#[test]
fn a_skeleton_of_a_dense_spec_is_bounded() {
    let started = std::time::Instant::now();
    let spec = openapi::parse(&dense_spec(30, 8)).unwrap();
    let schema = spec.operations[0]
        .body
        .as_ref()
        .unwrap()
        .schema
        .clone()
        .unwrap();
    let snippet = super::openapi::skeleton(&spec.root, &schema);
    assert!(snippet.len() < 200_000, "{} bytes", snippet.len());
    assert!(snippet.contains("\"p7\": {"), "{snippet}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
