//! Pipes: one bidirectional connection between two sockets.
//!
//! A pipe is one allocation ([`PipeShared`], reference-counted, freed when both ends are
//! gone, as nng's `inproc_pair`) holding two [`queue::Queue`]s, one per direction, the
//! high-water marks of both ends, the ends' close flags and each end's wake-up target.
//! Each socket holds one [`PipeEnd`]: it writes `dirs[side]` and reads
//! `dirs[1 - side]`. Side 0 is the connecting socket, side 1 the binding socket (or,
//! while the connection is pending, the registry, which keeps side 1 until a bind).
//!
//! A pipe knows messages, windows and termination, and nothing about socket patterns.
//!
//! **Termination** needs no handshake, unlike libzmq's six-state `pipe_t` protocol (its
//! states exist to exchange commands between threads that share nothing; here both ends
//! share the allocation). Closing an end sets its bit in `closed` and wakes the peer:
//! * what the closing end already wrote stays readable by the peer; once the peer has
//!   read it all, it sees [`RecvFail::PeerGone`];
//! * what was queued toward the closing end is dropped with the allocation;
//! * a write toward a closed end fails with [`SendFail::PeerGone`] and gives the message
//!   back.

pub(crate) mod flow;
pub(crate) mod latest;
pub(crate) mod queue;

use bytes::Bytes;

use crate::msg::Message;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Arc, UnsafeCell};
use crate::wait::Notify;

pub(crate) use flow::{Hwm, window};
use latest::Latest;
use queue::{Credit, Publish, Queue};

/// Bit of `state`: end `side` has closed.
const fn closed_bit(side: usize) -> usize {
    1 << side
}
/// Bit of `state`: the binding end refused the connection (an exclusive PAIR that
/// already has its peer).
const REFUSED: usize = 1 << 2;
/// Bit of `state`: end `side`'s wake slot is filled.
const fn wake_bit(side: usize) -> usize {
    1 << (3 + side)
}
/// Bit of `state`: end `side`'s routing id is recorded.
const fn id_bit(side: usize) -> usize {
    1 << (5 + side)
}

/// One direction: a queue with a window, or (ZMQ_CONFLATE) a keep-the-newest slot.
// The queue variant is large (cache-padded words) and the slot small, but a `Direction`
// is created once inside the pipe allocation and never moved; boxing the queue would add
// a pointer chase to every send and receive.
#[allow(clippy::large_enum_variant)]
enum Direction {
    Queue(Queue<Message>),
    Latest(Latest),
}

/// What one end brings to a connection: its high-water marks and routing id (ZMQ_ROUTING_ID
/// at connect or bind time; `None` if it set none).
#[derive(Debug)]
pub(crate) struct EndInfo {
    pub(crate) hwm: Hwm,
    pub(crate) routing_id: Option<Bytes>,
}

/// The shared part of a connection. See the module docs.
pub(crate) struct PipeShared {
    /// `dirs[s]` is written by end `s` and read by end `1 - s`.
    dirs: [Direction; 2],
    /// End `s`'s high-water marks (its send and receive limits).
    hwm: [Hwm; 2],
    /// `closed_bit(s) | REFUSED | wake_bit(s)`; bits are only ever set, each by one
    /// `fetch_or`. Keeping the close flags and the wake-slot flags in one word orders
    /// "end A closes" against "end B fills its wake slot" by this word's modification
    /// order: whichever comes second sees the other (no SeqCst Dekker pair needed).
    state: AtomicUsize,
    /// `wake[s]`: end `s`'s socket, to wake when the other end changes something it may
    /// wait on. Written once by end `s`'s owner before it sets `wake_bit(s)`; read-only
    /// after.
    wake: [UnsafeCell<Option<Arc<Notify>>>; 2],
    /// `ids[s]`: end `s`'s routing id. Written once (at creation, or by the binder at
    /// attach for a pending connection) before `id_bit(s)` is set; read-only after.
    ids: [UnsafeCell<Option<Bytes>>; 2],
}

// SAFETY: the wake and id cells are write-once-then-read (protocols on `wake`, `ids`);
// the directions are split by side (see `PipeEnd`); everything else is atomic.
unsafe impl Sync for PipeShared {}
// SAFETY: as above; `Message` is `Send`.
unsafe impl Send for PipeShared {}

impl PipeShared {
    /// Fills end `side`'s wake slot. Returns the state before (to see a closed peer).
    ///
    /// # Safety
    /// Called at most once per side, by the owner of that end.
    unsafe fn set_wake(&self, side: usize, notify: Arc<Notify>) -> usize {
        // SAFETY: write-once by the owner, before `wake_bit(side)` is set; nobody reads
        // the cell before observing that bit.
        self.wake[side].with_mut(|p| unsafe { *p = Some(notify) });
        // AcqRel: Release publishes the cell to `wake`'s Acquire load; Acquire lets the
        // caller act on a close that came first.
        self.state.fetch_or(wake_bit(side), Ordering::AcqRel)
    }

    /// Wakes end `side`'s socket, if its slot is filled (`state` is a value of `state`
    /// read with Acquire or by an AcqRel RMW).
    fn wake_with(&self, side: usize, state: usize) {
        if state & wake_bit(side) != 0 {
            self.wake[side].with(|p| {
                // SAFETY: the bit was observed (with Acquire): the cell was written before
                // it and is never written again.
                if let Some(n) = unsafe { &*p } {
                    n.wake();
                }
            });
        }
    }

    fn wake(&self, side: usize) {
        // Acquire: pairs with the AcqRel `fetch_or` in `set_wake`.
        self.wake_with(side, self.state.load(Ordering::Acquire));
    }

    /// Records end `side`'s routing id.
    ///
    /// # Safety
    /// Called at most once per side, before any reader can observe `id_bit(side)`.
    unsafe fn set_id(&self, side: usize, id: Option<Bytes>) {
        // SAFETY: write-once, before the bit that publishes it.
        self.ids[side].with_mut(|p| unsafe { *p = id });
        // Release: publishes the cell to `id`'s Acquire load.
        self.state.fetch_or(id_bit(side), Ordering::Release);
    }

    /// End `side`'s routing id: `None` while unknown (a pending binder), else the id it
    /// set (`Some(None)`: it set none).
    fn id(&self, side: usize) -> Option<Option<Bytes>> {
        // Acquire: pairs with the Release `fetch_or` in `set_id`.
        if self.state.load(Ordering::Acquire) & id_bit(side) == 0 {
            return None;
        }
        // SAFETY: the bit is set, so the cell was written before it and never again.
        Some(self.ids[side].with(|p| unsafe { (*p).clone() }))
    }
}

/// Why a send on a pipe failed. The message comes back.
#[derive(Debug)]
pub(crate) enum SendFail {
    /// The window is full.
    Full(Message),
    /// The peer closed (or refused) the connection.
    PeerGone(Message),
}

/// Why a receive on a pipe found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecvFail {
    /// Nothing queued now; the end is registered to be woken by the next write.
    Empty,
    /// The peer closed and everything it sent has been read.
    PeerGone,
}

/// One socket's end of a pipe. Not `Clone`: exactly one `PipeEnd` per side exists, which
/// is what makes the unsafe single-writer / single-reader contract of [`Queue`] hold.
pub(crate) struct PipeEnd {
    shared: Arc<PipeShared>,
    side: usize,
    /// Sends are pushed without publication until [`PipeEnd::flush`] (a batch: the
    /// socket sets it for the length of one `send_batch` attempt).
    defer: bool,
    /// Messages pushed and not yet published (only while `defer`, or until the flush
    /// that ends it).
    unflushed: bool,
}

impl std::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeEnd")
            .field("side", &self.side)
            .finish_non_exhaustive()
    }
}

/// Creates a connection. `connector` is the connecting end (with its socket's `Notify`,
/// and whether it asked for conflation); `binder` is the binder's snapshot, or `None`
/// while pending (the connector's window is then its own SNDHWM, rule 35, and the
/// binder's routing id is recorded when it attaches).
pub(crate) fn pair(
    connector: EndInfo,
    notify: Arc<Notify>,
    conflate: bool,
    binder: Option<EndInfo>,
) -> (PipeEnd, PipeEnd) {
    let dir = || {
        if conflate {
            Direction::Latest(Latest::new())
        } else {
            Direction::Queue(Queue::new())
        }
    };
    let (binder_hwm, binder_id) = match binder {
        Some(b) => (b.hwm, Some(b.routing_id)),
        None => (Hwm::unknown(), None),
    };
    let shared = Arc::new(PipeShared {
        dirs: [dir(), dir()],
        hwm: [connector.hwm, binder_hwm],
        state: AtomicUsize::new(0),
        wake: [UnsafeCell::new(None), UnsafeCell::new(None)],
        ids: [UnsafeCell::new(None), UnsafeCell::new(None)],
    });
    // SAFETY: the first and only fill of side 0's slots, by its creator and owner, before
    // the pipe is shared; side 1's id likewise when the binder is known now.
    unsafe {
        shared.set_id(0, connector.routing_id);
        if let Some(id) = binder_id {
            shared.set_id(1, id);
        }
        shared.set_wake(0, notify);
    }
    (
        PipeEnd {
            shared: shared.clone(),
            side: 0,
            defer: false,
            unflushed: false,
        },
        PipeEnd {
            shared,
            side: 1,
            defer: false,
            unflushed: false,
        },
    )
}

/// A connection between two `Notify`-less test ends: connector HWMs `(snd, rcv)`, binder
/// HWMs if bound.
#[cfg(all(test, not(any(loom, shuttle))))]
pub(crate) fn test_pair(c: (usize, usize), b: Option<(usize, usize)>) -> (PipeEnd, PipeEnd) {
    let info = |(snd, rcv)| EndInfo {
        hwm: Hwm::new(snd, rcv),
        routing_id: None,
    };
    pair(info(c), Arc::new(Notify::new()), false, b.map(info))
}

impl PipeEnd {
    fn peer(&self) -> usize {
        1 - self.side
    }

    /// The window of the direction this end writes.
    fn out_window(&self) -> usize {
        window(&self.shared.hwm[self.side], &self.shared.hwm[self.peer()])
    }

    /// The window of the direction this end reads.
    fn in_window(&self) -> usize {
        window(&self.shared.hwm[self.peer()], &self.shared.hwm[self.side])
    }

    fn out_dir(&self) -> &Direction {
        &self.shared.dirs[self.side]
    }

    fn in_dir(&self) -> &Direction {
        &self.shared.dirs[self.peer()]
    }

    /// The peer's routing id: `None` while not known yet (the binder of a pending
    /// connection has not bound), `Some(None)` if the peer set none.
    pub(crate) fn peer_routing_id(&self) -> Option<Option<Bytes>> {
        self.shared.id(self.peer())
    }

    /// Attaches the binding end to its socket. For a pending connection (`pending` is
    /// `Some`), first records the binder's HWM and routing id as of now, which turns the
    /// connector's window into the summed one. Then records where to wake the binder and
    /// wakes the connector, whose window may have grown.
    pub(crate) fn attach(&mut self, pending: Option<EndInfo>, notify: Arc<Notify>) {
        debug_assert_eq!(self.side, 1, "only the binding end attaches late");
        if let Some(info) = pending {
            self.shared.hwm[self.side].set(info.hwm);
            // SAFETY: a pending connection's binder id is recorded once, here, by the one
            // binder the registry handed this end to.
            unsafe { self.shared.set_id(self.side, info.routing_id) };
        }
        // SAFETY: side 1's slot is filled once, here, by the socket that owns this end
        // (the registry or an inbox hands each binder end to exactly one socket).
        let state = unsafe { self.shared.set_wake(self.side, notify) };
        self.shared.wake_with(self.peer(), state);
    }

    /// Changes this end's high-water marks on a live connection, and wakes the peer.
    pub(crate) fn set_hwm(&self, hwm: Hwm) {
        self.shared.hwm[self.side].set(hwm);
        self.shared.wake(self.peer());
    }

    /// Has the peer closed or refused the connection?
    pub(crate) fn peer_closed(&self) -> bool {
        // Acquire: pairs with the AcqRel `fetch_or` in the peer's `drop`, which comes
        // after the peer's last write, so a re-read of the queue sees that write.
        self.shared.state.load(Ordering::Acquire) & closed_bit(self.peer()) != 0
    }

    /// Did the peer refuse this connection?
    pub(crate) fn refused(&self) -> bool {
        // Acquire: as in `peer_closed`.
        self.shared.state.load(Ordering::Acquire) & REFUSED != 0
    }

    /// Would a message fit now (peer present, window not full)? Never sleeps.
    pub(crate) fn writable(&mut self) -> bool {
        if self.peer_closed() {
            return false;
        }
        match self.out_dir() {
            Direction::Latest(_) => true,
            // SAFETY: unique writer (see `send`).
            Direction::Queue(q) => unsafe { q.has_room(self.out_window()) },
        }
    }

    /// Sends one whole message: published at once, or, while deferring (a batch), at
    /// the next [`PipeEnd::flush`].
    pub(crate) fn send(&mut self, msg: Message) -> Result<(), SendFail> {
        if self.peer_closed() {
            return Err(SendFail::PeerGone(msg));
        }
        let defer = self.defer;
        let publish = match self.out_dir() {
            Direction::Latest(slot) => slot.write(msg),
            Direction::Queue(q) => {
                // SAFETY: `self` is the unique writer of its out queue (`PipeEnd` is not
                // Clone, and `&mut self` excludes concurrent use).
                if !unsafe { q.has_room(self.out_window()) } {
                    return Err(SendFail::Full(msg));
                }
                if defer {
                    // SAFETY: unique writer (as above).
                    unsafe { q.push(msg) };
                    self.unflushed = true;
                    return Ok(());
                }
                // SAFETY: unique writer (as above).
                unsafe { q.write(msg) }
            }
        };
        if publish == Publish::WakeReader {
            self.shared.wake(self.peer());
        }
        Ok(())
    }

    /// Part of a batch send (deferred publication, [`PipeEnd::set_defer`]): pushes
    /// `held`, then what `next` gives, while the window has room, each exactly as
    /// [`PipeEnd::send`] would push it, and returns how many it pushed. It stops before
    /// taking a message it has no room for, when `next` runs out, or at once if the peer
    /// has closed or this end is not deferring; the caller sends the rest one by one
    /// (which blocks, fails or waits as `send` does). `counter` counts each push as it
    /// happens (the socket's `sent` statistic).
    pub(crate) fn send_run(
        &mut self,
        held: &mut Option<Message>,
        mut next: impl FnMut() -> Option<Message>,
        counter: &mut u64,
    ) -> usize {
        if !self.defer || self.peer_closed() {
            return 0;
        }
        let window = self.out_window();
        let Direction::Queue(q) = &self.shared.dirs[self.side] else {
            return 0;
        };
        let mut n = 0;
        // SAFETY: unique writer (see `send`).
        while unsafe { q.has_room(window) } {
            let Some(m) = held.take().or_else(&mut next) else {
                break;
            };
            // SAFETY: unique writer (see `send`).
            unsafe { q.push(m) };
            // Marked at each push, not after the run: `next` is the caller's code and
            // may panic, and what was pushed must still be published (B-1).
            self.unflushed = true;
            *counter += 1;
            n += 1;
        }
        n
    }

    /// Starts (`true`) or ends (`false`) deferring publication; ending it publishes
    /// what was pushed meanwhile.
    pub(crate) fn set_defer(&mut self, on: bool) {
        self.defer = on;
        if !on {
            self.flush();
        }
    }

    /// Publishes every message pushed since the last publication, in one publication,
    /// and wakes the peer if it sleeps: at most one wake-up per batch.
    pub(crate) fn flush(&mut self) {
        if !std::mem::take(&mut self.unflushed) {
            return;
        }
        if let Direction::Queue(q) = self.out_dir() {
            // SAFETY: unique writer (see `send`).
            if unsafe { q.flush() } == Publish::WakeReader {
                self.shared.wake(self.peer());
            }
        }
    }

    /// After a [`SendFail::Full`]: registers to be woken when credit returns. Returns
    /// `false` if room appeared meanwhile (retry at once).
    pub(crate) fn sleep_until_room(&mut self) -> bool {
        match self.out_dir() {
            // A conflated direction is never full.
            Direction::Latest(_) => false,
            // SAFETY: unique writer (see `send`).
            Direction::Queue(q) => unsafe { q.sleep_until_room(self.out_window()) },
        }
    }

    /// Receives one whole message; if the pipe is empty, registers to wake this end's
    /// socket on the peer's next write.
    pub(crate) fn recv(&mut self) -> Result<Message, RecvFail> {
        self.recv_with(true)
    }

    /// Receives one whole message; `arm`: on `Empty`, register for a wake-up (else the
    /// caller must look again before it sleeps, with `arm` set).
    pub(crate) fn recv_with(&mut self, arm: bool) -> Result<Message, RecvFail> {
        if let Some(m) = self.read_once(arm) {
            return Ok(m);
        }
        if !self.peer_closed() {
            return Err(RecvFail::Empty);
        }
        // The peer closed after its last write: read once more, since that write may have
        // been published after our first look (the close flag is set after it).
        self.read_once(true).ok_or(RecvFail::PeerGone)
    }

    /// Up to `max` calls of [`PipeEnd::recv_with`] at once, stopping at the first
    /// failure: the messages are moved into `out`; returns how many, and whether the
    /// calls ended in [`RecvFail::PeerGone`] (the peer closed and everything it wrote
    /// has been read). Fewer than `max` and not gone: the pipe was found empty.
    pub(crate) fn recv_many(
        &mut self,
        arm: bool,
        out: &mut Vec<Message>,
        max: usize,
    ) -> (usize, bool) {
        let n = self.read_many(arm, out, max);
        if n == max || !self.peer_closed() {
            return (n, false);
        }
        // As in `recv_with`: the peer's last write may precede its close flag.
        let n = n + self.read_many(true, out, max - n);
        (n, n < max)
    }

    fn read_many(&mut self, arm: bool, out: &mut Vec<Message>, max: usize) -> usize {
        match self.in_dir() {
            Direction::Latest(slot) => match slot.read() {
                Some(m) => {
                    out.push(m);
                    1
                }
                None => 0,
            },
            Direction::Queue(q) => {
                // SAFETY: as in `read_once`.
                let (n, credit) = unsafe { q.read_many(self.in_window(), arm, out, max) };
                if credit == Credit::WakeWriter {
                    self.shared.wake(self.peer());
                }
                n
            }
        }
    }

    fn read_once(&mut self, arm: bool) -> Option<Message> {
        match self.in_dir() {
            Direction::Latest(slot) => slot.read(),
            Direction::Queue(q) => {
                // SAFETY: `self` is the unique reader of its in queue (not Clone,
                // `&mut self`).
                let (item, credit) = unsafe { q.read(self.in_window(), arm) };
                if credit == Credit::WakeWriter {
                    self.shared.wake(self.peer());
                }
                item
            }
        }
    }

    /// Messages this end wrote that the peer has not yet reported read (an estimate:
    /// credit returns every half window).
    pub(crate) fn queued_out(&mut self) -> usize {
        match self.out_dir() {
            Direction::Latest(slot) => usize::from(slot.readable()),
            // SAFETY: unique writer (see `send`).
            Direction::Queue(q) => unsafe { q.queued_estimate() },
        }
    }

    /// Is a message ready to receive?
    pub(crate) fn readable(&mut self) -> bool {
        match self.in_dir() {
            Direction::Latest(slot) => slot.readable(),
            // SAFETY: unique reader (see `read_once`).
            Direction::Queue(q) => unsafe { q.readable() },
        }
    }

    /// Refuses the connection (binding end of an exclusive PAIR): the peer's sends fail.
    pub(crate) fn refuse(self) {
        // Release: ordered before the close in `drop`, which the peer Acquires.
        self.shared.state.fetch_or(REFUSED, Ordering::Release);
        drop(self);
    }
}

impl Drop for PipeEnd {
    /// Closing an end: see the module docs. What a batch pushed is published first, so
    /// that the peer reads it before it sees the close.
    fn drop(&mut self) {
        self.flush();
        // AcqRel: Release orders our last writes before the flag (see `peer_closed`);
        // Acquire lets us use the peer's wake slot if its bit is in the old value. If the
        // peer fills its slot after this, its `set_wake` sees our bit instead.
        let old = self
            .shared
            .state
            .fetch_or(closed_bit(self.side), Ordering::AcqRel);
        self.shared.wake_with(self.peer(), old);
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    fn notify() -> Arc<Notify> {
        Arc::new(Notify::new())
    }

    #[test]
    fn pending_window_is_connector_sndhwm_then_sum_after_attach() {
        let (mut c, mut b) = test_pair((2, 1000), None);
        assert!(c.send(Message::from("a")).is_ok());
        assert!(c.send(Message::from("b")).is_ok());
        assert!(matches!(c.send(Message::from("c")), Err(SendFail::Full(_))));
        b.attach(
            Some(EndInfo {
                hwm: Hwm::new(1000, 3),
                routing_id: None,
            }),
            notify(),
        );
        for m in ["c", "d", "e"] {
            assert!(c.send(Message::from(m)).is_ok());
        }
        assert!(matches!(c.send(Message::from("f")), Err(SendFail::Full(_))));
        for m in ["a", "b", "c", "d", "e"] {
            assert_eq!(b.recv().unwrap(), Message::from(m));
        }
        assert_eq!(b.recv(), Err(RecvFail::Empty));
    }

    #[test]
    fn close_keeps_sent_messages_readable_then_peer_gone() {
        let (mut c, mut b) = test_pair((10, 10), Some((10, 10)));
        c.send(Message::from("x")).unwrap();
        drop(c);
        assert_eq!(b.recv().unwrap(), Message::from("x"));
        assert_eq!(b.recv(), Err(RecvFail::PeerGone));
        assert!(matches!(
            b.send(Message::from("y")),
            Err(SendFail::PeerGone(_))
        ));
    }

    /// B-1: while deferring, sends are invisible to the peer; ending the batch, or
    /// closing the end in the middle of one, publishes them.
    #[test]
    fn deferred_sends_are_published_at_the_end_of_the_batch_or_at_close() {
        let (mut c, mut b) = test_pair((10, 10), Some((10, 10)));
        c.set_defer(true);
        c.send(Message::from("a")).unwrap();
        c.send(Message::from("b")).unwrap();
        assert_eq!(b.recv(), Err(RecvFail::Empty), "not yet published");
        assert!(!b.readable());
        c.set_defer(false);
        assert_eq!(b.recv().unwrap(), Message::from("a"));
        assert_eq!(b.recv().unwrap(), Message::from("b"));
        c.set_defer(true);
        c.send(Message::from("c")).unwrap();
        drop(c);
        assert_eq!(
            b.recv().unwrap(),
            Message::from("c"),
            "the close publishes it"
        );
        assert_eq!(b.recv(), Err(RecvFail::PeerGone));
    }

    /// HWM counts pushed messages at once.
    #[test]
    fn deferred_sends_count_against_the_window() {
        let (mut c, _b) = test_pair((1, 1), Some((1, 1)));
        c.set_defer(true);
        c.send(Message::from("a")).unwrap();
        c.send(Message::from("b")).unwrap();
        assert!(matches!(c.send(Message::from("c")), Err(SendFail::Full(_))));
        c.set_defer(false);
    }

    #[test]
    fn refuse_is_visible_to_connector() {
        let (mut c, b) = test_pair((10, 10), Some((10, 10)));
        b.refuse();
        assert!(c.refused());
        assert!(matches!(
            c.send(Message::from("y")),
            Err(SendFail::PeerGone(_))
        ));
    }
}
