//! `tracing` events (cargo feature `tracing`): the socket's life and its drops, the same
//! happenings a monitor reports (SPEC S-3, S-6), for applications that collect logs
//! with a `tracing` subscriber rather than a monitor PAIR.
//!
//! Every event has target `"inproc"`, level `DEBUG`, and the fields `socket` (the
//! socket's id in its context), `socket_type` (`"PUSH"`, ...) and `event`, one of:
//! `"bound"`, `"unbound"`, `"connected"` (with `pending = true` when nobody had bound the
//! name yet: the connection waits for a binder), `"accepted"` (a connection adopted: at
//! the bind, a connection that waited for the name; later, one handed over by a
//! connector), `"disconnected"`, `"closed"`, each with `endpoint`; and `"dropped"`, with
//! `reason` ([`crate::DropReason::name`]) and `count`, once per call that dropped
//! messages (whatever [`crate::Socket::stats`] counts in `dropped`).
//!
//! Without the feature these functions are empty and inlined away. Under the model
//! checkers they are ordinary code: `tracing` uses its own (std) atomics, which the
//! checkers do not see, so a model explores the same interleavings with or without it.

use std::fmt::Display;

use crate::registry::SocketId;
use crate::socket::{DropReason, SocketType};

/// A lifecycle event of `socket` about `endpoint`; `pending` only for `"connected"`.
#[cfg(feature = "tracing")]
pub(crate) fn event(
    socket: SocketId,
    ty: SocketType,
    event: &'static str,
    endpoint: &dyn Display,
    pending: bool,
) {
    tracing::debug!(
        target: "inproc",
        socket,
        socket_type = ty.name(),
        event,
        endpoint = %endpoint,
        pending,
        "{event} {endpoint}"
    );
}

/// `count` messages of `socket` dropped for `reason`.
#[cfg(feature = "tracing")]
pub(crate) fn dropped(socket: SocketId, ty: SocketType, reason: DropReason, count: u64) {
    tracing::debug!(
        target: "inproc",
        socket,
        socket_type = ty.name(),
        event = "dropped",
        reason = reason.name(),
        count,
        "dropped {count} ({})",
        reason.name()
    );
}

/// Without the `tracing` feature: nothing.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn event(
    _socket: SocketId,
    _ty: SocketType,
    _event: &'static str,
    _endpoint: &dyn Display,
    _pending: bool,
) {
}

/// Without the `tracing` feature: nothing.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn dropped(_socket: SocketId, _ty: SocketType, _reason: DropReason, _count: u64) {}

/// Whether an event would be recorded now (the feature is on and a subscriber wants
/// `inproc` DEBUG events): callers skip the work done only to report them (per-call drop
/// counts, the close's endpoint) when it is not and no monitor wants it either. With a
/// subscriber that is not interested, one relaxed load of tracing's level filter.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "inproc", tracing::Level::DEBUG)
}

/// Without the `tracing` feature: never.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn enabled() -> bool {
    false
}
