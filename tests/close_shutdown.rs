//! Integration tests of closing sockets and shutting contexts down: SPEC rules K-1 to K-4.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{
    assert_empty, counted_msg, dropped, ep, fill, num_msg, pair_of, pair_with_hwm, recv, recv_num,
    sock, with_hang_guard,
};
use inproc::{Context, Error, Message, Socket, SocketType};

/// K-1: "Closing a socket (close or drop) never blocks. What it already sent stays
/// readable by its peers; what was queued toward it is dropped; its peers then see the
/// connection gone (PAIR: no peer; PUSH: skips it)."
#[test]
fn k1_close_keeps_sent_drops_received() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let drops = Arc::new(AtomicUsize::new(0));

        // PAIR: b closes with a message from a unread and a full window toward a.
        let (a, b) = pair_with_hwm(
            &ctx,
            SocketType::Pair,
            (1000, 1),
            SocketType::Pair,
            (1, 1000),
            "k1-pair",
        );
        a.send(counted_msg(&drops, &[b"to b"])).unwrap();
        assert_eq!(fill(&b, 0, 100), 2);
        b.close(); // never blocks, even with a full window
        assert_eq!(recv_num(&a), 0);
        assert_eq!(recv_num(&a), 1);
        assert_empty(&a);
        assert_eq!(dropped(&drops), 1, "what was queued toward b was dropped");
        assert_eq!(a.connection_count(), 0, "a has no peer");
        assert_eq!(a.try_send("x").unwrap_err().error(), &Error::WouldBlock);
        // Having no peer, a accepts a new one.
        let c = sock(&ctx, SocketType::Pair);
        c.connect(&ep("k1-pair")).unwrap();
        c.send("from c").unwrap();
        assert_eq!(recv(&a), Message::from("from c"));

        // PUSH with two PULLs: one closes with messages unread; the PUSH skips it.
        let push = sock(&ctx, SocketType::Push);
        push.bind(&ep("k1-push")).unwrap();
        let p0 = sock(&ctx, SocketType::Pull);
        p0.connect(&ep("k1-push")).unwrap();
        let p1 = sock(&ctx, SocketType::Pull);
        p1.connect(&ep("k1-push")).unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        for i in 0..4u8 {
            push.send(counted_msg(&drops, &[&[i]])).unwrap();
        }
        drop(p0); // held 0 and 2
        for i in 4..8u8 {
            push.send(counted_msg(&drops, &[&[i]])).unwrap();
        }
        assert_eq!(push.connection_count(), 1, "the closed connection is gone");
        assert_eq!(
            dropped(&drops),
            2,
            "the two messages queued toward p0 were dropped"
        );
        let got: Vec<u8> = (0..6).map(|_| recv(&p1).frames()[0][0]).collect();
        assert_eq!(
            got,
            [1, 3, 4, 5, 6, 7],
            "everything after the close went to p1"
        );
        assert_empty(&p1);

        // PULL: what a closed PUSH sent stays readable.
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "k1-pull");
        for i in 0..3 {
            push.send(num_msg(i)).unwrap();
        }
        push.close();
        for i in 0..3 {
            assert_eq!(recv_num(&pull), i);
        }
        assert_empty(&pull);
        assert_eq!(pull.connection_count(), 0);
    });
}

/// K-2: "`Context::shutdown` makes every blocked call on the context's sockets return
/// `Error::Terminated` promptly." Blocked sends (no peer, full window, with a timeout),
/// blocked receives (no peer, empty pipe, with a timeout); shutdown may come just before
/// or after they block: either way they end with `Terminated`, and a send gives its
/// message back.
#[test]
fn k2_shutdown_wakes_blocked_calls() {
    with_hang_guard(Duration::from_secs(60), || {
        for round in 0..20 {
            let ctx = Context::new();
            let lonely_push = sock(&ctx, SocketType::Push);
            lonely_push.bind(&ep("k2-lonely")).unwrap();
            let lonely_pull = sock(&ctx, SocketType::Pull);
            lonely_pull.bind(&ep("k2-lonely-pull")).unwrap();
            let (a, b) = pair_with_hwm(
                &ctx,
                SocketType::Pair,
                (1, 1),
                SocketType::Pair,
                (1, 1),
                "k2-pair",
            );
            assert_eq!(fill(&b, 0, 10), 2);
            let timed = sock(&ctx, SocketType::Push);
            timed
                .set_send_timeout(Some(Duration::from_secs(600)))
                .unwrap();

            const CALLS: usize = 5;
            let ready = Barrier::new(CALLS + 1);
            let send = |what: &'static str, on: &Socket, m: &'static str| {
                ready.wait();
                let e = on.send(m).unwrap_err();
                assert_eq!(e.error(), &Error::Terminated, "{what}, round {round}");
                assert_eq!(e.message(), &Message::from(m), "the message comes back");
            };
            std::thread::scope(|s| {
                let (ready, send) = (&ready, &send);
                let h = [
                    s.spawn(|| send("PUSH without peer", &lonely_push, "p")),
                    s.spawn(|| send("PAIR with full window", &b, "b")),
                    s.spawn(|| send("PUSH with send timeout", &timed, "t")),
                    s.spawn(|| {
                        ready.wait();
                        assert_eq!(
                            lonely_pull.recv(),
                            Err(Error::Terminated),
                            "PULL without peer"
                        );
                    }),
                    s.spawn(|| {
                        ready.wait();
                        // a sends nothing: b's receive blocks (while b's send blocks too).
                        assert_eq!(
                            b.recv_timeout(Duration::from_secs(600)),
                            Err(Error::Terminated),
                            "PAIR recv"
                        );
                    }),
                ];
                ready.wait();
                if round % 2 == 0 {
                    ctx.shutdown();
                } else {
                    // Through a clone: same context.
                    ctx.clone().shutdown();
                }
                for h in h {
                    h.join().unwrap();
                }
            });
            assert!(ctx.is_shutdown());
            // close/drop after shutdown work.
            a.close();
            drop(b);
        }
    });
}

/// K-2: "... and every later call too, socket creation included; `close`/drop always
/// work."
#[test]
fn k2_calls_after_shutdown_are_terminated() {
    let ctx = Context::new();
    let clone = ctx.clone();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "k2-after");
    push.send("queued").unwrap();
    let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "k2-after-pair");
    b.send("queued").unwrap();
    let pending = sock(&ctx, SocketType::Push);
    pending.connect(&ep("k2-after-pending")).unwrap();
    assert!(!ctx.is_shutdown());

    ctx.shutdown();
    ctx.shutdown(); // idempotent
    assert!(ctx.is_shutdown());
    assert!(clone.is_shutdown());

    for ty in [SocketType::Pair, SocketType::Push, SocketType::Pull] {
        assert_eq!(ctx.socket(ty).unwrap_err(), Error::Terminated, "{ty}");
        assert_eq!(clone.socket(ty).unwrap_err(), Error::Terminated, "{ty}");
    }
    for s in [&pull, &push, &a, &b, &pending] {
        assert_eq!(s.bind(&ep("k2-new")), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.connect(&ep("k2-after")), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.unbind(&ep("k2-after")), Err(Error::Terminated), "{s:?}");
        assert_eq!(
            s.disconnect(&ep("k2-after-pending")),
            Err(Error::Terminated),
            "{s:?}"
        );
        assert_eq!(s.set_sndhwm(5), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.set_rcvhwm(5), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.set_send_timeout(None), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.set_recv_timeout(None), Err(Error::Terminated), "{s:?}");
    }
    // Sends and receives, even with messages queued.
    for s in [&push, &a, &b, &pending] {
        for e in [
            s.send("m").unwrap_err(),
            s.try_send("m").unwrap_err(),
            s.send_timeout("m", Duration::from_secs(60)).unwrap_err(),
        ] {
            assert_eq!(e.error(), &Error::Terminated, "{s:?}");
            assert_eq!(e.message(), &Message::from("m"));
        }
    }
    for s in [&pull, &a] {
        assert_eq!(s.recv(), Err(Error::Terminated), "{s:?}");
        assert_eq!(s.try_recv(), Err(Error::Terminated), "{s:?}");
        assert_eq!(
            s.recv_timeout(Duration::from_secs(60)),
            Err(Error::Terminated),
            "{s:?}"
        );
    }
    // close and drop work, in any order with the context.
    pull.close();
    drop(ctx);
    push.close();
    drop(a);
    drop(clone);
    drop(b);
    pending.close();
}

/// Builds a context full of queued messages made of counted frames (attached, pending,
/// refused, full windows, both directions); returns the sockets and how many frames were
/// made.
fn populate(ctx: &Context, drops: &Arc<AtomicUsize>) -> (Vec<Socket>, usize) {
    let mut made = 0;
    let mut msg = |frames: &[&[u8]]| {
        made += frames.len();
        counted_msg(drops, frames)
    };
    let mut keep = Vec::new();

    // PUSH -> PULL, attached, window full.
    let (pull, push) = pair_with_hwm(
        ctx,
        SocketType::Pull,
        (1, 2),
        SocketType::Push,
        (2, 1),
        "k3-pushpull",
    );
    for _ in 0..4 {
        push.try_send(msg(&[b"a", b"b"])).unwrap();
    }
    let full = push.try_send(msg(&[b"full"])).unwrap_err();
    assert_eq!(full.error(), &Error::WouldBlock);
    drop(full);
    keep.extend([pull, push]);

    // PAIR, both directions, one message read.
    let (a, b) = pair_of(ctx, SocketType::Pair, SocketType::Pair, "k3-pair");
    for _ in 0..3 {
        a.send(msg(&[b"x", b"y", b"z"])).unwrap();
        b.send(msg(&[b"w"])).unwrap();
    }
    drop(b.recv().unwrap());

    // A connector refused by the busy PAIR, with a message queued before the refusal.
    let refused = sock(ctx, SocketType::Pair);
    refused.connect(&ep("k3-pair")).unwrap();
    refused.send(msg(&[b"refused"])).unwrap();
    assert_eq!(a.connection_count(), 1);
    keep.extend([a, b, refused]);

    // Pending connections, never bound: one whose connector is alive, one whose
    // connector closed (its messages now live only in the registry).
    let pending = sock(ctx, SocketType::Push);
    pending.connect(&ep("k3-pending")).unwrap();
    for _ in 0..3 {
        pending.send(msg(&[b"p"])).unwrap();
    }
    keep.push(pending);
    let gone = sock(ctx, SocketType::Pair);
    gone.connect(&ep("k3-pending-gone")).unwrap();
    gone.send(msg(&[b"g1", b"g2"])).unwrap();
    gone.close();
    // A second connector to the same pending name, so the registry entry was replaced.
    let second = sock(ctx, SocketType::Push);
    second.connect(&ep("k3-pending-gone")).unwrap();
    second.send(msg(&[b"s"])).unwrap();
    keep.push(second);

    // Unbound, still connected, with messages both ways.
    let (ub, uc) = pair_of(ctx, SocketType::Pair, SocketType::Pair, "k3-unbound");
    ub.send(msg(&[b"u"])).unwrap();
    uc.send(msg(&[b"v"])).unwrap();
    ub.unbind(&ep("k3-unbound")).unwrap();
    keep.extend([ub, uc]);

    assert!(dropped(drops) < made, "some frames must still be queued");
    (keep, made)
}

/// K-3: "Shutdown never hangs and nothing leaks: once the context and its sockets are
/// dropped, every queued message is freed." Without shutdown, sockets dropped before and
/// after the context.
#[test]
fn k3_nothing_leaks() {
    // Sockets first, then the context.
    let drops = Arc::new(AtomicUsize::new(0));
    let ctx = Context::new();
    let (sockets, made) = populate(&ctx, &drops);
    drop(sockets);
    drop(ctx);
    assert_eq!(dropped(&drops), made);

    // The context first, then the sockets, in reverse order.
    let drops = Arc::new(AtomicUsize::new(0));
    let ctx = Context::new();
    let (mut sockets, made) = populate(&ctx, &drops);
    drop(ctx);
    while let Some(s) = sockets.pop() {
        s.close();
    }
    assert_eq!(dropped(&drops), made);
}

/// K-3, after a shutdown: "Shutdown never hangs (nothing waits for peers, there is no
/// linger) and nothing leaks."
#[test]
fn k3_nothing_leaks_after_shutdown() {
    with_hang_guard(Duration::from_secs(60), || {
        let drops = Arc::new(AtomicUsize::new(0));
        let ctx = Context::new();
        let (sockets, made) = populate(&ctx, &drops);
        ctx.shutdown(); // returns although every pipe still holds messages
        drop(ctx);
        let mut sockets = sockets;
        // Drop in an interleaved order.
        let mut i = 0;
        while !sockets.is_empty() {
            i = (i + 3) % sockets.len();
            drop(sockets.swap_remove(i));
        }
        assert_eq!(dropped(&drops), made);

        // With a thread blocked in send on a counted message during the shutdown.
        let drops = Arc::new(AtomicUsize::new(0));
        let ctx = Context::new();
        let lonely = sock(&ctx, SocketType::Push);
        std::thread::scope(|s| {
            let h = s.spawn(|| lonely.send(counted_msg(&drops, &[b"blocked"])));
            // Before or after the send blocks: either way it ends with Terminated.
            ctx.shutdown();
            let e = h.join().unwrap().unwrap_err();
            assert_eq!(e.error(), &Error::Terminated);
            assert_eq!(dropped(&drops), 0, "the message came back, not freed");
            drop(e);
        });
        drop(lonely);
        drop(ctx);
        assert_eq!(dropped(&drops), 1);
    });
}

/// K-4: `terminate` shuts the context down, then waits until every socket (a monitor's
/// internal PAIR included) is closed or dropped: sockets owned by other threads see
/// `Terminated`, drop, and then `terminate` returns; a context without live sockets
/// returns at once; socket creation after it fails.
#[test]
fn k4_terminate_waits_until_every_socket_is_dropped() {
    use std::sync::atomic::{AtomicBool, Ordering};
    with_hang_guard(Duration::from_secs(60), || {
        for round in 0..20 {
            let ctx = Context::new();
            assert_eq!(ctx.socket_count(), 0);
            let pull = sock(&ctx, SocketType::Pull);
            pull.bind(&ep("k4")).unwrap();
            let push = sock(&ctx, SocketType::Push);
            push.connect(&ep("k4")).unwrap();
            let mon = sock(&ctx, SocketType::Pair);
            mon.bind(&ep("k4-mon")).unwrap();
            push.monitor(&ep("k4-mon")).unwrap();
            assert_eq!(ctx.socket_count(), 4, "the monitor's PAIR counts");
            drop(mon);
            assert_eq!(ctx.socket_count(), 3);
            let released = Arc::new(AtomicBool::new(false));
            let (r1, r2) = (released.clone(), released.clone());
            // One thread blocks in recv until the shutdown; the other waits for a message
            // that never comes, then lets its socket go after the first one did.
            let t1 = std::thread::spawn(move || {
                assert_eq!(pull.recv(), Err(Error::Terminated));
                drop(pull);
            });
            let t2 = std::thread::spawn(move || {
                t1.join().unwrap();
                r2.store(true, Ordering::SeqCst);
                drop(push); // the last socket (and its monitor's PAIR)
            });
            ctx.terminate();
            assert!(
                r1.load(Ordering::SeqCst),
                "terminate returned early, round {round}"
            );
            assert_eq!(ctx.socket_count(), 0);
            assert_eq!(ctx.socket(SocketType::Pair).unwrap_err(), Error::Terminated);
            assert_eq!(ctx.socket_count(), 0, "a refused creation leaves no count");
            ctx.terminate(); // idempotent, nothing to wait for
            t2.join().unwrap();
        }
        let ctx = Context::new();
        drop(sock(&ctx, SocketType::Rep));
        ctx.terminate();
        assert!(ctx.is_shutdown());
    });
}
