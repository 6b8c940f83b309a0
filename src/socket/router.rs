//! ROUTER (reference rules 41, 43, 46, 48, 71; libzmq `src/router.cpp`): fair-queued
//! receives labelled with the sending peer's routing id, and sends addressed by id.
//!
//! **Identities.** Each pipe is known by its peer's routing id (ZMQ_ROUTING_ID as the peer
//! set it before its connect or bind; inproc carries it in the pipe, not as a frame), or,
//! if the peer set none, by a generated 5-byte id: `0x00` and a big-endian `u32` counter
//! that starts at a value derived from the socket id and goes up by one per peer,
//! skipping values in use (the label of a pipe the socket still holds, routable or not).
//! The identity table lives here; pipes know nothing of it.
//!
//! **Pipes whose peer id is not known yet.** A ROUTER that connected to a name nobody has
//! bound learns the binder's id when it binds (the binder's attach wakes this socket).
//! Until then the pipe is neither routable nor read: it waits in `unidentified`, which
//! every call re-checks first.
//!
//! **Duplicate ids** (libzmq leaves the second peer's messages stuck forever, ref 48 and
//! K10): the newcomer takes the id (handover). The old pipe stays readable, and what it
//! sends still arrives under that id, but sends to the id go to the newcomer.
//!
//! **Sends.** The first frame names the peer and the rest is sent to it. A message of one
//! frame is dropped and the send succeeds (rule 71). An unknown id, or a peer that has
//! gone, drops the message silently, and so does a full peer; with ZMQ_ROUTER_MANDATORY
//! an unknown or gone peer is `HostUnreachable` and a full one blocks (`WouldBlock` for a
//! non-blocking send), as libzmq's `EHOSTUNREACH` and `EAGAIN`.

use std::collections::HashMap;

use crate::frame::Frame;

use super::monitor::DropReason;
use super::{Attempt, Behaviour, PatternOption, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::pipe::SendFail;
use crate::registry::SocketId;
use crate::route::fair_queue::FairQueue;
use crate::route::{PipeId, PipeSet};

/// The first byte of a generated id; applications are told not to start ids with it.
const GENERATED_ID_MARK: u8 = 0x00;

/// One identified pipe.
#[derive(Debug)]
struct Peer {
    /// The pipe to this peer.
    pipe: PipeId,
    /// The id its messages are labelled with (after a handover, possibly also the id of a
    /// newer pipe, which is then the one `routes` sends to).
    id: Frame,
}

/// ROUTER state.
#[derive(Debug)]
pub(crate) struct Router {
    /// Inbound fair queue over identified pipes.
    inbound: FairQueue,
    /// Identified pipes and their ids (a linear table: `PipeId` is not hashable; the
    /// lookup per received message is a scan of 8-byte keys).
    peers: Vec<Peer>,
    /// Routing table: id to the pipe sends go to (the newest pipe with that id).
    routes: HashMap<Frame, PipeId>,
    /// Pipes whose peer's id is not known yet (connected before the bind).
    unidentified: Vec<PipeId>,
    /// The counter of the next generated id.
    next_generated: u32,
    /// ZMQ_ROUTER_MANDATORY: fail unroutable sends, block on full peers.
    mandatory: bool,
}

/// The starting value of a ROUTER's generated-id counter: a fixed mix of its socket id
/// (splitmix64's finaliser), so sockets differ but runs are reproducible.
pub(crate) fn counter_seed(socket: SocketId) -> u32 {
    let mut z = socket.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

impl Router {
    pub(crate) fn new(socket: SocketId) -> Self {
        Router {
            inbound: FairQueue::default(),
            peers: Vec::new(),
            routes: HashMap::new(),
            unidentified: Vec::new(),
            next_generated: counter_seed(socket),
            mandatory: false,
        }
    }

    /// A fresh generated id (`0x00` + big-endian counter) not in use: not the label of a
    /// pipe this socket still holds, routable or not (a pipe that handed its id over, or
    /// whose peer has gone, is still read under its label). Entries of pipes that have
    /// gone do not count, pruned yet or not.
    fn generate_id(&mut self, pipes: &mut PipeSet) -> Frame {
        loop {
            let n = self.next_generated;
            self.next_generated = n.wrapping_add(1);
            let mut id = [GENERATED_ID_MARK; 5];
            id[1..].copy_from_slice(&n.to_be_bytes());
            let id = Frame::copy_from_slice(&id);
            let in_use = |p: &Peer| p.id == id && pipes.get_mut(p.pipe).is_some();
            if !self.peers.iter().any(in_use) {
                return id;
            }
        }
    }

    /// Makes `pipe` routable and readable under its peer's id, or parks it in
    /// `unidentified` if that id is not known yet. Returns whether it was identified.
    fn identify(&mut self, pipes: &mut PipeSet, pipe: PipeId) -> bool {
        let Some(end) = pipes.get_mut(pipe) else {
            return true; // Gone: nothing to identify; drop it from `unidentified`.
        };
        let id = match end.peer_routing_id() {
            None => return false,
            Some(Some(id)) if !id.is_empty() => Frame::from(id),
            Some(_) => self.generate_id(pipes),
        };
        // Handover on a duplicate: the newcomer takes the route; the old pipe keeps its
        // entry in `peers`, so it stays readable under the same id.
        self.routes.insert(id.clone(), pipe);
        self.peers.push(Peer { pipe, id });
        self.inbound.add(pipe);
        true
    }

    /// Re-checks the pipes whose peer id was unknown; forgets peers whose pipe has gone.
    fn refresh(&mut self, pipes: &mut PipeSet) {
        if !self.unidentified.is_empty() {
            let waiting = std::mem::take(&mut self.unidentified);
            for pipe in waiting {
                if !self.identify(pipes, pipe) {
                    self.unidentified.push(pipe);
                }
            }
        }
        // Every entry in `peers` and `unidentified` names a distinct pipe, so more entries
        // than live pipes means some pipe has gone (the fair queue drops drained dead
        // pipes from the set). The prune is linear, once per lost pipe.
        if self.peers.len() + self.unidentified.len() > pipes.len() {
            let routes = &mut self.routes;
            self.peers.retain(|p| {
                let live = pipes.get_mut(p.pipe).is_some();
                if !live && routes.get(&p.id) == Some(&p.pipe) {
                    routes.remove(&p.id);
                }
                live
            });
            self.unidentified.retain(|&p| pipes.get_mut(p).is_some());
        }
    }

    /// Forgets `pipe`: its route (if it still holds one), its entry, its queue slot.
    fn forget(&mut self, pipe: PipeId) {
        self.inbound.remove(pipe);
        self.unidentified.retain(|&p| p != pipe);
        if let Some(i) = self.peers.iter().position(|p| p.pipe == pipe) {
            let peer = self.peers.swap_remove(i);
            if self.routes.get(&peer.id) == Some(&pipe) {
                self.routes.remove(&peer.id);
            }
        }
    }

    /// The whole state, with the route table in a fixed order (a `HashMap` iterates in a
    /// random one): the implementation's part of the exhaustive check's state key
    /// (`route::check::router`).
    #[cfg(any(test, fuzzing))]
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn state_debug(&self) -> String {
        let mut routes: Vec<String> = self
            .routes
            .iter()
            .map(|(id, pipe)| format!("{id:?}: {pipe:?}"))
            .collect();
        routes.sort();
        format!(
            "{:?} {:?} {routes:?} {:?} {} {}",
            self.inbound, self.peers, self.unidentified, self.next_generated, self.mandatory
        )
    }

    /// The outcome of a message that cannot be routed (unknown or gone peer).
    fn unroutable(&self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        if self.mandatory {
            Err(SendBlock::Failed(Error::HostUnreachable, msg))
        } else {
            pipes.count_drop(DropReason::NoRoute);
            Ok(()) // Dropped silently (rule 41).
        }
    }
}

/// `id` in front of `body`'s frames.
fn prepend(id: Frame, body: Message) -> Message {
    Message::from_frames(std::iter::once(id).chain(body.into_frames()))
}

impl Behaviour for Router {
    fn attach(&mut self, pipes: &mut PipeSet, id: PipeId) -> bool {
        self.refresh(pipes);
        if !self.identify(pipes, id) {
            self.unidentified.push(id);
        }
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.forget(id);
    }

    fn set_option(&mut self, pipes: &mut PipeSet, opt: &PatternOption) -> Result<(), Error> {
        self.refresh(pipes);
        match opt {
            PatternOption::RouterMandatory(on) => {
                self.mandatory = *on;
                Ok(())
            }
            _ => Err(Error::NotSupported),
        }
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        self.refresh(pipes);
        if msg.len() < 2 {
            pipes.count_drop(DropReason::Malformed);
            return Ok(()); // An id with nothing after it: dropped, success (rule 71).
        }
        let Some(&pipe) = self.routes.get(&msg.frames()[0]) else {
            return self.unroutable(pipes, msg);
        };
        let Some(end) = pipes.get_mut(pipe) else {
            self.forget(pipe);
            return self.unroutable(pipes, msg);
        };
        let mut frames = msg.into_frames();
        let mut body = Message::from_frames(frames.split_off(1));
        let id = frames.pop().unwrap_or_default();
        loop {
            match end.send(body) {
                Ok(()) => return Ok(()),
                Err(SendFail::PeerGone(b)) => {
                    // No more sends to it; it stays readable until drained.
                    self.routes.remove(&id);
                    return self.unroutable(pipes, prepend(id, b));
                }
                Err(SendFail::Full(b)) => body = b,
            }
            if !self.mandatory {
                pipes.count_drop(DropReason::Hwm);
                return Ok(()); // Full: dropped silently (rule 41).
            }
            // Wait for credit, unless it came back meanwhile (then retry).
            if end.sleep_until_room() {
                return Err(SendBlock::Blocked(prepend(id, body)));
            }
        }
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        self.refresh(pipes);
        while let Some((pipe, msg)) = self.inbound.recv(pipes) {
            if let Some(peer) = self.peers.iter().find(|p| p.pipe == pipe) {
                return Attempt::Ready(prepend(peer.id.clone(), msg));
            }
            // Every pipe in `inbound` has an entry in `peers`, so this is not reached;
            // a message without an id would be discarded rather than handed out.
        }
        Attempt::Blocked
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn counter_seed_differs_per_socket_and_is_stable() {
        assert_eq!(counter_seed(7), counter_seed(7));
        assert_ne!(counter_seed(1), counter_seed(2));
    }

    #[test]
    fn generated_ids_skip_ids_in_use() {
        let mut pipes = PipeSet::default();
        let (end, _peer) = crate::pipe::test_pair((1, 1), Some((1, 1)));
        let mut r = Router::new(1);
        r.next_generated = u32::MAX;
        let taken = Frame::from(&[0, 0xff, 0xff, 0xff, 0xff]);
        let pipe = pipes.insert(end);
        r.routes.insert(taken.clone(), pipe);
        r.peers.push(Peer { pipe, id: taken });
        let id = r.generate_id(&mut pipes);
        assert_eq!(
            &id[..],
            &[0, 0, 0, 0, 0],
            "skips the taken one, wraps around"
        );
    }
}
