//! Environments and variables: workspace root discovery, env files (JetBrains and
//! REST Client layouts), `.env`, system variables and the variable resolver.
//!
//! Typical use (the CLI, the engine and the language server all do this):
//!
//! ```no_run
//! use httplens::env::{ResolveContext, Workspace};
//! let ws = Workspace::load("api.http".as_ref(), &[], Some("dev")).expect("known env");
//! // ws.diagnostics: problems in env files / .env (each names its own file).
//! let ctx = ResolveContext::dry_run(&ws);
//! // httplens::request::build(&parsed.file, &text, block_index, &ctx) ...
//! # let _ = ctx;
//! ```
//!
//! Precedence of variables, highest first: `--var` overrides (they also answer
//! `# @prompt`), the request block's own `@vars` (above the use), the selected
//! environment (private, then public, then `$shared`; nested values by dotted path),
//! the nearest `.env`, script globals, file-level `@vars` (the last definition above the
//! use; with none above, the nearest one below), then the process environment for a
//! name defined nowhere else (the one list is in `docs/syntax.md`). So a file holds
//! defaults, an environment overrides them, and a request pins a value for itself.
//! This differs from JetBrains (environment over everything) and REST Client (file
//! variables over the environment) on purpose: see `docs/syntax.md`.
//!
//! `@vars` written in a request block are that request's own (top precedence there)
//! and also count as file-level definitions for the other blocks, as in REST Client
//! and JetBrains where `@x = 1` above the first request is visible in the whole file.
//! A name whose every definition is already being resolved is a cycle (a diagnostic);
//! otherwise a value may refer to the same name at a lower level
//! (`@baseUrl = {{baseUrl}}/v2` builds on the environment's `baseUrl`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod dotenv;
pub mod files;
pub mod lookup;
pub mod resolve;
pub mod root;
pub mod system;

pub use dotenv::DotEnv;
pub use files::{
    AuthConfig, EnvDiagnostic, EnvError, EnvFileKind, EnvFileVar, Environment, Environments,
};
pub use lookup::{ExchangeLookup, NoTokens, RecordedExchange, ScriptVars, TokenLookup};
pub use resolve::{NoExchanges, ResolveContext, Resolver, is_secret_prompt};
pub use root::{absolute, workspace_root};

/// Everything about a request file's surroundings that resolving needs, loaded once:
/// the workspace root, the env files, the selected environment and `.env`.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Absolute path of the request file.
    pub file: PathBuf,
    pub root: PathBuf,
    pub environments: Environments,
    /// The selected environment merged (or only `$shared` when none is selected).
    pub env: Environment,
    pub dotenv: DotEnv,
    /// Problems in env files and `.env`: each names its file, line and column.
    pub diagnostics: Vec<EnvDiagnostic>,
    /// `None`: the real process environment (for `$processEnv`, `$env.NAME`); tests
    /// set a fixed map.
    pub process_env: Option<BTreeMap<String, String>>,
}

impl Workspace {
    /// Load for `file` (editor workspace folders optional). Only an unknown
    /// environment name is an error; broken env files are diagnostics.
    pub fn load(
        file: &Path,
        editor_folders: &[PathBuf],
        env_name: Option<&str>,
    ) -> Result<Workspace, EnvError> {
        let file = absolute(file);
        let root = workspace_root(&file, editor_folders);
        Self::load_with_root(&file, &root, env_name)
    }

    /// Load with an explicit workspace root (tests, or when the caller knows it).
    pub fn load_with_root(
        file: &Path,
        root: &Path,
        env_name: Option<&str>,
    ) -> Result<Workspace, EnvError> {
        let file = absolute(file);
        let root = absolute(root);
        let environments = Environments::load(&file, &root);
        let env = match environments.select(env_name) {
            Ok(env) => env,
            // The environment may well be in the env file that failed to parse: keep
            // going with `$shared` only, the file's diagnostic says what is wrong.
            Err(_) if !environments.diagnostics.is_empty() => {
                let mut env = environments.select(None)?;
                env.name = env_name.map(str::to_string);
                env
            }
            Err(e) => return Err(e),
        };
        let (dotenv, dotenv_diag) = DotEnv::load(&file, &root);
        let mut diagnostics = environments.diagnostics.clone();
        diagnostics.extend(dotenv_diag);
        Ok(Workspace {
            file,
            root,
            environments,
            env,
            dotenv,
            diagnostics,
            process_env: None,
        })
    }

    /// Switch the selected environment.
    pub fn select(&mut self, env_name: Option<&str>) -> Result<(), EnvError> {
        self.env = self.environments.select(env_name)?;
        Ok(())
    }

    /// The folder of the request file (relative paths in the file start here).
    pub fn file_dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("/"))
    }

    pub fn process_var(&self, name: &str) -> Option<String> {
        match &self.process_env {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        }
    }
}
