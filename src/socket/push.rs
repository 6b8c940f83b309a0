//! PUSH (reference rule 67): load-balances whole messages over its peers in attach
//! order, skipping full pipes; blocks when none has room. Cannot receive.

use super::{Attempt, Behaviour, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::route::load_balance::LoadBalance;
use crate::route::{PipeId, PipeSet};

/// PUSH state.
#[derive(Debug, Default)]
pub(crate) struct Push {
    out: LoadBalance,
}

impl Behaviour for Push {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.out.add(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.out.remove(id);
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

    fn recv(&mut self, _pipes: &mut PipeSet) -> Attempt<Message> {
        Attempt::Failed(Error::NotSupported)
    }
}
