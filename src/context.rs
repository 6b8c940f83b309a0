//! `Context`: the registry of endpoint names, the live sockets, and shutdown.

use crate::cow::{CowCell, Version};
use crate::error::Error;
use crate::pmap::PMap;
use crate::reclaim::Domain;
use crate::registry::{Registry, SocketId};
use crate::socket::{Socket, SocketType};
use crate::sync::Arc;
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Live sockets and their `Notify`, so that shutdown can wake them. Updated by socket
    /// creation and close: a persistent map, so each update copies O(log n) (SPEC 10).
    sockets: CowCell<SocketSet>,
    /// Set once by `shutdown`; checked by every socket call.
    terminated: AtomicBool,
    /// Source of socket ids.
    next_id: AtomicU64,
    /// Reclamation for `registry` and `sockets`. Declared last: dropped after them.
    pub(crate) domain: Domain,
}

impl Context {
    /// A new context with no names bound and no sockets.
    pub fn new() -> Self {
        Context {
            inner: Arc::new(ContextInner {
                registry: Registry::new(),
                sockets: CowCell::new(SocketSet(PMap::new())),
                terminated: AtomicBool::new(false),
                next_id: AtomicU64::new(1),
                domain: Domain::new(),
            }),
        }
    }

    /// Creates a socket of type `ty`.
    ///
    /// # Errors
    /// [`Error::Terminated`] after [`Context::shutdown`].
    pub fn socket(&self, ty: SocketType) -> Result<Socket, Error> {
        if self.inner.is_terminated() {
            return Err(Error::Terminated);
        }
        // Relaxed: ids only need to be unique, which the RMW guarantees.
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let notify = Arc::new(Notify::new());
        self.inner.add_socket(id, notify.clone());
        // Re-check after registering (Dekker with `shutdown`, both SeqCst): either
        // shutdown saw this socket in the set and will wake it, or we see the flag.
        if self.inner.is_terminated() {
            self.inner.remove_socket(id);
            return Err(Error::Terminated);
        }
        Ok(Socket::new(self.inner.clone(), id, ty, notify))
    }

    /// Shuts the context down: every blocked call on its sockets returns
    /// [`Error::Terminated`] promptly, and so does every later call (socket creation
    /// included), except `close` and drop, which always work. Never blocks; idempotent.
    ///
    /// Unlike libzmq's `zmq_ctx_term`, nothing waits for sockets to close: there is no
    /// reaper and no linger. Memory is freed when the last socket and context handle are
    /// dropped.
    pub fn shutdown(&self) {
        // SeqCst: Dekker pair with socket creation (see `socket`) and with the
        // `prepare`-then-check order of every waiting call.
        self.inner.terminated.store(true, Ordering::SeqCst);
        let notifies = self.inner.sockets.read(&self.inner.domain, |v| {
            v.0.values().cloned().collect::<Vec<_>>()
        });
        for n in notifies {
            n.wake();
        }
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

/// The live sockets of a context and their event counts: one version of a persistent
/// map (`crate::pmap`), so creating or closing a socket costs O(log n).
#[derive(Debug)]
struct SocketSet(PMap<SocketId, Arc<Notify>>);

impl Version for SocketSet {
    fn finalize(&mut self) {
        // SAFETY: called by the cell's drop on its last version: older versions were all
        // retired, and nothing reads this one any more.
        unsafe { self.0.free_all() };
    }
}

impl ContextInner {
    /// A fresh id, unique within this context (sockets, and watchers of their `Notify`).
    pub(crate) fn fresh_id(&self) -> u64 {
        // Relaxed: ids only need to be unique, which the RMW guarantees.
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn is_terminated(&self) -> bool {
        // SeqCst: see `Context::shutdown`.
        self.terminated.load(Ordering::SeqCst)
    }

    fn add_socket(&self, id: SocketId, notify: Arc<Notify>) {
        let _ = self.sockets.update(&self.domain, |v, txn| {
            let mut next = v.0.edit(txn);
            next.insert(txn, id, notify.clone());
            Ok::<_, ()>((SocketSet(next), ()))
        });
    }

    pub(crate) fn remove_socket(&self, id: SocketId) {
        let _ = self.sockets.update(&self.domain, |v, txn| {
            let mut next = v.0.edit(txn);
            if !next.remove(txn, &id) {
                return Err(()); // Not there: `txn` copied nothing.
            }
            Ok((SocketSet(next), ()))
        });
    }
}
