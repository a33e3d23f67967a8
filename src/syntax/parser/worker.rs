//! The thread that parses the second half of a big file. One thread, kept: a thread
//! started per parse would begin with an empty allocator heap (every page of its half
//! of the tree fresh from the system, about as slow as the parse itself) and leave its
//! pages behind when it ends (memory a language server would keep).

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
/// thread is running (the language server has it give memory back when idle).
pub fn run_on_parse_thread(job: impl FnOnce() + Send + 'static) {
    if let Some(worker) = worker() {
        let _ = worker.send(Box::new(job));
    }
}

/// `f` running on the parse thread; [`Pending::wait`] gives its result (`None` if it
/// panicked or the thread could not be started).
pub(super) struct Pending<'a, R> {
    rx: Option<mpsc::Receiver<std::thread::Result<R>>>,
    _borrows: std::marker::PhantomData<&'a ()>,
}

/// Starts `f` on the parse thread. `f` may borrow from the caller: the returned
/// [`Pending`] waits for it to finish, when waited on or dropped (also while unwinding),
/// so nothing `f` borrows can go away while it runs. (Private to the parser, which
/// never leaks a `Pending`: `mem::forget` on one would skip the wait.)
pub(super) fn start<'a, R: Send + 'a>(f: impl FnOnce() -> R + Send + 'a) -> Pending<'a, R> {
    let Some(worker) = worker() else {
        return Pending {
            rx: None,
            _borrows: std::marker::PhantomData,
        };
    };
    let (tx, rx) = mpsc::sync_channel(1);
    let job: Box<dyn FnOnce() + Send + 'a> = Box::new(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    // SAFETY: the job only borrows for `'a`, and `Pending` (which lives no longer
    // than `'a`) blocks until the job has run or been dropped unrun: `recv` returns
    // only once the job's sender is gone or has sent. So the job never runs, and is
    // never dropped, after what it borrows is gone.
    let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, Job>(job) };
    // A failed send hands the job back inside the error, and it is dropped unrun here.
    let _ = worker.send(job);
    Pending {
        rx: Some(rx),
        _borrows: std::marker::PhantomData,
    }
}

impl<R> Pending<'_, R> {
    pub(super) fn wait(mut self) -> Option<R> {
        self.rx.take()?.recv().ok()?.ok()
    }
}

impl<R> Drop for Pending<'_, R> {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            let _ = rx.recv();
        }
    }
}
