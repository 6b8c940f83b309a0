//! Async send and receive (SPEC) under a minimal hand-written executor:
//! `block_on` polls and parks the thread until the waker unparks it, so a lost wake-up
//! hangs the test, which the hang guard turns into a failure.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use common::{HANG, block_on, ep, pair_of, pair_with_hwm, recv, sock, with_hang_guard};
use inproc::{Context, Error, Message, RecvFuture, SendFuture, SocketType};

/// Unparks the executor's thread, and counts wake-ups.
struct Unpark {
    thread: std::thread::Thread,
    wakes: AtomicUsize,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.thread.unpark();
    }
}

fn unpark_waker() -> (Arc<Unpark>, Waker) {
    let u = Arc::new(Unpark {
        thread: std::thread::current(),
        wakes: AtomicUsize::new(0),
    });
    (u.clone(), Waker::from(u))
}

/// Polls `fut` once with a waker that does nothing useful; for checking `Pending`.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let (_u, waker) = unpark_waker();
    std::pin::Pin::new(fut).poll(&mut TaskContext::from_waker(&waker))
}

/// the futures are `Send` and `Unpin`, so any executor (multi-threaded included)
/// can run them.
#[test]
fn a1_futures_are_send_and_unpin() {
    fn check<T: Send + Unpin>() {}
    check::<RecvFuture<'static>>();
    check::<SendFuture<'static>>();
}

/// "`recv_async` completes when a message arrives later, from another thread."
#[test]
fn a2_recv_async_completes_when_message_arrives_later() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "a2-recv");
        let (u, waker) = unpark_waker();
        let mut fut = pull.recv_async();
        // Nothing queued yet: the first poll must register and return Pending.
        assert!(
            std::pin::Pin::new(&mut fut)
                .poll(&mut TaskContext::from_waker(&waker))
                .is_pending()
        );
        std::thread::scope(|s| {
            s.spawn(|| push.send("later").unwrap());
            let mut cx = TaskContext::from_waker(&waker);
            let msg = loop {
                if let Poll::Ready(v) = std::pin::Pin::new(&mut fut).poll(&mut cx) {
                    break v;
                }
                std::thread::park();
            };
            assert_eq!(msg.unwrap(), "later".into());
        });
        assert!(
            u.wakes.load(Ordering::Relaxed) >= 1,
            "completed without a wake-up"
        );
    });
}

/// "`send_async` on a full window completes when the reader returns credit."
#[test]
fn a2_send_async_completes_when_credit_returns() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a2-send",
        );
        push.try_send("1").unwrap();
        push.try_send("2").unwrap();
        assert_eq!(push.try_send("x").unwrap_err().error(), &Error::WouldBlock);
        let mut fut = push.send_async("3");
        assert!(poll_once(&mut fut).is_pending());
        std::thread::scope(|s| {
            s.spawn(|| {
                for want in ["1", "2", "3"] {
                    assert_eq!(recv(&pull), want.into());
                }
            });
            block_on(fut).unwrap();
        });
    });
}

/// "Dropping a pending `recv_async` loses no message: a later receive gets it."
#[test]
fn a4_dropped_recv_future_loses_no_message() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "a4-recv");
        let mut fut = pull.recv_async();
        assert!(poll_once(&mut fut).is_pending());
        push.send("kept").unwrap();
        drop(fut);
        assert_eq!(pull.try_recv().unwrap(), "kept".into());
        // A fresh future after the dropped one works too.
        push.send("next").unwrap();
        assert_eq!(block_on(pull.recv_async()).unwrap(), "next".into());
    });
}

/// A-4: "Dropping a pending `send_async` sends nothing: the message goes whole or not at
/// all."
#[test]
fn a4_dropped_send_future_sends_nothing() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a4-send",
        );
        push.try_send("1").unwrap();
        push.try_send("2").unwrap();
        let frames = Message::from_frames([&b"a"[..], &b"b"[..]]);
        let mut fut = push.send_async(frames);
        assert!(poll_once(&mut fut).is_pending());
        drop(fut);
        assert_eq!(pull.try_recv().unwrap(), "1".into());
        assert_eq!(pull.try_recv().unwrap(), "2".into());
        assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
        // Credit is back; the socket still sends.
        block_on(push.send_async("3")).unwrap();
        assert_eq!(pull.try_recv().unwrap(), "3".into());
    });
}

/// A-5: "Shutdown completes pending futures with `Terminated`; a send gives its message
/// back."
#[test]
fn a5_shutdown_completes_pending_futures_with_terminated() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a5",
        );
        push.try_send("1").unwrap();
        push.try_send("2").unwrap();
        let lonely = sock(&ctx, SocketType::Pull);
        lonely.bind(&ep("a5-lonely")).unwrap();
        let mut send = push.send_async("3");
        let mut recv_fut = lonely.recv_async();
        assert!(poll_once(&mut send).is_pending());
        assert!(poll_once(&mut recv_fut).is_pending());
        std::thread::scope(|s| {
            let h = s.spawn(move || block_on(recv_fut));
            s.spawn(|| ctx.shutdown());
            let err = block_on(send).unwrap_err();
            assert_eq!(err.error(), &Error::Terminated);
            assert_eq!(err.into_message(), "3".into());
            assert_eq!(h.join().unwrap(), Err(Error::Terminated));
        });
        // New futures fail at once.
        assert_eq!(block_on(pull.recv_async()), Err(Error::Terminated));
    });
}

/// A-6: "Async and blocking calls mix: 1,000 PAIR round trips between two async tasks on
/// two threads."
#[test]
fn a6_pair_ping_pong_between_async_tasks() {
    const ROUNDS: u32 = 1000;
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "a6");
        std::thread::scope(|s| {
            s.spawn(|| {
                block_on(async {
                    for _ in 0..ROUNDS {
                        let m = b.recv_async().await.unwrap();
                        b.send_async(m).await.unwrap();
                    }
                })
            });
            block_on(async {
                for i in 0..ROUNDS {
                    let m = Message::from(i.to_le_bytes().to_vec());
                    a.send_async(m.clone()).await.unwrap();
                    assert_eq!(a.recv_async().await.unwrap(), m);
                }
            });
        });
    });
}

/// "A future that completes at once registers no watcher" and one that completes
/// later removes its watcher: a socket with no pending futures wakes nobody.
#[test]
fn a3_completed_futures_leave_no_watcher() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "a3");
        let (u, waker) = unpark_waker();
        let mut cx = TaskContext::from_waker(&waker);
        // Completes on the first poll.
        push.send("now").unwrap();
        let mut fut = pull.recv_async();
        assert!(matches!(
            std::pin::Pin::new(&mut fut).poll(&mut cx),
            Poll::Ready(Ok(_))
        ));
        drop(fut);
        // Completes on a later poll.
        let mut fut = pull.recv_async();
        assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending());
        push.send("later").unwrap();
        assert_eq!(u.wakes.load(Ordering::Relaxed), 1);
        assert!(matches!(
            std::pin::Pin::new(&mut fut).poll(&mut cx),
            Poll::Ready(Ok(_))
        ));
        drop(fut);
        // No watcher is left: more traffic wakes nobody.
        push.send("more").unwrap();
        assert_eq!(pull.recv().unwrap(), "more".into());
        assert_eq!(u.wakes.load(Ordering::Relaxed), 1);
    });
}

/// Panics when woken.
struct Panicking;

impl Wake for Panicking {
    fn wake(self: Arc<Self>) {
        panic!("a user's waker panics (expected by the test)");
    }
}

/// a user's waker that panics does not make the sender's call panic (the message
/// was delivered), and the socket's other watchers are still woken.
#[test]
fn a8_panicking_waker_does_not_break_the_sender() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "a8");
        let bad = Waker::from(Arc::new(Panicking));
        let (good, good_waker) = unpark_waker();
        let mut f1 = pin!(a.recv_async());
        let mut f2 = pin!(a.recv_async());
        assert!(
            f1.as_mut()
                .poll(&mut TaskContext::from_waker(&bad))
                .is_pending()
        );
        assert!(
            f2.as_mut()
                .poll(&mut TaskContext::from_waker(&good_waker))
                .is_pending()
        );
        // The send wakes both watchers; the first one panics inside the wake.
        b.send("delivered").unwrap();
        assert!(
            good.wakes.load(Ordering::Relaxed) >= 1,
            "the other watcher was woken"
        );
        match f2.as_mut().poll(&mut TaskContext::from_waker(&good_waker)) {
            Poll::Ready(m) => assert_eq!(m.unwrap(), Message::from("delivered")),
            Poll::Pending => panic!("the message is there"),
        }
        // The socket keeps working, the panicking watcher still registered.
        b.send("again").unwrap();
        assert_eq!(recv(&a), Message::from("again"));
    });
}
