//! REP (reference rule 70; libzmq `src/rep.cpp`): a server that alternates strictly
//! between receiving a request and sending its reply.
//!
//! Requests are fair-queued ([`FairQueue`]). Every frame up to and including the first
//! empty one (the envelope: a REQ's delimiter, plus the routing ids brokers put in front)
//! is removed and kept with the pipe the request came from; the application sees only
//! the body. The reply gets the envelope back in front and goes out on that same pipe.
//! A request without an empty frame followed by a body is malformed and discarded.
//!
//! libzmq's REP is a ROUTER underneath and silently drops a reply for a full pipe; this
//! one waits for room (SPEC Q-7). A reply for a pipe that has gone is
//! dropped silently, as in libzmq.

use crate::frame::Frame;

use super::monitor::DropReason;
use super::{Attempt, Behaviour, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::pipe::SendFail;
use crate::route::fair_queue::FairQueue;
use crate::route::load_balance::end_writable;
use crate::route::{PipeId, PipeSet};

/// Where a REP is in its receive/send cycle.
#[derive(Debug, Default)]
enum Phase {
    /// May receive a request; `send` is `InvalidState` (EFSM).
    #[default]
    Idle,
    /// A request was handed out; the reply goes to `pipe` behind `envelope` (the request's
    /// frames up to and including the first empty one). `recv` is `InvalidState`.
    Replying { pipe: PipeId, envelope: Vec<Frame> },
}

/// REP state.
#[derive(Debug, Default)]
pub(crate) struct Rep {
    /// Requests from every peer, fair-queued.
    inbound: FairQueue,
    /// Receive/send alternation, with the envelope of the request being answered.
    phase: Phase,
}

/// Splits a request into envelope and body: the envelope is every frame up to and
/// including the first empty one, which must be followed by at least one body frame.
/// `None` for a malformed request.
fn split_envelope(msg: Message) -> Option<(Vec<Frame>, Message)> {
    let f = msg.frames();
    let delimiter = f.iter().position(|x| x.is_empty())?;
    if delimiter + 1 >= f.len() {
        return None;
    }
    let mut envelope = msg.into_frames();
    let body = if delimiter + 2 == envelope.len() {
        // One body frame (the common case): no new vector.
        Message::from(envelope.pop().unwrap_or_default())
    } else {
        Message::from_frames(envelope.split_off(delimiter + 1))
    };
    Some((envelope, body))
}

impl Behaviour for Rep {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.inbound.add(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.inbound.remove(id);
        // A reply owed to `id` is dropped by `send` (the pipe is no longer in the set).
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        let Phase::Replying { pipe, envelope } = std::mem::take(&mut self.phase) else {
            return Err(SendBlock::Failed(Error::InvalidState, msg));
        };
        let Some(end) = pipes.get_mut(pipe) else {
            // The requester has gone: drop the reply (libzmq does).
            pipes.count_drop(DropReason::NoRoute);
            return Ok(());
        };
        let n = envelope.len();
        let mut reply = envelope;
        // In the request's own vector: no allocation (SPEC F-7).
        msg.append_to(&mut reply);
        let mut reply = Message::from_vec(reply);
        loop {
            match end.send(reply) {
                Ok(()) => return Ok(()),
                // The requester has gone: drop, as above.
                Err(SendFail::PeerGone(_)) => {
                    pipes.count_drop(DropReason::NoRoute);
                    return Ok(());
                }
                Err(SendFail::Full(r)) => reply = r,
            }
            // Full: wait for credit, unless it came back meanwhile (then retry).
            if end.sleep_until_room() {
                break;
            }
        }
        // Keep the envelope for the retry; the application gets its reply back.
        let mut frames = reply.into_frames();
        let body = frames.split_off(n);
        self.phase = Phase::Replying {
            pipe,
            envelope: frames,
        };
        Err(SendBlock::Blocked(Message::from_vec(body)))
    }

    /// Writable when a reply is owed and would not wait: its pipe has room, or its
    /// requester has gone (the reply is then dropped and the send succeeds).
    fn writable(&mut self, pipes: &mut PipeSet) -> bool {
        let Phase::Replying { pipe, .. } = self.phase else {
            return false;
        };
        match pipes.get_mut(pipe) {
            None => true,
            Some(end) => end.peer_closed() || end_writable(end),
        }
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        if let Phase::Replying { .. } = self.phase {
            return Attempt::Failed(Error::InvalidState);
        }
        // Each turn consumes one message, so this ends when every pipe is empty.
        while let Some((pipe, msg)) = self.inbound.recv(pipes) {
            if let Some((envelope, body)) = split_envelope(msg) {
                self.phase = Phase::Replying { pipe, envelope };
                return Attempt::Ready(body);
            }
            // Malformed (no envelope delimiter followed by a body): discard.
            pipes.count_drop(DropReason::Malformed);
        }
        Attempt::Blocked
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::super::req::{with_delimiter, without_prefix};
    use super::*;

    #[test]
    fn envelope_is_everything_up_to_the_first_empty_frame() {
        let (env, body) = split_envelope(Message::from_frames(["a", "b", "", "x", "y"])).unwrap();
        assert_eq!(env, vec![Frame::from("a"), Frame::from("b"), Frame::new()]);
        assert_eq!(body, Message::from_frames(["x", "y"]));
        let (env, body) = split_envelope(Message::from_frames(["", "", "x"])).unwrap();
        assert_eq!(env, vec![Frame::new()]);
        assert_eq!(body, Message::from_frames(["", "x"]));
        for bad in [
            Message::from("x"),
            Message::new(),
            Message::from_frames(["a", ""]),
            Message::from_frames(["a", "b"]),
        ] {
            assert!(split_envelope(bad).is_none());
        }
    }

    #[test]
    fn without_prefix_rebuilds_the_original() {
        for m in [
            Message::from("x"),
            Message::from_frames(["a", "b"]),
            Message::from_frames(["a", "", "c"]),
        ] {
            let (back, spare) = without_prefix(with_delimiter(m.clone(), None), 1);
            assert_eq!(back, m);
            let spare = spare.expect("the envelope's vector comes back");
            assert!(spare.is_empty());
            // Reusing it gives the same message again.
            let (again, _) = without_prefix(with_delimiter(m.clone(), Some(spare)), 1);
            assert_eq!(again, m);
        }
        // A spare that is not empty is cleared first.
        let dirty = vec![Frame::from("junk")];
        let (m, _) = without_prefix(with_delimiter(Message::from("y"), Some(dirty)), 1);
        assert_eq!(m, Message::from("y"));
    }
}
