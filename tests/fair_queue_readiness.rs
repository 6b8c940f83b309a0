//! Regression tests for the fair-queue readiness hang (issue #10 section 1, SPEC D-4):
//! a receive that drops a drained pipe whose peer has gone must not skip the pipe after
//! it. Every socket type that fair-queues (PULL, DEALER, ROUTER, REP, SUB, XSUB, and
//! REQ for its reply) is driven through the same scenario with 3, 4 and 5 peers, every
//! position of the peer that sends, every position of the peer that goes away (idle, or
//! after its own message was read; by closing, or by disconnecting), and four ways of
//! asking "is there a message?": `try_recv`, `readable`, a `Poller`, and a `recv_async`
//! future. Each must see the queued message on the first call.
//!
//! With the old cursor arithmetic these fail for every type (for example PULL with peers
//! x, y, z: y sends two, one is read, idle x closes, and `try_recv` said `WouldBlock`).
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::future::Future;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use inproc::{Context, Error, Interest, Message, Poller, Socket, SocketType};

/// How the test asks whether the queued message is there.
#[derive(Debug, Clone, Copy)]
enum Probe {
    TryRecv,
    Readable,
    Poller,
    Async,
}

const PROBES: [Probe; 4] = [Probe::TryRecv, Probe::Readable, Probe::Poller, Probe::Async];

/// How the leaving peer leaves, and whether it sent (and had read) a message before.
#[derive(Debug, Clone, Copy)]
struct Leave {
    drained_first: bool,
    disconnect: bool,
}

const LEAVES: [Leave; 4] = [
    Leave {
        drained_first: false,
        disconnect: false,
    },
    Leave {
        drained_first: true,
        disconnect: false,
    },
    Leave {
        drained_first: false,
        disconnect: true,
    },
    Leave {
        drained_first: true,
        disconnect: true,
    },
];

/// The payload of a received message: its last frame (ROUTER prepends the peer id).
fn payload(m: &Message) -> Vec<u8> {
    m.frames().last().map(|f| f.to_vec()).unwrap_or_default()
}

/// The peer type that sends to a receiver of type `ty`.
fn peer_type(ty: SocketType) -> SocketType {
    match ty {
        SocketType::Pull => SocketType::Push,
        SocketType::Dealer | SocketType::Router | SocketType::Rep => SocketType::Dealer,
        SocketType::Sub | SocketType::XSub => SocketType::Pub,
        other => panic!("no scenario for {other}"),
    }
}

/// One receiver bound to a fresh name, with `n` peers connected in order.
struct Scenario {
    _ctx: Context,
    ty: SocketType,
    endpoint: String,
    receiver: Socket,
    peers: Vec<Option<Socket>>,
}

impl Scenario {
    fn new(ty: SocketType, n: usize) -> Scenario {
        let ctx = Context::new();
        let endpoint = "inproc://fq".to_string();
        let receiver = ctx.socket(ty).unwrap();
        match ty {
            SocketType::Sub => receiver.subscribe("").unwrap(),
            SocketType::XSub => receiver.send(&[1u8][..]).unwrap(),
            _ => {}
        }
        receiver.bind(&endpoint).unwrap();
        let peers = (0..n)
            .map(|_| {
                let p = ctx.socket(peer_type(ty)).unwrap();
                p.connect(&endpoint).unwrap();
                Some(p)
            })
            .collect();
        let s = Scenario {
            _ctx: ctx,
            ty,
            endpoint,
            receiver,
            peers,
        };
        // The receiver adopts the handed-over pipes; nothing is queued yet.
        assert_eq!(s.receiver.try_recv().unwrap_err(), Error::WouldBlock);
        s
    }

    /// Peer `k` sends `text` (REP needs the empty delimiter a REQ would add).
    fn send_from(&self, k: usize, text: &str) {
        let peer = self.peers[k].as_ref().unwrap();
        let msg = if self.ty == SocketType::Rep {
            Message::from_frames([&b""[..], text.as_bytes()])
        } else {
            Message::from(text)
        };
        peer.send(msg).unwrap();
    }

    /// What the application does after receiving `text` (REP must reply first).
    fn received(&self, m: Message, text: &str) {
        assert_eq!(payload(&m), text.as_bytes(), "{:?}", self.ty);
        if self.ty == SocketType::Rep {
            self.receiver.send("reply").unwrap();
        }
    }

    fn leave(&mut self, k: usize, how: Leave) {
        if how.disconnect {
            self.peers[k]
                .as_ref()
                .unwrap()
                .disconnect(&self.endpoint)
                .unwrap();
        }
        self.peers[k] = None;
    }
}

/// Checks that the message `want` is visible through `probe` at once, and receives it.
fn expect_queued(receiver: &Socket, probe: Probe, want: &str, what: &str) -> Message {
    match probe {
        Probe::TryRecv => {}
        Probe::Readable => assert!(receiver.readable(), "{what}: readable() is false"),
        Probe::Poller => {
            let mut poller = Poller::new();
            let token = poller.add(receiver, Interest::READABLE);
            let events = poller.wait(Some(Duration::ZERO)).unwrap();
            assert!(
                events.iter().any(|e| e.token == token && e.readable),
                "{what}: the poller reports no event"
            );
        }
        Probe::Async => {
            let (_counter, waker) = common::counting_waker();
            let mut fut = receiver.recv_async();
            match std::pin::Pin::new(&mut fut).poll(&mut TaskContext::from_waker(&waker)) {
                Poll::Ready(Ok(m)) => {
                    assert_eq!(payload(&m), want.as_bytes(), "{what}");
                    return m;
                }
                other => panic!("{what}: recv_async first poll gave {other:?}"),
            }
        }
    }
    match receiver.try_recv() {
        Ok(m) => {
            assert_eq!(payload(&m), want.as_bytes(), "{what}");
            m
        }
        Err(e) => panic!("{what}: try_recv gave {e:?} though {want:?} is queued"),
    }
}

/// The scenario of the report, for every fair-queueing receiver except REQ: peer `s`
/// sends two messages, the first is read, peer `c` (idle, or drained) leaves, and the
/// second must be visible at once through `probe`.
fn run_receiver(ty: SocketType) -> usize {
    let mut runs = 0;
    for n in 3..=5 {
        for s in 0..n {
            for c in (0..n).filter(|&c| c != s) {
                for how in LEAVES {
                    for probe in PROBES {
                        let what = format!("{ty} n={n} sender={s} leaver={c} {how:?} {probe:?}");
                        let mut sc = Scenario::new(ty, n);
                        if how.drained_first {
                            sc.send_from(c, "c1");
                            let m = sc.receiver.try_recv().unwrap();
                            sc.received(m, "c1");
                        }
                        sc.send_from(s, "s1");
                        sc.send_from(s, "s2");
                        let m = sc.receiver.try_recv().unwrap();
                        sc.received(m, "s1");
                        sc.leave(c, how);
                        let m = expect_queued(&sc.receiver, probe, "s2", &what);
                        sc.received(m, "s2");
                        // Nothing else is queued, and the socket still works both ways.
                        assert_eq!(sc.receiver.try_recv().unwrap_err(), Error::WouldBlock);
                        sc.send_from(s, "s3");
                        let m = sc.receiver.try_recv().unwrap();
                        sc.received(m, "s3");
                        runs += 1;
                    }
                }
            }
        }
    }
    runs
}

#[test]
fn d4_pull_sees_queued_message_after_a_peer_leaves() {
    assert_eq!(run_receiver(SocketType::Pull), 38 * 16);
}

#[test]
fn d4_dealer_sees_queued_message_after_a_peer_leaves() {
    assert_eq!(run_receiver(SocketType::Dealer), 38 * 16);
}

#[test]
fn d4_router_sees_queued_message_after_a_peer_leaves() {
    assert_eq!(run_receiver(SocketType::Router), 38 * 16);
}

#[test]
fn d4_rep_sees_queued_request_after_a_peer_leaves() {
    assert_eq!(run_receiver(SocketType::Rep), 38 * 16);
}

#[test]
fn d4_sub_sees_queued_message_after_a_publisher_leaves() {
    assert_eq!(run_receiver(SocketType::Sub), 38 * 16);
}

#[test]
fn d4_xsub_sees_queued_message_after_a_publisher_leaves() {
    assert_eq!(run_receiver(SocketType::XSub), 38 * 16);
}

/// REQ fair-queues too: it reads every pipe in turn and discards whatever is not the
/// reply to its request. REQ (routing id "R") bound, `n` ROUTERs connected. Rounds
/// 0..s go to peers 0..s in turn (load balance in attach order). In round `s`, peer
/// `t` (any other peer, or none) first sends a stray message, which the REQ's look
/// discards (moving its cursor past the reply pipe); then peer `s` replies, peer `c`
/// leaves, and the reply must be visible at once.
#[test]
fn d4_req_sees_queued_reply_after_a_peer_leaves() {
    let mut runs = 0;
    for n in 3..=5 {
        for s in 0..n {
            for c in (0..n).filter(|&c| c != s) {
                for t in (0..=n).filter(|&t| t != s) {
                    for probe in PROBES {
                        let what = format!("REQ n={n} replier={s} leaver={c} stray={t} {probe:?}");
                        req_scenario(n, s, c, t, probe, &what);
                        runs += 1;
                    }
                }
            }
        }
    }
    // n = 3, 4, 5: n (n - 1) (n) choices of (s, c, t), times 4 probes.
    assert_eq!(runs, (3 * 2 * 3 + 4 * 3 * 4 + 5 * 4 * 5) * 4);
}

/// One REQ scenario (see `d4_req_sees_queued_reply_after_a_peer_leaves`); `t == n`: no
/// stray message.
fn req_scenario(n: usize, s: usize, c: usize, t: usize, probe: Probe, what: &str) {
    let ctx = Context::new();
    let req = ctx.socket(SocketType::Req).unwrap();
    req.set_routing_id("R").unwrap();
    req.bind("inproc://req").unwrap();
    let mut routers: Vec<Option<Socket>> = (0..n)
        .map(|_| {
            let r = ctx.socket(SocketType::Router).unwrap();
            r.connect("inproc://req").unwrap();
            Some(r)
        })
        .collect();
    let to_req = |text: &str| Message::from_frames([&b"R"[..], &b""[..], text.as_bytes()]);
    for round in 0..=s {
        let q = format!("q{round}");
        req.send(q.as_str()).unwrap();
        let router = routers[round].as_ref().unwrap();
        let got = router.try_recv().unwrap();
        assert_eq!(payload(&got), q.as_bytes(), "{what}");
        if round == s && t < n {
            routers[t].as_ref().unwrap().send(to_req("stray")).unwrap();
        }
        // The stray (if any) is read and discarded; the reply is not there yet.
        assert_eq!(req.try_recv().unwrap_err(), Error::WouldBlock, "{what}");
        router.send(to_req(&format!("r{round}"))).unwrap();
        if round < s {
            let r = req.try_recv().unwrap();
            assert_eq!(payload(&r), format!("r{round}").as_bytes(), "{what}");
        }
    }
    routers[c] = None;
    expect_queued(&req, probe, &format!("r{s}"), what);
    // The next round trip still works, with whichever peer is next.
    req.send("again").unwrap();
    let got = routers.iter().flatten().find_map(|r| r.try_recv().ok());
    assert_eq!(payload(&got.expect("a ROUTER got the request")), b"again");
}

/// The send side of the same flaw (SPEC D-3): PUSH load-balances over pipes with room
/// and drops pipes whose peer has gone. PUSH bound, `n` PULLs connected, every window
/// 2. After `k` warm-up messages (read at once, to move the cursor round), the PUSH
/// fills every window; PULL `r` reads its two (credit comes back); PULL `c` leaves. A
/// send must find `r`'s room at once (`writable`, `try_send`), and go nowhere else.
#[test]
fn d3_push_finds_room_after_a_peer_leaves() {
    let mut runs = 0;
    for n in 3..=5 {
        for k in 0..n {
            for r in 0..n {
                for c in (0..n).filter(|&c| c != r) {
                    for disconnect in [false, true] {
                        let what = format!("PUSH n={n} warm-up={k} room={r} leaver={c}");
                        let ctx = Context::new();
                        let push = ctx.socket(SocketType::Push).unwrap();
                        push.set_sndhwm(1).unwrap();
                        push.bind("inproc://push").unwrap();
                        let mut pulls: Vec<Option<Socket>> = (0..n)
                            .map(|_| {
                                let p = ctx.socket(SocketType::Pull).unwrap();
                                p.set_rcvhwm(1).unwrap();
                                p.connect("inproc://push").unwrap();
                                Some(p)
                            })
                            .collect();
                        for i in 0..k {
                            push.send(format!("w{i}")).unwrap();
                            let got = pulls.iter().flatten().find_map(|p| p.try_recv().ok());
                            assert!(got.is_some(), "{what}");
                        }
                        let mut sent = 0;
                        while push.try_send("fill").is_ok() {
                            sent += 1;
                        }
                        assert_eq!(sent, 2 * n, "{what}: every window holds 2");
                        for _ in 0..2 {
                            pulls[r].as_ref().unwrap().try_recv().unwrap();
                        }
                        if disconnect {
                            pulls[c]
                                .as_ref()
                                .unwrap()
                                .disconnect("inproc://push")
                                .unwrap();
                        }
                        pulls[c] = None;
                        assert!(push.writable(), "{what}: writable() is false");
                        push.try_send("last")
                            .unwrap_or_else(|e| panic!("{what}: try_send gave {e:?}"));
                        let pull_r = pulls[r].as_ref().unwrap();
                        assert_eq!(payload(&pull_r.try_recv().unwrap()), b"last", "{what}");
                        runs += 1;
                    }
                }
            }
        }
    }
    // n = 3, 4, 5: n warm-ups, n rooms, n - 1 leavers, 2 ways to leave.
    assert_eq!(runs, (3 * 3 * 2 + 4 * 4 * 3 + 5 * 5 * 4) * 2);
}
