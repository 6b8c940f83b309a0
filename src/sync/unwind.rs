//! Drops that stay out of the model while a thread unwinds (model builds only).
//!
//! When a model fails (loom's or shuttle's deadlock report, a causality violation, or the
//! user's own failed assertion), the failing thread unwinds through whatever inproc
//! objects it holds. After a deadlock report loom has no active thread any more, so any
//! model operation in a destructor panics again, and a panic in a destructor during
//! unwinding aborts the process: the user would see SIGABRT instead of the checker's
//! report, and `#[should_panic]` models would be impossible (issue 13, SPEC V-1).
//!
//! So in model builds, while [`std::thread::panicking`], the objects at the roots of
//! inproc's ownership (this `Arc`, `Tracked`, a socket's state, pool buffers, the gate's
//! exit guard, poller and future registrations) are leaked instead of dropped. The
//! execution has failed anyway; its memory goes with the test process.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::Deref;

#[cfg(loom)]
use loom::sync::Arc as Inner;
#[cfg(all(shuttle, not(loom)))]
use shuttle::sync::Arc as Inner;

/// `true` while this thread unwinds from a panic in a model build: destructors must then
/// not touch model primitives (see the module docs). Always `false` in ordinary builds.
#[inline]
pub(crate) fn model_unwinding() -> bool {
    std::thread::panicking()
}

/// The checker's `Arc`, except that a drop during unwinding leaks instead of touching the
/// model (its reference count is a model object).
pub(crate) struct Arc<T>(ManuallyDrop<Inner<T>>);

impl<T> Arc<T> {
    pub(crate) fn new(value: T) -> Self {
        Arc(ManuallyDrop::new(Inner::new(value)))
    }

    pub(crate) fn ptr_eq(a: &Self, b: &Self) -> bool {
        Inner::ptr_eq(&a.0, &b.0)
    }
}

impl<T> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Arc(ManuallyDrop::new(Inner::clone(&self.0)))
    }
}

impl<T> Deref for Arc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Drop for Arc<T> {
    fn drop(&mut self) {
        if !model_unwinding() {
            // SAFETY: dropped once, here; `self.0` is not used again.
            unsafe { ManuallyDrop::drop(&mut self.0) }
        }
    }
}
