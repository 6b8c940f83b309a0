//! Batches (SPEC 5g, B-rules): `send_batch` / `try_send_batch` / `recv_batch` /
//! `try_recv_batch` keep every pattern's per-message semantics (order, HWM, routing,
//! filtering, alternation), and a batch larger than the window blocks and resumes.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::time::Duration;

use common::*;
use inproc::{Context, Error, Message, SocketType};

/// B-2: a batch arrives whole and in order; `recv_batch` takes at most `max`, at least
/// one, and appends.
#[test]
fn b2_batch_arrives_in_order_and_recv_batch_takes_at_most_max() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "b2");
    // A bound on every wait: a lost publication fails the test instead of hanging it.
    pull.set_recv_timeout(Some(HANG)).unwrap();
    assert_eq!(push.send_batch((0..100).map(num_msg)).unwrap(), 100);
    let mut got = vec![num_msg(999)];
    assert_eq!(pull.recv_batch(&mut got, 30).unwrap(), 30);
    assert_eq!(got.len(), 31, "appended after what was there");
    assert_eq!(pull.try_recv_batch(&mut got, 1000).unwrap(), 70);
    let nums: Vec<u64> = got[1..].iter().map(num_of).collect();
    assert_eq!(nums, (0..100).collect::<Vec<_>>());
    assert_eq!(
        pull.try_recv_batch(&mut got, 10),
        Err(Error::WouldBlock),
        "nothing queued"
    );
    assert_eq!(
        pull.try_recv_batch(&mut got, 0),
        Ok(0),
        "max 0 takes nothing"
    );
    assert_eq!(
        pull.recv_batch(&mut got, 0),
        Ok(0),
        "max 0 returns at once, even with nothing queued"
    );
}

/// B-3: a batch larger than the window publishes what fits, waits for credit, and
/// resumes; nothing is lost or reordered.
#[test]
fn b3_batch_larger_than_the_window_blocks_and_resumes() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 2),
            SocketType::Push,
            (3, 1),
            "b3",
        );
        const N: u64 = 10_000;
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut next = 0;
                let mut got = Vec::new();
                while next < N {
                    got.clear();
                    pull.recv_batch(&mut got, 7).unwrap();
                    for m in &got {
                        assert_eq!(num_of(m), next);
                        next += 1;
                    }
                }
            });
            for chunk in 0..N / 100 {
                let n = push
                    .send_batch((chunk * 100..chunk * 100 + 100).map(num_msg))
                    .unwrap();
                assert_eq!(n, 100);
            }
        });
    });
}

/// B-4: `try_send_batch` sends what fits, then stops with `WouldBlock`, the count, the
/// message back, and the rest untouched in the caller's iterator; a timed batch stops
/// with `TimedOut` the same way.
#[test]
fn b4_partial_batch_reports_count_and_gives_the_message_back() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(2).unwrap();
    push.connect(&ep("b4")).unwrap(); // pending: window = SNDHWM = 2
    let mut msgs = (0..5).map(num_msg);
    let err = push.try_send_batch(msgs.by_ref()).unwrap_err();
    assert_eq!(err.sent(), 2);
    assert_eq!(err.error(), &Error::WouldBlock);
    assert_eq!(num_of(err.message()), 2);
    assert_eq!(msgs.next().map(|m| num_of(&m)), Some(3), "never taken");
    assert!(err.to_string().contains("after 2 message(s)"));
    push.set_send_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let err = push.send_batch([num_msg(7)]).unwrap_err();
    assert_eq!((err.sent(), err.error()), (0, &Error::TimedOut));
    assert_eq!(num_of(&err.into_message()), 7);
    // What was sent is delivered at the bind, in order.
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("b4")).unwrap();
    assert_eq!(recv_num(&pull), 0);
    assert_eq!(recv_num(&pull), 1);
    assert_empty(&pull);
}

/// B-5: PUB filters a batch per subscriber; each gets its matching messages in order.
#[test]
fn b5_pub_batch_is_filtered_per_subscriber() {
    let ctx = Context::new();
    let publ = sock(&ctx, SocketType::Pub);
    publ.bind(&ep("b5")).unwrap();
    let subs: Vec<_> = ["a", "b", ""]
        .iter()
        .map(|p| {
            let s = sock(&ctx, SocketType::Sub);
            s.subscribe(p).unwrap();
            s.connect(&ep("b5")).unwrap();
            s
        })
        .collect();
    // Subscriptions travel upstream; the first send attaches them.
    wait_until("subscriptions reach the publisher", || {
        publ.send("x-probe").unwrap();
        subs[2].try_recv().is_ok()
    });
    while subs[2].try_recv().is_ok() {}
    let batch = ["a1", "b1", "c1", "a2", "b2"];
    assert_eq!(publ.send_batch(batch).unwrap(), 5);
    let take = |s: &inproc::Socket| {
        let mut got = Vec::new();
        while let Ok(m) = s.try_recv() {
            got.push(String::from_utf8(m.frames()[0].to_vec()).unwrap());
        }
        got
    };
    assert_eq!(take(&subs[0]), ["a1", "a2"]);
    assert_eq!(take(&subs[1]), ["b1", "b2"]);
    assert_eq!(take(&subs[2]), batch);
}

/// B-6: the types that alternate take a batch of one; the others refuse as `send` and
/// `recv` do.
#[test]
fn b6_req_rep_batch_of_one_and_unsupported_directions() {
    let ctx = Context::new();
    let (rep, req) = pair_of(&ctx, SocketType::Rep, SocketType::Req, "b6");
    rep.set_recv_timeout(Some(HANG)).unwrap();
    req.set_recv_timeout(Some(HANG)).unwrap();
    let err = req.send_batch(["q1", "q2"]).unwrap_err();
    assert_eq!((err.sent(), err.error()), (1, &Error::InvalidState));
    assert_eq!(err.into_message(), Message::from("q2"));
    let mut got = Vec::new();
    assert_eq!(
        rep.recv_batch(&mut got, 10).unwrap(),
        1,
        "REP takes one request"
    );
    let err = rep.send_batch(["r1", "r2"]).unwrap_err();
    assert_eq!((err.sent(), err.error()), (1, &Error::InvalidState));
    got.clear();
    assert_eq!(
        req.recv_batch(&mut got, 10).unwrap(),
        1,
        "REQ takes its one reply"
    );
    assert_eq!(got, [Message::from("r1")]);

    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "b6-push");
    let err = pull.try_send_batch(["x"]).unwrap_err();
    assert_eq!((err.sent(), err.error()), (0, &Error::NotSupported));
    assert_eq!(push.try_recv_batch(&mut got, 4), Err(Error::NotSupported));
    assert_eq!(
        push.send_batch(Vec::<Message>::new()).unwrap(),
        0,
        "empty batch"
    );
}

/// B-7: PUSH spreads a batch round-robin over its peers, as single sends would.
#[test]
fn b7_push_batch_is_load_balanced() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.bind(&ep("b7")).unwrap();
    let pulls: Vec<_> = (0..3)
        .map(|_| {
            let p = sock(&ctx, SocketType::Pull);
            p.connect(&ep("b7")).unwrap();
            p
        })
        .collect();
    assert_eq!(push.send_batch((0..9).map(num_msg)).unwrap(), 9);
    for (i, p) in pulls.iter().enumerate() {
        let mut got = Vec::new();
        p.try_recv_batch(&mut got, 10).unwrap();
        let nums: Vec<u64> = got.iter().map(num_of).collect();
        let i = i as u64;
        assert_eq!(nums, [i, i + 3, i + 6]);
    }
}

/// B-8: a blocked batch receive is woken by a batch send from another thread, and
/// shutdown ends both kinds of batch call.
#[test]
fn b8_blocked_batches_wake_and_end_on_shutdown() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "b8");
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let mut got = Vec::new();
                let n = pull.recv_batch(&mut got, 100).unwrap();
                assert!(n >= 1);
                got
            });
            push.send_batch((0..3).map(num_msg)).unwrap();
            let mut got = t.join().unwrap();
            while got.len() < 3 {
                pull.recv_batch(&mut got, 100).unwrap();
            }
            assert_eq!(got.iter().map(num_of).collect::<Vec<_>>(), [0, 1, 2]);
        });
        let lonely = sock(&ctx, SocketType::Pull);
        lonely.bind(&ep("b8-lonely")).unwrap();
        std::thread::scope(|s| {
            // Whether the receive is already asleep or not yet started, it ends with
            // `Terminated`.
            let t = s.spawn(|| lonely.recv_batch(&mut Vec::new(), 4));
            ctx.shutdown();
            assert_eq!(t.join().unwrap(), Err(Error::Terminated));
        });
        // Refused before anything was sent: the first message comes back (found by the
        // reference model's differential test: it used to come back empty).
        let err = push.send_batch([num_msg(1), num_msg(2)]).unwrap_err();
        assert_eq!((err.sent(), err.error()), (0, &Error::Terminated));
        assert_eq!(num_of(err.message()), 1);
        assert_eq!(
            push.send_batch(Vec::<Message>::new()).unwrap(),
            0,
            "empty: Ok(0)"
        );
    });
}

/// B-1 with a caller's iterator that panics mid-batch: what it had handed over is still
/// published, and the socket sends normally afterwards (no message stays unpublished).
#[test]
fn b9_a_panicking_iterator_ends_the_batch_cleanly() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "b9");
    pull.set_recv_timeout(Some(HANG)).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        push.send_batch((0..5).map(|i| {
            assert!(i < 3, "the caller's iterator fails");
            num_msg(i)
        }))
    }));
    assert!(r.is_err(), "the panic reaches the caller");
    for i in 0..3 {
        assert_eq!(recv_num(&pull), i, "sent before the panic, and published");
    }
    push.send(num_msg(9)).unwrap();
    assert_eq!(recv_num(&pull), 9, "later sends are published at once");
    assert_empty(&pull);
}
