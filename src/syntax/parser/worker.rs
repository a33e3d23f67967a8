//! The thread that parses the second half of a big file. One thread, kept: a thread
//! started per parse would begin with an empty allocator heap (every page of its half
//! of the tree fresh from the system, about as slow as the parse itself) and leave its
//! pages behind when it ends (memory a language server would keep). Its jobs own
//! everything they use (`'static`): nothing on it borrows from the caller.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send + 'static>;

fn worker() -> Option<&'static mpsc::Sender<Job>> {
    static WORKER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("httplens-parse".into())
                .spawn(move || {
                    for job in rx {
                        job();
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Runs `job` on the parse thread after the parses asked for before it, if the
/// thread is running (the language server has it give memory back when idle: mimalloc's
/// collect, so not with the system allocator).
#[cfg(not(feature = "system-alloc"))]
pub(crate) fn run_on_parse_thread(job: impl FnOnce() + Send + 'static) {
    if let Some(worker) = worker() {
        let _ = worker.send(Box::new(job));
    }
}

/// Starts `f` on the parse thread. The receiver gets its result; it disconnects
/// without one if `f` panicked or the thread could not be started.
pub(super) fn start<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::sync_channel(1);
    if let Some(worker) = worker() {
        // A failed send hands the job back inside the error, and it is dropped unrun
        // here, which disconnects the receiver.
        let _ = worker.send(Box::new(move || {
            if let Ok(r) = catch_unwind(AssertUnwindSafe(f)) {
                let _ = tx.send(r);
            }
        }));
    }
    rx
}
