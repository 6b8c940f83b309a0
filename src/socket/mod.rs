//! `Socket`: the public handle, its options, and the dispatch over socket patterns.
//!
//! Patterns (one file each; `enum Pattern` dispatches, as crossbeam matches over channel
//! flavors):
//! - [`pair`]: PAIR, one exclusive peer;
//! - [`push`]: PUSH, load-balanced sends;
//! - [`pull`]: PULL, fair-queued receives;
//! - [`xpub`]: PUB and XPUB, subscription-filtered fan-out;
//! - [`xsub`]: SUB and XSUB, subscriptions upstream, filtered fair-queued receives;
//! - [`req`]: REQ, strict request/reply over load-balanced peers;
//! - [`rep`]: REP, envelope-preserving replies;
//! - [`dealer`]: DEALER, load-balanced out, fair-queued in;
//! - [`router`]: ROUTER, routing ids in, routing by id out.
//!
//! Every call runs the same shell: check shutdown, enter the socket's [`Gate`], take the
//! pipe ends connectors handed over through the [`Inbox`], run one non-blocking attempt of
//! the pattern, leave the gate; a blocking call then waits on the socket's [`Notify`]
//! (prepared before the attempt, so no wake-up is lost) and tries again.

mod batch;
mod dealer;
mod gate;
pub(crate) mod monitor;
mod pair;
mod pull;
mod push;
mod rep;
mod req;
pub(crate) mod router;
mod spin;
mod xpub;
mod xsub;

use std::mem::ManuallyDrop;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::context::ContextInner;
use crate::endpoint::Endpoint;
use crate::error::{Error, SendError};
use crate::inbox::Inbox;
use crate::msg::Message;
use crate::pipe::{self, EndInfo, Hwm, PipeEnd};
use crate::registry::{Binding, Pending, SocketId, Ticket};
use crate::route::{PipeId, PipeSet};
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{Arc, UnsafeCell, model_unwinding, spin_loop, unarmed_attempts};
use crate::trace;
use crate::wait::Notify;
pub use batch::BatchSendError;
use gate::Gate;
pub use monitor::{DropReason, Drops, Stats};

/// The ZeroMQ socket types: all eleven stable ones, all implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketType {
    /// Exclusive pair: one peer, both directions.
    Pair,
    /// Publisher: fans each message out to the subscribers whose prefixes match; never blocks.
    Pub,
    /// Subscriber: receives the messages matching its prefix subscriptions.
    Sub,
    /// Extended publisher: a PUB that also receives the subscriptions (byte 1/0 + prefix).
    XPub,
    /// Extended subscriber: a SUB whose subscriptions are messages it sends.
    XSub,
    /// Pipeline sender: load-balances over its peers.
    Push,
    /// Pipeline receiver: fair-queues from its peers.
    Pull,
    /// Request: strictly alternating request and reply, round-robin over peers.
    Req,
    /// Reply: receives requests fair-queued and answers each on its envelope.
    Rep,
    /// Dealer: load-balanced sends, fair-queued receives, no envelope.
    Dealer,
    /// Router: prefixes received messages with the peer's routing id and routes sends by it.
    Router,
}

impl SocketType {
    /// All eleven types.
    pub const ALL: [SocketType; 11] = [
        SocketType::Pair,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::XPub,
        SocketType::XSub,
        SocketType::Push,
        SocketType::Pull,
        SocketType::Req,
        SocketType::Rep,
        SocketType::Dealer,
        SocketType::Router,
    ];

    /// Does ZMQ_CONFLATE apply to connections this type makes (rule 59)?
    fn conflates(self) -> bool {
        matches!(
            self,
            SocketType::Dealer
                | SocketType::Pull
                | SocketType::Push
                | SocketType::Pub
                | SocketType::Sub
        )
    }

    /// libzmq's name for the type (`"PAIR"`, `"PUSH"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Push => "PUSH",
            SocketType::Pull => "PULL",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
        }
    }
}

impl std::fmt::Display for SocketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The default SNDHWM and RCVHWM (messages), as libzmq.
pub const DEFAULT_HWM: usize = 1000;
/// The largest HWM accepted (libzmq takes a C `int`).
pub const MAX_HWM: usize = i32::MAX as usize;

/// The result of one non-blocking attempt of a pattern operation.
#[derive(Debug)]
pub(crate) enum Attempt<T> {
    Ready(T),
    /// Not possible now; wait for the socket's `Notify` and try again.
    Blocked,
    Failed(Error),
}

/// Why a pattern did not send; the message comes back.
#[derive(Debug)]
pub(crate) enum SendBlock {
    Blocked(Message),
    Failed(Error, Message),
}

/// A socket option that only some patterns accept (the rest answer
/// [`Error::NotSupported`]).
#[derive(Debug, Clone)]
pub(crate) enum PatternOption {
    /// SUB: add a prefix subscription (ZMQ_SUBSCRIBE).
    Subscribe(Bytes),
    /// SUB: remove one (ZMQ_UNSUBSCRIBE).
    Unsubscribe(Bytes),
    /// ROUTER: unroutable sends fail instead of being dropped (ZMQ_ROUTER_MANDATORY).
    RouterMandatory(bool),
    /// XPUB: report every subscription, duplicates included (ZMQ_XPUB_VERBOSE).
    XPubVerbose(bool),
}

/// What every pattern implements: the narrow interface between the socket shell and a
/// pattern's routing state. All methods run inside the socket's gate and must not block:
/// "not possible now" is [`Attempt::Blocked`] / [`SendBlock::Blocked`], and the shell
/// waits on the socket's `Notify`. A pattern that must wait for a pipe to drain or fill
/// registers for the wake-up through the pipe (`PipeEnd::recv` returning `Empty`,
/// `PipeEnd::sleep_until_room`).
pub(crate) trait Behaviour {
    /// A pipe end was handed to the socket (connect, bind, or a connector's hand-over).
    /// Returning `false` refuses it (the shell closes it with the REFUSED mark).
    fn attach(&mut self, pipes: &mut PipeSet, id: PipeId) -> bool;
    /// The socket is dropping this pipe (`disconnect`); it is still in `pipes` during the
    /// call and removed right after.
    fn detach(&mut self, pipes: &mut PipeSet, id: PipeId);
    /// One non-blocking send attempt of a whole message.
    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock>;
    /// One non-blocking receive attempt of a whole message.
    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message>;
    /// One non-blocking attempt to receive up to `max >= 1` whole messages into `out`
    /// (a batch receive): `Ready(n)` with `1 <= n <= max`, or what `recv` gives when
    /// nothing comes. The default calls `recv` until it blocks or fails; patterns that
    /// deliver straight from a fair queue (PULL, DEALER) or one pipe (PAIR) take a run
    /// of messages with one claim.
    fn recv_many(
        &mut self,
        pipes: &mut PipeSet,
        out: &mut Vec<Message>,
        max: usize,
    ) -> Attempt<usize> {
        let mut n = 0;
        while n < max {
            match self.recv(pipes) {
                Attempt::Ready(m) => {
                    out.push(m);
                    n += 1;
                }
                // Nothing more now, or this type takes no more (REQ's one reply):
                // the batch is what came so far.
                Attempt::Blocked => break,
                Attempt::Failed(e) if n == 0 => return Attempt::Failed(e),
                Attempt::Failed(_) => break,
            }
        }
        if n == 0 {
            Attempt::Blocked
        } else {
            Attempt::Ready(n)
        }
    }
    /// The one pipe a batch send may push a run of messages into directly
    /// ([`PipeEnd::send_run`]), because `send` would put each of them there: PUSH and
    /// DEALER with one peer (the round-robin cursor is moved past it, as a send to it
    /// does), PAIR with its peer. `None` (the default): messages go one by one.
    fn batch_pipe(&mut self, _pipes: &mut PipeSet) -> Option<PipeId> {
        None
    }
    /// A pattern-specific option.
    fn set_option(&mut self, _pipes: &mut PipeSet, _opt: &PatternOption) -> Result<(), Error> {
        Err(Error::NotSupported)
    }
    /// Takes note of what peers did that no send or receive has seen yet (PAIR: a
    /// refusal, whose lost messages are then counted). Called by `stats` and at close.
    fn notice(&mut self, _pipes: &mut PipeSet) {}
    /// May this socket make another connection now? (PAIR: not while it has a peer.)
    fn can_connect(&mut self, _pipes: &mut PipeSet) -> Result<(), Error> {
        Ok(())
    }
    /// Would a send succeed without waiting now (ZMQ_POLLOUT)? A pattern that never
    /// blocks on send (PUB, XSUB, ROUTER) keeps this default.
    fn writable(&mut self, _pipes: &mut PipeSet) -> bool {
        true
    }
}

/// Per-pattern state, dispatched by `match`.
#[derive(Debug)]
enum Pattern {
    Pair(pair::Pair),
    Push(push::Push),
    Pull(pull::Pull),
    Pub(xpub::XPub),
    XPub(xpub::XPub),
    Sub(xsub::XSub),
    XSub(xsub::XSub),
    Req(req::Req),
    Rep(rep::Rep),
    Dealer(dealer::Dealer),
    Router(router::Router),
}

macro_rules! dispatch {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            Pattern::Pair($p) => $e,
            Pattern::Push($p) => $e,
            Pattern::Pull($p) => $e,
            Pattern::Pub($p) | Pattern::XPub($p) => $e,
            Pattern::Sub($p) | Pattern::XSub($p) => $e,
            Pattern::Req($p) => $e,
            Pattern::Rep($p) => $e,
            Pattern::Dealer($p) => $e,
            Pattern::Router($p) => $e,
        }
    };
}

impl Pattern {
    fn new(ty: SocketType, socket: SocketId, inbox: &Arc<Inbox>) -> Pattern {
        match ty {
            SocketType::Pair => Pattern::Pair(pair::Pair::new(inbox.clone())),
            SocketType::Push => Pattern::Push(push::Push::default()),
            SocketType::Pull => Pattern::Pull(pull::Pull::default()),
            SocketType::Pub => Pattern::Pub(xpub::XPub::new(ty)),
            SocketType::XPub => Pattern::XPub(xpub::XPub::new(ty)),
            SocketType::Sub => Pattern::Sub(xsub::XSub::new(ty)),
            SocketType::XSub => Pattern::XSub(xsub::XSub::new(ty)),
            SocketType::Req => Pattern::Req(req::Req::default()),
            SocketType::Rep => Pattern::Rep(rep::Rep::default()),
            SocketType::Dealer => Pattern::Dealer(dealer::Dealer::default()),
            SocketType::Router => Pattern::Router(router::Router::new(socket)),
        }
    }
}

impl Behaviour for Pattern {
    fn attach(&mut self, pipes: &mut PipeSet, id: PipeId) -> bool {
        dispatch!(self, p => p.attach(pipes, id))
    }
    fn detach(&mut self, pipes: &mut PipeSet, id: PipeId) {
        dispatch!(self, p => p.detach(pipes, id))
    }
    fn send(&mut self, pipes: &mut PipeSet, msg: Message) -> Result<(), SendBlock> {
        dispatch!(self, p => p.send(pipes, msg))
    }
    fn recv(&mut self, pipes: &mut PipeSet) -> Attempt<Message> {
        dispatch!(self, p => p.recv(pipes))
    }
    fn recv_many(
        &mut self,
        pipes: &mut PipeSet,
        out: &mut Vec<Message>,
        max: usize,
    ) -> Attempt<usize> {
        dispatch!(self, p => p.recv_many(pipes, out, max))
    }
    fn batch_pipe(&mut self, pipes: &mut PipeSet) -> Option<PipeId> {
        dispatch!(self, p => p.batch_pipe(pipes))
    }
    fn set_option(&mut self, pipes: &mut PipeSet, opt: &PatternOption) -> Result<(), Error> {
        dispatch!(self, p => p.set_option(pipes, opt))
    }
    fn notice(&mut self, pipes: &mut PipeSet) {
        dispatch!(self, p => p.notice(pipes))
    }
    fn can_connect(&mut self, pipes: &mut PipeSet) -> Result<(), Error> {
        dispatch!(self, p => p.can_connect(pipes))
    }
    fn writable(&mut self, pipes: &mut PipeSet) -> bool {
        dispatch!(self, p => p.writable(pipes))
    }
}

/// When a blocking call gives up.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    Now,
    Never,
    At(Instant),
}

impl Deadline {
    fn after(timeout: Option<Duration>) -> Deadline {
        match timeout {
            None => Deadline::Never,
            Some(d) if d.is_zero() => Deadline::Now,
            Some(d) => Instant::now()
                .checked_add(d)
                .map_or(Deadline::Never, Deadline::At),
        }
    }
}

/// Encoding of "no timeout" in the timeout atomics.
const NO_TIMEOUT: u64 = u64::MAX;

fn encode_timeout(t: Option<Duration>) -> u64 {
    t.map_or(NO_TIMEOUT, |d| {
        u64::try_from(d.as_nanos()).unwrap_or(NO_TIMEOUT - 1)
    })
}

fn decode_timeout(v: u64) -> Option<Duration> {
    (v != NO_TIMEOUT).then(|| Duration::from_nanos(v))
}

/// State touched only inside the gate.
#[derive(Debug)]
pub(crate) struct State {
    sndhwm: usize,
    rcvhwm: usize,
    /// ZMQ_ROUTING_ID: sent to peers at connect (or bind) time.
    routing_id: Option<Bytes>,
    /// ZMQ_CONFLATE: applies to connections this socket makes later.
    conflate: bool,
    pipes: PipeSet,
    pattern: Pattern,
    /// Names this socket bound (and has not unbound).
    bound: Vec<Endpoint>,
    /// Pipes this socket made by connecting, with the endpoint (for `disconnect`).
    connects: Vec<(Endpoint, PipeId)>,
    /// Pipes this socket made by connecting to a name nobody had bound, with where the
    /// binder's end waits in the registry: let go at close or disconnect by the linger
    /// rules (`State::let_go_waiting`, SPEC C-8, C-9).
    waiting: Vec<(Ticket, PipeId)>,
    /// ZMQ_LINGER for connections still waiting for their name when this socket closes
    /// or disconnects them: `None` keeps their messages until a bind takes them (the
    /// default, libzmq's infinite linger), zero drops them, a duration lets them expire.
    linger: Option<Duration>,
    last_endpoint: Option<Endpoint>,
    /// A message taken by a readiness check (`Socket::readable`), returned by the next
    /// receive before anything else.
    stash: Option<Message>,
    /// Whether the last whole message the application sent or received was a send:
    /// a blocking receive now awaits a reply (`Socket::block_on`).
    sent_last: bool,
    /// Unarmed attempts of a receive that awaits a reply (`spin`).
    spin_budget: u32,
    /// Whole messages sent and received by the application (`Socket::stats`).
    sent: u64,
    received: u64,
    /// Where events go (`Socket::monitor`): a PAIR connected to the application's
    /// endpoint.
    monitor: Option<Box<Socket>>,
    /// The endpoint `monitor` is connected to.
    monitor_ep: Option<Endpoint>,
    /// Events the monitor's full window refused.
    monitor_overflow: u64,
}

impl State {
    /// One receive attempt: the stashed message first (see `Socket::readable`).
    fn recv(&mut self) -> Attempt<Message> {
        let attempt = match self.stash.take() {
            Some(m) => Attempt::Ready(m),
            None => self.pattern.recv(&mut self.pipes),
        };
        if let Attempt::Ready(_) = attempt {
            self.received += 1;
            self.sent_last = false;
        }
        attempt
    }

    /// One batch receive attempt (`max >= 1`): the stashed message first, then what
    /// the pattern gives (see [`Behaviour::recv_many`]).
    fn recv_many(&mut self, out: &mut Vec<Message>, max: usize) -> Attempt<usize> {
        let mut n = 0;
        if let Some(m) = self.stash.take() {
            out.push(m);
            n = 1;
        }
        let attempt = if n == max {
            Attempt::Ready(n)
        } else {
            match self.pattern.recv_many(&mut self.pipes, out, max - n) {
                Attempt::Ready(k) => Attempt::Ready(n + k),
                Attempt::Blocked if n > 0 => Attempt::Ready(n),
                Attempt::Failed(_) if n > 0 => Attempt::Ready(n),
                other => other,
            }
        };
        if let Attempt::Ready(k) = attempt {
            self.received += k as u64;
            self.sent_last = false;
        }
        attempt
    }

    /// Sends event `name` with `detail` to the monitor, if there is one (never waits).
    fn emit(&mut self, name: &str, detail: &str) {
        if let Some(m) = &self.monitor {
            let event = Message::from_frames([
                Bytes::copy_from_slice(name.as_bytes()),
                Bytes::copy_from_slice(detail.as_bytes()),
            ]);
            if let Err(e) = m.try_send(event) {
                self.monitor_overflow += 1;
                if *e.error() == Error::HostUnreachable {
                    // The PAIR at the monitor's endpoint refused it (it had a peer
                    // already, S-3): nothing will ever be delivered; stop trying.
                    self.monitor = None;
                    self.monitor_ep = None;
                }
            }
        }
    }

    /// [`State::emit`] with a detail that is only built if there is a monitor (without
    /// this, an endpoint's text was formatted at every bind and connect: issue 11).
    fn emit_with(&mut self, name: &str, detail: impl FnOnce() -> String) {
        if self.monitor.is_some() {
            self.emit(name, &detail());
        }
    }

    /// Does the stash hold a message that already moved the pattern's send/receive
    /// alternation on (REQ: the reply, REP: the request)? Until the application receives
    /// it, the socket must behave as if it had not: no send (Q-3, Q-7), not writable.
    fn stash_holds_turn(&self) -> bool {
        self.stash.is_some() && matches!(self.pattern, Pattern::Req(_) | Pattern::Rep(_))
    }

    /// One send attempt; see [`State::stash_holds_turn`].
    fn send(&mut self, msg: Message) -> Result<(), SendBlock> {
        if self.stash_holds_turn() {
            return Err(SendBlock::Failed(Error::InvalidState, msg));
        }
        let r = self.pattern.send(&mut self.pipes, msg);
        if r.is_ok() {
            self.sent += 1;
            self.sent_last = true;
        }
        r
    }

    /// The fast part of one batch send attempt: pushes a run of messages (`held`, then
    /// `next`) straight into the pattern's batch pipe, if it has one
    /// ([`Behaviour::batch_pipe`]); returns how many. The caller sends the rest with
    /// [`State::send`].
    fn send_run(
        &mut self,
        held: &mut Option<Message>,
        next: impl FnMut() -> Option<Message>,
    ) -> usize {
        if self.stash_holds_turn() {
            return 0;
        }
        let Some(id) = self.pattern.batch_pipe(&mut self.pipes) else {
            return 0;
        };
        let sent = &mut self.sent;
        let n = self
            .pipes
            .get_mut(id)
            .map_or(0, |end| end.send_run(held, next, sent));
        if n > 0 {
            self.sent_last = true;
        }
        n
    }

    fn hwm(&self) -> Hwm {
        Hwm::new(self.sndhwm, self.rcvhwm)
    }

    /// What this socket brings to a new connection.
    fn info(&self) -> EndInfo {
        EndInfo {
            hwm: self.hwm(),
            routing_id: self.routing_id.clone(),
        }
    }

    /// Adopts a pipe end, or refuses it if the pattern will not take it. Returns its id
    /// if adopted.
    fn attach(&mut self, end: PipeEnd, origin: Option<Endpoint>) -> Option<PipeId> {
        let id = self.pipes.insert(end);
        if !self.pattern.attach(&mut self.pipes, id) {
            if let Some(end) = self.pipes.remove(id) {
                end.refuse();
            }
            return None;
        }
        if let Some(ep) = origin {
            self.connects.push((ep, id));
        }
        Some(id)
    }

    /// Lets go of the waiting connections among `ids` (all of them when `None`). One
    /// that is still waiting for its name is withdrawn from the registry if nothing was
    /// sent on it, so an abandoned connector leaves nothing behind (C-8). One that
    /// carries messages follows ZMQ_LINGER (C-9): kept until a binder takes it (no
    /// linger set), withdrawn now with its messages counted as dropped (zero), or
    /// marked to expire (a duration). A connection a binder already took is not
    /// touched: it has a reader, and sees ours close.
    fn let_go_waiting(&mut self, ctx: &ContextInner, ids: Option<&[PipeId]>) {
        if self.waiting.is_empty() {
            return;
        }
        let mut keep = Vec::new();
        for (ticket, id) in std::mem::take(&mut self.waiting) {
            if ids.is_some_and(|ids| !ids.contains(&id)) {
                keep.push((ticket, id));
                continue;
            }
            // Nothing was read from a pipe still waiting, so what was sent is queued.
            let queued = self.pipes.get_mut(id).map_or(0, |end| end.queued_out());
            match self.linger {
                _ if queued == 0 => {
                    let _ = ctx.registry.withdraw(&ctx.domain, &ticket);
                }
                Some(d) if d.is_zero() => {
                    let withdrawn = ctx.registry.withdraw(&ctx.domain, &ticket);
                    let dropped = if withdrawn { queued as u64 } else { 0 };
                    self.pipes.count_drops(DropReason::Linger, dropped);
                }
                Some(d) => {
                    // A linger too long to represent is as good as infinite.
                    if let Some(at) = Instant::now().checked_add(d) {
                        ticket.pending().expire_at(at);
                    }
                }
                None => {}
            }
        }
        self.waiting = keep;
    }
}

/// A socket: one of the ZeroMQ patterns, bound or connected to `inproc://` endpoints.
///
/// `Send + Sync`: methods take `&self`, and calls from several threads are serialised
/// (libzmq sockets must not be shared at all). A thread blocked in `recv` does not block
/// another thread's `send`. Closing is [`Socket::close`] or drop; every call on a socket
/// whose context was shut down returns [`Error::Terminated`].
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
/// use inproc::{Context, SocketType};
/// let ctx = Context::new();
/// // Connect before bind: the connector can send at once; delivery happens at bind.
/// let push = ctx.socket(SocketType::Push)?;
/// push.connect("inproc://later")?;
/// push.send("queued before the bind")?;
/// let pull = ctx.socket(SocketType::Pull)?;
/// pull.bind("inproc://later")?;
/// assert_eq!(pull.recv()?, "queued before the bind".into());
/// # Ok::<(), inproc::Error>(())
/// ```
pub struct Socket {
    ctx: Arc<ContextInner>,
    id: SocketId,
    ty: SocketType,
    /// Woken by every event that can unblock a call on this socket.
    notify: Arc<Notify>,
    /// Where connectors hand over the binder's end of new pipes.
    inbox: Arc<Inbox>,
    /// Serialises access to `state`.
    gate: Gate,
    /// Only touched inside `gate`. `ManuallyDrop` so that a failing model can leak it
    /// (see `Drop for Socket`); otherwise dropped at the end of `Drop for Socket`.
    state: ManuallyDrop<UnsafeCell<State>>,
    /// SNDTIMEO in nanoseconds (`NO_TIMEOUT`: block). Relaxed: a plain option value.
    send_timeout: AtomicU64,
    /// RCVTIMEO in nanoseconds (`NO_TIMEOUT`: block). Relaxed: a plain option value.
    recv_timeout: AtomicU64,
    /// Whether `notify` is in the context's socket set (so that `Context::shutdown`
    /// wakes it). Set by [`Socket::enlist`] before the socket first sleeps or registers
    /// a waker; read by the close. Most sockets never wait, and never pay for the set.
    enlisted: AtomicBool,
}

// SAFETY: `state` (which holds the `!Sync` pipe ends) is only touched inside `gate`,
// which admits one thread at a time with Acquire/Release ordering; everything else is
// `Sync` already.
unsafe impl Sync for Socket {}
// SAFETY: all fields are `Send` (pipe ends move with the socket).
unsafe impl Send for Socket {}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("type", &self.ty)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Leaves the gate when dropped.
struct Inside<'a> {
    socket: &'a Socket,
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        if model_unwinding() {
            // A failed model unwinds out of a call (loom's deadlock report comes from
            // inside a blocking wait): the checker's state is gone, leave the gate shut.
            return;
        }
        self.socket.gate.leave(&self.socket.notify);
    }
}

impl Socket {
    /// A new socket of `ctx`. The caller has counted it live
    /// (`ContextInner::socket_opened`); its drop uncounts it.
    pub(crate) fn new(
        ctx: Arc<ContextInner>,
        id: SocketId,
        ty: SocketType,
        notify: Arc<Notify>,
    ) -> Socket {
        let inbox = Arc::new(if ty == SocketType::Pair {
            Inbox::new_exclusive()
        } else {
            Inbox::new()
        });
        let pattern = Pattern::new(ty, id, &inbox);
        Socket {
            ctx,
            id,
            ty,
            notify,
            inbox,
            gate: Gate::new(),
            state: ManuallyDrop::new(UnsafeCell::new(State {
                sndhwm: DEFAULT_HWM,
                rcvhwm: DEFAULT_HWM,
                routing_id: None,
                conflate: false,
                pipes: PipeSet::default(),
                pattern,
                bound: Vec::new(),
                connects: Vec::new(),
                waiting: Vec::new(),
                linger: None,
                last_endpoint: None,
                stash: None,
                sent: 0,
                received: 0,
                sent_last: false,
                spin_budget: spin::MIN,
                monitor: None,
                monitor_ep: None,
                monitor_overflow: 0,
            })),
            send_timeout: AtomicU64::new(NO_TIMEOUT),
            recv_timeout: AtomicU64::new(NO_TIMEOUT),
            enlisted: AtomicBool::new(false),
        }
    }

    /// Runs `f` inside the gate, after adopting handed-over pipes.
    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let _coarse = crate::sync::coarse::enter();
        self.gate.enter(&self.notify);
        let _inside = Inside { socket: self };
        self.state.with_mut(|st| {
            // SAFETY: we are inside the gate: no other thread touches `state` until
            // `_inside` drops, and the gate's Acquire orders us after the previous holder.
            let st = unsafe { &mut *st };
            if self.inbox.has_items() {
                for mut end in self.inbox.drain() {
                    end.attach(None, self.notify.clone());
                    st.attach(end, None);
                    trace::event(self.id, self.ty, "accepted", &"", false);
                    st.emit("accepted", "");
                }
            }
            if st.monitor.is_none() && !trace::enabled() {
                return f(st);
            }
            let before = st.pipes.drops;
            let r = f(st);
            for (reason, n) in st.pipes.drops.since(&before) {
                if n > 0 {
                    trace::dropped(self.id, self.ty, reason, n);
                    if st.monitor.is_some() {
                        st.emit_with("dropped", || format!("{} {n}", reason.name()));
                    }
                }
            }
            r
        })
    }

    /// A non-blocking call: fails with `Terminated` after shutdown.
    fn op<R>(&self, f: impl FnOnce(&mut State) -> Result<R, Error>) -> Result<R, Error> {
        if self.ctx.is_terminated() {
            return Err(Error::Terminated);
        }
        self.with_state(f)
    }

    /// Puts `notify` in the context's socket set, once, before this socket first sleeps
    /// on it or registers a waker with it: `Context::shutdown` wakes every socket of the
    /// set (a call that finds its message at once never joins). Joining and
    /// shutting down are compare-and-swaps on the same set, so either `shutdown` finds
    /// the socket and wakes it, or the join fails with [`Error::Terminated`]. Two
    /// threads sharing the socket may both insert (the second insert replaces the entry
    /// with the same `Notify`).
    fn enlist(&self) -> Result<(), Error> {
        if !self.is_enlisted() {
            self.ctx.add_socket(self.id, self.notify.clone())?;
            // Release: pairs with the Acquire load above.
            self.enlisted.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Has this socket joined the context's socket set ([`Socket::enlist`])?
    fn is_enlisted(&self) -> bool {
        // Acquire: pairs with the Release store in `enlist`, so a thread that sees `true`
        // also sees the completed insertion (the socket set's update happened before).
        self.enlisted.load(Ordering::Acquire)
    }

    /// The blocking shell: attempt, then wait on `notify`, until done or `deadline`.
    ///
    /// `receive`: the call receives. A receive right after the socket's last successful
    /// operation was a send (`State::sent_last`: a request, a ping, a reply before the
    /// next request) awaits a reply: its unarmed attempts follow the socket's learned
    /// budget (`spin`), and a wait it has to sleep teaches that budget. Every other call
    /// makes `unarmed_attempts()` (`spin::MIN`), as before.
    fn block_on<T>(
        &self,
        deadline: Deadline,
        receive: bool,
        mut attempt: impl FnMut(&mut State) -> Attempt<T>,
    ) -> Result<T, Error> {
        // First a few attempts that leave empty pipes unarmed (see `PipeSet::disarmed`):
        // a message that arrives meanwhile costs its writer no wake-up. Then armed
        // attempts, each followed by a wait on `notify` (which spins, yields, parks).
        // Outside the checkers a reply's wait adapts its number (`spin`); the checkers
        // see exactly the fixed policy (nothing below touches an atomic for it).
        const ADAPTIVE: bool = cfg!(not(any(loom, shuttle)));
        // An awaited reply's spinning yields the CPU this often (see below).
        const YIELD_EVERY: u32 = 64;
        // `UNDECIDED`: a receive outside the checkers, whose budget its first blocked
        // attempt decides from the socket's state (a second, short visit to the state,
        // so that a call that succeeds at once runs exactly the code it ran before).
        const UNDECIDED: u32 = u32::MAX;
        let mut unarmed = if matches!(deadline, Deadline::Now) {
            0
        } else if ADAPTIVE && receive {
            UNDECIDED
        } else {
            unarmed_attempts()
        };
        // Whether this call awaits a reply (decided with the budget).
        let mut awaits_reply = false;
        // When this call first went to sleep (only if it awaits a reply).
        let mut slept_at: Option<Instant> = None;
        loop {
            // A user's loom model: one coarse section per attempt (`sync::coarse`).
            let coarse = crate::sync::coarse::enter();
            let armed = unarmed == 0;
            if coarse.is_active() && armed && !matches!(deadline, Deadline::Now) {
                // There, join the socket set before the first armed attempt rather than
                // after it: one section fewer per first sleep (4x fewer executions for
                // the downstream PAIR handshake). Elsewhere joining late keeps sockets
                // that never wait out of the set, and inproc's own largest model
                // smaller (3.4 M executions instead of 4.3 M).
                self.enlist()?;
            }
            let key = self.notify.prepare();
            if self.ctx.is_terminated() {
                return Err(Error::Terminated);
            }
            let outcome = self.with_state(|st| {
                st.pipes.disarmed = !armed;
                let r = attempt(st);
                st.pipes.disarmed = false;
                r
            });
            match outcome {
                Attempt::Ready(v) => {
                    if let Some(t) = slept_at {
                        // The wait taught the budget something (`spin::next`).
                        self.with_state(|st| {
                            st.spin_budget = spin::next(st.spin_budget, t.elapsed());
                        });
                    }
                    return Ok(v);
                }
                Attempt::Failed(e) => return Err(e),
                Attempt::Blocked => {}
            }
            if !armed {
                drop(coarse);
                if unarmed == UNDECIDED {
                    let (sent_last, learned) = self.with_state(|st| (st.sent_last, st.spin_budget));
                    awaits_reply = sent_last;
                    unarmed = if awaits_reply {
                        learned
                    } else {
                        unarmed_attempts()
                    };
                }
                unarmed -= 1;
                if awaits_reply && unarmed % YIELD_EVERY == 0 {
                    // Lets a thread waiting for this CPU run (a peer pinned to the same
                    // CPU, whose reply we are spinning for), at the price of one system
                    // call: 5.8 -> 2.2 µs one-way for a PAIR ping-pong on one CPU.
                    crate::sync::yield_now();
                } else {
                    spin_loop();
                }
                continue;
            }
            if !matches!(deadline, Deadline::Now) && !self.is_enlisted() {
                // About to sleep for the first time: join the socket set first (so that
                // shutdown wakes us), then prepare and check again before sleeping.
                self.enlist()?;
                continue;
            }
            drop(coarse);
            if awaits_reply && slept_at.is_none() {
                slept_at = Some(Instant::now());
            }
            match deadline {
                Deadline::Now => return Err(Error::WouldBlock),
                Deadline::Never => {
                    self.notify.wait(key, None);
                }
                Deadline::At(d) => {
                    if !self.notify.wait(key, Some(d)) {
                        return Err(Error::TimedOut);
                    }
                }
            }
        }
    }

    fn send_until(&self, msg: Message, deadline: Deadline) -> Result<(), SendError> {
        let mut slot = Some(msg);
        let result = self.block_on(deadline, false, |st| {
            let Some(m) = slot.take() else {
                return Attempt::Failed(Error::InvalidState);
            };
            match st.send(m) {
                Ok(()) => Attempt::Ready(()),
                Err(SendBlock::Blocked(m)) => {
                    slot = Some(m);
                    Attempt::Blocked
                }
                Err(SendBlock::Failed(e, m)) => {
                    slot = Some(m);
                    Attempt::Failed(e)
                }
            }
        });
        result.map_err(|e| SendError::new(e, slot.take().unwrap_or_default()))
    }

    fn recv_until(&self, deadline: Deadline) -> Result<Message, Error> {
        self.block_on(deadline, true, State::recv)
    }

    // ----- readiness and wakers (the poller and async) ------------------------------

    /// A fresh watcher id for [`Socket::poll_op`] / [`Socket::watch`].
    pub(crate) fn new_watch_id(&self) -> u64 {
        self.ctx.fresh_id()
    }

    /// One non-blocking attempt of `attempt`; if it must wait, registers `waker` (as
    /// watcher `watch_id`) so that the next event on the socket wakes it, and returns
    /// `Pending`. The watcher stays registered until [`Socket::unwatch`] (futures do it
    /// when dropped, and on completion). No wake-up is lost: the key is read before the
    /// attempt and re-checked after the registration.
    pub(crate) fn poll_op<T>(
        &self,
        watch_id: u64,
        waker: &std::task::Waker,
        mut attempt: impl FnMut(&mut State) -> Attempt<T>,
    ) -> std::task::Poll<Result<T, Error>> {
        use std::task::Poll;
        loop {
            let key = self.notify.prepare();
            if self.ctx.is_terminated() {
                return Poll::Ready(Err(Error::Terminated));
            }
            match self.with_state(&mut attempt) {
                Attempt::Ready(v) => return Poll::Ready(Ok(v)),
                Attempt::Failed(e) => return Poll::Ready(Err(e)),
                Attempt::Blocked => {}
            }
            // Before the waker waits: join the socket set (shutdown wakes its members);
            // a shutdown that came first refuses the join.
            if let Err(e) = self.enlist() {
                return Poll::Ready(Err(e));
            }
            self.notify.watch(watch_id, waker);
            if !self.notify.changed(key) {
                return Poll::Pending;
            }
        }
    }

    /// Registers `waker` as watcher `id` of this socket's events (see `Notify::watch`).
    pub(crate) fn watch(&self, id: u64, waker: &std::task::Waker) {
        // A shut-down context refuses the join; the watcher's next check of the socket
        // sees the shutdown flag (stored before the set was marked), so nothing waits.
        let _ = self.enlist();
        self.notify.watch(id, waker);
    }

    /// Removes watcher `id`.
    pub(crate) fn unwatch(&self, id: u64) {
        self.notify.unwatch(id);
    }

    /// Non-blocking receive step for async: `Ready(Ok(msg))`, `Ready(Err(..))` or
    /// `Pending` with `waker` registered.
    pub(crate) fn poll_recv_with(
        &self,
        watch_id: u64,
        waker: &std::task::Waker,
    ) -> std::task::Poll<Result<Message, Error>> {
        self.poll_op(watch_id, waker, State::recv)
    }

    /// Non-blocking send step for async: takes the message out of `slot` only when it is
    /// sent whole; on `Pending` or an error the message stays in `slot`.
    pub(crate) fn poll_send_with(
        &self,
        watch_id: u64,
        waker: &std::task::Waker,
        slot: &mut Option<Message>,
    ) -> std::task::Poll<Result<(), Error>> {
        self.poll_op(watch_id, waker, |st| {
            let Some(m) = slot.take() else {
                return Attempt::Failed(Error::InvalidState);
            };
            match st.send(m) {
                Ok(()) => Attempt::Ready(()),
                Err(SendBlock::Blocked(m)) => {
                    *slot = Some(m);
                    Attempt::Blocked
                }
                Err(SendBlock::Failed(e, m)) => {
                    *slot = Some(m);
                    Attempt::Failed(e)
                }
            }
        })
    }

    /// Would `try_recv` return a message now? (Level-triggered, like ZMQ_POLLIN: a
    /// message found is kept for the next receive.) `false` after shutdown.
    ///
    /// For REQ the check takes the reply into that stash (for REP, the request): until
    /// the application receives it, `send` is [`Error::InvalidState`] and
    /// [`Socket::writable`] is `false`, exactly as without the check.
    pub fn readable(&self) -> bool {
        if self.ctx.is_terminated() {
            return false;
        }
        self.with_state(|st| {
            if st.stash.is_some() {
                return true;
            }
            match st.pattern.recv(&mut st.pipes) {
                Attempt::Ready(m) => {
                    st.stash = Some(m);
                    true
                }
                Attempt::Blocked | Attempt::Failed(_) => false,
            }
        })
    }

    /// Would a send find room now (ZMQ_POLLOUT)? `false` after shutdown.
    pub fn writable(&self) -> bool {
        if self.ctx.is_terminated() {
            return false;
        }
        self.with_state(|st| !st.stash_holds_turn() && st.pattern.writable(&mut st.pipes))
    }

    /// Has this socket's context been shut down?
    pub fn is_terminated(&self) -> bool {
        self.ctx.is_terminated()
    }

    // ----- public API ---------------------------------------------------------------

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.ty
    }

    /// Binds `endpoint` (`inproc://name`). Connections that were waiting for the name are
    /// attached now, in connect order, and their queued messages become readable.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`], [`Error::UnsupportedTransport`], [`Error::AddrInUse`]
    /// (the name is bound in this context, by any socket), [`Error::Terminated`].
    pub fn bind(&self, endpoint: &str) -> Result<(), Error> {
        let ep = Endpoint::parse(endpoint)?;
        self.op(|st| {
            let binding = Arc::new(Binding {
                socket: self.id,
                hwm: (st.sndhwm, st.rcvhwm),
                routing_id: st.routing_id.clone(),
                inbox: self.inbox.clone(),
                notify: self.notify.clone(),
            });
            let owed = self.ctx.registry.bind(&self.ctx.domain, &ep, &binding)?;
            trace::event(self.id, self.ty, "bound", &ep, false);
            st.emit_with("bound", || ep.to_string());
            let adopted = !owed.is_empty();
            let now = Instant::now();
            for pending in owed {
                if let Some(mut end) = pending.take() {
                    end.attach(Some(st.info()), self.notify.clone());
                    if pending.expired(now) {
                        // Its connector closed with a linger that ran out (C-9): the
                        // messages are dropped, counted here.
                        let mut dropped = 0;
                        while end.recv().is_ok() {
                            dropped += 1;
                        }
                        st.pipes.count_drops(DropReason::Linger, dropped);
                        continue;
                    }
                    st.attach(end, None);
                    trace::event(self.id, self.ty, "accepted", &ep, false);
                    st.emit_with("accepted", || ep.to_string());
                }
            }
            if adopted {
                // Messages queued on the pipes just adopted make this socket readable
                // (and their windows writable): wake its own waiters, a `recv` blocked
                // on another thread, a poller or a pending future (SPEC C-2, A-3).
                self.notify.wake();
            }
            st.bound.push(ep.clone());
            st.last_endpoint = Some(ep);
            Ok(())
        })
    }

    /// Connects to `endpoint`. If nobody has bound the name yet, the connection waits
    /// (pending) and the socket can already send up to its SNDHWM; the messages are
    /// delivered in order once some socket binds the name. Connecting twice gives two
    /// connections.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`], [`Error::UnsupportedTransport`], [`Error::Terminated`];
    /// [`Error::InvalidState`] for a PAIR that already has its peer.
    pub fn connect(&self, endpoint: &str) -> Result<(), Error> {
        let ep = Endpoint::parse(endpoint)?;
        self.op(|st| {
            st.pattern.can_connect(&mut st.pipes)?;
            let domain = &self.ctx.domain;
            let conflate = st.conflate && self.ty.conflates();
            let mut ticket = None;
            let end = loop {
                if let Some(binding) = self.ctx.registry.lookup(domain, &ep) {
                    let binder = EndInfo {
                        hwm: Hwm::new(binding.hwm.0, binding.hwm.1),
                        routing_id: binding.routing_id.clone(),
                    };
                    let (mine, theirs) =
                        pipe::pair(st.info(), self.notify.clone(), conflate, Some(binder));
                    match binding.inbox.push(theirs) {
                        Ok(()) => {
                            binding.notify.wake();
                            break mine;
                        }
                        // The binder closed after we looked it up: look again.
                        Err(_theirs) => continue,
                    }
                }
                let (mine, theirs) = pipe::pair(st.info(), self.notify.clone(), conflate, None);
                let pending = Arc::new(Pending::new(theirs));
                match self.ctx.registry.pend(domain, &ep, &pending) {
                    Ok(t) => {
                        ticket = Some(t);
                        break mine;
                    }
                    // A bind won the race: look again (the pending pipe is dropped unused).
                    Err(_found) => continue,
                }
            };
            let id = st.attach(end, Some(ep.clone()));
            let pending = ticket.is_some();
            if let (Some(ticket), Some(id)) = (ticket, id) {
                st.waiting.push((ticket, id));
            }
            trace::event(self.id, self.ty, "connected", &ep, pending);
            st.emit_with("connected", || ep.to_string());
            st.last_endpoint = Some(ep);
            Ok(())
        })
    }

    /// Releases a name this socket bound, at once. Existing connections keep working.
    ///
    /// # Errors
    /// [`Error::NoSuchEndpoint`] if this socket has not bound `endpoint`;
    /// [`Error::InvalidEndpoint`], [`Error::UnsupportedTransport`], [`Error::Terminated`].
    pub fn unbind(&self, endpoint: &str) -> Result<(), Error> {
        let ep = Endpoint::parse(endpoint)?;
        self.op(|st| {
            if !st.bound.contains(&ep) {
                return Err(Error::NoSuchEndpoint);
            }
            self.ctx.registry.unbind(&self.ctx.domain, &ep, self.id)?;
            st.bound.retain(|e| e != &ep);
            trace::event(self.id, self.ty, "unbound", &ep, false);
            Ok(())
        })
    }

    /// Closes every connection this socket made to `endpoint`. What it already sent is
    /// still delivered; what was queued toward it is dropped.
    ///
    /// # Errors
    /// [`Error::NoSuchEndpoint`] if this socket has no connection to `endpoint` (or
    /// disconnected it already); [`Error::InvalidEndpoint`],
    /// [`Error::UnsupportedTransport`], [`Error::Terminated`].
    pub fn disconnect(&self, endpoint: &str) -> Result<(), Error> {
        let ep = Endpoint::parse(endpoint)?;
        self.op(|st| {
            let ids: Vec<PipeId> = st
                .connects
                .iter()
                .filter(|(e, _)| e == &ep)
                .map(|&(_, id)| id)
                .collect();
            if ids.is_empty() {
                return Err(Error::NoSuchEndpoint);
            }
            st.connects.retain(|(e, _)| e != &ep);
            st.let_go_waiting(&self.ctx, Some(&ids));
            trace::event(self.id, self.ty, "disconnected", &ep, false);
            st.emit_with("disconnected", || ep.to_string());
            for id in ids {
                if st.pipes.get_mut(id).is_some() {
                    st.pattern.detach(&mut st.pipes, id);
                }
                drop(st.pipes.remove(id));
            }
            Ok(())
        })
    }

    /// Sends a message, waiting up to the socket's send timeout
    /// ([`Socket::set_send_timeout`]; by default, forever). Anything that converts into
    /// a [`Message`] will do: `&str`, `String`, `&[u8]`, `Vec<u8>`, [`Bytes`], a
    /// [`crate::Frame`], or a multipart `Message`.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, Error, Message, SocketType};
    /// let ctx = Context::new();
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.set_sndhwm(1)?;
    /// push.connect("inproc://send-doc")?;
    /// push.send("text")?; // waits while the window is full; here it has room
    /// // Non-blocking: a full window gives the message back.
    /// let err = push.try_send(Message::from_frames(["multi", "part"])).unwrap_err();
    /// assert_eq!(err.error(), &Error::WouldBlock);
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://send-doc")?;
    /// push.send(err.into_message())?; // room now: the binder's RCVHWM joined the window
    /// assert_eq!(pull.recv()?, "text".into());
    /// assert_eq!(pull.try_recv()?.len(), 2);
    /// assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
    /// # Ok::<(), inproc::Error>(())
    /// ```
    ///
    /// # Errors
    /// The [`SendError`] holds the message and one of: [`Error::WouldBlock`] (timeout 0),
    /// [`Error::TimedOut`], [`Error::Terminated`], [`Error::NotSupported`] (PULL),
    /// [`Error::HostUnreachable`] (a PAIR whose peer refused it).
    pub fn send(&self, msg: impl Into<Message>) -> Result<(), SendError> {
        // Relaxed: a plain option value.
        let t = decode_timeout(self.send_timeout.load(Ordering::Relaxed));
        self.send_until(msg.into(), Deadline::after(t))
    }

    /// Sends without waiting.
    ///
    /// # Errors
    /// As [`Socket::send`]; [`Error::WouldBlock`] when no peer can take it now.
    pub fn try_send(&self, msg: impl Into<Message>) -> Result<(), SendError> {
        self.send_until(msg.into(), Deadline::Now)
    }

    /// Sends, waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`Socket::send`]; [`Error::TimedOut`] when the time ran out.
    pub fn send_timeout(
        &self,
        msg: impl Into<Message>,
        timeout: Duration,
    ) -> Result<(), SendError> {
        self.send_until(msg.into(), Deadline::after(Some(timeout)))
    }

    /// Receives a message, waiting up to the socket's receive timeout
    /// ([`Socket::set_recv_timeout`]; by default, forever).
    ///
    /// # Errors
    /// [`Error::WouldBlock`] (timeout 0), [`Error::TimedOut`], [`Error::Terminated`],
    /// [`Error::NotSupported`] (PUSH), [`Error::HostUnreachable`] (a refused PAIR).
    pub fn recv(&self) -> Result<Message, Error> {
        // Relaxed: a plain option value.
        let t = decode_timeout(self.recv_timeout.load(Ordering::Relaxed));
        self.recv_until(Deadline::after(t))
    }

    /// Receives a message as [`Socket::recv`] does and returns its text: `Ok(Ok(text))`
    /// for a one-frame message of valid UTF-8, else `Ok(Err(message))`, the message
    /// unchanged (as the `zmq` crate's `recv_string` gives the bytes back).
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, Message, SocketType};
    /// let ctx = Context::new();
    /// let (a, b) = (ctx.socket(SocketType::Pair)?, ctx.socket(SocketType::Pair)?);
    /// a.bind("inproc://recv-string-doc")?;
    /// b.connect("inproc://recv-string-doc")?;
    /// b.send("hello")?;
    /// assert_eq!(a.recv_string()?, Ok(String::from("hello")));
    /// b.send(Message::from_frames(["two", "frames"]))?;
    /// assert_eq!(a.recv_string()?, Err(Message::from_frames(["two", "frames"])));
    /// # Ok::<(), inproc::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Socket::recv`].
    pub fn recv_string(&self) -> Result<Result<String, Message>, Error> {
        self.recv().map(Message::into_string)
    }

    /// Receives without waiting.
    ///
    /// # Errors
    /// As [`Socket::recv`]; [`Error::WouldBlock`] when nothing is queued.
    pub fn try_recv(&self) -> Result<Message, Error> {
        self.recv_until(Deadline::Now)
    }

    /// Receives, waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`Socket::recv`]; [`Error::TimedOut`] when the time ran out.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, Error> {
        self.recv_until(Deadline::after(Some(timeout)))
    }

    fn check_hwm(hwm: usize) -> Result<(), Error> {
        if hwm > MAX_HWM {
            return Err(Error::InvalidArgument(
                "HWM must be at most 2^31 - 1 (0 = unlimited)",
            ));
        }
        Ok(())
    }

    /// Sets SNDHWM: the most messages this socket may have outstanding toward one peer
    /// beyond the peer's RCVHWM (a connection's window is sender SNDHWM + receiver
    /// RCVHWM; 0 on either side means unlimited). Applies to connections made later and
    /// to every connection already attached. Lowering it never drops queued messages.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] above [`MAX_HWM`]; [`Error::Terminated`].
    pub fn set_sndhwm(&self, hwm: usize) -> Result<(), Error> {
        Self::check_hwm(hwm)?;
        self.op(|st| {
            st.sndhwm = hwm;
            let h = (st.sndhwm, st.rcvhwm);
            st.pipes
                .ends_mut()
                .for_each(|e| e.set_hwm(Hwm::new(h.0, h.1)));
            Ok(())
        })
    }

    /// Sets RCVHWM; see [`Socket::set_sndhwm`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] above [`MAX_HWM`]; [`Error::Terminated`].
    pub fn set_rcvhwm(&self, hwm: usize) -> Result<(), Error> {
        Self::check_hwm(hwm)?;
        self.op(|st| {
            st.rcvhwm = hwm;
            let h = (st.sndhwm, st.rcvhwm);
            st.pipes
                .ends_mut()
                .for_each(|e| e.set_hwm(Hwm::new(h.0, h.1)));
            Ok(())
        })
    }

    /// The SNDHWM (default [`DEFAULT_HWM`]).
    pub fn sndhwm(&self) -> usize {
        self.with_state(|st| st.sndhwm)
    }

    /// The RCVHWM (default [`DEFAULT_HWM`]).
    pub fn rcvhwm(&self) -> usize {
        self.with_state(|st| st.rcvhwm)
    }

    /// Sets how long [`Socket::send`] waits: `None` forever (the default), `Some(0)` not
    /// at all (libzmq's ZMQ_SNDTIMEO -1 and 0).
    ///
    /// # Errors
    /// [`Error::Terminated`].
    pub fn set_send_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        self.op(|_| {
            // Relaxed: a plain option value.
            self.send_timeout
                .store(encode_timeout(timeout), Ordering::Relaxed);
            Ok(())
        })
    }

    /// Sets ZMQ_LINGER: what happens, when this socket closes (or disconnects), to
    /// messages it sent on connections whose name nobody has bound yet. `None` (the
    /// default, as libzmq's -1): they are kept until a socket binds the name and then
    /// delivered. `Some(Duration::ZERO)`: they are dropped at the close, counted in
    /// [`Stats::dropped`] (`linger`) and reported to the monitor. `Some(d)`: they are
    /// delivered if a bind comes within `d`, else dropped (counted by the socket whose
    /// bind finds them expired). Connections on which nothing was sent are always taken
    /// back at close, whatever the linger: they leave nothing behind. Messages on
    /// connections whose peer is there are never affected: their peer reads them.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use std::time::Duration;
    /// use inproc::{Context, SocketType};
    /// let ctx = Context::new();
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.set_linger(Some(Duration::ZERO))?;
    /// push.connect("inproc://not-yet")?;
    /// push.send("lost")?;
    /// drop(push); // nobody bound the name: the message is dropped now
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://not-yet")?;
    /// assert!(pull.try_recv().is_err());
    /// # Ok::<(), inproc::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Terminated`].
    pub fn set_linger(&self, linger: Option<Duration>) -> Result<(), Error> {
        self.op(|st| {
            st.linger = linger;
            Ok(())
        })
    }

    /// The ZMQ_LINGER set by [`Socket::set_linger`] (`None`: keep until bound).
    pub fn linger(&self) -> Option<Duration> {
        self.with_state(|st| st.linger)
    }

    /// Sets how long [`Socket::recv`] waits (ZMQ_RCVTIMEO); see [`Socket::set_send_timeout`].
    ///
    /// # Errors
    /// [`Error::Terminated`].
    pub fn set_recv_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        self.op(|_| {
            // Relaxed: a plain option value.
            self.recv_timeout
                .store(encode_timeout(timeout), Ordering::Relaxed);
            Ok(())
        })
    }

    /// The send timeout in force (`None`: forever).
    pub fn default_send_timeout(&self) -> Option<Duration> {
        // Relaxed: a plain option value.
        decode_timeout(self.send_timeout.load(Ordering::Relaxed))
    }

    /// The receive timeout in force (`None`: forever).
    pub fn default_recv_timeout(&self) -> Option<Duration> {
        // Relaxed: a plain option value.
        decode_timeout(self.recv_timeout.load(Ordering::Relaxed))
    }

    /// Sets the routing id (ZMQ_ROUTING_ID, 1 to 255 bytes) this socket presents to the
    /// peers of connections it makes or accepts afterwards; a ROUTER peer uses it to
    /// address this socket. Like libzmq, the value is taken at connect time (and, for a
    /// binder, at bind time).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty id or one over 255 bytes;
    /// [`Error::Terminated`].
    pub fn set_routing_id(&self, id: impl Into<Bytes>) -> Result<(), Error> {
        let id = id.into();
        if id.is_empty() || id.len() > 255 {
            return Err(Error::InvalidArgument("routing id must be 1 to 255 bytes"));
        }
        self.op(|st| {
            st.routing_id = Some(id);
            Ok(())
        })
    }

    /// The routing id set with [`Socket::set_routing_id`], if any.
    pub fn routing_id(&self) -> Option<Bytes> {
        self.with_state(|st| st.routing_id.clone())
    }

    /// ZMQ_CONFLATE: connections this socket makes afterwards keep only the newest
    /// message in each direction, and ignore the HWM. As in libzmq, only the connecting
    /// side's option counts, and only for DEALER, PULL, PUSH, PUB and SUB (others accept
    /// the option and ignore it).
    ///
    /// # Errors
    /// [`Error::Terminated`].
    pub fn set_conflate(&self, conflate: bool) -> Result<(), Error> {
        self.op(|st| {
            st.conflate = conflate;
            Ok(())
        })
    }

    /// The ZMQ_CONFLATE setting.
    pub fn conflate(&self) -> bool {
        self.with_state(|st| st.conflate)
    }

    fn pattern_option(&self, opt: PatternOption) -> Result<(), Error> {
        self.op(|st| st.pattern.set_option(&mut st.pipes, &opt))
    }

    /// SUB: receive messages whose first frame starts with `prefix` (empty: everything).
    /// The subscription goes to every connected publisher, and to publishers that connect
    /// or bind later.
    ///
    /// # Errors
    /// [`Error::NotSupported`] on other types; [`Error::Terminated`].
    pub fn subscribe(&self, prefix: impl AsRef<[u8]>) -> Result<(), Error> {
        self.pattern_option(PatternOption::Subscribe(Bytes::copy_from_slice(
            prefix.as_ref(),
        )))
    }

    /// SUB: remove one subscription made with [`Socket::subscribe`].
    ///
    /// # Errors
    /// [`Error::NotSupported`] on other types; [`Error::Terminated`].
    pub fn unsubscribe(&self, prefix: impl AsRef<[u8]>) -> Result<(), Error> {
        self.pattern_option(PatternOption::Unsubscribe(Bytes::copy_from_slice(
            prefix.as_ref(),
        )))
    }

    /// ROUTER: with `true`, a send to an unknown routing id fails with
    /// [`Error::HostUnreachable`] and a send to a full peer with [`Error::WouldBlock`]
    /// (or blocks), instead of being dropped (ZMQ_ROUTER_MANDATORY).
    ///
    /// # Errors
    /// [`Error::NotSupported`] on other types; [`Error::Terminated`].
    pub fn set_router_mandatory(&self, mandatory: bool) -> Result<(), Error> {
        self.pattern_option(PatternOption::RouterMandatory(mandatory))
    }

    /// XPUB: with `true`, report every subscription message, duplicates included
    /// (ZMQ_XPUB_VERBOSE).
    ///
    /// # Errors
    /// [`Error::NotSupported`] on other types; [`Error::Terminated`].
    pub fn set_xpub_verbose(&self, verbose: bool) -> Result<(), Error> {
        self.pattern_option(PatternOption::XPubVerbose(verbose))
    }

    /// A snapshot of this socket's counters: messages sent and received, dropped by
    /// reason (so that silent PUB, XSUB, ROUTER and REP drops are visible), queued toward
    /// peers, live connections.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, SocketType};
    /// let ctx = Context::new();
    /// let publisher = ctx.socket(SocketType::Pub)?;
    /// publisher.bind("inproc://stats-doc")?;
    /// publisher.send("nobody listens")?;
    /// let stats = publisher.stats();
    /// assert_eq!((stats.sent, stats.dropped.no_route), (1, 1));
    /// # Ok::<(), inproc::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.with_state(|st| {
            st.pattern.notice(&mut st.pipes);
            Stats {
                sent: st.sent,
                received: st.received,
                dropped: st.pipes.drops,
                queued: st.pipes.ends_mut().map(|e| e.queued_out() as u64).sum(),
                connections: st.pipes.len(),
                monitor_overflow: st.monitor_overflow,
            }
        })
    }

    /// Reports this socket's events to `endpoint` (libzmq's `zmq_socket_monitor`): the
    /// socket connects an internal PAIR there, so bind a PAIR to `endpoint` (before or
    /// after: connect-before-bind works) and receive one two-frame message per event:
    /// `["bound" | "connected" | "accepted" | "disconnected" | "closed", endpoint]` and
    /// `["dropped", "<reason> <count>"]` (reasons: [`DropReason::name`]). Events never
    /// block the socket: if the monitor's window is full they are lost and counted in
    /// [`Stats::monitor_overflow`]. A second call with another endpoint replaces the
    /// monitor; with the same endpoint it keeps the monitor as it is.
    ///
    /// The PAIR at `endpoint` takes one peer (SPEC D-5): if it is already bound and has
    /// a peer (another monitor, say), or has connections waiting that it will take
    /// first, the call fails with [`Error::HostUnreachable`] instead of losing every
    /// event. (A PAIR whose peer left counts as having one until its own next call
    /// notices.) A refusal the call cannot see (the PAIR binds later, or gains a peer
    /// meanwhile) shows at the first event: that event and every later one count in
    /// [`Stats::monitor_overflow`], and the monitor is dropped.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
    /// use inproc::{Context, Error, SocketType};
    /// let ctx = Context::new();
    /// let events = ctx.socket(SocketType::Pair)?;
    /// events.bind("inproc://monitor-doc")?;
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.monitor("inproc://monitor-doc")?;
    /// push.bind("inproc://jobs-doc")?;
    /// let ev = events.recv()?;
    /// assert_eq!((&ev.frames()[0][..], &ev.frames()[1][..]), (&b"bound"[..], &b"inproc://jobs-doc"[..]));
    /// // That PAIR has its peer now: a second socket cannot report there.
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// assert_eq!(pull.monitor("inproc://monitor-doc"), Err(Error::HostUnreachable));
    /// # Ok::<(), inproc::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Socket::connect`] for `endpoint`; [`Error::HostUnreachable`] as above;
    /// [`Error::Terminated`].
    pub fn monitor(&self, endpoint: &str) -> Result<(), Error> {
        let ep = Endpoint::parse(endpoint)?;
        let same = self.op(|st| Ok(st.monitor.is_some() && st.monitor_ep.as_ref() == Some(&ep)))?;
        if same {
            // Already reporting there: keep the connection (a new one would be refused
            // by the monitor's PAIR while it still has the old one, D-5).
            return Ok(());
        }
        if let Some(binding) = self.ctx.registry.lookup(&self.ctx.domain, &ep) {
            if binding.inbox.refuses_more() {
                return Err(Error::HostUnreachable);
            }
        }
        // A socket of the context like any other (`Context::socket_count`); it goes
        // with this one.
        self.ctx.socket_opened();
        let pair = Socket::new(
            self.ctx.clone(),
            self.ctx.fresh_id(),
            SocketType::Pair,
            Arc::new(Notify::new()),
        );
        pair.connect(endpoint)?;
        self.op(|st| {
            st.monitor = Some(Box::new(pair));
            st.monitor_ep = Some(ep);
            Ok(())
        })
    }

    /// The endpoint of the last successful `bind` or `connect` (ZMQ_LAST_ENDPOINT); not
    /// changed by unbind or disconnect.
    pub fn last_endpoint(&self) -> Option<String> {
        self.with_state(|st| st.last_endpoint.as_ref().map(ToString::to_string))
    }

    /// Number of live connections (pipes) this socket holds (diagnostics and tests).
    pub fn connection_count(&self) -> usize {
        self.with_state(|st| st.pipes.len())
    }

    /// Closes the socket (the same as dropping it): its names are released at once;
    /// what it already sent stays readable by its peers; what was queued toward it is
    /// dropped. Never blocks.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if model_unwinding() {
            // A failed model (the checker's report or the user's assertion) unwinds
            // through this socket: closing it would be model operations, which panic
            // again after a deadlock report and abort the process. Leak it: `state` is
            // never dropped, and the `Arc`s leak by themselves (`sync::Arc`).
            return;
        }
        let ctx = &self.ctx;
        self.state.with_mut(|st| {
            // SAFETY: `&mut self`: no other thread can be inside the gate.
            let st = unsafe { &mut *st };
            // Names first (O(k log n) for the k names this socket bound), then the
            // connections still waiting for a name.
            ctx.registry.release(&ctx.domain, self.id, &st.bound);
            let before = st.pipes.drops;
            st.let_go_waiting(ctx, None);
            if st.monitor.is_some() {
                // A PAIR refused since its last call counts what it lost (D-5).
                st.pattern.notice(&mut st.pipes);
            }
            for (reason, n) in st.pipes.drops.since(&before) {
                if n > 0 {
                    trace::dropped(self.id, self.ty, reason, n);
                    st.emit_with("dropped", || format!("{} {n}", reason.name()));
                }
            }
            if st.monitor.is_some() || trace::enabled() {
                let ep = st
                    .last_endpoint
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                trace::event(self.id, self.ty, "closed", &ep, false);
                st.emit("closed", &ep);
            }
        });
        // Pipes handed over but not yet adopted close with the sealed list; adopted ones
        // close when `state` drops right after this.
        drop(self.inbox.seal());
        // Relaxed: `&mut self`; whoever set the flag handed the socket over since.
        if self.enlisted.load(Ordering::Relaxed) {
            self.ctx.remove_socket(self.id);
        }
        // SAFETY: dropped once, here, as the last use of `state`.
        unsafe { ManuallyDrop::drop(&mut self.state) };
        // Last: the socket is gone (its monitor, dropped with `state`, went first).
        self.ctx.socket_closed();
    }
}
