//! Batches (SPEC B-1, B-3): a PUSH sends a batch with one publication per pipe while a
//! PULL receives in batches on another thread; every message arrives once, in order, and
//! no wake-up is lost, including when the batch is larger than the window (the sender
//! publishes what fits, then sleeps on credit) and when the receiver is asleep before
//! the publication (one wake-up for the whole batch).
//!
//! * Two messages within the window: every interleaving (no preemption bound).
//! * Three messages through a window of 2 (HWM 1 + 1: the batch blocks after two and
//!   resumes on the receiver's credit): preemption bound 3.
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

fn msg(i: u8) -> Message {
    Message::from(vec![i])
}

/// The main thread sends `n` messages as one batch; a second thread receives them with
/// batch receives of at most 2.
fn batch_through(n: u8, hwm: usize) {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    pull.set_rcvhwm(hwm).unwrap();
    push.set_sndhwm(hwm).unwrap();
    pull.bind("inproc://b").unwrap();
    push.connect("inproc://b").unwrap();
    let t = loom::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < usize::from(n) {
            pull.recv_batch(&mut got, 2).unwrap();
        }
        assert_eq!(got, (0..n).map(msg).collect::<Vec<_>>(), "once, in order");
        pull
    });
    assert_eq!(push.send_batch((0..n).map(msg)).unwrap(), usize::from(n));
    drop(t.join().unwrap());
}

#[test]
fn batch_within_window_every_interleaving() {
    common::check_exhaustive(|| batch_through(2, 0));
}

#[test]
fn batch_larger_than_window_blocks_and_resumes() {
    common::check(3, || batch_through(3, 1));
}
