//! Integration tests of connecting: SPEC rules C-1 to C-7 (connect before and after bind,
//! pending connections, reconnection and disconnect).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::{
    assert_empty, counted_msg, dropped, ep, fill, num_msg, num_of, pair_of, recv, recv_num, sock,
};
use inproc::{Context, Error, Message, SocketType};

/// C-1: "Connect before bind works: `connect` returns at once and the connector can send
/// straight away, up to its own SNDHWM (0 = unlimited)."
#[test]
fn c1_connect_before_bind_sends_up_to_own_sndhwm() {
    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(5).unwrap();
    push.connect(&ep("c1")).unwrap();
    assert_eq!(push.connection_count(), 1);
    assert_eq!(
        fill(&push, 0, 100),
        5,
        "pending window is the connector's SNDHWM"
    );

    // SNDHWM 0: unlimited while pending.
    let unlimited = sock(&ctx, SocketType::Push);
    unlimited.set_sndhwm(0).unwrap();
    unlimited.connect(&ep("c1-unlimited")).unwrap();
    assert_eq!(fill(&unlimited, 0, 5000), 5000, "SNDHWM 0 is unlimited");

    // The same for a PAIR connector.
    let pair = sock(&ctx, SocketType::Pair);
    pair.set_sndhwm(3).unwrap();
    pair.connect(&ep("c1-pair")).unwrap();
    assert_eq!(fill(&pair, 0, 100), 3);

    // And what was sent is delivered once a socket binds.
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c1")).unwrap();
    for i in 0..5 {
        assert_eq!(recv_num(&pull), i);
    }
    assert_empty(&pull);
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c1-unlimited")).unwrap();
    for i in 0..5000 {
        assert_eq!(recv_num(&pull), i);
    }
}

/// C-2: "Messages sent before the bind are delivered in order when a socket binds the
/// name, even if the connector closed (or disconnected) meanwhile."
#[test]
fn c2_pending_messages_survive_connector_close() {
    let ctx = Context::new();
    let closed = sock(&ctx, SocketType::Push);
    closed.connect(&ep("c2")).unwrap();
    for i in 0..10 {
        closed.send(num_msg(i)).unwrap();
    }
    closed.close();

    let disconnected = sock(&ctx, SocketType::Push);
    disconnected.connect(&ep("c2")).unwrap();
    for i in 100..110 {
        disconnected.send(num_msg(i)).unwrap();
    }
    disconnected.disconnect(&ep("c2")).unwrap();
    assert_eq!(
        ctx.endpoint_count(),
        1,
        "the pending entry outlives its connectors"
    );

    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c2")).unwrap();
    let got: Vec<u64> = (0..20).map(|_| recv_num(&pull)).collect();
    let from_closed: Vec<u64> = got.iter().copied().filter(|&n| n < 100).collect();
    let from_disconnected: Vec<u64> = got.iter().copied().filter(|&n| n >= 100).collect();
    assert_eq!(
        from_closed,
        (0..10).collect::<Vec<_>>(),
        "in order: {got:?}"
    );
    assert_eq!(
        from_disconnected,
        (100..110).collect::<Vec<_>>(),
        "in order: {got:?}"
    );
    assert_empty(&pull);

    // The same for a PAIR, whose connector closed before the bind.
    let a = sock(&ctx, SocketType::Pair);
    a.connect(&ep("c2-pair")).unwrap();
    a.send(Message::from_frames(["multi", "part"])).unwrap();
    a.send("second").unwrap();
    drop(a);
    let b = sock(&ctx, SocketType::Pair);
    b.bind(&ep("c2-pair")).unwrap();
    assert_eq!(recv(&b), Message::from_frames(["multi", "part"]));
    assert_eq!(recv(&b), Message::from("second"));
    assert_empty(&b);
}

/// C-3: "Several pending connectors are attached in connect order."
#[test]
fn c3_pending_connectors_attached_in_connect_order() {
    let ctx = Context::new();
    // PULL binder: fair queueing starts at the first attached pipe and goes in attach
    // order. The connectors send in reverse connect order, so send order cannot explain
    // the result.
    let pushes: Vec<_> = (0..4)
        .map(|_| {
            let p = sock(&ctx, SocketType::Push);
            p.connect(&ep("c3-pull")).unwrap();
            p
        })
        .collect();
    for (i, p) in pushes.iter().enumerate().rev() {
        p.send(num_msg(i as u64)).unwrap();
    }
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c3-pull")).unwrap();
    let got: Vec<u64> = (0..4).map(|_| recv_num(&pull)).collect();
    assert_eq!(got, [0, 1, 2, 3]);

    // PUSH binder: round-robin starts at the first attached pipe, in attach order.
    let pulls: Vec<_> = (0..4)
        .map(|_| {
            let p = sock(&ctx, SocketType::Pull);
            p.connect(&ep("c3-push")).unwrap();
            p
        })
        .collect();
    let push = sock(&ctx, SocketType::Push);
    push.bind(&ep("c3-push")).unwrap();
    for i in 0..8 {
        push.send(num_msg(i)).unwrap();
    }
    for (i, p) in pulls.iter().enumerate() {
        assert_eq!(recv_num(p), i as u64, "connector {i}");
        assert_eq!(recv_num(p), i as u64 + 4, "connector {i}");
        assert_empty(p);
    }
}

/// C-4: "Connect after bind attaches at once: the bound socket can send as soon as the
/// peer's `connect` returned."
#[test]
fn c4_bound_socket_sends_once_connect_returned() {
    let ctx = Context::new();
    for i in 0..200u64 {
        let name = format!("c4-{i}");
        let (bound, connected) = if i % 2 == 0 {
            pair_of(&ctx, SocketType::Push, SocketType::Pull, &name)
        } else {
            pair_of(&ctx, SocketType::Pair, SocketType::Pair, &name)
        };
        // Non-blocking: there must be a peer already.
        bound
            .try_send(num_msg(i))
            .unwrap_or_else(|e| panic!("iteration {i}: {e}"));
        assert_eq!(num_of(&connected.try_recv().unwrap()), i);
    }
    // Across threads: connect on one thread, the bound socket sends on another as soon
    // as it learns (through a channel) that connect returned.
    let push = sock(&ctx, SocketType::Push);
    push.bind(&ep("c4-threads")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..50u64 {
                let pull = sock(&ctx, SocketType::Pull);
                pull.connect(&ep("c4-threads")).unwrap();
                tx.send(()).unwrap();
                assert_eq!(recv_num(&pull), i);
            }
        });
        for i in 0..50u64 {
            rx.recv().unwrap();
            push.try_send(num_msg(i))
                .unwrap_or_else(|e| panic!("iteration {i}: {e}"));
        }
    });
}

/// C-5: "Connecting twice gives two connections (no de-duplication)."
#[test]
fn c5_connect_twice_gives_two_connections() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1).unwrap();
    pull.bind(&ep("c5")).unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.set_sndhwm(1).unwrap();
    push.connect(&ep("c5")).unwrap();
    push.connect(&ep("c5")).unwrap();
    assert_eq!(push.connection_count(), 2);
    assert_eq!(pull.connection_count(), 2);
    // Each connection has a window of 1 + 1: two connections take four messages.
    assert_eq!(fill(&push, 0, 100), 4);
    let mut got: Vec<u64> = (0..4).map(|_| recv_num(&pull)).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);

    // Pending too: two pending connections are two connections at bind.
    let p2 = sock(&ctx, SocketType::Push);
    p2.set_sndhwm(1).unwrap();
    p2.connect(&ep("c5-pending")).unwrap();
    p2.connect(&ep("c5-pending")).unwrap();
    assert_eq!(fill(&p2, 0, 100), 2, "two pending windows of one");
    let pull2 = sock(&ctx, SocketType::Pull);
    pull2.bind(&ep("c5-pending")).unwrap();
    assert_eq!(pull2.connection_count(), 2);
}

/// C-6: "No automatic reconnection: when the binder closes, its connectors lose the
/// connection for good, and a new binder of the name does not get them."
#[test]
fn c6_no_reconnect_after_binder_closes() {
    let ctx = Context::new();
    let (old, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "c6");
    push.send("before").unwrap();
    assert_eq!(recv(&old), Message::from("before"));
    old.close();
    // The PUSH finds the connection gone and drops it.
    assert_eq!(
        push.try_send("lost").unwrap_err().error(),
        &Error::WouldBlock
    );
    assert_eq!(push.connection_count(), 0);
    let new = sock(&ctx, SocketType::Pull);
    new.bind(&ep("c6")).unwrap();
    assert_eq!(
        push.try_send("after").unwrap_err().error(),
        &Error::WouldBlock
    );
    assert_eq!(push.connection_count(), 0);
    assert_eq!(new.connection_count(), 0);
    assert_empty(&new);

    // PAIR: the connector keeps no connection to the new binder either.
    let (old, pair) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "c6-pair");
    pair.send("x").unwrap();
    assert_eq!(recv(&old), Message::from("x"));
    drop(old);
    let new = sock(&ctx, SocketType::Pair);
    new.bind(&ep("c6-pair")).unwrap();
    assert_eq!(pair.try_send("y").unwrap_err().error(), &Error::WouldBlock);
    assert_eq!(pair.try_recv(), Err(Error::WouldBlock));
    assert_eq!(new.connection_count(), 0);
    assert_empty(&new);
    // It can connect again explicitly, and then it works.
    pair.connect(&ep("c6-pair")).unwrap();
    pair.send("z").unwrap();
    assert_eq!(recv(&new), Message::from("z"));
}

/// C-7: "`disconnect` closes every connection the socket made to that endpoint: what the
/// disconnecting socket already sent is still delivered; what was queued toward it is
/// dropped."
#[test]
fn c7_disconnect_delivers_what_was_sent() {
    let ctx = Context::new();
    // PUSH with two connections to one name.
    let pull = sock(&ctx, SocketType::Pull);
    pull.bind(&ep("c7")).unwrap();
    let push = sock(&ctx, SocketType::Push);
    push.connect(&ep("c7")).unwrap();
    push.connect(&ep("c7")).unwrap();
    // And one to another name, which must survive.
    let other = sock(&ctx, SocketType::Pull);
    other.bind(&ep("c7-other")).unwrap();
    push.connect(&ep("c7-other")).unwrap();
    for i in 0..6 {
        push.send(num_msg(i)).unwrap();
    }
    push.disconnect(&ep("c7")).unwrap();
    assert_eq!(push.connection_count(), 1);
    // Round-robin gave 0, 1, 3, 4 to the two `c7` connections: all delivered.
    let mut got: Vec<u64> = (0..4).map(|_| recv_num(&pull)).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 3, 4]);
    assert_empty(&pull);
    assert_eq!(recv_num(&other), 2);
    assert_eq!(recv_num(&other), 5);
    // Later sends go only to the remaining connection.
    push.send(num_msg(6)).unwrap();
    assert_eq!(recv_num(&other), 6);
    assert_empty(&pull);

    // PAIR: what was queued toward the disconnecting socket is dropped.
    let drops = Arc::new(AtomicUsize::new(0));
    let (b, a) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "c7-pair");
    b.send(counted_msg(&drops, &[b"to a"])).unwrap();
    a.send("to b").unwrap();
    a.disconnect(&ep("c7-pair")).unwrap();
    assert_eq!(a.connection_count(), 0);
    assert_eq!(
        a.try_recv(),
        Err(Error::WouldBlock),
        "nothing from the old connection"
    );
    assert_eq!(recv(&b), Message::from("to b"), "what a sent is delivered");
    assert_empty(&b);
    assert_eq!(dropped(&drops), 1, "the message queued toward a was freed");
    // a can connect again; the dropped message does not reappear.
    a.connect(&ep("c7-pair")).unwrap();
    assert_empty(&a);
    b.send("new").unwrap();
    assert_eq!(recv(&a), Message::from("new"));
}

/// C-2: the binder's own waiters learn of the messages its `bind` adopts: a receive
/// that was already waiting (a pending `recv_async` here, polled before the bind, so the
/// order is certain) is woken by that `bind` and gets the message. Before the fix the
/// bind woke only the connectors, and a `recv` blocked on another thread hung.
#[test]
fn c2_own_bind_wakes_a_waiting_receive() {
    use std::future::Future;
    use std::task::{Context as TaskContext, Poll};

    let ctx = Context::new();
    let push = sock(&ctx, SocketType::Push);
    push.connect(&ep("c2-own-bind")).unwrap();
    push.send("queued").unwrap();
    let pull = sock(&ctx, SocketType::Pull);
    let (count, waker) = common::counting_waker();
    let mut fut = pull.recv_async();
    let mut cx = TaskContext::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending());
    pull.bind(&ep("c2-own-bind")).unwrap();
    assert!(
        count.count() > 0,
        "the bind that adopted a pipe with a message did not wake the pending receive"
    );
    match std::pin::Pin::new(&mut fut).poll(&mut cx) {
        Poll::Ready(Ok(m)) => assert_eq!(m, Message::from("queued")),
        other => panic!("after the wake-up: {other:?}"),
    }
}

/// C-2, threaded: a `recv` blocked on another thread returns the message that the same
/// socket's later `bind` adopts (whichever of the two runs first).
#[test]
fn c2_own_bind_unblocks_a_recv_on_another_thread() {
    common::with_hang_guard(common::HANG, || {
        let ctx = Context::new();
        let push = sock(&ctx, SocketType::Push);
        push.connect(&ep("c2-own-bind-thread")).unwrap();
        push.send("queued").unwrap();
        let pull = Arc::new(sock(&ctx, SocketType::Pull));
        let receiver = {
            let pull = pull.clone();
            std::thread::spawn(move || pull.recv())
        };
        pull.bind(&ep("c2-own-bind-thread")).unwrap();
        assert_eq!(receiver.join().unwrap().unwrap(), Message::from("queued"));
    });
}
