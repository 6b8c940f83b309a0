//! The loom backend (`--cfg loom`): every primitive is loom's, so the models explore
//! every interleaving and memory-ordering outcome of the code that uses them.

pub(crate) use loom::cell::UnsafeCell;
/// Per-thread storage, dropped when a loom thread ends.
pub(crate) use loom::thread_local;

/// A leak-tracking token: loom fails the model if an allocation holding one is never
/// dropped by the end of the iteration. Every shared allocation that is not a loom `Arc`
/// (registry snapshots, queue chunks, inbox nodes) carries one.
///
/// While the thread unwinds from a failed model it is leaked instead (dropping it is a
/// model operation; see `unwind.rs`).
#[derive(Debug)]
pub(crate) struct Tracked(std::mem::ManuallyDrop<loom::alloc::Track<()>>);

impl Tracked {
    pub(crate) fn new() -> Self {
        Tracked(std::mem::ManuallyDrop::new(loom::alloc::Track::new(())))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !super::unwind::model_unwinding() {
            // SAFETY: dropped once, here; `self.0` is not used again.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.0) }
        }
    }
}

/// Atomics, as `loom::sync::atomic`.
pub(crate) mod atomic {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
}

/// One step of a busy-wait loop: a scheduling point for loom.
#[inline]
pub(crate) fn spin_loop() {
    loom::thread::yield_now();
}

/// Gives up the time slice: a scheduling point for loom.
#[inline]
pub(crate) fn yield_now() {
    loom::thread::yield_now();
}

/// loom's mutex behind the poison-free API of the std backend.
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

/// The guard of [`Mutex`].
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// loom's condition variable. loom does not model time, so a deadline wait returns at
/// once, as a timeout that fired immediately would; models use blocking or `try_` calls.
#[derive(Debug)]
pub(crate) struct Condvar(loom::sync::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(loom::sync::Condvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wait_until<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        _deadline: std::time::Instant,
    ) -> MutexGuard<'a, T> {
        guard
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}
