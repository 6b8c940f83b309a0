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

/// S-5 / D-5: what a refused PAIR connector sent before it learnt of the refusal (those
/// sends returned `Ok`) is counted as dropped (`refused`), in `stats()` and as a monitor
/// `dropped` event; its next send then fails with `HostUnreachable`.
#[test]
fn s5_refused_pair_connector_counts_what_it_lost() {
    let ctx = Context::new();
    let a = sock(&ctx, SocketType::Pair);
    a.bind("inproc://s5").unwrap();
    let b = sock(&ctx, SocketType::Pair);
    b.connect("inproc://s5").unwrap();
    let mon = sock(&ctx, SocketType::Pair);
    mon.bind("inproc://s5-mon").unwrap();
    let c = sock(&ctx, SocketType::Pair);
    c.monitor("inproc://s5-mon").unwrap();
    c.connect("inproc://s5").unwrap();
    assert_eq!(event(&mon), ("connected".into(), "inproc://s5".into()));
    // Before `a` has looked at the connection, c's sends succeed.
    c.send("lost 1").unwrap();
    c.send("lost 2").unwrap();
    assert_eq!(c.stats().dropped.refused, 0, "not refused yet");
    // `a` adopts and refuses c's connection on its next call.
    assert_eq!(a.try_recv(), Err(Error::WouldBlock));
    let stats = c.stats();
    assert_eq!(stats.dropped.refused, 2, "{stats:?}");
    assert_eq!(stats.dropped.total(), 2);
    assert_eq!(stats.sent, 2, "the sends were accepted");
    assert_eq!(stats.connections, 0);
    assert_eq!(event(&mon), ("dropped".into(), "refused 2".into()));
    assert_eq!(
        c.try_send("x").unwrap_err().error(),
        &Error::HostUnreachable
    );
    assert_eq!(c.stats().dropped.refused, 2, "counted once");
    // Found by a send instead of `stats`: the same count.
    let d = sock(&ctx, SocketType::Pair);
    d.connect("inproc://s5").unwrap();
    d.send("lost 3").unwrap();
    assert_eq!(a.try_recv(), Err(Error::WouldBlock));
    assert_eq!(d.send("y").unwrap_err().error(), &Error::HostUnreachable);
    assert_eq!(d.stats().dropped.refused, 1);
    // Found at close: reported to the monitor before `closed`.
    let e = sock(&ctx, SocketType::Pair);
    let mon2 = sock(&ctx, SocketType::Pair);
    mon2.bind("inproc://s5-mon2").unwrap();
    e.monitor("inproc://s5-mon2").unwrap();
    e.connect("inproc://s5").unwrap();
    e.send("lost 4").unwrap();
    assert_eq!(a.try_recv(), Err(Error::WouldBlock));
    drop(e);
    assert_eq!(event(&mon2), ("connected".into(), "inproc://s5".into()));
    assert_eq!(event(&mon2), ("dropped".into(), "refused 1".into()));
    assert_eq!(event(&mon2), ("closed".into(), "inproc://s5".into()));
    // The accepted peer lost nothing.
    b.send("kept").unwrap();
    assert_eq!(a.recv_timeout(HANG).unwrap(), Message::from("kept"));
}

/// S-3: `monitor` on an endpoint whose PAIR already has a peer (or has a connection
/// waiting that it will take first) fails with `HostUnreachable` instead of losing every
/// event; monitoring the same endpoint again keeps the monitor; a refusal the call could
/// not see shows as overflow and drops the monitor.
#[test]
fn s3_monitor_to_a_taken_pair_is_an_error() {
    let ctx = Context::new();
    let mon = sock(&ctx, SocketType::Pair);
    mon.bind("inproc://s3-taken").unwrap();
    let first = sock(&ctx, SocketType::Push);
    // Waiting in the PAIR's inbox (the PAIR made no call yet): it will take it first.
    first.monitor("inproc://s3-taken").unwrap();
    let second = sock(&ctx, SocketType::Pull);
    assert_eq!(
        second.monitor("inproc://s3-taken"),
        Err(Error::HostUnreachable)
    );
    // Adopted now: still taken.
    first.bind("inproc://s3-first").unwrap();
    assert_eq!(event(&mon), ("bound".into(), "inproc://s3-first".into()));
    assert_eq!(
        second.monitor("inproc://s3-taken"),
        Err(Error::HostUnreachable)
    );
    // Monitoring the same endpoint again keeps the working monitor.
    first.monitor("inproc://s3-taken").unwrap();
    first.bind("inproc://s3-first-2").unwrap();
    assert_eq!(event(&mon), ("bound".into(), "inproc://s3-first-2".into()));
    // Once the peer is gone and the PAIR noticed (a receive found nothing more), the
    // endpoint is free again.
    drop(first);
    assert_eq!(event(&mon), ("closed".into(), "inproc://s3-first-2".into()));
    assert_eq!(mon.try_recv(), Err(Error::WouldBlock));
    second.monitor("inproc://s3-taken").unwrap();
    second.bind("inproc://s3-second").unwrap();
    assert_eq!(event(&mon), ("bound".into(), "inproc://s3-second".into()));

    // A refusal `monitor` cannot see: two monitors connect before the PAIR binds.
    let x = sock(&ctx, SocketType::Push);
    let y = sock(&ctx, SocketType::Push);
    x.monitor("inproc://s3-late").unwrap();
    y.monitor("inproc://s3-late").unwrap();
    let late = sock(&ctx, SocketType::Pair);
    late.bind("inproc://s3-late").unwrap(); // takes x's, refuses y's
    assert_eq!(late.try_recv(), Err(Error::WouldBlock));
    y.bind("inproc://s3-y").unwrap();
    y.bind("inproc://s3-y2").unwrap();
    assert_eq!(
        y.stats().monitor_overflow,
        1,
        "counted, then the monitor is dropped"
    );
    x.bind("inproc://s3-x").unwrap();
    assert_eq!(event(&late), ("bound".into(), "inproc://s3-x".into()));
}
