//! `Latest`: a single-slot, keep-the-newest direction of a pipe (ZMQ_CONFLATE, reference
//! rule 59). After libzmq's `ypipe_conflate`, but lock-free (libzmq's uses a mutex and
//! silently loses a write when its `try_lock` fails).
//!
//! One atomic pointer holds the newest message, null (empty, reader awake) or the
//! `ASLEEP` sentinel (empty, reader going to sleep). The writer swaps its message in: the
//! old value is either an older message (dropped: conflation), null, or `ASLEEP`, in which
//! case the caller must wake the reader. The reader swaps a message out, or moves null to
//! `ASLEEP` by CAS; as in the queue, the two RMWs on one word make a lost wake-up
//! impossible. The HWM does not apply: the slot never holds more than one message.

use crate::msg::Message;
use crate::pipe::queue::Publish;
use crate::sync::atomic::{AtomicPtr, Ordering};
use crate::sync::{Tracked, UnsafeCell};

/// One boxed message.
struct Node {
    /// Written before the node is published; moved out by the reader (or by `Drop`).
    msg: UnsafeCell<Option<Message>>,
    _tracked: Tracked,
}

/// The "reader asleep" sentinel. Never dereferenced.
fn asleep() -> *mut Node {
    std::ptr::dangling_mut::<Node>()
}

/// See the module docs.
pub(crate) struct Latest {
    slot: AtomicPtr<Node>,
}

// SAFETY: a node moves from the writer to the reader through `slot`; `Message` is `Send`.
unsafe impl Send for Latest {}
// SAFETY: as above; all shared access is through the atomic.
unsafe impl Sync for Latest {}

impl Latest {
    pub(crate) fn new() -> Self {
        Latest {
            slot: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Replaces the held message (if any) with `msg`.
    pub(crate) fn write(&self, msg: Message) -> Publish {
        let node = Box::into_raw(Box::new(Node {
            msg: UnsafeCell::new(Some(msg)),
            _tracked: Tracked::new(),
        }));
        // AcqRel: Release publishes the node to the reader's Acquire; Acquire lets us free
        // an older node the reader never took (its contents were written by us anyway) and
        // pairs with the reader's CAS that set ASLEEP.
        let old = self.slot.swap(node, Ordering::AcqRel);
        if old == asleep() {
            return Publish::WakeReader;
        }
        if !old.is_null() {
            // SAFETY: a message node we replaced is owned by us now: the reader only takes
            // nodes it swaps out itself.
            drop(unsafe { Box::from_raw(old) });
        }
        Publish::Done
    }

    /// Takes the newest message, or registers the reader as asleep and returns `None`.
    pub(crate) fn read(&self) -> Option<Message> {
        // Acquire: pairs with the writer's Release swap.
        let mut cur = self.slot.load(Ordering::Acquire);
        loop {
            if cur == asleep() {
                return None;
            }
            if cur.is_null() {
                // AcqRel (success): Release orders the reader's wake registration before
                // the writer's swap that sees ASLEEP. Acquire (failure): a message arrived.
                match self
                    .slot
                    .compare_exchange(cur, asleep(), Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return None,
                    Err(actual) => {
                        cur = actual;
                        continue;
                    }
                }
            }
            // A message is there; the writer can only replace it with a newer one, never
            // with null or ASLEEP, so the swap returns a message node.
            // AcqRel: Acquire for the node's contents; Release keeps the slot's history
            // ordered for the writer's next swap.
            let node = self.slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
            debug_assert!(!node.is_null() && node != asleep());
            // SAFETY: we swapped the node out: it is ours; its message was written before
            // its publication, which our Acquire observed.
            let node = unsafe { Box::from_raw(node) };
            // SAFETY: exclusive ownership of the node.
            return node.msg.with_mut(|p| unsafe { (*p).take() });
        }
    }

    /// Is a message waiting? (Never sleeps.)
    pub(crate) fn readable(&self) -> bool {
        // Acquire: as in `read`.
        let cur = self.slot.load(Ordering::Acquire);
        !cur.is_null() && cur != asleep()
    }
}

impl Drop for Latest {
    fn drop(&mut self) {
        // Relaxed: `&mut self`, no other thread can access the slot.
        let cur = self.slot.load(Ordering::Relaxed);
        if !cur.is_null() && cur != asleep() {
            // SAFETY: the remaining node is owned by the slot.
            drop(unsafe { Box::from_raw(cur) });
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_and_wakes_a_sleeper() {
        let l = Latest::new();
        assert_eq!(l.read(), None);
        assert_eq!(l.write(Message::from("1")), Publish::WakeReader);
        assert_eq!(l.write(Message::from("2")), Publish::Done);
        assert!(l.readable());
        assert_eq!(l.read(), Some(Message::from("2")));
        assert_eq!(l.read(), None);
        let _ = l.write(Message::from("left over"));
    }
}
