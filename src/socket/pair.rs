//! PAIR (reference rules 53, 73): exactly one peer, both directions.
//!
//! A PAIR that already has a peer refuses every further connection: the refused pipe is
//! closed with the `REFUSED` mark, so the refused connector's next send (and receive)
//! fails with [`Error::HostUnreachable`] instead of blocking forever or vanishing (libzmq
//! loses the first message and then answers `EAGAIN`). The old peer stays until it has
//! closed and everything it sent has been read, as libzmq's pipe termination does.

use super::{Attempt, Behaviour, DropReason, SendBlock};
use crate::error::Error;
use crate::inbox::Inbox;
use crate::msg::Message;
use crate::pipe::{RecvFail, SendFail};
use crate::route::load_balance::end_writable;
use crate::route::{PipeId, PipeSet};
use crate::sync::Arc;

/// PAIR state.
#[derive(Debug)]
pub(crate) struct Pair {
    /// The one pipe, if any.
    peer: Option<PipeId>,
    /// Our last pipe was refused by its binder (and no pipe replaced it).
    refused: bool,
    /// The socket's inbox, where `peer.is_some()` is advertised for `Socket::monitor`
    /// ([`Inbox::set_taken`]).
    inbox: Arc<Inbox>,
}

impl Pair {
    pub(crate) fn new(inbox: Arc<Inbox>) -> Pair {
        Pair {
            peer: None,
            refused: false,
            inbox,
        }
    }

    /// Sets the peer, advertising a change between none and some.
    fn set_peer(&mut self, peer: Option<PipeId>) {
        if self.peer.is_some() != peer.is_some() {
            self.inbox.set_taken(peer.is_some());
        }
        self.peer = peer;
    }

    /// Does this PAIR have a peer it must keep (live, or with unread messages)?
    fn has_peer(&mut self, pipes: &mut PipeSet) -> bool {
        let Some(id) = self.peer else { return false };
        match pipes.get_mut(id) {
            Some(end) => !end.peer_closed() || end.readable(),
            None => false,
        }
    }

    /// Drops the refused pipe `id`. What this PAIR sent on it before learning of the
    /// refusal was never read (a refusing PAIR reads nothing): counted as dropped
    /// ([`DropReason::Refused`]), so that a send which returned `Ok` is not lost silently.
    fn drop_refused(&mut self, pipes: &mut PipeSet, id: PipeId) {
        let lost = pipes.get_mut(id).map_or(0, |end| end.queued_out());
        pipes.count_drops(DropReason::Refused, lost as u64);
        pipes.remove(id);
        self.set_peer(None);
        self.refused = true;
    }

    fn no_peer_send(&self, msg: Message) -> SendBlock {
        if self.refused {
            SendBlock::Failed(Error::HostUnreachable, msg)
        } else {
            SendBlock::Blocked(msg)
        }
    }
}

impl Behaviour for Pair {
    fn can_connect(&mut self, pipes: &mut PipeSet) -> Result<(), Error> {
        if self.has_peer(pipes) {
            Err(Error::InvalidState)
        } else {
            Ok(())
        }
    }

    /// A refusal learnt of here (for `stats` and close) counts the lost messages at once.
    fn notice(&mut self, pipes: &mut PipeSet) {
        if let Some(id) = self.peer {
            if pipes.get_mut(id).is_some_and(|end| end.refused()) {
                self.drop_refused(pipes, id);
            }
        }
    }

    fn attach(&mut self, pipes: &mut PipeSet, id: PipeId) -> bool {
        if self.has_peer(pipes) {
            return false;
        }
        if let Some(old) = self.peer {
            pipes.remove(old);
        }
        self.set_peer(Some(id));
        self.refused = false;
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        if self.peer == Some(id) {
            self.set_peer(None);
        }
    }

    fn batch_pipe(&mut self, _pipes: &mut PipeSet) -> Option<PipeId> {
        self.peer
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        let Some(id) = self.peer else {
            return Err(self.no_peer_send(msg));
        };
        let Some(end) = pipes.get_mut(id) else {
            self.set_peer(None);
            return Err(SendBlock::Blocked(msg));
        };
        match end.send(msg) {
            Ok(()) => Ok(()),
            Err(SendFail::Full(mut m)) => loop {
                if end.sleep_until_room() {
                    // Registered: the reader's credit will wake the socket.
                    return Err(SendBlock::Blocked(m));
                }
                // Credit arrived meanwhile: try again (and register again if the window
                // shrank in between).
                match end.send(m) {
                    Ok(()) => return Ok(()),
                    Err(SendFail::Full(back)) => m = back,
                    // The peer left; its close wakes the socket, and the next attempt
                    // sees it.
                    Err(SendFail::PeerGone(back)) => return Err(SendBlock::Blocked(back)),
                }
            },
            Err(SendFail::PeerGone(m)) => {
                if end.refused() {
                    self.drop_refused(pipes, id);
                    Err(SendBlock::Failed(Error::HostUnreachable, m))
                } else {
                    // The peer left: no writing after the peer leaves (rule 32). The pipe
                    // stays until what it sent us has been read.
                    Err(SendBlock::Blocked(m))
                }
            }
        }
    }

    /// Writable when the peer is there and its window has room (a refused PAIR, or one
    /// without a peer, is not).
    fn writable(&mut self, pipes: &mut PipeSet) -> bool {
        self.peer
            .and_then(|id| pipes.get_mut(id))
            .is_some_and(end_writable)
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        let Some(id) = self.peer else {
            return if self.refused {
                Attempt::Failed(Error::HostUnreachable)
            } else {
                Attempt::Blocked
            };
        };
        let arm = !pipes.disarmed;
        let Some(end) = pipes.get_mut(id) else {
            self.set_peer(None);
            return Attempt::Blocked;
        };
        match end.recv_with(arm) {
            Ok(m) => Attempt::Ready(m),
            Err(RecvFail::Empty) => Attempt::Blocked,
            Err(RecvFail::PeerGone) => {
                if end.refused() {
                    self.drop_refused(pipes, id);
                    Attempt::Failed(Error::HostUnreachable)
                } else {
                    pipes.remove(id);
                    self.set_peer(None);
                    Attempt::Blocked
                }
            }
        }
    }

    /// As `max` calls of `recv`, stopping at the first that does not give a message
    /// (what the default does), in one call on the peer's pipe.
    fn recv_many(
        &mut self,
        pipes: &mut PipeSet,
        out: &mut Vec<Message>,
        max: usize,
    ) -> Attempt<usize> {
        let arm = !pipes.disarmed;
        let Some((id, end)) = self.peer.and_then(|id| Some((id, pipes.get_mut(id)?))) else {
            // No peer (or it just left): `recv` says what that means.
            return match self.recv(pipes) {
                Attempt::Ready(m) => {
                    out.push(m);
                    Attempt::Ready(1)
                }
                Attempt::Blocked => Attempt::Blocked,
                Attempt::Failed(e) => Attempt::Failed(e),
            };
        };
        let (n, gone) = end.recv_many(arm, out, max);
        if gone {
            // The call after the last message: as `recv`'s `PeerGone`.
            let refused = end.refused();
            if refused {
                self.drop_refused(pipes, id);
            } else {
                pipes.remove(id);
                self.set_peer(None);
            }
            if n == 0 && refused {
                return Attempt::Failed(Error::HostUnreachable);
            }
        }
        if n == 0 {
            Attempt::Blocked
        } else {
            Attempt::Ready(n)
        }
    }
}
