//! Unbind racing connect (SPEC ): the outcome is that of one of the two
//! sequential orders. Connect first: the connection reaches the old binder, and unbind
//! keeps it. Unbind first: the connection is pending and reaches the next binder. The
//! message sent on it arrives at exactly one of the two.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn unbind_vs_connect_message_reaches_exactly_one_binder() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let old = ctx.socket(SocketType::Pull).unwrap();
        old.bind("inproc://x").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        let t = loom::thread::spawn(move || {
            push.connect("inproc://x").unwrap();
            push.send("m").unwrap();
            push
        });
        old.unbind("inproc://x").unwrap();
        let push = t.join().unwrap();
        let new = ctx.socket(SocketType::Pull).unwrap();
        new.bind("inproc://x").unwrap();
        let at_old = old.try_recv();
        let at_new = new.try_recv();
        match (&at_old, &at_new) {
            (Ok(m), Err(Error::WouldBlock)) | (Err(Error::WouldBlock), Ok(m)) => {
                assert_eq!(m, &"m".into())
            }
            other => panic!("message must reach exactly one binder: {other:?}"),
        }
        assert_eq!(push.connection_count(), 1);
    });
}
