//! SUB and XSUB (reference rules 42, 68, 75-77; libzmq `sub.cpp`, `xsub.cpp`): fair-queued
//! receives filtered by a counted set of prefix subscriptions, which travel upstream to
//! the publishers.
//!
//! A subscription travels as an ordinary one-frame message, byte 1 (subscribe) or 0
//! (unsubscribe) and then the prefix: XSUB's wire format, used for SUB too (libzmq sends
//! SUB's as internal commands over inproc, rule 75; nothing outside the pipe can tell).
//! Writing it into each pipe is synchronous, so once `subscribe` returns, every attached
//! publisher sees the subscription on its next call. It counts against the SUB→PUB
//! window, and is dropped silently when that window is full (rule 42).
//!
//! The set is counted (rule 77): every subscribe goes upstream, duplicates included; an
//! unsubscribe goes upstream only when its prefix's count drops to zero, and never for a
//! prefix that is not subscribed. A newly attached pipe gets every subscribed prefix once
//! (rule 76), which is what makes subscribe-before-connect and connect-before-bind work.
//!
//! SUB subscribes through options and cannot send. XSUB has no subscribe option: a
//! message it sends whose first frame starts with 1 or 0 is a subscription (counted as
//! above, and forwarded whole); any other message goes to every pipe as it is.

use crate::frame::Frame;

use super::SocketType;
use super::{Attempt, Behaviour, PatternOption, SendBlock};
use crate::error::Error;
use crate::msg::Message;
use crate::route::fair_queue::FairQueue;
use crate::route::mtrie::TopicCounts;
use crate::route::{PipeId, PipeSet};

/// First byte of a subscribe message.
pub(super) const SUBSCRIBE: u8 = 1;
/// First byte of an unsubscribe message.
pub(super) const UNSUBSCRIBE: u8 = 0;

/// A subscription message: `kind` (1 or 0), then `prefix`.
pub(super) fn subscription(kind: u8, prefix: &[u8]) -> Message {
    let mut body = Vec::with_capacity(prefix.len() + 1);
    body.push(kind);
    body.extend_from_slice(prefix);
    Message::from(body)
}

/// SUB and XSUB state.
#[derive(Debug)]
pub(crate) struct XSub {
    /// `true` for SUB (subscribes through options, cannot send), `false` for XSUB.
    sub: bool,
    /// Where received messages come from.
    inbound: FairQueue,
    /// Every attached pipe, in attach order: where subscriptions (and XSUB's other
    /// messages) go. May hold ids of pipes `inbound` has dropped; they are skipped and
    /// forgotten on the next send.
    upstream: Vec<PipeId>,
    /// The counted subscriptions, which also filter what `recv` delivers.
    subscriptions: TopicCounts,
}

impl XSub {
    pub(crate) fn new(ty: SocketType) -> Self {
        debug_assert!(matches!(ty, SocketType::Sub | SocketType::XSub));
        XSub {
            sub: ty == SocketType::Sub,
            inbound: FairQueue::default(),
            upstream: Vec::new(),
            subscriptions: TopicCounts::default(),
        }
    }

    /// Writes `msg` into every pipe that takes it now: a full pipe drops it (rule 42),
    /// a pipe whose peer left is skipped (receiving drops it once drained).
    fn send_upstream(&mut self, pipes: &mut PipeSet, msg: &Message) {
        let mut full = 0;
        self.upstream.retain(|&id| match pipes.get_mut(id) {
            Some(end) => {
                // Full or PeerGone: dropped, as libzmq's `dist_t` does.
                if let Err(crate::pipe::SendFail::Full(_)) = end.send(msg.clone()) {
                    full += 1;
                }
                true
            }
            None => false,
        });
        for _ in 0..full {
            pipes.count_drop(super::monitor::DropReason::Hwm);
        }
    }

    fn subscribe(&mut self, pipes: &mut PipeSet, prefix: &[u8], msg: &Message) {
        self.subscriptions.add(prefix);
        self.send_upstream(pipes, msg);
    }

    fn unsubscribe(&mut self, pipes: &mut PipeSet, prefix: &[u8], msg: &Message) {
        if self.subscriptions.remove(prefix) {
            self.send_upstream(pipes, msg);
        }
    }
}

impl Behaviour for XSub {
    fn attach(&mut self, pipes: &mut PipeSet, id: PipeId) -> bool {
        self.inbound.add(id);
        self.upstream.push(id);
        if let Some(end) = pipes.get_mut(id) {
            // Replay (rule 76): each subscribed prefix once, whatever its count.
            self.subscriptions.for_each(|prefix| {
                let _ = end.send(subscription(SUBSCRIBE, prefix));
            });
        }
        true
    }

    fn detach(&mut self, _pipes: &mut PipeSet, id: PipeId) {
        self.inbound.remove(id);
        self.upstream.retain(|&p| p != id);
    }

    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        if self.sub {
            return Err(SendBlock::Failed(Error::NotSupported, msg));
        }
        let first: Frame = msg.frames()[0].clone();
        match first.first() {
            Some(&SUBSCRIBE) => self.subscribe(pipes, &first[1..], &msg),
            Some(&UNSUBSCRIBE) => self.unsubscribe(pipes, &first[1..], &msg),
            _ => self.send_upstream(pipes, &msg),
        }
        // Like PUB, XSUB never blocks: what a full pipe cannot take is dropped.
        Ok(())
    }

    /// SUB cannot send; XSUB's send never waits.
    fn writable(&mut self, _pipes: &mut PipeSet) -> bool {
        !self.sub
    }

    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        // Drop what no subscription matches and keep reading; `None` leaves every pipe
        // registered to wake us on its next write.
        while let Some((_, msg)) = self.inbound.recv(pipes) {
            if self.subscriptions.matches(&msg.frames()[0]) {
                return Attempt::Ready(msg);
            }
        }
        Attempt::Blocked
    }

    fn set_option(&mut self, pipes: &mut PipeSet, opt: &PatternOption) -> Result<(), Error> {
        match opt {
            PatternOption::Subscribe(prefix) if self.sub => {
                self.subscribe(pipes, prefix, &subscription(SUBSCRIBE, prefix));
                Ok(())
            }
            PatternOption::Unsubscribe(prefix) if self.sub => {
                self.unsubscribe(pipes, prefix, &subscription(UNSUBSCRIBE, prefix));
                Ok(())
            }
            _ => Err(Error::NotSupported),
        }
    }
}
