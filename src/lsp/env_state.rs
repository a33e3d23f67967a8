//! Per-document environment state: the workspace root, the environment selected for it
//! (remembered per root in the cache folder), the loaded env files and auth profiles
//! (cached per document folder, see [`cached`]), and the environments, variables and
//! profiles the editor features show, gathered from `env/` and `auth/`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::server::Server;
use super::session::{self, Document, cache_dir};
use crate::auth::profile::{Profile, ProfileIssue};
use crate::auth::{self, AuthSession, TokenStore, env_profiles, fsutil};
use crate::env::files::{self, PRIVATE_ENV_FILE, PUBLIC_ENV_FILE};
use crate::env::root::folders_up_to;
use crate::env::{self, Workspace};
use crate::ide::{EnvVarView, EnvView, SignInView, SourceLocation};
use crate::openapi::{self, Loaded, Spec, SpecSource};

/// The workspace root of a document (its folder for unsaved/untitled documents: none).
pub fn root_of(server: &Server, doc: &Document) -> Option<PathBuf> {
    let path = doc.path.as_ref()?;
    let folders = session::read(&server.session.folders);
    Some(env::workspace_root(path, &folders))
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
/// variables, `.env`. `None` for documents that are not files. Always read from disk
/// (sends and sign-ins get their own copy); the editor features use [`cached`].
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

/// How long a profile's sign-in state is trusted without asking the store again. Sign-in,
/// sign-out, sends and every `stateChanged` cause drop it at once; this only bounds how
/// stale a change made outside this server (the CLI signing in) can look.
const PROFILE_STATE_TTL: Duration = Duration::from_secs(5);

/// What makes a cached workspace stale: its root, the editor folders and settings it
/// was selected with, and the size and modification time of every file it read or could
/// have read (env files, `.vscode/settings.json`, `.env` from the document's folder up
/// to the root, the remembered-environment file). Checking it costs a few `stat`s.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    root: PathBuf,
    folders: Vec<PathBuf>,
    setting: Option<String>,
    files: Vec<(PathBuf, Option<(SystemTime, u64)>)>,
}

fn stamp(dir: &Path, root: &Path, folders: Vec<PathBuf>, setting: Option<String>) -> Stamp {
    let mut paths = vec![root.join(".vscode").join("settings.json")];
    for f in folders_up_to(dir, root) {
        paths.push(f.join(PUBLIC_ENV_FILE));
        paths.push(f.join(PRIVATE_ENV_FILE));
        paths.push(f.join(".env"));
    }
    paths.extend(remembered_file());
    let files = paths
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
            (p, m)
        })
        .collect();
    Stamp {
        root: root.to_path_buf(),
        folders,
        setting,
        files,
    }
}

/// A loaded workspace with what the editor features derive from it, shared by every
/// open document of the same folder until one of its inputs changes.
#[derive(Debug)]
pub struct Cached {
    pub ws: Workspace,
    /// The environments and variables (no profiles: see [`Cached::view_with_profiles`]).
    pub view: EnvView,
    pub profiles: Vec<Profile>,
    pub issues: Vec<ProfileIssue>,
    stamp: Stamp,
    /// The profiles' sign-in state, when last read from the store.
    states: Mutex<Option<(Instant, Vec<SignInView>)>>,
    /// The env files' diagnostics were handed to the client from this load.
    pub env_files_published: AtomicBool,
    /// Unique per load, for caches keyed on "this load" (an `Arc`'s address is not:
    /// the allocator hands a freed address straight back to the next load).
    pub generation: u64,
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Workspaces by document folder (see [`cached`]).
pub type WsCache = Mutex<HashMap<PathBuf, Arc<Cached>>>;

/// The document's workspace from the cache, loaded again only when one of its files
/// changed on disk (or the settings, folders or remembered environment did). `None`
/// for documents that are not files.
pub fn cached(server: &Server, doc: &Document) -> Option<Arc<Cached>> {
    let path = doc.path.as_ref()?;
    let file = env::absolute(path);
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let folders = session::read(&server.session.folders);
    let root = env::workspace_root(&file, &folders);
    let setting = session::read(&server.session.settings).environment;
    let now = stamp(&dir, &root, folders.clone(), setting);
    if let Some(c) = lock(&server.ws_cache).get(&dir)
        && c.stamp == now
    {
        return Some(c.clone());
    }
    let mut ws = Workspace::load_with_root(&file, &root, None).ok()?;
    let names = ws.environments.names();
    let selected = select(server, Some(&ws.root), &names);
    if let Some(name) = selected.as_deref()
        && let Err(e) = ws.select(Some(name))
    {
        tracing::warn!("{e}");
    }
    let view = view_of(&ws);
    let (profiles, issues) = env_profiles::profiles(&ws);
    let c = Arc::new(Cached {
        ws,
        view,
        profiles,
        issues,
        stamp: now,
        states: Mutex::new(None),
        env_files_published: AtomicBool::new(false),
        generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    });
    lock(&server.ws_cache).insert(dir, c.clone());
    Some(c)
}

/// Drops every cached workspace and sign-in state (a `stateChanged` cause: env file
/// saved or changed on disk, settings, environment selected, sign-in or out).
pub fn forget_all(server: &Server) {
    lock(&server.ws_cache).clear();
}

/// Drops the cached sign-in states only (after a send, which may have fetched tokens).
pub fn forget_profile_states(server: &Server) {
    for c in lock(&server.ws_cache).values() {
        *lock(&c.states) = None;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cached {
    /// The profiles' sign-in state: from the store at most every few seconds.
    pub async fn profile_states(&self, server: &Server) -> Vec<SignInView> {
        if self.profiles.is_empty() {
            return Vec::new();
        }
        if let Some((at, states)) = lock(&self.states).as_ref()
            && at.elapsed() < PROFILE_STATE_TTL
        {
            return states.clone();
        }
        let states = read_profile_states(server, self.profiles.clone()).await;
        *lock(&self.states) = Some((Instant::now(), states.clone()));
        states
    }

    /// The view with the profiles' sign-in state.
    pub async fn view_with_profiles(&self, server: &Server) -> EnvView {
        let mut view = self.view.clone();
        view.profiles = self.profile_states(server).await;
        view
    }
}

/// Environments, the selected one's variables, and the auth profiles with their
/// sign-in state, for a document.
pub fn env_view(server: &Server, doc: &Document) -> EnvView {
    match cached(server, doc) {
        Some(c) => c.view.clone(),
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
                files::locate_key(&f.text, name).map(|range| SourceLocation {
                    path: f.path.clone(),
                    range,
                })
            });
        let var = EnvVarView {
            name: name.clone(),
            value: v.value.clone(),
            secret: v.secret,
            location,
            origin,
        };
        // The selected environment overrides `$shared`.
        variables.retain(|x: &EnvVarView| x.name != var.name);
        variables.push(var);
    }
    // `.env` values are variables below the env files (docs/syntax.md): shown masked.
    if let Some(path) = &ws.dotenv.path {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (name, value) in &ws.dotenv.vars {
            if variables.iter().any(|x: &EnvVarView| &x.name == name) {
                continue;
            }
            variables.push(EnvVarView {
                name: name.clone(),
                value: value.clone(),
                secret: true,
                location: None,
                origin: format!("{file} ({})", path.display()),
            });
        }
    }
    EnvView {
        environments: ws.environments.names(),
        selected,
        variables,
        profiles: Vec::new(),
        specs: Vec::new(),
    }
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
pub fn token_store(server: &Server) -> Result<std::sync::Arc<dyn TokenStore>, String> {
    let mut slot = server.store.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(s.clone());
    }
    let choice = session::read(&server.session.settings).token_store;
    let store = auth::open_store(choice.as_deref(), &fsutil::config_dir())?;
    *slot = Some(store.clone());
    Ok(store)
}

/// The profiles' sign-in state as the store has it (never signs in, never a token). A
/// store that cannot be read leaves every profile listed, its state unknown and why.
async fn read_profile_states(server: &Server, profiles: Vec<Profile>) -> Vec<SignInView> {
    let store = match token_store(server) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{e}");
            return profiles
                .iter()
                .map(|p| SignInView {
                    id: p.id.clone(),
                    grant: Some(p.grant.as_str().to_string()),
                    unavailable: Some(e.clone()),
                    ..Default::default()
                })
                .collect();
        }
    };
    let auth = AuthSession::new(profiles, store, fsutil::config_dir());
    let ids: Vec<(String, String)> = auth
        .profiles()
        .iter()
        .map(|p| (p.id.clone(), p.grant.as_str().to_string()))
        .collect();
    let mut out = Vec::new();
    for (id, grant) in ids {
        let st = match auth.status(&id).await {
            Ok(s) => SignInView::from_stored(&s),
            Err(e) => {
                tracing::warn!("{e}");
                SignInView {
                    id: id.clone(),
                    grant: Some(grant),
                    unavailable: Some(e.to_string()),
                    ..Default::default()
                }
            }
        };
        out.push(st);
    }
    out
}

/// `env_view` plus the profiles' sign-in state and the document's OpenAPI specs.
pub async fn env_view_with_profiles(server: &Server, doc: &Document) -> EnvView {
    let c = cached(server, doc);
    let mut view = match &c {
        Some(c) => c.view_with_profiles(server).await,
        None => env_view(server, doc),
    };
    view.specs = specs_of(&spec_sources(doc, c.as_deref().map(|c| &c.ws)));
    view
}

/// The OpenAPI specs a document names (its `# @openapi` lines, relative to it, and the
/// environment's `"openapi"`), each through the spec cache (read again only when the
/// spec file changed).
pub fn spec_sources(doc: &Document, ws: Option<&Workspace>) -> Vec<(SpecSource, Loaded)> {
    let Some(path) = doc.path.as_ref() else {
        return Vec::new();
    };
    let file = env::absolute(path);
    let dir = file.parent().unwrap_or(Path::new("/"));
    openapi::spec_sources(doc.analysis.file(), dir, ws.map(|w| &w.env))
        .into_iter()
        .map(|s| {
            let loaded = openapi::load(&s.path);
            (s, loaded)
        })
        .collect()
}

/// The specs that could be read.
pub fn specs_of(sources: &[(SpecSource, Loaded)]) -> Vec<Arc<Spec>> {
    sources
        .iter()
        .filter_map(|(_, l)| l.as_ref().as_ref().ok().cloned())
        .collect()
}
