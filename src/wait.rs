//! `Notify`: how a blocked call sleeps and gets woken, without lost wake-ups.
//!
//! Each socket owns one `Notify`, an *event count*: a sequence number that every event
//! concerning the socket bumps (a pipe it reads became non-empty, a pipe it writes got
//! credit back, a peer was attached or left, the context shut down). A call that must
//! wait follows one protocol:
//!
//! 1. `let key = notify.prepare();` (read the sequence number),
//! 2. try the operation (and re-check shutdown); if it succeeds, done,
//! 3. `notify.wait(key, deadline)`: returns at once if the sequence moved since step 1,
//!    otherwise spins briefly, yields, then parks until `wake` or the deadline.
//!
//! An event that happens after step 1 bumps the sequence, so step 3 cannot sleep through
//! it; an event that happened before step 1 is seen by step 2. Waking is cheap when
//! nobody sleeps: one `fetch_add` and one load; the mutex and condition variable are
//! touched only when a thread is (about to be) parked. The pipes call `wake` only when
//! their reader or writer said it was going to sleep (the ypipe protocol in
//! [`crate::pipe::queue`]), so a busy pipe does not touch the `Notify` at all.
//!
//! The same event count is what a poller or an async `Waker` will subscribe to: every
//! reason a socket's readiness can change already funnels through [`Notify::wake`].

use std::task::Waker;
use std::time::Instant;

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Condvar, Mutex, SPIN_LIMIT, YIELD_LIMIT, spin_loop, yield_now};

/// Bit of `Notify::state`: a thread is (about to be) parked on the condition variable.
const SLEEPER: usize = 1;
/// Bit of `Notify::state`: `watchers` is not empty (a poller or an async task waits).
const WATCHED: usize = 2;
/// Both flag bits.
const FLAGS: usize = SLEEPER | WATCHED;
/// One step of the sequence number in `Notify::state`.
const STEP: usize = 4;

/// A sequence number read by [`Notify::prepare`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(usize);

/// An event count with a parking slow path. See the module docs.
///
/// Both the sequence number and the "somebody sleeps" flag live in one word, `state`,
/// so a waker's `fetch_add` and a sleeper's flag-setting CAS are ordered by that word's
/// modification order alone: either the sleeper's CAS sees the new sequence number (and
/// does not sleep), or the waker's `fetch_add` sees the flag (and notifies under the
/// lock). No SeqCst Dekker pair is needed (loom models SeqCst as AcqRel, so a Dekker
/// pair would also be a source of false alarms).
#[derive(Debug)]
pub(crate) struct Notify {
    /// `seq * STEP | WATCHED | SLEEPER`.
    state: AtomicUsize,
    /// Guards the flag-set-then-sleep and clear-then-notify hand-shakes only.
    lock: Mutex<()>,
    cond: Condvar,
    /// Wakers of pollers and async tasks watching this event count, by watch id. Taken
    /// only while registering, and by `wake` when `WATCHED` is set: a socket nobody
    /// watches never touches it.
    watchers: Mutex<Vec<(u64, Waker)>>,
}

impl Notify {
    pub(crate) fn new() -> Self {
        Notify {
            state: AtomicUsize::new(0),
            lock: Mutex::new(()),
            cond: Condvar::new(),
            watchers: Mutex::new(Vec::new()),
        }
    }

    /// Step 1 of the wait protocol.
    pub(crate) fn prepare(&self) -> Key {
        // Acquire: pairs with the AcqRel `fetch_add` in `wake`, so an event signalled up
        // to this sequence number is visible to the caller's re-check (step 2).
        Key(self.state.load(Ordering::Acquire) & !FLAGS)
    }

    /// Has anything been signalled since `key` was read?
    pub(crate) fn changed(&self, key: Key) -> bool {
        // Acquire: as in `prepare`.
        self.state.load(Ordering::Acquire) & !FLAGS != key.0
    }

    /// Signals every waiter. Call after making the awaited condition true.
    pub(crate) fn wake(&self) {
        // AcqRel: Release publishes the caller's condition to waiters that Acquire the
        // new sequence number; the RMW is ordered against the sleeper's flag CAS in
        // `wait` by this word's modification order (see the type docs).
        // A user's loom model (`sync::coarse`): the bump and the notification inside the
        // model-wide section, in which coarse waiters check their key and sleep.
        let coarse = crate::sync::coarse::enter();
        let old = self.state.fetch_add(STEP, Ordering::AcqRel);
        if coarse.is_active() {
            self.cond.notify_all();
        }
        drop(coarse);
        if old & SLEEPER != 0 {
            let _guard = self.lock.lock();
            // Relaxed: under the lock, which every sleeper holds while setting the flag
            // and checking the sequence; sleepers that still need it set it again.
            self.state.fetch_and(!SLEEPER, Ordering::Relaxed);
            self.cond.notify_all();
        }
        if old & WATCHED != 0 {
            // Wake outside the lock: a waker may run arbitrary code. A user's waker that
            // panics (in `clone`, `wake` or its drop) must not make this caller (a
            // sender whose message was delivered, a close, a shutdown) panic, nor keep
            // the other watchers from being woken: each call is contained.
            let wakers: Vec<Waker> = self
                .watchers
                .lock()
                .iter()
                .filter_map(|(_, w)| contain(|| w.clone()))
                .collect();
            for w in wakers {
                let _ = contain(move || w.wake());
            }
        }
    }

    /// Registers (or replaces) watcher `id`: `waker` is woken by every later `wake`,
    /// until [`Notify::unwatch`]. As with `wait`, the caller must re-check its condition
    /// after registering (or compare a key from `prepare` with `changed`): a wake that
    /// came before the registration is not replayed.
    pub(crate) fn watch(&self, id: u64, waker: &Waker) {
        let mut list = self.watchers.lock();
        match list.iter_mut().find(|(i, _)| *i == id) {
            Some((_, w)) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
            }
            None => list.push((id, waker.clone())),
        }
        // AcqRel: Release orders the list update (also under the lock) before a `wake`
        // whose `fetch_add` sees the flag; the flag and the sequence number share one
        // word, so a wake either sees the flag or comes before it in that word's order
        // (and the caller's re-check sees its sequence number).
        self.state.fetch_or(WATCHED, Ordering::AcqRel);
    }

    /// Removes watcher `id` (no-op if absent).
    pub(crate) fn unwatch(&self, id: u64) {
        let mut list = self.watchers.lock();
        list.retain(|(i, _)| *i != id);
        if list.is_empty() {
            // Release: a `wake` that still sees the flag finds the list empty, harmless.
            self.state.fetch_and(!WATCHED, Ordering::Release);
        }
    }

    /// Step 3 of the wait protocol: waits until the sequence moves past `key` or until
    /// `deadline`. Returns `false` if the deadline passed first. Spurious `true` returns
    /// are possible; callers re-check their condition in a loop.
    // Under the checkers both limits are 0: no spin or yield phase, the wait goes straight
    // to the sleeper hand-shake (clippy sees the empty ranges).
    #[cfg_attr(any(loom, shuttle), allow(clippy::reversed_empty_ranges))]
    pub(crate) fn wait(&self, key: Key, deadline: Option<Instant>) -> bool {
        // A user's loom model (`sync::coarse`): check and sleep inside the model-wide
        // section; `wake` bumps and notifies inside it too, so nothing is lost.
        let mut coarse = crate::sync::coarse::enter();
        if coarse.is_outer() {
            loop {
                if self.changed(key) {
                    return true;
                }
                if deadline.is_some() {
                    // Time is not modelled: a deadline fires where the call would sleep.
                    return false;
                }
                coarse.wait(&self.cond);
            }
        }
        // Every wait starts outside coarse sections (blocking calls leave theirs first);
        // one nested in a section could not release it, and would hang the model.
        assert!(
            !coarse.is_active(),
            "inproc: a wait inside a coarse section (sync::coarse)"
        );
        drop(coarse);
        for _ in 0..SPIN_LIMIT {
            if self.changed(key) {
                return true;
            }
            spin_loop();
        }
        for _ in 0..YIELD_LIMIT {
            if self.changed(key) {
                return true;
            }
            yield_now();
        }
        let mut guard = self.lock.lock();
        loop {
            // Announce the sleeper, unless the sequence already moved.
            // Relaxed: only the CAS expectation; the CAS is the synchronising access.
            let mut cur = self.state.load(Ordering::Relaxed);
            loop {
                if cur & !FLAGS != key.0 {
                    return true;
                }
                if cur & SLEEPER != 0 {
                    break;
                }
                // Acquire (both): if it fails we re-check a newer value that a `wake`
                // released; on success, the flag is ordered before any later `fetch_add`.
                match self.state.compare_exchange(
                    cur,
                    cur | SLEEPER,
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
            match deadline {
                None => guard = self.cond.wait(guard),
                Some(d) => {
                    if crate::sync::MODEL_BUILD || Instant::now() >= d {
                        // Model builds do not model time: a deadline fires at once.
                        return self.changed(key);
                    }
                    guard = self.cond.wait_until(guard, d);
                    if Instant::now() >= d {
                        return self.changed(key);
                    }
                }
            }
        }
    }
}

/// Runs `f`, a call into a user's `Waker`, and swallows a panic out of it (its message
/// was printed by the panic hook): `None` if it panicked. In model builds `f` runs as
/// is, so that a checker's own panics (a deadlock report) are not caught.
fn contain<R>(f: impl FnOnce() -> R) -> Option<R> {
    if crate::sync::MODEL_BUILD {
        return Some(f());
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            // Even the payload's drop is user code; a panic in it is swallowed (and its
            // own payload leaked rather than dropped).
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload)))
            {
                std::mem::forget(p);
            }
            None
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn wake_before_wait_is_not_lost() {
        let n = Notify::new();
        let key = n.prepare();
        n.wake();
        assert!(n.wait(key, None));
    }

    #[test]
    fn deadline_expires_without_wake() {
        let n = Notify::new();
        let key = n.prepare();
        let d = Instant::now() + Duration::from_millis(5);
        assert!(!n.wait(key, Some(d)));
        assert!(Instant::now() >= d);
    }

    #[test]
    fn wake_from_other_thread_unparks() {
        let n = Arc::new(Notify::new());
        let key = n.prepare();
        let n2 = n.clone();
        let t = std::thread::spawn(move || n2.wake());
        assert!(n.wait(key, None));
        t.join().unwrap();
    }
}
