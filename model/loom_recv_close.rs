//! A peer that sends and then closes, racing a receive (SPEC K-1: what a closing socket
//! already sent stays readable by its peers; D-1: no loss).
//!
//! The receiving pipe end (`PipeEnd::recv_with`) can find its queue empty, then see the
//! peer's close flag: the peer's last write may have been published between the two
//! looks, so it must read once more before reporting the peer gone and dropping the pipe.
//! A receive that skips that re-read loses the message. Each model below makes the
//! sender send one message and close while the receiver receives; the message must
//! arrive in every interleaving:
//!
//! * PAIR, blocking `recv`: a lost message leaves the receiver asleep forever, which
//!   loom reports as a deadlock;
//! * PAIR, one timed receive racing the send and close, then a `try_recv` after the
//!   sender is joined: one of the two must return the message;
//! * PULL with two PUSH peers (the fair queue, SPEC D-4), one of whose messages is
//!   already queued while the other sends and closes: a blocking and a timed variant;
//!   both messages arrive.
//!
//! The racing receive is blocking or timed, not `try_recv`: their first attempt is
//! unarmed (it only loads `published`), while `try_recv` arms at once (a CAS that makes
//! the sender wake the receiver, reading the state word before it closes). With the
//! re-read removed, loom 0.7 finds the loss through the unarmed attempt in every variant
//! but explored no losing interleaving of a `try_recv` variant, although one exists
//! (forcing a yield between the two looks shows it); `recv_timeout` under the model
//! cfgs makes one unarmed and one armed attempt, then returns `TimedOut` at once.
//!
//! Seeded bug `33-recv-no-reread-after-peer-closed` (the re-read dropped) is caught by
//! each of the four. They are small enough for loom to explore every interleaving (no
//! preemption bound; 355 to 6,588 executions each, under a second in all) unless
//! `LOOM_MAX_PREEMPTIONS` is set.
#![cfg(loom)]

mod common;

use std::time::Duration;

use inproc::{Context, Error, Socket, SocketType};

/// A bound socket of type `bind_ty` and a connected one of type `connect_ty`.
fn connected(ctx: &Context, bind_ty: SocketType, connect_ty: SocketType) -> (Socket, Socket) {
    let b = ctx.socket(bind_ty).unwrap();
    b.bind("inproc://x").unwrap();
    let c = ctx.socket(connect_ty).unwrap();
    c.connect("inproc://x").unwrap();
    (b, c)
}

#[test]
fn pair_blocking_recv_gets_message_sent_before_close() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let (x, y) = connected(&ctx, SocketType::Pair, SocketType::Pair);
        let t = loom::thread::spawn(move || {
            y.send("last").unwrap();
            drop(y);
        });
        // A lost message leaves this call asleep with nobody left to wake it: deadlock.
        assert_eq!(x.recv().unwrap(), "last".into());
        t.join().unwrap();
    });
}

#[test]
fn pair_timed_recv_racing_send_and_close() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let (x, y) = connected(&ctx, SocketType::Pair, SocketType::Pair);
        let t = loom::thread::spawn(move || {
            y.send("last").unwrap();
            drop(y);
        });
        // Deadline waits return at once under the model cfgs: one unarmed and one armed
        // attempt, then `TimedOut`.
        let first = x.recv_timeout(Duration::from_secs(1));
        t.join().unwrap();
        match first {
            Ok(m) => assert_eq!(m, "last".into()),
            Err(e) => {
                assert_eq!(e, Error::TimedOut);
                assert_eq!(
                    x.try_recv(),
                    Ok("last".into()),
                    "a message sent before the close was lost"
                );
            }
        }
        assert_eq!(x.try_recv(), Err(Error::WouldBlock));
    });
}

#[test]
fn pull_fair_queue_timed_recv_racing_send_and_close() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let (pull, p1) = connected(&ctx, SocketType::Pull, SocketType::Push);
        let p2 = ctx.socket(SocketType::Push).unwrap();
        p2.connect("inproc://x").unwrap();
        p2.send("stays").unwrap();
        let t = loom::thread::spawn(move || {
            p1.send("last").unwrap();
            drop(p1);
        });
        let mut got = Vec::new();
        if let Ok(m) = pull.recv_timeout(Duration::from_secs(1)) {
            got.push(m);
        }
        t.join().unwrap();
        while let Ok(m) = pull.try_recv() {
            got.push(m);
        }
        got.sort_by_key(|m| m.frames()[0].to_vec());
        assert_eq!(
            got,
            vec!["last".into(), "stays".into()],
            "a message sent before the close was lost"
        );
        drop(p2);
    });
}

#[test]
fn pull_fair_queue_blocking_recv_racing_send_and_close() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let (pull, p1) = connected(&ctx, SocketType::Pull, SocketType::Push);
        let p2 = ctx.socket(SocketType::Push).unwrap();
        p2.connect("inproc://x").unwrap();
        p2.send("stays").unwrap();
        let t = loom::thread::spawn(move || {
            p1.send("last").unwrap();
            drop(p1);
        });
        // A lost message leaves the second `recv` asleep forever: deadlock.
        let mut got = vec![pull.recv().unwrap(), pull.recv().unwrap()];
        t.join().unwrap();
        got.sort_by_key(|m| m.frames()[0].to_vec());
        assert_eq!(got, vec!["last".into(), "stays".into()]);
        assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
        drop(p2);
    });
}
