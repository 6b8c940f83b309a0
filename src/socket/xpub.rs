//! PUB and XPUB: work in progress (issue 4); `IMPLEMENTED` is false, so `Context::socket`
//! refuses this type with `Error::NotSupported` and none of this runs.

use super::SocketType;
use super::{Attempt, Behaviour, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::route::{PipeId, PipeSet};

/// Whether `Context::socket` creates this type yet.
pub(crate) const IMPLEMENTED: bool = false;

/// PUB and XPUB state.
#[derive(Debug)]
pub(crate) struct XPub {}

impl XPub {
    pub(crate) fn new(_ty: SocketType) -> Self {
        XPub {}
    }
}

impl Behaviour for XPub {
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
