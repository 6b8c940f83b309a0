//! Async send and receive under tokio (SPEC ): a pipeline across tasks on
//! a multi-thread runtime, REQ/REP round trips, `select!` cancellation and `timeout`.
//! The library does not depend on tokio; this shows the futures work under it.
#![cfg(not(any(loom, shuttle)))]

#[path = "../../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{HANG, num_msg, num_of, pair_of, sock};
use inproc::{Context, Error, SocketType};

/// A-6: "10,000 messages through PUSH/PULL between tokio tasks on a multi-thread
/// runtime arrive in order."
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a6_push_pull_pipeline_across_tasks() {
    const N: u64 = 10_000;
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "tokio-pipe");
    // A small window, so the sender really waits for credit.
    push.set_sndhwm(16).unwrap();
    let push = Arc::new(push);
    let pull = Arc::new(pull);
    let sender = tokio::spawn({
        let push = push.clone();
        async move {
            for i in 0..N {
                push.send_async(num_msg(i)).await.unwrap();
            }
        }
    });
    let receiver = tokio::spawn({
        let pull = pull.clone();
        async move {
            for i in 0..N {
                assert_eq!(num_of(&pull.recv_async().await.unwrap()), i);
            }
        }
    });
    tokio::time::timeout(HANG, async {
        sender.await.unwrap();
        receiver.await.unwrap();
    })
    .await
    .expect("hang: the pipeline did not finish");
}

/// "REQ/REP round trips between tokio tasks."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a6_req_rep_round_trips() {
    const ROUNDS: u64 = 500;
    let ctx = Context::new();
    let (rep, req) = pair_of(&ctx, SocketType::Rep, SocketType::Req, "tokio-reqrep");
    let rep = Arc::new(rep);
    let server = tokio::spawn({
        let rep = rep.clone();
        async move {
            for _ in 0..ROUNDS {
                let m = rep.recv_async().await.unwrap();
                let n = num_of(&m);
                rep.send_async(num_msg(n * 2)).await.unwrap();
            }
        }
    });
    tokio::time::timeout(HANG, async {
        for i in 0..ROUNDS {
            req.send_async(num_msg(i)).await.unwrap();
            assert_eq!(num_of(&req.recv_async().await.unwrap()), i * 2);
        }
        server.await.unwrap();
    })
    .await
    .expect("hang: the round trips did not finish");
}

/// A-4: "In `select!` between two receives, the losing future is dropped and its
/// message is not lost."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a4_select_loser_loses_no_message() {
    let ctx = Context::new();
    let (a_pull, a_push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "sel-a");
    let (b_pull, b_push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "sel-b");
    for round in 0..100u64 {
        // Both have a message: whichever branch wins, the other future is dropped
        // (possibly after being polled) and its message must still be there.
        a_push.send(num_msg(round)).unwrap();
        b_push.send(num_msg(round + 1000)).unwrap();
        let (won_a, m) = tokio::select! {
            m = a_pull.recv_async() => (true, m.unwrap()),
            m = b_pull.recv_async() => (false, m.unwrap()),
        };
        let (winner, loser, base) = if won_a {
            (round, &b_pull, 1000)
        } else {
            (round + 1000, &a_pull, 0)
        };
        assert_eq!(num_of(&m), winner);
        assert_eq!(num_of(&loser.try_recv().unwrap()), round + base);
    }
    // Only one side has a message: the pending loser is dropped after registering a
    // watcher, and a later message to it is received normally.
    b_push.send(num_msg(7)).unwrap();
    let m = tokio::select! {
        m = a_pull.recv_async() => panic!("nothing was sent to a: {m:?}"),
        m = b_pull.recv_async() => m.unwrap(),
    };
    assert_eq!(num_of(&m), 7);
    a_push.send(num_msg(8)).unwrap();
    assert_eq!(num_of(&a_pull.recv_async().await.unwrap()), 8);
}

/// A-7: "A `timeout` around a receive that never completes drops it; the socket then
/// works as before."
#[tokio::test(flavor = "current_thread")]
async fn a7_timeout_then_socket_still_works() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "tokio-timeout");
    let r = tokio::time::timeout(Duration::from_millis(20), pull.recv_async()).await;
    assert!(
        r.is_err(),
        "nothing was sent, yet the receive completed: {r:?}"
    );
    push.send("after").unwrap();
    let m = tokio::time::timeout(HANG, pull.recv_async())
        .await
        .expect("hang")
        .unwrap();
    assert_eq!(m, "after".into());
    // Shutdown still completes a pending future.
    let lonely = sock(&ctx, SocketType::Pull);
    lonely.bind("inproc://tokio-timeout-lonely").unwrap();
    let (r, ()) = tokio::join!(lonely.recv_async(), async { ctx.shutdown() });
    assert_eq!(r, Err(Error::Terminated));
}
