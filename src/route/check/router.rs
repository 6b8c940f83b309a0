//! ROUTER's routing ids ([`Router`], SPEC) over real pipes, against a
//! reference that keeps ids in a plain table.
//!
//! **Reference.** Every peer gets an attach number. A peer's pipe is *learnt* by the
//! ROUTER (given its label) at the first ROUTER call (attach, send, receive) once the
//! peer's id is known: at its attach, or, for a pipe the ROUTER connected before the peer
//! bound, at the first call after the bind; pipes learnt in one call go in attach order.
//! The label is the peer's explicit id, or else a generated one: `0x00` and the
//! big-endian counter, which starts at `counter_seed(socket)`, moves past every value it
//! hands out, and skips ids *in use* (labelling a pipe the ROUTER still holds). The route
//! table maps an id to the pipe learnt last with that label (handover); a send goes there
//! if the ROUTER still holds that pipe and its peer has not closed, and is otherwise
//! unroutable (no fall-back to an older pipe with the same label). Receives fair-queue
//! over learnt pipes in the order they were learnt (a cursor over learning numbers, as
//! the reference of [`super::rr`]), label each message with its pipe's label, and drop
//! a pipe whose peer closed once it is drained. Each direction of a pipe is a
//! `VecDeque`: the ROUTER's sends have a window of 2 with credit back on every read
//! (SNDHWM 1 + RCVHWM 1), the peers' sends are unlimited. Unroutable sends fail with
//! `HostUnreachable` under ROUTER_MANDATORY and are otherwise dropped (counted
//! `no_route`); a send to a full peer blocks (mandatory) or is dropped (counted `hwm`); a
//! send of the id frame alone is dropped (counted `malformed`) and succeeds.
//!
//! **Operations.** Attach a peer whose id is none (generated), `"A"`, or `G` (an explicit
//! id equal to the first generated one, so generated ids must skip it and an explicit
//! peer can take a generated id over), either bound at once or connected-before-bind
//! (its id unknown until [`Op::Bind`]); the later bind; the peer writes, reads, closes;
//! the ROUTER detaches the pipe (dropping the peer's end too, as a disconnect and the
//! peer's close); the ROUTER receives; the ROUTER sends to `"A"`, to `G`, to `G + 1` (the
//! second generated id) or the id frame alone. ROUTER_MANDATORY, and whether peers may
//! connect before the bind, are parameters. After every step the outcomes are compared:
//! the message (and its label) a receive returns, what a peer reads, each send's result
//! and the message it gives back, each peer write's result, and the drop counters. The
//! state key is the reference's state and the `Router`'s whole state (route table sorted,
//! pipe ids renamed to attach numbers); message contents are left out (only queue
//! lengths count), as they only number the messages.

// Under loom and shuttle the tests are off, so nothing here is used.
#![cfg_attr(any(loom, shuttle), allow(dead_code))]

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use bytes::Bytes;

use super::Model;
use crate::frame::Frame;
use crate::msg::Message;
use crate::pipe::{EndInfo, Hwm, PipeEnd, RecvFail, SendFail, pair};
use crate::route::{PipeId, PipeSet};
use crate::socket::monitor::Drops;
use crate::socket::router::{Router, counter_seed};
use crate::socket::{Attempt, Behaviour, PatternOption, SendBlock};
use crate::sync::Arc;
use crate::wait::Notify;

/// The ROUTER's socket id (it seeds the generated-id counter).
const SOCKET: u64 = 7;

/// The window of the ROUTER's sends to a peer (its SNDHWM 1 + the peer's RCVHWM 1).
const OUT_WINDOW: usize = 2;

/// Bounds and configuration of a [`RouterModel`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// Peers attached in all (attach numbers `0..peers`).
    pub(crate) peers: usize,
    /// ZMQ_ROUTER_MANDATORY.
    pub(crate) mandatory: bool,
    /// Peers may also be connected-before-bind (else all are bound at their attach).
    pub(crate) pending: bool,
}

/// The id a peer sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerId {
    /// None: the ROUTER generates one.
    Generated,
    /// `"A"`.
    A,
    /// `G`: the first id the ROUTER generates, set explicitly.
    G,
}

/// Where a ROUTER send is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `"A"`.
    A,
    /// `G`, the first generated id.
    G,
    /// `G + 1`, the second generated id.
    G1,
    /// `"A"` with nothing after it (one frame: malformed).
    Bare,
}

/// One operation; peers are named by attach number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A new peer with this id: bound now (`pending: false`: the ROUTER binds, the peer
    /// connects), or connected-before-bind (the ROUTER connected; the id is unknown until
    /// [`Op::Bind`]).
    Attach { id: PeerId, pending: bool },
    /// The peer of a pending connection binds, publishing its id.
    Bind(u8),
    /// The peer sends one message.
    PeerWrite(u8),
    /// The peer receives one message.
    PeerRead(u8),
    /// The peer closes its end.
    PeerClose(u8),
    /// The ROUTER disconnects the pipe (its end is removed; the peer's end is dropped).
    Detach(u8),
    /// One ROUTER receive.
    Recv,
    /// One ROUTER send.
    Send(Target),
}

/// One peer: the reference's view, and the implementation's peer end and pipe id.
#[derive(Debug)]
struct Peer {
    /// The implementation's id of the ROUTER's end.
    pipe: PipeId,
    /// The peer's end; `None` once closed (or dropped by a detach).
    end: Option<PipeEnd>,
    /// The id the peer sets.
    id: PeerId,
    /// Its id is published (bound at once, or [`Op::Bind`] done).
    bound: bool,
    /// Connected before the bind.
    pending: bool,
    /// The label the ROUTER gave it, once learnt, and its learning number.
    label: Option<Frame>,
    learnt: usize,
    /// The ROUTER holds its end (in its pipe set).
    held: bool,
    /// In the receive rotation.
    in_fq: bool,
    /// Peer to ROUTER, and ROUTER to peer.
    inbound: VecDeque<Message>,
    outbound: VecDeque<Message>,
    /// Messages the peer has sent (numbers their contents).
    written: u8,
}

/// The ROUTER over real pipes, and the reference. See the module docs.
#[derive(Debug)]
pub(crate) struct RouterModel {
    params: Params,
    set: PipeSet,
    router: Router,
    notify: Arc<Notify>,
    /// By attach number.
    peers: Vec<Peer>,
    /// Reference: id to the attach number of the pipe learnt last with it.
    routes: HashMap<Frame, usize>,
    /// Reference: the next generated counter value, and pipes learnt so far.
    counter: u32,
    learnt: usize,
    /// Reference: the receive cursor (a learning number).
    cursor: usize,
    /// Reference: drops counted.
    drops: Drops,
    /// Messages the ROUTER has sent (numbers their contents).
    sent: u8,
}

/// A generated id.
fn generated(n: u32) -> Frame {
    let mut id = [0u8; 5];
    id[1..].copy_from_slice(&n.to_be_bytes());
    Frame::copy_from_slice(&id)
}

/// What a step observed, to compare: the outcome, and the drops it counted.
type Got = (String, Drops);

impl RouterModel {
    /// The id `G`.
    fn g() -> Frame {
        generated(counter_seed(SOCKET))
    }

    /// The id `G + 1`.
    fn g1() -> Frame {
        generated(counter_seed(SOCKET).wrapping_add(1))
    }

    /// The routing id a peer publishes.
    fn routing_id(id: PeerId) -> Option<Bytes> {
        match id {
            PeerId::Generated => None,
            PeerId::A => Some(Bytes::from_static(b"A")),
            PeerId::G => Some(Self::g().to_bytes()),
        }
    }

    /// The ROUTER's end info (SNDHWM 1, unlimited RCVHWM).
    fn router_info() -> EndInfo {
        EndInfo {
            hwm: Hwm::new(1, 0),
            routing_id: None,
        }
    }

    /// A peer's end info (unlimited SNDHWM, RCVHWM 1).
    fn peer_info(id: PeerId) -> EndInfo {
        EndInfo {
            hwm: Hwm::new(0, 1),
            routing_id: Self::routing_id(id),
        }
    }

    /// Reference: is `id` the label of a pipe the ROUTER holds?
    fn in_use(&self, id: &Frame) -> bool {
        self.peers
            .iter()
            .any(|p| p.held && p.label.as_ref() == Some(id))
    }

    /// Reference: learns every held pipe whose id is known and not learnt yet, in attach
    /// order.
    fn learn(&mut self) {
        for a in 0..self.peers.len() {
            let p = &self.peers[a];
            if !p.held || !p.bound || p.label.is_some() {
                continue;
            }
            let label = match Self::routing_id(p.id) {
                Some(id) => Frame::from(id),
                None => loop {
                    let id = generated(self.counter);
                    self.counter = self.counter.wrapping_add(1);
                    if !self.in_use(&id) {
                        break id;
                    }
                },
            };
            self.routes.insert(label.clone(), a);
            let p = &mut self.peers[a];
            p.label = Some(label);
            p.learnt = self.learnt;
            p.in_fq = true;
            self.learnt += 1;
        }
    }

    /// Reference: the next member of the receive rotation from the cursor, wrapping.
    fn next_member(&self) -> Option<usize> {
        let members = || (0..self.peers.len()).filter(|&a| self.peers[a].in_fq);
        let by_learning = |a: &usize| self.peers[*a].learnt;
        let later = members()
            .filter(|&a| self.peers[a].learnt >= self.cursor)
            .min_by_key(by_learning);
        later.or_else(|| members().min_by_key(by_learning))
    }

    /// Reference receive: the labelled message.
    fn ref_recv(&mut self) -> Option<Message> {
        self.learn();
        let mut empty = Vec::new();
        while let Some(a) = self.next_member() {
            if empty.contains(&a) {
                break;
            }
            let p = &mut self.peers[a];
            if let Some(m) = p.inbound.pop_front() {
                self.cursor = p.learnt + 1;
                let label = p.label.clone().expect("members are learnt");
                return Some(Message::from_frames(
                    std::iter::once(label).chain(m.into_frames()),
                ));
            } else if p.end.is_none() {
                (p.in_fq, p.held) = (false, false);
            } else {
                empty.push(a);
                self.cursor = p.learnt + 1;
            }
        }
        None
    }

    /// Reference send of `msg` (at least one frame).
    fn ref_send(&mut self, msg: Message) -> String {
        self.learn();
        if msg.len() < 2 {
            self.drops.malformed += 1;
            return "ok".into();
        }
        let route = self.routes.get(&msg.frames()[0]).copied();
        let p = route.map(|a| &mut self.peers[a]);
        match p {
            Some(p) if p.held && p.end.is_some() => {
                if p.outbound.len() < OUT_WINDOW {
                    let body = Message::from_frames(msg.into_frames().split_off(1));
                    p.outbound.push_back(body);
                    "ok".into()
                } else if self.params.mandatory {
                    format!("blocked {msg:?}")
                } else {
                    self.drops.hwm += 1;
                    "ok".into()
                }
            }
            _ if self.params.mandatory => format!("failed HostUnreachable {msg:?}"),
            _ => {
                self.drops.no_route += 1;
                "ok".into()
            }
        }
    }

    /// Applies `op` to both sides: (implementation, reference) outcomes.
    fn apply(&mut self, op: Op) -> (String, String) {
        let read = |r: Result<Message, RecvFail>| match r {
            Ok(m) => format!("{m:?}"),
            Err(RecvFail::Empty) => "empty".into(),
            Err(RecvFail::PeerGone) => "peer gone".into(),
        };
        match op {
            Op::Attach { id, pending } => {
                let (pipe, end) = if pending {
                    let (mine, theirs) =
                        pair(Self::router_info(), self.notify.clone(), false, None);
                    (self.set.insert(mine), theirs)
                } else {
                    let (theirs, mut mine) = pair(
                        Self::peer_info(id),
                        Arc::new(Notify::new()),
                        false,
                        Some(Self::router_info()),
                    );
                    mine.attach(None, self.notify.clone());
                    (self.set.insert(mine), theirs)
                };
                let accepted = self.router.attach(&mut self.set, pipe);
                // The ROUTER's call learns the ids bound since its last call, then the
                // newcomer's.
                self.learn();
                self.peers.push(Peer {
                    pipe,
                    end: Some(end),
                    id,
                    bound: !pending,
                    pending,
                    label: None,
                    learnt: 0,
                    held: true,
                    in_fq: false,
                    inbound: VecDeque::new(),
                    outbound: VecDeque::new(),
                    written: 0,
                });
                self.learn();
                (format!("accepted {accepted}"), "accepted true".into())
            }
            Op::Bind(a) => {
                let p = &mut self.peers[usize::from(a)];
                let end = p.end.as_mut().expect("only pending peers bind");
                end.attach(Some(Self::peer_info(p.id)), Arc::new(Notify::new()));
                p.bound = true;
                (String::new(), String::new())
            }
            Op::PeerWrite(a) => {
                let p = &mut self.peers[usize::from(a)];
                let m = Message::from(vec![b'i', a, p.written]);
                p.written = p.written.wrapping_add(1);
                let end = p.end.as_mut().expect("only live peers write");
                let got = match end.send(m.clone()) {
                    Ok(()) => "ok",
                    Err(SendFail::Full(_)) => "full",
                    Err(SendFail::PeerGone(_)) => "peer gone",
                };
                let want = if p.held {
                    p.inbound.push_back(m);
                    "ok"
                } else {
                    "peer gone"
                };
                (got.into(), want.into())
            }
            Op::PeerRead(a) => {
                let p = &mut self.peers[usize::from(a)];
                let got = read(p.end.as_mut().expect("only live peers read").recv());
                let want = match p.outbound.pop_front() {
                    Some(m) => format!("{m:?}"),
                    None if p.held => "empty".into(),
                    None => "peer gone".into(),
                };
                (got, want)
            }
            Op::PeerClose(a) => {
                self.peers[usize::from(a)].end = None;
                (String::new(), String::new())
            }
            Op::Detach(a) => {
                let p = &mut self.peers[usize::from(a)];
                self.router.detach(&mut self.set, p.pipe);
                let removed = self.set.remove(p.pipe).is_some();
                (p.held, p.in_fq, p.end) = (false, false, None);
                (format!("removed {removed}"), "removed true".into())
            }
            Op::Recv => {
                let got = match self.router.recv(&mut self.set) {
                    Attempt::Ready(m) => format!("{m:?}"),
                    Attempt::Blocked => "blocked".into(),
                    Attempt::Failed(e) => format!("failed {e:?}"),
                };
                let want = match self.ref_recv() {
                    Some(m) => format!("{m:?}"),
                    None => "blocked".into(),
                };
                (got, want)
            }
            Op::Send(target) => {
                let id = match target {
                    Target::A | Target::Bare => Frame::from("A"),
                    Target::G => Self::g(),
                    Target::G1 => Self::g1(),
                };
                let mut msg = Message::from_frames([id]);
                if target != Target::Bare {
                    msg.push(Frame::from(vec![b'o', self.sent]));
                    self.sent = self.sent.wrapping_add(1);
                }
                let got = match self.router.send(&mut self.set, msg.clone()) {
                    Ok(()) => "ok".into(),
                    Err(SendBlock::Blocked(m)) => format!("blocked {m:?}"),
                    Err(SendBlock::Failed(e, m)) => format!("failed {e:?} {m:?}"),
                };
                (got, self.ref_send(msg))
            }
        }
    }
}

impl Model for RouterModel {
    type Op = Op;
    type Params = Params;

    fn new(params: Params) -> Self {
        let mut set = PipeSet::default();
        let mut router = Router::new(SOCKET);
        let on = PatternOption::RouterMandatory(params.mandatory);
        router
            .set_option(&mut set, &on)
            .expect("ROUTER takes ROUTER_MANDATORY");
        RouterModel {
            params,
            set,
            router,
            notify: Arc::new(Notify::new()),
            peers: Vec::new(),
            routes: HashMap::new(),
            counter: counter_seed(SOCKET),
            learnt: 0,
            cursor: 0,
            drops: Drops::default(),
            sent: 0,
        }
    }

    fn ops(&self, out: &mut Vec<Op>) {
        if self.peers.len() < self.params.peers {
            for id in [PeerId::Generated, PeerId::A, PeerId::G] {
                out.push(Op::Attach { id, pending: false });
                if self.params.pending {
                    out.push(Op::Attach { id, pending: true });
                }
            }
        }
        for (a, p) in self.peers.iter().enumerate() {
            let a = a as u8;
            if p.held {
                if !p.bound {
                    out.push(Op::Bind(a));
                }
                out.push(Op::Detach(a));
            }
            if p.bound && p.end.is_some() {
                out.extend([Op::PeerWrite(a), Op::PeerRead(a), Op::PeerClose(a)]);
            }
        }
        out.push(Op::Recv);
        for t in [Target::A, Target::G, Target::G1, Target::Bare] {
            out.push(Op::Send(t));
        }
    }

    fn step(&mut self, op: Op, _check: bool) -> Result<(), String> {
        let before = (self.set.drops, self.drops);
        let (got, want) = self.apply(op);
        let got: Got = (got, self.set.drops);
        let want: Got = (want, self.drops);
        if got != want {
            return Err(format!(
                "{op:?}: implementation {:?} (drops {:?} before), reference {:?} (drops {:?} \
                 before)",
                got, before.0, want, before.1
            ));
        }
        Ok(())
    }

    fn key(&self) -> String {
        let mut imp = self.router.state_debug();
        let mut key = String::new();
        for (a, p) in self.peers.iter().enumerate() {
            imp = imp.replace(&format!("{:?}", p.pipe), &format!("#{a}"));
            let flag = |b: bool| if b { '1' } else { '0' };
            let _ = write!(
                key,
                "[{:?} {}{}{}{}{} {:?} l{} in {} out {}]",
                p.id,
                flag(p.pending),
                flag(p.bound),
                flag(p.held),
                flag(p.in_fq),
                flag(p.end.is_some()),
                p.label,
                p.learnt,
                p.inbound.len(),
                p.outbound.len()
            );
        }
        let mut routes: Vec<String> = self
            .routes
            .iter()
            .map(|(id, a)| format!("{id:?}:{a}"))
            .collect();
        routes.sort();
        let _ = write!(
            key,
            " {routes:?} c{} l{} @{} | {imp}",
            self.counter.wrapping_sub(counter_seed(SOCKET)),
            self.learnt,
            self.cursor
        );
        key
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::super::explore_and_report;
    use super::*;

    /// Every sequence of 6 operations over 2 peers (bound at once or before the bind),
    /// without ROUTER_MANDATORY.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn router_matches_reference_on_every_sequence() {
        let params = Params {
            peers: 2,
            mandatory: false,
            pending: true,
        };
        let s = explore_and_report::<RouterModel>("router", params, 6);
        assert_eq!(s.max_len, 6);
    }

    /// With ROUTER_MANDATORY, 5 operations (enough to fill a peer and block).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn mandatory_router_matches_reference_on_every_sequence() {
        let params = Params {
            peers: 2,
            mandatory: true,
            pending: true,
        };
        let s = explore_and_report::<RouterModel>("router", params, 5);
        assert_eq!(s.max_len, 5);
    }

    /// Three peers bound at once, 5 operations: a third peer after a handover whose
    /// newcomer left gets a generated id that must skip the old pipe's.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn three_peers_match_reference_on_every_sequence() {
        let params = Params {
            peers: 3,
            mandatory: false,
            pending: false,
        };
        let s = explore_and_report::<RouterModel>("router", params, 5);
        assert_eq!(s.max_len, 5);
    }

    /// Longer: about 40 s with `--release` (in a debug build, pipe creation dominates and
    /// it takes tens of minutes).
    #[test]
    #[ignore = "slow: run with --release --ignored"]
    fn router_matches_reference_on_longer_sequences() {
        for mandatory in [false, true] {
            for (peers, pending, len) in [(2, true, 8), (3, false, 7), (3, true, 7)] {
                let params = Params {
                    peers,
                    mandatory,
                    pending,
                };
                explore_and_report::<RouterModel>("router", params, len);
            }
        }
    }

    /// Runs `ops` (each must match the reference), then one ROUTER receive.
    fn recv_after(ops: &[Op]) -> Option<Message> {
        let mut m = RouterModel::new(Params {
            peers: 3,
            mandatory: false,
            pending: true,
        });
        for &op in ops {
            m.step(op, true).unwrap_or_else(|e| panic!("{ops:?}: {e}"));
        }
        match m.router.recv(&mut m.set) {
            Attempt::Ready(msg) => Some(msg),
            _ => None,
        }
    }

    /// The sequences that found generated ids handed out while in use, or skipped while
    /// free (SPEC Q-10): the id of a pipe that handed it over and is still read under it;
    /// the id of a pipe gone before an attach (its stale entries not yet pruned).
    #[test]
    fn generated_ids_skip_exactly_the_ids_in_use() {
        use Op::*;
        let direct = |id| Attach { id, pending: false };
        // Peer 0 keeps G after handing it to peer 1, which leaves: peer 2 gets G + 1.
        let ops = [
            direct(PeerId::G),
            direct(PeerId::G),
            Detach(1),
            direct(PeerId::Generated),
            PeerWrite(2),
        ];
        let got = recv_after(&ops).expect("peer 2 wrote");
        assert_eq!(got.frames()[0], RouterModel::g1(), "{got:?}");
        // Peer 0 (id G) is gone and dropped; peer 1, attached next, gets G itself.
        let ops = [
            direct(PeerId::G),
            PeerClose(0),
            Recv,
            direct(PeerId::Generated),
            PeerWrite(1),
        ];
        let got = recv_after(&ops).expect("peer 1 wrote");
        assert_eq!(got.frames()[0], RouterModel::g(), "{got:?}");
    }
}
