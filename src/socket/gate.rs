//! `Gate`: the exclusive section that makes a `Socket` usable from several threads.
//!
//! A socket's routing state and pipe ends are single-threaded (each pipe end is the one
//! writer and the one reader of its queues). `Socket` is nevertheless `Sync`, so calls from
//! several threads are serialised by this gate: one atomic word, `0` (open), `1` (held)
//! or `2` (held, and somebody waits). A single-threaded user pays one uncontended CAS to
//! enter and one swap to leave; a contended caller waits on the socket's [`Notify`]. The
//! gate is never held while a call waits for a message, for room, or for a peer: blocking
//! calls leave it before they sleep, so a thread blocked in `recv` never stops another
//! thread's `send` on the same socket.

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::wait::Notify;

const OPEN: usize = 0;
const HELD: usize = 1;
const CONTENDED: usize = 2;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Gate {
    state: AtomicUsize,
}

impl Gate {
    pub(crate) fn new() -> Self {
        Gate {
            state: AtomicUsize::new(OPEN),
        }
    }

    /// Enters the exclusive section, waiting on `notify` if another thread is inside.
    pub(crate) fn enter(&self, notify: &Notify) {
        // Acquire: pairs with the Release `swap` in `leave`, so the previous holder's
        // changes to the socket state are visible. Relaxed on failure: we retry.
        if self
            .state
            .compare_exchange(OPEN, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        loop {
            let key = notify.prepare();
            // Acquire: as above. Marking CONTENDED makes the holder's `leave` wake us.
            if self.state.swap(CONTENDED, Ordering::Acquire) == OPEN {
                return;
            }
            notify.wait(key, None);
        }
    }

    /// Leaves the exclusive section, waking waiters if there were any.
    pub(crate) fn leave(&self, notify: &Notify) {
        // Release: pairs with the Acquire in `enter`.
        if self.state.swap(OPEN, Ordering::Release) == CONTENDED {
            notify.wake();
        }
    }
}
