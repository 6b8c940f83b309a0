//! Integration tests of DEALER and ROUTER: SPEC rules Q-9 to Q-16 (reference rules 41,
//! 43-49, 67, 68, 71; bugs K1 and K10).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{HANG, assert_empty, ep, recv, sock, with_hang_guard};
use inproc::{Bytes, Context, Error, Frame, Message, Socket, SocketType};

/// A message of string frames.
fn frames(f: &[&str]) -> Message {
    Message::from_frames(f.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())))
}

/// Sends, failing the test on error.
#[track_caller]
fn send(s: &Socket, m: impl Into<Message>) {
    s.send_timeout(m, HANG)
        .unwrap_or_else(|e| panic!("send on {s:?} failed: {}", e.error()));
}

/// A DEALER with routing id `id` (if any) connected to `name`.
fn dealer_to(ctx: &Context, id: Option<&str>, name: &str) -> Socket {
    let d = sock(ctx, SocketType::Dealer);
    if let Some(id) = id {
        d.set_routing_id(id.to_owned()).unwrap();
    }
    d.connect(&ep(name)).unwrap();
    d
}

/// Q-9: "DEALER sends round-robin over its peers with room, in attach order, and
/// fair-queues what it receives; messages pass unchanged in both directions."
#[test]
fn q9_dealer_round_robin_out_fair_queue_in_unchanged() {
    let ctx = Context::new();
    let dealer = sock(&ctx, SocketType::Dealer);
    dealer.bind(&ep("q9")).unwrap();
    let peers: Vec<Socket> = (0..3).map(|_| dealer_to(&ctx, None, "q9")).collect();
    for i in 0..6 {
        send(&dealer, frames(&["", &format!("m{i}"), ""]));
    }
    for (p, peer) in peers.iter().enumerate() {
        for k in [p, p + 3] {
            assert_eq!(recv(peer), frames(&["", &format!("m{k}"), ""]));
        }
        assert_empty(peer);
    }
    for (p, peer) in peers.iter().enumerate() {
        for k in 0..2 {
            send(peer, frames(&[&format!("p{p}"), &format!("{k}")]));
        }
    }
    let got: Vec<Message> = (0..6).map(|_| recv(&dealer)).collect();
    let round = |r: &str| got.iter().filter(|m| m.frames()[1] == r.as_bytes()).count();
    for (i, m) in got.iter().enumerate() {
        let expected_round = if i < 3 { "0" } else { "1" };
        assert_eq!(&m.frames()[1][..], expected_round.as_bytes(), "{got:?}");
    }
    assert_eq!((round("0"), round("1")), (3, 3));
    // With no peer, a DEALER blocks.
    let lonely = sock(&ctx, SocketType::Dealer);
    lonely.bind(&ep("q9-lonely")).unwrap();
    assert_eq!(
        lonely.try_send("x").unwrap_err().error(),
        &Error::WouldBlock
    );
}

/// Q-9: "... a peer that closed leaves the send rotation, but what it sent stays
/// readable (K-1), whatever the DEALER sends meanwhile."
#[test]
fn q9_dealer_keeps_a_closed_peers_messages() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.bind(&ep("q9-close")).unwrap();
    let dealer = dealer_to(&ctx, Some("D"), "q9-close");
    send(&router, frames(&["D", "reply 1"]));
    send(&router, frames(&["D", "reply 2"]));
    drop(router);
    // The only peer has gone: the send has nowhere to go ...
    assert_eq!(
        dealer.try_send("request").unwrap_err().error(),
        &Error::WouldBlock
    );
    // ... and the replies are still there.
    assert_eq!(recv(&dealer), Message::from("reply 1"));
    assert_eq!(recv(&dealer), Message::from("reply 2"));
    assert_eq!(dealer.try_recv(), Err(Error::WouldBlock));
    assert_eq!(dealer.connection_count(), 0, "drained and dropped");
}

/// Q-10: "ROUTER returns each message with the sending peer's routing id as its first
/// frame: the id the peer set with `set_routing_id` before connecting or binding."
#[test]
fn q10_router_prepends_the_peers_routing_id() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.bind(&ep("q10")).unwrap();
    let alice = dealer_to(&ctx, Some("alice"), "q10");
    let bob = dealer_to(&ctx, Some("bob"), "q10");
    send(&alice, frames(&["hi", "there"]));
    send(&bob, Message::new());
    assert_eq!(recv(&router), frames(&["alice", "hi", "there"]));
    assert_eq!(recv(&router), frames(&["bob", ""]));
    // The id is taken at connect time.
    alice.set_routing_id("renamed").unwrap();
    send(&alice, "again");
    assert_eq!(recv(&router), frames(&["alice", "again"]));
}

/// Q-10: "... a peer that set no id gets a generated one: 5 bytes, `0x00` then a
/// big-endian 32-bit counter that starts at a value derived from the ROUTER's socket
/// and goes up by one per such peer (skipping ids in use)."
#[test]
fn q10_generated_ids_are_zero_then_consecutive_counters() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.bind(&ep("q10-gen")).unwrap();
    let peers: Vec<Socket> = (0..4)
        .map(|i| {
            // A peer with an explicit id in between does not use up a counter value.
            let id = (i == 2).then_some("named");
            dealer_to(&ctx, id, "q10-gen")
        })
        .collect();
    let mut counters = Vec::new();
    for (i, p) in peers.iter().enumerate() {
        send(p, format!("from {i}"));
        let m = recv(&router);
        assert_eq!(&m.frames()[1][..], format!("from {i}").as_bytes());
        let id = &m.frames()[0];
        if i == 2 {
            assert_eq!(&id[..], b"named");
            continue;
        }
        assert_eq!(id.len(), 5, "{id:?}");
        assert_eq!(id[0], 0);
        counters.push(u32::from_be_bytes(id[1..].try_into().unwrap()));
        // The generated id routes back to the peer.
        send(
            &router,
            Message::from_frames([id.clone(), Frame::from("back")]),
        );
        assert_eq!(recv(p), Message::from("back"));
    }
    assert_eq!(
        counters,
        [0, 1, 2].map(|k| counters[0].wrapping_add(k)).to_vec(),
        "consecutive"
    );

    // An explicit id equal to the next generated one: the generator skips it.
    let next = counters[2].wrapping_add(1);
    let mut taken = vec![0u8];
    taken.extend_from_slice(&next.to_be_bytes());
    let squatter = sock(&ctx, SocketType::Dealer);
    squatter.set_routing_id(taken.clone()).unwrap();
    squatter.connect(&ep("q10-gen")).unwrap();
    let anon = dealer_to(&ctx, None, "q10-gen");
    send(&anon, "anon");
    let m = recv(&router);
    assert_eq!(&m.frames()[1][..], b"anon");
    assert_eq!(&m.frames()[0][1..], &next.wrapping_add(1).to_be_bytes()[..]);
    send(
        &router,
        Message::from_frames([Bytes::from(taken), Bytes::from("sq")]),
    );
    assert_eq!(recv(&squatter), Message::from("sq"));

    // Another ROUTER starts elsewhere.
    let other = sock(&ctx, SocketType::Router);
    other.bind(&ep("q10-gen2")).unwrap();
    let p = dealer_to(&ctx, None, "q10-gen2");
    send(&p, "x");
    let id = recv(&other).frames()[0].clone();
    assert_ne!(
        u32::from_be_bytes(id[1..].try_into().unwrap()),
        counters[0],
        "the start depends on the socket"
    );
}

/// Q-11: "ROUTER sends the rest of a message to the peer its first frame names; a
/// message of a single frame is dropped and the send succeeds; a message for an unknown
/// id (the empty id included), for a peer that has gone, or for a full peer, is dropped
/// silently and the send succeeds."
#[test]
fn q11_router_routes_by_first_frame_and_drops_silently() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.set_sndhwm(1).unwrap();
    router.bind(&ep("q11")).unwrap();
    let a = dealer_to(&ctx, Some("A"), "q11");
    let b = dealer_to(&ctx, Some("B"), "q11");

    send(&router, frames(&["B", "to b", ""]));
    send(&router, frames(&["A", "to a"]));
    assert_eq!(recv(&a), Message::from("to a"));
    assert_eq!(recv(&b), frames(&["to b", ""]));

    router.try_send("A").unwrap();
    router.try_send(Message::new()).unwrap();
    router.try_send(frames(&["Z", "nobody"])).unwrap();
    router.try_send(frames(&["", "empty id"])).unwrap();
    assert_empty(&a);
    assert_empty(&b);

    // A full peer (window 1 + 1 = 2, B reads nothing): the rest is dropped.
    b.set_rcvhwm(1).unwrap();
    for i in 0..5 {
        router.try_send(frames(&["B", &format!("{i}")])).unwrap();
    }
    assert_eq!(recv(&b), Message::from("0"));
    assert_eq!(recv(&b), Message::from("1"));
    assert_empty(&b);

    // A peer that has gone.
    drop(a);
    router.try_send(frames(&["A", "late"])).unwrap();
    send(&router, frames(&["B", "still routed"]));
    assert_eq!(recv(&b), Message::from("still routed"));
}

/// Q-12: "With ROUTER_MANDATORY, a send to an unknown id, or to a peer that has gone,
/// fails with `HostUnreachable`; a send to a full peer blocks (`try_send`: `WouldBlock`);
/// either way the message comes back unchanged."
#[test]
fn q12_router_mandatory_host_unreachable_and_would_block() {
    with_hang_guard(Duration::from_secs(30), || {
        let ctx = Context::new();
        let router = sock(&ctx, SocketType::Router);
        router.set_router_mandatory(true).unwrap();
        router.set_sndhwm(1).unwrap();
        router.bind(&ep("q12")).unwrap();
        let a = sock(&ctx, SocketType::Dealer);
        a.set_routing_id("A").unwrap();
        a.set_rcvhwm(1).unwrap();
        a.connect(&ep("q12")).unwrap();

        let e = router.try_send(frames(&["Z", "x", "y"])).unwrap_err();
        assert_eq!(e.error(), &Error::HostUnreachable);
        assert_eq!(e.message(), &frames(&["Z", "x", "y"]));
        assert_eq!(
            router.send(frames(&["Z", "x"])).unwrap_err().error(),
            &Error::HostUnreachable,
            "a blocking send fails at once too"
        );
        router.try_send("A").unwrap(); // One frame: still dropped, still success.

        router.try_send(frames(&["A", "0"])).unwrap();
        router.try_send(frames(&["A", "1"])).unwrap();
        let e = router.try_send(frames(&["A", "2", "more"])).unwrap_err();
        assert_eq!(e.error(), &Error::WouldBlock);
        assert_eq!(e.message(), &frames(&["A", "2", "more"]));

        // A blocking send waits until A reads.
        let start = Arc::new(Barrier::new(2));
        let sender = {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                send(&router, frames(&["A", "2", "more"]));
                router
            })
        };
        start.wait();
        assert_eq!(recv(&a), Message::from("0"));
        assert_eq!(recv(&a), Message::from("1"));
        assert_eq!(recv(&a), frames(&["2", "more"]));
        let router = sender.join().unwrap();

        // Mandatory off again: unknown ids are dropped.
        router.set_router_mandatory(false).unwrap();
        router.try_send(frames(&["Z", "x"])).unwrap();
        router.set_router_mandatory(true).unwrap();

        // A peer that has gone is unreachable.
        drop(a);
        let e = router.try_send(frames(&["A", "late"])).unwrap_err();
        assert_eq!(e.error(), &Error::HostUnreachable);
        assert_eq!(e.message(), &frames(&["A", "late"]));
    });
}

/// "ROUTER_MANDATORY is a ROUTER option: other types answer `NotSupported`."
#[test]
fn q12_router_mandatory_only_on_router() {
    let ctx = Context::new();
    for ty in [SocketType::Req, SocketType::Rep, SocketType::Dealer] {
        assert_eq!(
            sock(&ctx, ty).set_router_mandatory(true),
            Err(Error::NotSupported),
            "{ty}"
        );
    }
    let router = sock(&ctx, SocketType::Router);
    assert_eq!(router.subscribe("x"), Err(Error::NotSupported));
}

/// Q-13: "A peer whose routing id is already in use takes it over (handover): sends to
/// the id go to the newcomer; the older pipe stays readable and its messages arrive
/// under the same id. No message is stuck (libzmq's K10)."
#[test]
fn q13_duplicate_id_handover_leaves_nothing_stuck() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.set_router_mandatory(true).unwrap();
    router.bind(&ep("q13")).unwrap();
    let old = dealer_to(&ctx, Some("S"), "q13");
    send(&old, "one");
    assert_eq!(recv(&router), frames(&["S", "one"]));
    let new = dealer_to(&ctx, Some("S"), "q13");
    send(&new, "two");
    send(&old, "three");
    let got: HashSet<Message> = (0..2).map(|_| recv(&router)).collect();
    assert_eq!(
        got,
        HashSet::from([frames(&["S", "two"]), frames(&["S", "three"])])
    );
    send(&router, frames(&["S", "to newest"]));
    assert_eq!(recv(&new), Message::from("to newest"));
    assert_empty(&old);

    // The newcomer leaves: the id is unroutable; the old pipe is still read.
    drop(new);
    assert_eq!(
        router.try_send(frames(&["S", "x"])).unwrap_err().error(),
        &Error::HostUnreachable
    );
    send(&old, "four");
    assert_eq!(recv(&router), frames(&["S", "four"]));
    assert_empty(&old);
}

/// Q-14: "Connect before bind works with routing ids in both directions: a ROUTER that
/// binds sees the id a DEALER set before connecting; a ROUTER that connected before a
/// DEALER bound learns the DEALER's id at the bind and can address it from then on."
#[test]
fn q14_dealer_with_id_connects_before_router_binds() {
    let ctx = Context::new();
    let dealer = dealer_to(&ctx, Some("A"), "q14-a");
    send(&dealer, frames(&["", "early"])); // An empty first frame survives (K15, #859).
    let router = sock(&ctx, SocketType::Router);
    router.bind(&ep("q14-a")).unwrap();
    assert_eq!(recv(&router), frames(&["A", "", "early"]));
    send(&router, frames(&["A", "back"]));
    assert_eq!(recv(&dealer), Message::from("back"));
}

/// Q-14: "... a ROUTER that connected before a DEALER bound learns the DEALER's id at the
/// bind and can address it from then on; until then that pipe is not routable."
#[test]
fn q14_router_connects_before_dealer_with_id_binds() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.set_router_mandatory(true).unwrap();
    router.connect(&ep("q14-b")).unwrap();
    assert_eq!(
        router
            .try_send(frames(&["B", "too early"]))
            .unwrap_err()
            .error(),
        &Error::HostUnreachable
    );
    let dealer = sock(&ctx, SocketType::Dealer);
    dealer.set_routing_id("B").unwrap();
    dealer.bind(&ep("q14-b")).unwrap();
    send(&router, frames(&["B", "hello"]));
    assert_eq!(recv(&dealer), Message::from("hello"));
    send(&dealer, "reply");
    assert_eq!(recv(&router), frames(&["B", "reply"]));

    // A binder without an id gets a generated one.
    let router2 = sock(&ctx, SocketType::Router);
    router2.connect(&ep("q14-c")).unwrap();
    let anon = sock(&ctx, SocketType::Dealer);
    anon.bind(&ep("q14-c")).unwrap();
    send(&anon, "x");
    let m = recv(&router2);
    assert_eq!((m.frames()[0].len(), m.frames()[0][0]), (5, 0));
}

/// "... a ROUTER blocked in `recv` on such a connection is woken by the bind."
#[test]
fn q14_blocked_router_is_woken_by_the_bind() {
    with_hang_guard(Duration::from_secs(30), || {
        let ctx = Context::new();
        let router = sock(&ctx, SocketType::Router);
        router.connect(&ep("q14-wake")).unwrap();
        let started = Arc::new(Barrier::new(2));
        let receiver = {
            let started = started.clone();
            thread::spawn(move || {
                started.wait();
                recv(&router)
            })
        };
        started.wait();
        let dealer = sock(&ctx, SocketType::Dealer);
        dealer.set_routing_id("W").unwrap();
        dealer.bind(&ep("q14-wake")).unwrap();
        send(&dealer, "wake up");
        assert_eq!(receiver.join().unwrap(), frames(&["W", "wake up"]));
    });
}

/// Q-15: "A ROUTER or REP that connected to an unbound name and disconnected it leaves
/// nothing that can fail when the name is bound later (libzmq aborts, K1): the bind
/// succeeds, and binder and socket keep working."
#[test]
fn q15_disconnected_pending_router_or_rep_then_bind_is_harmless() {
    let ctx = Context::new();
    for ty in [SocketType::Router, SocketType::Rep] {
        for binder_ty in [SocketType::Dealer, SocketType::Req] {
            let name = format!("q15-{ty}-{binder_ty}");
            let s = sock(&ctx, ty);
            s.connect(&ep(&name)).unwrap();
            s.disconnect(&ep(&name)).unwrap();
            assert_eq!(s.try_recv(), Err(Error::WouldBlock), "{ty}");
            let binder = sock(&ctx, binder_ty);
            binder.set_routing_id("binder").unwrap();
            binder.bind(&ep(&name)).unwrap();
            assert!(binder.try_recv().is_err(), "{ty} / {binder_ty}");
            // Both still work: the socket connects again and talks to the binder.
            s.connect(&ep(&name)).unwrap();
            match (ty, binder_ty) {
                (SocketType::Router, SocketType::Dealer) => {
                    send(&s, frames(&["binder", "q"]));
                    assert_eq!(recv(&binder), Message::from("q"));
                    send(&binder, "a");
                    assert_eq!(recv(&s), frames(&["binder", "a"]));
                }
                (SocketType::Router, _) => {
                    send(&binder, "q");
                    assert_eq!(recv(&s), frames(&["binder", "", "q"]));
                    send(&s, frames(&["binder", "", "a"]));
                    assert_eq!(recv(&binder), Message::from("a"));
                }
                (_, SocketType::Dealer) => {
                    send(&binder, frames(&["", "q"]));
                    assert_eq!(recv(&s), Message::from("q"));
                    send(&s, "a");
                    assert_eq!(recv(&binder), frames(&["", "a"]));
                }
                _ => {
                    send(&binder, "q");
                    assert_eq!(recv(&s), Message::from("q"));
                    send(&s, "a");
                    assert_eq!(recv(&binder), Message::from("a"));
                }
            }
        }
    }
}

/// Q-16: "No input makes a pattern panic or hang: empty messages, single frames, empty
/// or huge ids, garbage envelopes, on every type in every state."
#[test]
fn q16_odd_inputs_never_panic() {
    with_hang_guard(Duration::from_secs(30), || {
        let ctx = Context::new();
        let odd = || {
            vec![
                Message::new(),
                Message::from(""),
                frames(&["", ""]),
                frames(&["", "", ""]),
                frames(&["x"]),
                Message::from_frames([vec![0u8; 300_000], vec![]]),
                Message::from_frames([vec![0xffu8; 256], b"x".to_vec()]),
                Message::from_frames([vec![0u8; 5], b"x".to_vec()]),
            ]
        };
        for (i, ty) in [
            SocketType::Req,
            SocketType::Rep,
            SocketType::Dealer,
            SocketType::Router,
        ]
        .into_iter()
        .enumerate()
        {
            for mandatory in [false, true] {
                let name = format!("q16-{i}-{mandatory}");
                let s = sock(&ctx, ty);
                if ty == SocketType::Router {
                    s.set_router_mandatory(mandatory).unwrap();
                }
                s.bind(&ep(&name)).unwrap();
                let peers: Vec<Socket> = [SocketType::Dealer, SocketType::Router]
                    .into_iter()
                    .map(|pty| {
                        let p = sock(&ctx, pty);
                        p.set_routing_id(vec![7u8; 255]).unwrap();
                        p.connect(&ep(&name)).unwrap();
                        p
                    })
                    .collect();
                for m in odd() {
                    let _ = s.try_send(m);
                    let _ = s.try_recv();
                }
                for p in &peers {
                    for m in odd() {
                        let _ = p.try_send(m);
                    }
                }
                for _ in 0..20 {
                    let _ = s.try_recv();
                    let _ = s.try_send(Message::new());
                }
                for p in &peers {
                    while p.try_recv().is_ok() {}
                }
            }
        }
    });
}
