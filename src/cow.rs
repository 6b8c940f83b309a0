//! `CowCell`: an immutable value replaced as a whole by compare-and-swap (read-copy-update).
//!
//! The registry and the context's socket set are each one `CowCell`. Readers pin the
//! reclamation domain, load the current pointer and read the value in place; writers
//! compute a new value from the current one with a **pure** function, then publish it
//! with one compare-and-swap, retrying from the new current value if another writer got
//! there first. Nobody waits for anybody (lock-free: a failed CAS means another update
//! succeeded), and every completed update is one atomic step, so concurrent updates have
//! the outcome of some sequential order. The replaced value is retired through
//! [`crate::reclaim`], never freed while a pinned reader may still hold it.
//!
//! A value may share structure with the value it came from (persistent maps,
//! `crate::pmap`): the update function then builds it inside a [`Txn`], which records
//! what it allocated and what it replaced. After a successful CAS the replaced parts are
//! retired with the old value; after a failed one the allocated parts are freed. Such a
//! value frees nothing when dropped (the old value's shared parts live on in the new
//! one); the cell's own drop calls [`Version::finalize`] on the last value instead.
//!
//! The value lives in a `sync::UnsafeCell` so that loom checks that every read is
//! ordered after the write that published it (VERIFY.md §3: loom does not track plain
//! memory behind a `Box`).

pub(crate) use crate::pmap::Txn;
use crate::reclaim::Domain;
use crate::sync::atomic::{AtomicPtr, Ordering};
use crate::sync::{Tracked, UnsafeCell};

/// One published version of the value.
struct Node<T> {
    /// Written once, before the node is published; read-only afterwards.
    value: UnsafeCell<T>,
    /// Lets loom report a snapshot that is never freed.
    _tracked: Tracked,
}

/// A lock-free, copy-on-write cell. See the module docs.
pub(crate) struct CowCell<T: Version> {
    /// The current version. Replaced only by the CAS in [`CowCell::update`]; the node it
    /// points to is owned by the cell until retired.
    current: AtomicPtr<Node<T>>,
}

/// A value kept in a [`CowCell`].
pub(crate) trait Version: Send + Sync + 'static {
    /// Frees what the last value owns beyond its own drop: called once, by the cell's
    /// drop, on the current value (values sharing structure free nothing in `drop`, so
    /// that a retired value leaves the parts it shares with its successor alone).
    /// Nothing else reads the value during or after the call.
    fn finalize(&mut self) {}
}

impl<T: Version> CowCell<T> {
    pub(crate) fn new(value: T) -> Self {
        let node = Box::into_raw(Box::new(Node {
            value: UnsafeCell::new(value),
            _tracked: Tracked::new(),
        }));
        CowCell {
            current: AtomicPtr::new(node),
        }
    }

    /// Runs `f` on the current value.
    pub(crate) fn read<R>(&self, domain: &Domain, f: impl FnOnce(&T) -> R) -> R {
        let _guard = domain.pin();
        crate::reclaim::assert_pinned();
        // Acquire: pairs with the Release half of the CAS in `update` that published
        // this node, so its value is fully written before we read it.
        let node = self.current.load(Ordering::Acquire);
        // SAFETY: `node` was current while we are pinned, so it is not freed before
        // `_guard` drops (it can only be retired, and retirement waits for the guard).
        let node = unsafe { &*node };
        node.value.with(|p| {
            // Still pinned where the value is used, not only where it was loaded (the
            // model builds check it; a guard dropped early is seeded bug 19).
            crate::reclaim::assert_pinned();
            // SAFETY: the value is never written after publication; shared reads only.
            f(unsafe { &*p })
        })
    }

    /// Replaces the value with `f(current, txn)` atomically, retrying on contention.
    ///
    /// `f` returns `Ok((new_value, result))` to publish `new_value`, or `Err(e)` to leave
    /// the cell unchanged. `f` may run several times and must have no side effects;
    /// act on `result` after `update` returns. A value that shares structure with
    /// `current` is built inside `txn` (see the module docs); each run of `f` gets a fresh
    /// one.
    pub(crate) fn update<R, E>(
        &self,
        domain: &Domain,
        mut f: impl FnMut(&T, &mut Txn) -> Result<(T, R), E>,
    ) -> Result<R, E> {
        let guard = domain.pin();
        crate::reclaim::assert_pinned();
        // Acquire: pairs with the Release half of the CAS that published this node.
        let mut cur = self.current.load(Ordering::Acquire);
        loop {
            // SAFETY: `cur` was current while we are pinned (see `read`).
            let node = unsafe { &*cur };
            // An error drops `txn`, which frees what this run allocated.
            let mut txn = Txn::default();
            // SAFETY: published values are read-only.
            let (new_value, result) = node.value.with(|p| f(unsafe { &*p }, &mut txn))?;
            let new = Box::into_raw(Box::new(Node {
                value: UnsafeCell::new(new_value),
                _tracked: Tracked::new(),
            }));
            // Success AcqRel: the Release half publishes the new node's value to the
            // Acquire loads in `read`/`update`; the Acquire half orders our retirement of
            // `cur` after the CAS that published it. Failure Acquire: we read the winner's
            // node next, so we need its value.
            match self
                .current
                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // `cur` came from `Box::into_raw`, our CAS unlinked it, and only the
                    // thread whose CAS unlinks a node retires it: with the parts of its
                    // value that the new value replaced, in one batch.
                    txn.retire_after_commit(cur);
                    txn.commit(&guard);
                    return Ok(result);
                }
                Err(actual) => {
                    // SAFETY: `new` was never published; we still own it.
                    drop(unsafe { Box::from_raw(new) });
                    // What this run allocated for it.
                    txn.abort();
                    cur = actual;
                }
            }
        }
    }
}

impl<T: Version> Drop for CowCell<T> {
    fn drop(&mut self) {
        // Relaxed: `&mut self` proves no other thread can touch the cell any more, and the
        // hand-over of `self` to this thread already synchronised with every writer.
        let node = self.current.load(Ordering::Relaxed);
        // SAFETY: `&mut self`: no reader or writer remains, and the current node is owned
        // by the cell (only replaced nodes were handed to the reclaimer).
        let node = unsafe { Box::from_raw(node) };
        // SAFETY: as above: the value is ours alone.
        node.value.with_mut(|p| unsafe { (*p).finalize() });
        drop(node);
    }
}

// SAFETY: the cell hands out `&T` to many threads (needs `T: Sync`) and drops or retires
// values on whichever thread replaces them (needs `T: Send`).
unsafe impl<T: Version> Send for CowCell<T> {}
// SAFETY: as above.
unsafe impl<T: Version> Sync for CowCell<T> {}

impl<T: Version> std::fmt::Debug for CowCell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CowCell").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    /// Counts live values, to check that every retired value is freed exactly once.
    struct Counted(Arc<AtomicUsize>, Vec<u64>);

    impl Counted {
        fn new(live: &Arc<AtomicUsize>, v: Vec<u64>) -> Self {
            live.fetch_add(1, Ordering::SeqCst);
            Counted(live.clone(), v)
        }
    }

    impl Version for Counted {}

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn readers_never_see_a_freed_value_and_everything_is_freed() {
        let live = Arc::new(AtomicUsize::new(0));
        let updates: u64 = if cfg!(miri) { 30 } else { 2_000 };
        {
            let domain = Domain::new();
            let cell = CowCell::new(Counted::new(&live, vec![0; 8]));
            std::thread::scope(|s| {
                // Joined explicitly: the scope's own join can return before a thread's
                // thread-locals (its cached reclamation participant) are destroyed.
                let mut joins = Vec::new();
                for _ in 0..2 {
                    joins.push(s.spawn(|| {
                        for _ in 0..updates {
                            // Every published value is 8 copies of one number: a torn or
                            // freed read would show up here (and as UB under Miri).
                            cell.read(&domain, |c| {
                                assert!(c.1.iter().all(|&x| x == c.1[0]));
                            });
                        }
                    }));
                }
                for i in 1..=updates {
                    let _ = cell.update(&domain, |_, _| {
                        Ok::<_, ()>((Counted::new(&live, vec![i; 8]), ()))
                    });
                }
                for j in joins {
                    j.join().unwrap();
                }
            });
            assert_eq!(cell.read(&domain, |c| c.1[0]), updates);
            drop(cell);
            drop(domain);
        }
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "every retired value is freed when the domain drops"
        );
    }

    /// Several updaters racing each other and two readers (grace periods under
    /// contention). Every read and every update scans the whole value (`LEN` copies of
    /// one number), so a value freed too early is likely freed in the middle of a scan:
    /// UB under Miri, a torn value otherwise. Failed CASes are common here, so a node
    /// retired before the CAS that unlinks it (seeded bug 35) is retired twice. Run under
    /// Miri with `-Zmiri-many-seeds`: whether a free lands in a scan depends on the
    /// schedule. (A read that unpins before using the value, seeded bug 19, was caught
    /// here while each operation registered a fresh crossbeam participant; with
    /// participants cached per thread, 16 schedules no longer hit its window, so the
    /// model builds assert "pinned at the point of use" and loom catches it.)
    /// The final value counts the updates: each is applied exactly once. (An update that
    /// pins only after loading `current` is NOT caught by 16 schedules: its window
    /// is the few steps inside crossbeam's `register`.)
    #[test]
    fn concurrent_updaters_and_readers_never_touch_a_freed_value() {
        const LEN: usize = 64;
        let live = Arc::new(AtomicUsize::new(0));
        let (updaters, updates): (u64, u64) = if cfg!(miri) { (3, 10) } else { (4, 2_000) };
        let uniform = |c: &Counted| c.1.iter().all(|&x| x == c.1[0]);
        {
            let domain = Domain::new();
            let cell = CowCell::new(Counted::new(&live, vec![0; LEN]));
            std::thread::scope(|s| {
                // Joined explicitly: the scope's own join can return before a thread's
                // thread-locals (its cached reclamation participant) are destroyed.
                let mut joins = Vec::new();
                for _ in 0..2 {
                    joins.push(s.spawn(|| {
                        for _ in 0..updates {
                            cell.read(&domain, |c| assert!(uniform(c)));
                        }
                    }));
                }
                for _ in 0..updaters {
                    joins.push(s.spawn(|| {
                        for _ in 0..updates {
                            let _ = cell.update(&domain, |c, _| {
                                assert!(uniform(c));
                                Ok::<_, ()>((Counted::new(&live, vec![c.1[0] + 1; LEN]), ()))
                            });
                        }
                    }));
                }
                for j in joins {
                    j.join().unwrap();
                }
            });
            assert_eq!(cell.read(&domain, |c| c.1[0]), updaters * updates);
            drop(cell);
            drop(domain);
        }
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "every retired value is freed when the domain drops"
        );
    }
}
