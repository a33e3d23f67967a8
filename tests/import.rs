//! `httplens import curl`: real curl commands (from API docs, browser "copy as cURL",
//! and the curl examples in the comments of `../shared/corpus/http`) turned into
//! requests, and each printed request read back by `httplens show` as the same
//! request.

use std::path::Path;
use std::process::{Command, Stdio};

fn import(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_httplens"));
    cmd.arg("import").arg("curl").args(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `httplens show` of `text` as a file: what would go on the wire.
fn show(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("body.json"), "{}").unwrap();
    let file = dir.path().join("r.http");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_httplens"))
        .current_dir(dir.path())
        .args(["show", "r.http", "--reveal"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Commands as people paste them, and the request each must become.
const TABLE: &[(&str, &str)] = &[
    (
        // GitHub REST API docs.
        "curl -L \\\n  -H \"Accept: application/vnd.github+json\" \\\n  -H \"Authorization: Bearer <YOUR-TOKEN>\" \\\n  -H \"X-GitHub-Api-Version: 2022-11-28\" \\\n  https://api.github.com/repos/OWNER/REPO/issues",
        "GET https://api.github.com/repos/OWNER/REPO/issues\nAccept: application/vnd.github+json\nAuthorization: Bearer <YOUR-TOKEN>\nX-GitHub-Api-Version: 2022-11-28\n",
    ),
    (
        // Stripe docs: -u key: and -d pairs.
        "curl https://api.stripe.com/v1/customers \\\n  -u \"sk_test_123:\" \\\n  -d name=\"Jenny Rosen\" \\\n  --data-urlencode email=\"jenny.rosen@example.com\"",
        "POST https://api.stripe.com/v1/customers\nAuthorization: Basic sk_test_123:\nContent-Type: application/x-www-form-urlencoded\n\nname=Jenny Rosen&email=jenny.rosen%40example.com\n",
    ),
    (
        // A browser's "Copy as cURL": single quotes, --compressed, -b.
        "curl 'https://shop.example/rest/V1/products?searchCriteria[pageSize]=5' -H 'accept: application/json' -b 'PHPSESSID=abc; store=default' --compressed",
        "GET https://shop.example/rest/V1/products?searchCriteria[pageSize]=5\naccept: application/json\nCookie: PHPSESSID=abc; store=default\n",
    ),
    (
        // Adobe Commerce docs: a JSON body on several lines.
        "curl -X POST \"https://example.com/rest/default/V1/integration/admin/token\" \\\n     -H \"Content-Type:application/json\" \\\n     -d '{\"username\":\"admin\", \"password\":\"secret\"}'",
        "POST https://example.com/rest/default/V1/integration/admin/token\nContent-Type: application/json\n\n{\n  \"username\": \"admin\",\n  \"password\": \"secret\"\n}\n",
    ),
    (
        "curl --request PATCH --url https://api.example/v2/items/7 --header 'content-type: application/json' --data '{\"name\":\"x\"}'",
        "PATCH https://api.example/v2/items/7\ncontent-type: application/json\n\n{\n  \"name\": \"x\"\n}\n",
    ),
    (
        "curl -X POST https://api.example/upload -F 'meta={\"a\":1};type=application/json' -F file=@body.json",
        "POST https://api.example/upload\nContent-Type: multipart/form-data; boundary=----httplens-curl-form\n\n------httplens-curl-form\nContent-Disposition: form-data; name=\"meta\"\nContent-Type: application/json\n\n{\"a\":1}\n------httplens-curl-form\nContent-Disposition: form-data; name=\"file\"; filename=\"body.json\"\n\n< ./body.json\n------httplens-curl-form--\n",
    ),
    (
        "curl -sI https://example.com/health",
        "HEAD https://example.com/health\n",
    ),
    (
        // OpenAI API reference: the key stays a shell variable, as written.
        "curl https://api.openai.com/v1/chat/completions \\\n  -H \"Content-Type: application/json\" \\\n  -H \"Authorization: Bearer $OPENAI_API_KEY\" \\\n  -d '{\n    \"model\": \"gpt-4o\",\n    \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]\n  }'",
        "POST https://api.openai.com/v1/chat/completions\nContent-Type: application/json\nAuthorization: Bearer $OPENAI_API_KEY\n\n{\n  \"model\": \"gpt-4o\",\n  \"messages\": [\n    {\n      \"role\": \"user\",\n      \"content\": \"Hi\"\n    }\n  ]\n}\n",
    ),
    (
        // Twilio docs: --data-urlencode encodes the `+` of phone numbers.
        "curl -X POST \"https://api.twilio.com/2010-04-01/Accounts/$TWILIO_ACCOUNT_SID/Messages.json\" \\\n--data-urlencode \"Body=Hello there\" \\\n--data-urlencode \"From=+15017122661\" \\\n--data-urlencode \"To=+15558675310\" \\\n-u $TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN",
        "POST https://api.twilio.com/2010-04-01/Accounts/$TWILIO_ACCOUNT_SID/Messages.json\nAuthorization: Basic $TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN\nContent-Type: application/x-www-form-urlencoded\n\nBody=Hello%20there&From=%2B15017122661&To=%2B15558675310\n",
    ),
    (
        // Mailgun docs: --user and text form fields.
        "curl -s --user 'api:YOUR_API_KEY' \\\n    https://api.mailgun.net/v3/YOUR_DOMAIN_NAME/messages \\\n    -F from='Excited User <mailgun@YOUR_DOMAIN_NAME>' \\\n    -F to=YOU@YOUR_DOMAIN_NAME \\\n    -F subject='Hello'",
        "POST https://api.mailgun.net/v3/YOUR_DOMAIN_NAME/messages\nAuthorization: Basic api:YOUR_API_KEY\nContent-Type: multipart/form-data; boundary=----httplens-curl-form\n\n------httplens-curl-form\nContent-Disposition: form-data; name=\"from\"\n\nExcited User <mailgun@YOUR_DOMAIN_NAME>\n------httplens-curl-form\nContent-Disposition: form-data; name=\"to\"\n\nYOU@YOUR_DOMAIN_NAME\n------httplens-curl-form\nContent-Disposition: form-data; name=\"subject\"\n\nHello\n------httplens-curl-form--\n",
    ),
    (
        // Chrome's "Copy as cURL (bash)": -b, --data-raw with a $'...' string.
        "curl 'https://www.example.com/api/graphql' \\\n  -H 'accept: */*' \\\n  -H 'content-type: application/json' \\\n  -b 'sid=abc; theme=dark' \\\n  -H 'priority: u=1, i' \\\n  -H 'sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"' \\\n  --data-raw $'{\"query\":\"{ me { name } }\",\"variables\":{\"q\":\"it\\'s\"}}'",
        "POST https://www.example.com/api/graphql\naccept: */*\ncontent-type: application/json\nCookie: sid=abc; theme=dark\npriority: u=1, i\nsec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\n\n{\n  \"query\": \"{ me { name } }\",\n  \"variables\": {\n    \"q\": \"it's\"\n  }\n}\n",
    ),
    (
        // Firefox's "Copy as cURL": the method after the URL, one line.
        "curl 'https://example.org/api/items' -X POST -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' -H 'Accept: application/json' -H 'Accept-Language: en-US,en;q=0.5' -H 'Content-Type: application/json' -H 'Connection: keep-alive' --data-raw '{\"name\":\"x\"}'",
        "POST https://example.org/api/items\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\nAccept: application/json\nAccept-Language: en-US,en;q=0.5\nContent-Type: application/json\nConnection: keep-alive\n\n{\n  \"name\": \"x\"\n}\n",
    ),
    (
        // Postman's code snippet: --location, --header, a JSON body over lines.
        "curl --location 'https://api.example.com/v1/orders' \\\n--header 'Content-Type: application/json' \\\n--header 'Authorization: Bearer eyJhbGci' \\\n--data '{\n    \"sku\": \"A-1\",\n    \"qty\": 2\n}'",
        "POST https://api.example.com/v1/orders\nContent-Type: application/json\nAuthorization: Bearer eyJhbGci\n\n{\n  \"sku\": \"A-1\",\n  \"qty\": 2\n}\n",
    ),
    (
        // Elasticsearch docs: no scheme (curl's default is http), `-d'` with its value
        // attached.
        "curl -X GET \"localhost:9200/_search?pretty\" -H 'Content-Type: application/json' -d'\n{\n  \"query\": { \"match_all\": {} }\n}\n'",
        "GET localhost:9200/_search?pretty\nContent-Type: application/json\n\n{\n  \"query\": {\n    \"match_all\": {}\n  }\n}\n",
    ),
    (
        // A README's example: the output goes to jq, which is not the request.
        "curl -s -H 'Accept: application/json' 'https://api.example.com/v1/status?verbose=true' | jq '.components[]'",
        "GET https://api.example.com/v1/status?verbose=true\nAccept: application/json\n",
    ),
    (
        // A tutorial's `-d @file` with no Content-Type: curl sends it as a form.
        "curl -d \"@body.json\" -X POST http://localhost:3000/data",
        "POST http://localhost:3000/data\nContent-Type: application/x-www-form-urlencoded\n\n< ./body.json\n",
    ),
    (
        // GitLab docs: a token header and an unquoted URL with a query.
        "curl --header \"PRIVATE-TOKEN: <your_access_token>\" \"https://gitlab.example.com/api/v4/projects?per_page=5&page=2\"",
        "GET https://gitlab.example.com/api/v4/projects?per_page=5&page=2\nPRIVATE-TOKEN: <your_access_token>\n",
    ),
];

#[test]
fn real_commands_become_the_requests_they_describe() {
    for (command, expected) in TABLE {
        // On stdin, as pasted.
        let (out, err, code) = import(&[], Some(command));
        assert_eq!(code, 0, "{command}\n{err}");
        assert_eq!(&out, expected, "{command}");
        // The printed request reads back as itself.
        let shown = show(&out);
        // (`show` prints the URL as it goes on the wire: `[` `]` percent-encoded, and
        // `http://` where curl would add it.)
        let first = expected.lines().next().unwrap().split('?').next().unwrap();
        let with_scheme = first.replacen(' ', " http://", 1);
        assert!(
            shown.contains(first) || shown.contains(&with_scheme),
            "{shown}"
        );
        for header in expected.lines().skip(1).take_while(|l| !l.is_empty()) {
            assert!(
                shown.contains(header) || header.starts_with("Authorization: Basic"),
                "{header}\n{shown}"
            );
        }
        // A text body goes out as written (multipart lines end in CRLF on the wire).
        if let Some((_, body)) = expected.split_once("\n\n")
            && !body.contains("< ./")
            && !body.starts_with("--")
        {
            assert!(shown.contains(body.trim_end()), "{body}\n{shown}");
        }
    }
    // As arguments, split by the shell.
    let (out, _, code) = import(
        &["-X", "PUT", "https://h/a b", "-H", "X-A: 1", "-d", "x y"],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "PUT https://h/a b\nX-A: 1\nContent-Type: application/x-www-form-urlencoded\n\nx y\n"
    );
}

#[test]
fn commands_that_cannot_be_read_say_why_in_one_line() {
    for (command, needle) in [
        ("curl 'https://h/items/[1-20].json'", "URL globbing"),
        ("curl --proxy http://p:3128 https://h", "`--proxy`"),
        ("curl -X POST", "no URL"),
        ("curl 'https://h", "never closed"),
        ("curl -d a=1 -F b=2 https://h", "cannot be used together"),
        // The body piped in (`echo ... | curl -d @- ...`) is not in the command.
        (
            "curl -H 'Content-Type: application/json' -d @- https://h",
            "standard input",
        ),
        (
            "curl --unix-socket /var/run/docker.sock http://localhost/v1.43/containers/json",
            "`--unix-socket`",
        ),
    ] {
        let (out, err, code) = import(&[], Some(command));
        assert_eq!(code, 1, "{command}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{command}: {err}");
    }
}

/// The curl examples left in comments of the corpus files become the requests their
/// authors wrote below them.
#[test]
fn curl_examples_in_the_corpus_comments() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/http");
    let read = |p: &str| {
        std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| {
            panic!("the corpus file {p} is missing ({e}); it is needed for this test")
        })
    };
    // A command commented out line by line, above the request it became.
    let text = read("082-roblappcoupa-http-files-demo/curl.http");
    let command: String = text
        .lines()
        .take_while(|l| !l.starts_with("POST"))
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches(' ').to_string() + " ")
        .collect();
    let (out, err, code) = import(&[], Some(&command));
    assert_eq!(code, 0, "{command}\n{err}");
    assert!(
        out.starts_with(
            "POST https://dev.llama.ai/api/authentication/connect/token\nContent-Type: application/x-www-form-urlencoded\n"
        ),
        "{out}"
    );
    // The author's body, with the spaces their form syntax allows, is the same fields.
    let body = out.split("\n\n").nth(1).unwrap().trim();
    let fields: Vec<&str> = body
        .split('&')
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "client_id",
            "client_secret",
            "grant_type",
            "scope",
            "impersonate_user"
        ]
    );
    assert!(
        body.contains("scope=openid%20profile%20llamasoft_platform%20scg_ws_api"),
        "{body}"
    );
    assert!(
        body.contains("impersonate_user=robert.lapp%40coupa.com"),
        "{body}"
    );
    // One-line examples after `#` / `##`.
    let text = read("019-dCache-dcache/use-case-to-tape.http");
    let examples: Vec<&str> = text
        .lines()
        .filter_map(|l| l.find("curl ").map(|i| &l[i..]))
        .collect();
    assert_eq!(examples.len(), 2, "{examples:?}");
    let (out, err, code) = import(&[], Some(examples[0]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "GET http://localhost:3880/api/v1/poolgroups/pool_write/usage\naccept: application/json\n"
    );
    let (out, err, code) = import(&[], Some(examples[1]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("GET http://localhost:3880/api/v1/id/00004A8E5226AFF5442C82A1E22D257657D2\nAuthorization: Basic admin#admin:"),
        "{out}"
    );
}

/// The round trip: a spec -> `import openapi` -> `.http` files and an env file ->
/// `show --format json`: every operation is there, resolved (no error diagnostics).
#[test]
fn openapi_import_round_trips_through_show() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        r##"
openapi: 3.1.0
info: {title: Shop, version: "1"}
servers: [{url: "http://127.0.0.1:9/rest/V1"}]
paths:
  /products:
    get: {tags: [products], operationId: listProducts, parameters: [{name: q, in: query, required: true, schema: {type: string}, example: bag}], responses: {"200": {description: ok}}}
    post:
      tags: [products]
      operationId: createProduct
      security: [{ims: []}]
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Product"}}}}
      responses: {"200": {description: ok}}
  /products/{sku}:
    get: {tags: [products], operationId: getProduct, parameters: [{name: sku, in: path, required: true, schema: {type: string}}], responses: {"200": {description: ok}}}
  /store/storeViews:
    get: {operationId: storeViews, responses: {"200": {description: ok}}}
components:
  schemas:
    Product: {type: object, required: [sku], properties: {sku: {type: string}, price: {type: number}}}
  securitySchemes:
    ims: {type: oauth2, flows: {clientCredentials: {tokenUrl: "http://127.0.0.1:9/token", scopes: {}}}}
"##,
    )
    .unwrap();
    let out = dir.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["import", "openapi"])
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let mut seen: Vec<String> = Vec::new();
    for file in ["products.http", "Shop.http"] {
        let o = Command::new(env!("CARGO_BIN_EXE_httplens"))
            .arg("show")
            .arg(out.join(file))
            .args(["--format", "json", "--env", "default"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{file}: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for r in v.as_array().unwrap() {
            seen.push(format!(
                "{} {} {} {}",
                r["name"].as_str().unwrap(),
                r["method"].as_str().unwrap(),
                r["url"].as_str().unwrap(),
                r["body"].as_str().unwrap_or("-").replace(['\n', ' '], "")
            ));
        }
        if file == "products.http" {
            let auth = v[1]["headers"].to_string();
            assert!(auth.contains("Bearer ***"), "{auth}");
        }
    }
    assert_eq!(
        seen,
        [
            "listProducts GET http://127.0.0.1:9/rest/V1/products?q=bag -",
            "createProduct POST http://127.0.0.1:9/rest/V1/products {\"sku\":\"string\",\"price\":0.0}",
            "getProduct GET http://127.0.0.1:9/rest/V1/products/value -",
            "storeViews GET http://127.0.0.1:9/rest/V1/store/storeViews -",
        ]
    );
    // Written once: a second import into the same folder refuses to overwrite.
    let again = Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["import", "openapi"])
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    // A broken spec is one sentence and exit 1, never a panic.
    std::fs::write(&spec, "openapi: 3.0.0\npaths: [").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["import", "openapi"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not valid YAML"));
}

use httplens::openapi::{Match, parse};

const SPEC: &str = include_str!("../examples/adobe-commerce/commerce.openapi.yaml");

/// Every route of the demo API is an operation of the example's spec, and every
/// request of the example file matches one (no warning from the spec there).
#[test]
fn the_demo_api_and_the_example_follow_the_example_spec() {
    let spec = parse(SPEC).expect("the example spec reads");
    for (method, path) in httplens::demo::api::ROUTES {
        let target = format!("https://na1.api.commerce.adobe.com/t{path}");
        assert!(
            matches!(spec.find(method, &target), Match::Operation(_)),
            "{method} {path}: {:?}",
            spec.find(method, &target)
        );
    }
    let text = include_str!("../examples/adobe-commerce/commerce.http");
    let a = httplens::ide::Analysis::new(text.to_string());
    let specs = vec![std::sync::Arc::new(spec)];
    let requests = a
        .file()
        .blocks
        .iter()
        .filter(|b| b.request.is_some())
        .count();
    let matched = a
        .file()
        .blocks
        .iter()
        .filter(|b| httplens::ide::openapi::operation_of(b, &specs).is_some())
        .count();
    assert_eq!((requests, matched), (7, 7));
    assert_eq!(httplens::ide::openapi::diagnostics(&a, &specs), []);
    let sources = httplens::openapi::spec_sources(a.file(), std::path::Path::new("/x"), None);
    assert_eq!(
        sources[0].path,
        std::path::Path::new("/x/commerce.openapi.yaml")
    );
    // The demo workspace names the same spec, and its requests all match it.
    let dir = tempfile::tempdir().unwrap();
    let w = httplens::demo::scaffold::write_workspace(dir.path(), "http://p", "http://a").unwrap();
    let demo = httplens::ide::Analysis::new(std::fs::read_to_string(&w.request_file).unwrap());
    let sources = httplens::openapi::spec_sources(demo.file(), &w.dir, None);
    assert_eq!(sources.len(), 1);
    let loaded = httplens::openapi::load(&sources[0].path);
    let demo_specs = vec![loaded.as_ref().clone().expect("the demo's spec reads")];
    assert_eq!(httplens::ide::openapi::diagnostics(&demo, &demo_specs), []);
    assert!(
        demo.file()
            .blocks
            .iter()
            .filter(|b| b.request.is_some())
            .all(|b| httplens::ide::openapi::operation_of(b, &demo_specs).is_some())
    );
}
