//! Connections still waiting for their name when their connector closes or disconnects
//! (SPEC C-8, C-9): an abandoned connector that sent nothing leaves nothing behind;
//! what it sent follows ZMQ_LINGER (kept until bound by default, dropped at once with
//! zero, dropped when it expires with a duration), every drop counted and reported.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::time::{Duration, Instant};

use common::{HANG, ep, sock};
use inproc::{Context, Error, Message, SocketType};

/// C-8: connect / close cycles on a name nobody binds keep nothing: the name's entry goes
/// with the last connection waiting on it, and a later binder adopts nothing.
#[test]
fn c8_abandoned_connectors_that_sent_nothing_leave_nothing() {
    let ctx = Context::new();
    for _ in 0..1_000 {
        let push = sock(&ctx, SocketType::Push);
        push.connect(&ep("c8-nobody")).unwrap();
        assert_eq!(ctx.endpoint_count(), 1, "waiting while the connector lives");
    }
    assert_eq!(ctx.endpoint_count(), 0);
    // Disconnecting takes it back too, and only the disconnected one.
    let push = sock(&ctx, SocketType::Push);
    push.connect(&ep("c8-a")).unwrap();
    push.connect(&ep("c8-b")).unwrap();
    push.disconnect(&ep("c8-a")).unwrap();
    assert_eq!(ctx.endpoint_count(), 1);
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c8-b")).unwrap();
    assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
    assert_eq!(
        pull.connection_count(),
        1,
        "the connection still wanted is adopted"
    );
    let pull_a = sock(&ctx, SocketType::Pull);
    pull_a.bind(&ep("c8-a")).unwrap();
    assert_eq!(pull_a.try_recv().unwrap_err(), Error::WouldBlock);
    assert_eq!(pull_a.connection_count(), 0, "nothing left for a");
}

/// C-9, default: what a closed connector sent waits for the bind and is delivered, in
/// order (libzmq's infinite linger; C-2).
#[test]
fn c9_default_linger_keeps_messages_until_bound() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    assert_eq!(push.linger(), None);
    push.connect(&ep("c9-default")).unwrap();
    for i in 0..3u8 {
        push.send(vec![i]).unwrap();
    }
    drop(push);
    assert_eq!(ctx.endpoint_count(), 1);
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c9-default")).unwrap();
    for i in 0..3u8 {
        assert_eq!(pull.try_recv().unwrap(), Message::from(vec![i]));
    }
}

/// C-9, zero: dropped at the close, counted and reported to the monitor; the name's
/// entry goes; a later binder gets nothing.
#[test]
fn c9_zero_linger_drops_at_close_counted_and_reported() {
    let ctx = Context::new();
    let events = sock(&ctx, SocketType::Pair);
    events.bind(&ep("c9-zero-monitor")).unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.monitor(&ep("c9-zero-monitor")).unwrap();
    push.set_linger(Some(Duration::ZERO)).unwrap();
    push.connect(&ep("c9-zero")).unwrap();
    for i in 0..3u8 {
        push.send(vec![i]).unwrap();
    }
    drop(push);
    assert_eq!(ctx.endpoint_count(), 1, "only the monitor's name");
    let mut seen = Vec::new();
    while let Ok(m) = events.try_recv() {
        let f = m.frames();
        seen.push((f[0].to_vec(), f[1].to_vec()));
    }
    assert!(
        seen.contains(&(b"dropped".to_vec(), b"linger 3".to_vec())),
        "events: {seen:?}"
    );
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c9-zero")).unwrap();
    assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
}

/// C-9, zero linger on a disconnect: the disconnecting socket stays open, so its own
/// counters show the drop.
#[test]
fn c9_zero_linger_disconnect_counts_in_stats() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_linger(Some(Duration::ZERO)).unwrap();
    push.connect(&ep("c9-disc")).unwrap();
    push.send("a").unwrap();
    push.send("b").unwrap();
    push.disconnect(&ep("c9-disc")).unwrap();
    assert_eq!(push.stats().dropped.linger, 2);
    assert_eq!(push.stats().dropped.total(), 2);
    assert_eq!(ctx.endpoint_count(), 0);
}

/// C-9: linger governs only connections still waiting for their name: with a peer
/// there, what was sent stays readable after the close even with zero linger (ref 30).
#[test]
fn c9_zero_linger_leaves_connected_pipes_alone() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c9-connected")).unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.set_linger(Some(Duration::ZERO)).unwrap();
    push.connect(&ep("c9-connected")).unwrap();
    push.send("kept").unwrap();
    drop(push);
    assert_eq!(pull.try_recv().unwrap(), Message::from("kept"));
}

/// C-9, a duration: a bind within it delivers.
#[test]
fn c9_finite_linger_delivers_when_bound_in_time() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_linger(Some(Duration::from_secs(3600))).unwrap();
    push.connect(&ep("c9-in-time")).unwrap();
    push.send("on time").unwrap();
    drop(push);
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c9-in-time")).unwrap();
    assert_eq!(pull.try_recv().unwrap(), Message::from("on time"));
    assert_eq!(pull.stats().dropped.linger, 0);
}

/// C-9, a duration: a bind after it finds the messages expired, drops them and counts
/// them in its own stats.
#[test]
fn c9_finite_linger_expired_messages_are_dropped_by_the_bind() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    let linger = Duration::from_micros(50);
    push.set_linger(Some(linger)).unwrap();
    push.connect(&ep("c9-late")).unwrap();
    push.send("late 1").unwrap();
    push.send("late 2").unwrap();
    let closed = Instant::now();
    drop(push);
    // Wait for the clock, not for the library: the linger must have run out.
    while closed.elapsed() <= linger {
        assert!(closed.elapsed() < HANG, "the clock did not move");
        std::hint::spin_loop();
    }
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c9-late")).unwrap();
    assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
    assert_eq!(pull.stats().dropped.linger, 2);
    assert_eq!(pull.connection_count(), 0);
}

/// Setting linger after shutdown is `Terminated`, like every option.
#[test]
fn c9_set_linger_after_shutdown_is_terminated() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    ctx.shutdown();
    assert_eq!(
        push.set_linger(Some(Duration::ZERO)).unwrap_err(),
        Error::Terminated
    );
}
