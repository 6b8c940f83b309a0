//! The std backend: what every ordinary build runs.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub(crate) use std::sync::Arc;
/// Per-thread storage (the buffer pool's caches).
pub(crate) use std::thread_local;

pub(crate) use super::std_cell::{Tracked, UnsafeCell};

/// Atomics, as `std::sync::atomic`.
pub(crate) mod atomic {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
}

/// One step of a busy-wait loop.
#[inline(always)]
pub(crate) fn spin_loop() {
    std::hint::spin_loop();
}

/// Gives up the time slice (a model scheduling point under the checkers).
#[inline]
pub(crate) fn yield_now() {
    std::thread::yield_now();
}

/// A poison-free mutex (the park path of `wait.rs` only; never on a data path).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(std::sync::Mutex<T>);

/// The guard of [`Mutex`].
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(std::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A condition variable with a deadline wait.
#[derive(Debug, Default)]
pub(crate) struct Condvar(std::sync::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Condvar(std::sync::Condvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until notified or until `deadline`; spurious returns are allowed.
    pub(crate) fn wait_until<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: std::time::Instant,
    ) -> MutexGuard<'a, T> {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match self.0.wait_timeout(guard, left) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        }
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}
