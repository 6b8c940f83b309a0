//! The shuttle backend (`--cfg shuttle`): shuttle's scheduler drives every thread, atomic,
//! mutex and condition variable. Shuttle models every atomic as SeqCst, so it checks
//! logic races at scale, never memory orderings (that is loom's job).

pub(crate) use super::std_cell::{Tracked, UnsafeCell};
/// Per-thread storage, dropped when a shuttle thread ends.
pub(crate) use shuttle::thread_local;

/// Atomics, as `shuttle::sync::atomic`.
pub(crate) mod atomic {
    pub(crate) use shuttle::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
}

/// One step of a busy-wait loop: a scheduling point for shuttle.
#[inline]
pub(crate) fn spin_loop() {
    shuttle::thread::yield_now();
}

/// Gives up the time slice: a scheduling point for shuttle.
#[inline]
pub(crate) fn yield_now() {
    shuttle::thread::yield_now();
}

/// shuttle's mutex behind the poison-free API of the std backend.
#[derive(Debug)]
pub(crate) struct Mutex<T>(shuttle::sync::Mutex<T>);

/// The guard of [`Mutex`].
pub(crate) type MutexGuard<'a, T> = shuttle::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(shuttle::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// shuttle's condition variable; a deadline wait returns at once (time is not modelled).
#[derive(Debug)]
pub(crate) struct Condvar(shuttle::sync::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(shuttle::sync::Condvar::new())
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
