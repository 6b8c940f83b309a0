//! Integration tests of high-water marks and flow control: SPEC rules H-1 to H-8 and R-9.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::{
    assert_empty, ep, fill, num_msg, num_of, pair_with_hwm, recv, recv_num, sock, with_hang_guard,
};
use inproc::{Context, DEFAULT_HWM, Error, MAX_HWM, Message, SocketType};

/// R-9: "A connection uses the binder's SNDHWM/RCVHWM as they were at bind: a PULL bound
/// with RCVHWM 1000 that then sets RCVHWM 5 gives a later PUSH (SNDHWM 5) a window of
/// 1005."
#[test]
fn r9_binder_options_are_snapshot_at_bind() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1000).unwrap();
    pull.bind(&ep("r9")).unwrap();
    pull.set_rcvhwm(5).unwrap();
    // A second name bound after the change snapshots the new value.
    pull.bind(&ep("r9-after")).unwrap();

    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(5).unwrap();
    push.connect(&ep("r9")).unwrap();
    assert_eq!(fill(&push, 0, 5000), 1005);

    let push2 = sock(&ctx, SocketType::Push);
    push2.set_sndhwm(5).unwrap();
    push2.connect(&ep("r9-after")).unwrap();
    assert_eq!(fill(&push2, 0, 5000), 10);

    // The binder's SNDHWM is snapshot the same way (PAIR, binder to connector).
    let a = sock(&ctx, SocketType::Pair);
    a.set_sndhwm(3).unwrap();
    a.bind(&ep("r9-pair")).unwrap();
    a.set_sndhwm(50).unwrap();
    let b = sock(&ctx, SocketType::Pair);
    b.set_rcvhwm(2).unwrap();
    b.connect(&ep("r9-pair")).unwrap();
    // a has adopted the pipe only now (inside `fill`'s first call); its snapshot (3) is
    // what the connection uses, not the 50 set after bind.
    assert_eq!(fill(&a, 0, 500), 5);
}

/// H-1: "A connection's window in each direction is the sender's SNDHWM plus the
/// receiver's RCVHWM; 0 on either side means unlimited. Never more than the window is in
/// flight."
#[test]
fn h1_window_is_sum_of_hwms() {
    let ctx = Context::new();
    // ((a snd, a rcv), (b snd, b rcv), a->b window, b->a window); a binds, b connects;
    // window 0 means unlimited.
    type Row = ((usize, usize), (usize, usize), u64, u64);
    let table: [Row; 5] = [
        ((1, 1), (1, 1), 2, 2),
        ((2, 9), (4, 5), 7, 13),
        ((10, 3), (0, 6), 16, 0),
        ((0, 0), (7, 7), 0, 0),
        (
            (DEFAULT_HWM, DEFAULT_HWM),
            (DEFAULT_HWM, DEFAULT_HWM),
            2000,
            2000,
        ),
    ];
    const UNLIMITED_PROBE: u64 = 5000;
    for (i, (ah, bh, ab, ba)) in table.into_iter().enumerate() {
        let (a, b) = pair_with_hwm(
            &ctx,
            SocketType::Pair,
            ah,
            SocketType::Pair,
            bh,
            &format!("h1-{i}"),
        );
        let want = |w: u64| if w == 0 { UNLIMITED_PROBE } else { w };
        assert_eq!(fill(&a, 0, UNLIMITED_PROBE), want(ab), "row {i}: a -> b");
        assert_eq!(fill(&b, 0, UNLIMITED_PROBE), want(ba), "row {i}: b -> a");
        // Everything that was accepted arrives, in order, and nothing more.
        for n in 0..want(ab) {
            assert_eq!(num_of(&b.try_recv().unwrap()), n);
        }
        for n in 0..want(ba) {
            assert_eq!(num_of(&a.try_recv().unwrap()), n);
        }
        assert_empty(&a);
        assert_empty(&b);
    }
    // PUSH/PULL, with the PUSH bound this time.
    let (push, pull) = pair_with_hwm(
        &ctx,
        SocketType::Push,
        (3, 100),
        SocketType::Pull,
        (100, 8),
        "h1-push",
    );
    assert_eq!(fill(&push, 0, 1000), 11);
    for n in 0..11 {
        assert_eq!(recv_num(&pull), n);
    }
    assert_empty(&pull);
}

/// H-2: "While pending, the connector's window is its own SNDHWM; at the bind it becomes
/// the sum (SNDHWM 5, binder RCVHWM 7: five before the bind, seven more after)."
#[test]
fn h2_pending_window_then_sum_at_bind() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(5).unwrap();
    push.set_rcvhwm(1).unwrap(); // irrelevant to this direction
    push.connect(&ep("h2")).unwrap();
    assert_eq!(fill(&push, 0, 100), 5);
    let pull = sock(&ctx, SocketType::Pull);
    pull.set_rcvhwm(7).unwrap();
    pull.bind(&ep("h2")).unwrap();
    assert_eq!(fill(&push, 5, 100), 7);
    for i in 0..12 {
        assert_eq!(recv_num(&pull), i);
    }
    assert_empty(&pull);

    // PAIR, both directions: the binder's direction toward the connector only exists
    // from the bind on and uses the sum straight away.
    let b = sock(&ctx, SocketType::Pair);
    b.set_sndhwm(2).unwrap();
    b.set_rcvhwm(3).unwrap();
    b.connect(&ep("h2-pair")).unwrap();
    assert_eq!(fill(&b, 0, 100), 2);
    let a = sock(&ctx, SocketType::Pair);
    a.set_sndhwm(4).unwrap();
    a.set_rcvhwm(6).unwrap();
    a.bind(&ep("h2-pair")).unwrap();
    assert_eq!(fill(&b, 2, 100), 6, "b -> a: 2 + 6 in all");
    assert_eq!(fill(&a, 0, 100), 7, "a -> b: 4 + 3");
}

/// H-3: "The HWM counts whole messages, not frames or bytes."
#[test]
fn h3_hwm_counts_messages_not_frames() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1, 2),
        SocketType::Push,
        (2, 1),
        "h3",
    );
    let big = vec![7u8; 1 << 16];
    let msg = |i: u8| {
        let mut m = Message::from(vec![i]);
        for _ in 0..9 {
            m.push(big.clone());
        }
        m
    };
    for i in 0..4 {
        push.try_send(msg(i))
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    assert_eq!(
        push.try_send(msg(4)).unwrap_err().error(),
        &Error::WouldBlock
    );
    for i in 0..4 {
        let m = recv(&pull);
        assert_eq!(m.len(), 10);
        assert_eq!(&m.frames()[0][..], &[i]);
        assert_eq!(m.size(), 1 + 9 * big.len());
    }
    // One-byte messages: the same count fits.
    assert_eq!(fill(&push, 0, 100), 4);
}

/// H-4: "Defaults are 1000/1000; values above `MAX_HWM` (2^31-1) are
/// `Error::InvalidArgument`."
#[test]
fn h4_defaults_and_range() {
    assert_eq!(DEFAULT_HWM, 1000);
    assert_eq!(MAX_HWM, (1usize << 31) - 1);
    let ctx = Context::new();
    for ty in [SocketType::Pair, SocketType::Push, SocketType::Pull] {
        let s = sock(&ctx, ty);
        assert_eq!(s.sndhwm(), 1000, "{ty}");
        assert_eq!(s.rcvhwm(), 1000, "{ty}");
        for bad in [MAX_HWM + 1, usize::MAX] {
            assert!(
                matches!(s.set_sndhwm(bad), Err(Error::InvalidArgument(_))),
                "{ty} {bad}"
            );
            assert!(
                matches!(s.set_rcvhwm(bad), Err(Error::InvalidArgument(_))),
                "{ty} {bad}"
            );
            assert_eq!(s.sndhwm(), 1000, "a rejected value changes nothing");
            assert_eq!(s.rcvhwm(), 1000, "a rejected value changes nothing");
        }
        for good in [0, 1, MAX_HWM] {
            s.set_sndhwm(good).unwrap();
            s.set_rcvhwm(good).unwrap();
            assert_eq!(s.sndhwm(), good);
            assert_eq!(s.rcvhwm(), good);
        }
    }
    // The default window really is 1000 + 1000.
    let (pull, push) = common::pair_of(&ctx, SocketType::Pull, SocketType::Push, "h4");
    assert_eq!(fill(&push, 0, 10_000), 2000);
    drop(pull);
}

/// Reads one message from `s` and checks it is `want`.
#[track_caller]
fn read_expect(s: &inproc::Socket, want: u64) {
    assert_eq!(num_of(&s.try_recv().unwrap()), want);
}

/// H-5: "Credit goes back to a writer every LWM = ceil(window/2) messages read": window
/// 20 (10 + 10) unblocks after exactly 10 reads, then exactly 10 more fit; window 7
/// (3 + 4) after 4 reads, then 4 more. The pipe never runs empty before the check.
#[test]
fn h5_credit_returns_at_lwm() {
    let ctx = Context::new();
    for (i, (snd, rcv, lwm)) in [
        (10usize, 10usize, 10u64),
        (3, 4, 4),
        (1, 1, 1),
        (50, 51, 51),
    ]
    .into_iter()
    .enumerate()
    {
        let window = (snd + rcv) as u64;
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1000, rcv),
            SocketType::Push,
            (snd, 1000),
            &format!("h5-{i}"),
        );
        assert_eq!(fill(&push, 0, 10_000), window, "window {window}");
        let mut next_read = 0;
        let mut next_send = window;
        // Two credit rounds.
        for round in 0..2 {
            for k in 1..=lwm {
                read_expect(&pull, next_read);
                next_read += 1;
                let room = fill(&push, next_send, 10_000);
                next_send += room;
                if k < lwm {
                    assert_eq!(
                        room, 0,
                        "window {window}, round {round}: credit after only {k} reads"
                    );
                } else {
                    assert_eq!(
                        room, lwm,
                        "window {window}, round {round}: credit after {k} reads"
                    );
                }
            }
        }
        // Everything sent arrives in order.
        while next_read < next_send {
            read_expect(&pull, next_read);
            next_read += 1;
        }
        assert_empty(&pull);
    }
}

/// H-5: "... and whenever the reader finds the pipe empty." Window 20: 3 sent and read
/// (fewer than LWM), then a read that finds the pipe empty returns the credit: 20 fit
/// again, not 17.
#[test]
fn h5_credit_returns_when_reader_finds_pipe_empty() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1000, 10),
        SocketType::Push,
        (10, 1000),
        "h5-empty",
    );
    assert_eq!(fill(&push, 0, 3), 3);
    for i in 0..3 {
        read_expect(&pull, i);
    }
    assert_empty(&pull);
    assert_eq!(fill(&push, 3, 1000), 20);
}

/// H-6: "Credit that the reader has returned is visible to the very next send: a
/// non-blocking send never fails for lack of room that has been given back." Window
/// 1 + 1 (LWM 1): after each read, the next `try_send` must succeed, 10,000 times.
#[test]
fn h6_nonblocking_send_after_credit_never_would_block() {
    const N: u64 = 10_000;
    // One thread: fill, read one, the next try_send must succeed, and the window is then
    // full again.
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1000, 1),
        SocketType::Push,
        (1, 1000),
        "h6",
    );
    assert_eq!(fill(&push, 0, 10), 2);
    for i in 0..N {
        read_expect(&pull, i);
        push.try_send(num_msg(i + 2))
            .unwrap_or_else(|e| panic!("send {i}: {e} after credit was returned"));
        assert_eq!(
            push.try_send("extra").unwrap_err().error(),
            &Error::WouldBlock,
            "window of 2 exceeded"
        );
    }

    // Two threads: the reader reads, then tells the writer (a channel orders the read
    // before the send); the writer's very next try_send must succeed.
    with_hang_guard(Duration::from_secs(60), move || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1000, 1),
            SocketType::Push,
            (1, 1000),
            "h6-threads",
        );
        assert_eq!(fill(&push, 0, 10), 2);
        let (tx, rx) = mpsc::channel::<u64>();
        std::thread::scope(|s| {
            s.spawn(move || {
                for i in 0..N + 2 {
                    assert_eq!(recv_num(&pull), i);
                    tx.send(i).unwrap();
                }
            });
            for i in 0..N {
                assert_eq!(rx.recv_timeout(common::HANG).unwrap(), i);
                push.try_send(num_msg(i + 2))
                    .unwrap_or_else(|e| panic!("send {i}: {e} after the reader returned credit"));
            }
        });
    });
}

/// H-7: "Changing a HWM applies to connections already attached, with the correct sum;
/// lowering it never drops queued messages."
#[test]
fn h7_changing_hwm_live() {
    let ctx = Context::new();
    let (pull, push) = pair_with_hwm(
        &ctx,
        SocketType::Pull,
        (1000, 2),
        SocketType::Push,
        (2, 1000),
        "h7",
    );
    assert_eq!(fill(&push, 0, 100), 4, "2 + 2");
    // Raise the sender's SNDHWM: 5 + 2 = 7 (libzmq would give 9).
    push.set_sndhwm(5).unwrap();
    assert_eq!(fill(&push, 4, 100), 3, "5 + 2");
    // Raise the receiver's RCVHWM: 5 + 10 = 15 (libzmq would add the old 2).
    pull.set_rcvhwm(10).unwrap();
    assert_eq!(fill(&push, 7, 100), 8, "5 + 10");
    // Lower both: 1 + 1 = 2. The 15 queued messages stay and arrive in order.
    push.set_sndhwm(1).unwrap();
    pull.set_rcvhwm(1).unwrap();
    assert_eq!(fill(&push, 15, 100), 0);
    for i in 0..15 {
        read_expect(&pull, i);
    }
    assert_empty(&pull);
    assert_eq!(fill(&push, 15, 100), 2, "1 + 1 after lowering");
    // 0 on a live connection: unlimited.
    pull.set_rcvhwm(0).unwrap();
    assert_eq!(fill(&push, 17, 3000), 3000);

    // The same on the connector's receive side, with the binder sending (PAIR).
    let (a, b) = pair_with_hwm(
        &ctx,
        SocketType::Pair,
        (3, 1000),
        SocketType::Pair,
        (1000, 3),
        "h7-pair",
    );
    assert_eq!(fill(&a, 0, 100), 6);
    b.set_rcvhwm(4).unwrap();
    assert_eq!(fill(&a, 6, 100), 1, "3 + 4");
    a.set_sndhwm(6).unwrap();
    assert_eq!(fill(&a, 7, 100), 3, "6 + 4");
}

/// H-8: "100,000 messages through HWM 10 (both sides) and a slow receiver all arrive
/// exactly once and in order, and the sender never has more than the window in flight."
#[test]
fn h8_hundred_thousand_through_hwm_10_slow_receiver() {
    const N: u64 = 100_000;
    const WINDOW: u64 = 20;
    with_hang_guard(Duration::from_secs(120), || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (10, 10),
            SocketType::Push,
            (10, 10),
            "h8",
        );
        // Messages the sender has finished sending (incremented after `send` returns).
        let sent = AtomicU64::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..N {
                    push.send(num_msg(i)).unwrap();
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            });
            let mut busy = 0u64;
            for i in 0..N {
                assert_eq!(recv_num(&pull), i);
                // A send completes only with room in the window, and room only comes
                // from reads: completed sends <= reads + window.
                let done = sent.load(Ordering::SeqCst);
                assert!(
                    done <= i + 1 + WINDOW,
                    "{done} sent with only {} read",
                    i + 1
                );
                if i % 1000 == 0 {
                    // Be slow: busy work and a yield, so the sender runs into the window.
                    for k in 0..20_000u64 {
                        busy = std::hint::black_box(busy.wrapping_mul(31).wrapping_add(k));
                    }
                    std::thread::yield_now();
                }
            }
        });
        assert_eq!(sent.load(Ordering::SeqCst), N);
        assert_empty(&pull);
    });
}
