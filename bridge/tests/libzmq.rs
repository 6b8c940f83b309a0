//! The bridge against real libzmq peers (the `zmq` crate, the system libzmq) over
//! loopback tcp and ipc. Every wait is bounded (`common::WAIT`, or a deadline); no test
//! sleeps to make itself pass.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use inproc::{Context, Error, Message, SocketType};
use inproc_bridge::{Bridge, Side};

/// 100,000 sequence-numbered messages: libzmq PUSH → bridge (PULL, bound) → your
/// inproc PULL → your inproc PUSH → bridge (PUSH, connected) → libzmq PULL, checked at
/// both ends for loss and order.
fn pipeline_round_trip(net_in: &str, net_out: &str) {
    const N: u64 = 100_000;
    let ctx = Context::new();
    let (name_in, name_out) = (inproc_name("rt-in"), inproc_name("rt-out"));
    let user_pull = ctx.socket(SocketType::Pull).unwrap();
    user_pull.bind(&name_in).unwrap();
    let user_push = ctx.socket(SocketType::Push).unwrap();
    user_push.bind(&name_out).unwrap();

    let bridge_in = Bridge::start(&ctx, &name_in, net_in, Side::Bind, SocketType::Pull).unwrap();
    let zctx = zmq::Context::new();
    let zpull = zsock(&zctx, zmq::PULL);
    let out_ep = zbind(&zpull, net_out);
    let bridge_out =
        Bridge::start(&ctx, &name_out, &out_ep, Side::Connect, SocketType::Push).unwrap();
    let zpush = zsock(&zctx, zmq::PUSH);
    // It is closed as soon as it has queued the last message: linger keeps the tail.
    zpush.set_linger(-1).unwrap();
    zpush.connect(bridge_in.net_endpoint()).unwrap();

    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..N {
                zpush.send(payload(i, 16), 0).unwrap();
            }
        });
        s.spawn(|| {
            for i in 0..N {
                let m = user_pull.recv_timeout(WAIT).unwrap_or_else(|e| {
                    panic!(
                        "message {i}: {e}; in {:?} out {:?}",
                        bridge_in.stats(),
                        bridge_out.stats()
                    )
                });
                assert_eq!(seq_of(m.first()), i, "inproc side: lost or reordered");
                user_push.send_timeout(m, WAIT).unwrap();
            }
        });
        for i in 0..N {
            let m = zpull.recv_bytes(0).unwrap();
            assert_eq!(seq_of(&m), i, "libzmq side: lost or reordered");
        }
    });
    assert_eq!(bridge_in.stats().from_net, N);
    assert_eq!(bridge_out.stats().to_net, N);
    assert_eq!(bridge_in.stats().dropped + bridge_out.stats().dropped, 0);
    bridge_in.stop().unwrap();
    bridge_out.stop().unwrap();
}

#[test]
fn pipeline_100k_round_trip_tcp() {
    pipeline_round_trip("tcp://127.0.0.1:0", "tcp://127.0.0.1:*");
}

#[test]
fn pipeline_100k_round_trip_ipc() {
    let (a, b) = (ipc_endpoint("in"), ipc_endpoint("out"));
    pipeline_round_trip(&a, &b);
    // The bound ipc file goes with the bridge, as libzmq's does.
    assert!(!std::path::Path::new(a.trim_start_matches("ipc://")).exists());
}

/// libzmq REQ clients → bridge (REP, bound) → your inproc REP: round trips from two
/// clients at once, each reply reaching the client that asked (the envelope with the
/// network peer's routing id crosses and comes back).
#[test]
fn req_rep_libzmq_clients_inproc_rep() {
    const ROUNDS: usize = 300;
    let ctx = Context::new();
    let name = inproc_name("rep");
    let rep = ctx.socket(SocketType::Rep).unwrap();
    rep.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Rep,
    )
    .unwrap();
    let zctx = zmq::Context::new();
    std::thread::scope(|s| {
        for client in 0..2 {
            let req = zsock(&zctx, zmq::REQ);
            req.connect(bridge.net_endpoint()).unwrap();
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let q = format!("c{client}-{i}");
                    req.send(q.as_bytes(), 0).unwrap();
                    let r = req.recv_string(0).unwrap().unwrap();
                    assert_eq!(r, format!("re:{q}"));
                }
            });
        }
        for _ in 0..2 * ROUNDS {
            let q = rep.recv_timeout(WAIT).unwrap();
            let q = q.as_str().unwrap().to_string();
            rep.send(format!("re:{q}")).unwrap();
        }
    });
    assert_eq!(bridge.stats().dropped, 0);
}

/// Your inproc REQ clients → bridge (REQ, inproc side bound, network connected) →
/// libzmq REP: the REQ's routing id travels as an envelope frame and the reply is
/// routed back to the REQ that asked.
#[test]
fn req_rep_inproc_clients_libzmq_rep() {
    const ROUNDS: usize = 300;
    let ctx = Context::new();
    let name = inproc_name("req");
    let zctx = zmq::Context::new();
    let zrep = zsock(&zctx, zmq::REP);
    let ep = zbind(&zrep, "tcp://127.0.0.1:*");
    let bridge = Bridge::builder(SocketType::Req, &name, &ep, Side::Connect)
        .inproc_side(Side::Bind)
        .start(&ctx)
        .unwrap();
    std::thread::scope(|s| {
        for client in 0..2 {
            let req = ctx.socket(SocketType::Req).unwrap();
            req.connect(&name).unwrap();
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let q = format!("c{client}-{i}");
                    req.send(q.as_str()).unwrap();
                    let r = req.recv_timeout(WAIT).unwrap();
                    assert_eq!(r.as_str().unwrap(), format!("re:{q}"));
                }
            });
        }
        s.spawn(move || {
            for _ in 0..2 * ROUNDS {
                let q = zrep.recv_string(0).unwrap().unwrap();
                zrep.send(format!("re:{q}").as_bytes(), 0).unwrap();
            }
        });
    });
    assert_eq!(bridge.stats().to_net, 2 * ROUNDS as u64);
}

/// ROUTER and DEALER: which frames cross, both ways.
#[test]
fn router_dealer_envelopes_preserved() {
    let ctx = Context::new();
    let zctx = zmq::Context::new();

    // Your inproc ROUTER behind a bridge (ROUTER, bound): it sees [bridge id, peer id,
    // body...] and replies on both.
    let name = inproc_name("router");
    let router = ctx.socket(SocketType::Router).unwrap();
    router.bind(&name).unwrap();
    let b1 = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Router,
    )
    .unwrap();
    let dealer = zsock(&zctx, zmq::DEALER);
    dealer.set_identity(b"peer-A").unwrap();
    dealer.connect(b1.net_endpoint()).unwrap();
    dealer.send_multipart(["hello", "multi"], 0).unwrap();
    let got = router.recv_timeout(WAIT).unwrap().into_frames();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[1], *"peer-A");
    assert_eq!(got[2], *"hello");
    assert_eq!(got[3], *"multi");
    let bridge_id = got[0].clone();
    router
        .send(Message::from_frames([
            bridge_id.clone(),
            "peer-A".into(),
            "world".into(),
            "!".into(),
        ]))
        .unwrap();
    assert_eq!(
        dealer.recv_multipart(0).unwrap(),
        vec![b"world".to_vec(), b"!".to_vec()]
    );

    // A libzmq REQ through the same bridge: its empty delimiter crosses too.
    let req = zsock(&zctx, zmq::REQ);
    req.connect(b1.net_endpoint()).unwrap();
    req.send("question", 0).unwrap();
    let got = router.recv_timeout(WAIT).unwrap().into_frames();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[2], *"");
    assert_eq!(got[3], *"question");
    router
        .send(Message::from_frames([
            got[0].clone(),
            got[1].clone(),
            "".into(),
            "answer".into(),
        ]))
        .unwrap();
    assert_eq!(req.recv_string(0).unwrap().unwrap(), "answer");

    // A reply to a peer that is not there is dropped (ROUTER semantics), counted.
    router
        .send(Message::from_frames([
            bridge_id,
            "nobody".into(),
            "lost".into(),
        ]))
        .unwrap();
    let at = deadline(WAIT);
    while b1.stats().dropped == 0 {
        check(at, "unroutable reply counted");
        std::thread::yield_now();
    }

    // Your inproc DEALER behind a bridge (DEALER, connected) with a chosen network
    // routing id: a libzmq ROUTER sees that id and the frames unchanged.
    let zrouter = zsock(&zctx, zmq::ROUTER);
    let ep = zbind(&zrouter, "tcp://127.0.0.1:*");
    let name = inproc_name("dealer");
    let dealer_in = ctx.socket(SocketType::Dealer).unwrap();
    dealer_in.bind(&name).unwrap();
    let _b2 = Bridge::builder(SocketType::Dealer, &name, &ep, Side::Connect)
        .net_routing_id("bridge-1")
        .start(&ctx)
        .unwrap();
    dealer_in.send(Message::from_frames(["a", "b"])).unwrap();
    assert_eq!(
        zrouter.recv_multipart(0).unwrap(),
        vec![b"bridge-1".to_vec(), b"a".to_vec(), b"b".to_vec()]
    );
    zrouter.send_multipart(["bridge-1", "c", "d"], 0).unwrap();
    let back = dealer_in.recv_timeout(WAIT).unwrap();
    assert_eq!(back, Message::from_frames(["c", "d"]));
}

/// Your inproc SUB behind a bridge (SUB, connected) to a libzmq XPUB: the subscription
/// reaches the publisher, which filters; what you did not subscribe never crosses.
#[test]
fn pub_sub_inproc_subscription_filters_at_libzmq_publisher() {
    let ctx = Context::new();
    let zctx = zmq::Context::new();
    let xpub = zsock(&zctx, zmq::XPUB);
    let ep = zbind(&xpub, "tcp://127.0.0.1:*");
    let name = inproc_name("sub");
    // The bridge binds the inproc name here and your SUB connects: a connecting SUB
    // hands its subscriptions over at once. (A bound SUB hands them to a peer that
    // connects later on its own next call, as libzmq's does.)
    let bridge = Bridge::builder(SocketType::Sub, &name, &ep, Side::Connect)
        .inproc_side(Side::Bind)
        .start(&ctx)
        .unwrap();
    let sub = ctx.socket(SocketType::Sub).unwrap();
    sub.subscribe("A").unwrap();
    sub.connect(&name).unwrap();
    // The subscription travelled: libzmq's XPUB receives it.
    assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01A".to_vec());
    for i in 0..100 {
        xpub.send(format!("A{i}").as_bytes(), 0).unwrap();
        xpub.send(format!("B{i}").as_bytes(), 0).unwrap();
    }
    xpub.send("A-end", 0).unwrap();
    for i in 0..100 {
        assert_eq!(
            sub.recv_timeout(WAIT).unwrap().as_str().unwrap(),
            format!("A{i}")
        );
    }
    assert_eq!(sub.recv_timeout(WAIT).unwrap().as_str().unwrap(), "A-end");
    // Only the 101 A messages crossed the network: the B ones were filtered at libzmq.
    assert_eq!(bridge.stats().from_net, 101);
    // Unsubscribing travels too.
    sub.unsubscribe("A").unwrap();
    assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x00A".to_vec());
}

/// libzmq subscribers of your inproc XPUB and PUB through bridges (bound).
#[test]
fn pub_sub_libzmq_subscription_filters_at_bridge() {
    let ctx = Context::new();
    let zctx = zmq::Context::new();

    // XPUB: the network subscription comes back to your XPUB.
    let name = inproc_name("xpub");
    let xpub = ctx.socket(SocketType::XPub).unwrap();
    xpub.bind(&name).unwrap();
    let b1 = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::XPub,
    )
    .unwrap();
    let zsub = zsock(&zctx, zmq::SUB);
    zsub.set_subscribe(b"A").unwrap();
    zsub.connect(b1.net_endpoint()).unwrap();
    assert_eq!(
        xpub.recv_timeout(WAIT).unwrap(),
        Message::from(&b"\x01A"[..])
    );
    for i in 0..50 {
        xpub.send(format!("B{i}")).unwrap();
        xpub.send(format!("A{i}")).unwrap();
    }
    for i in 0..50 {
        assert_eq!(zsub.recv_string(0).unwrap().unwrap(), format!("A{i}"));
    }

    // PUB: a libzmq XSUB (which does not filter by itself) subscribed to "A" gets only
    // the A messages: the filtering happened on the bridge's side of the network.
    let name = inproc_name("pub");
    let publ = ctx.socket(SocketType::Pub).unwrap();
    publ.bind(&name).unwrap();
    let b2 = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pub,
    )
    .unwrap();
    let zxsub = zsock(&zctx, zmq::XSUB);
    zxsub.connect(b2.net_endpoint()).unwrap();
    zxsub.send(b"\x01A".as_slice(), 0).unwrap();
    // Wait (bounded) until the subscription is in force: probe until one arrives.
    zxsub.set_rcvtimeo(10).unwrap();
    let at = deadline(WAIT);
    loop {
        check(at, "subscription reached the bridge's PUB");
        publ.send("A-probe").unwrap();
        if zxsub.recv_bytes(0).is_ok() {
            break;
        }
    }
    // Drain probes still in flight, then the real stream.
    publ.send("A-mark").unwrap();
    loop {
        check(at, "mark");
        if let Ok(m) = zxsub.recv_bytes(0)
            && m == b"A-mark"
        {
            break;
        }
    }
    zxsub.set_rcvtimeo(WAIT.as_millis() as i32).unwrap();
    for i in 0..50 {
        publ.send(format!("B{i}")).unwrap();
        publ.send(format!("A{i}")).unwrap();
    }
    for i in 0..50 {
        assert_eq!(zxsub.recv_string(0).unwrap().unwrap(), format!("A{i}"));
    }
}

/// A libzmq PUSH that restarts mid-stream (closes, and a new one connects) to a bound
/// bridge: nothing lost (libzmq's linger delivers what the first one sent), each
/// connection's messages in order, and the bridge counts two connections. (The tail of
/// the first connection and the head of the second may interleave: ZeroMQ orders per
/// connection, and a PULL fair-queues between connections.)
#[test]
fn libzmq_peer_restarts_bound_side() {
    const HALF: u64 = 5_000;
    let ctx = Context::new();
    let name = inproc_name("restart-bound");
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    )
    .unwrap();
    let ep = bridge.net_endpoint().to_string();
    let sender = std::thread::spawn(move || {
        for round in 0..2 {
            let zctx = zmq::Context::new();
            let push = zsock(&zctx, zmq::PUSH);
            push.set_linger(-1).unwrap(); // the "process" exits only when all is sent
            push.connect(&ep).unwrap();
            for i in round * HALF..(round + 1) * HALF {
                push.send(payload(i, 16), 0).unwrap();
            }
            drop(push);
            drop(zctx); // zmq_ctx_term: waits for delivery, then the peer is gone
        }
    });
    let mut next = [0, HALF];
    for _ in 0..2 * HALF {
        let s = seq_of(pull.recv_timeout(WAIT).unwrap().first());
        let round = (s / HALF) as usize;
        assert_eq!(s, next[round], "connection {round}: lost or reordered");
        next[round] += 1;
    }
    assert_eq!(next, [HALF, 2 * HALF]);
    sender.join().unwrap();
    // zmq.rs reports the accept after the peer is registered: wait (bounded) for it.
    let at = deadline(WAIT);
    while bridge.stats().connections < 2 {
        check(at, "second connection counted");
        std::thread::yield_now();
    }
}

/// A libzmq PULL that restarts (closes, and a new one binds the same port) under a
/// connected bridge while your inproc PUSH keeps sending: the bridge reconnects, the
/// stream resumes in order (messages zmq.rs had queued toward the dead peer are lost,
/// README "Limits"), and your sender was never wedged.
#[test]
fn libzmq_peer_restarts_connected_side() {
    let ctx = Context::new();
    let name = inproc_name("restart-conn");
    let push = ctx.socket(SocketType::Push).unwrap();
    push.bind(&name).unwrap();
    let port = free_port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let mut zctx = zmq::Context::new();
    let mut pull = zsock(&zctx, zmq::PULL);
    zbind(&pull, &ep);
    let bridge = Bridge::start(&ctx, &name, &ep, Side::Connect, SocketType::Push).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Bounded: a send that cannot complete in WAIT fails the test.
                match push.send_timeout(payload(i, 16), Duration::from_millis(50)) {
                    Ok(()) => i += 1,
                    Err(e) if *e.error() == Error::TimedOut => continue,
                    Err(e) => panic!("{e}"),
                }
            }
            i
        }
    });
    let mut last = None;
    for _ in 0..2_000 {
        let s = seq_of(&pull.recv_bytes(0).unwrap());
        assert!(last.is_none_or(|l| s > l), "reordered: {s} after {last:?}");
        last = Some(s);
    }
    // Restart: the peer goes away entirely, then comes back on the same port.
    drop(pull);
    drop(zctx);
    zctx = zmq::Context::new();
    pull = zsock(&zctx, zmq::PULL);
    zbind(&pull, &ep);
    let before = last.unwrap();
    let mut first_after = None;
    for _ in 0..2_000 {
        let s = seq_of(&pull.recv_bytes(0).unwrap());
        assert!(
            s > last.unwrap(),
            "reordered or duplicated: {s} after {last:?}"
        );
        first_after.get_or_insert(s);
        last = Some(s);
    }
    stop.store(true, Ordering::Relaxed);
    let total = sent.join().unwrap();
    let at = deadline(WAIT);
    while bridge.stats().connections < 2 {
        check(at, "reconnection counted");
        std::thread::yield_now();
    }
    let stats = bridge.stats();
    let first_after = first_after.unwrap();
    eprintln!(
        "restart: last before {before}, first after {first_after} ({} lost with the dead \
         peer), {total} sent in all; {stats:?}",
        first_after - before - 1
    );
    assert!(stats.disconnections >= 1, "{stats:?}");
}

/// Reconnection of the two-way types: a libzmq ROUTER under a connected DEALER bridge
/// (reconnected by the bridge) and a libzmq PUB under a connected SUB bridge
/// (reconnected by zmq.rs, which sends the subscriptions again) both restart on the
/// same port; traffic resumes both ways.
#[test]
fn two_way_and_pubsub_reconnect_after_restart() {
    let ctx = Context::new();
    let (port_r, port_p) = (free_port(), free_port());
    let (ep_r, ep_p) = (
        format!("tcp://127.0.0.1:{port_r}"),
        format!("tcp://127.0.0.1:{port_p}"),
    );
    let dealer_name = inproc_name("re-dealer");
    let dealer = ctx.socket(SocketType::Dealer).unwrap();
    dealer.bind(&dealer_name).unwrap();
    let sub_name = inproc_name("re-sub");
    let bd = Bridge::builder(SocketType::Dealer, &dealer_name, &ep_r, Side::Connect)
        .net_routing_id("d1")
        .start(&ctx)
        .unwrap();
    let bs = Bridge::builder(SocketType::Sub, &sub_name, &ep_p, Side::Connect)
        .inproc_side(Side::Bind)
        .start(&ctx)
        .unwrap();
    let sub = ctx.socket(SocketType::Sub).unwrap();
    sub.subscribe("t").unwrap();
    sub.connect(&sub_name).unwrap();

    for life in 0..2 {
        let zctx = zmq::Context::new();
        let router = zsock(&zctx, zmq::ROUTER);
        zbind(&router, &ep_r);
        let publ = zsock(&zctx, zmq::PUB);
        zbind(&publ, &ep_p);
        // DEALER: probe until this life's ROUTER hears us (bounded), then a round trip.
        router.set_rcvtimeo(20).unwrap();
        let at = deadline(WAIT);
        loop {
            check(at, "DEALER bridge reached the ROUTER");
            dealer.send(format!("probe {life}")).unwrap();
            if let Ok(m) = router.recv_multipart(0) {
                assert_eq!(m[0], b"d1");
                break;
            }
        }
        router.send_multipart(["d1", "reply"], 0).unwrap();
        let at = deadline(WAIT);
        loop {
            check(at, "reply came back");
            let m = dealer.recv_timeout(WAIT).unwrap();
            if m.as_str() == Ok("reply") {
                break;
            }
        }
        // SUB: publish until one arrives (the subscription is in force), bounded.
        let at = deadline(WAIT);
        loop {
            check(at, "SUB bridge receives from this life's PUB");
            publ.send(format!("t{life}").as_bytes(), 0).unwrap();
            publ.send("x-unsubscribed", 0).unwrap();
            if let Ok(m) = sub.recv_timeout(Duration::from_millis(20)) {
                assert_eq!(m.as_str().unwrap(), format!("t{life}"));
                break;
            }
        }
        // This "process" ends: both peers go away with their context.
        drop((router, publ));
        drop(zctx);
    }
    let at = deadline(WAIT);
    while bs.stats().connections < 2 || bd.stats().connections < 2 {
        check(at, "both reconnections counted");
        std::thread::yield_now();
    }
}

/// Messages sent while no network peer is connected are held (PUSH blocks, it does not
/// drop) and delivered, in order, to the first peer that connects.
#[test]
fn push_without_peer_holds_messages() {
    let ctx = Context::new();
    let name = inproc_name("held");
    let push = ctx.socket(SocketType::Push).unwrap();
    push.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Push,
    )
    .unwrap();
    for i in 0..100 {
        push.send(payload(i, 16)).unwrap();
    }
    let zctx = zmq::Context::new();
    let pull = zsock(&zctx, zmq::PULL);
    pull.connect(bridge.net_endpoint()).unwrap();
    for i in 0..100 {
        assert_eq!(seq_of(&pull.recv_bytes(0).unwrap()), i);
    }
}

/// A network peer that stops reading exerts back-pressure: your inproc PUSH blocks after
/// a bounded number of messages (zmq.rs's per-peer queue, the kernel's socket buffers,
/// libzmq's RCVHWM, the two inproc HWMs) instead of the bridge growing without limit;
/// once the peer reads again, every message arrives, in order.
#[test]
fn slow_network_peer_back_pressure() {
    const SIZE: usize = 64;
    // What the README derives: 100,000 (zmq.rs) + kernel buffers + 1,000 (libzmq) +
    // 2,000 (inproc). Far above that would mean unbounded buffering.
    const BOUND: u64 = 400_000;
    let ctx = Context::new();
    let name = inproc_name("bp");
    let push = ctx.socket(SocketType::Push).unwrap();
    push.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Push,
    )
    .unwrap();
    let zctx = zmq::Context::new();
    let pull = zsock(&zctx, zmq::PULL);
    pull.connect(bridge.net_endpoint()).unwrap();
    // The connection is up once one message goes through.
    push.send(payload(0, SIZE)).unwrap();
    assert_eq!(seq_of(&pull.recv_bytes(0).unwrap()), 0);
    // Not reading now. Send until a send makes no progress for 500 ms (blocked).
    let mut n = 1u64;
    let at = deadline(Duration::from_secs(60));
    loop {
        check(at, "back-pressure reached");
        match push.send_timeout(payload(n, SIZE), Duration::from_millis(500)) {
            Ok(()) => n += 1,
            Err(e) if *e.error() == Error::TimedOut => break,
            Err(e) => panic!("{e}"),
        }
        assert!(n < BOUND, "no back-pressure after {n} messages");
    }
    eprintln!("back-pressure: your PUSH blocked after {n} messages of {SIZE} bytes");
    for i in 1..n {
        assert_eq!(seq_of(&pull.recv_bytes(0).unwrap()), i);
    }
    // And it flows again.
    push.send_timeout(payload(n, SIZE), WAIT).unwrap();
    assert_eq!(seq_of(&pull.recv_bytes(0).unwrap()), n);
}

/// The other direction: your inproc PULL stops reading; the bridge stops reading the
/// network, and the libzmq PUSH's own SNDHWM makes its `send` block after a bounded
/// number of messages; when you read again, all of them arrive, in order.
#[test]
fn slow_inproc_reader_back_pressure() {
    const SIZE: usize = 64;
    const BOUND: u64 = 300_000;
    let ctx = Context::new();
    let name = inproc_name("bp-in");
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    )
    .unwrap();
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(bridge.net_endpoint()).unwrap();
    push.send(payload(0, SIZE), 0).unwrap();
    assert_eq!(seq_of(pull.recv_timeout(WAIT).unwrap().first()), 0);
    // Not reading now: send until libzmq's send makes no progress for 500 ms.
    push.set_sndtimeo(500).unwrap();
    let mut n = 1u64;
    let at = deadline(Duration::from_secs(60));
    loop {
        check(at, "back-pressure reached libzmq");
        match push.send(payload(n, SIZE), 0) {
            Ok(()) => n += 1,
            Err(zmq::Error::EAGAIN) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(n < BOUND, "no back-pressure after {n} messages");
    }
    eprintln!("back-pressure: libzmq PUSH blocked after {n} messages of {SIZE} bytes");
    for i in 1..n {
        assert_eq!(seq_of(pull.recv_timeout(WAIT).unwrap().first()), i);
    }
}

/// `Context::shutdown` in the middle of traffic stops the bridge promptly; the bridge's
/// sockets are closed (so `Context::terminate` returns) and the libzmq peer is not
/// wedged.
#[test]
fn context_shutdown_mid_traffic() {
    let ctx = Context::new();
    let name = inproc_name("shutdown");
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(&name).unwrap();
    let bridge = Bridge::start(
        &ctx,
        &name,
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    )
    .unwrap();
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(bridge.net_endpoint()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut i = 0;
            push.set_sndtimeo(50).unwrap();
            while !stop.load(Ordering::Relaxed) {
                if push.send(payload(i, 16), 0).is_ok() {
                    i += 1;
                }
            }
        }
    });
    for _ in 0..5_000 {
        pull.recv_timeout(WAIT).unwrap();
    }
    let t = Instant::now();
    ctx.shutdown();
    assert!(
        bridge.wait_timeout(Duration::from_secs(2)),
        "bridge still running"
    );
    let took = t.elapsed();
    assert_eq!(pull.recv(), Err(Error::Terminated));
    drop(pull);
    let term = std::thread::spawn({
        let ctx = ctx.clone();
        move || ctx.terminate()
    });
    let at = deadline(Duration::from_secs(2));
    while !term.is_finished() {
        check(
            at,
            "Context::terminate returned (the bridge closed its sockets)",
        );
        std::thread::yield_now();
    }
    term.join().unwrap();
    bridge.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    eprintln!("shutdown: bridge stopped {took:?} after Context::shutdown");
}

/// `Bridge::stop` while the bridge is blocked on both sides (a network peer that does
/// not read, your PUSH blocked on a full window) returns promptly.
#[test]
fn stop_while_back_pressured() {
    let ctx = Context::new();
    let name = inproc_name("stop-bp");
    let push = ctx.socket(SocketType::Push).unwrap();
    push.bind(&name).unwrap();
    let bridge = Bridge::builder(SocketType::Push, &name, "tcp://127.0.0.1:0", Side::Bind)
        .rcvhwm(10)
        .start(&ctx)
        .unwrap();
    // No peer at all: the bridge holds one message, the windows fill.
    let mut n = 0;
    while push.try_send(payload(n, 16)).is_ok() {
        n += 1;
        assert!(n < 100_000, "no back-pressure without a peer");
    }
    let t = Instant::now();
    bridge.stop().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    // The bridge's socket is gone: your socket is still usable (it just has no peer).
    assert_eq!(push.try_send("x").unwrap_err().error(), &Error::WouldBlock);
}
