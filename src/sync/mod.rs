//! The sync shim: the only module that names std, loom or shuttle primitives.
//!
//! Everything else in the crate imports `crate::sync::{Arc, atomic::*, UnsafeCell, ...}`.
//! The backend is chosen on `cfg(loom)` / `cfg(shuttle)` alone (never `all(test, loom)`),
//! because the models in `model/` link this library as an ordinary dependency. The
//! constants below shrink under the model cfgs (and Miri) so that chunk boundaries, full
//! pipes and wake-ups are reachable in a handful of operations.
//!
//! After tokio's `src/loom/` switch and crossbeam-epoch's `primitive` module.

#[cfg(all(loom, shuttle))]
compile_error!("`--cfg loom` and `--cfg shuttle` are mutually exclusive");

#[cfg(loom)]
#[path = "loom.rs"]
mod backend;

#[cfg(all(shuttle, not(loom)))]
#[path = "shuttle.rs"]
mod backend;

#[cfg(not(any(loom, shuttle)))]
#[path = "std.rs"]
mod backend;

#[cfg(not(any(loom, shuttle)))]
pub(crate) use backend::Arc;
pub(crate) use backend::{
    Condvar, Mutex, Tracked, UnsafeCell, atomic, spin_loop, thread_local, yield_now,
};

#[cfg(any(loom, shuttle))]
mod unwind;
#[cfg(any(loom, shuttle))]
pub(crate) use unwind::{Arc, model_unwinding};

/// `true` while this thread unwinds from a panic in a model build; always `false` in
/// ordinary builds. Destructors check it and leak instead of touching the checker's
/// primitives, so that a failing model ends with the checker's report, not an abort
/// (`unwind.rs`).
#[cfg(not(any(loom, shuttle)))]
#[inline(always)]
pub(crate) fn model_unwinding() -> bool {
    false
}

/// std's `Arc`, in every build: the receiver type `std::task::Wake` requires (and
/// `Waker::from` takes). Only for `Wake` implementors (the poller's entry wakers): its
/// reference count is not modelled under loom or shuttle, so whatever state such a waker
/// shares with other threads must live behind this module's primitives.
pub(crate) use std::sync::Arc as WakeArc;

/// An immutable shared string (an endpoint's name): std's `Arc<str>` in every build.
/// Cloning it shares the bytes instead of copying them (the registry keeps a name in its
/// key, its binding and a socket's bound list: issue 11's allocations per bind). Not a
/// synchronisation point: the bytes are written once, before the first share, and the
/// reference count only decides when they are freed, which no model observes.
pub(crate) type SharedStr = std::sync::Arc<str>;

/// The hasher of the persistent maps (`crate::pmap`: registry and socket set). Randomly
/// keyed in ordinary builds (hash flooding cannot make one name's lookups slow); fixed
/// under the checkers, which need every execution of a model to do the same thing in
/// the same order: a map's shape, hence the order in which `Context::shutdown` wakes the
/// sockets, must not change between executions.
#[cfg(not(any(loom, shuttle)))]
pub(crate) type MapHasher = std::collections::hash_map::RandomState;
/// See the ordinary build's `MapHasher`: SipHash with fixed keys under the checkers.
#[cfg(any(loom, shuttle))]
pub(crate) type MapHasher =
    std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>;

#[cfg(not(loom))]
mod std_cell;

mod cell;
pub(crate) use cell::TakeCell;

pub(crate) mod coarse;

/// `true` when the crate was built for a model checker (`--cfg loom` or `--cfg shuttle`).
///
/// Doctests start with `if inproc::sync::MODEL_BUILD { return }`: they are built with
/// `RUSTDOCFLAGS`, not `RUSTFLAGS`, but link the model-flavoured library, whose primitives
/// cannot run outside a model.
pub const MODEL_BUILD: bool = cfg!(any(loom, shuttle));

/// Slots per chunk of a pipe queue ([`crate::pipe`]); after libzmq's
/// `message_pipe_granularity`. Shrinks to 2 under the checkers and Miri so that every
/// model crosses chunk boundaries.
pub(crate) const CHUNK_SIZE: usize = if cfg!(any(loom, shuttle, miri)) {
    2
} else {
    256
};

/// How many times a blocking call retries without registering for a wake-up (each try
/// followed by one `spin_loop`) before it arms its pipes and waits: a message arriving
/// meanwhile costs its writer a plain publication, no wake-up. About 1-3 µs on the
/// 2-core machines this was tuned on (a try is ~10-30 ns). One under the checkers, so
/// that the models run both kinds of attempt; none in a user's loom model with coarse
/// sections (`set_model_coarse`), where no other thread can act between two attempts.
#[inline]
pub(crate) fn unarmed_attempts() -> u32 {
    if cfg!(not(any(loom, shuttle))) {
        100
    } else if coarse::is_on() {
        0
    } else {
        1
    }
}

/// Turns coarse sections (`coarse.rs`) on or off for the loom models that follow; call
/// it before `loom::model`. On by default: a user's model explores the orderings of
/// inproc's operations, each one linearisable, not their insides (SPEC V-2). inproc's
/// own models (`model/common.rs`) turn it off: they check those insides. Not part of the
/// API (hidden).
#[cfg(loom)]
#[doc(hidden)]
pub fn set_model_coarse(on: bool) {
    coarse::set(on);
}

/// How many times a waiter re-checks its condition (with `spin_loop`) before parking.
/// Zero under the checkers: a spin is just more schedules to explore.
pub(crate) const SPIN_LIMIT: u32 = if cfg!(any(loom, shuttle)) { 0 } else { 64 };

/// How many times a waiter yields its time slice after spinning, before parking.
pub(crate) const YIELD_LIMIT: u32 = if cfg!(any(loom, shuttle)) { 0 } else { 8 };

/// Buffers each thread's frame pool keeps per size class, at most: a pool never holds
/// more than this many idle buffers of one class (plus those in flight, which the HWMs
/// bound). One under the checkers, so the overflow path is reachable.
pub(crate) const POOL_CACHE_BYTES: usize = if cfg!(any(loom, shuttle, miri)) {
    0
} else {
    4 << 20
};

/// Asks the CPU to fetch the cache line at `p` for writing (x86-64 `prefetchw`), so a
/// store soon after does not wait for the line to come from another core. A hint: no
/// effect on what the program does, nothing under the checkers and Miri.
#[inline(always)]
pub(crate) fn prefetch_write<T>(p: *const T) {
    #[cfg(all(target_arch = "x86_64", not(any(loom, shuttle, miri))))]
    // SAFETY: a prefetch never faults and changes no memory, whatever the address (on
    // x86-64 CPUs without PREFETCHW the opcode is a no-op). Inline assembly because
    // `_mm_prefetch` with `_MM_HINT_ET0` becomes a read prefetch unless the whole build
    // enables the `prfchw` target feature.
    unsafe {
        std::arch::asm!("prefetchw [{}]", in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(all(target_arch = "x86_64", not(any(loom, shuttle, miri)))))]
    let _ = p;
}

/// Asks the CPU to fetch the cache line at `p` for reading; as [`prefetch_write`].
#[inline(always)]
pub(crate) fn prefetch_read<T>(p: *const T) {
    #[cfg(all(target_arch = "x86_64", not(any(loom, shuttle, miri))))]
    // SAFETY: as in `prefetch_write`.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(all(target_arch = "x86_64", not(any(loom, shuttle, miri)))))]
    let _ = p;
}
