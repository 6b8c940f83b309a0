//! Memory reclamation for the lock-free registry: the only module that names
//! crossbeam-epoch.
//!
//! A [`Domain`] belongs to one `Context`. Code that reads a shared pointer first pins the
//! domain ([`Domain::pin`]); code that unlinks an object hands it to
//! [`Guard::defer_free_all`] (a batch per update), and each object is freed only once no
//! pinned reader can still hold it.
//!
//! * Ordinary builds use crossbeam-epoch with **one `Collector` per context**, so
//!   garbage never outlives the context (Miri's leak check passes) and nothing is shared
//!   between contexts. crossbeam's `LocalHandle` is `!Send` while our sockets are `Send`,
//!   so a handle is registered for the duration of one registry operation and dropped
//!   with its guard (a thread-local cache of handles was measured: no faster here, and it
//!   would keep a dropped context's garbage alive until the caching threads exit);
//!   registry operations (bind, connect, unbind, close) are rare, and the data path
//!   never pins.
//! * Under `cfg(loom)` / `cfg(shuttle)` crossbeam-epoch is replaced by a stand-in the
//!   checkers can run (`../shared/VERIFY.md` §4c): a guard is a plain borrow, a retired
//!   object is kept until the domain drops (the end of the model iteration), and retiring
//!   one object twice panics. The retire list sits behind a `std` mutex on purpose: the
//!   checker cannot see it, so it adds no happens-before edge that could hide a missing
//!   Release/Acquire in the algorithms. The stand-in never frees early, so it cannot check
//!   grace periods; Miri and ThreadSanitizer on the real build do (SPEC.md, "What is
//!   verified").

#[cfg(not(any(loom, shuttle)))]
mod imp {
    use super::Retiree;
    use crossbeam_epoch as epoch;

    /// The reclamation domain of one context.
    pub(crate) struct Domain {
        collector: epoch::Collector,
    }

    /// Proof that the current thread is pinned in a [`Domain`].
    pub(crate) struct Guard<'a> {
        guard: epoch::Guard,
        _domain: std::marker::PhantomData<&'a Domain>,
    }

    impl Domain {
        pub(crate) fn new() -> Self {
            Domain {
                collector: epoch::Collector::new(),
            }
        }

        /// Pins the calling thread until the guard drops.
        pub(crate) fn pin(&self) -> Guard<'_> {
            // The handle can be dropped at once: crossbeam keeps the participant alive
            // while any of its guards exist.
            let handle = self.collector.register();
            Guard {
                guard: handle.pin(),
                _domain: std::marker::PhantomData,
            }
        }
    }

    impl Guard<'_> {
        /// Calls `free(addr)` for each entry of `batch` once every thread pinned now has
        /// unpinned: the nodes an update of a persistent map replaced and its old version's
        /// box, type-erased and batched (one deferred call per update).
        ///
        /// # Safety
        /// For each entry: `free(addr)` frees an object that is retired exactly once, may
        /// run on any thread, and touches nothing else that could be gone by then; the
        /// object is already unreachable for threads that pin after this call.
        pub(crate) unsafe fn defer_free_all(&self, batch: Vec<Retiree>) {
            if batch.is_empty() {
                return;
            }
            let run = move || {
                for (addr, free) in batch {
                    // SAFETY: the caller's contract, entry by entry.
                    unsafe { free(addr) };
                }
            };
            // SAFETY: by the caller's contract each object is unlinked and retired once,
            // and crossbeam runs `run` only after every guard that could see one is gone.
            unsafe { self.guard.defer_unchecked(run) };
        }
    }

    /// Checked only in the model builds (see the stand-in's `assert_pinned`).
    #[inline(always)]
    pub(crate) fn assert_pinned() {}
}

#[cfg(any(loom, shuttle))]
mod imp {
    #![allow(clippy::disallowed_types)]

    use std::cell::Cell;

    use super::Retiree;
    use crate::sync::thread_local;

    thread_local! {
        /// How many guards this (model) thread holds, for [`assert_pinned`].
        // Not `const`-initialised: loom's and shuttle's `thread_local!` take only an
        // expression.
        #[allow(clippy::missing_const_for_thread_local)]
        static PINS: Cell<usize> = Cell::new(0);
    }

    /// Panics unless the calling thread holds a guard: a shared pointer to something
    /// the domain reclaims must only be loaded while pinned (a load before the pin can
    /// return an object that is freed before the pin protects it). The crossbeam build
    /// cannot see this (a wrong order there is a use-after-free only under rare
    /// schedules); the models check it on every load.
    pub(crate) fn assert_pinned() {
        PINS.with(|p| {
            assert!(
                p.get() > 0,
                "a reclaimable pointer was loaded before the domain was pinned"
            );
        });
    }

    /// One retired object: its address and how to free it.
    struct Retired {
        addr: usize,
        free: unsafe fn(usize),
    }

    /// The model stand-in: retired objects are freed when the domain drops.
    pub(crate) struct Domain {
        /// std (not model) mutex: invisible to the checker, never held across a model
        /// operation.
        retired: std::sync::Mutex<Vec<Retired>>,
    }

    /// A pinned "guard": a plain borrow of the domain.
    pub(crate) struct Guard<'a> {
        domain: &'a Domain,
    }

    impl Domain {
        pub(crate) fn new() -> Self {
            Domain {
                retired: std::sync::Mutex::new(Vec::new()),
            }
        }

        pub(crate) fn pin(&self) -> Guard<'_> {
            PINS.with(|p| p.set(p.get() + 1));
            Guard { domain: self }
        }
    }

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            PINS.with(|p| p.set(p.get() - 1));
        }
    }

    impl Guard<'_> {
        /// Records each `free(addr)` of `batch` for when the domain drops.
        ///
        /// # Safety
        /// As for the crossbeam build: each `addr` names an object retired once, already
        /// unreachable for later readers, which its `free` frees.
        pub(crate) unsafe fn defer_free_all(&self, batch: Vec<Retiree>) {
            for (addr, free) in batch {
                // SAFETY: the caller's contract, entry by entry.
                unsafe { self.defer_free(addr, free) };
            }
        }

        /// Records `free(addr)` for when the domain drops.
        ///
        /// # Safety
        /// As for [`Guard::defer_free_all`], for one object.
        unsafe fn defer_free(&self, addr: usize, free: unsafe fn(usize)) {
            let mut list = self
                .domain
                .retired
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            assert!(
                list.iter().all(|r| r.addr != addr),
                "object retired twice (a lost update in a compare-and-swap loop?)"
            );
            list.push(Retired { addr, free });
        }
    }

    impl Drop for Domain {
        fn drop(&mut self) {
            let list = std::mem::take(self.retired.get_mut().unwrap_or_else(|e| e.into_inner()));
            for r in list {
                // SAFETY: each entry was retired once (asserted above) and the domain, which
                // every reader borrows, is being dropped, so no reader remains.
                unsafe { (r.free)(r.addr) };
            }
        }
    }
}

pub(crate) use imp::{Domain, Guard, assert_pinned};

/// An object to free later: its address and the function that frees it.
pub(crate) type Retiree = (usize, unsafe fn(usize));

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").finish_non_exhaustive()
    }
}
