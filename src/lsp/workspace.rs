//! Per-document workspace facts: the workspace root, the environment selected for it
//! (remembered per root in the cache folder), and the environments, variables and
//! auth profiles the editor features show, gathered from `env/` and `auth/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::server::Server;
use super::session::{self, Document, cache_dir};
use crate::env::Workspace;
use crate::ide::{EnvVar, EnvView, SourceLocation};
use crate::text::TextRange;

/// The workspace root of a document (its folder for unsaved/untitled documents: none).
pub fn root_of(server: &Server, doc: &Document) -> Option<PathBuf> {
    let path = doc.path.as_ref()?;
    let folders = session::read(&server.session.folders);
    Some(crate::env::workspace_root(path, &folders))
}

fn remembered_file() -> Option<PathBuf> {
    cache_dir().map(|c| c.join("environments.json"))
}

fn remembered_all() -> BTreeMap<String, String> {
    remembered_file()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// The environment last selected for `root`, if any.
pub fn remembered(root: &Path) -> Option<String> {
    remembered_all().remove(&root.to_string_lossy().into_owned())
}

/// Remembers the choice for `root` (`None` forgets it). Written to a temporary file
/// and renamed, so two servers never leave a torn file.
pub fn remember(root: &Path, name: Option<&str>) -> Result<(), String> {
    let file = remembered_file()
        .ok_or("there is no cache folder to remember the environment in; set HTTPLENS_CACHE_DIR")?;
    let mut all = remembered_all();
    let key = root.to_string_lossy().into_owned();
    match name {
        Some(n) => all.insert(key, n.to_string()),
        None => all.remove(&key),
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = file.with_extension(format!("json.{}", std::process::id()));
    let body = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "{}".into());
    std::fs::write(&tmp, body).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &file).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// The environment for a document: the one remembered for its root (when it still
/// exists), else the `httplens.environment` setting, else the only one, else none.
pub fn select(server: &Server, root: Option<&Path>, environments: &[String]) -> Option<String> {
    if let Some(r) = root.and_then(remembered)
        && environments.contains(&r)
    {
        return Some(r);
    }
    if let Some(s) = session::read(&server.session.settings).environment
        && (environments.contains(&s) || environments.is_empty())
    {
        return Some(s);
    }
    if environments.len() == 1 {
        return environments.first().cloned();
    }
    None
}

/// The document's surroundings with the environment selected for it: env files,
/// variables, `.env`. `None` for documents that are not files.
pub fn load(server: &Server, doc: &Document) -> Option<Workspace> {
    let path = doc.path.as_ref()?;
    let folders = session::read(&server.session.folders);
    let mut ws = Workspace::load(path, &folders, None).ok()?;
    let names = ws.environments.names();
    let selected = select(server, Some(&ws.root), &names);
    if let Some(name) = selected.as_deref()
        && let Err(e) = ws.select(Some(name))
    {
        tracing::warn!("{e}");
    }
    Some(ws)
}

/// Environments, the selected one's variables, and the auth profiles with their
/// sign-in state, for a document.
pub fn env_view(server: &Server, doc: &Document) -> EnvView {
    match load(server, doc) {
        Some(ws) => view_of(&ws),
        None => EnvView {
            selected: select(server, None, &[]),
            ..EnvView::default()
        },
    }
}

pub fn view_of(ws: &Workspace) -> EnvView {
    let selected = ws.env.name.clone();
    let mut variables = Vec::new();
    for (name, v) in ws.env.shared.iter().chain(ws.env.vars.iter()) {
        let file = v
            .source
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let origin = match &selected {
            Some(e) if ws.env.vars.contains_key(name) => format!("environment \"{e}\" ({file})"),
            _ => format!("$shared ({file})"),
        };
        let location = ws
            .environments
            .files
            .iter()
            .find(|f| f.path == v.source)
            .and_then(|f| {
                key_range(&f.text, name).map(|range| SourceLocation {
                    path: f.path.clone(),
                    range,
                })
            });
        let var = EnvVar {
            name: name.clone(),
            value: v.value.clone(),
            secret: v.secret,
            location,
            origin,
        };
        // The selected environment overrides `$shared`.
        variables.retain(|x: &EnvVar| x.name != var.name);
        variables.push(var);
    }
    EnvView {
        environments: ws.environments.names(),
        selected,
        variables,
        profiles: Vec::new(),
    }
}

/// Byte range of `"key"` (where it is followed by `:`) in an env file.
fn key_range(text: &str, key: &str) -> Option<TextRange> {
    let (line, column) = crate::env::files::locate_key(text, key)?;
    let idx = crate::text::LineIndex::new(text);
    let start = idx.line_start(line - 1);
    let col: usize = text[start..]
        .chars()
        .take(column as usize - 1)
        .map(char::len_utf8)
        .sum();
    let at = start + col;
    let needle = serde_json::to_string(key).ok()?;
    Some(TextRange::new(at, at + needle.len()))
}

/// The token store the client sees in `httplens/state`: what backs the store now.
pub fn token_store_name(server: &Server) -> String {
    match token_store(server) {
        Ok(s) => s.kind().as_str().to_string(),
        Err(e) => {
            tracing::warn!("{e}");
            "unavailable".into()
        }
    }
}

/// The token store of this server: opened once (a memory store must persist across
/// requests), from the `httplens.tokenStore` setting or `HTTPLENS_TOKEN_STORE`.
pub fn token_store(server: &Server) -> Result<std::sync::Arc<dyn crate::auth::TokenStore>, String> {
    let mut slot = server.store.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(s.clone());
    }
    let choice = session::read(&server.session.settings).token_store;
    let store = crate::auth::open_store(choice.as_deref(), &crate::auth::fsutil::config_dir())?;
    *slot = Some(store.clone());
    Ok(store)
}

/// The profiles of the document's environment with their sign-in state (reads the
/// store; never signs in, never a token).
pub async fn profile_states(server: &Server, ws: &Workspace) -> Vec<crate::ide::ProfileState> {
    let (profiles, _issues) = crate::auth::workspace::profiles(ws);
    if profiles.is_empty() {
        return Vec::new();
    }
    let store = match token_store(server) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{e}");
            return Vec::new();
        }
    };
    let auth = crate::auth::AuthSession::new(profiles, store, crate::auth::fsutil::config_dir());
    let ids: Vec<(String, String)> = auth
        .profiles()
        .iter()
        .map(|p| (p.id.clone(), p.grant.as_str().to_string()))
        .collect();
    let mut out = Vec::new();
    for (id, grant) in ids {
        let mut st = crate::ide::ProfileState {
            id: id.clone(),
            grant: Some(grant),
            ..Default::default()
        };
        match auth.status(&id).await {
            Ok(s) => {
                st.signed_in = s.signed_in;
                st.account = s.account;
                st.scopes = s.scopes;
                st.expires_at = s.expires_at;
            }
            Err(e) => tracing::warn!("{e}"),
        }
        out.push(st);
    }
    out
}

/// `env_view` plus the profiles' sign-in state.
pub async fn env_view_with_profiles(server: &Server, doc: &Document) -> EnvView {
    let Some(ws) = load(server, doc) else {
        return env_view(server, doc);
    };
    let mut view = view_of(&ws);
    view.profiles = profile_states(server, &ws).await;
    view
}
