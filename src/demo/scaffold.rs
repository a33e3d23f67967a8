//! The ready-made demo workspace: a `.http` file that signs its requests with
//! `{{$auth.token("demo")}}`, the env files (the auth profiles in the public one, the
//! client secret in the private one, deep-merged as in the JetBrains layout) and a
//! `.gitignore` that keeps the private file out of version control. The ports of the
//! running provider and API are written into the env file, so an editor opened on the
//! folder talks to the same servers.

use std::path::{Path, PathBuf};

use crate::auth::fsutil;
use crate::env;
use crate::env::files::{PRIVATE_ENV_FILE, PUBLIC_ENV_FILE};
use serde_json::json;

/// The demo's environment name.
pub const ENV_NAME: &str = "demo";
/// The user sign-in profile (authorization code with PKCE, login page).
pub const USER_PROFILE: &str = "demo";
/// The server-to-server profile (client credentials, no browser).
pub const SERVICE_PROFILE: &str = "demo-service";
/// The request file's name.
pub const REQUEST_FILE: &str = "demo.http";
/// The demo credential (a web-app credential of the provider double).
pub const CLIENT_ID: &str = "demo-web";
pub const CLIENT_SECRET: &str = "demo-web-secret";
/// Scopes the demo asks for, comma-separated as at Adobe IMS.
pub const SCOPES: &str = "AdobeID,openid,email,profile,offline_access,commerce.accs";

/// Where the files went.
#[derive(Debug, Clone)]
pub struct WrittenWorkspace {
    pub dir: PathBuf,
    pub request_file: PathBuf,
    pub env_file: PathBuf,
    pub private_env_file: PathBuf,
}

/// Why the workspace could not be written (one sentence).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the demo workspace {path}: {source}")]
pub struct WriteError {
    path: String,
    source: std::io::Error,
}

/// The spec of the demo API, the one the Adobe Commerce example names.
pub const SPEC_FILE: &str = "commerce.openapi.yaml";
const SPEC: &str = include_str!("../../examples/adobe-commerce/commerce.openapi.yaml");

const REQUESTS: &str = r#"# httplens demo: requests to a local Commerce-like API, signed with a token from a
# local IMS-like provider. Both run inside `httplens demo`; keep it running while you
# try these in an editor ("Send request" above each request) or with
#   httplens run demo.http --env demo
# The env file (http-client.env.json) holds the URLs and the auth profiles; the client
# secret is in http-client.private.env.json (git-ignored). No token is ever written here.
# The API's spec (the same as examples/adobe-commerce names): completion of paths after
# `GET {{api}}`, hover on a request line, warnings for a path it does not have.
# @openapi ./commerce.openapi.yaml

@api = {{baseUrl}}/V1

### Who am I (a user token from the browser sign-in)
# @name me
GET {{api}}/customers/me
Authorization: Bearer {{$auth.token("demo")}}
x-api-key: {{clientId}}

?? status == 200
?? body $.email exists

### Products (default store view)
# @name products
GET {{api}}/products?pageSize=3
Authorization: Bearer {{$auth.token("demo")}}
x-api-key: {{clientId}}

?? status == 200

### The same products in the French store view
GET {{api}}/products?pageSize=3
Authorization: Bearer {{$auth.token("demo")}}
x-api-key: {{clientId}}
Store: fr

?? status == 200

### My orders
# @name orders
GET {{api}}/orders
Authorization: Bearer {{$auth.token("demo")}}
x-api-key: {{clientId}}

?? status == 200

### The first order, by the id the previous response gave
GET {{api}}/orders/{{orders.response.body.$.items[0].entity_id}}
Authorization: Bearer {{$auth.token("demo")}}
x-api-key: {{clientId}}

?? status == 200

### Store views, as a server-to-server integration (client credentials, no browser)
GET {{api}}/store/storeViews
Authorization: Bearer {{$auth.token("demo-service")}}
x-api-key: {{clientId}}

?? status == 200

### Without a token the API refuses
GET {{api}}/products

?? status == 401
"#;

const GITIGNORE: &str = "# Secrets stay out of version control.\nhttp-client.private.env.json\n";

/// The public env file: URLs and the two auth profiles.
pub fn env_json(provider: &str, api: &str) -> serde_json::Value {
    json!({
        ENV_NAME: {
            "baseUrl": api,
            "imsUrl": provider,
            "clientId": CLIENT_ID,
            "Security": {
                "Auth": {
                    USER_PROFILE: {
                        "Type": "OAuth2",
                        "Grant Type": "Authorization Code",
                        "Preset": "adobe-ims",
                        "Issuer": "{{imsUrl}}",
                        "Redirect URL": "http://127.0.0.1/callback",
                        "Client ID": "{{clientId}}",
                        "Scope": SCOPES
                    },
                    SERVICE_PROFILE: {
                        "Type": "OAuth2",
                        "Grant Type": "Client Credentials",
                        "Preset": "adobe-ims",
                        "Issuer": "{{imsUrl}}",
                        "Client ID": "{{clientId}}",
                        "Scope": "AdobeID,openid,commerce.accs"
                    }
                }
            }
        }
    })
}

/// The private env file: the client secret completes both profiles.
pub fn private_env_json() -> serde_json::Value {
    json!({
        ENV_NAME: {
            "Security": {
                "Auth": {
                    USER_PROFILE: { "Client Secret": CLIENT_SECRET },
                    SERVICE_PROFILE: { "Client Secret": CLIENT_SECRET }
                }
            }
        }
    })
}

fn write(path: &Path, text: &str) -> Result<(), WriteError> {
    std::fs::write(path, text).map_err(|source| WriteError {
        path: path.display().to_string(),
        source,
    })
}

/// Write (or rewrite) the demo files in `dir`, creating it; other files there are left
/// alone. The private env file is written 0600.
pub fn write_workspace(
    dir: &Path,
    provider: &str,
    api: &str,
) -> Result<WrittenWorkspace, WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.display().to_string(),
        source,
    })?;
    let dir = env::absolute(dir);
    let request_file = dir.join(REQUEST_FILE);
    let env_file = dir.join(PUBLIC_ENV_FILE);
    let private_env_file = dir.join(PRIVATE_ENV_FILE);
    write(&request_file, REQUESTS)?;
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    write(&env_file, &pretty(env_json(provider, api)))?;
    fsutil::write_private(&private_env_file, pretty(private_env_json()).as_bytes()).map_err(
        |source| WriteError {
            path: private_env_file.display().to_string(),
            source,
        },
    )?;
    write(&dir.join(".gitignore"), GITIGNORE)?;
    write(&dir.join(SPEC_FILE), SPEC)?;
    Ok(WrittenWorkspace {
        dir,
        request_file,
        env_file,
        private_env_file,
    })
}
