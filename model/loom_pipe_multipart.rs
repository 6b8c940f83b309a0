//! Multipart messages over a PAIR with a window of 2 (HWM 1 + 1), across the chunk
//! boundary, with both sides blocking (SPEC D-1, D-2, H-1): every message arrives whole,
//! once, in order, in both directions at once.
//!
//! * Two messages one way and one the other: every interleaving (no preemption bound).
//!   Both receivers block (unarmed attempt, then armed, then park) while the other side
//!   sends; one socket's event count carries both its reader's and its writer's events.
//! * Three messages one way (the third blocks at the window until the reader's credit)
//!   and one the other: preemption bound 3 (unbounded it passes 790,000 executions in
//!   two minutes without finishing).
//!   The queue-level writer blocked at the window is exhaustive in `loom_pipe_chunks`.
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

fn msg(i: u8) -> Message {
    Message::from_frames([vec![i], vec![i, i]])
}

/// `b` sends `n` messages then receives one; `a` sends one then receives `n`.
fn both_directions(n: u8) {
    let ctx = Context::new();
    let a = ctx.socket(SocketType::Pair).unwrap();
    let b = ctx.socket(SocketType::Pair).unwrap();
    for s in [&a, &b] {
        s.set_sndhwm(1).unwrap();
        s.set_rcvhwm(1).unwrap();
    }
    a.bind("inproc://x").unwrap();
    b.connect("inproc://x").unwrap();
    let t = loom::thread::spawn(move || {
        for i in 0..n {
            b.send(msg(i)).unwrap();
        }
        assert_eq!(b.recv().unwrap(), msg(9));
        b
    });
    a.send(msg(9)).unwrap();
    for i in 0..n {
        let m = a.recv().unwrap();
        assert_eq!(m, msg(i), "whole, once, in order");
    }
    drop(t.join().unwrap());
}

#[test]
fn pair_multipart_both_directions_window_two() {
    common::check(3, || both_directions(3));
}

#[test]
fn pair_multipart_both_directions_within_window() {
    common::check_exhaustive(|| both_directions(2));
}
