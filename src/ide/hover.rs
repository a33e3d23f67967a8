//! Hover: what a `{{ }}` reference stands for and where it comes from (secrets masked),
//! what a system variable does, and an auth profile's state (never its token).

use super::definition::{Origin, lookup};
use super::{Analysis, EnvView, var_ref_at};
use crate::env;
use crate::secret::MASK;
use crate::syntax::ast::{RefPart, RefSource, TokenKind, VarExpr};
use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverInfo {
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

/// The one precedence list (docs/syntax.md), shown under a variable's hover.
pub const PRECEDENCE: &str = "Precedence, highest first: `--var`, pre-request script, \
the request's own block, the environment (private, public, `$shared`), `.env`, \
`client.global`, file variables, the process environment.";

/// A name only the process environment defines (the last fallback), masked.
fn process_env_origin(name: &str) -> Option<&'static str> {
    let usable = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (usable && std::env::var_os(name).is_some()).then_some("process environment (masked)")
}

pub fn hover(a: &Analysis, env: &EnvView, offset: usize, now_unix: i64) -> Option<HoverInfo> {
    let Some(r) = var_ref_at(a.file(), offset) else {
        // On a request line: what the spec says about the operation.
        return super::openapi::hover(a, &env.specs, offset);
    };
    let line_of = |off: u32| a.index.line_col(&a.text, off as usize).line;
    let prompt = |name: &str| {
        a.block_at(offset)?
            .prompts()
            .find(|(n, _)| *n == name)
            .map(|(_, description)| description.to_string())
    };
    let markdown = match &r.expr {
        // Asked for before sending: it wins over any definition (`# @prompt`).
        VarExpr::Name(name) if let Some(description) = prompt(name) => {
            let what = if description.is_empty() {
                String::new()
            } else {
                format!(": {description}")
            };
            let hidden = if env::is_secret_prompt(name) {
                " (typed without echo, masked in what is shown)"
            } else {
                ""
            };
            format!("`{name}` is asked for before sending (`# @prompt`{what}){hidden}.")
        }
        VarExpr::Name(name) => match lookup(a, env, offset, name) {
            Some(Origin::RequestVar(v)) => format!(
                "`{name}` = `{}`\n\nrequest variable, line {}",
                v.value.as_written(),
                line_of(v.range.start)
            ),
            Some(Origin::FileVar(v)) => format!(
                "`{name}` = `{}`\n\nfile variable, line {}",
                v.value.as_written(),
                line_of(v.range.start)
            ),
            Some(Origin::Env(v)) => {
                let value = if v.secret { MASK } else { v.value.as_str() };
                format!("`{name}` = `{value}`\n\n{}", v.origin)
            }
            None if let Some((b, h)) = a.file().script_setting(name) => {
                let block = &a.file().blocks[b];
                let which = match block.name() {
                    Some(n) => format!("the request `{n}`"),
                    None => "a request".to_string(),
                };
                let what = if h.pre {
                    "a pre-request script"
                } else {
                    "a response handler"
                };
                format!(
                    "`{name}` is set by {what} of {which}, line {}: known once that request has been sent in this session.",
                    line_of(h.range.start)
                )
            }
            None if let Some(origin) = process_env_origin(name) => {
                format!("`{name}` = `{MASK}`\n\n{origin}")
            }
            None => match &env.selected {
                Some(e) => {
                    format!("`{name}` is not defined in this file or in environment \"{e}\".")
                }
                None => format!(
                    "`{name}` is not defined in this file; select an environment if it defines it."
                ),
            },
        },
        VarExpr::Script(code) => format!(
            "`{code}`: a JavaScript expression (httpyac), evaluated in the script sandbox with the variables it names"
        ),
        VarExpr::System { name, args } => {
            let doc = super::completion::SYSTEM_VARIABLES
                .iter()
                .find(|(n, _)| n.trim_end_matches('.') == name)
                .map(|(_, d)| *d)
                .unwrap_or("system variable");
            if args.is_empty() {
                format!("`{name}`: {doc}")
            } else {
                format!("`{name} {}`: {doc}", args.join(" "))
            }
        }
        VarExpr::RequestRef {
            request,
            source,
            part,
            path,
        } => {
            let src = match source {
                RefSource::Request => "request",
                RefSource::Response => "response",
            };
            let part = match part {
                RefPart::Body => "body",
                RefPart::Headers => "header",
                RefPart::Cookies => "cookie",
            };
            format!("The {src} {part} `{path}` of request `{request}` (sent first when needed).")
        }
        VarExpr::Auth { kind, profile } => {
            let p = env.profile(profile);
            let what = match kind {
                TokenKind::Access => "access token",
                TokenKind::Id => "ID token",
            };
            let mut s = format!("The {what} of auth profile `{profile}`");
            if let Some(g) = &p.grant {
                s.push_str(&format!(" ({g})"));
            }
            s.push_str(".\n\n");
            if p.signed_in {
                s.push_str(&format!(
                    "Signed in{}.",
                    p.account
                        .as_ref()
                        .map(|a| format!(" as {a}"))
                        .unwrap_or_default()
                ));
                if !p.scopes.is_empty() {
                    s.push_str(&format!("\n\nScopes: {}", p.scopes.join(" ")));
                }
                if let Some(exp) = p.expires_at {
                    s.push_str(&format!(
                        "\n\nExpires: {}",
                        super::remaining(exp - now_unix)
                    ));
                }
            } else {
                s.push_str("Not signed in: sending signs in first.");
            }
            s
        }
        VarExpr::Invalid(msg) => msg.clone(),
    };
    let markdown = match &r.expr {
        VarExpr::Name(name) if prompt(name).is_none() => format!("{markdown}\n\n{PRECEDENCE}"),
        _ => markdown,
    };
    Some(HoverInfo {
        range: r.range,
        markdown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hover_names_the_script_that_sets_a_variable() {
        let text = "### login\nPOST http://h/login\n\n> {% client.global.set(\"auth_token\", response.body.token) %}\n\n###\nGET http://h/me\nAuthorization: Bearer {{auth_token}}\n";
        let a = Analysis::new(text.to_string());
        let offset = text.find("auth_token}}").unwrap() + 2;
        let h = hover(&a, &EnvView::default(), offset, 0).expect("a hover");
        assert!(
            h.markdown
                .contains("set by a response handler of the request `login`, line 4"),
            "{}",
            h.markdown
        );
    }
}
