//! Memory reclamation for the lock-free registry: the only module that names
//! crossbeam-epoch.
//!
//! A [`Domain`] belongs to one `Context`. Code that reads a shared pointer first pins the
//! domain ([`Domain::pin`]); code that unlinks an object hands it to
//! [`Guard::defer_destroy`], and the object is freed only once no pinned reader can still
//! hold it.
//!
//! * Ordinary builds use crossbeam-epoch with **one `Collector` per context**, so
//!   garbage never outlives the context (Miri's leak check passes) and nothing is shared
//!   between contexts. crossbeam's `LocalHandle` is `!Send` while our sockets are `Send`,
//!   so a handle is registered for the duration of one registry operation and dropped
//!   with its guard; registry operations (bind, connect, unbind, close) are rare, and the
//!   data path never pins.
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
        /// Frees `ptr` (as a `Box<T>`) once every thread pinned now has unpinned.
        ///
        /// # Safety
        /// - `ptr` came from `Box::into_raw` and is retired exactly once;
        /// - it is already unreachable for threads that pin after this call.
        pub(crate) unsafe fn defer_destroy<T: Send + 'static>(&self, ptr: *mut T) {
            let addr = ptr as usize;
            // SAFETY: by the caller's contract the box is unlinked and retired once, and
            // crossbeam runs the closure only after every guard that could see it is gone.
            unsafe {
                self.guard
                    .defer_unchecked(move || drop(Box::from_raw(addr as *mut T)));
            }
        }
    }
}

#[cfg(any(loom, shuttle))]
mod imp {
    #![allow(clippy::disallowed_types)]

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
            Guard { domain: self }
        }
    }

    impl Guard<'_> {
        /// Records `ptr` for freeing when the domain drops.
        ///
        /// # Safety
        /// As for the crossbeam build: `ptr` came from `Box::into_raw`, is retired once,
        /// and is already unreachable for later readers.
        pub(crate) unsafe fn defer_destroy<T: Send + 'static>(&self, ptr: *mut T) {
            unsafe fn free<T>(addr: usize) {
                // SAFETY: `addr` was recorded by `defer_destroy::<T>` from `Box::into_raw`
                // and is freed once, by `Domain::drop`.
                drop(unsafe { Box::from_raw(addr as *mut T) });
            }
            let mut list = self
                .domain
                .retired
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let addr = ptr as usize;
            assert!(
                list.iter().all(|r| r.addr != addr),
                "object retired twice (a lost update in a compare-and-swap loop?)"
            );
            list.push(Retired {
                addr,
                free: free::<T>,
            });
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

pub(crate) use imp::Domain;

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").finish_non_exhaustive()
    }
}
