//! Integration tests of delivery and the PAIR/PUSH/PULL patterns: SPEC rules D-1 to D-7,
//! and T-1's blocked-recv-versus-send case.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::Barrier;
use std::time::Duration;

use common::{
    assert_empty, ep, fill, num_msg, num_of, pair_of, pair_with_hwm, recv, recv_num, sock,
    with_hang_guard,
};
use inproc::{Bytes, Context, Error, Message, Socket, SocketType};

/// A message tagged with its source and sequence number.
fn tagged(src: u64, seq: u64) -> Message {
    num_msg(src << 32 | seq)
}

/// `(src, seq)` of a [`tagged`] message.
fn untag(m: &Message) -> (u64, u64) {
    let n = num_of(m);
    (n >> 32, n & 0xFFFF_FFFF)
}

/// D-1: "Per connection and direction, delivery is FIFO with no loss and no duplication."
/// Four PUSH threads into one PULL through small windows, and a PAIR sending both ways at
/// once (one thread per direction and socket).
#[test]
fn d1_fifo_per_connection_threaded() {
    const SENDERS: u64 = 4;
    const N: u64 = 5_000;
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let pull = sock(&ctx, SocketType::Pull);
        pull.set_rcvhwm(7).unwrap();
        pull.bind(&ep("d1")).unwrap();
        let pushes: Vec<Socket> = (0..SENDERS)
            .map(|_| {
                let p = sock(&ctx, SocketType::Push);
                p.set_sndhwm(5).unwrap();
                p.connect(&ep("d1")).unwrap();
                p
            })
            .collect();
        std::thread::scope(|s| {
            for (src, push) in pushes.iter().enumerate() {
                s.spawn(move || {
                    for seq in 0..N {
                        push.send(tagged(src as u64, seq)).unwrap();
                    }
                });
            }
            let mut next = [0u64; SENDERS as usize];
            for _ in 0..SENDERS * N {
                let (src, seq) = untag(&recv(&pull));
                assert_eq!(
                    seq, next[src as usize],
                    "source {src}: out of order, lost or duplicated"
                );
                next[src as usize] += 1;
            }
            assert!(next.iter().all(|&n| n == N), "{next:?}");
        });
        assert_empty(&pull);

        // PAIR, both directions at once.
        let (a, b) = pair_with_hwm(
            &ctx,
            SocketType::Pair,
            (3, 4),
            SocketType::Pair,
            (2, 5),
            "d1-pair",
        );
        std::thread::scope(|s| {
            for (tx, rx, tag) in [(&a, &b, 1u64), (&b, &a, 2u64)] {
                s.spawn(move || {
                    for seq in 0..N {
                        tx.send(tagged(tag, seq)).unwrap();
                    }
                });
                s.spawn(move || {
                    for seq in 0..N {
                        assert_eq!(untag(&recv(rx)), (tag, seq));
                    }
                });
            }
        });
        assert_empty(&a);
        assert_empty(&b);
    });
}

/// A multipart message: frame 0 is `[id; 8]` little endian, then `k` frames `[id, j]`.
fn multipart(id: u64) -> Message {
    let k = 1 + id % 6;
    let mut m = Message::from(id.to_le_bytes().to_vec());
    for j in 0..k {
        let mut f = id.to_le_bytes().to_vec();
        f.push(j as u8);
        m.push(Bytes::from(f));
    }
    m
}

/// Checks a message made by [`multipart`] is whole; returns its id.
#[track_caller]
fn check_multipart(m: &Message) -> u64 {
    let id = u64::from_le_bytes(m.frames()[0][..].try_into().unwrap());
    assert_eq!(m, &multipart(id), "message {id} is not whole");
    id
}

/// D-2: "A multipart message is delivered whole or not at all."
#[test]
fn d2_multipart_is_atomic() {
    const SENDERS: u64 = 3;
    const N: u64 = 3_000;
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        // Threaded, through windows of 2 messages (of up to 7 frames).
        let pull = sock(&ctx, SocketType::Pull);
        pull.set_rcvhwm(1).unwrap();
        pull.bind(&ep("d2")).unwrap();
        let pushes: Vec<Socket> = (0..SENDERS)
            .map(|_| {
                let p = sock(&ctx, SocketType::Push);
                p.set_sndhwm(1).unwrap();
                p.connect(&ep("d2")).unwrap();
                p
            })
            .collect();
        std::thread::scope(|s| {
            for (src, push) in pushes.iter().enumerate() {
                s.spawn(move || {
                    for i in 0..N {
                        push.send(multipart(src as u64 * N + i)).unwrap();
                    }
                });
            }
            let mut next = [0u64; SENDERS as usize];
            for _ in 0..SENDERS * N {
                let id = check_multipart(&recv(&pull));
                let src = (id / N) as usize;
                assert_eq!(id % N, next[src]);
                next[src] += 1;
            }
        });

        // Not at all: a multipart message refused for lack of room comes back whole and
        // none of its frames is delivered.
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "d2-full",
        );
        push.send(multipart(1)).unwrap();
        push.send(multipart(2)).unwrap();
        let err = push.try_send(multipart(3)).unwrap_err();
        assert_eq!(err.message(), &multipart(3));
        assert_eq!(check_multipart(&recv(&pull)), 1);
        assert_eq!(check_multipart(&recv(&pull)), 2);
        assert_empty(&pull);

        // Whole even when the sender closes right after sending.
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "d2-close");
        for i in 0..20 {
            push.send(multipart(i)).unwrap();
        }
        push.close();
        for i in 0..20 {
            assert_eq!(check_multipart(&recv(&pull)), i);
        }
        assert_empty(&pull);
    });
}

/// D-3: "PUSH sends each message to the next connection with room, round-robin in attach
/// order."
#[test]
fn d3_push_round_robin_in_attach_order() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.bind(&ep("d3")).unwrap();
    let pulls: Vec<Socket> = (0..3)
        .map(|_| {
            let p = sock(&ctx, SocketType::Pull);
            p.connect(&ep("d3")).unwrap();
            p
        })
        .collect();
    for i in 0..9 {
        push.send(num_msg(i)).unwrap();
    }
    for (k, p) in pulls.iter().enumerate() {
        let got: Vec<u64> = (0..3).map(|_| recv_num(p)).collect();
        let k = k as u64;
        assert_eq!(got, [k, k + 3, k + 6], "connection {k}");
        assert_empty(p);
    }
}

/// D-3: "... skipping full ones." Connection 0 has a window of 2, the others 101: with 9
/// messages, 0 gets 0 and 3, then it is skipped.
#[test]
fn d3_push_skips_full_connections() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(1).unwrap();
    push.bind(&ep("d3-skip")).unwrap();
    let pulls: Vec<Socket> = [1, 100, 100]
        .iter()
        .map(|&rcv| {
            let p = sock(&ctx, SocketType::Pull);
            p.set_rcvhwm(rcv).unwrap();
            p.connect(&ep("d3-skip")).unwrap();
            p
        })
        .collect();
    for i in 0..9 {
        push.try_send(num_msg(i)).unwrap();
    }
    let expected: [&[u64]; 3] = [&[0, 3], &[1, 4, 6, 8], &[2, 5, 7]];
    for (k, p) in pulls.iter().enumerate() {
        let got: Vec<u64> = (0..expected[k].len()).map(|_| recv_num(p)).collect();
        assert_eq!(got, expected[k], "connection {k}");
        assert_empty(p);
    }
}

/// D-3: "With none able to take it, `send` blocks, `try_send` gives `WouldBlock`,
/// `send_timeout` gives `TimedOut`."
#[test]
fn d3_push_blocks_when_no_room() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "d3-block",
        );
        assert_eq!(fill(&push, 0, 10), 2);
        let e = push.try_send(num_msg(2)).unwrap_err();
        assert_eq!(e.error(), &Error::WouldBlock);
        let e = push
            .send_timeout(num_msg(2), Duration::from_millis(20))
            .unwrap_err();
        assert_eq!(e.error(), &Error::TimedOut);
        assert_eq!(num_of(e.message()), 2);
        push.set_send_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        assert_eq!(push.send(num_msg(2)).unwrap_err().error(), &Error::TimedOut);
        push.set_send_timeout(None).unwrap();
        // Nothing of the failed attempts was delivered.
        assert_eq!(recv_num(&pull), 0);
        assert_eq!(recv_num(&pull), 1);
        assert_empty(&pull);
        assert_eq!(fill(&push, 2, 10), 2);

        // A blocking send on a full window waits (it does not fail) and completes once
        // the reader makes room.
        std::thread::scope(|s| {
            let sender = s.spawn(|| push.send(num_msg(4)));
            assert_eq!(recv_num(&pull), 2);
            assert_eq!(recv_num(&pull), 3);
            assert_eq!(recv_num(&pull), 4);
            sender.join().unwrap().unwrap();
        });

        // No connection at all: the same three answers.
        let lonely = sock(&ctx, SocketType::Push);
        assert_eq!(
            lonely.try_send("x").unwrap_err().error(),
            &Error::WouldBlock
        );
        assert_eq!(
            lonely
                .send_timeout("x", Duration::from_millis(20))
                .unwrap_err()
                .error(),
            &Error::TimedOut
        );
    });
}

/// D-4: "PULL fair-queues: one message from each ready connection in turn."
#[test]
fn d4_pull_fair_queues() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("d4")).unwrap();
    let pushes: Vec<Socket> = (0..3)
        .map(|_| {
            let p = sock(&ctx, SocketType::Push);
            p.connect(&ep("d4")).unwrap();
            p
        })
        .collect();
    // Unequal amounts, sent source by source: 1 from source 0, 3 from 1, 4 from 2.
    for (src, count) in [(0u64, 1u64), (1, 3), (2, 4)] {
        for seq in 0..count {
            pushes[src as usize].send(tagged(src, seq)).unwrap();
        }
    }
    let got: Vec<(u64, u64)> = (0..8).map(|_| untag(&recv(&pull))).collect();
    assert_eq!(
        got,
        [
            (0, 0),
            (1, 0),
            (2, 0),
            (1, 1),
            (2, 1),
            (1, 2),
            (2, 2),
            (2, 3)
        ]
    );
    assert_empty(&pull);

    // A source that becomes ready again rejoins the rotation.
    pushes[0].send(tagged(0, 1)).unwrap();
    pushes[2].send(tagged(2, 4)).unwrap();
    let got: Vec<(u64, u64)> = (0..2).map(|_| untag(&recv(&pull))).collect();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [(0, 1), (2, 4)]);
}

/// D-5: "PAIR has exactly one peer. A PAIR that has a peer refuses further connections:
/// the refused connector's `send` and `recv` fail with `Error::HostUnreachable`; messages
/// it queued before the refusal are discarded. A PAIR that has a peer and calls `connect`
/// gets `Error::InvalidState`. The old peer is kept until it has closed and everything it
/// sent has been read."
#[test]
fn d5_pair_refuses_second_peer() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "d5");
        b.send("from b").unwrap();
        let c = sock(&ctx, SocketType::Pair);
        c.connect(&ep("d5")).unwrap();
        // c may queue before a has looked at the connection; that message is discarded.
        c.send("from c, early").unwrap();
        // a adopts (and refuses) c's connection on its next call.
        assert_eq!(recv(&a), Message::from("from b"));
        assert_empty(&a);
        assert_eq!(a.connection_count(), 1);
        // c's calls now fail visibly, non-blocking and blocking alike.
        let e = c.try_send("x").unwrap_err();
        assert_eq!(e.error(), &Error::HostUnreachable);
        assert_eq!(e.message(), &Message::from("x"));
        assert_eq!(c.send("y").unwrap_err().error(), &Error::HostUnreachable);
        assert_eq!(c.try_recv(), Err(Error::HostUnreachable));
        assert_eq!(c.recv(), Err(Error::HostUnreachable));

        // A PAIR with a peer cannot connect: both the binder and the connector.
        let other = sock(&ctx, SocketType::Pair);
        other.bind(&ep("d5-other")).unwrap();
        assert_eq!(a.connect(&ep("d5-other")), Err(Error::InvalidState));
        assert_eq!(b.connect(&ep("d5-other")), Err(Error::InvalidState));
        assert_eq!(other.connection_count(), 0);

        // The old peer is kept while it has unread messages, even after it closed.
        b.send("last from b").unwrap();
        b.close();
        let d = sock(&ctx, SocketType::Pair);
        d.connect(&ep("d5")).unwrap();
        assert_eq!(a.connection_count(), 1, "a adopted and refused d");
        assert_eq!(
            d.try_send("d").unwrap_err().error(),
            &Error::HostUnreachable
        );
        assert_eq!(recv(&a), Message::from("last from b"));
        assert_empty(&a);
        // Now a is free: the next connector is accepted.
        let e = sock(&ctx, SocketType::Pair);
        e.connect(&ep("d5")).unwrap();
        e.send("from e").unwrap();
        assert_eq!(recv(&a), Message::from("from e"));
        a.send("to e").unwrap();
        assert_eq!(recv(&e), Message::from("to e"));
        assert_eq!(c.try_recv(), Err(Error::HostUnreachable), "c stays refused");
    });
}

/// D-6: "A bound socket queues nothing before it has a peer: a bound PUSH or PAIR
/// without peers blocks (`try_send`: `WouldBlock`)."
#[test]
fn d6_bound_socket_without_peer_would_block() {
    let ctx = Context::new();
    for ty in [SocketType::Push, SocketType::Pair] {
        let name = format!("d6-{ty}");
        let s = sock(&ctx, ty);
        s.bind(&ep(&name)).unwrap();
        let e = s.try_send("early").unwrap_err();
        assert_eq!(e.error(), &Error::WouldBlock, "{ty}");
        assert_eq!(e.into_message(), Message::from("early"));
        assert_eq!(
            s.send_timeout("early", Duration::from_millis(10))
                .unwrap_err()
                .error(),
            &Error::TimedOut
        );
        // A peer that connects afterwards finds nothing queued.
        let peer = sock(
            &ctx,
            if ty == SocketType::Push {
                SocketType::Pull
            } else {
                SocketType::Pair
            },
        );
        peer.connect(&ep(&name)).unwrap();
        assert_empty(&peer);
        s.send("late").unwrap();
        assert_eq!(recv(&peer), Message::from("late"));
        assert_empty(&peer);
    }
}

/// D-7: "PUSH cannot receive and PULL cannot send: `Error::NotSupported`."
#[test]
fn d7_unsupported_directions() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "d7");
    push.send("queued").unwrap();
    // Blocking calls fail at once too (no hang).
    assert_eq!(push.recv(), Err(Error::NotSupported));
    assert_eq!(push.try_recv(), Err(Error::NotSupported));
    assert_eq!(
        push.recv_timeout(Duration::from_secs(60)),
        Err(Error::NotSupported)
    );
    for e in [
        pull.send("m").unwrap_err(),
        pull.try_send("m").unwrap_err(),
        pull.send_timeout("m", Duration::from_secs(60)).unwrap_err(),
    ] {
        assert_eq!(e.error(), &Error::NotSupported);
        assert_eq!(e.message(), &Message::from("m"));
    }
    // The supported directions still work.
    assert_eq!(recv(&pull), Message::from("queued"));
}

/// T-1: "A thread blocked in `recv` does not block another thread's `send` on the same
/// socket."
#[test]
fn t1_blocked_recv_does_not_block_send() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "t1");
        for i in 0..100u64 {
            let ready = Barrier::new(2);
            std::thread::scope(|s| {
                let receiver = s.spawn(|| {
                    ready.wait();
                    // Blocks: nothing is sent to `a` until `a` itself has sent.
                    a.recv_timeout(common::HANG)
                });
                ready.wait();
                // The same socket sends while its other thread is (about to be) blocked.
                a.send(num_msg(i)).unwrap();
                assert_eq!(recv_num(&b), i);
                b.send(num_msg(1000 + i)).unwrap();
                assert_eq!(num_of(&receiver.join().unwrap().unwrap()), 1000 + i);
            });
        }
    });
}

/// F-8: `recv_string` gives the text of a one-frame UTF-8 message and gives any other
/// message back whole; a multipart message can be taken apart by value.
#[test]
fn f8_recv_string_and_frames_by_value() {
    let ctx = Context::new();
    let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "f8");
    b.send("text").unwrap();
    b.send(&[0xff_u8, 0xfe][..]).unwrap();
    let mut multi = Message::from("body");
    multi.push_front("topic");
    b.send(multi.clone()).unwrap();
    assert_eq!(a.recv_string().unwrap(), Ok(String::from("text")));
    assert_eq!(
        a.recv_string().unwrap(),
        Err(Message::from(&[0xff_u8, 0xfe][..]))
    );
    let got = a.recv_string().unwrap().unwrap_err();
    assert_eq!(got, multi);
    assert_eq!(got.as_str(), Ok("topic"));
    let parts: Vec<_> = got.into_iter().collect();
    assert_eq!(parts, ["topic", "body"]);
    drop(b);
    a.set_recv_timeout(Some(Duration::ZERO)).unwrap();
    assert_eq!(a.recv_string(), Err(Error::WouldBlock));
}
