//! The workloads on libzmq (the system's, through the `zmq` crate), over `inproc://`.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use crate::harness::{self, Job};
use crate::workload::{FAN, Side, checksum, stamp};

/// libzmq, with its default HWMs (1000 + 1000) except where a workload says.
#[derive(Debug)]
pub(crate) struct Zmq;

/// A new socket of type `kind`.
fn socket(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    ctx.socket(kind).expect("libzmq: socket")
}

/// Sends `count` fresh messages of `size` bytes, each a copy of a stamped payload.
fn send_fresh(push: &zmq::Socket, size: usize, count: u64) {
    let mut payload = vec![0u8; size];
    for i in 0..count {
        stamp(&mut payload, i);
        push.send(zmq::Message::from(&payload[..size]), 0)
            .expect("libzmq: send");
    }
}

/// Receives `count` messages of `size` bytes, reading every byte; one `zmq_msg_t`
/// received into again and again, as libzmq's perf/inproc_thr does.
fn recv_all(pull: &zmq::Socket, size: usize, count: u64) {
    let mut msg = zmq::Message::new();
    let mut sum = 0u8;
    for _ in 0..count {
        pull.recv(&mut msg, 0).expect("libzmq: recv");
        assert_eq!(msg.len(), size, "libzmq: message of the wrong size");
        sum = sum.wrapping_add(checksum(&msg));
    }
    black_box(sum);
}

impl Side for Zmq {
    fn throughput(&self, size: usize, count: u64, pin: bool) -> Duration {
        let ctx = zmq::Context::new();
        let pull = socket(&ctx, zmq::PULL);
        pull.bind("inproc://thr").expect("libzmq: bind");
        let push = socket(&ctx, zmq::PUSH);
        push.connect("inproc://thr").expect("libzmq: connect");
        harness::run(
            pin,
            vec![Box::new(move || send_fresh(&push, size, count))],
            vec![Box::new(move || recv_all(&pull, size, count))],
        )
    }

    fn latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        ping_pong(zmq::REQ, zmq::REP, size, count, pin)
    }

    fn pair_latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        ping_pong(zmq::PAIR, zmq::PAIR, size, count, pin)
    }

    fn fan_in(&self, per_sender: u64, pin: bool) -> Duration {
        let ctx = zmq::Context::new();
        let pull = socket(&ctx, zmq::PULL);
        pull.bind("inproc://fan_in").expect("libzmq: bind");
        let senders = (0..FAN)
            .map(|_| {
                let push = socket(&ctx, zmq::PUSH);
                push.connect("inproc://fan_in").expect("libzmq: connect");
                Box::new(move || send_fresh(&push, 1, per_sender)) as Job<'_>
            })
            .collect();
        let total = per_sender * FAN;
        harness::run(
            pin,
            senders,
            vec![Box::new(move || recv_all(&pull, 1, total))],
        )
    }

    fn fan_out(&self, count: u64, pin: bool) -> Duration {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        // Unlimited HWMs (0), set before bind/connect as libzmq requires: the publisher
        // never drops, every SUB gets every message.
        publisher.set_sndhwm(0).expect("libzmq: sndhwm");
        publisher.bind("inproc://fan_out").expect("libzmq: bind");
        let subs: Vec<zmq::Socket> = (0..crate::workload::fan_out_subs())
            .map(|_| {
                let sub = socket(&ctx, zmq::SUB);
                sub.set_rcvhwm(0).expect("libzmq: rcvhwm");
                sub.set_subscribe(b"").expect("libzmq: subscribe");
                sub.connect("inproc://fan_out").expect("libzmq: connect");
                sub
            })
            .collect();
        handshake(&publisher, &subs);
        let receivers = subs
            .into_iter()
            .map(|sub| Box::new(move || recv_all(&sub, 1, count)) as Job<'_>)
            .collect();
        harness::run(
            pin,
            vec![Box::new(move || send_fresh(&publisher, 1, count))],
            receivers,
        )
    }
}

/// Against the slow-joiner effect: publishes empty probes until every subscriber has
/// received one, then drains the probes left queued, so the timed run starts with every
/// subscription in place and every queue empty.
fn handshake(publisher: &zmq::Socket, subs: &[zmq::Socket]) {
    let mut msg = zmq::Message::new();
    let mut joined = vec![false; subs.len()];
    while joined.contains(&false) {
        publisher
            .send(zmq::Message::new(), 0)
            .expect("libzmq: send probe");
        for (sub, joined) in subs.iter().zip(&mut joined) {
            *joined |= sub.recv(&mut msg, zmq::DONTWAIT).is_ok();
        }
        thread::sleep(Duration::from_millis(1));
    }
    for sub in subs {
        while sub.recv(&mut msg, zmq::DONTWAIT).is_ok() {}
    }
}

/// `count` round trips of one `size`-byte message: a `client` socket binds and sends,
/// an `echo` socket connects and sends each message back (REQ/REP, or PAIR/PAIR).
fn ping_pong(
    client: zmq::SocketType,
    echo: zmq::SocketType,
    size: usize,
    count: u64,
    pin: bool,
) -> Duration {
    let ctx = zmq::Context::new();
    let req = socket(&ctx, client);
    req.bind("inproc://lat").expect("libzmq: bind");
    let rep = socket(&ctx, echo);
    rep.connect("inproc://lat").expect("libzmq: connect");
    let echo_job = move || {
        for _ in 0..count {
            let mut msg = zmq::Message::new();
            rep.recv(&mut msg, 0).expect("libzmq: recv");
            rep.send(msg, 0).expect("libzmq: send");
        }
    };
    let client_job = move || {
        let mut msg = zmq::Message::from(vec![0u8; size]);
        for _ in 0..count {
            req.send(msg, 0).expect("libzmq: send");
            msg = zmq::Message::new();
            req.recv(&mut msg, 0).expect("libzmq: recv");
            assert_eq!(msg.len(), size, "libzmq: message of the wrong size");
        }
    };
    harness::run(pin, vec![Box::new(echo_job)], vec![Box::new(client_job)])
}
