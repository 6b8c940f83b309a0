//! REQ: work in progress (issue 4); `IMPLEMENTED` is false, so `Context::socket`
//! refuses this type with `Error::NotSupported` and none of this runs.

use super::{Attempt, Behaviour, SendBlock};

use crate::error::Error;
use crate::msg::Message;
use crate::route::{PipeId, PipeSet};

/// Whether `Context::socket` creates this type yet.
pub(crate) const IMPLEMENTED: bool = false;

/// REQ state.
#[derive(Debug, Default)]
pub(crate) struct Req {}

impl Behaviour for Req {
    fn attach(&mut self, _pipes: &mut PipeSet, _id: PipeId) -> bool {
        false
    }
    fn detach(&mut self, _pipes: &mut PipeSet, _id: PipeId) {}
    fn send(&mut self, _pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        Err(SendBlock::Failed(Error::NotSupported, msg))
    }
    fn recv(&mut self, _pipes: &mut PipeSet) -> Attempt<Message> {
        Attempt::Failed(Error::NotSupported)
    }
}
