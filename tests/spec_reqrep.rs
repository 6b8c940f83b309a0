//! Integration tests of REQ and REP: SPEC rules Q-1 to Q-8 (reference rules 67-70).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::{HANG, assert_empty, ep, recv, sock, with_hang_guard};
use inproc::{Bytes, Context, Error, Message, Socket, SocketType};

/// A message of string frames.
fn frames(f: &[&str]) -> Message {
    Message::from_frames(f.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())))
}

/// Sends, failing the test on error (blocking with the socket's defaults).
#[track_caller]
fn send(s: &Socket, m: impl Into<Message>) {
    s.send_timeout(m, HANG)
        .unwrap_or_else(|e| panic!("send on {s:?} failed: {}", e.error()));
}

/// Q-1: "REQ puts an empty delimiter frame in front of each request, and removes it from
/// the reply it returns."
#[test]
fn q1_req_adds_delimiter_and_strips_it_from_the_reply() {
    let ctx = Context::new();
    let router = sock(&ctx, SocketType::Router);
    router.bind(&ep("q1")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.set_routing_id("client").unwrap();
    req.connect(&ep("q1")).unwrap();

    send(&req, frames(&["a", "b"]));
    assert_eq!(recv(&router), frames(&["client", "", "a", "b"]));
    send(&router, frames(&["client", "", "x", "y"]));
    assert_eq!(recv(&req), frames(&["x", "y"]));

    // An empty request is the delimiter plus one empty frame; its reply likewise.
    send(&req, Message::new());
    assert_eq!(recv(&router), frames(&["client", "", ""]));
    send(&router, frames(&["client", "", ""]));
    assert_eq!(recv(&req), Message::new());
}

/// Q-2: "REQ sends each request to the next peer with room, round-robin in attach order
/// (for a binder, connect order); with no peer able to take it, `send` blocks and
/// `try_send` gives `WouldBlock` with the request back unchanged."
#[test]
fn q2_req_round_robin_over_three_reps_in_connect_order() {
    let ctx = Context::new();
    let req = sock(&ctx, SocketType::Req);
    req.bind(&ep("q2")).unwrap();
    let reps: Vec<Socket> = (0..3)
        .map(|_| {
            let rep = sock(&ctx, SocketType::Rep);
            rep.connect(&ep("q2")).unwrap();
            rep
        })
        .collect();
    for round in 0..9usize {
        send(&req, format!("req {round}"));
        let target = round % 3;
        for (i, rep) in reps.iter().enumerate() {
            if i != target {
                assert_empty(rep);
            }
        }
        assert_eq!(recv(&reps[target]), Message::from(format!("req {round}")));
        send(&reps[target], format!("rep {round} from {target}"));
        assert_eq!(
            recv(&req),
            Message::from(format!("rep {round} from {target}"))
        );
    }
}

/// Q-2: "... with no peer able to take it, `send` blocks and `try_send` gives
/// `WouldBlock` with the request back unchanged."
#[test]
fn q2_req_without_room_would_block_and_gives_request_back() {
    let ctx = Context::new();
    let req = sock(&ctx, SocketType::Req);
    req.bind(&ep("q2-none")).unwrap();
    let e = req.try_send(frames(&["a", "b"])).unwrap_err();
    assert_eq!(e.error(), &Error::WouldBlock);
    assert_eq!(e.message(), &frames(&["a", "b"]));
    let e = req.try_send("one").unwrap_err();
    assert_eq!(e.message(), &Message::from("one"));
    // Still idle: a receive is out of turn, and a later send goes through.
    assert_eq!(req.try_recv(), Err(Error::InvalidState));

    // A peer connects from another thread while `send` waits.
    let ctx2 = ctx.clone();
    let rep_thread = thread::spawn(move || {
        let rep = sock(&ctx2, SocketType::Rep);
        rep.connect(&ep("q2-none")).unwrap();
        let m = recv(&rep);
        send(&rep, m);
    });
    send(&req, "late");
    assert_eq!(recv(&req), Message::from("late"));
    rep_thread.join().unwrap();
}

/// Q-2: "... Connect before bind works both ways (C-1): a request sent before its REP
/// binds is answered after the bind, and a REQ that binds late reaches a REP that
/// connected early."
#[test]
fn q2_connect_before_bind_both_ways() {
    let ctx = Context::new();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q2-late-rep")).unwrap();
    send(&req, "early");
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q2-late-rep")).unwrap();
    assert_eq!(recv(&rep), Message::from("early"));
    send(&rep, "answer");
    assert_eq!(recv(&req), Message::from("answer"));

    let rep = sock(&ctx, SocketType::Rep);
    rep.connect(&ep("q2-late-req")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.bind(&ep("q2-late-req")).unwrap();
    send(&req, "q");
    assert_eq!(recv(&rep), Message::from("q"));
    send(&rep, "a");
    assert_eq!(recv(&req), Message::from("a"));
}

/// Q-3: "REQ alternates strictly: a second `send` before the reply has been received, and
/// a `recv` before any send, fail with `InvalidState` (EFSM); the refused message comes
/// back unchanged and the state is unchanged."
#[test]
fn q3_req_strict_alternation() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q3")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q3")).unwrap();

    assert_eq!(req.try_recv(), Err(Error::InvalidState));
    assert_eq!(req.recv_timeout(HANG), Err(Error::InvalidState));
    send(&req, "first");
    let e = req.try_send(frames(&["second", "x"])).unwrap_err();
    assert_eq!(e.error(), &Error::InvalidState);
    assert_eq!(e.message(), &frames(&["second", "x"]));
    assert_eq!(
        req.send("second").unwrap_err().error(),
        &Error::InvalidState,
        "a blocking send fails at once too"
    );
    assert_eq!(recv(&rep), Message::from("first"));
    send(&rep, "reply");
    assert_eq!(recv(&req), Message::from("reply"));
    assert_eq!(req.try_recv(), Err(Error::InvalidState));
    send(&req, "third");
    assert_eq!(recv(&rep), Message::from("third"));
}

/// Q-4: "REQ accepts the reply only from the pipe its request went out on; whatever
/// arrives on other pipes meanwhile is read and discarded, and so is everything queued
/// on any pipe when a request goes out (it cannot be that request's reply)."
#[test]
fn q4_req_ignores_replies_from_other_peers() {
    let ctx = Context::new();
    let a = sock(&ctx, SocketType::Dealer);
    a.bind(&ep("q4-a")).unwrap();
    let b = sock(&ctx, SocketType::Dealer);
    b.bind(&ep("q4-b")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q4-a")).unwrap();
    req.connect(&ep("q4-b")).unwrap();

    send(&req, "to a");
    assert_eq!(recv(&a), frames(&["", "to a"]));
    // B answers a request it never got; A's reply comes after it.
    send(&b, frames(&["", "bogus 1"]));
    send(&b, frames(&["", "bogus 2"]));
    // Nothing from B is taken for the reply: with only B's messages queued, the REQ
    // has nothing to return.
    assert_eq!(req.try_recv().unwrap_err(), Error::WouldBlock);
    send(&a, frames(&["", "from a"]));
    assert_eq!(recv(&req), Message::from("from a"));

    // The next request goes to B (round-robin); B's earlier messages were discarded, so
    // the reply is B's new one.
    send(&req, "to b");
    assert_eq!(recv(&b), frames(&["", "to b"]));
    send(&b, frames(&["", "from b"]));
    assert_eq!(recv(&req), Message::from("from b"));

    // Unsolicited messages queued on the very pipe the next request takes (A's turn)
    // are not taken for its reply.
    send(&a, frames(&["", "stale"]));
    send(&b, frames(&["", "stale too"]));
    send(&req, "to a again");
    assert_eq!(recv(&a), frames(&["", "to a again"]));
    send(&a, frames(&["", "fresh"]));
    assert_eq!(recv(&req), Message::from("fresh"));
}

/// Q-4: "... a reply that does not start with an empty delimiter followed by at least one
/// frame is malformed and discarded."
#[test]
fn q4_req_drops_malformed_replies() {
    let ctx = Context::new();
    let peer = sock(&ctx, SocketType::Dealer);
    peer.bind(&ep("q4-bad")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q4-bad")).unwrap();
    send(&req, "q");
    assert_eq!(recv(&peer), frames(&["", "q"]));
    for bad in [
        frames(&["no delimiter"]),
        Message::new(),
        frames(&["x", "", "y"]),
    ] {
        send(&peer, bad);
    }
    send(&peer, frames(&["", "good", "two"]));
    assert_eq!(recv(&req), frames(&["good", "two"]));
    assert_eq!(req.try_recv(), Err(Error::InvalidState));
}

/// Q-5: "If the peer holding a REQ's request goes away without replying (it closed or was
/// disconnected, and nothing it sent is left to read), `recv` keeps waiting as in libzmq,
/// but `send` is allowed again and goes to another peer. While the reply is still
/// readable, `send` is `InvalidState`."
#[test]
fn q5_req_may_resend_after_the_peer_is_gone() {
    let ctx = Context::new();
    let a = sock(&ctx, SocketType::Rep);
    a.bind(&ep("q5-a")).unwrap();
    let b = sock(&ctx, SocketType::Rep);
    b.bind(&ep("q5-b")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q5-a")).unwrap();
    req.connect(&ep("q5-b")).unwrap();

    send(&req, "lost");
    assert_eq!(recv(&a), Message::from("lost"));
    assert_eq!(
        req.try_send("early").unwrap_err().error(),
        &Error::InvalidState
    );
    drop(a);
    // No reply can come: recv waits (nothing to receive) ...
    assert_eq!(req.try_recv(), Err(Error::WouldBlock));
    // ... and a new request goes to the remaining peer.
    send(&req, "retry");
    assert_eq!(recv(&b), Message::from("retry"));
    send(&b, "answer");
    assert_eq!(recv(&req), Message::from("answer"));

    // A peer that replied and then closed: the reply is still owed to the application.
    let c = sock(&ctx, SocketType::Rep);
    c.bind(&ep("q5-c")).unwrap();
    let req2 = sock(&ctx, SocketType::Req);
    req2.connect(&ep("q5-c")).unwrap();
    send(&req2, "ping");
    assert_eq!(recv(&c), Message::from("ping"));
    send(&c, "pong");
    drop(c);
    assert_eq!(
        req2.try_send("too early").unwrap_err().error(),
        &Error::InvalidState
    );
    assert_eq!(recv(&req2), Message::from("pong"));

    // Disconnecting the pipe that holds the request frees the REQ as well.
    let d = sock(&ctx, SocketType::Rep);
    d.bind(&ep("q5-d")).unwrap();
    let e = sock(&ctx, SocketType::Rep);
    e.bind(&ep("q5-e")).unwrap();
    let req3 = sock(&ctx, SocketType::Req);
    req3.connect(&ep("q5-d")).unwrap();
    req3.connect(&ep("q5-e")).unwrap();
    send(&req3, "one");
    req3.disconnect(&ep("q5-d")).unwrap();
    send(&req3, "two");
    assert_eq!(recv(&e), Message::from("two"));
}

/// Q-6: "REP removes every frame up to and including the first empty frame (the
/// envelope) and returns only the body; its reply goes back on the same pipe with the
/// envelope restored in front."
#[test]
fn q6_rep_envelope_is_restored_on_the_reply() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q6")).unwrap();
    let d1 = sock(&ctx, SocketType::Dealer);
    d1.connect(&ep("q6")).unwrap();
    let d2 = sock(&ctx, SocketType::Dealer);
    d2.connect(&ep("q6")).unwrap();

    send(&d1, frames(&["hop2", "hop1", "", "body", "more"]));
    assert_eq!(recv(&rep), frames(&["body", "more"]));
    send(&rep, frames(&["re", "ply"]));
    assert_eq!(recv(&d1), frames(&["hop2", "hop1", "", "re", "ply"]));
    assert_empty(&d2);

    // An empty body frame is a body; only the first empty frame delimits.
    send(&d2, frames(&["", "", "x"]));
    assert_eq!(recv(&rep), frames(&["", "x"]));
    send(&rep, Message::new());
    assert_eq!(recv(&d2), frames(&["", ""]));
    assert_empty(&d1);
}

/// Q-6: "... a request with no empty frame, or with nothing after it, is malformed and
/// discarded."
#[test]
fn q6_rep_drops_malformed_requests() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q6-bad")).unwrap();
    let d = sock(&ctx, SocketType::Dealer);
    d.connect(&ep("q6-bad")).unwrap();
    for bad in [
        frames(&["no", "delimiter"]),
        Message::new(),
        frames(&["id", ""]),
        Message::from(vec![0u8; 100_000]),
    ] {
        send(&d, bad);
    }
    send(&d, frames(&["", "good"]));
    assert_eq!(recv(&rep), Message::from("good"));
    assert_empty(&d);
    send(&rep, "ok");
    assert_eq!(recv(&d), frames(&["", "ok"]));
}

/// the envelope through a broker: REQ → ROUTER frontend, DEALER backend → REP. The
/// REP sees only the body; each client gets exactly its own replies, in order.
#[test]
fn q6_rep_envelope_through_router_dealer_broker() {
    const CLIENTS: usize = 3;
    const ROUNDS: usize = 20;
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let frontend = sock(&ctx, SocketType::Router);
        frontend.bind(&ep("q6-front")).unwrap();
        let backend = sock(&ctx, SocketType::Dealer);
        backend.bind(&ep("q6-back")).unwrap();
        let done = Arc::new(AtomicBool::new(false));

        let worker = {
            let ctx = ctx.clone();
            thread::spawn(move || {
                let rep = sock(&ctx, SocketType::Rep);
                rep.connect(&ep("q6-back")).unwrap();
                for _ in 0..CLIENTS * ROUNDS {
                    let m = recv(&rep);
                    assert_eq!(m.len(), 1, "the REP sees the body only: {m:?}");
                    let mut reply = b"re:".to_vec();
                    reply.extend_from_slice(&m.frames()[0]);
                    send(&rep, reply);
                }
            })
        };
        let broker = {
            let done = done.clone();
            thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(50);
                while !done.load(Ordering::SeqCst) {
                    assert!(Instant::now() < deadline, "broker timed out");
                    let mut idle = true;
                    if let Ok(m) = frontend.try_recv() {
                        assert_eq!(m.frames()[1].len(), 0, "REQ delimiter: {m:?}");
                        send(&backend, m);
                        idle = false;
                    }
                    if let Ok(m) = backend.try_recv() {
                        send(&frontend, m);
                        idle = false;
                    }
                    if idle {
                        thread::yield_now();
                    }
                }
            })
        };
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let ctx = ctx.clone();
                thread::spawn(move || {
                    let req = sock(&ctx, SocketType::Req);
                    req.connect(&ep("q6-front")).unwrap();
                    for r in 0..ROUNDS {
                        send(&req, format!("c{c} r{r}"));
                        assert_eq!(recv(&req), Message::from(format!("re:c{c} r{r}")));
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        worker.join().unwrap();
        done.store(true, Ordering::SeqCst);
        broker.join().unwrap();
    });
}

/// Q-7: "REP alternates strictly: `send` before a request has been received, and a second
/// `recv` before the reply has been sent, fail with `InvalidState` (EFSM), the message
/// coming back unchanged."
#[test]
fn q7_rep_strict_alternation() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q7")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q7")).unwrap();

    let e = rep.try_send(frames(&["x", "y"])).unwrap_err();
    assert_eq!(e.error(), &Error::InvalidState);
    assert_eq!(e.message(), &frames(&["x", "y"]));
    assert_eq!(rep.try_recv(), Err(Error::WouldBlock), "idle: may receive");
    send(&req, "q");
    assert_eq!(recv(&rep), Message::from("q"));
    assert_eq!(rep.try_recv(), Err(Error::InvalidState));
    assert_eq!(rep.recv_timeout(HANG), Err(Error::InvalidState));
    send(&rep, "a");
    assert_eq!(recv(&req), Message::from("a"));
    assert_eq!(
        rep.try_send("again").unwrap_err().error(),
        &Error::InvalidState
    );
}

/// Q-7: "... a reply whose requester has gone (closed or disconnected) is dropped and the
/// send succeeds, as in libzmq."
#[test]
fn q7_rep_reply_to_gone_requester_is_dropped() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q7-gone")).unwrap();
    let req = sock(&ctx, SocketType::Req);
    req.connect(&ep("q7-gone")).unwrap();
    send(&req, "q");
    drop(req);
    assert_eq!(recv(&rep), Message::from("q"));
    rep.try_send("into the void").unwrap();
    assert_eq!(rep.try_recv(), Err(Error::WouldBlock), "back to idle");

    // The same when the REP itself disconnected that pipe.
    let peer = sock(&ctx, SocketType::Dealer);
    peer.bind(&ep("q7-disc")).unwrap();
    rep.connect(&ep("q7-disc")).unwrap();
    send(&peer, frames(&["", "q2"]));
    assert_eq!(recv(&rep), Message::from("q2"));
    rep.disconnect(&ep("q7-disc")).unwrap();
    rep.try_send("dropped").unwrap();
    assert_empty(&peer);
}

/// Q-7: "... a reply to a full pipe waits for room (`try_send`: `WouldBlock`, the reply
/// back unchanged and still owed), where libzmq drops it."
#[test]
fn q7_rep_blocks_on_full_pipe() {
    with_hang_guard(Duration::from_secs(30), || {
        let ctx = Context::new();
        let rep = sock(&ctx, SocketType::Rep);
        rep.set_sndhwm(1).unwrap();
        rep.bind(&ep("q7-full")).unwrap();
        let d = sock(&ctx, SocketType::Dealer);
        d.set_rcvhwm(1).unwrap();
        d.connect(&ep("q7-full")).unwrap();
        for i in 0..3 {
            send(&d, frames(&["", &format!("q{i}")]));
        }
        // Window 1 + 1 = 2: two replies fit, the third does not.
        for i in 0..2 {
            assert_eq!(recv(&rep), Message::from(format!("q{i}")));
            send(&rep, format!("a{i}"));
        }
        assert_eq!(recv(&rep), Message::from("q2"));
        let e = rep.try_send(frames(&["a2", "x"])).unwrap_err();
        assert_eq!(e.error(), &Error::WouldBlock);
        assert_eq!(e.message(), &frames(&["a2", "x"]));
        assert_eq!(
            rep.try_recv(),
            Err(Error::InvalidState),
            "the reply is still owed"
        );

        let start = Arc::new(Barrier::new(2));
        let sender = {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                send(&rep, frames(&["a2", "x"]));
                rep
            })
        };
        start.wait();
        assert_eq!(recv(&d), frames(&["", "a0"]));
        assert_eq!(recv(&d), frames(&["", "a1"]));
        assert_eq!(recv(&d), frames(&["", "a2", "x"]));
        let rep = sender.join().unwrap();
        assert_eq!(rep.try_recv(), Err(Error::WouldBlock), "back to idle");
    });
}

/// "REP fair-queues requests: one from each peer that has one, in turn."
#[test]
fn q8_rep_fair_queues_requests() {
    let ctx = Context::new();
    let rep = sock(&ctx, SocketType::Rep);
    rep.bind(&ep("q8")).unwrap();
    let dealers: Vec<Socket> = (0..3)
        .map(|_| {
            let d = sock(&ctx, SocketType::Dealer);
            d.connect(&ep("q8")).unwrap();
            d
        })
        .collect();
    for (i, d) in dealers.iter().enumerate() {
        for k in 0..2 {
            send(d, frames(&["", &format!("d{i} {k}")]));
        }
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        let m = recv(&rep);
        got.push(String::from_utf8(m.frames()[0].to_vec()).unwrap());
        send(&rep, m);
    }
    let firsts: Vec<_> = got[..3].iter().map(|s| &s[..2]).collect();
    let mut sorted = firsts.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["d0", "d1", "d2"],
        "one from each peer first: {got:?}"
    );
    assert!(got[..3].iter().all(|s| s.ends_with(" 0")), "{got:?}");
    assert!(got[3..].iter().all(|s| s.ends_with(" 1")), "{got:?}");
    // Each dealer got exactly its own two replies.
    for (i, d) in dealers.iter().enumerate() {
        for k in 0..2 {
            assert_eq!(recv(d), frames(&["", &format!("d{i} {k}")]));
        }
        assert_empty(d);
    }
}
