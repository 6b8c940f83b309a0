//! `RecvStream` and `SendSink` under tokio (SPEC ): tasks that own them
//! are `tokio::spawn`ed on a multi-thread runtime. The combinators of futures-util are
//! replaced by `poll_fn` helpers; the library depends on no runtime.
#![cfg(not(any(loom, shuttle)))]

#[path = "../../tests/common/mod.rs"]
mod common;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use common::{HANG, num_msg, num_of, pair_of, pair_with_hwm};
use futures_core::Stream;
use futures_sink::Sink;
use inproc::{Context, Message, RecvStream, SendError, SendSink, SocketType};

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

/// A-9: "Tasks that own a `SendSink` and a `RecvStream` (owned sockets) are spawned on a
/// multi-thread runtime; 10,000 messages through SNDHWM 16 arrive in order."
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a9_spawned_tasks_own_sink_and_stream() {
    const N: u64 = 10_000;
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (16, 16),
        SocketType::Push,
        (16, 16),
        "tokio-stream-pipe",
    );
    let mut sink = push.into_sink();
    let mut stream = pull.into_stream();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            send(&mut sink, num_msg(i)).await.unwrap();
        }
    });
    let receiver = tokio::spawn(async move {
        for i in 0..N {
            assert_eq!(num_of(&next(&mut stream).await.unwrap().unwrap()), i);
        }
        stream
    });
    let stream = tokio::time::timeout(HANG, async {
        sender.await.unwrap();
        receiver.await.unwrap()
    })
    .await
    .expect("hang: the pipeline did not finish");
    assert_eq!(stream.get_ref().stats().received, N);
}

/// A-9: "A REP served by a spawned task that owns a stream and a sink over one
/// `Arc<Socket>`."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a9_rep_server_task_over_an_arc() {
    const ROUNDS: u64 = 500;
    let ctx = Context::new();
    let (rep, req) = pair_of(&ctx, SocketType::Rep, SocketType::Req, "tokio-stream-rep");
    let rep = Arc::new(rep);
    let server = tokio::spawn({
        let (mut requests, mut replies) = (RecvStream::new(rep.clone()), SendSink::new(rep));
        async move {
            // Until the context is shut down.
            let mut served = 0;
            while let Some(m) = next(&mut requests).await {
                let n = num_of(&m.unwrap());
                send(&mut replies, num_msg(n * 2)).await.unwrap();
                served += 1;
            }
            served
        }
    });
    tokio::time::timeout(HANG, async {
        for i in 0..ROUNDS {
            req.send_async(num_msg(i)).await.unwrap();
            assert_eq!(num_of(&req.recv_async().await.unwrap()), i * 2);
        }
    })
    .await
    .expect("hang: the round trips did not finish");
    // shutdown ends the server's stream.
    ctx.shutdown();
    let served = tokio::time::timeout(HANG, server)
        .await
        .expect("hang: shutdown did not end the stream")
        .unwrap();
    assert_eq!(served, ROUNDS);
}

/// A-14: "A runtime timeout around `next()` drops it; no message is lost, and the
/// stream then works as before."
#[tokio::test(flavor = "current_thread")]
async fn a14_timeout_around_next_loses_nothing() {
    let ctx = Context::new();
    let (pull, push) = pair_of(
        &ctx,
        SocketType::Pull,
        SocketType::Push,
        "tokio-stream-timeout",
    );
    let mut stream = pull.into_stream();
    let r = tokio::time::timeout(Duration::from_millis(20), next(&mut stream)).await;
    assert!(
        r.is_err(),
        "nothing was sent, yet the stream yielded: {r:?}"
    );
    push.send("after").unwrap();
    let m = tokio::time::timeout(HANG, next(&mut stream))
        .await
        .expect("hang")
        .unwrap()
        .unwrap();
    assert_eq!(m, "after".into());
}
