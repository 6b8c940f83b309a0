//! The workloads on this crate, `inproc`.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use inproc::{Context, Error, Message, Socket, SocketType};

use crate::harness::{self, Job};
use crate::workload::{BATCH, FAN, Side, checksum, stamp};

/// This crate, with its default HWMs (1000 + 1000) except where a workload says.
#[derive(Debug)]
pub(crate) struct Inproc;

/// A new socket of type `kind`.
fn socket(ctx: &Context, kind: SocketType) -> Socket {
    ctx.socket(kind).expect("inproc: socket")
}

/// Sends `count` fresh messages of `size` bytes, each a copy of a stamped payload.
fn send_fresh(push: &Socket, size: usize, count: u64) {
    let mut payload = vec![0u8; size];
    for i in 0..count {
        stamp(&mut payload, i);
        push.send(Message::from(&payload[..size]))
            .expect("inproc: send");
    }
}

/// Receives `count` messages of `size` bytes, reading every byte.
fn recv_all(pull: &Socket, size: usize, count: u64) {
    let mut sum = 0u8;
    for _ in 0..count {
        let msg = pull.recv().expect("inproc: recv");
        let bytes = &msg.frames()[0][..];
        assert_eq!(bytes.len(), size, "inproc: message of the wrong size");
        sum = sum.wrapping_add(checksum(bytes));
    }
    black_box(sum);
}

impl Side for Inproc {
    fn throughput(&self, size: usize, count: u64, pin: bool) -> Duration {
        let ctx = Context::new();
        let pull = socket(&ctx, SocketType::Pull);
        pull.bind("inproc://thr").expect("inproc: bind");
        let push = socket(&ctx, SocketType::Push);
        push.connect("inproc://thr").expect("inproc: connect");
        harness::run(
            pin,
            vec![Box::new(move || send_fresh(&push, size, count))],
            vec![Box::new(move || recv_all(&pull, size, count))],
        )
    }

    fn latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        ping_pong(SocketType::Req, SocketType::Rep, size, count, pin)
    }

    fn pair_latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        ping_pong(SocketType::Pair, SocketType::Pair, size, count, pin)
    }

    fn batch(&self, size: usize, count: u64, pin: bool) -> Duration {
        let ctx = Context::new();
        let pull = socket(&ctx, SocketType::Pull);
        pull.bind("inproc://batch").expect("inproc: bind");
        let push = socket(&ctx, SocketType::Push);
        push.connect("inproc://batch").expect("inproc: connect");
        let send = move || {
            let mut payload = vec![0u8; size];
            let mut i = 0;
            while i < count {
                let n = (count - i).min(BATCH as u64);
                let batch = (i..i + n).map(|j| {
                    stamp(&mut payload, j);
                    Message::from(&payload[..size])
                });
                push.send_batch(batch).expect("inproc: send_batch");
                i += n;
            }
        };
        let recv = move || {
            let mut sum = 0u8;
            let mut got = Vec::with_capacity(BATCH);
            let mut left = count;
            while left > 0 {
                got.clear();
                pull.recv_batch(&mut got, BATCH)
                    .expect("inproc: recv_batch");
                for msg in &got {
                    let bytes = &msg.frames()[0][..];
                    assert_eq!(bytes.len(), size, "inproc: message of the wrong size");
                    sum = sum.wrapping_add(checksum(bytes));
                }
                left -= got.len() as u64;
            }
            black_box(sum);
        };
        harness::run(pin, vec![Box::new(send)], vec![Box::new(recv)])
    }

    fn fan_in(&self, per_sender: u64, pin: bool) -> Duration {
        let ctx = Context::new();
        let pull = socket(&ctx, SocketType::Pull);
        pull.bind("inproc://fan_in").expect("inproc: bind");
        let senders = (0..FAN)
            .map(|_| {
                let push = socket(&ctx, SocketType::Push);
                push.connect("inproc://fan_in").expect("inproc: connect");
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
        let ctx = Context::new();
        let publisher = socket(&ctx, SocketType::Pub);
        // Unlimited HWMs (0): the publisher never drops, every SUB gets every message.
        publisher.set_sndhwm(0).expect("inproc: sndhwm");
        publisher.bind("inproc://fan_out").expect("inproc: bind");
        let subs: Vec<Socket> = (0..crate::workload::fan_out_subs())
            .map(|_| {
                let sub = socket(&ctx, SocketType::Sub);
                sub.set_rcvhwm(0).expect("inproc: rcvhwm");
                sub.subscribe("").expect("inproc: subscribe");
                sub.connect("inproc://fan_out").expect("inproc: connect");
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
fn handshake(publisher: &Socket, subs: &[Socket]) {
    let mut joined = vec![false; subs.len()];
    while joined.contains(&false) {
        publisher.send(Message::new()).expect("inproc: send probe");
        for (sub, joined) in subs.iter().zip(&mut joined) {
            *joined |= sub.try_recv().is_ok();
        }
        thread::sleep(Duration::from_millis(1));
    }
    for sub in subs {
        while sub.try_recv().is_ok() {}
        assert_eq!(sub.try_recv(), Err(Error::WouldBlock));
    }
}

/// `count` round trips of one `size`-byte message: a `client` socket binds and sends,
/// an `echo` socket connects and sends each message back (REQ/REP, or PAIR/PAIR).
fn ping_pong(client: SocketType, echo: SocketType, size: usize, count: u64, pin: bool) -> Duration {
    let ctx = Context::new();
    let req = socket(&ctx, client);
    req.bind("inproc://lat").expect("inproc: bind");
    let rep = socket(&ctx, echo);
    rep.connect("inproc://lat").expect("inproc: connect");
    let echo_job = move || {
        for _ in 0..count {
            let msg = rep.recv().expect("inproc: recv");
            rep.send(msg).expect("inproc: send");
        }
    };
    let client_job = move || {
        let mut msg = Message::from(vec![0u8; size]);
        for _ in 0..count {
            req.send(msg).expect("inproc: send");
            msg = req.recv().expect("inproc: recv");
            assert_eq!(msg.size(), size, "inproc: message of the wrong size");
        }
    };
    harness::run(pin, vec![Box::new(echo_job)], vec![Box::new(client_job)])
}
