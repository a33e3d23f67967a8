//! Code lenses: `Send request` above every request, the sign-in state of each auth
//! profile a request uses, the selected environment on the first line, and the way back
//! from a response document to its request.

use super::{Analysis, SignInView, profiles_used};
use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LensAction {
    /// Send the request whose request line is on this 0-based line.
    Send {
        line: u32,
    },
    SignIn {
        profile: String,
    },
    SignOut {
        profile: String,
    },
    SelectEnvironment,
    /// In a response document: send the originating request again.
    SendAgain,
    OpenRequest,
    CompareWithPrevious,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lens {
    pub range: TextRange,
    pub title: String,
    pub action: LensAction,
}

/// Lenses of a request file. `profile` answers the state of a profile by id;
/// `now_unix` is the clock for "52 min left".
pub fn request_lenses(
    a: &Analysis,
    environment: Option<&str>,
    profile: &dyn Fn(&str) -> SignInView,
    now_unix: i64,
) -> Vec<Lens> {
    let mut out = Vec::with_capacity(a.file().blocks.len() + 1);
    out.push(Lens {
        range: TextRange::empty(0),
        title: format!("env: {}", environment.unwrap_or("none")),
        action: LensAction::SelectEnvironment,
    });
    for block in &a.file().blocks {
        let Some(req) = &block.request else { continue };
        let range = req.line_range;
        let line = a.index.line_of(range.start as usize);
        out.push(Lens {
            range,
            title: "Send request".to_string(),
            action: LensAction::Send { line },
        });
        for (id, _kind, _) in profiles_used(block) {
            let state = profile(&id);
            let action = if state.signed_in {
                LensAction::SignOut { profile: id }
            } else {
                LensAction::SignIn { profile: id }
            };
            out.push(Lens {
                range,
                title: state.summary(now_unix),
                action,
            });
        }
    }
    out
}

/// Lenses of a response document, on its first line.
pub fn response_lenses(can_send_again: bool, has_previous: bool) -> Vec<Lens> {
    let range = TextRange::empty(0);
    let mut out = Vec::new();
    if can_send_again {
        out.push(Lens {
            range,
            title: "Send again".into(),
            action: LensAction::SendAgain,
        });
    }
    out.push(Lens {
        range,
        title: "Open request".into(),
        action: LensAction::OpenRequest,
    });
    if has_previous {
        out.push(Lens {
            range,
            title: "Compare with previous".into(),
            action: LensAction::CompareWithPrevious,
        });
    }
    out
}
