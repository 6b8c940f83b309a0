//! High-water marks and windows: the sequential arithmetic of flow control.
//!
//! A connection's window in one direction is the writer's SNDHWM plus the reader's
//! RCVHWM (libzmq's inproc sum rule, reference rule 34); 0 on either side means
//! unlimited. While a connection is pending, the binder's values are unknown and the
//! connector's window is its own SNDHWM (rule 35). The credit interval (LWM) lives with
//! the queue: [`super::queue::lwm`].

use crate::sync::atomic::{AtomicUsize, Ordering};

/// Marker for "not known yet" (the binder of a pending connection).
const UNKNOWN: usize = usize::MAX;

/// One end's high-water marks, readable by both ends.
#[derive(Debug)]
pub(crate) struct Hwm {
    /// The end's SNDHWM. Written by the end's owner; read by both ends.
    snd: AtomicUsize,
    /// The end's RCVHWM. Written by the end's owner; read by both ends.
    rcv: AtomicUsize,
}

impl Hwm {
    /// The values of a binder that has not bound yet.
    pub(crate) fn unknown() -> Self {
        Hwm::new(UNKNOWN, UNKNOWN)
    }

    pub(crate) fn new(snd: usize, rcv: usize) -> Self {
        Hwm {
            snd: AtomicUsize::new(snd),
            rcv: AtomicUsize::new(rcv),
        }
    }

    pub(crate) fn set(&self, other: Hwm) {
        // Relaxed: the values only size a window; any value that was set is a valid limit,
        // and the wake that follows a change makes the peer re-read it.
        self.snd
            .store(other.snd.load(Ordering::Relaxed), Ordering::Relaxed);
        self.rcv
            .store(other.rcv.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn snd(&self) -> usize {
        // Relaxed: see `set`.
        self.snd.load(Ordering::Relaxed)
    }

    fn rcv(&self) -> usize {
        // Relaxed: see `set`.
        self.rcv.load(Ordering::Relaxed)
    }
}

/// The window from `writer` to `reader` (0 = unlimited).
pub(crate) fn window(writer: &Hwm, reader: &Hwm) -> usize {
    sum_rule(writer.snd(), reader.rcv())
}

/// libzmq's sum rule, with "unknown" for a pending binder.
pub(crate) fn sum_rule(snd: usize, rcv: usize) -> usize {
    match (snd, rcv) {
        (UNKNOWN, _) => 0,
        (s, UNKNOWN) => s,
        (0, _) | (_, 0) => 0,
        (s, r) => s.saturating_add(r),
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use crate::pipe::queue::lwm;

    #[test]
    fn sums_follow_libzmq_rule_34() {
        assert_eq!(sum_rule(1000, 1000), 2000);
        assert_eq!(sum_rule(1, 1), 2);
        assert_eq!(sum_rule(5, 7), 12);
        assert_eq!(sum_rule(0, 1), 0);
        assert_eq!(sum_rule(1, 0), 0);
        assert_eq!(sum_rule(0, 0), 0);
        assert_eq!(sum_rule(5, UNKNOWN), 5);
        assert_eq!(sum_rule(0, UNKNOWN), 0);
    }

    #[test]
    fn lwm_is_half_the_window_rounded_up_rule_38() {
        assert_eq!(lwm(20), 10);
        assert_eq!(lwm(2), 1);
        assert_eq!(lwm(7), 4);
        assert_eq!(lwm(2000), 1000);
        assert_eq!(lwm(1), 1);
    }
}
