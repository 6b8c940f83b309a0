//! A refused PAIR connector blocked in `recv` is woken by the refusal and fails with
//! `HostUnreachable` (SPEC D-5): the close of the refused end must wake its peer.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn refused_connector_blocked_in_recv_is_woken() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let x = ctx.socket(SocketType::Pair).unwrap();
        x.bind("inproc://x").unwrap();
        let y = ctx.socket(SocketType::Pair).unwrap();
        y.connect("inproc://x").unwrap();
        let z = ctx.socket(SocketType::Pair).unwrap();
        z.connect("inproc://x").unwrap();
        let t = loom::thread::spawn(move || {
            assert_eq!(z.recv().unwrap_err(), Error::HostUnreachable);
        });
        // X's next call adopts Y's pipe, then refuses Z's.
        x.send("to y").unwrap();
        t.join().unwrap();
        assert_eq!(y.recv().unwrap(), "to y".into());
    });
}
