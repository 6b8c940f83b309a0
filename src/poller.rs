//! `Poller`: wait until one of several sockets is readable or writable (`zmq_poll`).
//!
//! ```
//! # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
//! use inproc::{Context, Interest, Poller, SocketType};
//! let ctx = Context::new();
//! let (a, b) = (ctx.socket(SocketType::Pair)?, ctx.socket(SocketType::Pair)?);
//! a.bind("inproc://poll-doc")?;
//! b.connect("inproc://poll-doc")?;
//! let mut poller = Poller::new();
//! let ta = poller.add(&a, Interest::READABLE);
//! let tb = poller.add(&b, Interest::READABLE | Interest::WRITABLE);
//! b.send("hello")?;
//! let events = poller.wait(None)?; // `a` is readable now, `b` writable
//! assert!(events.iter().any(|e| e.token == ta && e.readable));
//! assert!(events.iter().any(|e| e.token == tb && e.writable && !e.readable));
//! assert_eq!(a.recv()?, "hello".into());
//! # Ok::<(), inproc::Error>(())
//! ```
//!
//! # Semantics
//!
//! - A `Poller<'a>` borrows its sockets (any types, from any contexts). [`Poller::add`]
//!   registers one with an [`Interest`] and returns its *token*, the index of the
//!   registration (0, 1, 2, ... in `add` order).
//! - [`Poller::wait`] is **level-triggered**, like `zmq_poll`: it reports every
//!   registered socket that is ready *now*, one [`Event`] per ready registration, in
//!   token order. A message that is not received is reported again by the next `wait`.
//!   `wait(Some(Duration::ZERO))` only looks; `wait(None)` waits until something is
//!   ready; on a timeout, `wait` returns an **empty** slice (not an error).
//! - Readable means [`Socket::readable`]: the next `try_recv` returns a message. The
//!   check receives that message into a one-message stash that the next receive returns
//!   first, so it is exact for every pattern. For REQ (and REP) the check therefore takes
//!   the reply (the request) out of the pipes: until the application receives it the
//!   socket is not writable and `send` is `InvalidState`, as it would be without the
//!   check. Writable means [`Socket::writable`]: a send would not wait (PUB, XPUB, XSUB
//!   and ROUTER always; PULL and SUB never; the others when a peer has room and, for REQ
//!   and REP, when it is their turn to send).
//! - If the context of any registered socket is shut down, `wait` (including one already
//!   waiting) returns [`Error::Terminated`].
//!
//! # How it waits
//!
//! Each registration owns a waker ([`std::task::Wake`]) that is registered with the
//! socket's event count (`Notify::watch`) at `add` and removed when the `Poller` drops.
//! Every event that can change a socket's readiness wakes it; the waker marks its entry
//! *dirty* (a flag, and the entry's index in a shared list the first time) and wakes the
//! poller's own event count. So:
//!
//! - a socket that is ready is reported without any system call: `wait` first checks,
//!   and only if nothing is ready does it sleep. It reads its event count *before* it
//!   checks and sleeps only if the count has not moved since, so no wake-up is lost;
//! - waiting costs nothing while idle (the thread is parked);
//! - a wake-up costs in proportion to the entries that had an event, not to the number
//!   registered: after its first pass, `wait` re-checks only the dirty entries, entries
//!   added since, and the entries it reported ready last time (level triggering), never
//!   the idle rest.
//!
//! A dirty flag is cleared (with an `AcqRel` swap) before its entry is checked: an event
//! that comes after the check sets it again and re-queues the entry; one that came
//! before the clear is visible to the check, because the waker's own swap on the flag
//! follows the event and the clear reads from that swap.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::socket::Socket;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Mutex, WakeArc};
use crate::wait::Notify;

/// What a registration waits for: [`Interest::READABLE`], [`Interest::WRITABLE`], or both
/// (`Interest::READABLE | Interest::WRITABLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// A message can be received (ZMQ_POLLIN).
    pub const READABLE: Interest = Interest(1);
    /// A message can be sent without waiting (ZMQ_POLLOUT).
    pub const WRITABLE: Interest = Interest(2);

    /// Does it include [`Interest::READABLE`]?
    pub fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// Does it include [`Interest::WRITABLE`]?
    pub fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

/// A ready registration, as reported by [`Poller::wait`]: `token` is what
/// [`Poller::add`] returned; `readable` and `writable` say which of the registered
/// interests hold now (at least one is `true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    /// The registration's token.
    pub token: usize,
    /// The socket has a message to receive (asked for and true).
    pub readable: bool,
    /// A send would not wait (asked for and true).
    pub writable: bool,
}

/// What the poller shares with its entries' wakers.
#[derive(Debug)]
struct Shared {
    /// Woken by every entry waker; the poller sleeps on it.
    notify: Notify,
    /// Indexes of entries whose dirty flag went from clear to set, in that order.
    dirty: Mutex<Vec<usize>>,
}

/// One registration's waker (see the module docs).
#[derive(Debug)]
struct EntryWaker {
    shared: Arc<Shared>,
    index: usize,
    /// Set by a wake, cleared by the poller before it re-checks the entry.
    dirty: AtomicBool,
}

impl std::task::Wake for EntryWaker {
    fn wake(self: WakeArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &WakeArc<Self>) {
        // AcqRel: Release orders the socket event that led here before the poller's
        // clearing swap, which reads from this one (or a later one) if it comes after;
        // Acquire orders a clear we read before our push.
        if !self.dirty.swap(true, Ordering::AcqRel) {
            self.shared.dirty.lock().push(self.index);
        }
        self.shared.notify.wake();
    }
}

/// One registered socket.
#[derive(Debug)]
struct Entry<'a> {
    socket: &'a Socket,
    interest: Interest,
    watch_id: u64,
    waker: WakeArc<EntryWaker>,
    /// Taken out by [`Poller::remove`]: no longer watched, checked or reported (its
    /// token is not reused).
    removed: bool,
}

/// Waits on several sockets at once, level-triggered like `zmq_poll`: [`Poller::add`]
/// registers a socket (any type, any context) with an [`Interest`] and returns its token
/// (its index, in `add` order); [`Poller::wait`] reports one [`Event`] per registration
/// that is ready now ([`Socket::readable`], [`Socket::writable`]), an empty slice on a
/// timeout, and [`Error::Terminated`] once a registered socket's context is shut down.
/// A wake-up re-checks only the registrations whose socket signalled an event (and those
/// ready last time), so idle registrations cost nothing. SPEC.md section 5d (W-1 to W-8)
/// has the rules; [`Poller::remove`] and [`Poller::modify`] change registrations.
///
/// The poller borrows its sockets (`Poller<'a>`), so they must outlive it. To keep a
/// poller and its sockets together (in a struct, or moved into a thread), own the
/// sockets (in a `Vec<Socket>`, or `Arc<Socket>` clones when other threads use them too)
/// and build the poller from references where it is used, for instance at the top of
/// the thread's loop or of the function that waits: making a `Poller` is cheap (one
/// allocation, plus one watcher per `add`).
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
/// use std::sync::Arc;
/// use inproc::{Context, Interest, Poller, SocketType};
/// let ctx = Context::new();
/// let jobs = Arc::new(ctx.socket(SocketType::Pull)?);
/// let control = Arc::new(ctx.socket(SocketType::Pull)?);
/// jobs.bind("inproc://owning-jobs")?;
/// control.bind("inproc://owning-ctl")?;
/// let worker = {
///     let (jobs, control) = (jobs.clone(), control.clone());
///     std::thread::spawn(move || -> Result<usize, inproc::Error> {
///         // The thread owns its `Arc`s; the poller borrows them for the loop.
///         let mut poller = Poller::new();
///         let tj = poller.add(&jobs, Interest::READABLE);
///         let tc = poller.add(&control, Interest::READABLE);
///         let mut done = 0;
///         loop {
///             for ev in poller.wait(None)?.to_vec() {
///                 if ev.token == tj { jobs.recv()?; done += 1; }
///                 if ev.token == tc { return Ok(done); }
///             }
///         }
///     })
/// };
/// let push = ctx.socket(SocketType::Push)?;
/// push.connect("inproc://owning-jobs")?;
/// push.send("job")?;
/// let stop = ctx.socket(SocketType::Push)?;
/// stop.connect("inproc://owning-ctl")?;
/// stop.send("stop")?;
/// // Both may be ready in one `wait`: the job comes first (token order), else it is
/// // still queued when the worker stops.
/// let done = worker.join().unwrap()?;
/// assert_eq!(done + jobs.try_recv().map_or(0, |_| 1), 1);
/// # Ok::<(), inproc::Error>(())
/// ```
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
/// use inproc::{Context, Interest, Poller, SocketType};
/// use std::time::Duration;
/// let ctx = Context::new();
/// let pull = ctx.socket(SocketType::Pull)?;
/// pull.bind("inproc://poller-type-doc")?;
/// let mut poller = Poller::new();
/// poller.add(&pull, Interest::READABLE);
/// // Nothing to read: a zero timeout reports nothing.
/// assert!(poller.wait(Some(Duration::ZERO))?.is_empty());
/// # Ok::<(), inproc::Error>(())
/// ```
pub struct Poller<'a> {
    entries: Vec<Entry<'a>>,
    shared: Arc<Shared>,
    /// What the last `wait` returned.
    events: Vec<Event>,
    /// Entries the next pass must check besides the dirty ones: entries added since the
    /// last pass, and those reported ready by it (level triggering).
    carry: Vec<usize>,
    /// Readiness checks made so far (diagnostics: see [`Poller::readiness_checks`]).
    checks: u64,
}

impl std::fmt::Debug for Poller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("entries", &self.entries.len())
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Default for Poller<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Poller<'a> {
    /// An empty poller.
    pub fn new() -> Self {
        Poller {
            entries: Vec::new(),
            shared: Arc::new(Shared {
                notify: Notify::new(),
                dirty: Mutex::new(Vec::new()),
            }),
            events: Vec::new(),
            carry: Vec::new(),
            checks: 0,
        }
    }

    /// Registers `socket` for `interest` and returns its token (0 for the first `add`,
    /// then 1, 2, ...). The same socket may be added more than once; each registration
    /// is reported on its own.
    pub fn add(&mut self, socket: &'a Socket, interest: Interest) -> usize {
        let index = self.entries.len();
        let waker = WakeArc::new(EntryWaker {
            shared: self.shared.clone(),
            index,
            dirty: AtomicBool::new(false),
        });
        let watch_id = socket.new_watch_id();
        socket.watch(watch_id, &std::task::Waker::from(waker.clone()));
        self.entries.push(Entry {
            socket,
            interest,
            watch_id,
            waker,
            removed: false,
        });
        // Checked by the next pass; events after the `watch` above mark it dirty.
        self.carry.push(index);
        index
    }

    /// Removes registration `token`: its socket is no longer watched and `wait` no
    /// longer reports it. Returns the socket, or `None` if `token` is not a current
    /// registration (never returned by [`Poller::add`], or removed already). Tokens are
    /// not reused: later `add`s get new ones.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, Interest, Poller, SocketType};
    /// use std::time::Duration;
    /// let ctx = Context::new();
    /// let (a, b) = (ctx.socket(SocketType::Pair)?, ctx.socket(SocketType::Pair)?);
    /// a.bind("inproc://poller-remove-doc")?;
    /// b.connect("inproc://poller-remove-doc")?;
    /// let mut poller = Poller::new();
    /// let ta = poller.add(&a, Interest::READABLE);
    /// let tb = poller.add(&b, Interest::WRITABLE);
    /// assert_eq!(poller.wait(Some(Duration::ZERO))?.len(), 1); // b is writable
    /// poller.remove(tb);
    /// assert!(poller.wait(Some(Duration::ZERO))?.is_empty());
    /// // Now wait for `a` to be writable instead of readable.
    /// assert!(poller.modify(ta, Interest::WRITABLE));
    /// assert_eq!(poller.wait(Some(Duration::ZERO))?[0].token, ta);
    /// # Ok::<(), inproc::Error>(())
    /// ```
    pub fn remove(&mut self, token: usize) -> Option<&'a Socket> {
        let e = self.entries.get_mut(token).filter(|e| !e.removed)?;
        e.removed = true;
        e.socket.unwatch(e.watch_id);
        // Not reported again (a stale index in `carry` or the dirty list is skipped).
        self.events.retain(|ev| ev.token != token);
        Some(e.socket)
    }

    /// Changes what registration `token` waits for; the next `wait` checks it with the
    /// new interest. Returns `false` (and changes nothing) if `token` is not a current
    /// registration.
    pub fn modify(&mut self, token: usize, interest: Interest) -> bool {
        let Some(e) = self.entries.get_mut(token).filter(|e| !e.removed) else {
            return false;
        };
        e.interest = interest;
        self.carry.push(token);
        true
    }

    /// The number of current registrations (added and not removed).
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| !e.removed).count()
    }

    /// Is nothing registered (nothing added, or everything removed)?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The socket registered under `token`.
    ///
    /// # Panics
    /// If `token` was not returned by this poller's [`Poller::add`], or was removed.
    pub fn socket(&self, token: usize) -> &'a Socket {
        let e = &self.entries[token];
        assert!(!e.removed, "Poller::socket: token {token} was removed");
        e.socket
    }

    /// Total readiness checks this poller has made (one per registration looked at by a
    /// pass of [`Poller::wait`]). Diagnostics for tests of the wake-up cost.
    #[doc(hidden)]
    pub fn readiness_checks(&self) -> u64 {
        self.checks
    }

    /// Waits until at least one registration is ready or `timeout` passes, and returns
    /// every registration that is ready now (level-triggered; see the module docs).
    /// `Some(Duration::ZERO)` only looks; `None` waits as long as it takes. The slice is
    /// empty when the timeout passed with nothing ready.
    ///
    /// # Errors
    /// [`Error::Terminated`] when the context of a registered socket has been shut down
    /// (also for a `wait` already waiting); [`Error::InvalidArgument`] for `wait(None)`
    /// with nothing registered (it could never return).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<&[Event], Error> {
        self.events.clear();
        if self.is_empty() && timeout.is_none() {
            return Err(Error::InvalidArgument(
                "Poller::wait(None) with no socket registered would never return",
            ));
        }
        let now_only = timeout.is_some_and(|t| t.is_zero());
        let deadline = match timeout {
            Some(t) if !t.is_zero() => Instant::now().checked_add(t),
            _ => None,
        };
        let mut todo = std::mem::take(&mut self.carry);
        loop {
            // Before the checks: a wake after this point makes `wait` below return.
            let key = self.shared.notify.prepare();
            let dirty = std::mem::take(&mut *self.shared.dirty.lock());
            for i in dirty {
                // AcqRel: see `EntryWaker::wake_by_ref`; cleared before the check.
                self.entries[i].waker.dirty.swap(false, Ordering::AcqRel);
                todo.push(i);
            }
            todo.sort_unstable();
            todo.dedup();
            for (n, &i) in todo.iter().enumerate() {
                let e = &self.entries[i];
                if e.removed {
                    continue;
                }
                if e.socket.is_terminated() {
                    // Keep the unchecked rest (and this one) for the next call.
                    self.carry = todo[n..].to_vec();
                    self.carry.extend(self.events.iter().map(|ev| ev.token));
                    self.events.clear();
                    return Err(Error::Terminated);
                }
                self.checks += 1;
                let readable = e.interest.is_readable() && e.socket.readable();
                let writable = e.interest.is_writable() && e.socket.writable();
                if readable || writable {
                    self.events.push(Event {
                        token: i,
                        readable,
                        writable,
                    });
                }
            }
            todo.clear();
            if !self.events.is_empty() {
                self.carry = self.events.iter().map(|ev| ev.token).collect();
                return Ok(&self.events);
            }
            if now_only {
                return Ok(&self.events);
            }
            // `false`: the deadline passed (at once in model builds, which have no time).
            if !self.shared.notify.wait(key, deadline) {
                return Ok(&self.events);
            }
        }
    }
}

impl Drop for Poller<'_> {
    fn drop(&mut self) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leave the watchers registered (see `sync::unwind`).
            return;
        }
        for e in self.entries.iter().filter(|e| !e.removed) {
            e.socket.unwatch(e.watch_id);
        }
    }
}
