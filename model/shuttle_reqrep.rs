//! Request/reply and routing scenarios under shuttle (SPEC,
//! ), with binds and connects racing the traffic:
//!
//! * `req_rep_clients_get_their_own_replies`: 2-3 REQ clients and 2 REP workers. Each
//!   worker binds its own name; each client connects to both, in random order, so a
//!   connect may come before or after the bind (a request may wait in a pending pipe).
//!   Every client gets exactly its own replies, in order.
//! * `router_routes_to_exactly_the_addressed_dealer`: a ROUTER and 2-3 DEALERs with
//!   explicit ids. Each DEALER either connects to the ROUTER's name (possibly before the
//!   ROUTER binds it) or binds a name of its own that the ROUTER connects to (possibly
//!   before that bind: the ROUTER learns the id at the bind). Every message arrives at the
//!   ROUTER labelled with its sender's id, in order per sender, and every message the
//!   ROUTER addresses to an id arrives at exactly that DEALER, in order.
//!
//! HWMs are 1, so sends meet full pipes and blocking sends and receives wait for each
//! other. Shuttle models every atomic as SeqCst: memory orderings are loom's job.
#![cfg(shuttle)]

#[path = "shuttle_common.rs"]
mod common;

use inproc::{Context, Error, Frame, Message, SocketType};

/// `[client or dealer index, sequence number]` as a one-frame message.
fn tag(who: usize, seq: usize) -> Message {
    Message::from(vec![who as u8, seq as u8])
}

fn untag(frame: &[u8]) -> (usize, usize) {
    assert_eq!(frame.len(), 2, "a tag frame: {frame:?}");
    (frame[0] as usize, frame[1] as usize)
}

fn req_rep_scenario() {
    const WORKERS: usize = 2;
    const ROUNDS: usize = 2;
    let clients = 2 + common::rand(2) as usize; // 2..=3
    let ctx = Context::new();
    let worker_ep = |w: usize| format!("inproc://worker{w}");

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let ctx = ctx.clone();
            shuttle::thread::spawn(move || {
                let rep = ctx.socket(SocketType::Rep).unwrap();
                rep.set_sndhwm(1).unwrap();
                rep.set_rcvhwm(1).unwrap();
                rep.bind(&worker_ep(w)).unwrap();
                // Serve until the context is shut down (after every client is done).
                loop {
                    match rep.recv() {
                        Ok(m) => {
                            let mut reply = m.into_frames();
                            reply.push(Frame::from(vec![w as u8]));
                            rep.send(Message::from_frames(reply)).unwrap();
                        }
                        Err(e) => {
                            assert_eq!(e, Error::Terminated);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    let client_threads: Vec<_> = (0..clients)
        .map(|c| {
            let ctx = ctx.clone();
            shuttle::thread::spawn(move || {
                let req = ctx.socket(SocketType::Req).unwrap();
                req.set_sndhwm(1).unwrap();
                req.set_rcvhwm(1).unwrap();
                let first = common::rand(WORKERS as u64) as usize;
                for k in 0..WORKERS {
                    req.connect(&worker_ep((first + k) % WORKERS)).unwrap();
                }
                for r in 0..ROUNDS {
                    req.send(tag(c, r)).unwrap();
                    let reply = req.recv().unwrap();
                    let f = reply.frames();
                    assert_eq!(f.len(), 2, "body and worker tag: {reply:?}");
                    assert_eq!(untag(&f[0]), (c, r), "client {c} got someone else's reply");
                    assert!((f[1][0] as usize) < WORKERS);
                }
            })
        })
        .collect();
    for t in client_threads {
        t.join().unwrap();
    }
    ctx.shutdown();
    for t in workers {
        t.join().unwrap();
    }
}

fn router_dealer_scenario() {
    const TO_ROUTER: usize = 2;
    const TO_DEALER: usize = 2;
    let dealers = 2 + common::rand(2) as usize; // 2..=3
    // Per dealer: does it bind its own name (the ROUTER connects to it)?
    let binds: Vec<bool> = (0..dealers).map(|_| common::rand(2) == 0).collect();
    let ctx = Context::new();
    let dealer_ep = |d: usize| format!("inproc://dealer{d}");
    let id = |d: usize| Frame::from(format!("dealer-{d}"));

    let dealer_threads: Vec<_> = (0..dealers)
        .map(|d| {
            let ctx = ctx.clone();
            let bind = binds[d];
            shuttle::thread::spawn(move || {
                let dealer = ctx.socket(SocketType::Dealer).unwrap();
                dealer.set_sndhwm(1).unwrap();
                dealer.set_rcvhwm(1).unwrap();
                dealer.set_routing_id(id(d)).unwrap();
                if bind {
                    dealer.bind(&dealer_ep(d)).unwrap();
                } else {
                    dealer.connect("inproc://router").unwrap();
                }
                for s in 0..TO_ROUTER {
                    dealer.send(tag(d, s)).unwrap();
                }
                for s in 0..TO_DEALER {
                    let m = dealer.recv().unwrap();
                    assert_eq!(m.len(), 1, "the id frame is consumed by the ROUTER: {m:?}");
                    assert_eq!(untag(&m.frames()[0]), (d, s), "dealer {d} got a stray");
                }
                dealer
            })
        })
        .collect();

    let router = ctx.socket(SocketType::Router).unwrap();
    router.set_router_mandatory(true).unwrap();
    router.set_sndhwm(1).unwrap();
    router.set_rcvhwm(1).unwrap();
    // Bind and connect in a random order, racing the dealers' binds and connects.
    let mut steps: Vec<Option<usize>> = (0..dealers).filter(|&d| binds[d]).map(Some).collect();
    steps.insert(common::rand(steps.len() as u64 + 1) as usize, None);
    for step in steps {
        match step {
            None => router.bind("inproc://router").unwrap(),
            Some(d) => router.connect(&dealer_ep(d)).unwrap(),
        }
    }
    let mut next = vec![0; dealers];
    for _ in 0..dealers * TO_ROUTER {
        let m = router.recv().unwrap();
        let f = m.frames();
        assert_eq!(f.len(), 2, "id and body: {m:?}");
        let (d, s) = untag(&f[1]);
        assert_eq!(f[0], id(d), "labelled with the sender's id");
        assert_eq!(s, next[d], "in order from dealer {d}");
        next[d] += 1;
    }
    // Every dealer has been heard from, so every id is routable: interleave the sends.
    for s in 0..TO_DEALER {
        for d in 0..dealers {
            let body = tag(d, s).into_frames();
            router
                .send(Message::from_frames([id(d)].into_iter().chain(body)))
                .unwrap();
        }
    }
    for t in dealer_threads {
        let dealer = t.join().unwrap();
        assert_eq!(dealer.try_recv(), Err(Error::WouldBlock), "nothing extra");
    }
}

#[test]
fn req_rep_clients_get_their_own_replies() {
    common::check(req_rep_scenario);
}

#[test]
fn router_routes_to_exactly_the_addressed_dealer() {
    common::check(router_dealer_scenario);
}
