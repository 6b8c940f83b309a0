//! A pending future polled again with a different waker must wake the newest one (the
//! `Future::poll` contract: "only the Waker from the Context passed to the most recent
//! call should be scheduled to receive a wakeup"; SPEC A-3). Executors move tasks
//! between threads and hand out a new waker when they do; a socket that kept waking the
//! first waker would leave the task asleep forever.
//!
//! Each test polls once with waker W1 (`Pending`), once with W2 (`Pending`), then makes
//! the future ready from this thread: W2 must have been woken (W1 may or may not be).
//! No executor: counting wakers, all on one thread. The `Poller` is not covered here: it
//! registers one waker of its own per socket at `add` and never re-registers.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use common::{counting_waker, pair_of, pair_with_hwm};
use inproc::{Context, Error, SocketType};

fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut TaskContext::from_waker(waker))
}

/// a pending `recv_async` re-polled with a new waker wakes the new one when a
/// message arrives.
#[test]
fn a3_recv_future_wakes_the_newest_waker() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "rewake-recv");
    let (_c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut fut = pull.recv_async();
    assert!(poll_with(&mut fut, &w1).is_pending());
    assert!(poll_with(&mut fut, &w2).is_pending());
    push.send("m").unwrap();
    assert!(
        c2.count() >= 1,
        "the waker of the latest poll was not woken (an older one kept?)"
    );
    match poll_with(&mut fut, &w2) {
        Poll::Ready(r) => assert_eq!(r.unwrap(), "m".into()),
        Poll::Pending => panic!("woken with the message queued, yet still Pending"),
    }
}

/// the same for a `send_async` waiting on a full window: the reader's credit wakes
/// the newest waker.
#[test]
fn a3_send_future_wakes_the_newest_waker() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1, 1),
        SocketType::Push,
        (1, 1),
        "rewake-send",
    );
    push.try_send("1").unwrap();
    push.try_send("2").unwrap();
    assert_eq!(push.try_send("x").unwrap_err().error(), &Error::WouldBlock);
    let (_c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut fut = push.send_async("3");
    assert!(poll_with(&mut fut, &w1).is_pending());
    assert!(poll_with(&mut fut, &w2).is_pending());
    assert_eq!(pull.try_recv().unwrap(), "1".into());
    assert_eq!(pull.try_recv().unwrap(), "2".into());
    assert!(
        c2.count() >= 1,
        "the waker of the latest poll was not woken (an older one kept?)"
    );
    assert!(
        poll_with(&mut fut, &w2).is_ready(),
        "woken, credit back, still Pending"
    );
    assert_eq!(pull.try_recv().unwrap(), "3".into());
}

/// a pending future re-polled with the same waker again, then with a new one, then
/// with the first one again: each time the waker of the latest poll is the one woken.
#[test]
fn a3_recv_future_follows_every_waker_change() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "rewake-back");
    let (c1, w1) = counting_waker();
    let (_c2, w2) = counting_waker();
    let mut fut = pull.recv_async();
    assert!(poll_with(&mut fut, &w1).is_pending());
    assert!(poll_with(&mut fut, &w1).is_pending());
    assert!(poll_with(&mut fut, &w2).is_pending());
    assert!(poll_with(&mut fut, &w1).is_pending());
    push.send("m").unwrap();
    assert!(
        c1.count() >= 1,
        "the waker of the latest poll was not woken"
    );
    assert!(poll_with(&mut fut, &w1).is_ready());
}
