//! Coarse sections for a user's loom model (`set_model_coarse`, on by default under
//! `--cfg loom`; inproc's own models turn it off).
//!
//! With it on, every socket operation runs inside one model-wide loom mutex, and a call
//! that must wait sleeps on its event count's condition variable *with that mutex*, which
//! the wait releases atomically: so loom explores the orderings of inproc's operations,
//! not the interleavings of their insides, which inproc's own models check. Sound for a
//! user's protocol because every inproc operation is linearisable: each behaves as if
//! it happened at one point between its call and its return (which is what our models
//! check), so a protocol correct for every order of whole operations is correct. Sections
//! are re-entrant per (loom) thread: an operation that wakes another socket (a `Notify`
//! wake) or sends a monitor event holds the mutex once.
//!
//! In every other build (and under loom with it off) a section is empty.

#[cfg(loom)]
mod imp {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::sync::Mutex;
    use crate::sync::backend::MutexGuard;

    /// Whether coarse sections are on for the models that follow: a setting made before
    /// the model runs, outside it (a std atomic, Relaxed: nothing is published with it).
    static ON: AtomicBool = AtomicBool::new(true);

    pub(crate) fn set(on: bool) {
        ON.store(on, Ordering::Relaxed);
    }

    /// Are coarse sections on?
    pub(crate) fn is_on() -> bool {
        ON.load(Ordering::Relaxed)
    }

    loom::lazy_static! {
        /// The model-wide section lock (one per execution: loom resets lazy statics).
        static ref LOCK: Mutex<()> = Mutex::new(());
    }

    loom::thread_local! {
        /// How deep this loom thread is in coarse sections.
        static DEPTH: Cell<u32> = Cell::new(0);
    }

    /// A section, entered by [`enter`]; left on drop.
    #[derive(Debug)]
    pub(crate) struct Section {
        /// The lock, held by the outermost section of this thread.
        guard: Option<MutexGuard<'static, ()>>,
        /// Counted in `DEPTH` (coarse sections on, not unwinding).
        counted: bool,
    }

    /// Enters a section: takes the model-wide lock unless this thread holds it already.
    pub(crate) fn enter() -> Section {
        if !is_on() || super::super::model_unwinding() {
            return Section {
                guard: None,
                counted: false,
            };
        }
        let outer = DEPTH.with(|d| {
            let v = d.get();
            d.set(v + 1);
            v == 0
        });
        Section {
            guard: outer.then(|| LOCK.lock()),
            counted: true,
        }
    }

    impl Section {
        /// Are coarse sections on (this one counted)?
        pub(crate) fn is_active(&self) -> bool {
            self.counted
        }

        /// Is this the section that holds the lock (so that it can wait)?
        pub(crate) fn is_outer(&self) -> bool {
            self.guard.is_some()
        }

        /// Waits on `cond` (a `Notify`'s) releasing the model-wide lock meanwhile.
        pub(crate) fn wait(&mut self, cond: &crate::sync::Condvar) {
            if let Some(g) = self.guard.take() {
                self.guard = Some(cond.wait(g));
            }
        }
    }

    impl Drop for Section {
        fn drop(&mut self) {
            if !self.counted {
                return;
            }
            if super::super::model_unwinding() {
                // A failed model: releasing is a model operation; leak instead.
                std::mem::forget(self.guard.take());
                return;
            }
            drop(self.guard.take());
            DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
}

#[cfg(not(loom))]
mod imp {
    /// Empty outside loom.
    #[derive(Debug)]
    pub(crate) struct Section;

    /// Never outside loom.
    #[inline(always)]
    pub(crate) fn is_on() -> bool {
        false
    }

    /// Empty outside loom.
    #[inline(always)]
    pub(crate) fn enter() -> Section {
        Section
    }

    impl Drop for Section {
        /// Nothing to leave outside loom (a `Drop` so that callers may end a section
        /// early with `drop` in every build).
        #[inline(always)]
        fn drop(&mut self) {}
    }

    impl Section {
        /// Never outside loom.
        #[inline(always)]
        pub(crate) fn is_active(&self) -> bool {
            false
        }

        /// Never: outside loom there is no section to wait in.
        #[inline(always)]
        pub(crate) fn is_outer(&self) -> bool {
            false
        }

        /// Unreachable outside loom (`is_outer` is false).
        #[inline(always)]
        pub(crate) fn wait(&mut self, _cond: &crate::sync::Condvar) {}
    }
}

#[cfg(loom)]
pub(crate) use imp::set;
pub(crate) use imp::{enter, is_on};
