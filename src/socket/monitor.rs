//! Socket events and counters: what a socket did, and what it dropped and why (libzmq's
//! `zmq_socket_monitor`, plus counters libzmq does not have).
//!
//! Counters live in the socket's gated state: the routing code counts each message it
//! drops by reason ([`PipeSet::count_drop`](crate::route::PipeSet)), and the socket shell
//! counts whole messages sent and received. [`crate::Socket::stats`] takes a snapshot.
//!
//! Events go, as in libzmq, to a PAIR socket that the monitored socket connects to an
//! endpoint of the application's choice ([`crate::Socket::monitor`]); the application
//! binds a PAIR there and receives one message per event: frame 0 the event name
//! (`"bound"`, `"connected"`, `"accepted"`, `"disconnected"`, `"dropped"`, `"closed"`),
//! frame 1 its detail (the endpoint; for `"dropped"`, the reason and the count as text,
//! e.g. `"hwm 3"`). Events are sent without waiting: when the monitor's window is full
//! they are lost (counted in [`Stats::monitor_overflow`]).

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A peer's window was full: PUB/XPUB (per subscriber), XSUB (upstream), ROUTER
    /// without ROUTER_MANDATORY.
    Hwm,
    /// No peer to take it: PUB/XPUB with no matching subscriber, ROUTER to an unknown or
    /// departed id (without ROUTER_MANDATORY), REP replying to a requester that left.
    NoRoute,
    /// Malformed: a ROUTER send with only the id frame, a REP request or REQ reply
    /// without its empty delimiter.
    Malformed,
    /// Not the awaited reply: REQ discards messages from other peers and stale ones.
    Unexpected,
    /// Sent on a connection whose name was never bound before the sender closed (or
    /// disconnected) and its ZMQ_LINGER ran out: zero linger drops them at the close,
    /// a finite one when a later bind finds it expired ([`crate::Socket::set_linger`]).
    Linger,
    /// Sent by a PAIR on a connection its peer refused (the peer PAIR already had one,
    /// SPEC D-5): the sends made before the refusal was known returned `Ok`, and their
    /// messages are discarded. Counted by the refused PAIR when it learns of the
    /// refusal: at its next send, receive, [`crate::Socket::stats`] or close.
    Refused,
}

impl DropReason {
    /// The reason's name in `"dropped"` events.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Hwm => "hwm",
            DropReason::NoRoute => "no-route",
            DropReason::Malformed => "malformed",
            DropReason::Unexpected => "unexpected",
            DropReason::Linger => "linger",
            DropReason::Refused => "refused",
        }
    }
}

/// Messages dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// [`DropReason::Hwm`].
    pub hwm: u64,
    /// [`DropReason::NoRoute`].
    pub no_route: u64,
    /// [`DropReason::Malformed`].
    pub malformed: u64,
    /// [`DropReason::Unexpected`].
    pub unexpected: u64,
    /// [`DropReason::Linger`].
    pub linger: u64,
    /// [`DropReason::Refused`].
    pub refused: u64,
}

impl Drops {
    pub(crate) fn count(&mut self, reason: DropReason) {
        self.count_n(reason, 1);
    }

    /// Counts `n` messages dropped for `reason`.
    pub(crate) fn count_n(&mut self, reason: DropReason, n: u64) {
        let c = match reason {
            DropReason::Hwm => &mut self.hwm,
            DropReason::NoRoute => &mut self.no_route,
            DropReason::Malformed => &mut self.malformed,
            DropReason::Unexpected => &mut self.unexpected,
            DropReason::Linger => &mut self.linger,
            DropReason::Refused => &mut self.refused,
        };
        *c += n;
    }

    /// Per reason, how many more `self` has than `before`.
    pub(crate) fn since(&self, before: &Drops) -> [(DropReason, u64); 6] {
        [
            (DropReason::Hwm, self.hwm - before.hwm),
            (DropReason::NoRoute, self.no_route - before.no_route),
            (DropReason::Malformed, self.malformed - before.malformed),
            (DropReason::Unexpected, self.unexpected - before.unexpected),
            (DropReason::Linger, self.linger - before.linger),
            (DropReason::Refused, self.refused - before.refused),
        ]
    }

    /// All reasons together.
    pub fn total(&self) -> u64 {
        self.hwm + self.no_route + self.malformed + self.unexpected + self.linger + self.refused
    }
}

/// A snapshot of a socket's counters ([`crate::Socket::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Whole messages the application sent (accepted by a send).
    pub sent: u64,
    /// Whole messages the application received.
    pub received: u64,
    /// Messages the socket dropped, by reason.
    pub dropped: Drops,
    /// Messages this socket has written that its peers have not yet reported read
    /// (a writer-side estimate: credit comes back every half window).
    pub queued: u64,
    /// Live connections.
    pub connections: usize,
    /// Events lost because the monitor's window was full.
    pub monitor_overflow: u64,
}
