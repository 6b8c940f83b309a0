//! `TakeCell`: a value handed from one thread to exactly one other, at most once.

use super::UnsafeCell;
use super::atomic::{AtomicBool, Ordering};

/// A slot that can be emptied exactly once, by whichever thread wins the `taken` flag.
///
/// Used for the binder-side pipe ends parked in the registry: many threads may see the
/// entry in a registry snapshot, but only the binder whose compare-and-swap removed the
/// entry calls [`TakeCell::take`], and the flag makes a second take return `None` instead
/// of aliasing the value.
pub(crate) struct TakeCell<T> {
    /// Set (by `swap`) by the one thread that takes the value.
    taken: AtomicBool,
    /// Written once at construction; read only by the thread that set `taken`.
    value: UnsafeCell<Option<T>>,
}

impl<T> TakeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        TakeCell {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(Some(value)),
        }
    }

    /// Takes the value; `None` if some thread took it before.
    pub(crate) fn take(&self) -> Option<T> {
        // AcqRel: the Acquire half orders our read of `value` after the construction
        // that published this cell (through the registry's Release CAS); the Release half
        // is for a second taker, which must see our take before it reads `value` (it
        // never does: it sees `true` and returns `None`).
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the swap above returned `false`, so this thread is the only one that
        // will ever access `value` (every other caller sees `true` and returns early).
        self.value.with_mut(|p| unsafe { (*p).take() })
    }
}

// SAFETY: the value moves from the constructing thread to the single taker (`T: Send`);
// no `&T` is ever handed out, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for TakeCell<T> {}
// SAFETY: as above, moving the cell moves the `T`.
unsafe impl<T: Send> Send for TakeCell<T> {}

impl<T> std::fmt::Debug for TakeCell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TakeCell").finish_non_exhaustive()
    }
}
