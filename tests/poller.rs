//! Integration tests of `Poller`, `Socket::readable` and `Socket::writable`: rules W-1 to W-8 (SPEC.md section 5d).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{HANG, ep, fill, pair_of, pair_with_hwm, recv, sock, with_hang_guard};
use inproc::{Context, Error, Event, Interest, Message, Poller, Socket, SocketType};

/// `Interest::READABLE | Interest::WRITABLE`.
fn both() -> Interest {
    Interest::READABLE | Interest::WRITABLE
}

/// The events of one non-blocking look, as `(token, readable, writable)`.
fn look(p: &mut Poller<'_>) -> Vec<(usize, bool, bool)> {
    p.wait(Some(Duration::ZERO))
        .unwrap()
        .iter()
        .map(|e| (e.token, e.readable, e.writable))
        .collect()
}

/// W-1: "`Socket::writable` is true exactly when a send would not wait: PUB, XPUB, XSUB
/// and ROUTER always; PULL and SUB never; PAIR, PUSH and DEALER when a peer has room."
#[test]
fn w1_writable_per_pattern() {
    let ctx = Context::new();
    for ty in [
        SocketType::Pub,
        SocketType::XPub,
        SocketType::XSub,
        SocketType::Router,
    ] {
        assert!(sock(&ctx, ty).writable(), "{ty} never blocks a send");
    }
    for ty in [SocketType::Pull, SocketType::Sub] {
        let (_peer, s) = pair_of(&ctx, SocketType::Push, ty, &format!("w1-never-{ty}"));
        assert!(!s.writable(), "{ty} cannot send");
    }
    // Window-limited patterns: no peer, a peer with room, a full window, room again.
    for (ty, peer_ty) in [
        (SocketType::Pair, SocketType::Pair),
        (SocketType::Push, SocketType::Pull),
        (SocketType::Dealer, SocketType::Router),
    ] {
        let lonely = sock(&ctx, ty);
        lonely.bind(&ep(&format!("w1-lonely-{ty}"))).unwrap();
        assert!(!lonely.writable(), "{ty} without a peer");
        let (peer, s) = pair_with_hwm(
            &ctx,
            peer_ty,
            (1, 1),
            ty,
            (1, 1),
            &format!("w1-window-{ty}"),
        );
        assert!(s.writable(), "{ty} with room");
        assert_eq!(fill(&s, 0, 100), 2, "window 2");
        assert!(!s.writable(), "{ty} with a full window");
        recv(&peer);
        recv(&peer);
        assert!(s.writable(), "{ty} after the peer read");
    }
}

/// W-1: "a PAIR refused by a binder that has its peer is not writable."
#[test]
fn w1_refused_pair_is_not_writable() {
    let ctx = Context::new();
    let (_a, _b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "w1-refuse");
    let c = sock(&ctx, SocketType::Pair);
    c.connect(&ep("w1-refuse")).unwrap();
    // The binder refuses at its next call.
    assert!(!_a.readable());
    assert!(!c.writable());
    assert_eq!(
        c.try_send("x").unwrap_err().error(),
        &Error::HostUnreachable
    );
    assert!(!c.writable());
}

/// W-1: "REQ is writable in its turn to send when a peer has room; REP when a reply is
/// owed. A readable check that takes the reply (request) into the stash leaves the turn
/// with the application: not writable, `send` is `InvalidState`, until it receives."
#[test]
fn w1_req_rep_turns() {
    let ctx = Context::new();
    let (rep, req) = pair_of(&ctx, SocketType::Rep, SocketType::Req, "w1-reqrep");
    assert!(req.writable(), "REQ idle with a peer");
    assert!(!rep.writable(), "REP owes nothing");
    assert!(!req.readable() && !rep.readable());
    req.send("ping").unwrap();
    assert!(!req.writable(), "REQ awaits its reply");
    assert!(rep.readable(), "the request is there");
    assert!(!rep.writable(), "the request is stashed, not yet received");
    assert_eq!(
        rep.try_send("early").unwrap_err().error(),
        &Error::InvalidState
    );
    assert_eq!(rep.recv().unwrap(), "ping".into());
    assert!(rep.writable(), "a reply is owed and fits");
    rep.send("pong").unwrap();
    assert!(!rep.writable());
    assert!(req.readable(), "the reply is there");
    assert!(!req.writable(), "the reply is stashed, not yet received");
    assert_eq!(
        req.try_send("again").unwrap_err().error(),
        &Error::InvalidState
    );
    assert!(req.readable(), "still there: level-triggered");
    assert_eq!(req.recv().unwrap(), "pong".into());
    assert!(req.writable() && !req.readable());
}

/// W-1: "`Socket::readable` is true exactly when `try_recv` would return a message, and
/// that message is the one the next receive returns, for every pattern."
#[test]
fn w1_readable_per_pattern() {
    let ctx = Context::new();
    let cases = [
        (SocketType::Pair, SocketType::Pair),
        (SocketType::Push, SocketType::Pull),
        (SocketType::Dealer, SocketType::Dealer),
        (SocketType::Dealer, SocketType::Router),
        (SocketType::Router, SocketType::Dealer),
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::XSub),
    ];
    for (i, (tx_ty, rx_ty)) in cases.into_iter().enumerate() {
        let (rx, tx) = pair_of(&ctx, rx_ty, tx_ty, &format!("w1-read-{i}"));
        if rx_ty == SocketType::Sub {
            rx.subscribe("").unwrap();
        }
        if rx_ty == SocketType::XSub {
            rx.send(Message::from(vec![1u8])).unwrap(); // subscribe to everything
            assert!(tx.readable(), "XPUB sees the subscription");
            assert_eq!(tx.recv().unwrap(), Message::from(vec![1u8]));
        }
        assert!(!rx.readable(), "{rx_ty}: nothing yet");
        let msg = if tx_ty == SocketType::Router {
            // Learn the DEALER's routing id from a message first.
            rx.send("hi").unwrap();
            let id = tx.recv().unwrap().frames()[0].clone();
            Message::from_frames([id, "body".into()])
        } else {
            Message::from("body")
        };
        tx.send(msg).unwrap();
        assert!(rx.readable(), "{rx_ty} from {tx_ty}");
        assert!(rx.readable(), "{rx_ty}: still readable until received");
        let got = rx.try_recv().unwrap();
        assert_eq!(got.frames().last().unwrap(), &"body", "{rx_ty}");
        assert!(!rx.readable(), "{rx_ty}: drained");
    }
    // Sockets that cannot receive are never readable.
    let (_pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "w1-read-push");
    assert!(!push.readable());
}

/// W-2: "`wait` is level-triggered: every registration that is ready now is reported,
/// and a message not received is reported again by the next `wait`."
#[test]
fn w2_level_triggered_reports_unread_again() {
    let ctx = Context::new();
    let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "w2");
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "w2-pp");
    let mut p = Poller::new();
    let ta = p.add(&a, Interest::READABLE);
    let tb = p.add(&b, both());
    let tp = p.add(&pull, Interest::READABLE);
    assert_eq!(p.len(), 3);
    assert_eq!(look(&mut p), vec![(tb, false, true)]);
    b.send("one").unwrap();
    push.send("two").unwrap();
    for _ in 0..3 {
        assert_eq!(
            look(&mut p),
            vec![(ta, true, false), (tb, false, true), (tp, true, false)]
        );
    }
    assert_eq!(a.recv().unwrap(), "one".into());
    assert_eq!(look(&mut p), vec![(tb, false, true), (tp, true, false)]);
    assert_eq!(pull.recv().unwrap(), "two".into());
    assert_eq!(look(&mut p), vec![(tb, false, true)]);
    assert!(std::ptr::eq(p.socket(ta), &a));
}

/// W-3: "`wait(Some(Duration::ZERO))` only looks; a bounded `wait` with nothing ready
/// returns an empty list when the time is up, and an event as soon as one comes."
#[test]
fn w3_zero_and_bounded_timeouts() {
    let ctx = Context::new();
    let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "w3");
    let mut p = Poller::new();
    let t = p.add(&pull, Interest::READABLE);
    assert!(p.wait(Some(Duration::ZERO)).unwrap().is_empty());
    assert!(p.wait(Some(Duration::from_millis(20))).unwrap().is_empty());
    thread::scope(|s| {
        s.spawn(|| push.send("late").unwrap());
        let ev = p.wait(Some(HANG)).unwrap().to_vec();
        assert_eq!(
            ev,
            vec![Event {
                token: t,
                readable: true,
                writable: false
            }]
        );
    });
    // With nothing registered, waiting forever is refused; a bounded wait is allowed.
    let mut empty = Poller::new();
    assert!(empty.is_empty());
    assert!(matches!(empty.wait(None), Err(Error::InvalidArgument(_))));
    assert!(empty.wait(Some(Duration::ZERO)).unwrap().is_empty());
}

/// W-4: "a `wait` with nothing ready sleeps until an event makes a registration ready;
/// no wake-up is lost, whatever thread sends and whenever."
#[test]
fn w4_blocked_wait_is_woken_by_send_from_another_thread() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "w4-a");
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "w4-b");
        let mut p = Poller::new();
        let ta = p.add(&a, Interest::READABLE);
        let tp = p.add(&pull, Interest::READABLE);
        thread::scope(|s| {
            let (go_tx, go_rx) = mpsc::channel::<usize>();
            let sender = s.spawn(move || {
                for i in go_rx {
                    if i % 2 == 0 {
                        b.send(Message::from(vec![i as u8])).unwrap();
                    } else {
                        push.send(Message::from(vec![i as u8])).unwrap();
                    }
                }
            });
            for i in 0..2000usize {
                go_tx.send(i).unwrap();
                let ev = p.wait(None).unwrap().to_vec();
                assert_eq!(ev.len(), 1, "{ev:?}");
                let (tok, sock) = if i % 2 == 0 { (ta, &a) } else { (tp, &pull) };
                assert_eq!(ev[0].token, tok);
                assert_eq!(sock.try_recv().unwrap(), Message::from(vec![i as u8]));
            }
            drop(go_tx);
            sender.join().unwrap();
        });
    });
}

/// W-4: "a `wait` for WRITABLE on a full socket is woken when the reader returns
/// credit."
#[test]
fn w4_writable_wait_is_woken_by_credit() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "w4-credit",
        );
        for round in 0..200u64 {
            assert_eq!(fill(&push, round * 2, 10), 2);
            let mut p = Poller::new();
            let t = p.add(&push, Interest::WRITABLE);
            assert!(p.wait(Some(Duration::ZERO)).unwrap().is_empty());
            thread::scope(|s| {
                s.spawn(|| {
                    recv(&pull);
                    recv(&pull);
                });
                let ev = p.wait(None).unwrap().to_vec();
                assert_eq!(
                    ev,
                    vec![Event {
                        token: t,
                        readable: false,
                        writable: true
                    }]
                );
            });
        }
    });
}

/// W-5: "`Context::shutdown` wakes a waiting `wait`, which returns `Terminated`, as do
/// later calls."
#[test]
fn w5_shutdown_wakes_a_waiting_poller() {
    with_hang_guard(HANG, || {
        for _ in 0..200 {
            let ctx = Context::new();
            let other = Context::new();
            let (a, _b) = pair_of(&other, SocketType::Pair, SocketType::Pair, "w5-other");
            let pull = sock(&ctx, SocketType::Pull);
            pull.bind(&ep("w5")).unwrap();
            let mut p = Poller::new();
            p.add(&a, Interest::READABLE);
            p.add(&pull, Interest::READABLE);
            thread::scope(|s| {
                s.spawn(|| ctx.shutdown());
                assert_eq!(p.wait(None).unwrap_err(), Error::Terminated);
            });
            assert_eq!(p.wait(Some(Duration::ZERO)).unwrap_err(), Error::Terminated);
            assert_eq!(p.wait(None).unwrap_err(), Error::Terminated);
        }
    });
}

/// W-6: "one poller waits on sockets of any types from any contexts."
#[test]
fn w6_sockets_from_two_contexts() {
    with_hang_guard(HANG, || {
        let (c1, c2) = (Context::new(), Context::new());
        // The same name in both contexts: two separate registries.
        let (pull1, push1) = pair_of(&c1, SocketType::Pull, SocketType::Push, "w6");
        let (sub2, pub2) = pair_of(&c2, SocketType::Sub, SocketType::Pub, "w6");
        sub2.subscribe("").unwrap();
        let mut p = Poller::new();
        let t1 = p.add(&pull1, Interest::READABLE);
        let t2 = p.add(&sub2, Interest::READABLE);
        assert_eq!(look(&mut p), vec![]);
        thread::scope(|s| {
            s.spawn(|| push1.send("from c1").unwrap());
            let ev = p.wait(None).unwrap().to_vec();
            assert_eq!(
                ev,
                vec![Event {
                    token: t1,
                    readable: true,
                    writable: false
                }]
            );
        });
        // Added later, after a pass: checked by the next pass. A PUB is always writable.
        let t3 = p.add(&pub2, Interest::WRITABLE);
        assert_eq!(look(&mut p), vec![(t1, true, false), (t3, false, true)]);
        pub2.send("from c2").unwrap();
        assert_eq!(
            look(&mut p),
            vec![(t1, true, false), (t2, true, false), (t3, false, true)]
        );
        assert_eq!(pull1.recv().unwrap(), "from c1".into());
        assert_eq!(sub2.recv().unwrap(), "from c2".into());
    });
}

/// W-7: "after its first pass, a wake-up re-checks only the registrations that had an
/// event and those reported ready last time: its cost does not grow with the number of
/// idle registrations."
#[test]
fn w7_wakeup_cost_does_not_grow_with_idle_sockets() {
    with_hang_guard(HANG, || {
        const IDLE: usize = 1000;
        let ctx = Context::new();
        let idle: Vec<(Socket, Socket)> = (0..IDLE)
            .map(|i| pair_of(&ctx, SocketType::Pull, SocketType::Push, &format!("w7-{i}")))
            .collect();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "w7-active");
        let mut p = Poller::new();
        for (s, _) in &idle {
            p.add(s, Interest::READABLE);
        }
        let active = p.add(&pull, Interest::READABLE);
        assert!(p.wait(Some(Duration::ZERO)).unwrap().is_empty());
        assert_eq!(
            p.readiness_checks(),
            IDLE as u64 + 1,
            "the first pass checks all"
        );
        thread::scope(|s| {
            let (go_tx, go_rx) = mpsc::channel::<u8>();
            s.spawn(move || {
                for i in go_rx {
                    push.send(Message::from(vec![i])).unwrap();
                }
            });
            let mut worst = 0;
            for i in 0..200u8 {
                let before = p.readiness_checks();
                go_tx.send(i).unwrap();
                let ev = p.wait(None).unwrap().to_vec();
                assert_eq!(ev.len(), 1);
                assert_eq!(ev[0].token, active);
                assert_eq!(pull.try_recv().unwrap(), Message::from(vec![i]));
                worst = worst.max(p.readiness_checks() - before);
            }
            // Each wait checks the active entry (dirty, or ready last time) a few times
            // at most (a wake between passes adds one more pass); never the idle ones.
            assert!(worst <= 4, "a wake-up made {worst} readiness checks");
        });
    });
}

/// W-10: `remove` takes a registration out (no longer reported, its socket no longer
/// watched, its token not reused; a second remove or a modify of it is refused);
/// `modify` changes a registration's interest for the next `wait`, including a `wait`
/// that then sleeps until the new interest holds.
#[test]
fn w10_remove_and_modify_registrations() {
    with_hang_guard(HANG, || {
        let ctx = Context::new();
        let (a, b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "w10");
        let pull = sock(&ctx, SocketType::Pull);
        pull.bind(&ep("w10-pull")).unwrap();
        let mut p = Poller::new();
        let ta = p.add(&a, Interest::READABLE);
        let tb = p.add(&b, both());
        let tp = p.add(&pull, Interest::READABLE);
        assert_eq!(p.len(), 3);
        b.send("to a").unwrap();
        assert_eq!(look(&mut p), vec![(ta, true, false), (tb, false, true)]);
        // Removed: not reported, though still ready.
        assert!(std::ptr::eq(p.remove(tb).unwrap(), &b));
        assert!(p.remove(tb).is_none(), "removed already");
        assert!(p.remove(99).is_none(), "never added");
        assert!(!p.modify(tb, Interest::READABLE));
        assert_eq!(p.len(), 2);
        assert_eq!(look(&mut p), vec![(ta, true, false)]);
        // Modified: `a` now reported for writing, not for its unread message.
        assert!(p.modify(ta, Interest::WRITABLE));
        assert_eq!(look(&mut p), vec![(ta, false, true)]);
        assert!(p.modify(ta, both()));
        assert_eq!(look(&mut p), vec![(ta, true, true)]);
        assert_eq!(recv(&a), Message::from("to a"));
        // A new registration gets a new token.
        let tb2 = p.add(&b, Interest::READABLE);
        assert!(tb2 > tp);
        // Only `pull` and `b` (readable) are of interest now: a blocking wait sleeps
        // until another thread sends to `b`.
        assert!(p.modify(ta, Interest::READABLE));
        thread::scope(|s| {
            s.spawn(|| a.send("to b").unwrap());
            let evs = p.wait(None).unwrap().to_vec();
            assert_eq!(
                evs,
                vec![Event {
                    token: tb2,
                    readable: true,
                    writable: false
                }]
            );
        });
        // Everything removed: `wait(None)` could never return.
        for t in [ta, tp, tb2] {
            assert!(p.remove(t).is_some());
        }
        assert!(p.is_empty());
        assert!(matches!(p.wait(None), Err(Error::InvalidArgument(_))));
    });
}
