//! A sequential reference model of one context: the registry (SPEC R, C), the pipes with
//! their windows and credit (H), the PAIR/PUSH/PULL routing (D), close and shutdown (K).
//!
//! It is written from SPEC.md as plain single-threaded code, with no atomics, no queues
//! shared between threads and no reclamation, and it mirrors the library's documented
//! policies exactly (round-robin cursors, credit every LWM reads or on an empty read,
//! hand-over at the binder's next call, the readiness stash), so that a single-threaded
//! sequence of operations has exactly one correct outcome. [`Harness`] runs the same
//! operations on the library and on the model and panics at the first difference.
//!
//! The round robin (SPEC D-3, D-4) is written independently of the library's
//! representation: every pipe end gets an increasing *attach number* when a socket adopts
//! it, and a [`Rotation`]'s cursor is an attach number `c`. A pass tries the ends with
//! attach number `>= c` in attach order, then wraps to the smallest; after trying end
//! `a` (a message or room found, or the end empty or full) the cursor is `a + 1`.
//! Removing an end never moves the cursor, so the departed end's successor comes next.
//!
//! Readiness (SPEC W-1, W-2, A-3): the model knows when a socket is readable (a
//! `try_recv` would return a message; the check takes it into the socket's one-message
//! stash, as `Socket::readable` does) and writable (a `try_send` would succeed). With
//! readiness checks on, the [`Harness`] compares `Socket::readable`/`Socket::writable`
//! and a zero-timeout [`Poller`] over all open sockets with the model after every
//! operation, and polls a `recv_async` future on every socket that is not readable
//! before the operation: the operation must wake it if it made the socket readable (or
//! shut the context down), and its next poll must give what the model gives.
//!
//! Users: the fuzz target `ops` (`fuzz/fuzz_targets/ops.rs`), the integration test
//! `tests/reference_ops.rs` (seeded random sequences on every `cargo test`), and the
//! shuttle models, which check the delivery properties this model implies under
//! concurrency.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use inproc::{Context, Error, Event, Interest, Message, Poller, RecvFuture, Socket, SocketType};

/// Names the operations use; the last one is malformed on purpose.
pub(crate) const NAMES: [&str; 4] = ["inproc://a", "inproc://b", "inproc://c", "inproc:/bad"];

/// One operation. Socket and name indices are taken modulo the number available.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// Create a socket: 0 PAIR, 1 PUSH, 2 PULL, 3 DEALER.
    Socket(u8),
    Close(u8),
    Bind(u8, u8),
    Unbind(u8, u8),
    Connect(u8, u8),
    Disconnect(u8, u8),
    /// Non-blocking send of a message with `1 + frames % 3` frames.
    TrySend(u8, u8),
    TryRecv(u8),
    /// `try_send_batch` of `1 + n % 4` one-frame messages (SPEC B-2, B-4): the same as
    /// that many `try_send`s up to the first failure.
    TrySendBatch(u8, u8),
    /// `try_recv_batch` of at most `max % 4` messages (SPEC B-2): the same as that many
    /// `try_recv`s up to the first failure (`max % 4 == 0`: nothing, `Ok`).
    TryRecvBatch(u8, u8),
    SetSndHwm(u8, u8),
    SetRcvHwm(u8, u8),
    Shutdown,
}

const UNKNOWN: usize = usize::MAX;

fn sum_rule(snd: usize, rcv: usize) -> usize {
    match (snd, rcv) {
        (UNKNOWN, _) => 0,
        (s, UNKNOWN) => s,
        (0, _) | (_, 0) => 0,
        (s, r) => s + r,
    }
}

fn lwm(window: usize) -> usize {
    if window == 0 {
        inproc_unlimited_lwm()
    } else {
        window.div_ceil(2).max(1)
    }
}

/// The credit interval of an unlimited window (1024; 2 under the checkers and Miri).
fn inproc_unlimited_lwm() -> usize {
    if cfg!(any(loom, shuttle, miri)) {
        2
    } else {
        1024
    }
}

type SockId = usize;
type ConnId = usize;

#[derive(Debug, Default)]
struct Dir {
    queue: VecDeque<Message>,
    read: usize,
    written: usize,
    credited: usize,
}

#[derive(Debug)]
struct Conn {
    /// End 0: connector, end 1: binder.
    closed: [bool; 2],
    refused: bool,
    /// `hwm[s] = (snd, rcv)` of end `s`.
    hwm: [(usize, usize); 2],
    /// `dirs[s]` is written by end `s`.
    dirs: [Dir; 2],
}

impl Conn {
    fn window(&self, from: usize) -> usize {
        sum_rule(self.hwm[from].0, self.hwm[1 - from].1)
    }

    /// Would a message from end `side` fit now (peer there, window not full)?
    fn writable(&self, side: usize) -> bool {
        if self.closed[1 - side] {
            return false;
        }
        let w = self.window(side);
        let d = &self.dirs[side];
        w == 0 || d.written - d.credited < w
    }

    fn send(&mut self, side: usize, m: Message) -> Result<(), Message> {
        if !self.writable(side) {
            return Err(m);
        }
        let d = &mut self.dirs[side];
        d.queue.push_back(m);
        d.written += 1;
        Ok(())
    }

    /// `Ok(msg)`, `Err(false)` empty, `Err(true)` peer gone.
    fn recv(&mut self, side: usize) -> Result<Message, bool> {
        let from = 1 - side;
        let w = self.window(from);
        let d = &mut self.dirs[from];
        if let Some(m) = d.queue.pop_front() {
            d.read += 1;
            if d.read - d.credited >= lwm(w) {
                d.credited = d.read;
            }
            return Ok(m);
        }
        d.credited = d.read;
        Err(self.closed[from])
    }

    fn peer_closed(&self, side: usize) -> bool {
        self.closed[1 - side]
    }

    fn readable(&self, side: usize) -> bool {
        !self.dirs[1 - side].queue.is_empty()
    }
}

/// A pipe end of a socket: (connection, side).
type End = (ConnId, usize);

/// A round-robin rotation over pipe ends (SPEC D-3 load balancing, D-4 fair queueing),
/// by attach number (see the module docs).
#[derive(Debug, Default)]
struct Rotation {
    /// `(attach number, end)`, in increasing attach number.
    ends: Vec<(u64, End)>,
    /// The attach number to start the next pass at (the first end at or after it).
    cursor: u64,
}

impl Rotation {
    fn add(&mut self, n: u64, end: End) {
        debug_assert!(self.ends.last().is_none_or(|&(m, _)| m < n));
        self.ends.push((n, end));
    }

    /// Takes `end` out of the rotation; the cursor stays.
    fn remove(&mut self, end: End) {
        self.ends.retain(|&(_, e)| e != end);
    }

    /// The ends in the order one pass tries them: attach number `>= cursor` first, then
    /// the rest from the smallest.
    fn pass(&self) -> Vec<(u64, End)> {
        let (before, after): (Vec<_>, Vec<_>) =
            self.ends.iter().partition(|&&(n, _)| n < self.cursor);
        after.into_iter().chain(before).collect()
    }

    /// End `n` was tried: the pass after it starts at its successor.
    fn tried(&mut self, n: u64) {
        self.cursor = n + 1;
    }

    /// Is the cursor strictly inside the rotation: some end before it and some at or
    /// after it (so a wrap is pending)? Coverage only.
    fn mid_rotation(&self) -> bool {
        self.ends.len() >= 2
            && self.ends.first().is_some_and(|&(n, _)| n < self.cursor)
            && self.ends.last().is_some_and(|&(n, _)| n >= self.cursor)
    }

    fn attach_number(&self, end: End) -> Option<u64> {
        self.ends.iter().find(|&&(_, e)| e == end).map(|&(n, _)| n)
    }
}

#[derive(Debug)]
enum Pattern {
    Pair {
        peer: Option<End>,
        refused: bool,
    },
    Push {
        out: Rotation,
    },
    Pull {
        inq: Rotation,
    },
    /// Load-balanced out (dead pipes only leave the rotation) and fair-queued in.
    Dealer {
        out: Rotation,
        inq: Rotation,
    },
}

#[derive(Debug)]
struct Sock {
    ty: SocketType,
    open: bool,
    snd: usize,
    rcv: usize,
    /// Pipe ends owned (the library's `PipeSet`).
    pipes: Vec<End>,
    pattern: Pattern,
    bound: Vec<String>,
    connects: Vec<(String, End)>,
    /// Binder ends handed over, adopted at the socket's next call.
    inbox: Vec<ConnId>,
    /// The message a readiness check took, returned by the next receive first.
    stash: Option<Message>,
}

#[derive(Debug)]
enum Name {
    Bound {
        sock: SockId,
        snd: usize,
        rcv: usize,
    },
    Pending(Vec<ConnId>),
}

/// Counts of interesting situations the sequences reached (model-side knowledge), so a
/// test can check that its generator keeps reaching them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// `TryRecv` operations that returned a message while the socket's fair queue held
    /// at least 3 pipes.
    pub(crate) recv_with_3_peers: usize,
    /// Fair-queue passes (from any receive or readiness check) over at least 3 pipes that
    /// found a message after skipping or dropping at least one pipe.
    pub(crate) fq_skips_with_3_peers: usize,
    /// A pipe left a fair queue (its peer closed or disconnected, or the socket
    /// disconnected it) while the cursor was mid-rotation.
    pub(crate) gone_mid_rotation: usize,
    /// ... and the pipe that left was before the cursor.
    pub(crate) gone_before_cursor: usize,
    /// Fair-queue passes that dropped a drained dead pipe and went on to another pipe.
    pub(crate) fq_dead_dropped: usize,
    /// Readiness checks whose `readable` differed from the socket's previous check.
    pub(crate) readable_transitions: usize,
    /// Readiness checks whose `writable` differed from the socket's previous check.
    pub(crate) writable_transitions: usize,
    /// Socket readiness checks compared (`readable` and `writable` of one socket).
    pub(crate) readiness_checks: usize,
    /// `Poller::wait` calls compared (over at least one socket).
    pub(crate) poller_checks: usize,
    /// Pending `recv_async` futures an operation woke that then completed with a message.
    pub(crate) futures_woken: usize,
    /// Pending `recv_async` futures (polled once, `Pending`).
    pub(crate) futures_pending: usize,
}

impl std::ops::AddAssign for Coverage {
    fn add_assign(&mut self, o: Coverage) {
        self.recv_with_3_peers += o.recv_with_3_peers;
        self.fq_skips_with_3_peers += o.fq_skips_with_3_peers;
        self.gone_mid_rotation += o.gone_mid_rotation;
        self.gone_before_cursor += o.gone_before_cursor;
        self.fq_dead_dropped += o.fq_dead_dropped;
        self.readable_transitions += o.readable_transitions;
        self.writable_transitions += o.writable_transitions;
        self.readiness_checks += o.readiness_checks;
        self.poller_checks += o.poller_checks;
        self.futures_woken += o.futures_woken;
        self.futures_pending += o.futures_pending;
    }
}

/// The reference model. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Model {
    terminated: bool,
    socks: Vec<Sock>,
    names: BTreeMap<String, Name>,
    conns: Vec<Conn>,
    /// The attach number of the next end a socket adopts.
    attach_seq: u64,
    coverage: Coverage,
}

/// Outcome of an operation, comparable between library and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Err(Error),
    Msg(Message),
    /// A socket was created at this index.
    Created(usize),
    /// A batch send: how many went, and why it stopped early (if it did).
    Sent(usize, Option<Error>),
    /// A batch receive: the messages taken, or the error when none was.
    Got(Vec<Message>, Option<Error>),
}

fn parse(name: &str) -> Result<String, Error> {
    inproc::Endpoint::parse(name)
        .map(|e| e.to_string())
        .map_err(Error::from)
}

impl Model {
    fn close_end(&mut self, (c, side): End) {
        self.conns[c].closed[side] = true;
    }

    fn remove_pipe(&mut self, s: SockId, end: End) {
        let sock = &mut self.socks[s];
        if let Some(i) = sock.pipes.iter().position(|&e| e == end) {
            sock.pipes.remove(i);
            self.close_end(end);
        }
    }

    fn has_peer(&self, s: SockId) -> bool {
        match &self.socks[s].pattern {
            Pattern::Pair {
                peer: Some((c, side)),
                ..
            } => {
                self.socks[s].pipes.contains(&(*c, *side))
                    && (!self.conns[*c].peer_closed(*side) || self.conns[*c].readable(*side))
            }
            _ => false,
        }
    }

    /// `State::attach`: adopt an end, or refuse it.
    fn attach(&mut self, s: SockId, end: End, origin: Option<String>) {
        self.socks[s].pipes.push(end);
        let n = self.attach_seq;
        self.attach_seq += 1;
        let accepted = match self.socks[s].ty {
            SocketType::Pair => {
                if self.has_peer(s) {
                    false
                } else {
                    let old = match &mut self.socks[s].pattern {
                        Pattern::Pair { peer, refused } => {
                            *refused = false;
                            peer.replace(end)
                        }
                        _ => unreachable!(),
                    };
                    if let Some(old) = old {
                        self.remove_pipe(s, old);
                    }
                    true
                }
            }
            _ => {
                match &mut self.socks[s].pattern {
                    Pattern::Push { out } => out.add(n, end),
                    Pattern::Pull { inq } => inq.add(n, end),
                    Pattern::Dealer { out, inq } => {
                        out.add(n, end);
                        inq.add(n, end);
                    }
                    Pattern::Pair { .. } => unreachable!(),
                }
                true
            }
        };
        if !accepted {
            self.socks[s].pipes.retain(|&e| e != end);
            self.conns[end.0].refused = true;
            self.close_end(end);
            return;
        }
        if let Some(ep) = origin {
            self.socks[s].connects.push((ep, end));
        }
    }

    /// Adopt handed-over binder ends (start of every call inside the gate).
    fn drain(&mut self, s: SockId) {
        let inbox = std::mem::take(&mut self.socks[s].inbox);
        for c in inbox {
            self.attach(s, (c, 1), None);
        }
    }

    fn new_socket(&mut self, ty: SocketType) -> Outcome {
        if self.terminated {
            return Outcome::Err(Error::Terminated);
        }
        let pattern = match ty {
            SocketType::Pair => Pattern::Pair {
                peer: None,
                refused: false,
            },
            SocketType::Push => Pattern::Push {
                out: Rotation::default(),
            },
            SocketType::Dealer => Pattern::Dealer {
                out: Rotation::default(),
                inq: Rotation::default(),
            },
            _ => Pattern::Pull {
                inq: Rotation::default(),
            },
        };
        self.socks.push(Sock {
            ty,
            open: true,
            snd: 1000,
            rcv: 1000,
            pipes: Vec::new(),
            pattern,
            bound: Vec::new(),
            connects: Vec::new(),
            inbox: Vec::new(),
            stash: None,
        });
        Outcome::Created(self.socks.len() - 1)
    }

    /// Coverage: end `end` (owned by some socket) is about to close or leave its socket;
    /// note whether a fair queue loses a pipe mid-rotation (either side of `end`'s
    /// connection).
    fn note_leaving(&mut self, end: End) {
        for e in [end, (end.0, 1 - end.1)] {
            let Some(s) = self
                .socks
                .iter()
                .position(|k| k.open && k.pipes.contains(&e))
            else {
                continue;
            };
            let (Pattern::Pull { inq } | Pattern::Dealer { inq, .. }) = &self.socks[s].pattern
            else {
                continue;
            };
            let Some(n) = inq.attach_number(e) else {
                continue;
            };
            if inq.mid_rotation() {
                self.coverage.gone_mid_rotation += 1;
                if n < inq.cursor {
                    self.coverage.gone_before_cursor += 1;
                }
            }
        }
    }

    /// Of the connector ends `ends`, those still waiting for their name on which
    /// nothing was written are taken off the name's waiting list (and a name nobody
    /// waits on any more goes): an abandoned connector leaves nothing behind (SPEC C-8).
    fn withdraw_unsent(&mut self, ends: &[End]) {
        for &(c, side) in ends {
            if side != 0 || self.conns[c].dirs[0].written != 0 {
                continue;
            }
            let mut emptied = None;
            for (name, n) in self.names.iter_mut() {
                if let Name::Pending(list) = n {
                    if let Some(i) = list.iter().position(|&x| x == c) {
                        list.remove(i);
                        if list.is_empty() {
                            emptied = Some(name.clone());
                        }
                        break;
                    }
                }
            }
            if let Some(name) = emptied {
                self.names.remove(&name);
            }
        }
    }

    fn close(&mut self, s: SockId) {
        for end in self.socks[s].pipes.clone() {
            self.note_leaving(end);
        }
        self.names
            .retain(|_, n| !matches!(n, Name::Bound { sock, .. } if *sock == s));
        let connected: Vec<End> = self.socks[s].connects.iter().map(|&(_, e)| e).collect();
        self.withdraw_unsent(&connected);
        for c in std::mem::take(&mut self.socks[s].inbox) {
            self.close_end((c, 1));
        }
        for end in std::mem::take(&mut self.socks[s].pipes) {
            self.close_end(end);
        }
        self.socks[s].stash = None;
        self.socks[s].open = false;
    }

    fn bind(&mut self, s: SockId, name: &str) -> Result<(), Error> {
        let ep = parse(name)?;
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        let owed = match self.names.get(&ep) {
            Some(Name::Bound { .. }) => return Err(Error::AddrInUse),
            Some(Name::Pending(list)) => list.clone(),
            None => Vec::new(),
        };
        let (snd, rcv) = (self.socks[s].snd, self.socks[s].rcv);
        self.names
            .insert(ep.clone(), Name::Bound { sock: s, snd, rcv });
        for c in owed {
            if self.conns[c].closed[1] {
                continue; // never happens: a pending binder end is only closed by its drop
            }
            self.conns[c].hwm[1] = (snd, rcv);
            self.attach(s, (c, 1), None);
        }
        self.socks[s].bound.push(ep);
        Ok(())
    }

    fn connect(&mut self, s: SockId, name: &str) -> Result<(), Error> {
        let ep = parse(name)?;
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        if self.socks[s].ty == SocketType::Pair && self.has_peer(s) {
            return Err(Error::InvalidState);
        }
        let me = (self.socks[s].snd, self.socks[s].rcv);
        let c = self.conns.len();
        let binder = match self.names.get_mut(&ep) {
            Some(Name::Bound { sock, snd, rcv }) => {
                let (b, snd, rcv) = (*sock, *snd, *rcv);
                self.socks[b].inbox.push(c);
                (snd, rcv)
            }
            Some(Name::Pending(list)) => {
                list.push(c);
                (UNKNOWN, UNKNOWN)
            }
            None => {
                self.names.insert(ep.clone(), Name::Pending(vec![c]));
                (UNKNOWN, UNKNOWN)
            }
        };
        self.conns.push(Conn {
            closed: [false; 2],
            refused: false,
            hwm: [me, binder],
            dirs: Default::default(),
        });
        self.attach(s, (c, 0), Some(ep));
        Ok(())
    }

    fn unbind(&mut self, s: SockId, name: &str) -> Result<(), Error> {
        let ep = parse(name)?;
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        if !self.socks[s].bound.contains(&ep) {
            return Err(Error::NoSuchEndpoint);
        }
        self.names.remove(&ep);
        self.socks[s].bound.retain(|e| e != &ep);
        Ok(())
    }

    fn disconnect(&mut self, s: SockId, name: &str) -> Result<(), Error> {
        let ep = parse(name)?;
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        let ends: Vec<End> = self.socks[s]
            .connects
            .iter()
            .filter(|(e, _)| e == &ep)
            .map(|&(_, e)| e)
            .collect();
        if ends.is_empty() {
            return Err(Error::NoSuchEndpoint);
        }
        self.socks[s].connects.retain(|(e, _)| e != &ep);
        self.withdraw_unsent(&ends);
        for end in ends {
            if self.socks[s].pipes.contains(&end) {
                self.note_leaving(end);
            }
            match &mut self.socks[s].pattern {
                Pattern::Pair { peer, .. } => {
                    if *peer == Some(end) {
                        *peer = None;
                    }
                }
                Pattern::Push { out } => out.remove(end),
                Pattern::Pull { inq } => inq.remove(end),
                Pattern::Dealer { out, inq } => {
                    out.remove(end);
                    inq.remove(end);
                }
            }
            self.remove_pipe(s, end);
        }
        Ok(())
    }

    fn set_hwm(&mut self, s: SockId, snd: Option<usize>, rcv: Option<usize>) -> Result<(), Error> {
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        let sock = &mut self.socks[s];
        if let Some(v) = snd {
            sock.snd = v;
        }
        if let Some(v) = rcv {
            sock.rcv = v;
        }
        let h = (sock.snd, sock.rcv);
        for &(c, side) in &sock.pipes {
            self.conns[c].hwm[side] = h;
        }
        Ok(())
    }

    fn out_of(&mut self, s: SockId) -> &mut Rotation {
        match &mut self.socks[s].pattern {
            Pattern::Push { out } | Pattern::Dealer { out, .. } => out,
            _ => unreachable!(),
        }
    }

    fn in_of(&mut self, s: SockId) -> &mut Rotation {
        match &mut self.socks[s].pattern {
            Pattern::Pull { inq } | Pattern::Dealer { inq, .. } => inq,
            _ => unreachable!(),
        }
    }

    /// Load balancing (SPEC D-3): `Ok` or the message back. `shared`: dead pipes only
    /// leave the rotation (DEALER); otherwise they are dropped from the socket (PUSH).
    fn load_balance(&mut self, s: SockId, mut m: Message, shared: bool) -> Result<(), Message> {
        for (n, end) in self.out_of(s).pass() {
            if !self.socks[s].pipes.contains(&end) {
                self.out_of(s).remove(end);
                continue;
            }
            let (c, side) = end;
            if self.conns[c].peer_closed(side) {
                self.out_of(s).remove(end);
                if !shared {
                    self.remove_pipe(s, end);
                }
                continue;
            }
            self.out_of(s).tried(n);
            match self.conns[c].send(side, m) {
                Ok(()) => return Ok(()),
                Err(back) => m = back,
            }
        }
        Err(m)
    }

    /// Fair queueing (SPEC D-4): one pass from the cursor; drained pipes whose peer has
    /// gone are dropped on the way.
    fn fair_queue(&mut self, s: SockId) -> Option<Message> {
        let pass = self.in_of(s).pass();
        let many = pass.len() >= 3;
        let mut passed = 0;
        let mut dropped = false;
        for (n, end) in pass {
            if !self.socks[s].pipes.contains(&end) {
                self.in_of(s).remove(end);
                continue;
            }
            let (c, side) = end;
            match self.conns[c].recv(side) {
                Ok(m) => {
                    self.in_of(s).tried(n);
                    if many && passed > 0 {
                        self.coverage.fq_skips_with_3_peers += 1;
                    }
                    if dropped {
                        self.coverage.fq_dead_dropped += 1;
                    }
                    return Some(m);
                }
                Err(false) => self.in_of(s).tried(n),
                Err(true) => {
                    self.in_of(s).remove(end);
                    self.remove_pipe(s, end);
                    dropped = true;
                }
            }
            passed += 1;
        }
        None
    }

    fn try_send(&mut self, s: SockId, m: Message) -> Result<(), Error> {
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        match self.socks[s].ty {
            SocketType::Pull => Err(Error::NotSupported),
            SocketType::Push => self
                .load_balance(s, m, false)
                .map_err(|_| Error::WouldBlock),
            SocketType::Dealer => self.load_balance(s, m, true).map_err(|_| Error::WouldBlock),
            _ => {
                let Pattern::Pair { peer, refused } = &self.socks[s].pattern else {
                    unreachable!()
                };
                let Some((c, side)) = *peer else {
                    return Err(if *refused {
                        Error::HostUnreachable
                    } else {
                        Error::WouldBlock
                    });
                };
                if self.conns[c].peer_closed(side) {
                    if self.conns[c].refused {
                        self.remove_pipe(s, (c, side));
                        self.socks[s].pattern = Pattern::Pair {
                            peer: None,
                            refused: true,
                        };
                        return Err(Error::HostUnreachable);
                    }
                    return Err(Error::WouldBlock);
                }
                self.conns[c].send(side, m).map_err(|_| Error::WouldBlock)
            }
        }
    }

    /// `Socket::try_recv`: the stash first, then the pattern.
    fn try_recv(&mut self, s: SockId) -> Result<Message, Error> {
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
        match self.socks[s].stash.take() {
            Some(m) => Ok(m),
            None => self.pattern_recv(s),
        }
    }

    /// One receive attempt of the pattern (`Behaviour::recv`), after the hand-over.
    fn pattern_recv(&mut self, s: SockId) -> Result<Message, Error> {
        match self.socks[s].ty {
            SocketType::Push => Err(Error::NotSupported),
            SocketType::Pull | SocketType::Dealer => self.fair_queue(s).ok_or(Error::WouldBlock),
            _ => {
                let Pattern::Pair { peer, refused } = &self.socks[s].pattern else {
                    unreachable!()
                };
                let Some((c, side)) = *peer else {
                    return Err(if *refused {
                        Error::HostUnreachable
                    } else {
                        Error::WouldBlock
                    });
                };
                match self.conns[c].recv(side) {
                    Ok(m) => Ok(m),
                    Err(false) => Err(Error::WouldBlock),
                    Err(true) => {
                        let refused = self.conns[c].refused;
                        self.remove_pipe(s, (c, side));
                        self.socks[s].pattern = Pattern::Pair {
                            peer: None,
                            refused,
                        };
                        Err(if refused {
                            Error::HostUnreachable
                        } else {
                            Error::WouldBlock
                        })
                    }
                }
            }
        }
    }

    /// `Socket::readable` (SPEC W-1): would `try_recv` return a message? A message found
    /// moves into the stash (a receive, credit included). `false` after shutdown.
    fn readable(&mut self, s: SockId) -> bool {
        if self.terminated {
            return false;
        }
        self.drain(s);
        if self.socks[s].stash.is_some() {
            return true;
        }
        match self.pattern_recv(s) {
            Ok(m) => {
                self.socks[s].stash = Some(m);
                true
            }
            Err(_) => false,
        }
    }

    /// `Socket::writable` (SPEC W-1): would `try_send` succeed? Sends nothing and drops
    /// no pipe. `false` after shutdown.
    fn writable(&mut self, s: SockId) -> bool {
        if self.terminated {
            return false;
        }
        self.drain(s);
        let sock = &self.socks[s];
        let live =
            |&(c, side): &End| sock.pipes.contains(&(c, side)) && self.conns[c].writable(side);
        match &sock.pattern {
            Pattern::Pull { .. } => false,
            Pattern::Push { out } | Pattern::Dealer { out, .. } => {
                out.ends.iter().any(|(_, e)| live(e))
            }
            Pattern::Pair { peer, .. } => peer.as_ref().is_some_and(live),
        }
    }

    /// The number of pipes in socket `s`'s fair queue (0 for other patterns).
    fn fq_len(&self, s: SockId) -> usize {
        match &self.socks[s].pattern {
            Pattern::Pull { inq } | Pattern::Dealer { inq, .. } => inq.ends.len(),
            _ => 0,
        }
    }
}

fn socket_type(t: u8) -> SocketType {
    match t % 4 {
        0 => SocketType::Pair,
        1 => SocketType::Push,
        2 => SocketType::Pull,
        _ => SocketType::Dealer,
    }
}

fn outcome(r: Result<(), Error>) -> Outcome {
    match r {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Err(e),
    }
}

fn recv_outcome(r: Result<Message, Error>) -> Outcome {
    match r {
        Ok(m) => Outcome::Msg(m),
        Err(e) => Outcome::Err(e),
    }
}

/// A waker that counts its wake-ups.
#[derive(Debug, Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl WakeCount {
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Polls a receive future once by hand; `Pending` compares as `WouldBlock` (what a
/// `try_recv` in its place would have returned).
fn poll_recv(fut: &mut RecvFuture<'_>, waker: &Waker) -> Option<Outcome> {
    match Pin::new(fut).poll(&mut TaskContext::from_waker(waker)) {
        Poll::Ready(r) => Some(recv_outcome(r)),
        Poll::Pending => None,
    }
}

/// A `recv_async` future polled once and left pending, with its waker's count.
struct Pending<'a> {
    sock: SockId,
    fut: RecvFuture<'a>,
    count: Arc<WakeCount>,
    waker: Waker,
}

/// Runs operations on the library and on the model side by side.
#[derive(Debug)]
pub(crate) struct Harness {
    ctx: Context,
    /// Open sockets, by model index (closed ones are `None`). In an `Arc` so that the
    /// pending futures of one step can borrow sockets while the step adds or closes
    /// others.
    real: Vec<Option<Arc<Socket>>>,
    model: Model,
    next_msg: u64,
    /// Check readiness (sockets, poller, futures) after every operation.
    readiness: bool,
    /// `(readable, writable)` of each open socket at the last check.
    last: Vec<(bool, bool)>,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new(true)
    }
}

impl Harness {
    /// A harness over a fresh context; `readiness`: check readiness after every
    /// operation (which, like any `Socket::readable` call, adopts handed-over pipes and
    /// stashes a message at once), else never look (hand-over stays pending until the
    /// binder's next call).
    pub(crate) fn new(readiness: bool) -> Self {
        Harness {
            ctx: Context::new(),
            real: Vec::new(),
            model: Model::default(),
            next_msg: 0,
            readiness,
            last: Vec::new(),
        }
    }

    /// What the model counted so far.
    pub(crate) fn coverage(&self) -> Coverage {
        self.model.coverage
    }

    /// Indices of open sockets.
    fn open(&self) -> Vec<usize> {
        (0..self.real.len())
            .filter(|&i| self.real[i].is_some())
            .collect()
    }

    fn pick(&self, k: u8) -> Option<usize> {
        let open = self.open();
        (!open.is_empty()).then(|| open[k as usize % open.len()])
    }

    fn sock(&self, s: usize) -> &Socket {
        self.real[s].as_ref().expect("picked an open socket")
    }

    /// Applies `op` to both and panics if they differ (readiness included, when
    /// checked). Returns the common outcome, `None` if the operation had no socket.
    pub(crate) fn step(&mut self, op: Op) -> Option<Outcome> {
        if !self.readiness {
            return self.apply(op);
        }
        // Futures on every socket that can receive and is not readable, except one the
        // operation closes (a future borrows its socket).
        let closing = match op {
            Op::Close(k) => self.pick(k),
            _ => None,
        };
        let watched: Vec<(SockId, Arc<Socket>)> = if self.model.terminated {
            Vec::new()
        } else {
            self.open()
                .into_iter()
                .filter(|&s| {
                    Some(s) != closing
                        && self.model.socks[s].ty != SocketType::Push
                        && !self.last.get(s).is_some_and(|&(r, _)| r)
                })
                .map(|s| (s, self.real[s].clone().expect("open")))
                .collect()
        };
        let mut pending = Vec::new();
        for (s, sock) in &watched {
            let count = Arc::new(WakeCount::default());
            let waker = Waker::from(count.clone());
            let mut fut = sock.recv_async();
            let real = poll_recv(&mut fut, &waker);
            let model = recv_outcome(self.model.try_recv(*s));
            match real {
                None => {
                    assert_eq!(
                        model,
                        Outcome::Err(Error::WouldBlock),
                        "recv_async on socket {s} is pending before {op:?}, the model differs"
                    );
                    self.model.coverage.futures_pending += 1;
                    pending.push(Pending {
                        sock: *s,
                        fut,
                        count,
                        waker,
                    });
                }
                Some(real) => assert_eq!(
                    real, model,
                    "recv_async on socket {s} before {op:?}: library and model differ"
                ),
            }
        }
        let before: Vec<usize> = pending.iter().map(|p| p.count.get()).collect();
        let result = self.apply(op);
        let woken: Vec<bool> = pending
            .iter()
            .zip(before)
            .map(|(p, b)| p.count.get() > b)
            .collect();
        let ready = self.check_sockets(op);
        for (mut p, woken) in pending.into_iter().zip(woken) {
            let s = p.sock;
            if self.model.terminated || ready[s].0 {
                assert!(
                    woken,
                    "a pending recv_async on socket {s} was not woken by {op:?}, which made \
                     it ready (model: {})",
                    if self.model.terminated {
                        "terminated"
                    } else {
                        "readable"
                    }
                );
            }
            if woken {
                let real =
                    poll_recv(&mut p.fut, &p.waker).unwrap_or(Outcome::Err(Error::WouldBlock));
                let model = recv_outcome(self.model.try_recv(s));
                assert_eq!(
                    real, model,
                    "recv_async on socket {s}, woken by {op:?}: library and model differ"
                );
                if matches!(real, Outcome::Msg(_)) {
                    self.model.coverage.futures_woken += 1;
                }
            }
        }
        drop(watched);
        self.check_poller(op);
        result
    }

    /// Compares `Socket::readable` and `Socket::writable` of every open socket (in index
    /// order, readable first) with the model. Returns them by socket index.
    fn check_sockets(&mut self, op: Op) -> Vec<(bool, bool)> {
        let mut now = vec![(false, false); self.real.len()];
        for s in self.open() {
            let sock = self.real[s].clone().expect("open");
            let real = (sock.readable(), sock.writable());
            let model = (self.model.readable(s), self.model.writable(s));
            assert_eq!(
                real, model,
                "(readable, writable) of socket {s} ({:?}) after {op:?}: library and model differ",
                self.model.socks[s].ty
            );
            let cov = &mut self.model.coverage;
            cov.readiness_checks += 1;
            let last = self.last.get(s).copied().unwrap_or_default();
            cov.readable_transitions += usize::from(last.0 != model.0);
            cov.writable_transitions += usize::from(last.1 != model.1);
            now[s] = model;
        }
        self.last = now.clone();
        now
    }

    /// A zero-timeout `Poller::wait` over every open socket (readable and writable
    /// interest, token = position in index order) must report exactly the model's ready
    /// set; after shutdown it is `Terminated`.
    fn check_poller(&mut self, op: Op) {
        let open = self.open();
        if open.is_empty() {
            return;
        }
        let socks: Vec<Arc<Socket>> = open
            .iter()
            .map(|&s| self.real[s].clone().expect("open"))
            .collect();
        let mut poller = Poller::new();
        for sock in &socks {
            poller.add(sock, Interest::READABLE | Interest::WRITABLE);
        }
        let real = poller.wait(Some(Duration::ZERO)).map(<[Event]>::to_vec);
        let model = if self.model.terminated {
            Err(Error::Terminated)
        } else {
            let mut events = Vec::new();
            for (token, &s) in open.iter().enumerate() {
                let (readable, writable) = (self.model.readable(s), self.model.writable(s));
                self.last[s] = (readable, writable);
                if readable || writable {
                    events.push(Event {
                        token,
                        readable,
                        writable,
                    });
                }
            }
            Ok(events)
        };
        assert_eq!(
            real, model,
            "Poller::wait(Some(ZERO)) over sockets {open:?} after {op:?}: library and model differ"
        );
        self.model.coverage.poller_checks += 1;
    }

    /// Applies `op` to the library and the model and compares the outcomes.
    fn apply(&mut self, op: Op) -> Option<Outcome> {
        let name = |n: u8| NAMES[n as usize % NAMES.len()];
        let (real, model) = match op {
            Op::Socket(t) => {
                let ty = socket_type(t);
                let real = match self.ctx.socket(ty) {
                    Ok(s) => {
                        self.real.push(Some(Arc::new(s)));
                        Outcome::Created(self.real.len() - 1)
                    }
                    Err(e) => Outcome::Err(e),
                };
                (real, self.model.new_socket(ty))
            }
            Op::Close(k) => {
                let s = self.pick(k)?;
                let sock = self.real[s].take().expect("open");
                assert!(
                    Arc::into_inner(sock).is_some(),
                    "closing socket {s}: still borrowed"
                );
                self.model.close(s);
                (Outcome::Ok, Outcome::Ok)
            }
            Op::Bind(k, n) => {
                let s = self.pick(k)?;
                (
                    outcome(self.sock(s).bind(name(n))),
                    outcome(self.model.bind(s, name(n))),
                )
            }
            Op::Unbind(k, n) => {
                let s = self.pick(k)?;
                (
                    outcome(self.sock(s).unbind(name(n))),
                    outcome(self.model.unbind(s, name(n))),
                )
            }
            Op::Connect(k, n) => {
                let s = self.pick(k)?;
                (
                    outcome(self.sock(s).connect(name(n))),
                    outcome(self.model.connect(s, name(n))),
                )
            }
            Op::Disconnect(k, n) => {
                let s = self.pick(k)?;
                (
                    outcome(self.sock(s).disconnect(name(n))),
                    outcome(self.model.disconnect(s, name(n))),
                )
            }
            Op::TrySend(k, f) => {
                let s = self.pick(k)?;
                self.next_msg += 1;
                let id = self.next_msg.to_le_bytes().to_vec();
                let msg =
                    Message::from_frames((0..1 + f % 3).map(|i| [id.clone(), vec![i]].concat()));
                let real = match self.sock(s).try_send(msg.clone()) {
                    Ok(()) => Outcome::Ok,
                    Err(e) => {
                        assert_eq!(e.message(), &msg, "a failed send gives the message back");
                        Outcome::Err(e.error().clone())
                    }
                };
                (real, outcome(self.model.try_send(s, msg)))
            }
            Op::TryRecv(k) => {
                let s = self.pick(k)?;
                let many = self.model.fq_len(s) >= 3;
                let real = recv_outcome(self.sock(s).try_recv());
                let model = recv_outcome(self.model.try_recv(s));
                if many && matches!(model, Outcome::Msg(_)) {
                    self.model.coverage.recv_with_3_peers += 1;
                }
                (real, model)
            }
            Op::TrySendBatch(k, n) => {
                let s = self.pick(k)?;
                let msgs: Vec<Message> = (0..1 + n % 4)
                    .map(|_| {
                        self.next_msg += 1;
                        Message::from(self.next_msg.to_le_bytes().to_vec())
                    })
                    .collect();
                let real = match self.sock(s).try_send_batch(msgs.clone()) {
                    Ok(n) => Outcome::Sent(n, None),
                    Err(e) => {
                        assert_eq!(
                            e.message(),
                            &msgs[e.sent()],
                            "a batch that stops gives back the message it stopped at"
                        );
                        Outcome::Sent(e.sent(), Some(e.error().clone()))
                    }
                };
                let mut sent = 0;
                let mut stop = None;
                for m in msgs {
                    match self.model.try_send(s, m) {
                        Ok(()) => sent += 1,
                        Err(e) => {
                            stop = Some(e);
                            break;
                        }
                    }
                }
                (real, Outcome::Sent(sent, stop))
            }
            Op::TryRecvBatch(k, max) => {
                let s = self.pick(k)?;
                let max = usize::from(max % 4);
                let mut out = Vec::new();
                let real = match self.sock(s).try_recv_batch(&mut out, max) {
                    Ok(n) => {
                        assert_eq!(n, out.len(), "the count is what was appended");
                        Outcome::Got(out, None)
                    }
                    Err(e) => {
                        assert!(out.is_empty(), "a failed batch receive appends nothing");
                        Outcome::Got(out, Some(e))
                    }
                };
                let mut got = Vec::new();
                let mut stop = None;
                while got.len() < max {
                    match self.model.try_recv(s) {
                        Ok(m) => got.push(m),
                        Err(e) => {
                            if got.is_empty() {
                                stop = Some(e);
                            }
                            break;
                        }
                    }
                }
                (real, Outcome::Got(got, stop))
            }
            Op::SetSndHwm(k, v) => {
                let s = self.pick(k)?;
                let v = usize::from(v % 4);
                (
                    outcome(self.sock(s).set_sndhwm(v)),
                    outcome(self.model.set_hwm(s, Some(v), None)),
                )
            }
            Op::SetRcvHwm(k, v) => {
                let s = self.pick(k)?;
                let v = usize::from(v % 4);
                (
                    outcome(self.sock(s).set_rcvhwm(v)),
                    outcome(self.model.set_hwm(s, None, Some(v))),
                )
            }
            Op::Shutdown => {
                self.ctx.shutdown();
                self.model.terminated = true;
                (Outcome::Ok, Outcome::Ok)
            }
        };
        assert_eq!(real, model, "library and reference model differ on {op:?}");
        Some(real)
    }

    /// Runs a whole sequence twice: once without looking at readiness (hand-over stays
    /// pending until the binder's next call, nothing is stashed), once with the readiness
    /// checks after every operation. Returns what the model counted in both.
    pub(crate) fn run(ops: &[Op]) -> Coverage {
        let mut total = Coverage::default();
        for readiness in [false, true] {
            let mut h = Harness::new(readiness);
            for &op in ops {
                h.step(op);
            }
            total += h.coverage();
        }
        total
    }
}
