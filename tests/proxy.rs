//! Integration tests of `proxy`: rule W-8 (SPEC.md section 5d).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::thread;

use common::{HANG, ep, recv, sock, with_hang_guard};
use inproc::{Context, Error, Message, SocketType, proxy};

/// W-8: "`proxy(frontend, backend)` moves whole messages both ways: a ROUTER frontend and
/// a DEALER backend make a broker between REQ clients and REP workers, each client
/// getting the replies to its own requests."
#[test]
fn w8_router_dealer_broker() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let front = sock(&ctx, SocketType::Router);
        front.bind(&ep("w8-front")).unwrap();
        let back = sock(&ctx, SocketType::Dealer);
        back.bind(&ep("w8-back")).unwrap();
        thread::scope(|s| {
            let p = s.spawn(|| proxy(&front, &back));
            let workers: Vec<_> = (0..2)
                .map(|w| {
                    let rep = sock(&ctx, SocketType::Rep);
                    rep.connect(&ep("w8-back")).unwrap();
                    s.spawn(move || {
                        let mut served = 0;
                        loop {
                            match rep.recv() {
                                Ok(m) => {
                                    let body = String::from_utf8(m.frames()[0].to_vec()).unwrap();
                                    rep.send(format!("{body} by {w}")).unwrap();
                                    served += 1;
                                }
                                Err(Error::Terminated) => return served,
                                Err(e) => panic!("worker: {e}"),
                            }
                        }
                    })
                })
                .collect();
            let clients: Vec<_> = (0..3)
                .map(|c| {
                    let req = sock(&ctx, SocketType::Req);
                    req.connect(&ep("w8-front")).unwrap();
                    s.spawn(move || {
                        for i in 0..20 {
                            let q = format!("c{c} q{i}");
                            req.send(q.as_str()).unwrap();
                            let a = String::from_utf8(recv(&req).frames()[0].to_vec()).unwrap();
                            assert!(a.starts_with(&format!("{q} by ")), "{q} -> {a}");
                        }
                    })
                })
                .collect();
            for c in clients {
                c.join().unwrap();
            }
            ctx.shutdown();
            assert_eq!(p.join().unwrap(), Err(Error::Terminated));
            let served: i32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
            assert_eq!(served, 60);
        });
    });
}

/// W-8: "an XSUB frontend and an XPUB backend make a forwarder: subscriptions flow up to
/// the publishers, matching data flows down."
#[test]
fn w8_xsub_xpub_forwarder() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let front = sock(&ctx, SocketType::XSub);
        front.bind(&ep("w8-ps-front")).unwrap();
        let back = sock(&ctx, SocketType::XPub);
        back.bind(&ep("w8-ps-back")).unwrap();
        // An XPUB publisher, so the test sees the subscription arrive.
        let publisher = sock(&ctx, SocketType::XPub);
        publisher.connect(&ep("w8-ps-front")).unwrap();
        let sub = sock(&ctx, SocketType::Sub);
        sub.connect(&ep("w8-ps-back")).unwrap();
        thread::scope(|s| {
            let p = s.spawn(|| proxy(&front, &back));
            sub.subscribe("a").unwrap();
            assert_eq!(recv(&publisher), Message::from(b"\x01a".to_vec()));
            for m in ["a1", "b1", "a2", "ab"] {
                publisher.send(m).unwrap();
            }
            for want in ["a1", "a2", "ab"] {
                assert_eq!(recv(&sub), want.into());
            }
            // A multipart message stays whole.
            publisher
                .send(Message::from_frames(["a-multi", "x", "y"]))
                .unwrap();
            assert_eq!(recv(&sub), Message::from_frames(["a-multi", "x", "y"]));
            sub.unsubscribe("a").unwrap();
            assert_eq!(recv(&publisher), Message::from(b"\x00a".to_vec()));
            ctx.shutdown();
            assert_eq!(p.join().unwrap(), Err(Error::Terminated));
        });
    });
}

/// W-8: "`proxy` returns `Terminated` when the context is shut down, also while idle."
#[test]
fn w8_proxy_returns_terminated_on_shutdown() {
    with_hang_guard(HANG, || {
        for _ in 0..100 {
            let ctx = Context::new();
            let front = sock(&ctx, SocketType::Pull);
            let back = sock(&ctx, SocketType::Push);
            thread::scope(|s| {
                let p = s.spawn(|| proxy(&front, &back));
                ctx.shutdown();
                assert_eq!(p.join().unwrap(), Err(Error::Terminated));
            });
        }
        // A context already shut down: at once.
        let ctx = Context::new();
        let (a, b) = (sock(&ctx, SocketType::Pair), sock(&ctx, SocketType::Pair));
        ctx.shutdown();
        assert_eq!(proxy(&a, &b), Err(Error::Terminated));
    });
}
