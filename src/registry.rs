//! The endpoint registry of one context: which socket is bound to each `inproc://` name,
//! and which connections wait for a name to be bound.
//!
//! **Sequential core.** [`Names`] is an immutable map `name -> Entry` with pure
//! transitions; SPEC.md (R-rules) gives their table:
//!
//! | entry before | bind            | connect                   | unbind (by binder) | close of binder |
//! |--------------|-----------------|---------------------------|--------------------|-----------------|
//! | none         | Bound           | Pending[c]                | ENOENT             | -               |
//! | Pending[..]  | Bound, attach all pending in connect order | Pending[.., c] | ENOENT | -  |
//! | Bound(s)     | EADDRINUSE      | hand pipe to s's inbox    | none               | none            |
//!
//! **Concurrent shell.** The whole map sits in one [`CowCell`]: every transition is
//! computed from the current map and published by one compare-and-swap, so bind,
//! connect, unbind and close never wait for one another, and concurrent calls end as some
//! sequential order of them would. A connect that finds the name bound hands its pipe to
//! the binder's [`Inbox`]; if that inbox is sealed (the binder closed after we looked),
//! the connect starts over and sees the name free. A connect that finds the name free
//! inserts a pending entry by CAS; if a bind won the race, the CAS fails and the connect
//! re-reads the registry (libzmq's `pend_connection` "connect_side" case, rule 21).

use std::collections::BTreeMap;

use crate::cow::CowCell;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::inbox::Inbox;
use crate::pipe::PipeEnd;
use crate::reclaim::Domain;
use crate::sync::{Arc, TakeCell};
use crate::wait::Notify;

/// Identifies a socket within its context.
pub(crate) type SocketId = u64;

/// A bound name: who bound it, and the binder's options as they were at bind (rule 8).
#[derive(Debug)]
pub(crate) struct Binding {
    /// The binding socket.
    pub(crate) socket: SocketId,
    /// The binder's `(sndhwm, rcvhwm)` at bind time.
    pub(crate) hwm: (usize, usize),
    /// The binder's routing id at bind time.
    pub(crate) routing_id: Option<bytes::Bytes>,
    /// Where connectors hand the binder its ends of new pipes.
    pub(crate) inbox: Arc<Inbox>,
    /// Woken after a hand-over.
    pub(crate) notify: Arc<Notify>,
}

/// A connection waiting for its name to be bound: the binder's end of the pipe.
#[derive(Debug)]
pub(crate) struct Pending {
    end: TakeCell<PipeEnd>,
}

impl Pending {
    pub(crate) fn new(end: PipeEnd) -> Self {
        Pending {
            end: TakeCell::new(end),
        }
    }

    /// Taken once, by the binder whose CAS removed this entry from the registry.
    pub(crate) fn take(&self) -> Option<PipeEnd> {
        self.end.take()
    }
}

/// What a name maps to.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// Bound by one socket.
    Bound(Arc<Binding>),
    /// Not bound; connections waiting, in connect order.
    Pending(Vec<Arc<Pending>>),
}

/// The registry's value: an immutable snapshot, replaced as a whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    entries: BTreeMap<Endpoint, Entry>,
}

/// Outcome of [`Names::pend`] when the name turned out to be bound.
#[derive(Debug)]
pub(crate) struct Found;

impl Names {
    /// The binding of `ep`, if bound.
    pub(crate) fn lookup(&self, ep: &Endpoint) -> Option<Arc<Binding>> {
        match self.entries.get(ep) {
            Some(Entry::Bound(b)) => Some(b.clone()),
            _ => None,
        }
    }

    /// Bind: the new map, and the pending connections now owed to the binder.
    pub(crate) fn bind(
        &self,
        ep: &Endpoint,
        binding: &Arc<Binding>,
    ) -> Result<(Names, Vec<Arc<Pending>>), Error> {
        let pending = match self.entries.get(ep) {
            Some(Entry::Bound(_)) => return Err(Error::AddrInUse),
            Some(Entry::Pending(list)) => list.clone(),
            None => Vec::new(),
        };
        let mut next = self.clone();
        next.entries
            .insert(ep.clone(), Entry::Bound(binding.clone()));
        Ok((next, pending))
    }

    /// Park a connection on an unbound name (appended: connect order is kept).
    pub(crate) fn pend(&self, ep: &Endpoint, p: &Arc<Pending>) -> Result<(Names, ()), Found> {
        let mut next = self.clone();
        match next.entries.get_mut(ep) {
            Some(Entry::Bound(_)) => return Err(Found),
            Some(Entry::Pending(list)) => list.push(p.clone()),
            None => {
                next.entries
                    .insert(ep.clone(), Entry::Pending(vec![p.clone()]));
            }
        }
        Ok((next, ()))
    }

    /// Unbind `ep` if `socket` bound it.
    pub(crate) fn unbind(&self, ep: &Endpoint, socket: SocketId) -> Result<(Names, ()), Error> {
        match self.entries.get(ep) {
            Some(Entry::Bound(b)) if b.socket == socket => {
                let mut next = self.clone();
                next.entries.remove(ep);
                Ok((next, ()))
            }
            _ => Err(Error::NoSuchEndpoint),
        }
    }

    /// Release every name `socket` bound (its close). `Err(())` if it bound none, so the
    /// caller skips the CAS.
    pub(crate) fn release_all(&self, socket: SocketId) -> Result<(Names, ()), ()> {
        let owned = |e: &Entry| matches!(e, Entry::Bound(b) if b.socket == socket);
        if !self.entries.values().any(owned) {
            return Err(());
        }
        let mut next = self.clone();
        next.entries.retain(|_, e| !owned(e));
        Ok((next, ()))
    }

    /// Number of entries (tests).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The registry of one context. See the module docs.
#[derive(Debug)]
pub(crate) struct Registry {
    names: CowCell<Names>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            names: CowCell::new(Names::default()),
        }
    }

    pub(crate) fn lookup(&self, domain: &Domain, ep: &Endpoint) -> Option<Arc<Binding>> {
        self.names.read(domain, |n| n.lookup(ep))
    }

    pub(crate) fn bind(
        &self,
        domain: &Domain,
        ep: &Endpoint,
        binding: &Arc<Binding>,
    ) -> Result<Vec<Arc<Pending>>, Error> {
        self.names.update(domain, |n| n.bind(ep, binding))
    }

    pub(crate) fn pend(
        &self,
        domain: &Domain,
        ep: &Endpoint,
        p: &Arc<Pending>,
    ) -> Result<(), Found> {
        self.names.update(domain, |n| n.pend(ep, p))
    }

    pub(crate) fn unbind(
        &self,
        domain: &Domain,
        ep: &Endpoint,
        socket: SocketId,
    ) -> Result<(), Error> {
        self.names.update(domain, |n| n.unbind(ep, socket))
    }

    pub(crate) fn release_all(&self, domain: &Domain, socket: SocketId) {
        let _ = self.names.update(domain, |n| n.release_all(socket));
    }

    /// Number of names bound or pending (tests and models).
    pub(crate) fn len(&self, domain: &Domain) -> usize {
        self.names.read(domain, Names::len)
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use crate::pipe::test_pair;

    fn binding(socket: SocketId) -> Arc<Binding> {
        Arc::new(Binding {
            socket,
            hwm: (1000, 1000),
            routing_id: None,
            inbox: Arc::new(Inbox::new()),
            notify: Arc::new(Notify::new()),
        })
    }

    fn ep(s: &str) -> Endpoint {
        Endpoint::parse(s).unwrap()
    }

    fn pending() -> Arc<Pending> {
        let (_c, b) = test_pair((1, 1), None);
        Arc::new(Pending::new(b))
    }

    #[test]
    fn table_bind_then_second_bind_is_addr_in_use() {
        let n = Names::default();
        let (n, owed) = n.bind(&ep("inproc://a"), &binding(1)).unwrap();
        assert!(owed.is_empty());
        assert_eq!(
            n.bind(&ep("inproc://a"), &binding(2)).unwrap_err(),
            Error::AddrInUse
        );
        assert_eq!(
            n.bind(&ep("inproc://a"), &binding(1)).unwrap_err(),
            Error::AddrInUse
        );
    }

    #[test]
    fn table_pending_connections_are_owed_in_connect_order() {
        let (p1, p2) = (pending(), pending());
        let n = Names::default();
        let (n, ()) = n.pend(&ep("inproc://a"), &p1).unwrap();
        let (n, ()) = n.pend(&ep("inproc://a"), &p2).unwrap();
        let (n, owed) = n.bind(&ep("inproc://a"), &binding(1)).unwrap();
        assert!(Arc::ptr_eq(&owed[0], &p1) && Arc::ptr_eq(&owed[1], &p2));
        assert!(
            n.pend(&ep("inproc://a"), &pending()).is_err(),
            "bound now: Found"
        );
    }

    #[test]
    fn table_unbind_only_by_binder_and_release_all() {
        let (n, _) = Names::default()
            .bind(&ep("inproc://a"), &binding(1))
            .unwrap();
        let (n, _) = n.bind(&ep("inproc://b"), &binding(1)).unwrap();
        assert_eq!(
            n.unbind(&ep("inproc://a"), 2).unwrap_err(),
            Error::NoSuchEndpoint
        );
        assert_eq!(
            n.unbind(&ep("inproc://zz"), 1).unwrap_err(),
            Error::NoSuchEndpoint
        );
        let (n2, ()) = n.unbind(&ep("inproc://a"), 1).unwrap();
        assert_eq!(n2.len(), 1);
        assert!(n.release_all(2).is_err());
        let (n3, ()) = n.release_all(1).unwrap();
        assert_eq!(n3.len(), 0);
    }

    #[test]
    fn registry_threads_binding_distinct_names_lose_no_update() {
        let domain = Domain::new();
        let reg = Registry::new();
        let per = if cfg!(miri) { 5 } else { 200 };
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (reg, domain) = (&reg, &domain);
                s.spawn(move || {
                    for i in 0..per {
                        let e = ep(&format!("inproc://t{t}-{i}"));
                        reg.bind(domain, &e, &binding(t)).unwrap();
                        assert!(reg.lookup(domain, &e).is_some());
                    }
                });
            }
        });
        assert_eq!(reg.len(&domain), 4 * per);
    }
}
