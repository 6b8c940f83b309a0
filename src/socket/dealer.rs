//! DEALER (reference rules 67, 68; libzmq `src/dealer.cpp`): load-balanced sends
//! ([`LoadBalance`]) and fair-queued receives ([`FairQueue`]) over the same pipes, with
//! no envelope handling: messages pass through unchanged.
//!
//! A pipe whose peer has closed leaves the send rotation when a send meets it, but stays
//! readable until everything the peer sent has been read (SPEC K-1, Q-9): the load
//! balancer is built with [`LoadBalance::sharing_pipes`], and the fair queue drops the
//! pipe once it is drained.

use super::{Attempt, Behaviour, SendBlock};
use crate::msg::Message;
use crate::route::fair_queue::FairQueue;
use crate::route::load_balance::LoadBalance;
use crate::route::{PipeId, PipeSet};

/// DEALER state.
#[derive(Debug)]
pub(crate) struct Dealer {
    /// Outbound round-robin over pipes with room.
    out: LoadBalance,
    /// Inbound fair queue over every pipe.
    inbound: FairQueue,
}

impl Default for Dealer {
    fn default() -> Self {
        Dealer {
            out: LoadBalance::sharing_pipes(),
            inbound: FairQueue::default(),
        }
    }
}

impl Behaviour for Dealer {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.out.add(id);
        self.inbound.add(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.out.remove(id);
        self.inbound.remove(id);
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        self.out
            .send(pipes, msg)
            .map(drop)
            .map_err(SendBlock::Blocked)
    }

    fn writable(&mut self, pipes: &mut PipeSet) -> bool {
        self.out.writable(pipes)
    }

    fn batch_pipe(&mut self, _pipes: &mut PipeSet) -> Option<PipeId> {
        self.out.single()
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        match self.inbound.recv(pipes) {
            Some((_, m)) => Attempt::Ready(m),
            None => Attempt::Blocked,
        }
    }

    fn recv_many(
        &mut self,
        pipes: &mut PipeSet,
        out: &mut Vec<Message>,
        max: usize,
    ) -> Attempt<usize> {
        match self.inbound.recv_many(pipes, out, max) {
            0 => Attempt::Blocked,
            n => Attempt::Ready(n),
        }
    }
}
