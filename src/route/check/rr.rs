//! The round-robin policies, [`FairQueue`] and [`LoadBalance`], over real pipes, against
//! a reference that knows nothing of indices (SPEC D-3, D-4).
//!
//! **Reference.** Every pipe gets an increasing attach number. A rotation's cursor is an
//! attach number `c`: the next pipe tried is the member with the smallest attach number
//! `>= c`, wrapping to the smallest; after trying member `a` (a message read or sent, or
//! found empty or full) `c = a + 1`; a member leaving never moves `c`. A receive tries
//! each member at most once and gives "nothing" only when every member was found empty;
//! a send likewise only when every live member was full. Each direction of a pipe is a
//! `VecDeque` with the pipe layer's window rule (a writer may have `window` messages
//! written and not yet credited; the reader credits every `lwm = ceil(window / 2)` reads
//! and on an empty read: `model/reference.rs`'s `Conn`).
//!
//! **Operations**, for pipes by attach number: attach a pipe (windows alternate 2 and 3
//! by attach number, so a few writes fill one, and with window 3 one read does not give
//! credit back), detach it (socket-side removal), the peer closes, the peer writes, the
//! peer reads (credit back), the socket receives ([`FairQueue::recv`]), the socket sends
//! ([`LoadBalance::send`]). After every step, [`LoadBalance::writable`] must agree with the
//! reference, a receive that finds nothing must leave no readable pipe in the set, and a
//! refused send no writable one.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::Model;
use crate::msg::Message;
use crate::pipe::{EndInfo, Hwm, PipeEnd, RecvFail, SendFail, pair};
use crate::route::fair_queue::FairQueue;
use crate::route::load_balance::LoadBalance;
use crate::route::{PipeId, PipeSet};
use crate::sync::Arc;
use crate::wait::Notify;

/// Which policies the socket runs over its pipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Config {
    /// `FairQueue` only.
    Pull,
    /// `LoadBalance` only, dropping dead pipes from the set.
    Push,
    /// Both over the same pipes (`LoadBalance::sharing_pipes`).
    Dealer,
}

impl Config {
    /// The socket receives (`FairQueue`).
    fn reads(self) -> bool {
        matches!(self, Config::Pull | Config::Dealer)
    }

    /// The socket sends (`LoadBalance`).
    fn writes(self) -> bool {
        matches!(self, Config::Push | Config::Dealer)
    }
}

/// Bounds of a [`RoundRobin`] model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// The policies under test.
    pub(crate) config: Config,
    /// At most this many pipes attached at once.
    pub(crate) max_live: usize,
}

impl Params {
    /// `config` with at most `max_live` pipes attached at once.
    pub(crate) fn new(config: Config, max_live: usize) -> Self {
        Params { config, max_live }
    }
}

/// Total attaches allowed (pipe numbers are bytes in messages and ops).
const MAX_ATTACHES: usize = 200;

/// One operation; pipes are named by attach number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A new pipe joins the socket.
    Attach,
    /// The socket removes the pipe (and its end closes); the peer end is dropped too.
    Detach(u8),
    /// The peer closes its end.
    PeerGone(u8),
    /// The peer writes one message (refused when the window is full).
    PeerWrite(u8),
    /// The peer reads one message (returning credit).
    PeerRead(u8),
    /// `FairQueue::recv`.
    Recv,
    /// `FairQueue::recv_many` of at most this many (a batch receive).
    RecvMany(u8),
    /// `LoadBalance::send`.
    Send,
}

/// The credit interval of a (non-zero) window, as `pipe::queue::lwm`.
fn lwm(window: usize) -> usize {
    window.div_ceil(2).max(1)
}

/// One direction of a reference pipe.
#[derive(Debug, Default)]
struct Dir {
    queue: VecDeque<Message>,
    /// Messages read, and the part of them credited back to the writer.
    read: usize,
    credited: usize,
}

impl Dir {
    /// Written and not yet credited, below the window?
    fn has_room(&self, window: usize) -> bool {
        self.queue.len() + self.read - self.credited < window
    }

    /// A read: credit goes back every `lwm` reads, and on an empty read.
    fn pop(&mut self, window: usize) -> Option<Message> {
        let Some(m) = self.queue.pop_front() else {
            self.credited = self.read;
            return None;
        };
        self.read += 1;
        if self.read - self.credited >= lwm(window) {
            self.credited = self.read;
        }
        Some(m)
    }
}

/// A pipe: the reference's view, and the implementation's peer end and id.
#[derive(Debug)]
struct Pipe {
    /// The implementation's id of the socket's end.
    id: PipeId,
    /// The peer end; `None` once closed.
    peer: Option<PipeEnd>,
    window: usize,
    /// The socket's end is still in the set.
    owned: bool,
    /// Member of the receive / send rotation.
    in_fq: bool,
    in_lb: bool,
    /// Peer to socket, and socket to peer.
    inbound: Dir,
    outbound: Dir,
    /// Messages the peer has written (numbers their contents).
    written: u16,
}

/// The policies over real pipes, and the reference. See the module docs.
#[derive(Debug)]
pub(crate) struct RoundRobin {
    params: Params,
    set: PipeSet,
    fq: FairQueue,
    lb: LoadBalance,
    /// By attach number.
    pipes: Vec<Pipe>,
    /// The reference cursors (attach numbers).
    fq_cursor: usize,
    lb_cursor: usize,
    /// Messages the socket has sent (numbers their contents).
    sent: u16,
}

/// What a step observed, to compare.
/// What an operation gave: the messages it took (with their pipes' attach numbers; a
/// receive, a batch receive, a peer's read), or why it failed.
type Got = Result<Vec<(usize, Message)>, &'static str>;

impl RoundRobin {
    /// Attaches a new pipe to the set, the policies and the reference.
    fn attach(&mut self) {
        let a = self.pipes.len();
        let window = if a % 2 == 0 { 2 } else { 3 };
        let info = |snd| EndInfo {
            hwm: Hwm::new(snd, 1),
            routing_id: None,
        };
        let (mine, peer) = pair(
            info(window - 1),
            Arc::new(Notify::new()),
            false,
            Some(info(window - 1)),
        );
        let id = self.set.insert(mine);
        if self.params.config.reads() {
            self.fq.add(id);
        }
        if self.params.config.writes() {
            self.lb.add(id);
        }
        self.pipes.push(Pipe {
            id,
            peer: Some(peer),
            window,
            owned: true,
            in_fq: self.params.config.reads(),
            in_lb: self.params.config.writes(),
            inbound: Dir::default(),
            outbound: Dir::default(),
            written: 0,
        });
    }

    /// The attach number of the pipe with implementation id `id`.
    fn number(&self, id: PipeId) -> usize {
        let found = self.pipes.iter().position(|p| p.id == id);
        found.unwrap_or_else(|| panic!("an id never issued: {id:?}"))
    }

    /// The next member of a rotation from `cursor` (attach numbers), wrapping.
    fn next_member(&self, cursor: usize, member: impl Fn(&Pipe) -> bool) -> Option<usize> {
        let mut members = (0..self.pipes.len()).filter(|&a| member(&self.pipes[a]));
        let first = members.clone().next()?;
        Some(members.find(|&a| a >= cursor).unwrap_or(first))
    }

    /// The reference receive.
    fn ref_recv(&mut self) -> Option<(usize, Message)> {
        let mut empty = Vec::new();
        while let Some(a) = self.next_member(self.fq_cursor, |p| p.in_fq) {
            if empty.contains(&a) {
                break;
            }
            let p = &mut self.pipes[a];
            if !p.owned {
                p.in_fq = false;
            } else if let Some(m) = p.inbound.pop(p.window) {
                self.fq_cursor = a + 1;
                return Some((a, m));
            } else if p.peer.is_none() {
                (p.in_fq, p.owned) = (false, false);
            } else {
                empty.push(a);
                self.fq_cursor = a + 1;
            }
        }
        let holding = self
            .pipes
            .iter()
            .position(|p| p.in_fq && !p.inbound.queue.is_empty());
        assert_eq!(
            holding, None,
            "reference: nothing received, yet a member holds a message"
        );
        None
    }

    /// The reference send: the pipe that took `m`, if any.
    fn ref_send(&mut self, m: Message) -> Option<usize> {
        let shared = self.params.config.reads();
        let mut full = Vec::new();
        while let Some(a) = self.next_member(self.lb_cursor, |p| p.in_lb) {
            if full.contains(&a) {
                break;
            }
            let p = &mut self.pipes[a];
            if !p.owned {
                p.in_lb = false;
            } else if p.peer.is_none() {
                p.in_lb = false;
                p.owned &= shared;
            } else if p.outbound.has_room(p.window) {
                p.outbound.queue.push_back(m);
                self.lb_cursor = a + 1;
                return Some(a);
            } else {
                full.push(a);
                self.lb_cursor = a + 1;
            }
        }
        assert!(
            !self.ref_writable(),
            "reference: send refused, yet a member has room"
        );
        None
    }

    /// The reference `writable`: some live member has room.
    fn ref_writable(&self) -> bool {
        self.pipes
            .iter()
            .any(|p| p.in_lb && p.owned && p.peer.is_some() && p.outbound.has_room(p.window))
    }

    /// Applies `op` to both sides: (implementation, reference).
    fn apply(&mut self, op: Op) -> (Got, Got) {
        let ours = |r: Result<Message, RecvFail>| match r {
            Ok(m) => Ok(vec![(0, m)]),
            Err(RecvFail::Empty) => Err("empty"),
            Err(RecvFail::PeerGone) => Err("peer gone"),
        };
        match op {
            Op::Attach => {
                self.attach();
                (Ok(vec![]), Ok(vec![]))
            }
            Op::Detach(a) => {
                let p = &mut self.pipes[usize::from(a)];
                self.fq.remove(p.id);
                self.lb.remove(p.id);
                let removed = self.set.remove(p.id).is_some();
                (p.owned, p.in_fq, p.in_lb, p.peer) = (false, false, false, None);
                let got = if removed {
                    Ok(vec![])
                } else {
                    Err("not in the set")
                };
                (got, Ok(vec![]))
            }
            Op::PeerGone(a) => {
                self.pipes[usize::from(a)].peer = None;
                (Ok(vec![]), Ok(vec![]))
            }
            Op::PeerWrite(a) => {
                let p = &mut self.pipes[usize::from(a)];
                let m = Message::from(vec![b'i', a, p.written as u8, (p.written >> 8) as u8]);
                p.written += 1;
                let peer = p.peer.as_mut().expect("only live peers write");
                let got = match peer.send(m.clone()) {
                    Ok(()) => Ok(vec![]),
                    Err(SendFail::Full(_)) => Err("full"),
                    Err(SendFail::PeerGone(_)) => Err("peer gone"),
                };
                let want = if !p.owned {
                    Err("peer gone")
                } else if p.inbound.has_room(p.window) {
                    p.inbound.queue.push_back(m);
                    Ok(vec![])
                } else {
                    Err("full")
                };
                (got, want)
            }
            Op::PeerRead(a) => {
                let p = &mut self.pipes[usize::from(a)];
                let got = ours(p.peer.as_mut().expect("only live peers read").recv());
                let want = match p.outbound.pop(p.window) {
                    Some(m) => Ok(vec![(0, m)]),
                    None if p.owned => Err("empty"),
                    None => Err("peer gone"),
                };
                (got, want)
            }
            Op::Recv => {
                let got = self
                    .fq
                    .recv(&mut self.set)
                    .map(|(id, m)| (self.number(id), m));
                let want = Ok(self.ref_recv().into_iter().collect());
                if got.is_none() && self.set.ends_mut().any(|e| e.readable()) {
                    return (Err("nothing, with a readable pipe in the set"), want);
                }
                (Ok(got.into_iter().collect()), want)
            }
            Op::RecvMany(max) => {
                // The reference batch: `max` receives, stopping at the first "nothing".
                let mut want = Vec::new();
                while want.len() < usize::from(max) {
                    match self.ref_recv() {
                        Some(got) => want.push(got),
                        None => break,
                    }
                }
                let mut msgs = Vec::new();
                let n = self
                    .fq
                    .recv_many(&mut self.set, &mut msgs, usize::from(max));
                if n != msgs.len() {
                    return (Err("count differs from the messages taken"), Ok(want));
                }
                // Which pipe each came from is not reported by a batch: the messages
                // carry their pipe's attach number (`PeerWrite`).
                let got: Vec<_> = msgs
                    .into_iter()
                    .map(|m| (usize::from(m.frames()[0][1]), m))
                    .collect();
                if got.len() < usize::from(max) && self.set.ends_mut().any(|e| e.readable()) {
                    return (
                        Err("short batch, with a readable pipe in the set"),
                        Ok(want),
                    );
                }
                (Ok(got), Ok(want))
            }
            Op::Send => {
                let m = Message::from(vec![b'o', self.sent as u8, (self.sent >> 8) as u8]);
                self.sent += 1;
                let got = match self.lb.send(&mut self.set, m.clone()) {
                    Ok(id) => Ok(vec![(self.number(id), m.clone())]),
                    Err(back) if back == m => Ok(vec![]),
                    Err(_) => Err("gave back another message"),
                };
                let want = Ok(self
                    .ref_send(m.clone())
                    .map(|a| (a, m))
                    .into_iter()
                    .collect());
                if got == Ok(vec![]) && self.set.ends_mut().any(|e| e.writable()) {
                    return (Err("refused, with a writable pipe in the set"), want);
                }
                (got, want)
            }
        }
    }
}

impl Model for RoundRobin {
    type Op = Op;
    type Params = Params;

    fn new(params: Params) -> Self {
        let lb = if params.config.reads() {
            LoadBalance::sharing_pipes()
        } else {
            LoadBalance::default()
        };
        RoundRobin {
            params,
            set: PipeSet::default(),
            fq: FairQueue::default(),
            lb,
            pipes: Vec::new(),
            fq_cursor: 0,
            lb_cursor: 0,
            sent: 0,
        }
    }

    fn ops(&self, out: &mut Vec<Op>) {
        let live = self.pipes.iter().filter(|p| p.owned).count();
        if live < self.params.max_live && self.pipes.len() < MAX_ATTACHES {
            out.push(Op::Attach);
        }
        let config = self.params.config;
        for (a, p) in self.pipes.iter().enumerate() {
            let a = a as u8;
            if p.owned {
                out.push(Op::Detach(a));
            }
            if p.peer.is_some() {
                out.push(Op::PeerGone(a));
                if config.reads() {
                    out.push(Op::PeerWrite(a));
                }
                if config.writes() {
                    out.push(Op::PeerRead(a));
                }
            }
        }
        if config.reads() {
            out.push(Op::Recv);
            out.push(Op::RecvMany(2));
            out.push(Op::RecvMany(3));
        }
        if config.writes() {
            out.push(Op::Send);
        }
    }

    fn step(&mut self, op: Op, check: bool) -> Result<(), String> {
        let (got, want) = self.apply(op);
        if got != want {
            let who = |r: &Got| match r {
                Ok(v) if v.is_empty() => "nothing".to_string(),
                Ok(v) => v
                    .iter()
                    .map(|(a, m)| format!("pipe {a}: {m:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                Err(e) => e.to_string(),
            };
            return Err(format!(
                "{op:?}: implementation {}, reference {}",
                who(&got),
                who(&want)
            ));
        }
        if check && self.params.config.reads() {
            // The credit the socket's reads returned, as each peer (the writer) sees
            // it, against the reference's: a batch must credit as its reads would.
            for (a, p) in self.pipes.iter_mut().enumerate() {
                if let (true, Some(peer)) = (p.owned, p.peer.as_mut()) {
                    let got = peer.queued_out();
                    let want = p.inbound.queue.len() + p.inbound.read - p.inbound.credited;
                    if got != want {
                        return Err(format!(
                            "after {op:?}: pipe {a}'s writer counts {got} uncredited, reference {want}"
                        ));
                    }
                }
            }
        }
        if check && self.params.config.writes() {
            let (got, want) = (self.lb.writable(&mut self.set), self.ref_writable());
            if got != want {
                return Err(format!(
                    "after {op:?}: writable() is {got}, reference {want}"
                ));
            }
        }
        Ok(())
    }

    fn key(&self) -> String {
        let mut fq = format!("{:?}", self.fq);
        let mut lb = format!("{:?}", self.lb);
        let mut key = format!("{} ", self.pipes.len() % 2);
        let mut rank = 0;
        let mut ranks = Vec::new();
        for p in &self.pipes {
            let id = format!("{:?}", p.id);
            let relevant = p.owned || p.in_fq || p.in_lb || p.peer.is_some();
            if !relevant && !fq.contains(&id) && !lb.contains(&id) {
                ranks.push(rank);
                continue;
            }
            let flag = |b: bool| if b { '1' } else { '0' };
            let dir = |d: &Dir| format!("{},{}", d.queue.len(), d.read - d.credited);
            let _ = write!(
                key,
                "[w{} {}{}{}{} in {} out {}]",
                p.window,
                flag(p.owned),
                flag(p.peer.is_some()),
                flag(p.in_fq),
                flag(p.in_lb),
                dir(&p.inbound),
                dir(&p.outbound)
            );
            fq = fq.replace(&id, &format!("#{rank}"));
            lb = lb.replace(&id, &format!("#{rank}"));
            ranks.push(rank);
            rank += 1;
        }
        // A cursor as the number of relevant pipes before it.
        let at = |c: usize| ranks.get(c).copied().unwrap_or(rank);
        let _ = write!(
            key,
            " fq@{} lb@{} {fq} {lb}",
            at(self.fq_cursor),
            at(self.lb_cursor)
        );
        key
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::super::explore_and_report;
    use super::*;

    /// Pipes attached at once in the exhaustive tests run by `cargo test`.
    const PIPES: usize = 4;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn fair_queue_matches_reference_on_every_sequence() {
        let s = explore_and_report::<RoundRobin>("rr", Params::new(Config::Pull, PIPES), 8);
        assert_eq!(s.max_len, 8);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn load_balance_matches_reference_on_every_sequence() {
        let s = explore_and_report::<RoundRobin>("rr", Params::new(Config::Push, PIPES), 9);
        assert_eq!(s.max_len, 9);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn shared_pipes_match_reference_on_every_sequence() {
        let s = explore_and_report::<RoundRobin>("rr", Params::new(Config::Dealer, PIPES), 7);
        assert_eq!(s.max_len, 7);
    }

    /// Two pipes at a time, deeper: a cursor left stale when the rotation empties shows
    /// only after it refills with two pipes that both hold data (9 operations).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn two_pipes_match_reference_on_longer_sequences() {
        for (config, len) in [(Config::Pull, 10), (Config::Push, 10), (Config::Dealer, 8)] {
            let s = explore_and_report::<RoundRobin>("rr", Params::new(config, 2), len);
            assert_eq!(s.max_len, len);
        }
    }

    #[test]
    #[ignore = "minutes in a debug build: run with --ignored"]
    fn round_robin_matches_reference_on_longer_sequences() {
        explore_and_report::<RoundRobin>("rr", Params::new(Config::Pull, PIPES), 10);
        explore_and_report::<RoundRobin>("rr", Params::new(Config::Dealer, PIPES), 9);
    }

    /// The sequence that found the lost-cursor bug (SPEC D-4): x, y, z attached; a receive
    /// finds all empty; y sends 2; a receive gets y's first; x closes having sent
    /// nothing; the next receive must get y's second.
    #[test]
    fn drained_dead_pipe_does_not_skip_the_next() {
        use Op::*;
        let mut m = RoundRobin::new(Params::new(Config::Pull, 3));
        let ops = [
            Attach,
            Attach,
            Attach,
            Recv,
            PeerWrite(1),
            PeerWrite(1),
            Recv,
            PeerGone(0),
        ];
        for op in ops {
            m.step(op, true).unwrap();
        }
        let got = m.fq.recv(&mut m.set).map(|(id, msg)| (m.number(id), msg));
        assert_eq!(got, Some((1, Message::from(vec![b'i', 1, 1, 0]))));
    }
}
