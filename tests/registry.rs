//! Integration tests of the endpoint registry: SPEC rules R-1 to R-8 (R-9 is in `hwm.rs`).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use common::{assert_empty, ep, num_msg, num_of, pair_of, recv, recv_num, sock, with_hang_guard};
use inproc::{Context, Error, Message, SocketType};

/// R-1: "One binder per name per context: a second bind, by any socket including the
/// binder, fails with `Error::AddrInUse`."
#[test]
fn r1_second_bind_is_addr_in_use() {
    let ctx = Context::new();
    let a = sock(&ctx, SocketType::Pull);
    a.bind(&ep("r1")).unwrap();
    // The binder itself.
    assert_eq!(a.bind(&ep("r1")), Err(Error::AddrInUse));
    // Every other socket type.
    for ty in [SocketType::Pull, SocketType::Push, SocketType::Pair] {
        let b = sock(&ctx, ty);
        assert_eq!(b.bind(&ep("r1")), Err(Error::AddrInUse), "{ty}");
    }
    assert_eq!(ctx.endpoint_count(), 1);
    // The first binder still owns it: a connect reaches it.
    let push = sock(&ctx, SocketType::Push);
    push.connect(&ep("r1")).unwrap();
    push.send("to a").unwrap();
    assert_eq!(recv(&a), Message::from("to a"));
}

/// R-1 / E-4: "Names compare byte for byte: `inproc://a`, `inproc://a/` and `inproc://A`
/// are three names."
#[test]
fn r1_names_compare_byte_for_byte() {
    let ctx = Context::new();
    let names = ["a", "a/", "A", "a ", "é", "e\u{301}"];
    let pulls: Vec<_> = names
        .iter()
        .map(|n| {
            let p = sock(&ctx, SocketType::Pull);
            p.bind(&ep(n)).unwrap_or_else(|e| panic!("bind {n:?}: {e}"));
            p
        })
        .collect();
    assert_eq!(ctx.endpoint_count(), names.len());
    let pushes: Vec<_> = names
        .iter()
        .map(|n| {
            let p = sock(&ctx, SocketType::Push);
            p.connect(&ep(n)).unwrap();
            p.send(*n).unwrap();
            p
        })
        .collect();
    // Each binder gets exactly the message sent to its own name.
    for (n, p) in names.iter().zip(&pulls) {
        assert_eq!(recv(p), Message::from(*n));
        assert_empty(p);
    }
    drop(pushes);
}

/// "A socket may bind many names; each is independent."
#[test]
fn r2_socket_binds_many_names() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    for n in ["r2-0", "r2-1", "r2-2"] {
        pull.bind(&ep(n)).unwrap();
    }
    assert_eq!(ctx.endpoint_count(), 3);
    let pushes: Vec<_> = (0..3u64)
        .map(|i| {
            let p = sock(&ctx, SocketType::Push);
            p.connect(&ep(&format!("r2-{i}"))).unwrap();
            p.send(num_msg(i)).unwrap();
            p
        })
        .collect();
    let mut got: Vec<u64> = (0..3).map(|_| recv_num(&pull)).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2]);

    // Unbinding one leaves the others bound.
    pull.unbind(&ep("r2-1")).unwrap();
    let other = sock(&ctx, SocketType::Pull);
    assert_eq!(other.bind(&ep("r2-0")), Err(Error::AddrInUse));
    assert_eq!(other.bind(&ep("r2-2")), Err(Error::AddrInUse));
    other.bind(&ep("r2-1")).unwrap();
    // And a connect to a still-bound name reaches the first socket.
    let p = sock(&ctx, SocketType::Push);
    p.connect(&ep("r2-2")).unwrap();
    p.send(num_msg(7)).unwrap();
    assert_eq!(recv_num(&pull), 7);
    assert_empty(&other);
    drop(pushes);
}

/// "`unbind` frees the name at once: a bind right after it succeeds."
#[test]
fn r3_unbind_frees_name_at_once() {
    let ctx = Context::new();
    let a = sock(&ctx, SocketType::Pull);
    let b = sock(&ctx, SocketType::Pull);
    for i in 0..200 {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        first.bind(&ep("r3")).unwrap();
        first.unbind(&ep("r3")).unwrap();
        second
            .bind(&ep("r3"))
            .unwrap_or_else(|e| panic!("iteration {i}: bind after unbind: {e}"));
        second.unbind(&ep("r3")).unwrap();
    }
    assert_eq!(ctx.endpoint_count(), 0);
    // After the unbind, a connect reaches the new binder, not the old one.
    a.bind(&ep("r3")).unwrap();
    a.unbind(&ep("r3")).unwrap();
    b.bind(&ep("r3")).unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.connect(&ep("r3")).unwrap();
    push.send("new").unwrap();
    assert_eq!(recv(&b), Message::from("new"));
    assert_empty(&a);
}

/// R-4: "`close` (or drop) frees the socket's names at once: a bind right after a close
/// always succeeds."
#[test]
fn r4_close_frees_names_at_once() {
    let ctx = Context::new();
    for i in 0..200 {
        let a = sock(&ctx, SocketType::Pair);
        a.bind(&ep("r4-x")).unwrap();
        a.bind(&ep("r4-y")).unwrap();
        // A connected peer must not keep the names alive either.
        let peer = sock(&ctx, SocketType::Pair);
        peer.connect(&ep("r4-x")).unwrap();
        if i % 2 == 0 {
            a.close();
        } else {
            drop(a);
        }
        assert_eq!(ctx.endpoint_count(), 0, "iteration {i}");
        let b = sock(&ctx, SocketType::Pull);
        b.bind(&ep("r4-x"))
            .unwrap_or_else(|e| panic!("iteration {i}: bind after close: {e}"));
        b.bind(&ep("r4-y"))
            .unwrap_or_else(|e| panic!("iteration {i}: bind after close: {e}"));
    }
}

/// "A connect right after a close never reaches the closed socket: it goes pending."
#[test]
fn r4_connect_after_close_goes_pending() {
    // A connect that reached the closed socket could also retry forever: guard it.
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        for i in 0..100u64 {
            let name = format!("r4-pending-{i}");
            let old = sock(&ctx, SocketType::Pull);
            old.bind(&ep(&name)).unwrap();
            old.close();
            let push = sock(&ctx, SocketType::Push);
            push.connect(&ep(&name)).unwrap();
            // Pending: the name is in the registry again, held by the connection.
            assert_eq!(ctx.endpoint_count(), 1, "iteration {i}");
            // The pending connection takes messages (up to SNDHWM)...
            push.try_send(num_msg(i)).unwrap();
            // ...and delivers them to the next binder: nothing was lost to the closed socket.
            let new = sock(&ctx, SocketType::Pull);
            new.bind(&ep(&name)).unwrap();
            assert_eq!(recv_num(&new), i);
            assert_eq!(new.connection_count(), 1);
        }
    });
}

/// R-5: "`unbind` keeps existing connections working in both directions, with nothing
/// queued lost."
#[test]
fn r5_unbind_keeps_connections() {
    let ctx = Context::new();
    let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "r5");
    for i in 0..5 {
        a.send(num_msg(i)).unwrap();
        b.send(num_msg(100 + i)).unwrap();
    }
    a.unbind(&ep("r5")).unwrap();
    assert_eq!(ctx.endpoint_count(), 0);
    // Queued messages survive, both ways, in order.
    for i in 0..5 {
        assert_eq!(recv_num(&b), i);
        assert_eq!(recv_num(&a), 100 + i);
    }
    // And the connection still carries new messages both ways.
    a.send(num_msg(7)).unwrap();
    b.send(num_msg(8)).unwrap();
    assert_eq!(recv_num(&b), 7);
    assert_eq!(recv_num(&a), 8);
    assert_eq!(a.connection_count(), 1);
    assert_eq!(b.connection_count(), 1);
    // The name itself is free: another socket binds it, and a new connect goes there.
    let c = sock(&ctx, SocketType::Pair);
    c.bind(&ep("r5")).unwrap();
    let d = sock(&ctx, SocketType::Pair);
    d.connect(&ep("r5")).unwrap();
    d.send("to c").unwrap();
    assert_eq!(recv(&c), Message::from("to c"));
    assert_empty(&a);
}

/// R-6: "`unbind` of a name this socket has not bound, and `disconnect` of an endpoint it
/// has no connection to, give `Error::NoSuchEndpoint`. `unbind` only unbinds and
/// `disconnect` only disconnects."
#[test]
fn r6_unknown_unbind_and_disconnect_are_no_such_endpoint() {
    let ctx = Context::new();
    let s = sock(&ctx, SocketType::Push);
    // Never bound / never connected.
    assert_eq!(s.unbind(&ep("r6-none")), Err(Error::NoSuchEndpoint));
    assert_eq!(s.disconnect(&ep("r6-none")), Err(Error::NoSuchEndpoint));

    // Bound by another socket: not ours to unbind.
    let owner = sock(&ctx, SocketType::Pull);
    owner.bind(&ep("r6-owned")).unwrap();
    assert_eq!(s.unbind(&ep("r6-owned")), Err(Error::NoSuchEndpoint));
    assert_eq!(ctx.endpoint_count(), 1, "the failed unbind changed nothing");

    // `disconnect` does not unbind.
    s.bind(&ep("r6-bound")).unwrap();
    assert_eq!(s.disconnect(&ep("r6-bound")), Err(Error::NoSuchEndpoint));
    let probe = sock(&ctx, SocketType::Push);
    assert_eq!(
        probe.bind(&ep("r6-bound")),
        Err(Error::AddrInUse),
        "still bound"
    );

    // `unbind` does not disconnect.
    s.connect(&ep("r6-owned")).unwrap();
    assert_eq!(s.unbind(&ep("r6-owned")), Err(Error::NoSuchEndpoint));
    s.send("still connected").unwrap();
    assert_eq!(recv(&owner), Message::from("still connected"));

    // A real disconnect works once; the second is NoSuchEndpoint.
    s.disconnect(&ep("r6-owned")).unwrap();
    assert_eq!(s.disconnect(&ep("r6-owned")), Err(Error::NoSuchEndpoint));
    // A real unbind works once; the second is NoSuchEndpoint.
    s.unbind(&ep("r6-bound")).unwrap();
    assert_eq!(s.unbind(&ep("r6-bound")), Err(Error::NoSuchEndpoint));

    // disconnect succeeds for a connection whose peer already closed.
    let peer = sock(&ctx, SocketType::Pull);
    peer.bind(&ep("r6-gone")).unwrap();
    s.connect(&ep("r6-gone")).unwrap();
    peer.close();
    // Let the PUSH notice the peer is gone (a send drops the dead pipe).
    assert_eq!(s.try_send("x").unwrap_err().error(), &Error::WouldBlock);
    s.disconnect(&ep("r6-gone")).unwrap();
    assert_eq!(s.disconnect(&ep("r6-gone")), Err(Error::NoSuchEndpoint));
}

/// R-7: "Names are per context: two contexts bind the same name independently, and a
/// connect in one never reaches the other."
#[test]
fn r7_contexts_are_separate() {
    let c1 = Context::new();
    let c2 = Context::new();
    let pull1 = sock(&c1, SocketType::Pull);
    let pull2 = sock(&c2, SocketType::Pull);
    pull1.bind(&ep("r7")).unwrap();
    pull2.bind(&ep("r7")).unwrap();
    let push1 = sock(&c1, SocketType::Push);
    let push2 = sock(&c2, SocketType::Push);
    push1.connect(&ep("r7")).unwrap();
    push2.connect(&ep("r7")).unwrap();
    // Both sends complete into attached pipes (C-4) before anything is read.
    push1.send("one").unwrap();
    push2.send("two").unwrap();
    assert_eq!(recv(&pull1), Message::from("one"));
    assert_eq!(recv(&pull2), Message::from("two"));
    assert_empty(&pull1);
    assert_empty(&pull2);

    // A connect in a context where the name is not bound goes pending there, even though
    // the other context has it bound.
    let pull3 = sock(&c1, SocketType::Pull);
    pull3.bind(&ep("r7-only-in-1")).unwrap();
    let push3 = sock(&c2, SocketType::Push);
    push3.connect(&ep("r7-only-in-1")).unwrap();
    push3.send("pending in c2").unwrap();
    assert_empty(&pull3);
    let pull4 = sock(&c2, SocketType::Pull);
    pull4.bind(&ep("r7-only-in-1")).unwrap();
    assert_eq!(recv(&pull4), Message::from("pending in c2"));
    assert_empty(&pull3);
}

/// A tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// R-8: "Bind, connect, unbind and close never wait for one another, and concurrent calls
/// end as some sequential order of them would." Four threads hammer bind, connect,
/// unbind, close and send on three names; checked: never two binders of one name at
/// once, every message received was sent and none twice, nothing panics or hangs.
#[test]
fn r8_threads_hammer_bind_connect_close() {
    const THREADS: usize = 4;
    const ITERS: usize = 3000;
    const NAMES: [&str; 3] = ["r8-a", "r8-b", "r8-c"];

    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let binders: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
        let sent = Arc::new(Mutex::new(HashSet::<u64>::new()));
        let received = Arc::new(Mutex::new(HashSet::<u64>::new()));
        let start = Arc::new(Barrier::new(THREADS));

        let drain =
            |pull: &inproc::Socket, sent: &Mutex<HashSet<u64>>, received: &Mutex<HashSet<u64>>| {
                while let Ok(m) = pull.try_recv() {
                    let n = num_of(&m);
                    assert!(
                        sent.lock().unwrap().contains(&n),
                        "received {n:#x}, which was never sent"
                    );
                    assert!(received.lock().unwrap().insert(n), "received {n:#x} twice");
                }
            };

        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (ctx, binders, sent, received, start) =
                    (&ctx, &binders, &sent, &received, &start);
                s.spawn(move || {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t as u64 + 1) * 0x1234_5678_9ABC));
                    let mut seq = 0u64;
                    // (socket, name index) of this thread's current binder.
                    let mut binder: Option<(inproc::Socket, usize)> = None;
                    let mut pushes: Vec<inproc::Socket> = Vec::new();
                    start.wait();
                    for _ in 0..ITERS {
                        match rng.below(6) {
                            0 | 1 if binder.is_none() => {
                                let i = rng.below(3) as usize;
                                let pull = ctx.socket(SocketType::Pull).unwrap();
                                match pull.bind(&ep(NAMES[i])) {
                                    Ok(()) => {
                                        let before = binders[i].fetch_add(1, Ordering::SeqCst);
                                        assert_eq!(
                                            before, 0,
                                            "two sockets bound {} at once",
                                            NAMES[i]
                                        );
                                        binder = Some((pull, i));
                                    }
                                    Err(Error::AddrInUse) => {}
                                    Err(e) => panic!("bind: unexpected {e:?}"),
                                }
                            }
                            0 | 1 => {
                                let (pull, _) = binder.as_ref().unwrap();
                                drain(pull, sent, received);
                            }
                            2 => {
                                if let Some((pull, i)) = binder.take() {
                                    drain(&pull, sent, received);
                                    binders[i].fetch_sub(1, Ordering::SeqCst);
                                    if rng.below(2) == 0 {
                                        pull.unbind(&ep(NAMES[i])).unwrap();
                                        // Connections survive the unbind.
                                        drain(&pull, sent, received);
                                    }
                                    pull.close();
                                }
                            }
                            _ => {
                                let push = ctx.socket(SocketType::Push).unwrap();
                                push.connect(&ep(NAMES[rng.below(3) as usize])).unwrap();
                                let n = (t as u64) << 32 | seq;
                                seq += 1;
                                sent.lock().unwrap().insert(n);
                                // Ok, or WouldBlock when a bound peer's window is full.
                                if let Err(e) = push.try_send(num_msg(n)) {
                                    assert_eq!(e.error(), &Error::WouldBlock);
                                }
                                pushes.push(push);
                                if pushes.len() > 3 {
                                    pushes.remove(0).close();
                                }
                            }
                        }
                    }
                    if let Some((pull, i)) = binder.take() {
                        drain(&pull, sent, received);
                        binders[i].fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        for (i, b) in binders.iter().enumerate() {
            assert_eq!(b.load(Ordering::SeqCst), 0, "{}", NAMES[i]);
        }
        // Every name is free again once the binders have closed: binding each succeeds,
        // and whatever was pending for it is a message that was sent and not yet received.
        let sent = sent.lock().unwrap();
        let mut received = received.lock().unwrap();
        let last = sock(&ctx, SocketType::Pull);
        for n in NAMES {
            last.bind(&ep(n)).unwrap();
        }
        while let Ok(m) = last.try_recv() {
            let n = num_of(&m);
            assert!(sent.contains(&n), "received {n:#x}, which was never sent");
            assert!(received.insert(n), "received {n:#x} twice");
        }
        assert!(
            !received.is_empty(),
            "the hammer delivered nothing: it tested nothing"
        );
    });
}
