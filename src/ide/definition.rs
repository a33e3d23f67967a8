//! Go to definition, and the shared lookup of where a `{{name}}` comes from (used by
//! hover too): the request's own `@x =` lines, then the environment, then file-level
//! `@x =` lines (the last one above the use), the precedence of `docs/syntax.md`.

use super::{Analysis, EnvVarView, EnvView, SourceLocation, block_at, var_ref_at};
use crate::syntax::ast::{VarDef, VarExpr};
use crate::text::TextRange;

#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// `@x =` inside the request's own block.
    RequestVar(&'a VarDef),
    Env(&'a EnvVarView),
    /// `@x =` at file level.
    FileVar(&'a VarDef),
}

/// Where the value of `name`, used at `offset`, comes from.
pub fn lookup<'a>(
    a: &'a Analysis,
    env: &'a EnvView,
    offset: usize,
    name: &str,
) -> Option<Origin<'a>> {
    let file = a.file();
    if let Some(block) = block_at(file, offset)
        && block.request.is_some()
        && let Some(v) = block.variables.iter().rev().find(|v| v.name.value == name)
    {
        return Some(Origin::RequestVar(v));
    }
    if let Some(v) = env.variable(name) {
        return Some(Origin::Env(v));
    }
    let file_level = file
        .blocks
        .iter()
        .filter(|b| b.request.is_none())
        .flat_map(|b| b.variables.iter())
        .filter(|v| v.name.value == name);
    // The last definition above the use wins; failing that, the first one below.
    let mut above = None;
    let mut below = None;
    for v in file_level {
        if (v.range.start as usize) <= offset {
            above = Some(v);
        } else if below.is_none() {
            below = Some(v);
        }
    }
    above.or(below).map(Origin::FileVar)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// In the same document.
    Here(TextRange),
    Elsewhere(SourceLocation),
}

pub fn definition(a: &Analysis, env: &EnvView, offset: usize) -> Option<Target> {
    let r = var_ref_at(a.file(), offset)?;
    match &r.expr {
        VarExpr::Name(name) => match lookup(a, env, offset, name)? {
            Origin::RequestVar(v) | Origin::FileVar(v) => Some(Target::Here(v.name.range)),
            Origin::Env(v) => v.location.clone().map(Target::Elsewhere),
        },
        VarExpr::RequestRef { request, .. } => a
            .file()
            .blocks
            .iter()
            .find(|b| b.request_name() == Some(request.as_str()))
            .and_then(|b| b.meta("name"))
            .map(|m| Target::Here(m.range)),
        _ => None,
    }
}
