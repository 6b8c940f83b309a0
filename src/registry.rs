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

use std::time::Instant;

use crate::cow::{CowCell, Txn, Version};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::inbox::Inbox;
use crate::pipe::PipeEnd;
use crate::pmap::PMap;
use crate::reclaim::Domain;
use crate::sync::atomic::{AtomicU64, Ordering};
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

/// A connection waiting for its name to be bound: the binder's end of the pipe, and
/// when its messages expire (the connector's ZMQ_LINGER, set when it closed).
#[derive(Debug)]
pub(crate) struct Pending {
    end: TakeCell<PipeEnd>,
    /// When this entry was made: the origin of `expires`.
    made: Instant,
    /// 0: never expires (the default, libzmq's infinite linger); else 1 + nanoseconds
    /// after `made` at which a binder discards it instead of attaching it. Set once, by
    /// the connector's close; read by the binder that takes the entry. Relaxed (both
    /// sides): a close racing a bind may or may not be seen, as with any timing; the
    /// value itself is a plain number.
    expires: AtomicU64,
}

impl Pending {
    pub(crate) fn new(end: PipeEnd) -> Self {
        Pending {
            end: TakeCell::new(end),
            made: Instant::now(),
            expires: AtomicU64::new(0),
        }
    }

    /// Taken once, by the binder whose CAS removed this entry from the registry.
    pub(crate) fn take(&self) -> Option<PipeEnd> {
        self.end.take()
    }

    /// The connector closed with a finite linger: the entry expires at `at`.
    pub(crate) fn expire_at(&self, at: Instant) {
        let ns = at.saturating_duration_since(self.made).as_nanos();
        let v = u64::try_from(ns).map_or(u64::MAX, |n| n.saturating_add(1));
        // Relaxed: see `expires`.
        self.expires.store(v, Ordering::Relaxed);
    }

    /// Has the entry expired by `now`?
    pub(crate) fn expired(&self, now: Instant) -> bool {
        // Relaxed: see `expires`.
        let v = self.expires.load(Ordering::Relaxed);
        v != 0 && now.saturating_duration_since(self.made).as_nanos() >= u128::from(v - 1)
    }
}

/// A key of the registry's map: a name's own entry (`seq == NAME`), or the `seq`-th
/// connection that waited for the name (see [`Entry::Pending`]). Looked up without
/// building a key through the probe `(&name, seq)`, which hashes the same (fields in
/// order).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    name: Endpoint,
    seq: u64,
}

/// `Key::seq` of a name's own entry.
const NAME: u64 = u64::MAX;

impl Key {
    fn name(ep: &Endpoint) -> Key {
        Key {
            name: ep.clone(),
            seq: NAME,
        }
    }

    fn waiter(ep: &Endpoint, seq: u64) -> Key {
        Key {
            name: ep.clone(),
            seq,
        }
    }
}

/// What a key maps to.
#[derive(Debug, Clone)]
enum Entry {
    /// (A name's entry.) Bound by one socket.
    Bound(Arc<Binding>),
    /// (A name's entry.) Not bound; `count` connections wait, under the keys
    /// `(name, seq)` for some `seq` in `first..next`, in connect order (a withdrawn one
    /// leaves a gap).
    Pending { first: u64, next: u64, count: u64 },
    /// (A waiter's entry.) One waiting connection.
    Waiter(Arc<Pending>),
}

/// Where a pending connection sits in the registry: its name and sequence number, and
/// the connection itself (for [`Registry::withdraw`]). Sequence numbers start again when
/// a name's waiting list is made anew (after a bind took the old one), so a ticket only
/// withdraws the very connection it was issued for: an old ticket whose number now
/// belongs to another connection withdraws nothing.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    endpoint: Endpoint,
    seq: u64,
    pending: Arc<Pending>,
}

impl Ticket {
    /// The connection this ticket is for.
    pub(crate) fn pending(&self) -> &Pending {
        &self.pending
    }
}

/// The registry's value: one version of a persistent map (`crate::pmap`), so an update
/// copies O(log n) nodes and shares the rest with the version it replaces (SPEC 10).
#[derive(Debug)]
pub(crate) struct Names {
    entries: PMap<Key, Entry>,
    /// How many names have an entry (bound, or with connections waiting).
    names: usize,
}

/// Outcome of [`Names::pend`] when the name turned out to be bound.
#[derive(Debug)]
pub(crate) struct Found;

impl Default for Names {
    fn default() -> Self {
        Names {
            entries: PMap::new(),
            names: 0,
        }
    }
}

impl Version for Names {
    fn finalize(&mut self) {
        // SAFETY: called by the cell's drop on its last version: every older version was
        // retired (its replaced nodes belong to the reclaimer, not to this version), and
        // nothing reads this one any more.
        unsafe { self.entries.free_all() };
    }
}

impl Names {
    /// A new version to build in `txn` (see [`PMap::edit`]).
    fn edit(&self, txn: &Txn) -> Names {
        Names {
            entries: self.entries.edit(txn),
            names: self.names,
        }
    }

    /// The entry of name `ep`.
    fn name(&self, ep: &Endpoint) -> Option<&Entry> {
        self.entries
            .get_as(&(ep, NAME), |k| k.seq == NAME && k.name == *ep)
    }

    /// Removes the entry of name `ep` (without building its key).
    fn remove_name(&mut self, txn: &mut Txn, ep: &Endpoint) {
        self.entries
            .remove_as(txn, &(ep, NAME), |k| k.seq == NAME && k.name == *ep);
    }

    /// Removes the `seq`-th connection waiting for `ep` (without building its key).
    fn remove_waiter(&mut self, txn: &mut Txn, ep: &Endpoint, seq: u64) {
        self.entries
            .remove_as(txn, &(ep, seq), |k| k.seq == seq && k.name == *ep);
    }

    /// The `seq`-th connection waiting for `ep`, if it still waits.
    fn waiter(&self, ep: &Endpoint, seq: u64) -> Option<&Arc<Pending>> {
        match self
            .entries
            .get_as(&(ep, seq), |k| k.seq == seq && k.name == *ep)
        {
            Some(Entry::Waiter(p)) => Some(p),
            _ => None,
        }
    }

    /// The binding of `ep`, if bound.
    pub(crate) fn lookup(&self, ep: &Endpoint) -> Option<Arc<Binding>> {
        match self.name(ep) {
            Some(Entry::Bound(b)) => Some(b.clone()),
            _ => None,
        }
    }

    /// Bind: the new map, and the pending connections now owed to the binder, in
    /// connect order. O(log n) per connection owed, plus the gaps withdrawals left.
    pub(crate) fn bind(
        &self,
        txn: &mut Txn,
        ep: &Endpoint,
        binding: &Arc<Binding>,
    ) -> Result<(Names, Vec<Arc<Pending>>), Error> {
        let mut next = self.edit(txn);
        let mut owed = Vec::new();
        match self.name(ep) {
            Some(Entry::Bound(_)) => return Err(Error::AddrInUse),
            Some(&Entry::Pending {
                first, next: end, ..
            }) => {
                for seq in first..end {
                    if let Some(p) = self.waiter(ep, seq) {
                        owed.push(p.clone());
                        next.remove_waiter(txn, ep, seq);
                    }
                }
            }
            Some(Entry::Waiter(_)) => unreachable!("a name key holds a name entry"),
            None => next.names += 1,
        }
        next.entries
            .insert(txn, Key::name(ep), Entry::Bound(binding.clone()));
        Ok((next, owed))
    }

    /// Park a connection on an unbound name, after those already waiting (connect order
    /// is kept). Returns where it sits, for [`Names::withdraw`].
    pub(crate) fn pend(
        &self,
        txn: &mut Txn,
        ep: &Endpoint,
        p: &Arc<Pending>,
    ) -> Result<(Names, Ticket), Found> {
        let mut next = self.edit(txn);
        let (first, seq, count) = match self.name(ep) {
            Some(Entry::Bound(_)) => return Err(Found),
            Some(&Entry::Pending { first, next, count }) => (first, next, count),
            Some(Entry::Waiter(_)) => unreachable!("a name key holds a name entry"),
            None => {
                next.names += 1;
                (0, 0, 0)
            }
        };
        next.entries.insert(
            txn,
            Key::name(ep),
            Entry::Pending {
                first,
                next: seq + 1,
                count: count + 1,
            },
        );
        next.entries
            .insert(txn, Key::waiter(ep, seq), Entry::Waiter(p.clone()));
        let ticket = Ticket {
            endpoint: ep.clone(),
            seq,
            pending: p.clone(),
        };
        Ok((next, ticket))
    }

    /// Take back a pending connection that is still waiting (its connector closed). The
    /// name's entry goes when nobody waits on it any more. `Err(())` if a binder already
    /// took it (or it was withdrawn): nothing to do.
    pub(crate) fn withdraw(&self, txn: &mut Txn, ticket: &Ticket) -> Result<(Names, ()), ()> {
        let ep = &ticket.endpoint;
        let Some(&Entry::Pending {
            first,
            next: end,
            count,
        }) = self.name(ep)
        else {
            return Err(());
        };
        match self.waiter(ep, ticket.seq) {
            Some(p) if Arc::ptr_eq(p, &ticket.pending) => {}
            _ => return Err(()),
        }
        let mut next = self.edit(txn);
        next.remove_waiter(txn, ep, ticket.seq);
        if count == 1 {
            next.remove_name(txn, ep);
            next.names -= 1;
        } else {
            // The first waiter leaving moves the start of the range past it.
            let first = if ticket.seq == first {
                first + 1
            } else {
                first
            };
            let entry = Entry::Pending {
                first,
                next: end,
                count: count - 1,
            };
            next.entries.insert(txn, Key::name(ep), entry);
        }
        Ok((next, ()))
    }

    /// Unbind `ep` if `socket` bound it.
    pub(crate) fn unbind(
        &self,
        txn: &mut Txn,
        ep: &Endpoint,
        socket: SocketId,
    ) -> Result<(Names, ()), Error> {
        match self.name(ep) {
            Some(Entry::Bound(b)) if b.socket == socket => {
                let mut next = self.edit(txn);
                next.remove_name(txn, ep);
                next.names -= 1;
                Ok((next, ()))
            }
            _ => Err(Error::NoSuchEndpoint),
        }
    }

    /// Release the names in `bound` that `socket` holds (its close: `bound` is the list
    /// of names it bound and has not unbound). O(k log n) for k names. `Err(())` if it
    /// holds none of them, so the caller skips the CAS.
    pub(crate) fn release(
        &self,
        txn: &mut Txn,
        socket: SocketId,
        bound: &[Endpoint],
    ) -> Result<(Names, ()), ()> {
        let mut next = self.edit(txn);
        for ep in bound {
            if matches!(self.name(ep), Some(Entry::Bound(b)) if b.socket == socket) {
                next.remove_name(txn, ep);
                next.names -= 1;
            }
        }
        if next.names == self.names {
            return Err(()); // Held none: `txn` frees nothing, it copied nothing.
        }
        Ok((next, ()))
    }

    /// Number of names bound or with connections waiting.
    pub(crate) fn len(&self) -> usize {
        self.names
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
        self.names.update(domain, |n, txn| n.bind(txn, ep, binding))
    }

    pub(crate) fn pend(
        &self,
        domain: &Domain,
        ep: &Endpoint,
        p: &Arc<Pending>,
    ) -> Result<Ticket, Found> {
        self.names.update(domain, |n, txn| n.pend(txn, ep, p))
    }

    /// Takes back a connection still waiting for its name (see [`Names::withdraw`]):
    /// `true` if it was still waiting, `false` if a binder took it first.
    pub(crate) fn withdraw(&self, domain: &Domain, ticket: &Ticket) -> bool {
        self.names
            .update(domain, |n, txn| n.withdraw(txn, ticket))
            .is_ok()
    }

    pub(crate) fn unbind(
        &self,
        domain: &Domain,
        ep: &Endpoint,
        socket: SocketId,
    ) -> Result<(), Error> {
        self.names
            .update(domain, |n, txn| n.unbind(txn, ep, socket))
    }

    /// Releases the names in `bound` that `socket` holds (its close).
    pub(crate) fn release(&self, domain: &Domain, socket: SocketId, bound: &[Endpoint]) {
        if bound.is_empty() {
            return;
        }
        let _ = self
            .names
            .update(domain, |n, txn| n.release(txn, socket, bound));
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
        let (d, r) = (Domain::new(), Registry::new());
        let a = ep("inproc://a");
        assert!(r.bind(&d, &a, &binding(1)).unwrap().is_empty());
        assert_eq!(r.bind(&d, &a, &binding(2)).unwrap_err(), Error::AddrInUse);
        assert_eq!(r.bind(&d, &a, &binding(1)).unwrap_err(), Error::AddrInUse);
        assert_eq!(r.len(&d), 1);
    }

    #[test]
    fn table_pending_connections_are_owed_in_connect_order() {
        let (d, r) = (Domain::new(), Registry::new());
        let a = ep("inproc://a");
        let (p1, p2) = (pending(), pending());
        r.pend(&d, &a, &p1).unwrap();
        r.pend(&d, &a, &p2).unwrap();
        assert_eq!(r.len(&d), 1, "one name, two waiting");
        let owed = r.bind(&d, &a, &binding(1)).unwrap();
        assert!(Arc::ptr_eq(&owed[0], &p1) && Arc::ptr_eq(&owed[1], &p2));
        assert!(r.pend(&d, &a, &pending()).is_err(), "bound now: Found");
        assert_eq!(r.len(&d), 1);
    }

    #[test]
    fn table_unbind_only_by_binder_and_release_on_close() {
        let (d, r) = (Domain::new(), Registry::new());
        let both = [ep("inproc://a"), ep("inproc://b")];
        r.bind(&d, &both[0], &binding(1)).unwrap();
        r.bind(&d, &both[1], &binding(1)).unwrap();
        assert_eq!(
            r.unbind(&d, &both[0], 2).unwrap_err(),
            Error::NoSuchEndpoint
        );
        assert_eq!(
            r.unbind(&d, &ep("inproc://zz"), 1).unwrap_err(),
            Error::NoSuchEndpoint
        );
        r.unbind(&d, &both[0], 1).unwrap();
        assert_eq!(r.len(&d), 1);
        r.release(&d, 2, &both);
        assert_eq!(r.len(&d), 1, "socket 2 holds nothing");
        r.bind(&d, &both[0], &binding(1)).unwrap();
        r.release(&d, 1, &both[..1]);
        assert_eq!(r.len(&d), 1, "only the names listed are released");
        r.release(&d, 1, &both);
        assert_eq!(r.len(&d), 0);
    }

    #[test]
    fn table_withdraw_takes_back_only_a_connection_still_waiting() {
        let (d, r) = (Domain::new(), Registry::new());
        let a = ep("inproc://a");
        let (p1, p2, p3) = (pending(), pending(), pending());
        let t1 = r.pend(&d, &a, &p1).unwrap();
        let t2 = r.pend(&d, &a, &p2).unwrap();
        let t3 = r.pend(&d, &a, &p3).unwrap();
        assert!(r.withdraw(&d, &t2), "a gap in the middle");
        assert!(!r.withdraw(&d, &t2), "withdrawn once");
        assert!(r.withdraw(&d, &t1), "the first one");
        let owed = r.bind(&d, &a, &binding(1)).unwrap();
        assert_eq!(owed.len(), 1);
        assert!(Arc::ptr_eq(&owed[0], &p3));
        // Once bound, nothing is waiting: withdraw has nothing to take.
        assert!(!r.withdraw(&d, &t3));
        assert_eq!(r.len(&d), 1);
        // The last one waiting takes the name's entry with it.
        let b = ep("inproc://b");
        let t = r.pend(&d, &b, &pending()).unwrap();
        assert_eq!(r.len(&d), 2);
        assert!(r.withdraw(&d, &t));
        assert_eq!(r.len(&d), 1);
    }

    #[test]
    fn an_old_ticket_never_withdraws_a_newer_connection() {
        let (d, r) = (Domain::new(), Registry::new());
        let a = ep("inproc://a");
        let old = r.pend(&d, &a, &pending()).unwrap();
        // A bind takes it, the binder goes, and a new connection waits under the same
        // name and (restarted) sequence number.
        r.bind(&d, &a, &binding(1)).unwrap();
        r.release(&d, 1, std::slice::from_ref(&a));
        let newer = pending();
        r.pend(&d, &a, &newer).unwrap();
        assert!(
            !r.withdraw(&d, &old),
            "the old ticket's connection was taken"
        );
        let owed = r.bind(&d, &a, &binding(2)).unwrap();
        assert_eq!(owed.len(), 1);
        assert!(Arc::ptr_eq(&owed[0], &newer));
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
