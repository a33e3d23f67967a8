//! Giving freed memory back to the system once the server is idle. mimalloc returns
//! freed pages to the OS only after a delay and only when the program calls into the
//! allocator again; a language server sits idle between keystrokes, so without a nudge
//! the pages of transient work (the previous tree, lens answers) stay resident.
//! Purging on every free instead (`MIMALLOC_PURGE_DELAY=0`) made edits 1.5-2x slower
//! from re-faulting pages, so the nudge comes only after a quiet second.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Bumped by every piece of work that allocates much (open, edit, lenses).
static ACTIVITY: AtomicU64 = AtomicU64::new(0);
static WOKEN: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Call after allocation-heavy work.
pub fn touched() {
    ACTIVITY.fetch_add(1, Ordering::Relaxed);
    WOKEN.notify_one();
}

/// Runs forever: after work, once a whole second passes without more, asks mimalloc
/// to purge what is free. Sleeps without waking up while nothing happens.
pub async fn collect_when_idle() {
    loop {
        WOKEN.notified().await;
        let mut seen = ACTIVITY.load(Ordering::Relaxed);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = ACTIVITY.load(Ordering::Relaxed);
            if now == seen {
                break;
            }
            seen = now; // still busy: wait for a quiet second
        }
        collect();
    }
}

#[cfg(feature = "system-alloc")]
fn collect() {}

#[cfg(not(feature = "system-alloc"))]
fn collect() {
    use crate::syntax;

    // `mi_collect` is part of mimalloc's public C API, compiled into the static
    // library the `mimalloc` crate links (the crate exposes it only with a feature
    // that pulls another dependency). `force`: purge now, not after the delay.
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: no arguments besides a bool, callable from any thread at any time.
    unsafe { mi_collect(true) }
    // mimalloc collects the calling thread's heap: the parse thread holds the pages of
    // the second half of every big tree, freed from other threads.
    // SAFETY: as above.
    syntax::run_on_parse_thread(|| unsafe { mi_collect(true) });
}
