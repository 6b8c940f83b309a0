//! Recycled trie nodes: every [`Node`] of every map has one size (32 child
//! slots), so a freed node can serve the next allocation as is. Each thread keeps up
//! to `KEEP` (1,024) freed nodes; allocations take from there first.
//!
//! Why: an update copies the nodes on its path and frees as many once they are
//! reclaimed; at 10^5 keys that is about eight `malloc`/`free` calls of 272 bytes per
//! update, and in a heap full of freed sockets and pipes glibc's allocator spent more
//! time sorting those chunks than the update took (issue 11). The reclaimer frees
//! batches of nodes on whichever thread collects; that thread's next updates reuse them.
//!
//! Not in the Miri and model builds: there every node is a plain `Box`, so that Miri
//! sees each free (a node freed too early is a use after free it reports) and the
//! models stay small. The recycled memory is never read as a node before it is written
//! as one.

use super::Node;

#[cfg(not(any(miri, loom, shuttle)))]
mod imp {
    use std::alloc::Layout;
    use std::cell::RefCell;
    use std::ptr::NonNull;

    use super::Node;

    /// Nodes kept per thread (at 256 bytes, 256 KiB): enough for the 64 updates
    /// of one reclaimed batch at depth 4.
    pub(super) const KEEP: usize = 1024;

    /// The layout every node has (`Node<K, V>` holds only raw pointers to `K` and `V`).
    const LAYOUT: Layout = Layout::new::<Node<(), ()>>();

    /// Freed node memory of this thread, unininitialised.
    struct Kept(Vec<NonNull<u8>>);

    impl Drop for Kept {
        fn drop(&mut self) {
            for p in self.0.drain(..) {
                // SAFETY: every entry was allocated with `LAYOUT` (by `alloc` or by `Box`
                // for a node type of that layout) and is owned by this list alone.
                unsafe { std::alloc::dealloc(p.as_ptr(), LAYOUT) };
            }
        }
    }

    crate::sync::thread_local! {
        /// This thread's freed nodes; only this thread touches it.
        static KEPT: RefCell<Kept> = const { RefCell::new(Kept(Vec::new())) };
    }

    /// Moves `node` to the heap, into recycled memory when this thread has some.
    pub(crate) fn alloc<K, V>(node: Node<K, V>) -> *mut Node<K, V> {
        debug_assert_eq!(Layout::new::<Node<K, V>>(), LAYOUT);
        let reused = KEPT.try_with(|k| k.borrow_mut().0.pop()).ok().flatten();
        match reused {
            Some(p) => {
                let p = p.as_ptr().cast::<Node<K, V>>();
                // SAFETY: `p` is memory of `LAYOUT`, the layout of `Node<K, V>` (asserted
                // above), owned by nobody since it left the list.
                unsafe { p.write(node) };
                p
            }
            None => Box::into_raw(Box::new(node)),
        }
    }

    /// A copy of `*src` on the heap (in recycled memory when this thread has some),
    /// copied straight from `src`: no copy on the stack in between (at 10^5 keys that
    /// intermediate copy was a tenth of a close).
    ///
    /// # Safety
    /// `src` points to a live node.
    pub(crate) unsafe fn copy<K, V>(src: *const Node<K, V>) -> *mut Node<K, V> {
        debug_assert_eq!(Layout::new::<Node<K, V>>(), LAYOUT);
        let reused = KEPT.try_with(|k| k.borrow_mut().0.pop()).ok().flatten();
        let p = match reused {
            Some(p) => p.as_ptr(),
            None => {
                // SAFETY: `LAYOUT` has a non-zero size.
                let p = unsafe { std::alloc::alloc(LAYOUT) };
                if p.is_null() {
                    std::alloc::handle_alloc_error(LAYOUT);
                }
                p
            }
        }
        .cast::<Node<K, V>>();
        // SAFETY: `p` is fresh memory of `LAYOUT` (the layout of `Node<K, V>`), owned by
        // nobody else and so not overlapping `src`, which is live by the contract; a
        // node is plain data (child pointers), so a bitwise copy is a valid node.
        unsafe { std::ptr::copy_nonoverlapping(src, p, 1) };
        p
    }

    /// Frees a node made by [`alloc`] or [`copy`] (or by `Box`).
    ///
    /// # Safety
    /// `p` came from [`alloc`], [`copy`] or `Box::into_raw`, nothing refers to it any
    /// more, and it is freed once.
    pub(crate) unsafe fn free<K, V>(p: *mut Node<K, V>) {
        // A node owns nothing (its children are raw pointers): no destructor to run.
        const { assert!(!std::mem::needs_drop::<Node<(), ()>>()) };
        // SAFETY: the caller's contract: `p` is a live allocation of `LAYOUT`.
        let p = unsafe { NonNull::new_unchecked(p.cast::<u8>()) };
        let full = KEPT
            .try_with(|k| {
                let mut k = k.borrow_mut();
                if k.0.len() < KEEP {
                    if k.0.capacity() == 0 {
                        k.0.reserve_exact(KEEP);
                    }
                    k.0.push(p);
                    false
                } else {
                    true
                }
            })
            .unwrap_or(true);
        if full {
            // SAFETY: as above; `Box` and `alloc` both use the global allocator with
            // `LAYOUT`.
            unsafe { std::alloc::dealloc(p.as_ptr(), LAYOUT) };
        }
    }
}

#[cfg(any(miri, loom, shuttle))]
mod imp {
    use super::Node;

    /// A plain `Box`.
    pub(crate) fn alloc<K, V>(node: Node<K, V>) -> *mut Node<K, V> {
        Box::into_raw(Box::new(node))
    }

    /// A boxed copy of `*src`.
    ///
    /// # Safety
    /// `src` points to a live node.
    pub(crate) unsafe fn copy<K, V>(src: *const Node<K, V>) -> *mut Node<K, V> {
        // SAFETY: live by the contract; a node is plain data (child pointers), so a
        // bitwise copy is a valid node and the original stays valid.
        Box::into_raw(Box::new(unsafe { src.read() }))
    }

    /// Frees a node made by [`alloc`] or [`copy`].
    ///
    /// # Safety
    /// `p` came from [`alloc`] or [`copy`], nothing refers to it any more, and it is
    /// freed once.
    pub(crate) unsafe fn free<K, V>(p: *mut Node<K, V>) {
        // SAFETY: the caller's contract.
        drop(unsafe { Box::from_raw(p) });
    }
}

pub(super) use imp::{alloc, copy, free};

/// Frees a node given by address (a [`Retiree`](crate::reclaim::Retiree)'s function).
///
/// # Safety
/// As for [`free`].
pub(super) unsafe fn free_addr<K, V>(addr: usize) {
    // SAFETY: the caller's contract.
    unsafe { free(addr as *mut Node<K, V>) }
}
