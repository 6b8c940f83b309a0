//! One socket used from two threads at once (SPEC T-1): a thread blocked in `recv` on a
//! PAIR does not block another thread's `send` on the same PAIR, and the socket's state
//! is only touched inside its gate (its cell is a loom `UnsafeCell`, so an unordered
//! access would be reported).
#![cfg(loom)]

mod common;

use inproc::{Context, SocketType};
use loom::sync::Arc;

#[test]
fn blocked_recv_and_send_share_one_pair() {
    common::check(3, || {
        let ctx = Context::new();
        let x = Arc::new(ctx.socket(SocketType::Pair).unwrap());
        x.bind("inproc://x").unwrap();
        let y = ctx.socket(SocketType::Pair).unwrap();
        y.connect("inproc://x").unwrap();
        let x2 = x.clone();
        let t = loom::thread::spawn(move || {
            assert_eq!(x2.recv().unwrap(), "pong".into());
        });
        x.send("ping").unwrap();
        assert_eq!(y.recv().unwrap(), "ping".into());
        y.send("pong").unwrap();
        t.join().unwrap();
    });
}
