//! PUB and XPUB (reference rules 41, 72, 75, 78-80; libzmq `pub.cpp`, `xpub.cpp`,
//! `dist.cpp`): each message goes to every pipe subscribed to a prefix of its first frame,
//! and is dropped for a pipe whose window is full; a send never blocks and always
//! succeeds, subscribers or not.
//!
//! Subscriptions arrive in the pipes as one-frame messages, byte 1 (subscribe) or 0
//! (unsubscribe) then the prefix (see `xsub.rs`). Every send, and every XPUB receive,
//! first reads every pipe dry and applies what it finds to the [`Mtrie`], so a
//! subscription written before the call is in force for it (rule 80). A pipe whose peer
//! has gone (and whose messages have all been read) is dropped with its subscriptions.
//!
//! One message to N subscribers is N clones of one [`Message`]: its frames are
//! reference-counted `Bytes`, so no payload is copied.
//!
//! XPUB also hands its application, in arrival order:
//! - `1`+prefix when a pipe subscribes to a prefix no other pipe had (every subscribe with
//!   ZMQ_XPUB_VERBOSE), and `0`+prefix when the last pipe drops one, by unsubscribing or
//!   by leaving (rules 78, 79);
//! - any other message a peer sends upstream (an XSUB's own messages), whole.
//!
//! PUB ignores those and cannot receive.

use std::collections::VecDeque;

use super::SocketType;
use super::monitor::DropReason;
use super::xsub::{SUBSCRIBE, UNSUBSCRIBE, subscription};
use super::{Attempt, Behaviour, PatternOption, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::pipe::{RecvFail, SendFail};
use crate::route::mtrie::Mtrie;
use crate::route::{PipeId, PipeSet};

/// PUB and XPUB state.
#[derive(Debug)]
pub(crate) struct XPub {
    /// `true` for XPUB (tells its application about subscriptions), `false` for PUB.
    xpub: bool,
    /// ZMQ_XPUB_VERBOSE: report every subscribe, not only a prefix's first.
    verbose: bool,
    /// Every attached pipe, in attach order: read for subscriptions on every call.
    peers: Vec<PipeId>,
    /// Which pipes subscribed to which prefixes.
    subscriptions: Mtrie,
    /// XPUB only: what `recv` hands out next (notifications and upstream messages),
    /// oldest first. Unbounded, as libzmq's `_pending_data`.
    pending: VecDeque<Message>,
}

impl XPub {
    pub(crate) fn new(ty: SocketType) -> Self {
        debug_assert!(matches!(ty, SocketType::Pub | SocketType::XPub));
        XPub {
            xpub: ty == SocketType::XPub,
            verbose: false,
            peers: Vec::new(),
            subscriptions: Mtrie::default(),
            pending: VecDeque::new(),
        }
    }

    /// Reads every pipe dry and applies what arrived; drops pipes whose peer has gone.
    /// With `wait` (XPUB `recv`, which may block), each pipe is read until `Empty`, which
    /// registers it to wake the socket on its next write; without (a send, which never
    /// waits), an empty pipe is only looked at (two loads, no read-modify-write), and the
    /// subscribers' writes do not wake the socket.
    fn read_upstream(&mut self, pipes: &mut PipeSet, wait: bool) {
        let mut i = 0;
        while i < self.peers.len() {
            let id = self.peers[i];
            let Some(end) = pipes.get_mut(id) else {
                self.peers.remove(i);
                self.forget(id);
                continue;
            };
            let read = if wait || end.readable() || end.peer_closed() {
                end.recv()
            } else {
                Err(RecvFail::Empty)
            };
            match read {
                Ok(msg) => self.apply(id, msg),
                Err(RecvFail::Empty) => i += 1,
                Err(RecvFail::PeerGone) => {
                    self.peers.remove(i);
                    pipes.remove(id);
                    self.forget(id);
                }
            }
        }
    }

    /// One message from pipe `id`: a subscription, or (XPUB) a message for the
    /// application.
    fn apply(&mut self, id: PipeId, msg: Message) {
        let first = &msg.frames()[0];
        let report = match first.first() {
            Some(&SUBSCRIBE) => self.subscriptions.add(&first[1..], id) || self.verbose,
            Some(&UNSUBSCRIBE) => self.subscriptions.remove(&first[1..], id),
            _ => {
                if self.xpub {
                    self.pending.push_back(msg);
                }
                return;
            }
        };
        if report && self.xpub {
            // The notification is the subscription frame itself (a shared slice).
            self.pending.push_back(Message::from(first.clone()));
        }
    }

    /// Drops pipe `id`'s subscriptions; XPUB reports each prefix nobody wants now.
    fn forget(&mut self, id: PipeId) {
        let (xpub, pending) = (self.xpub, &mut self.pending);
        self.subscriptions.remove_pipe(id, |prefix| {
            if xpub {
                pending.push_back(subscription(UNSUBSCRIBE, prefix));
            }
        });
    }
}

impl Behaviour for XPub {
    fn attach(&mut self, _pipes: &mut PipeSet, id: PipeId) -> bool {
        self.peers.push(id);
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.peers.retain(|&p| p != id);
        self.forget(id);
    }

    fn send(&mut self, pipes: &mut PipeSet, mut msg: Message) -> Result<(), SendBlock> {
        self.read_upstream(pipes, false);
        let topic = msg.frames()[0].clone();
        let targets = self.subscriptions.matches(&topic);
        for (k, &id) in targets.iter().enumerate() {
            let Some(end) = pipes.get_mut(id) else {
                continue;
            };
            // The last target takes the message itself: one reference-count less.
            let copy = if k + 1 == targets.len() {
                std::mem::take(&mut msg)
            } else {
                msg.clone()
            };
            // Full: this subscriber misses the message (rule 41). PeerGone: the pipe is
            // dropped by the next `read_upstream`, once what it sent has been read.
            if let Err(SendFail::Full(_)) = end.send(copy) {
                pipes.count_drop(DropReason::Hwm);
            }
        }
        if targets.is_empty() {
            // With no match the message is dropped (rule 72).
            pipes.count_drop(DropReason::NoRoute);
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        if !self.xpub {
            return Attempt::Failed(Error::NotSupported);
        }
        self.read_upstream(pipes, true);
        match self.pending.pop_front() {
            Some(msg) => Attempt::Ready(msg),
            None => Attempt::Blocked,
        }
    }

    fn set_option(&mut self, _pipes: &mut PipeSet, opt: &PatternOption) -> Result<(), Error> {
        match opt {
            PatternOption::XPubVerbose(v) if self.xpub => {
                self.verbose = *v;
                Ok(())
            }
            _ => Err(Error::NotSupported),
        }
    }
}
