//! A sequential reference model of one context: the registry (SPEC R, C), the pipes with
//! their windows and credit (H), the PAIR/PUSH/PULL routing (D), close and shutdown (K).
//!
//! It is written from SPEC.md as plain single-threaded code, with no atomics, no queues
//! shared between threads and no reclamation, and it mirrors the library's documented
//! policies exactly (round-robin cursors, credit every LWM reads or on an empty read,
//! hand-over at the binder's next call), so that a single-threaded sequence of operations
//! has exactly one correct outcome. [`Harness`] runs the same operations on the library
//! and on the model and panics at the first difference.
//!
//! Users: the fuzz target `ops` (`fuzz/fuzz_targets/ops.rs`), the integration test
//! `tests/reference_ops.rs` (seeded random sequences on every `cargo test`), and the
//! shuttle models, which check the delivery properties this model implies under
//! concurrency.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use inproc::{Context, Error, Message, Socket, SocketType};

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

    fn send(&mut self, side: usize, m: Message) -> Result<(), Message> {
        if self.closed[1 - side] {
            return Err(m);
        }
        let w = self.window(side);
        let d = &mut self.dirs[side];
        if w != 0 && d.written - d.credited >= w {
            return Err(m);
        }
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

#[derive(Debug)]
enum Pattern {
    Pair {
        peer: Option<End>,
        refused: bool,
    },
    Push {
        order: Vec<End>,
        next: usize,
    },
    Pull {
        order: Vec<End>,
        next: usize,
    },
    /// Load-balanced out (dead pipes only leave the rotation) and fair-queued in.
    Dealer {
        out: Vec<End>,
        out_next: usize,
        order: Vec<End>,
        next: usize,
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

/// The reference model. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Model {
    terminated: bool,
    socks: Vec<Sock>,
    names: BTreeMap<String, Name>,
    conns: Vec<Conn>,
}

/// Outcome of an operation, comparable between library and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Err(Error),
    Msg(Message),
    /// A socket was created at this index.
    Created(usize),
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
                    Pattern::Push { order, .. } | Pattern::Pull { order, .. } => order.push(end),
                    Pattern::Dealer { out, order, .. } => {
                        out.push(end);
                        order.push(end);
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
        if !ty.is_implemented() {
            return Outcome::Err(Error::NotSupported);
        }
        if self.terminated {
            return Outcome::Err(Error::Terminated);
        }
        let pattern = match ty {
            SocketType::Pair => Pattern::Pair {
                peer: None,
                refused: false,
            },
            SocketType::Push => Pattern::Push {
                order: Vec::new(),
                next: 0,
            },
            SocketType::Dealer => Pattern::Dealer {
                out: Vec::new(),
                out_next: 0,
                order: Vec::new(),
                next: 0,
            },
            _ => Pattern::Pull {
                order: Vec::new(),
                next: 0,
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
        });
        Outcome::Created(self.socks.len() - 1)
    }

    fn close(&mut self, s: SockId) {
        self.names
            .retain(|_, n| !matches!(n, Name::Bound { sock, .. } if *sock == s));
        for c in std::mem::take(&mut self.socks[s].inbox) {
            self.close_end((c, 1));
        }
        for end in std::mem::take(&mut self.socks[s].pipes) {
            self.close_end(end);
        }
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
        match self.names.get_mut(&ep) {
            Some(Name::Bound { sock, snd, rcv }) => {
                let (b, snd, rcv) = (*sock, *snd, *rcv);
                self.conns.push(Conn {
                    closed: [false; 2],
                    refused: false,
                    hwm: [me, (snd, rcv)],
                    dirs: Default::default(),
                });
                self.socks[b].inbox.push(c);
            }
            Some(Name::Pending(list)) => {
                list.push(c);
                self.conns.push(Conn {
                    closed: [false; 2],
                    refused: false,
                    hwm: [me, (UNKNOWN, UNKNOWN)],
                    dirs: Default::default(),
                });
            }
            None => {
                self.names.insert(ep.clone(), Name::Pending(vec![c]));
                self.conns.push(Conn {
                    closed: [false; 2],
                    refused: false,
                    hwm: [me, (UNKNOWN, UNKNOWN)],
                    dirs: Default::default(),
                });
            }
        }
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
        for end in ends {
            match &mut self.socks[s].pattern {
                Pattern::Pair { peer, .. } => {
                    if *peer == Some(end) {
                        *peer = None;
                    }
                }
                Pattern::Push { order, next } | Pattern::Pull { order, next } => {
                    forget(order, next, end);
                }
                Pattern::Dealer {
                    out,
                    out_next,
                    order,
                    next,
                } => {
                    forget(out, out_next, end);
                    forget(order, next, end);
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

    /// `LoadBalance::send`: `Ok` or the message back. `shared`: dead pipes only leave
    /// the rotation (DEALER); otherwise they are dropped from the socket (PUSH).
    fn load_balance(&mut self, s: SockId, mut m: Message, shared: bool) -> Result<(), Message> {
        let mut tried = 0;
        loop {
            let (order, next) = self.lb_of(s);
            if tried >= order.len() {
                return Err(m);
            }
            let i = *next % order.len();
            let (c, side) = order[i];
            if !self.socks[s].pipes.contains(&(c, side)) {
                self.lb_of(s).0.remove(i);
                continue;
            }
            if self.conns[c].peer_closed(side) {
                self.lb_of(s).0.remove(i);
                if !shared {
                    self.remove_pipe(s, (c, side));
                }
                continue;
            }
            let sent = self.conns[c].send(side, m);
            *self.lb_of(s).1 = i + 1;
            match sent {
                Ok(()) => return Ok(()),
                Err(back) => {
                    m = back;
                    tried += 1;
                }
            }
        }
    }

    fn lb_of(&mut self, s: SockId) -> (&mut Vec<End>, &mut usize) {
        match &mut self.socks[s].pattern {
            Pattern::Push { order, next } => (order, next),
            Pattern::Dealer { out, out_next, .. } => (out, out_next),
            _ => unreachable!(),
        }
    }

    fn fq_of(&mut self, s: SockId) -> (&mut Vec<End>, &mut usize) {
        match &mut self.socks[s].pattern {
            Pattern::Pull { order, next } | Pattern::Dealer { order, next, .. } => (order, next),
            _ => unreachable!(),
        }
    }

    /// `FairQueue::recv`.
    fn fair_queue(&mut self, s: SockId) -> Option<Message> {
        let mut checked = 0;
        loop {
            let (order, next) = self.fq_of(s);
            if checked >= order.len() {
                return None;
            }
            let i = *next % order.len();
            let (c, side) = order[i];
            if !self.socks[s].pipes.contains(&(c, side)) {
                self.fq_of(s).0.remove(i);
                continue;
            }
            match self.conns[c].recv(side) {
                Ok(m) => {
                    *self.fq_of(s).1 = i + 1;
                    return Some(m);
                }
                Err(false) => {
                    checked += 1;
                    *self.fq_of(s).1 = i + 1;
                }
                Err(true) => {
                    self.fq_of(s).0.remove(i);
                    self.remove_pipe(s, (c, side));
                }
            }
        }
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

    fn try_recv(&mut self, s: SockId) -> Result<Message, Error> {
        if self.terminated {
            return Err(Error::Terminated);
        }
        self.drain(s);
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
}

/// Removes `end` from a round-robin list, keeping the cursor on the same next pipe
/// (`LoadBalance::remove` / `FairQueue::remove`).
fn forget(order: &mut Vec<End>, next: &mut usize, end: End) {
    if let Some(i) = order.iter().position(|&e| e == end) {
        order.remove(i);
        if i < *next {
            *next -= 1;
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

/// Runs operations on the library and on the model side by side.
#[derive(Debug)]
pub(crate) struct Harness {
    ctx: Context,
    /// Open sockets, by model index (closed ones are `None`).
    real: Vec<Option<Socket>>,
    model: Model,
    next_msg: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Harness {
            ctx: Context::new(),
            real: Vec::new(),
            model: Model::default(),
            next_msg: 0,
        }
    }
}

impl Harness {
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

    /// Applies `op` to both and panics if they differ. Returns the common outcome.
    pub(crate) fn step(&mut self, op: Op) -> Option<Outcome> {
        let name = |n: u8| NAMES[n as usize % NAMES.len()];
        let (real, model) = match op {
            Op::Socket(t) => {
                let ty = socket_type(t);
                let real = match self.ctx.socket(ty) {
                    Ok(s) => {
                        self.real.push(Some(s));
                        Outcome::Created(self.real.len() - 1)
                    }
                    Err(e) => Outcome::Err(e),
                };
                (real, self.model.new_socket(ty))
            }
            Op::Close(k) => {
                let s = self.pick(k)?;
                drop(self.real[s].take());
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
                let real = match self.sock(s).try_recv() {
                    Ok(m) => Outcome::Msg(m),
                    Err(e) => Outcome::Err(e),
                };
                let model = match self.model.try_recv(s) {
                    Ok(m) => Outcome::Msg(m),
                    Err(e) => Outcome::Err(e),
                };
                (real, model)
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

    fn sock(&self, s: usize) -> &Socket {
        self.real[s].as_ref().expect("picked an open socket")
    }

    /// Runs a whole sequence.
    pub(crate) fn run(ops: &[Op]) {
        let mut h = Harness::default();
        for &op in ops {
            h.step(op);
        }
    }
}
