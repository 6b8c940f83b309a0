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
//! See `SPEC.md` for the numbered rules, the differences from libzmq, and what the
//! models verify.
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
//! - **Bounds**: every inproc call is tens of model operations. Two threads with a few
//!   calls each: preemption bound 3 (a fraction of a second); three threads: bound 0-1,
//!   and shuttle (`check_random`, `check_pct`) for depth. Raise loom's `max_branches`
//!   (`LOOM_MAX_BRANCHES`, e.g. 20,000) for three threads.
//! - **Time is not modelled**: `recv_timeout`, `send_timeout` and `Poller::wait(Some(_))`
//!   make the same attempts as the blocking call, but where the blocking call would
//!   sleep they return (`Error::TimedOut`, or no events) unless an event arrived since
//!   their last attempt: a timeout behaves as if the deadline had already passed.
//! - **Modelled**: inproc's atomics and their orderings (loom), waits and wake-ups, the
//!   registry, pipes and frame pool. **Not modelled**: memory reclamation's grace periods
//!   (a stand-in frees at the end of each execution), real time, and the spin phase of
//!   waits (zero under the checkers).
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
pub mod sync;
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
pub use msg::Message;
pub use poller::{Event, Interest, Poller};
pub use proxy::proxy;
pub use socket::{
    BatchSendError, DEFAULT_HWM, DropReason, Drops, MAX_HWM, Socket, SocketType, Stats,
};

/// Re-exported so users can build frames without naming the `bytes` crate.
pub use bytes::Bytes;
