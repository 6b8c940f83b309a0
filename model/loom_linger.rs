//! A connector closing while its name is being bound (SPEC C-8, C-9): the close takes
//! back a connection still waiting (always when nothing was sent on it; with zero linger
//! also when something was), and the bind takes the waiting connections it finds. The
//! two must never both get one: a message is delivered exactly once (the bind took the
//! connection first) or not at all (the close withdrew it first), nothing is stuck, the
//! name ends bound, and nothing leaks (loom checks every `Arc` and tracked allocation
//! at the end of each execution).
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use std::time::Duration;

use inproc::{Context, Error, SocketType};

#[test]
fn zero_linger_close_races_bind() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(Duration::ZERO)).unwrap();
        push.connect("inproc://x").unwrap();
        push.send("m").unwrap();
        let t = loom::thread::spawn(move || push.close());
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://x").unwrap();
        t.join().unwrap();
        match pull.try_recv() {
            Ok(m) => {
                assert_eq!(m, "m".into());
                assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
            }
            Err(e) => assert_eq!(e, Error::WouldBlock),
        }
        assert_eq!(ctx.endpoint_count(), 1);
    });
}

#[test]
fn unsent_connector_close_races_bind() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect("inproc://x").unwrap();
        let t = loom::thread::spawn(move || push.close());
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://x").unwrap();
        t.join().unwrap();
        assert_eq!(pull.try_recv().unwrap_err(), Error::WouldBlock);
        // Whichever won, the binder holds no live connection afterwards.
        assert_eq!(pull.connection_count(), 0);
        assert_eq!(ctx.endpoint_count(), 1);
    });
}
