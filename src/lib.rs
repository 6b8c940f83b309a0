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
pub use socket::{DEFAULT_HWM, DropReason, Drops, MAX_HWM, Socket, SocketType, Stats};

/// Re-exported so users can build frames without naming the `bytes` crate.
pub use bytes::Bytes;
