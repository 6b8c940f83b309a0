//! ZMQ_CONFLATE (`src/pipe/latest.rs`, SPEC rule on conflation): a connecting PULL with
//! conflate on, a PUSH sending 1, 2, 3 from another thread. The receiver sees a strictly
//! increasing subsequence ending in 3 (older messages may be replaced, never reordered or
//! duplicated), and a receiver parked on the empty slot is always woken (no lost
//! wake-up: loom would report the parked thread as a deadlock).
#![cfg(loom)]

mod common;

use inproc::{Context, SocketType};

#[test]
fn conflated_pipe_keeps_newest_and_wakes_reader() {
    common::check(3, || {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.bind("inproc://x").unwrap();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.set_conflate(true).unwrap();
        pull.connect("inproc://x").unwrap();
        let t = loom::thread::spawn(move || {
            for i in 1..=3u8 {
                push.send(vec![i]).unwrap();
            }
            push
        });
        let mut last = 0;
        while last != 3 {
            let m = pull.recv().unwrap();
            let v = m.frames()[0][0];
            assert!(
                v > last,
                "conflation never reorders or duplicates: {last} then {v}"
            );
            last = v;
        }
        drop(t.join().unwrap());
    });
}
