//! PULL (reference rule 68): fair-queues whole messages from its peers. Cannot send.

use super::{Attempt, Behaviour, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::route::fair_queue::FairQueue;
use crate::route::{PipeId, PipeSet};

/// PULL state.
#[derive(Debug, Default)]
pub(crate) struct Pull {
    inbound: FairQueue,
}

impl Behaviour for Pull {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.inbound.add(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.inbound.remove(id);
    }

    fn send(&mut self, _pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        Err(SendBlock::Failed(Error::NotSupported, msg))
    }

    /// PULL cannot send.
    fn writable(&mut self, _pipes: &mut PipeSet) -> bool {
        false
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
