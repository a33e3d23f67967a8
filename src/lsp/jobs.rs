//! Long work in flight (a send, a sign-in), by progress token, so that
//! `window/workDoneProgress/cancel` can stop it. `$/cancelRequest` needs nothing here:
//! tower-lsp drops the request's future, which drops the work inside it.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};

#[derive(Debug, Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, CancellationToken>>,
}

fn key(t: &ProgressToken) -> String {
    match t {
        NumberOrString::Number(n) => format!("n:{n}"),
        NumberOrString::String(s) => format!("s:{s}"),
    }
}

/// Removes the job from the table when the work ends, however it ends.
pub struct JobGuard<'a> {
    jobs: &'a Jobs,
    key: String,
    pub cancel: CancellationToken,
}

impl Drop for JobGuard<'_> {
    fn drop(&mut self) {
        self.jobs
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

impl Jobs {
    pub fn start(&self, token: &ProgressToken) -> JobGuard<'_> {
        let cancel = CancellationToken::new();
        let key = key(token);
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), cancel.clone());
        JobGuard {
            jobs: self,
            key,
            cancel,
        }
    }

    pub fn cancel(&self, token: &ProgressToken) {
        if let Some(c) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key(token))
        {
            c.cancel();
        }
    }

    pub fn cancel_all(&self) {
        for c in self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            c.cancel();
        }
    }
}
