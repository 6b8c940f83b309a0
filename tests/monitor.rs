//! Socket counters and monitor events: SPEC S-1 to S-4.
#![cfg(not(any(loom, shuttle)))]

use std::time::Duration;

use inproc::{Bytes, Context, Error, Message, Socket, SocketType};

const HANG: Duration = Duration::from_secs(10);

fn sock(ctx: &Context, ty: SocketType) -> Socket {
    ctx.socket(ty).unwrap()
}

/// Receives one monitor event as `(name, detail)`.
fn event(mon: &Socket) -> (String, String) {
    let m = mon.recv_timeout(HANG).expect("an event");
    let f = m.frames();
    assert_eq!(f.len(), 2, "events have two frames");
    (
        String::from_utf8(f[0].to_vec()).unwrap(),
        String::from_utf8(f[1].to_vec()).unwrap(),
    )
}

/// S-1: "`stats` counts whole messages sent and received by the application."
#[test]
fn s1_sent_and_received_are_counted() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind("inproc://s1").unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.connect("inproc://s1").unwrap();
    for i in 0..5u8 {
        push.send(Message::from_frames([vec![i], vec![i]])).unwrap();
    }
    assert_eq!(push.try_recv().unwrap_err(), Error::NotSupported);
    for _ in 0..3 {
        pull.recv().unwrap();
    }
    let (ps, ls) = (push.stats(), pull.stats());
    assert_eq!((ps.sent, ps.received), (5, 0));
    assert_eq!((ls.sent, ls.received), (0, 3));
    assert_eq!((ps.connections, ls.connections), (1, 1));
    assert!(ps.queued >= 2 && ps.queued <= 5, "{}", ps.queued);
    assert_eq!(ps.dropped.total(), 0);
}

/// S-2: "silent drops are counted by reason: PUB with no subscriber (no-route) and at a
/// full subscriber (hwm)."
#[test]
fn s2_pub_drops_are_counted() {
    let ctx = Context::new();
    let publisher = sock(&ctx, SocketType::Pub);
    publisher.set_sndhwm(1).unwrap();
    publisher.bind("inproc://s2").unwrap();
    publisher.send("nobody").unwrap();
    assert_eq!(publisher.stats().dropped.no_route, 1);
    let sub = sock(&ctx, SocketType::Sub);
    sub.set_rcvhwm(1).unwrap();
    sub.subscribe("").unwrap();
    sub.connect("inproc://s2").unwrap();
    for _ in 0..10 {
        publisher.send("x").unwrap();
    }
    let s = publisher.stats();
    assert_eq!(s.sent, 11);
    assert_eq!(s.dropped.hwm, 8, "window 1+1 takes 2 of 10");
    assert_eq!(s.dropped.no_route, 1);
}

/// S-2: "ROUTER drops to unknown ids (no-route) and id-only messages (malformed); REQ
/// discards messages that are not its reply (unexpected); REP drops a reply whose
/// requester left (no-route)."
#[test]
fn s2_router_req_rep_drops_are_counted() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router
        .send(Message::from_frames(["nobody", "hello"]))
        .unwrap();
    router.send("id only").unwrap();
    let d = router.stats().dropped;
    assert_eq!((d.no_route, d.malformed), (1, 1));

    let dealer = sock(&ctx, SocketType::Dealer);
    dealer.bind("inproc://s2-req").unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect("inproc://s2-req").unwrap();
    dealer
        .send(Message::from_frames(["", "unsolicited"]))
        .unwrap();
    req.send("q").unwrap(); // discards the unsolicited message first
    assert_eq!(req.stats().dropped.unexpected, 1);

    let rep = sock(&ctx, SocketType::Rep);
    rep.bind("inproc://s2-rep").unwrap();
    let client = sock(&ctx, SocketType::Req);
    client.connect("inproc://s2-rep").unwrap();
    client.send("q").unwrap();
    assert_eq!(rep.recv().unwrap(), Message::from("q"));
    client.close();
    rep.send("a").unwrap();
    assert_eq!(rep.stats().dropped.no_route, 1);
}

/// S-3: "a monitor receives bound, accepted, connected, disconnected, dropped and closed
/// events, each `[name, detail]`; the monitor may connect before its PAIR binds."
#[test]
fn s3_monitor_reports_events() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.monitor("inproc://s3-mon-pull").unwrap(); // before the monitor PAIR binds
    let mon = sock(&ctx, SocketType::Pair);
    mon.bind("inproc://s3-mon-pull").unwrap();
    pull.bind("inproc://s3").unwrap();
    assert_eq!(event(&mon), ("bound".into(), "inproc://s3".into()));

    let push = sock(&ctx, SocketType::Push);
    let mon2 = sock(&ctx, SocketType::Pair);
    mon2.bind("inproc://s3-mon-push").unwrap();
    push.monitor("inproc://s3-mon-push").unwrap();
    push.connect("inproc://s3").unwrap();
    assert_eq!(event(&mon2), ("connected".into(), "inproc://s3".into()));
    push.send("m").unwrap();
    assert_eq!(pull.recv().unwrap(), Message::from("m"));
    assert_eq!(event(&mon).0, "accepted");
    push.disconnect("inproc://s3").unwrap();
    assert_eq!(event(&mon2), ("disconnected".into(), "inproc://s3".into()));

    let publisher = sock(&ctx, SocketType::Pub);
    let mon3 = sock(&ctx, SocketType::Pair);
    mon3.bind("inproc://s3-mon-pub").unwrap();
    publisher.monitor("inproc://s3-mon-pub").unwrap();
    publisher.send("lost").unwrap();
    assert_eq!(event(&mon3), ("dropped".into(), "no-route 1".into()));

    pull.close();
    assert_eq!(event(&mon), ("closed".into(), "inproc://s3".into()));
    assert_eq!(mon.try_recv().unwrap_err(), Error::WouldBlock);
}

/// S-4: "events never block the monitored socket: with the monitor's window full they are
/// lost and counted in `monitor_overflow`."
#[test]
fn s4_full_monitor_never_blocks() {
    let ctx = Context::new();
    let mon = sock(&ctx, SocketType::Pair);
    mon.set_rcvhwm(1).unwrap();
    mon.bind("inproc://s4-mon").unwrap();
    let publisher = sock(&ctx, SocketType::Pub);
    publisher.monitor("inproc://s4-mon").unwrap();
    for _ in 0..3_000 {
        publisher
            .send(Bytes::from_static(b"nobody listens"))
            .unwrap();
    }
    let s = publisher.stats();
    assert_eq!(s.dropped.no_route, 3_000);
    // The monitor PAIR's window is 1000 + 1: the rest of the 3,000 events overflowed.
    assert_eq!(s.monitor_overflow, 3_000 - 1_001);
    let mut got = 0;
    while mon.try_recv().is_ok() {
        got += 1;
    }
    assert_eq!(got, 1_001);
}
