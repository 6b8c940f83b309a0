//! `Inbox`: how a connecting thread hands a new pipe end to a bound socket.
//!
//! libzmq posts a `bind` command to the binder's mailbox; we push the binder's
//! [`PipeEnd`] onto a lock-free stack (Treiber push, whole-list `swap` to take) that the
//! binder drains at the start of its next call, then wake its `Notify`. Closing the socket
//! **seals** the inbox: one `swap` takes whatever was pushed and installs a sentinel that
//! makes every later push fail, so a connector racing the close either lands before the
//! seal (and the closing socket closes that pipe, like a connect followed by a close) or
//! is told to look the name up again (and finds it released, like a close followed by a
//! connect). No pipe can be stranded in the inbox of a closed socket.
//!
//! The stack needs no memory reclamation: nodes are only ever taken as a whole list by
//! the single consumer, so no thread dereferences a node another thread may free.

use crate::pipe::PipeEnd;
use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::sync::{Tracked, UnsafeCell};

/// One pushed end.
struct Node {
    /// Written by the pusher before the node is published; moved out by the drainer.
    end: UnsafeCell<Option<PipeEnd>>,
    /// The node pushed before this one. Written before publication; read-only after.
    next: *mut Node,
    /// Lets loom report a node that is never freed.
    _tracked: Tracked,
}

/// The sentinel head of a sealed inbox. Never dereferenced.
fn sealed() -> *mut Node {
    std::ptr::dangling_mut::<Node>()
}

/// [`Inbox::exclusive`]: the socket takes any number of connections.
const SHARED: usize = 0;
/// [`Inbox::exclusive`]: a PAIR without a peer.
const FREE: usize = 1;
/// [`Inbox::exclusive`]: a PAIR with a peer (it refuses further connections, D-5).
const TAKEN: usize = 2;

/// A multi-producer, single-consumer hand-over of pipe ends. See the module docs.
pub(crate) struct Inbox {
    /// Newest pushed node (null: empty; `sealed()`: closed).
    head: AtomicPtr<Node>,
    /// For a PAIR: whether it has a peer (`FREE` / `TAKEN`), as of its last change;
    /// `SHARED` for the other types. A hint that lets `Socket::monitor` refuse an
    /// endpoint whose PAIR would refuse the monitor's connection (S-3).
    exclusive: AtomicUsize,
}

// SAFETY: nodes are owned by the stack between a successful push and the swap that takes
// them; `PipeEnd` is `Send`.
unsafe impl Send for Inbox {}
// SAFETY: as above; all shared access is through `head`.
unsafe impl Sync for Inbox {}

impl Inbox {
    pub(crate) fn new() -> Self {
        Inbox {
            head: AtomicPtr::new(std::ptr::null_mut()),
            exclusive: AtomicUsize::new(SHARED),
        }
    }

    /// The inbox of a PAIR, which takes one peer at a time (see [`Inbox::refuses_more`]).
    pub(crate) fn new_exclusive() -> Self {
        Inbox {
            head: AtomicPtr::new(std::ptr::null_mut()),
            exclusive: AtomicUsize::new(FREE),
        }
    }

    /// A PAIR records whether it has a peer now (call on changes only).
    pub(crate) fn set_taken(&self, taken: bool) {
        // Relaxed: a hint read by `refuses_more`; it publishes no data.
        self.exclusive
            .store(if taken { TAKEN } else { FREE }, Ordering::Relaxed);
    }

    /// Would a connection pushed now be refused, as far as can be told without the
    /// socket: a PAIR that has a peer, or one that has connections waiting in the
    /// inbox (the first of which it will take)? A hint: a PAIR whose peer left
    /// counts as taken until its own next call notices.
    pub(crate) fn refuses_more(&self) -> bool {
        // Relaxed: a hint (see `set_taken`).
        match self.exclusive.load(Ordering::Relaxed) {
            TAKEN => true,
            FREE => self.has_items(),
            _ => false,
        }
    }

    /// Pushes `end`; gives it back if the inbox is sealed (its socket closed).
    pub(crate) fn push(&self, end: PipeEnd) -> Result<(), PipeEnd> {
        let node = Box::into_raw(Box::new(Node {
            end: UnsafeCell::new(Some(end)),
            next: std::ptr::null_mut(),
            _tracked: Tracked::new(),
        }));
        // Acquire: if this is the sealed sentinel, it pairs with the Release half of the
        // sealing `swap`, so the caller's next registry lookup sees the names the closing
        // socket released before sealing (without it a connector could spin on a stale
        // registry snapshot; loom found that).
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head == sealed() {
                // SAFETY: `node` was never published; we still own it.
                let node = unsafe { Box::from_raw(node) };
                let end = node.end.with_mut(|p| unsafe {
                    // SAFETY: unpublished node, exclusive access.
                    (*p).take()
                });
                return Err(end.expect("a fresh node holds its end"));
            }
            // SAFETY: `node` is not published yet: exclusive access.
            unsafe { (*node).next = head };
            // Release (success): publishes the node's contents to the Acquire CAS in
            // `drain` / `swap` in `seal`. Acquire (failure): as for the load above.
            match self
                .head
                .compare_exchange(head, node, Ordering::Release, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => head = actual,
            }
        }
    }

    /// Is anything waiting? (A cheap check before [`Inbox::drain`].)
    pub(crate) fn has_items(&self) -> bool {
        // Relaxed: a hint only; `drain`'s Acquire swap is what synchronises.
        let head = self.head.load(Ordering::Relaxed);
        !head.is_null() && head != sealed()
    }

    /// Takes every pushed end, oldest first. (Nothing once sealed.)
    pub(crate) fn drain(&self) -> Vec<PipeEnd> {
        // Relaxed: only a CAS expectation; the successful CAS below is the Acquire.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head.is_null() || head == sealed() {
                return Vec::new();
            }
            // Acquire (success): pairs with the Release CAS in `push`, so every node in the
            // list is fully written. Relaxed (failure): we retry with the new head.
            match self.head.compare_exchange(
                head,
                std::ptr::null_mut(),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                // SAFETY: the CAS made us the sole owner of the list at `head`.
                Ok(_) => return unsafe { Self::collect(head) },
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes every pushed end, oldest first, and makes later pushes fail.
    pub(crate) fn seal(&self) -> Vec<PipeEnd> {
        // AcqRel: Acquire pairs with the Release CAS in `push` (as in `drain`); Release
        // publishes the registry updates made before sealing to pushers that see the
        // sentinel (the Acquire loads in `push`).
        let head = self.head.swap(sealed(), Ordering::AcqRel);
        if head == sealed() {
            return Vec::new();
        }
        // SAFETY: the swap made us the sole owner of the list at `head`.
        unsafe { Self::collect(head) }
    }

    /// Frees the list at `head`, returning its ends oldest first.
    ///
    /// # Safety
    /// The caller owns every node of the list (it unlinked `head` from `self.head`).
    unsafe fn collect(mut head: *mut Node) -> Vec<PipeEnd> {
        let mut out = Vec::new();
        while !head.is_null() {
            // SAFETY: owned by the caller's contract.
            let node = unsafe { Box::from_raw(head) };
            // SAFETY: sole owner; the pusher's writes are visible (Acquire in the caller).
            if let Some(end) = node.end.with_mut(|p| unsafe { (*p).take() }) {
                out.push(end);
            }
            head = node.next;
        }
        out.reverse();
        out
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        drop(self.seal());
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}
