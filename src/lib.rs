//! ZeroMQ's in-process transport (`inproc://name`) and socket patterns, with a
//! model-checked lock-free core.
//!
//! ```
//! # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
//! use inproc::{Context, SocketType};
//! let ctx = Context::new();
//! let pull = ctx.socket(SocketType::Pull)?;
//! pull.bind("inproc://work")?;
//! let push = ctx.socket(SocketType::Push)?;
//! push.connect("inproc://work")?;
//! std::thread::scope(|s| {
//!     s.spawn(|| for i in 0..3 { push.send(format!("job {i}")).unwrap() });
//!     for i in 0..3 {
//!         assert_eq!(pull.recv().unwrap(), format!("job {i}").into());
//!     }
//! });
//! # Ok::<(), inproc::Error>(())
//! ```
//!
//! # The patterns
//!
//! A [`Context`] scopes `inproc://` names; [`Context::socket`] makes a [`Socket`] of one
//! of the eleven [`SocketType`]s. Sockets [`bind`](Socket::bind) and
//! [`connect`](Socket::connect) in either order and exchange whole [`Message`]s (one or
//! more [`Frame`]s).
//!
//! | pattern | types | what it does |
//! |---|---|---|
//! | exclusive pair | PAIR | one peer, both directions; a second connection is refused |
//! | pipeline | PUSH → PULL | PUSH load-balances round-robin over peers with room; PULL fair-queues |
//! | publish/subscribe | PUB/XPUB → SUB/XSUB | prefix subscriptions on the first frame; a publisher never blocks (drops for full or absent subscribers, counted); XPUB sees the subscriptions, XSUB sends them as messages |
//! | request/reply | REQ ↔ REP | strict alternation; REP answers each request on its envelope |
//! | routing | DEALER, ROUTER | DEALER load-balances out and fair-queues in, without envelope; ROUTER prefixes each message with its peer's routing id and routes sends by it |
//!
//! [`Poller`] waits on several sockets (zmq_poll), [`proxy`] forwards between two
//! (zmq_proxy), [`Socket::send_async`] / [`Socket::recv_async`] run on any executor, and
//! [`Socket::stats`] / [`Socket::monitor`] say what happened to every message.
//!
//! # Cargo features
//!
//! Both are off by default; without them the crate depends on `bytes` and
//! `crossbeam-epoch` only.
//!
//! - **`futures`**: `RecvStream` (a `futures_core::Stream` of received messages) and
//!   `SendSink` (a `futures_sink::Sink` of messages to send), over an owned socket
//!   (`Socket::into_stream`, `Socket::into_sink`) or an `Arc<Socket>`, so a task that
//!   owns them is `'static + Send` (`tokio::spawn` and the like). Only the two trait
//!   crates are added, no runtime. The stream ends when the context is shut down; the
//!   sink keeps at most one message the socket cannot take yet. As for
//!   [`Socket::send_async`] / [`Socket::recv_async`] (always available), the socket's
//!   send and receive timeouts do not apply to them: use the runtime's timeout.
//! - **`tracing`**: a `tracing` event (target `inproc`, level `DEBUG`) at every bind,
//!   connect (waiting for its name or not), accepted connection, unbind, disconnect,
//!   close and drop (with its reason and count): the happenings a [`Socket::monitor`]
//!   reports, for a `tracing` subscriber.
//!
//! The rules are in `SPEC.md`: A-9 to A-14 (stream and sink) and S-6 (tracing).
//!
//! # Guarantees
//!
//! - **Ordering and atomicity**: per connection and direction, messages arrive in the
//!   order sent, each exactly once, multipart messages whole or not at all.
//! - **High-water marks**: a connection holds at most the sender's SNDHWM plus the
//!   receiver's RCVHWM messages (default 1000 each, 0 = unlimited); a full window makes
//!   `send` block (`try_send`: [`Error::WouldBlock`]), except for the types that drop
//!   instead, as in libzmq (PUB/XPUB, XSUB, ROUTER without mandatory), which count it.
//!   Connect before bind works: the connector can send up to its own SNDHWM, and a bind
//!   delivers what waited, in order.
//! - **What close loses**: closing (or dropping) a socket never blocks; what it sent
//!   stays readable by its peers; what was queued *toward* it is dropped; messages sent
//!   on a connection whose name was never bound follow [`Socket::set_linger`]. Its names
//!   are free when `close` returns. [`Context::shutdown`] makes every call return
//!   [`Error::Terminated`] at once; [`Context::terminate`] also waits until every socket
//!   is gone.
//! - **Threads**: [`Context`] is `Clone + Send + Sync`; [`Socket`] is `Send + Sync` with
//!   `&self` methods, calls on one socket from several threads are serialised, and a
//!   thread blocked in `recv` does not block another thread's `send`.
//! - **Errors**: every misuse is a typed [`Error`] (never a panic or a hang) with
//!   libzmq's errno ([`Error::errno`]); a failed send gives its message back
//!   ([`SendError`]).
//!
//! The numbered rules, each with the test that checks it, the table of differences from
//! libzmq 4.3, and what the models verify are in `SPEC.md` at the root of the
//! repository (`SPEC.md` in the crate's source; section 9 lists the differences).
//!
//! # Check your own code
//!
//! Built with `--cfg loom` or `--cfg shuttle`, inproc runs on that checker's threads,
//! atomics, mutexes and condition variables, so your own `RUSTFLAGS="--cfg loom" cargo
//! test --release` explores your protocol and inproc's sockets together (SPEC V-1 to V-3;
//! a worked example, run by CI, is `model/downstream/` in the repository).
//!
//! - **Versions**: loom 0.7 and shuttle 0.9 (the ones in inproc's
//!   `[target.'cfg(loom)'.dependencies]`); these are part of inproc's public contract.
//!   Add `[target.'cfg(loom)'.dev-dependencies] loom = "0.7"` (and/or `shuttle = "0.9"`)
//!   and `[lints.rust] unexpected_cfgs = { level = "warn", check-cfg = ['cfg(loom)',
//!   'cfg(shuttle)'] }`; spawn threads with `loom::thread` / `shuttle::thread` inside
//!   `loom::model` / `shuttle::check_random`, and create the [`Context`] inside the model.
//! - **Failures are clean**: a deadlock report or a failed assertion ends the test with
//!   the checker's message (`#[should_panic]` works); inproc's destructors leak instead
//!   of touching the checker while a thread unwinds.
//! - **Coarse sections (loom)**: under your `--cfg loom` every inproc operation runs in
//!   one model-wide section and a blocking call sleeps atomically with it, so loom
//!   explores the orders of whole inproc operations (each one linearisable; inproc's own
//!   models check their insides) rather than the interleavings inside them. Two threads
//!   with a few calls each: no preemption bound needed (the PAIR handshake of the
//!   downstream example: 2,436 executions, 0.2 s); three threads with a dozen calls
//!   each: bound 2 (83,268 executions, 20 s), and shuttle (`check_random`, `check_pct`)
//!   for depth. Raise loom's `max_branches` (`LOOM_MAX_BRANCHES`, e.g. 20,000) for three
//!   threads.
//! - **Time is not modelled**: `recv_timeout`, `send_timeout` and `Poller::wait(Some(_))`
//!   make the same attempts as the blocking call, but where the blocking call would
//!   sleep they return (`Error::TimedOut`, or no events) unless an event arrived since
//!   their last attempt: a timeout behaves as if the deadline had already passed.
//! - **Modelled**: inproc's operations, waits and wake-ups (loom: whole operations in
//!   coarse sections; shuttle: inproc's atomics and their orderings, waits, the
//!   registry, pipes and frame pool). **Not modelled**: memory reclamation's grace
//!   periods (a stand-in frees at the end of each execution), real time, and the spin
//!   phase of waits (zero under the checkers).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod context;
mod cow;
mod endpoint;
mod error;
mod frame;
mod future;
mod inbox;
mod msg;
mod pipe;
mod pmap;
mod poller;
mod pool;
mod proxy;
mod reclaim;
mod registry;
mod route;
mod socket;
#[cfg(feature = "futures")]
mod stream;
#[doc(hidden)]
pub mod sync;
mod trace;
mod wait;

/// Internals for the models in `model/` (loom and shuttle builds only).
#[cfg(any(loom, shuttle))]
#[doc(hidden)]
#[path = "model_api.rs"]
pub mod __model;

/// The routing-policy checks for the `route` fuzz target (`--cfg fuzzing` builds only).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod route_check {
    pub use crate::route::check::run;
}

pub use context::Context;
pub use endpoint::{Endpoint, EndpointError, MAX_NAME_LEN};
pub use error::{Error, SendError};
pub use frame::{Frame, INLINE_MAX};
pub use future::{RecvFuture, SendFuture};
pub use msg::{IntoFrames, Message};
pub use poller::{Event, Interest, Poller};
pub use proxy::proxy;
pub use socket::{
    BatchSendError, DEFAULT_HWM, DropReason, Drops, MAX_HWM, Socket, SocketType, Stats,
};
#[cfg(feature = "futures")]
pub use stream::{RecvStream, SendSink};

/// Re-exported so users can build frames without naming the `bytes` crate.
pub use bytes::Bytes;
