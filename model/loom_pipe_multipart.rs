//! Multipart messages over a PAIR with a window of 2 (HWM 1 + 1), across the chunk
//! boundary, with both sides blocking (SPEC D-1, D-2, H-1): every message arrives whole,
//! once, in order, in both directions at once.
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

fn msg(i: u8) -> Message {
    Message::from_frames([vec![i], vec![i, i]])
}

#[test]
fn pair_multipart_both_directions_window_two() {
    common::check(3, || {
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
            for i in 0..3 {
                b.send(msg(i)).unwrap();
            }
            assert_eq!(b.recv().unwrap(), msg(9));
            b
        });
        a.send(msg(9)).unwrap();
        for i in 0..3 {
            let m = a.recv().unwrap();
            assert_eq!(m, msg(i), "whole, once, in order");
        }
        drop(t.join().unwrap());
    });
}
