//! Helpers shared by the integration tests: socket pairs, numbered messages, frames that
//! count their drops, bounded waits and a hang guard.
#![allow(dead_code)] // Each test file uses a different subset.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use inproc::{Bytes, Context, Error, Message, Socket, SocketType};

/// How long any single blocking call in a test may take before we call it a hang.
pub(crate) const HANG: Duration = Duration::from_secs(10);

/// `inproc://name`.
pub(crate) fn ep(name: &str) -> String {
    format!("inproc://{name}")
}

/// A socket of type `ty` (must be implemented).
pub(crate) fn sock(ctx: &Context, ty: SocketType) -> Socket {
    ctx.socket(ty)
        .unwrap_or_else(|e| panic!("socket({ty}) failed: {e}"))
}

/// `(bound, connected)`: a socket of type `bind_ty` bound to `inproc://name` and one of
/// type `connect_ty` connected to it (bind first, so the connection attaches at once).
pub(crate) fn pair_of(
    ctx: &Context,
    bind_ty: SocketType,
    connect_ty: SocketType,
    name: &str,
) -> (Socket, Socket) {
    let b = sock(ctx, bind_ty);
    b.bind(&ep(name)).unwrap();
    let c = sock(ctx, connect_ty);
    c.connect(&ep(name)).unwrap();
    (b, c)
}

/// Like [`pair_of`], but sets `bind_ty`'s and `connect_ty`'s HWMs before binding and
/// connecting: `(snd, rcv)` for each.
pub(crate) fn pair_with_hwm(
    ctx: &Context,
    bind_ty: SocketType,
    bind_hwm: (usize, usize),
    connect_ty: SocketType,
    connect_hwm: (usize, usize),
    name: &str,
) -> (Socket, Socket) {
    let b = sock(ctx, bind_ty);
    b.set_sndhwm(bind_hwm.0).unwrap();
    b.set_rcvhwm(bind_hwm.1).unwrap();
    b.bind(&ep(name)).unwrap();
    let c = sock(ctx, connect_ty);
    c.set_sndhwm(connect_hwm.0).unwrap();
    c.set_rcvhwm(connect_hwm.1).unwrap();
    c.connect(&ep(name)).unwrap();
    (b, c)
}

/// A one-frame message holding `n` (8 bytes, little endian).
pub(crate) fn num_msg(n: u64) -> Message {
    Message::from(n.to_le_bytes().to_vec())
}

/// The number in a message made by [`num_msg`].
pub(crate) fn num_of(m: &Message) -> u64 {
    assert_eq!(m.len(), 1, "expected one frame, got {m:?}");
    let b: [u8; 8] = m.frames()[0][..]
        .try_into()
        .unwrap_or_else(|_| panic!("not a number message: {m:?}"));
    u64::from_le_bytes(b)
}

/// Receives with a generous timeout (a hang guard, not a timing assertion).
pub(crate) fn recv(s: &Socket) -> Message {
    s.recv_timeout(HANG)
        .unwrap_or_else(|e| panic!("recv on {s:?} failed: {e}"))
}

/// Receives a number message with a generous timeout.
pub(crate) fn recv_num(s: &Socket) -> u64 {
    num_of(&recv(s))
}

/// Asserts that nothing is queued for `s` now.
#[track_caller]
pub(crate) fn assert_empty(s: &Socket) {
    match s.try_recv() {
        Err(Error::WouldBlock) => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// Sends with `try_send` until it fails; returns how many were sent and checks the
/// failure is `WouldBlock`. Messages are numbered from `first`.
#[track_caller]
pub(crate) fn fill(s: &Socket, first: u64, limit: u64) -> u64 {
    let mut n = 0;
    while n < limit {
        match s.try_send(num_msg(first + n)) {
            Ok(()) => n += 1,
            Err(e) => {
                assert_eq!(
                    e.error(),
                    &Error::WouldBlock,
                    "fill stopped with the wrong error"
                );
                assert_eq!(num_of(e.message()), first + n, "the message comes back");
                return n;
            }
        }
    }
    n
}

/// Polls `cond` until it holds or `HANG` passes (then panics with `what`).
#[track_caller]
pub(crate) fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::yield_now();
    }
}

/// Runs `f` on its own thread and fails if it takes longer than `limit` (a hang guard).
/// A panic in `f` is propagated.
pub(crate) fn with_hang_guard<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let v = f();
        let _ = tx.send(());
        v
    });
    match rx.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hang: the test did not finish within {limit:?}")
        }
    }
}

/// A frame owner that counts its drops.
#[derive(Debug)]
pub(crate) struct DropCounter(pub(crate) Arc<AtomicUsize>, pub(crate) Vec<u8>);

impl AsRef<[u8]> for DropCounter {
    fn as_ref(&self) -> &[u8] {
        &self.1
    }
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A frame whose payload is `payload` and that increments `drops` when freed.
pub(crate) fn counted_frame(drops: &Arc<AtomicUsize>, payload: &[u8]) -> Bytes {
    Bytes::from_owner(DropCounter(drops.clone(), payload.to_vec()))
}

/// A message of counted frames.
pub(crate) fn counted_msg(drops: &Arc<AtomicUsize>, frames: &[&[u8]]) -> Message {
    Message::from_frames(frames.iter().map(|p| counted_frame(drops, p)))
}

/// How many counted frames have been dropped.
pub(crate) fn dropped(drops: &Arc<AtomicUsize>) -> usize {
    drops.load(Ordering::SeqCst)
}

/// A waker that counts its wake-ups (no executor needed: poll by hand, then read the
/// count).
#[derive(Debug, Default)]
pub(crate) struct WakeCounter(AtomicUsize);

impl WakeCounter {
    /// Wake-ups so far.
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl std::task::Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh [`WakeCounter`] and a waker for it.
pub(crate) fn counting_waker() -> (Arc<WakeCounter>, std::task::Waker) {
    let c = Arc::new(WakeCounter::default());
    (c.clone(), std::task::Waker::from(c))
}

/// Unparks the thread of [`block_on`].
struct Unpark(std::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: runs `fut` to completion on this thread, polling, then parking
/// until woken. `park` may return spuriously, which only costs an extra poll; a lost
/// wake-up parks forever (wrap the test in [`with_hang_guard`]).
pub(crate) fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
