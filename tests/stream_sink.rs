//! `RecvStream` and `SendSink` (feature `futures`; SPEC) under a minimal
//! hand-written executor: `block_on` polls and parks the thread until the waker unparks
//! it, so a lost wake-up hangs the test, which the hang guard turns into a failure. The
//! combinators of futures-util are replaced by three `poll_fn` helpers. Plain
//! `cargo test` at the root runs this file (the `benches/` member turns the feature on);
//! `cargo test -p inproc` alone does not, unless given `--features futures`.
#![cfg(all(feature = "futures", not(any(loom, shuttle))))]

mod common;

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use common::{
    HANG, WakeCounter, block_on, num_msg, num_of, pair_of, pair_with_hwm, recv, with_hang_guard,
};
use futures_core::stream::{FusedStream, Stream};
use futures_sink::Sink;
use inproc::{Context, Error, Message, RecvStream, SendError, SendSink, Socket, SocketType};

/// `StreamExt::next`.
fn next<S: Stream + Unpin>(s: &mut S) -> impl Future<Output = Option<S::Item>> + '_ {
    poll_fn(move |cx| Pin::new(&mut *s).poll_next(cx))
}

/// `SinkExt::send`: wait for room, hand over, flush.
async fn send<K: Sink<Message, Error = SendError> + Unpin>(
    sink: &mut K,
    msg: Message,
) -> Result<(), SendError> {
    poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(msg)?;
    poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
}

/// `SinkExt::flush`.
fn flush<K: Sink<Message> + Unpin>(
    sink: &mut K,
) -> impl Future<Output = Result<(), K::Error>> + '_ {
    poll_fn(move |cx| Pin::new(&mut *sink).poll_flush(cx))
}

/// A waker that counts its wake-ups, and the count.
fn counting_waker() -> (Arc<WakeCounter>, Waker) {
    let c = Arc::new(WakeCounter::default());
    (c.clone(), Waker::from(c))
}

fn poll_next_with<S: Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut TaskContext::from_waker(waker))
}

fn poll_ready_with<K: Sink<Message> + Unpin>(
    k: &mut K,
    waker: &Waker,
) -> Poll<Result<(), K::Error>> {
    Pin::new(k).poll_ready(&mut TaskContext::from_waker(waker))
}

fn poll_flush_with<K: Sink<Message> + Unpin>(
    k: &mut K,
    waker: &Waker,
) -> Poll<Result<(), K::Error>> {
    Pin::new(k).poll_flush(&mut TaskContext::from_waker(waker))
}

fn start_send<K: Sink<Message> + Unpin>(
    k: &mut K,
    msg: impl Into<Message>,
) -> Result<(), K::Error> {
    Pin::new(k).start_send(msg.into())
}

/// A-9: "`RecvStream` and `SendSink` over an owned socket or an `Arc<Socket>` are
/// `'static + Send + Sync + Unpin`."
#[test]
fn a9_stream_and_sink_are_static_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin + 'static>() {}
    check::<RecvStream<Socket>>();
    check::<RecvStream<Arc<Socket>>>();
    check::<SendSink<Socket>>();
    check::<SendSink<Arc<Socket>>>();
}

/// A-9: "One PAIR shared through an `Arc` is a stream and a sink at once; each moves
/// into a thread of its own (`'static`)."
#[test]
fn a9_one_pair_as_stream_and_sink_through_an_arc() {
    with_hang_guard(HANG, || {
        const ROUNDS: u64 = 1_000;
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "a9-pair");
        let b = Arc::new(b);
        // The echo side: its stream and sink share `b`.
        let echo = std::thread::spawn({
            let mut input = RecvStream::new(b.clone());
            let mut output = SendSink::new(b.clone());
            move || {
                block_on(async {
                    for _ in 0..ROUNDS {
                        let m = next(&mut input).await.unwrap().unwrap();
                        send(&mut output, m).await.unwrap();
                    }
                })
            }
        });
        let a = Arc::new(a);
        let mut input = RecvStream::new(a.clone());
        let mut output = SendSink::new(a);
        block_on(async {
            for i in 0..ROUNDS {
                send(&mut output, num_msg(i)).await.unwrap();
                assert_eq!(num_of(&next(&mut input).await.unwrap().unwrap()), i);
            }
        });
        echo.join().unwrap();
    });
}

/// A-10: "The stream yields the messages in order, waiting without blocking a thread;
/// 10,000 messages through a sink and a stream on two threads, SNDHWM and RCVHWM 4."
#[test]
fn a10_stream_yields_in_order_from_a_sink_on_another_thread() {
    with_hang_guard(HANG, || {
        const N: u64 = 10_000;
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (4, 4),
            SocketType::Push,
            (4, 4),
            "a10-order",
        );
        let mut sink = push.into_sink();
        let sender = std::thread::spawn(move || {
            block_on(async {
                for i in 0..N {
                    send(&mut sink, num_msg(i)).await.unwrap();
                }
            })
        });
        let mut stream = pull.into_stream();
        block_on(async {
            for i in 0..N {
                assert_eq!(num_of(&next(&mut stream).await.unwrap().unwrap()), i);
            }
        });
        sender.join().unwrap();
        assert_eq!(stream.get_ref().stats().received, N);
    });
}

/// "An error other than `Terminated` is an item, and does not end the stream."
#[test]
fn a10_errors_are_items_and_do_not_end_the_stream() {
    let ctx = Context::new();
    let push = ctx.socket(SocketType::Push).unwrap();
    let mut stream = push.into_stream();
    let (_c, waker) = counting_waker();
    for _ in 0..2 {
        match poll_next_with(&mut stream, &waker) {
            Poll::Ready(Some(Err(Error::NotSupported))) => {}
            other => panic!("expected NotSupported, got {other:?}"),
        }
        assert!(!stream.is_terminated());
    }
}

/// A-11: "Shutdown ends the stream: a pending stream is woken and yields `None`, and
/// `None` from then on (a fused stream); messages still queued are not yielded."
#[test]
fn a11_shutdown_ends_the_stream() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "a11");
        let (lonely, _) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "a11-lonely");
        push.send("queued").unwrap();
        let mut waiting = lonely.into_stream();
        let (woken, waker) = counting_waker();
        assert!(poll_next_with(&mut waiting, &waker).is_pending());
        // Ends the stream from another thread while it waits.
        std::thread::scope(|s| {
            s.spawn(|| ctx.shutdown());
        });
        assert!(woken.count() >= 1, "shutdown did not wake the stream");
        assert!(matches!(
            poll_next_with(&mut waiting, &waker),
            Poll::Ready(None)
        ));
        assert!(waiting.is_terminated());
        assert!(matches!(
            poll_next_with(&mut waiting, &waker),
            Poll::Ready(None)
        ));
        // A stream made after the shutdown ends at once, with a message still queued.
        let mut late = RecvStream::new(&pull);
        assert!(block_on(next(&mut late)).is_none());
        assert!(late.is_terminated());
    });
}

/// A-12: "The sink keeps at most one message beyond the socket's window: `poll_ready`
/// is `Pending` until the reader makes room, then sends it; nothing is lost or
/// reordered." Window 2 (SNDHWM 1 + RCVHWM 1), 50 rounds.
#[test]
fn a12_sink_waits_at_the_hwm_and_loses_nothing() {
    with_hang_guard(HANG, || {
        const WINDOW: u64 = 2;
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a12-hwm",
        );
        let mut sink = push.into_sink();
        let (woken, waker) = counting_waker();
        let mut next_out = 0;
        let mut next_in = 0;
        for _round in 0..50 {
            // Feed until the sink says it has no room.
            let mut accepted = 0;
            while let Poll::Ready(r) = poll_ready_with(&mut sink, &waker) {
                r.unwrap();
                start_send(&mut sink, num_msg(next_out)).unwrap();
                next_out += 1;
                accepted += 1;
                assert!(
                    accepted <= WINDOW + 1,
                    "the sink buffered more than one message"
                );
            }
            assert!(accepted >= 1);
            assert!(sink.get_ref().stats().sent <= next_out);
            // Pending: the window is full and one message waits in the slot.
            assert_eq!(sink.get_ref().stats().sent, next_out - 1);
            let before = woken.count();
            // The reader drains: the first receive returns credit and wakes the sink.
            assert_eq!(num_of(&recv(&pull)), next_in);
            next_in += 1;
            assert!(woken.count() > before, "credit did not wake the sink");
            while let Ok(m) = pull.try_recv() {
                assert_eq!(num_of(&m), next_in);
                next_in += 1;
            }
            // Flush what is left in the slot, then read it too.
            block_on(flush(&mut sink)).unwrap();
            while next_in < next_out {
                assert_eq!(num_of(&recv(&pull)), next_in);
                next_in += 1;
            }
        }
        assert_eq!(sink.get_ref().stats().sent, next_out);
        assert_eq!(pull.stats().received, next_out);
    });
}

/// A-12: "Errors give the message back: from `start_send` at once (a type that cannot
/// send, a full slot, after shutdown), and from a flush whose slot message fails (the
/// context shut down while it waited)."
#[test]
fn a12_sink_errors_give_the_message_back() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        let mut cannot = SendSink::new(&pull);
        let e = start_send(&mut cannot, "x").unwrap_err();
        assert_eq!(
            (e.error(), e.message()),
            (&Error::NotSupported, &"x".into())
        );

        // No peer yet: the first message waits in the slot; a second is refused.
        let push = ctx.socket(SocketType::Push).unwrap();
        push.bind("inproc://a12-errors").unwrap();
        let mut sink = SendSink::new(&push);
        let (_c, waker) = counting_waker();
        start_send(&mut sink, "first").unwrap();
        assert!(poll_ready_with(&mut sink, &waker).is_pending());
        let e = start_send(&mut sink, "second").unwrap_err();
        assert_eq!(
            (e.error(), e.message()),
            (&Error::WouldBlock, &"second".into())
        );

        // Shutdown while "first" waits: the flush fails with it.
        ctx.shutdown();
        match poll_flush_with(&mut sink, &waker) {
            Poll::Ready(Err(e)) => {
                assert_eq!(
                    (e.error(), e.message()),
                    (&Error::Terminated, &"first".into())
                )
            }
            other => panic!("expected Terminated, got {other:?}"),
        }
        // The slot is empty now; a later send fails at once, message back.
        assert!(matches!(
            poll_ready_with(&mut sink, &waker),
            Poll::Ready(Ok(()))
        ));
        let e = start_send(&mut sink, "late").unwrap_err();
        assert_eq!(
            (e.error(), e.message()),
            (&Error::Terminated, &"late".into())
        );
    });
}

/// A-13: "The socket's send and receive timeouts do not apply to the stream and the
/// sink: with both set to zero (non-blocking for `send`/`recv`), the stream waits
/// instead of yielding `WouldBlock`, and the sink keeps a message it cannot send yet."
#[test]
fn a13_socket_timeouts_do_not_apply() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a13",
        );
        pull.set_recv_timeout(Some(Duration::ZERO)).unwrap();
        push.set_send_timeout(Some(Duration::ZERO)).unwrap();
        assert_eq!(pull.recv(), Err(Error::WouldBlock));
        let mut stream = RecvStream::new(&pull);
        let mut sink = SendSink::new(&push);
        let (_c, waker) = counting_waker();
        assert!(poll_next_with(&mut stream, &waker).is_pending());
        for i in 0..3 {
            assert!(poll_ready_with(&mut sink, &waker).is_ready());
            start_send(&mut sink, num_msg(i)).unwrap();
        }
        // Window 2: the third waits in the slot, no error.
        assert!(poll_flush_with(&mut sink, &waker).is_pending());
        std::thread::scope(|s| {
            s.spawn(|| block_on(flush(&mut sink)).unwrap());
            for i in 0..3 {
                assert_eq!(num_of(&block_on(next(&mut stream)).unwrap().unwrap()), i);
            }
        });
    });
}

/// A-14: "Dropping a pending `next()` future, or a pending stream, loses no message,
/// and a dropped stream is never woken."
#[test]
fn a14_dropped_stream_loses_nothing_and_is_not_woken() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "a14-stream");
        let mut stream = RecvStream::new(&pull);
        // A cancelled `next()` (a `select!` loser, a runtime timeout).
        {
            let mut fut = pin!(next(&mut stream));
            let (_c, waker) = counting_waker();
            assert!(
                fut.as_mut()
                    .poll(&mut TaskContext::from_waker(&waker))
                    .is_pending()
            );
        }
        push.send("kept").unwrap();
        assert_eq!(block_on(next(&mut stream)).unwrap().unwrap(), "kept".into());
        // A stream dropped while it waits.
        let (woken, waker) = counting_waker();
        assert!(poll_next_with(&mut stream, &waker).is_pending());
        drop(stream);
        push.send("after").unwrap();
        assert_eq!(woken.count(), 0, "a dropped stream was woken");
        assert_eq!(pull.try_recv().unwrap(), "after".into());
    });
}

/// A-14: "A cancelled flush leaves its message in the slot: a later flush sends it, in
/// order."
#[test]
fn a14_cancelled_flush_keeps_the_message() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "a14-flush",
        );
        let mut sink = SendSink::new(&push);
        for i in 0..3 {
            start_send(&mut sink, num_msg(i)).unwrap();
        }
        {
            let mut fut = pin!(flush(&mut sink));
            let (_c, waker) = counting_waker();
            assert!(
                fut.as_mut()
                    .poll(&mut TaskContext::from_waker(&waker))
                    .is_pending()
            );
        }
        assert_eq!(num_of(&pull.try_recv().unwrap()), 0);
        block_on(flush(&mut sink)).unwrap();
        assert_eq!(num_of(&pull.try_recv().unwrap()), 1);
        assert_eq!(num_of(&pull.try_recv().unwrap()), 2);
        assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
    });
}

/// A-14: "A sink dropped with a message in its slot makes one last non-blocking attempt:
/// sent if the socket has room by then."
#[test]
fn a14_dropped_sink_sends_its_buffered_message_if_room() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1, 1),
        SocketType::Push,
        (1, 1),
        "a14-drop-room",
    );
    let mut sink = SendSink::new(&push);
    for i in 0..3 {
        start_send(&mut sink, num_msg(i)).unwrap();
    }
    assert_eq!(push.stats().sent, 2);
    // Room again (the reads return credit), but nobody flushed.
    assert_eq!(num_of(&pull.try_recv().unwrap()), 0);
    assert_eq!(num_of(&pull.try_recv().unwrap()), 1);
    drop(sink);
    assert_eq!(num_of(&pull.try_recv().unwrap()), 2);
    assert_eq!(push.stats().sent, 3);
}

/// A-14: "... if the socket still has no room, the message is dropped with the sink,
/// not counted in `stats` (the socket never accepted it); `take_buffered` takes it
/// back instead."
#[test]
fn a14_dropped_sink_without_room_drops_it_uncounted() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1, 1),
        SocketType::Push,
        (1, 1),
        "a14-drop-full",
    );
    let mut sink = SendSink::new(&push);
    for i in 0..3 {
        start_send(&mut sink, num_msg(i)).unwrap();
    }
    drop(sink);
    let stats = push.stats();
    assert_eq!((stats.sent, stats.dropped.total()), (2, 0));
    assert_eq!(num_of(&pull.try_recv().unwrap()), 0);
    assert_eq!(num_of(&pull.try_recv().unwrap()), 1);
    assert_eq!(pull.try_recv(), Err(Error::WouldBlock));

    // `take_buffered` gets the waiting message back instead.
    let mut sink = SendSink::new(&push);
    for i in 3..6 {
        start_send(&mut sink, num_msg(i)).unwrap();
    }
    assert_eq!(sink.take_buffered().map(|m| num_of(&m)), Some(5));
    assert_eq!(sink.take_buffered(), None);
}
