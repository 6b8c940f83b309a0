//! Recycled buffers for frames copied from a slice (32 bytes to 64 KiB).
//!
//! Each thread that makes such frames owns a pool (`Local`, thread-local) with one free
//! list per power-of-two size class. A buffer remembers its pool (`Home`). When the last
//! clone of a buffer drops:
//! - on the owning thread, the buffer goes back on the owner's free list (no atomics);
//! - on another thread (the receiver, typically), it is pushed on the owner's lock-free
//!   `remote` stack for its class (one CAS). The owner takes the whole stack with one
//!   `swap` when its free list runs dry, so the stream of messages between two threads
//!   costs no `malloc`/`free` pair per message, and the stack has no ABA problem: pushers
//!   only push, and the one popper takes everything at once.
//!
//! Termination: when the owning thread exits, its `Local` drops: it frees its free lists,
//! swaps `CLOSED` into every remote stack and frees what it held. A buffer dropped later
//! finds `CLOSED` and is freed by the dropping thread. `Home::live` counts the buffers
//! not yet freed plus one for the owning thread; whoever takes it to zero frees `Home`.
//!
//! Memory is bounded: idle buffers per class are capped (`cache_cap`); the rest are
//! freed. Buffers in flight are bounded by the HWMs of the sockets that carry them.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::RefCell;
use std::ptr::{self, NonNull};

use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::sync::{POOL_CACHE_BYTES, Tracked, UnsafeCell, thread_local};

/// The smallest class holds `1 << MIN_SHIFT` bytes.
const MIN_SHIFT: u32 = 6;
/// Classes 64 B, 128 B, ..., 64 KiB.
const CLASSES: usize = 11;
/// The largest payload a pool buffer holds.
pub(crate) const POOL_MAX: usize = 1 << (MIN_SHIFT as usize + CLASSES - 1);

/// The remote stack of a pool whose owner thread has exited.
const CLOSED: *mut Header = ptr::without_provenance_mut(1);

/// Idle buffers a pool keeps in `class` (the rest of a returned batch is freed).
fn cache_cap(class: usize) -> usize {
    if POOL_CACHE_BYTES == 0 {
        1
    } else {
        (POOL_CACHE_BYTES >> (MIN_SHIFT as usize + class)).max(16)
    }
}

/// The size class for `len` bytes, if a pool buffer can hold them.
fn class_of(len: usize) -> Option<usize> {
    if len > POOL_MAX {
        return None;
    }
    let bits = usize::BITS - (len.max(1) - 1).leading_zeros();
    Some(bits.saturating_sub(MIN_SHIFT) as usize)
}

/// The start of every pool buffer; the payload follows it.
struct Header {
    /// Live `PoolBuf` handles on this buffer. Set to 1 by the owner when it hands the
    /// buffer out; then clones add and drops subtract (any thread).
    refs: AtomicUsize,
    /// The next buffer on a free list or remote stack. Written by the thread that pushes
    /// the buffer (owner or remote dropper) before the push publishes it; read by the
    /// owner after it took the list.
    next: UnsafeCell<*mut Header>,
    /// The pool this buffer returns to. Immutable; `Home` outlives every buffer of it.
    home: NonNull<Home>,
    /// Size class. Immutable.
    class: usize,
    /// Stands for the payload bytes in the checkers' race detection: written (by the
    /// owner) only while the buffer is unshared, read through any handle.
    payload: UnsafeCell<()>,
    /// Leak tracking under loom.
    _track: Tracked,
}

/// What a pool shares with the threads that drop its buffers.
struct Home {
    /// Per class: buffers dropped on other threads, as a stack (pushed with CAS by any
    /// thread; taken whole with `swap` by the owner), or `CLOSED`.
    remote: [AtomicPtr<Header>; CLASSES],
    /// Buffers of this pool not yet freed, plus one while the owning thread's `Local`
    /// lives. The thread that takes it to zero frees the `Home`.
    live: AtomicUsize,
    _track: Tracked,
}

/// A singly linked list of idle buffers (owner thread only).
#[derive(Clone, Copy)]
struct FreeList {
    head: *mut Header,
    len: usize,
}

/// A thread's pool. Only its thread touches it.
struct Local {
    /// Made on the thread's first pooled frame.
    home: Option<NonNull<Home>>,
    free: [FreeList; CLASSES],
}

// Not `const`-initialised: loom's and shuttle's `thread_local!` take only an expression.
thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    static LOCAL: RefCell<Local> = RefCell::new(Local {
        home: None,
        free: [FreeList { head: ptr::null_mut(), len: 0 }; CLASSES],
    });
}

fn layout(class: usize) -> Layout {
    let (l, _) = Layout::new::<Header>()
        .extend(Layout::array::<u8>(1 << (MIN_SHIFT as usize + class)).expect("small"))
        .expect("small");
    l.pad_to_align()
}

/// The payload of the buffer at `hdr`.
fn payload_ptr(hdr: NonNull<Header>) -> *mut u8 {
    // The payload starts right after the header (`layout` puts it there: `u8` needs no
    // padding).
    hdr.as_ptr().cast::<u8>().wrapping_add(size_of::<Header>())
}

/// Frees one buffer's memory.
///
/// # Safety
/// `hdr` is a buffer nobody else references or will reference again.
unsafe fn free_buffer(hdr: NonNull<Header>) {
    // SAFETY: the caller owns the buffer; `class` is immutable.
    let class = unsafe { hdr.as_ref() }.class;
    // SAFETY: as above; the header was written by `ptr::write` in `Local::fresh` and is
    // dropped exactly once, here, then its memory (allocated with this layout) freed.
    unsafe {
        ptr::drop_in_place(hdr.as_ptr());
        dealloc(hdr.as_ptr().cast(), layout(class));
    }
}

/// Drops `n` from `home`'s live count, freeing `home` if that was the last.
///
/// # Safety
/// The caller holds `n` of the counted references (buffers freed, or the owner's).
unsafe fn release_home(home: NonNull<Home>, n: usize) {
    // SAFETY: the caller's references keep `home` alive until this decrement.
    let live = &unsafe { home.as_ref() }.live;
    // AcqRel: the Release half orders this thread's uses of `home` (its CAS on a remote
    // stack) before the free by whoever decrements last; the Acquire half, when we are
    // that thread, orders every other thread's earlier uses before our free.
    let before = live.fetch_sub(n, Ordering::AcqRel);
    debug_assert!(before >= n, "pool live count underflow");
    if before == n {
        // SAFETY: the count reached zero: no buffer and no owner references `home`; it
        // was made by `Box::into_raw` in `Local::home`.
        drop(unsafe { Box::from_raw(home.as_ptr()) });
    }
}

/// The buffer after `hdr` on the list or chain that holds it.
///
/// # Safety
/// The calling thread holds the list or chain `hdr` is on (its own free list, or a chain
/// it took from a remote stack with an Acquire `swap`), so nobody writes `next` now and
/// the last write to it happens before this read.
unsafe fn next_of(hdr: NonNull<Header>) -> *mut Header {
    // SAFETY: the caller holds the buffer (see above).
    unsafe { hdr.as_ref() }.next.with(|p| {
        // SAFETY: as above.
        unsafe { *p }
    })
}

impl FreeList {
    fn push(&mut self, hdr: NonNull<Header>) {
        // SAFETY: the buffer is idle and owned by this thread's pool.
        unsafe { hdr.as_ref() }.next.with_mut(|p| {
            // SAFETY: as above: nobody else reads `next` of an idle local buffer.
            unsafe { *p = self.head }
        });
        self.head = hdr.as_ptr();
        self.len += 1;
    }

    fn pop(&mut self) -> Option<NonNull<Header>> {
        let hdr = NonNull::new(self.head)?;
        // SAFETY: the list holds only idle buffers of this thread's pool.
        self.head = unsafe { next_of(hdr) };
        self.len -= 1;
        Some(hdr)
    }
}

impl Local {
    fn home(&mut self) -> NonNull<Home> {
        *self.home.get_or_insert_with(|| {
            let home = Box::new(Home {
                remote: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
                live: AtomicUsize::new(1),
                _track: Tracked::new(),
            });
            NonNull::from(Box::leak(home))
        })
    }

    /// An idle or new buffer of `class`, with `refs` = 1.
    fn take(&mut self, class: usize) -> NonNull<Header> {
        let hdr = match self.free[class].pop() {
            Some(h) => h,
            None => match self.take_remote(class) {
                Some(h) => h,
                None => self.fresh(class),
            },
        };
        // SAFETY: an idle buffer of ours: nobody else references it.
        // Relaxed: the buffer reaches other threads only through a channel (a pipe) that
        // orders this store before their accesses.
        unsafe { hdr.as_ref() }.refs.store(1, Ordering::Relaxed);
        hdr
    }

    /// Moves the remote stack of `class` onto the free list; pops one.
    fn take_remote(&mut self, class: usize) -> Option<NonNull<Header>> {
        let home = self.home();
        // SAFETY: the owner's reference keeps `home` alive.
        let stack = &unsafe { home.as_ref() }.remote[class];
        // Relaxed: a cheap look first; an empty stack needs no swap.
        if stack.load(Ordering::Relaxed).is_null() {
            return None;
        }
        // Acquire: pairs with the Release CAS of every push in the stack (a release
        // sequence), so the pushers' writes of `next`, and their reads of the payloads,
        // happen before we walk the chain and reuse the buffers.
        let mut node = stack.swap(ptr::null_mut(), Ordering::Acquire);
        let cap = cache_cap(class);
        let mut freed = 0;
        while let Some(hdr) = NonNull::new(node) {
            // SAFETY: the swap made this thread the only holder of the chain.
            node = unsafe { next_of(hdr) };
            if self.free[class].len < cap {
                self.free[class].push(hdr);
            } else {
                // SAFETY: we hold the only reference to this idle buffer.
                unsafe { free_buffer(hdr) };
                freed += 1;
            }
        }
        if freed > 0 {
            // SAFETY: we freed `freed` buffers of `home`; the owner reference keeps it.
            unsafe { release_home(home, freed) };
        }
        self.free[class].pop()
    }

    /// A newly allocated buffer of `class`.
    fn fresh(&mut self, class: usize) -> NonNull<Header> {
        let home = self.home();
        // Relaxed: the count is only compared at the final decrement, which every use
        // of this buffer happens before (it reaches other threads through a pipe).
        // SAFETY: the owner reference keeps `home` alive.
        unsafe { home.as_ref() }
            .live
            .fetch_add(1, Ordering::Relaxed);
        let l = layout(class);
        // SAFETY: `l` has a non-zero size (the header is not empty).
        let raw = unsafe { alloc(l) }.cast::<Header>();
        let Some(hdr) = NonNull::new(raw) else {
            handle_alloc_error(l)
        };
        // SAFETY: fresh memory of the header's layout.
        unsafe {
            ptr::write(
                hdr.as_ptr(),
                Header {
                    refs: AtomicUsize::new(1),
                    next: UnsafeCell::new(ptr::null_mut()),
                    home,
                    class,
                    payload: UnsafeCell::new(()),
                    _track: Tracked::new(),
                },
            );
        }
        hdr
    }

    /// Takes back a buffer of ours whose last handle dropped on this thread.
    fn give_back(&mut self, hdr: NonNull<Header>) {
        // SAFETY: the last handle is gone: we hold the only reference.
        let class = unsafe { hdr.as_ref() }.class;
        if self.free[class].len < cache_cap(class) {
            self.free[class].push(hdr);
        } else if let Some(home) = self.home {
            // SAFETY: the only reference; then one buffer fewer for `home`.
            unsafe {
                free_buffer(hdr);
                release_home(home, 1);
            }
        }
    }
}

impl Drop for Local {
    /// The owning thread exits: free what we hold, close the remote stacks, and drop
    /// the owner's reference to `Home`.
    fn drop(&mut self) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leak the cache (`sync::unwind`).
            return;
        }
        let Some(home) = self.home else { return };
        let mut freed = 1; // the owner's own reference
        for class in 0..CLASSES {
            while let Some(hdr) = self.free[class].pop() {
                // SAFETY: idle buffers of ours.
                unsafe { free_buffer(hdr) };
                freed += 1;
            }
            // SAFETY: the owner reference keeps `home` alive.
            let stack = &unsafe { home.as_ref() }.remote[class];
            // Acquire: as in `take_remote`: the pushes happen before we free the chain.
            // After this swap every push sees `CLOSED` and frees its buffer itself.
            let mut node = stack.swap(CLOSED, Ordering::Acquire);
            while let Some(hdr) = NonNull::new(node) {
                // SAFETY: the swap gave us the chain.
                node = unsafe { next_of(hdr) };
                // SAFETY: an idle buffer nobody else references.
                unsafe { free_buffer(hdr) };
                freed += 1;
            }
        }
        // SAFETY: `freed` counts the buffers freed above plus the owner's reference.
        unsafe { release_home(home, freed) };
    }
}

/// Returns a buffer whose last handle dropped: to our pool if it is ours, else to its
/// owner's remote stack (or to the allocator, if the owner has exited).
fn recycle(hdr: NonNull<Header>) {
    // SAFETY: we hold the only reference; `home` is immutable.
    let home = unsafe { hdr.as_ref() }.home;
    let local = LOCAL.try_with(|l| match l.try_borrow_mut() {
        Ok(mut l) if l.home == Some(home) => {
            l.give_back(hdr);
            true
        }
        _ => false,
    });
    if matches!(local, Ok(true)) {
        return;
    }
    // SAFETY: we hold the only reference to the buffer.
    let h = unsafe { hdr.as_ref() };
    // SAFETY: our buffer counts in `home.live`, which keeps `home` alive.
    let stack = &unsafe { home.as_ref() }.remote[h.class];
    // Relaxed: only the CAS's first guess.
    let mut head = stack.load(Ordering::Relaxed);
    loop {
        if head == CLOSED {
            // SAFETY: the only reference; then one buffer fewer for `home`.
            unsafe {
                free_buffer(hdr);
                release_home(home, 1);
            }
            return;
        }
        h.next.with_mut(|p| {
            // SAFETY: the buffer is not yet on the stack: only we touch `next`.
            unsafe { *p = head }
        });
        // Release: pairs with the owner's Acquire swap (`take_remote`, `Local::drop`):
        // our write of `next` and our reads of the payload happen before its reuse.
        // Relaxed on failure: we retry with the value read.
        match stack.compare_exchange_weak(head, hdr.as_ptr(), Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => return,
            Err(now) => head = now,
        }
    }
}

/// A handle on a pool buffer holding `len` payload bytes. Cloning shares the buffer.
pub(crate) struct PoolBuf {
    hdr: NonNull<Header>,
    len: usize,
}

// SAFETY: the payload is immutable while the buffer is shared, `refs` is atomic, and the
// return path (`recycle`) is safe from any thread.
unsafe impl Send for PoolBuf {}
// SAFETY: `&PoolBuf` only reads the immutable payload.
unsafe impl Sync for PoolBuf {}

impl PoolBuf {
    /// A pool buffer holding a copy of `bytes`; `None` if `bytes` is larger than
    /// [`POOL_MAX`] or this thread's pool is gone (the thread is exiting).
    pub(crate) fn copy_from_slice(bytes: &[u8]) -> Option<PoolBuf> {
        let class = class_of(bytes.len())?;
        let hdr = LOCAL
            .try_with(|l| l.try_borrow_mut().ok().map(|mut l| l.take(class)))
            .ok()
            .flatten()?;
        // SAFETY: the buffer is ours and unshared (refs = 1, just handed out).
        unsafe { hdr.as_ref() }.payload.with_mut(|_| ());
        // SAFETY: the payload holds at least `1 << (MIN_SHIFT + class)` >= len bytes, and
        // no other handle exists.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), payload_ptr(hdr), bytes.len()) };
        Some(PoolBuf {
            hdr,
            len: bytes.len(),
        })
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: our handle keeps the buffer alive.
        unsafe { self.hdr.as_ref() }.payload.with(|_| ());
        // SAFETY: `len` bytes were written before this handle (or the one it was cloned
        // from) existed, and nobody writes them while a handle lives.
        unsafe { std::slice::from_raw_parts(payload_ptr(self.hdr), self.len) }
    }
}

impl Clone for PoolBuf {
    fn clone(&self) -> Self {
        // Relaxed: as `Arc::clone`: a new handle made from a live one; the buffer cannot
        // be recycled in between.
        // SAFETY: our handle keeps the buffer alive.
        unsafe { self.hdr.as_ref() }
            .refs
            .fetch_add(1, Ordering::Relaxed);
        PoolBuf {
            hdr: self.hdr,
            len: self.len,
        }
    }
}

impl Drop for PoolBuf {
    fn drop(&mut self) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leak the buffer (`sync::unwind`).
            return;
        }
        // SAFETY: our handle keeps the buffer alive until we recycle it.
        let refs = &unsafe { self.hdr.as_ref() }.refs;
        // Acquire: pairs with the Release decrement of every other handle, so their
        // reads of the payload happen before our recycling. Seeing 1 means ours is the
        // only handle: nobody can clone it concurrently, so no decrement is needed.
        if refs.load(Ordering::Acquire) != 1 {
            // AcqRel: Release orders our payload reads before the last handle's
            // recycling; Acquire (when we are last) pairs with the others' Release.
            if refs.fetch_sub(1, Ordering::AcqRel) != 1 {
                return;
            }
        }
        recycle(self.hdr);
    }
}

impl std::fmt::Debug for PoolBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolBuf").field("len", &self.len).finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(64), Some(0));
        assert_eq!(class_of(65), Some(1));
        assert_eq!(class_of(1024), Some(4));
        assert_eq!(class_of(POOL_MAX), Some(CLASSES - 1));
        assert_eq!(class_of(POOL_MAX + 1), None);
        for len in [1, 63, 64, 65, 1000, 4097, POOL_MAX] {
            let c = class_of(len).unwrap();
            assert!(len <= 1 << (MIN_SHIFT as usize + c));
        }
    }

    #[test]
    fn buffers_come_back_to_their_thread() {
        let a = PoolBuf::copy_from_slice(&[1; 100]).unwrap();
        let first = a.hdr;
        drop(a);
        let b = PoolBuf::copy_from_slice(&[2; 100]).unwrap();
        assert_eq!(b.hdr, first, "a buffer dropped on its own thread is reused");
        assert_eq!(b.as_slice(), &[2; 100][..]);
        let c = b.clone();
        std::thread::spawn(move || assert_eq!(c.as_slice(), &[2; 100][..]))
            .join()
            .unwrap();
        std::thread::spawn(move || drop(b)).join().unwrap();
        // The remote drop pushed it on our remote stack; the local list is empty.
        let d = PoolBuf::copy_from_slice(&[3; 100]).unwrap();
        assert_eq!(
            d.hdr, first,
            "a buffer dropped on another thread comes back"
        );
        assert_eq!(d.as_slice(), &[3; 100][..]);
    }

    #[test]
    fn buffers_outliving_their_thread_are_freed() {
        let bufs: Vec<PoolBuf> = std::thread::spawn(|| {
            (0..50)
                .map(|i| PoolBuf::copy_from_slice(&[i as u8; 200]).unwrap())
                .collect()
        })
        .join()
        .unwrap();
        for (i, b) in bufs.iter().enumerate() {
            assert_eq!(b.as_slice(), &[i as u8; 200][..]);
        }
        // The owner has exited: these drops find CLOSED and free (Miri checks no leak).
        drop(bufs);
    }
}
