//! REQ (reference rule 69; libzmq `src/req.cpp`): a client that alternates strictly
//! between sending a request and receiving its reply.
//!
//! A request goes out with an empty delimiter frame in front, load-balanced over the
//! peers with room ([`LoadBalance`], as DEALER). The reply is accepted only from the pipe
//! the request went out on, and only if it starts with that delimiter (which is removed);
//! everything else read meanwhile is discarded, and so is everything queued when a
//! request goes out (it cannot answer that request). Inbound pipes are fair-queued
//! ([`FairQueue`]) so that discarding never starves the reply pipe.
//!
//! Where libzmq leaves a REQ stuck forever when the peer holding its request goes away
//! (no reply can ever come), this REQ lets the application send again once that pipe is
//! gone (SPEC Q-5); `recv` itself keeps waiting, as in libzmq, so a timeout is how the
//! application notices.

use crate::frame::Frame;

use super::monitor::DropReason;
use super::{Attempt, Behaviour, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::route::fair_queue::FairQueue;
use crate::route::load_balance::LoadBalance;
use crate::route::{PipeId, PipeSet};

/// Where a REQ is in its send/receive cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Phase {
    /// May send a request; `recv` is `InvalidState` (EFSM).
    #[default]
    Idle,
    /// A request went out on `pipe`; may only receive its reply (or send again once that
    /// pipe is gone, Q-5).
    AwaitingReply { pipe: PipeId },
}

/// REQ state.
#[derive(Debug, Default)]
pub(crate) struct Req {
    /// Requests, round-robin over pipes with room.
    out: LoadBalance,
    /// Every pipe's inbound side: the reply pipe's messages are kept, the rest discarded.
    inbound: FairQueue,
    /// Send/receive alternation.
    phase: Phase,
    /// Every attached pipe (for `discard_queued`), pruned as pipes go.
    all: Vec<PipeId>,
    /// An empty frame vector for the next request's envelope: the one the last reply
    /// came back in (REP builds its reply in the request's vector), so that a round
    /// trip allocates nothing once warm (SPEC F-7).
    spare: Option<Vec<Frame>>,
}

/// `msg` with an empty delimiter frame in front, built in `spare` (or a new vector).
pub(super) fn with_delimiter(msg: Message, spare: Option<Vec<Frame>>) -> Message {
    let mut v = spare.unwrap_or_default();
    v.clear();
    v.push(Frame::new());
    msg.append_to(&mut v);
    Message::from_vec(v)
}

/// `msg` without its first `n` frames (`n` less than its length), rebuilt so that it
/// compares equal to the message it was made from; and the emptied vector that held the
/// frames, for reuse.
pub(super) fn without_prefix(msg: Message, n: usize) -> (Message, Option<Vec<Frame>>) {
    msg.split_prefix(n)
}

impl Req {
    /// Discards every message queued now. Called before a request goes out: no request
    /// is outstanding then, so nothing queued can be a reply to the one about to go out
    /// (libzmq would take a stale message on the chosen pipe for its reply; SPEC Q-4).
    /// `readable` never registers for a wake-up: with nothing queued this costs one load
    /// per pipe.
    fn discard_queued(&mut self, pipes: &mut PipeSet) {
        let mut discarded = 0;
        self.all.retain(|&id| {
            let Some(end) = pipes.get_mut(id) else {
                return false;
            };
            while end.readable() {
                if end.recv().is_ok() {
                    discarded += 1;
                }
            }
            true
        });
        for _ in 0..discarded {
            pipes.count_drop(DropReason::Unexpected);
        }
    }

    /// Is the pipe holding the outstanding request gone for good: removed, or its peer
    /// closed with nothing left for us to read? Then no reply can ever arrive.
    fn reply_pipe_gone(pipes: &mut PipeSet, pipe: PipeId) -> bool {
        match pipes.get_mut(pipe) {
            None => true,
            // `peer_closed` first: its Acquire makes the peer's last write visible to
            // `readable`.
            Some(end) => end.peer_closed() && !end.readable(),
        }
    }
}

impl Behaviour for Req {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.out.add(id);
        self.inbound.add(id);
        self.all.push(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.out.remove(id);
        self.inbound.remove(id);
        self.all.retain(|&p| p != id);
        // If `id` held the request, `reply_pipe_gone` now reports it gone.
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        if let Phase::AwaitingReply { pipe } = self.phase {
            if !Self::reply_pipe_gone(pipes, pipe) {
                return Err(SendBlock::Failed(Error::InvalidState, msg));
            }
            // the peer holding the request left without replying; a new request
            // may go out (to another peer).
            self.phase = Phase::Idle;
        }
        self.discard_queued(pipes);
        match self.out.send(pipes, with_delimiter(msg, self.spare.take())) {
            Ok(pipe) => {
                self.phase = Phase::AwaitingReply { pipe };
                Ok(())
            }
            Err(m) => {
                let (m, spare) = without_prefix(m, 1);
                self.spare = spare;
                Err(SendBlock::Blocked(m))
            }
        }
    }

    /// Writable when a request may go out (idle, or the pipe holding the last request is
    /// gone, Q-5) and some peer has room.
    fn writable(&mut self, pipes: &mut PipeSet) -> bool {
        if let Phase::AwaitingReply { pipe } = self.phase {
            if !Self::reply_pipe_gone(pipes, pipe) {
                return false;
            }
        }
        self.out.writable(pipes)
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        let Phase::AwaitingReply { pipe } = self.phase else {
            return Attempt::Failed(Error::InvalidState);
        };
        // Each turn consumes one message, so this ends when every pipe is empty.
        while let Some((from, msg)) = self.inbound.recv(pipes) {
            if from != pipe {
                // Not from the peer holding the request: discard.
                pipes.count_drop(DropReason::Unexpected);
                continue;
            }
            let f = msg.frames();
            if f.len() < 2 || !f[0].is_empty() {
                // Malformed reply (no delimiter, or nothing after it): discard.
                pipes.count_drop(DropReason::Malformed);
                continue;
            }
            self.phase = Phase::Idle;
            let (reply, spare) = without_prefix(msg, 1);
            self.spare = spare;
            return Attempt::Ready(reply);
        }
        // Every pipe is empty and registered for a wake-up. If the reply pipe is gone,
        // this keeps waiting as libzmq does; `send` is allowed again.
        Attempt::Blocked
    }
}
