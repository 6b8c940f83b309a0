//! Close of the binder racing connect, then re-bind (SPEC, C-6, K-1). Either the
//! connect comes first (it reaches the old binder, whose close then cuts it: the message
//! is dropped with the closed socket, and the new binder gets no connection), or the close
//! comes first (the name is free at once, the connect is pending, and the new binder gets
//! the connection and the message). Never both, never a connection to a closed socket
//! that a later binder would miss, and the re-bind always succeeds.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn close_vs_connect_then_rebind() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let old = ctx.socket(SocketType::Pull).unwrap();
        old.bind("inproc://x").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        let t = loom::thread::spawn(move || {
            push.connect("inproc://x").unwrap();
            let sent = push.try_send("m");
            (push, sent)
        });
        old.close();
        let new = ctx.socket(SocketType::Pull).unwrap();
        new.bind("inproc://x")
            .expect("close frees the name at once");
        let (push, sent) = t.join().unwrap();
        let got = new.try_recv();
        if new.connection_count() == 1 {
            // Close came first: the connect went pending and reached the new binder.
            assert!(sent.is_ok(), "a pending connector can send at once");
            assert_eq!(got.unwrap(), "m".into());
        } else {
            // Connect came first: it reached the old binder, which is gone.
            assert_eq!(got.unwrap_err(), Error::WouldBlock);
            assert_eq!(
                push.try_send("again").unwrap_err().error(),
                &Error::WouldBlock
            );
        }
    });
}
