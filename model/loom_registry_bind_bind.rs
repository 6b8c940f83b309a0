//! Two binds of one name racing (SPEC ): exactly one succeeds, the other gets
//! `AddrInUse`, and the registry ends with the winner bound.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn two_binds_exactly_one_wins() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pull).unwrap();
        let b = ctx.socket(SocketType::Pull).unwrap();
        let t = loom::thread::spawn(move || {
            let r = b.bind("inproc://x");
            (b, r)
        });
        let ra = a.bind("inproc://x");
        let (b, rb) = t.join().unwrap();
        match (&ra, &rb) {
            (Ok(()), Err(Error::AddrInUse)) | (Err(Error::AddrInUse), Ok(())) => {}
            other => panic!("expected exactly one winner, got {other:?}"),
        }
        // The winner really owns the name: a connect reaches it.
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect("inproc://x").unwrap();
        push.send("m").unwrap();
        let winner = if ra.is_ok() { &a } else { &b };
        assert_eq!(winner.recv().unwrap(), "m".into());
        assert_eq!(ctx.endpoint_count(), 1);
    });
}
