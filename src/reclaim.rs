//! Memory reclamation for the lock-free registry: the only module that names
//! crossbeam-epoch.
//!
//! A [`Domain`] belongs to one `Context`. Code that reads a shared pointer first pins the
//! domain ([`Domain::pin`]); code that unlinks an object hands it to
//! [`Guard::defer_free_all`] (a batch per update), and each object is freed only once no
//! pinned reader can still hold it.
//!
//! * Ordinary builds use crossbeam-epoch with **one `Collector` per context**, so
//!   nothing is shared between contexts and a context's garbage goes with it (Miri's
//!   leak check passes). crossbeam's `LocalHandle` is `!Send` while our sockets are
//!   `Send`, so handles live in a small **per-thread cache** (the last [`CACHED`]
//!   collectors this thread pinned): a registry operation pins through the cached
//!   handle. Registering a fresh participant per operation instead (as before issue 11)
//!   allocated a 2 KiB cache-aligned `Local` each time, freed only after it was
//!   unlinked from crossbeam's participant list: at 10^5 sockets that was 40% of the
//!   time of bind/connect/close, most of it the kernel clearing fresh pages. The price:
//!   a thread keeps the participant of a context it used (and so that context's last
//!   garbage) until it pins [`CACHED`] other contexts or exits; a context's drop clears
//!   its own thread's entry. The data path never pins.
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
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::Retiree;
    use crossbeam_epoch as epoch;

    /// The reclamation domain of one context.
    pub(crate) struct Domain {
        collector: epoch::Collector,
    }

    /// How many collectors' participants one thread keeps (most recent last).
    const CACHED: usize = 4;

    /// This thread's membership in one domain. (Gathering several updates' retired
    /// objects here before handing them to crossbeam, to save its bag allocations, was
    /// measured slower: freed trie nodes came back later, so fewer were recycled.)
    struct Participant {
        handle: epoch::LocalHandle,
    }

    crate::sync::thread_local! {
        /// This thread's participants, one per collector it pinned lately; see the
        /// module docs. Only this thread touches it, and never while calling out (a
        /// pin can run deferred frees, which drop user values).
        static HANDLES: RefCell<Vec<Rc<Participant>>> = const { RefCell::new(Vec::new()) };
    }

    /// Empty retiree lists kept per thread for the next updates ([`batch`]).
    const KEPT_BATCHES: usize = 64;

    crate::sync::thread_local! {
        /// Emptied retiree lists, for [`batch`]; only this thread touches it, and only
        /// for a push or a pop.
        static BATCHES: RefCell<Vec<Vec<Retiree>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty list for an update's retirees: one this thread's reclaimer emptied, if
    /// it kept one. Every update hands its list to the reclaimer, so a fresh list per
    /// update was a `malloc` per update, and at 10^5 sockets glibc's small-chunk
    /// searches made it a sixth of a registry update's time (issue 11).
    pub(crate) fn batch() -> Vec<Retiree> {
        BATCHES
            .try_with(|b| b.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Vec::with_capacity(8))
    }

    /// Keeps an emptied retiree list for [`batch`] (up to [`KEPT_BATCHES`]).
    fn keep_batch(batch: Vec<Retiree>) {
        debug_assert!(batch.is_empty());
        let _ = BATCHES.try_with(|b| {
            let mut b = b.borrow_mut();
            if b.len() < KEPT_BATCHES {
                b.push(batch);
            }
        });
    }

    /// Proof that the current thread is pinned in a [`Domain`].
    pub(crate) struct Guard<'a> {
        guard: epoch::Guard,
        /// Keeps the participant (and so `guard`'s crossbeam participant) cached while
        /// the guard lives, even if evicted meanwhile (none while the thread exits).
        _participant: Option<Rc<Participant>>,
        _domain: std::marker::PhantomData<&'a Domain>,
    }

    impl Domain {
        pub(crate) fn new() -> Self {
            Domain {
                collector: epoch::Collector::new(),
            }
        }

        /// This thread's participant in this domain, registered on first use.
        fn participant(&self) -> Option<Rc<Participant>> {
            HANDLES
                .try_with(|cache| {
                    let mut cache = cache.borrow_mut();
                    if let Some(p) = cache
                        .iter()
                        .find(|p| *p.handle.collector() == self.collector)
                    {
                        return p.clone();
                    }
                    let p = Rc::new(Participant {
                        handle: self.collector.register(),
                    });
                    cache.push(p.clone());
                    p
                })
                .ok()
        }

        /// Pins the calling thread until the guard drops.
        pub(crate) fn pin(&self) -> Guard<'_> {
            let participant = self.participant();
            let guard = match &participant {
                Some(p) => p.handle.pin(),
                // The thread is exiting (its cache is gone): a participant for this
                // operation only, dropped with its guard.
                None => self.collector.register().pin(),
            };
            // Evicted only now, outside the cache's borrow (dropping a participant pins
            // and may run deferred frees): the least recently registered beyond
            // `CACHED`. Its guards, if any, keep crossbeam's participant alive.
            let evicted = HANDLES
                .try_with(|cache| {
                    let mut cache = cache.borrow_mut();
                    (cache.len() > CACHED).then(|| cache.remove(0))
                })
                .ok()
                .flatten();
            drop(evicted);
            // Under Miri, every pin also tries to advance the epoch and collect, as a
            // fresh participant's first pin does (crossbeam otherwise collects every 128
            // pins): garbage is freed as early as crossbeam allows, so that a read which
            // is not covered by a guard meets a freed object (seeded bug 19).
            #[cfg(miri)]
            guard.flush();
            Guard {
                guard,
                _participant: participant,
                _domain: std::marker::PhantomData,
            }
        }
    }

    impl Drop for Domain {
        fn drop(&mut self) {
            // This thread's participant would keep the collector (and its garbage) alive;
            // other threads' participants go when they use other contexts or exit. Taken
            // out of the cache before it drops.
            let mine = HANDLES
                .try_with(|cache| {
                    let mut cache = cache.borrow_mut();
                    let i = cache
                        .iter()
                        .position(|p| *p.handle.collector() == self.collector)?;
                    Some(cache.remove(i))
                })
                .ok()
                .flatten();
            drop(mine);
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
        pub(crate) unsafe fn defer_free_all(&self, mut batch: Vec<Retiree>) {
            if batch.is_empty() {
                return;
            }
            let run = move || {
                for (addr, free) in batch.drain(..) {
                    // SAFETY: the caller's contract, entry by entry.
                    unsafe { free(addr) };
                }
                keep_batch(batch);
            };
            // SAFETY: by the caller's contract each object is unlinked and retired once,
            // and crossbeam runs `run` only after every guard that could see one is gone.
            unsafe { self.guard.defer_unchecked(run) };
            // Under Miri, hand the garbage to the collector and try to collect at once
            // (see `Domain::pin`).
            #[cfg(miri)]
            self.guard.flush();
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

    /// An empty list for an update's retirees (the stand-in keeps none).
    pub(crate) fn batch() -> Vec<Retiree> {
        Vec::with_capacity(8)
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

pub(crate) use imp::{Domain, Guard, assert_pinned, batch};

/// An object to free later: its address and the function that frees it.
pub(crate) type Retiree = (usize, unsafe fn(usize));

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").finish_non_exhaustive()
    }
}
