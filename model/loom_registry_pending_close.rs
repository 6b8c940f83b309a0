//! Close of a pending connector racing the bind (SPEC C-2): its queued messages still
//! arrive, in order, whether the close lands before, during or after the bind.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, SocketType};

#[test]
fn pending_connector_closes_while_name_is_bound() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect("inproc://x").unwrap();
        push.send("a").unwrap();
        push.send("b").unwrap();
        let t = loom::thread::spawn(move || push.close());
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://x").unwrap();
        assert_eq!(pull.recv().unwrap(), "a".into());
        assert_eq!(pull.recv().unwrap(), "b".into());
        t.join().unwrap();
        assert_eq!(pull.try_recv().unwrap_err(), inproc::Error::WouldBlock);
    });
}
