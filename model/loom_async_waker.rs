//! Async waker registration (`Socket::poll_op`, `Notify::watch`, SPEC A-3) racing the
//! events that complete the future: a `RecvFuture` polled while a peer sends, a
//! `SendFuture` on a full window while the reader frees credit, and a pending future
//! while the context shuts down. A future that returned `Pending` must be woken by the
//! event it waits for; a lost wake-up shows as a failed assertion (the recording waker
//! was never woken) or as a loom deadlock (`block_on` below waits forever on a
//! `loom::sync::Notify` that nobody notifies).
//!
//! The registration race and the shutdown race are explored exhaustively (no preemption
//! bound); the send future on a full window keeps bound 3 (unbounded it passes 270,000
//! executions in a minute without finishing).
#![cfg(loom)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use inproc::{Context, Error, SocketType};
use loom::sync::atomic::{AtomicBool, Ordering};

/// A waker that records that it was woken (a loom atomic, so the model sees the flag).
struct Recorder(AtomicBool);

impl Wake for Recorder {
    fn wake(self: std::sync::Arc<Self>) {
        // Release: pairs with the Acquire load in the test after the join.
        self.0.store(true, Ordering::Release);
    }
}

/// A waker over a loom `Notify` (which keeps one permit, like `Thread::unpark`).
struct Unpark(loom::sync::Notify);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.notify();
    }
}

/// Runs `fut` on this model thread: poll, then wait for a wake-up. A lost wake-up
/// leaves every thread blocked, which loom reports as a deadlock.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let unpark = std::sync::Arc::new(Unpark(loom::sync::Notify::new()));
    let waker = Waker::from(unpark.clone());
    let mut cx = TaskContext::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        unpark.0.wait();
    }
}

#[test]
fn recv_future_registration_races_send() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let x = ctx.socket(SocketType::Pair).unwrap();
        x.bind("inproc://a").unwrap();
        let y = ctx.socket(SocketType::Pair).unwrap();
        y.connect("inproc://a").unwrap();
        let t = loom::thread::spawn(move || {
            y.send("m").unwrap();
            y
        });
        let woken = std::sync::Arc::new(Recorder(AtomicBool::new(false)));
        let waker = Waker::from(woken.clone());
        let mut cx = TaskContext::from_waker(&waker);
        let mut fut = x.recv_async();
        let first = Pin::new(&mut fut).poll(&mut cx);
        let _y = t.join().unwrap();
        let msg = match first {
            Poll::Ready(r) => r.unwrap(),
            Poll::Pending => {
                // The send has happened (joined): a Pending poll that raced it must
                // have been woken, or the task would sleep forever.
                assert!(
                    woken.0.load(Ordering::Acquire),
                    "lost wake-up: the future returned Pending and was never woken"
                );
                match Pin::new(&mut fut).poll(&mut cx) {
                    Poll::Ready(r) => r.unwrap(),
                    Poll::Pending => panic!("woken, the message queued, yet still Pending"),
                }
            }
        };
        assert_eq!(msg, "m".into());
    });
}

#[test]
fn send_future_waits_for_credit() {
    common::check(3, || {
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.set_rcvhwm(1).unwrap();
        pull.bind("inproc://b").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.set_sndhwm(1).unwrap();
        push.connect("inproc://b").unwrap();
        // Window 1 + 1: two messages fill it.
        push.try_send("1").unwrap();
        push.try_send("2").unwrap();
        let t = loom::thread::spawn(move || {
            assert_eq!(pull.recv().unwrap(), "1".into());
            pull
        });
        block_on(push.send_async("3")).unwrap();
        let pull = t.join().unwrap();
        assert_eq!(pull.recv().unwrap(), "2".into());
        assert_eq!(pull.recv().unwrap(), "3".into());
    });
}

#[test]
fn shutdown_completes_pending_recv_future() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let x = ctx.socket(SocketType::Pull).unwrap();
        x.bind("inproc://c").unwrap();
        let ctx2 = ctx.clone();
        let t = loom::thread::spawn(move || ctx2.shutdown());
        assert_eq!(block_on(x.recv_async()), Err(Error::Terminated));
        t.join().unwrap();
    });
}
