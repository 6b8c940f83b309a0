//! `Context`: the registry of endpoint names, the live sockets, and shutdown.

use crate::cow::{CowCell, Version};
use crate::error::Error;
use crate::pmap::PMap;
use crate::reclaim::Domain;
use crate::registry::{Registry, SocketId};
use crate::socket::{Socket, SocketType};
use crate::sync::Arc;
use crate::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::wait::Notify;

/// A ZeroMQ context: the scope of `inproc://` names and the owner of sockets.
///
/// Cheap to clone (all clones are the same context); `Send + Sync`. Two contexts have
/// separate names: a connect in one never reaches a bind in the other.
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
/// use inproc::{Context, SocketType};
/// let ctx = Context::new();
/// let pull = ctx.socket(SocketType::Pull)?;
/// pull.bind("inproc://jobs")?;
/// let push = ctx.socket(SocketType::Push)?;
/// push.connect("inproc://jobs")?;
/// push.send("job 1")?;
/// assert_eq!(pull.recv()?, "job 1".into());
/// # Ok::<(), inproc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    inner: Arc<ContextInner>,
}

/// The shared state behind every clone of a [`Context`] and every socket made from it.
#[derive(Debug)]
pub(crate) struct ContextInner {
    /// Endpoint names.
    pub(crate) registry: Registry,
    /// Sockets that may wait, and their `Notify`, so that shutdown can wake them: a
    /// socket joins before its first call that may wait or watch (`Socket::enlist`) and
    /// leaves at close. A persistent map, so each update copies O(log n) (SPEC 10).
    sockets: CowCell<SocketSet>,
    /// Set once by `shutdown`; checked by every socket call.
    terminated: AtomicBool,
    /// Source of socket ids.
    next_id: AtomicU64,
    /// Sockets of this context not yet closed or dropped (monitors' internal PAIRs
    /// included), for [`Context::terminate`].
    live: AtomicUsize,
    /// Woken when `live` drops to zero; `terminate` sleeps on it.
    all_closed: Notify,
    /// Reclamation for `registry` and `sockets`. Declared last: dropped after them.
    pub(crate) domain: Domain,
}

impl Context {
    /// A new context with no names bound and no sockets.
    pub fn new() -> Self {
        Context {
            inner: Arc::new(ContextInner {
                registry: Registry::new(),
                sockets: CowCell::new(SocketSet {
                    map: PMap::new(),
                    terminated: false,
                }),
                terminated: AtomicBool::new(false),
                next_id: AtomicU64::new(1),
                live: AtomicUsize::new(0),
                all_closed: Notify::new(),
                domain: Domain::new(),
            }),
        }
    }

    /// Creates a socket of type `ty`.
    ///
    /// # Errors
    /// [`Error::Terminated`] after [`Context::shutdown`].
    pub fn socket(&self, ty: SocketType) -> Result<Socket, Error> {
        let _coarse = crate::sync::coarse::enter();
        // Counted live before the shutdown check (see `Context::terminate`).
        self.inner.socket_opened();
        if self.inner.is_terminated() {
            self.inner.socket_closed();
            return Err(Error::Terminated);
        }
        // Relaxed: ids only need to be unique, which the RMW guarantees.
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        // Not yet in the socket set: a socket joins it before its first call that may
        // wait (`Socket::enlist`), so that creating and closing a socket that never
        // waits costs no update of the set.
        Ok(Socket::new(
            self.inner.clone(),
            id,
            ty,
            Arc::new(Notify::new()),
        ))
    }

    /// Shuts the context down: every blocked call on its sockets returns
    /// [`Error::Terminated`] promptly, and so does every later call (socket creation
    /// included), except `close` and drop, which always work. Never blocks; idempotent.
    ///
    /// Unlike libzmq's `zmq_ctx_term`, nothing waits for sockets to close: there is no
    /// reaper and no linger. Memory is freed when the last socket and context handle are
    /// dropped.
    pub fn shutdown(&self) {
        // SeqCst: pairs with the SeqCst loads of `is_terminated`; every waiting call
        // reads the flag after `Notify::prepare`, so the wake below cannot be missed.
        self.inner.terminated.store(true, Ordering::SeqCst);
        // Marks the set terminated by the same compare-and-swap chain that sockets join
        // it by (`ContextInner::add_socket`): either a socket joined first, and this
        // update's version holds it and it is woken below, or this came first and its
        // join fails with `Terminated`. (A flag store and a set read on this side against
        // a set insert and a flag load on the other would be a Dekker pair, which
        // needs SeqCst on all four accesses; loom found the lost wake-up.)
        let notifies = self
            .inner
            .sockets
            .update(&self.inner.domain, |v, txn| {
                let all = v.map.values().cloned().collect::<Vec<_>>();
                let next = SocketSet {
                    map: v.map.edit(txn),
                    terminated: true,
                };
                Ok::<_, ()>((next, all))
            })
            .unwrap_or_default();
        for n in notifies {
            n.wake();
        }
    }

    /// Shuts the context down ([`Context::shutdown`]), then waits until every socket of
    /// the context has been closed or dropped: libzmq's blocking `zmq_ctx_term`. Blocked
    /// calls on those sockets return [`Error::Terminated`] at once, so threads that own
    /// them can see it, drop them and finish; this returns when the last one is gone.
    /// Sockets created by [`Socket::monitor`] go with the socket they monitor.
    ///
    /// **Deadlock caveat** (as with libzmq): it waits for sockets that only other code
    /// can drop. Called on a thread that still holds a socket of this context (or whose
    /// other sockets are owned by a thread that waits for this one, or were leaked with
    /// `mem::forget`), it never returns. Drop your own sockets first, or use the
    /// non-blocking [`Context::shutdown`] and let the sockets go in their own time.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, Error, SocketType};
    /// let ctx = Context::new();
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://term-doc")?;
    /// let worker = std::thread::spawn(move || {
    ///     // Blocks until `terminate` shuts the context down, then drops `pull`.
    ///     assert_eq!(pull.recv(), Err(Error::Terminated));
    /// });
    /// ctx.terminate(); // returns once the worker dropped its socket
    /// assert_eq!(ctx.socket_count(), 0);
    /// worker.join().unwrap();
    /// # Ok::<(), inproc::Error>(())
    /// ```
    pub fn terminate(&self) {
        self.shutdown();
        loop {
            let key = self.inner.all_closed.prepare();
            if self.socket_count() == 0 {
                return;
            }
            self.inner.all_closed.wait(key, None);
        }
    }

    /// Number of sockets of this context not yet closed or dropped (including the
    /// internal PAIR of each [`Socket::monitor`]). A [`Context::socket`] call that
    /// fails because of a shutdown counts itself for the moment it takes to fail.
    pub fn socket_count(&self) -> usize {
        // SeqCst: pairs with the SeqCst increment in `socket_opened` against the SeqCst
        // shutdown flag (see `Context::terminate` and `ContextInner::socket_opened`).
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Has [`Context::shutdown`] been called?
    pub fn is_shutdown(&self) -> bool {
        self.inner.is_terminated()
    }

    /// Number of names currently bound or with pending connections (diagnostics).
    pub fn endpoint_count(&self) -> usize {
        self.inner.registry.len(&self.inner.domain)
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

/// The sockets of a context that may wait, and their event counts: one version of a
/// persistent map (`crate::pmap`), so joining or leaving costs O(log n); and whether
/// the context was shut down (then nobody joins any more).
#[derive(Debug)]
struct SocketSet {
    map: PMap<SocketId, Arc<Notify>>,
    terminated: bool,
}

impl Version for SocketSet {
    fn finalize(&mut self) {
        // SAFETY: called by the cell's drop on its last version: older versions were all
        // retired, and nothing reads this one any more.
        unsafe { self.map.free_all() };
    }
}

impl ContextInner {
    /// A fresh id, unique within this context (sockets, and watchers of their `Notify`).
    pub(crate) fn fresh_id(&self) -> u64 {
        // Relaxed: ids only need to be unique, which the RMW guarantees.
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A socket is being created: counted before its creator checks the shutdown flag.
    /// With the flag store then count load of `terminate` on the other side, this is a
    /// store-load (Dekker) pair, so all four accesses are SeqCst: either `terminate`
    /// counts this socket (and waits for it), or the creator sees the shutdown and
    /// gives up (`socket_closed`).
    pub(crate) fn socket_opened(&self) {
        // SeqCst: see above.
        self.live.fetch_add(1, Ordering::SeqCst);
    }

    /// A socket was closed (or never handed out); wakes `terminate` at the last one.
    pub(crate) fn socket_closed(&self) {
        // SeqCst: see `socket_opened`. (Its Release half also orders the socket's close
        // before the wake that `terminate` Acquires.)
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.all_closed.wake();
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        // SeqCst: see `Context::shutdown`.
        self.terminated.load(Ordering::SeqCst)
    }

    /// Puts socket `id` in the set, so that `shutdown` wakes `notify`.
    ///
    /// # Errors
    /// [`Error::Terminated`] if the context was shut down first.
    pub(crate) fn add_socket(&self, id: SocketId, notify: Arc<Notify>) -> Result<(), Error> {
        self.sockets.update(&self.domain, |v, txn| {
            if v.terminated {
                return Err(Error::Terminated);
            }
            let mut map = v.map.edit(txn);
            map.insert(txn, id, notify.clone());
            Ok((
                SocketSet {
                    map,
                    terminated: false,
                },
                (),
            ))
        })
    }

    pub(crate) fn remove_socket(&self, id: SocketId) {
        let _ = self.sockets.update(&self.domain, |v, txn| {
            let mut map = v.map.edit(txn);
            if !map.remove(txn, &id) {
                return Err(()); // Not there: `txn` copied nothing.
            }
            Ok((
                SocketSet {
                    map,
                    terminated: v.terminated,
                },
                (),
            ))
        });
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use crate::{Interest, Poller};

    fn set_len(ctx: &Context) -> usize {
        ctx.inner.sockets.read(&ctx.inner.domain, |v| v.map.len())
    }

    /// R-10 / K-2: only a socket that may wait joins the socket set (so creating and
    /// closing the others costs no update of it), and every socket that joined leaves
    /// it at close.
    #[test]
    fn sockets_join_the_set_to_wait_and_leave_it_at_close() {
        let ctx = Context::new();
        let idle: Vec<_> = (0..3)
            .map(|_| ctx.socket(SocketType::Pair).unwrap())
            .collect();
        assert_eq!(
            set_len(&ctx),
            0,
            "sockets that never wait stay out of the set"
        );
        assert!(idle[0].try_recv().is_err());
        assert_eq!(set_len(&ctx), 0, "a non-blocking call does not join");
        let watched = ctx.socket(SocketType::Pull).unwrap();
        let mut poller = Poller::new();
        poller.add(&watched, Interest::READABLE);
        assert_eq!(set_len(&ctx), 1, "a watched socket joins");
        let timed = ctx.socket(SocketType::Pull).unwrap();
        timed
            .set_recv_timeout(Some(std::time::Duration::from_nanos(1)))
            .unwrap();
        assert!(timed.recv().is_err());
        assert_eq!(set_len(&ctx), 2, "a socket that waited joins");
        drop(poller);
        drop(watched);
        drop(timed);
        drop(idle);
        assert_eq!(set_len(&ctx), 0, "every socket leaves at close");
    }
}
